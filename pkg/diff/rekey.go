package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// After a bucket's default key changes, planning the grant again writes
// its KMS statements for the new key and keeps the old key granted:
// objects written before the change are still encrypted under it. The old
// key stays in two places: the Resource of the grant's KMS statement in its
// identity policy (which lists every key it was planned for), and the
// grant's KMS statement in the old key's own key policy. Options.DropOldKeys
// takes both away, once the operator knows no object needs the old key;
// without it the plan warns (WarnOldKey).

// OldKeys returns the keys other than the one the bucket is encrypted with
// now whose policies hold bucketgrant's KMS statement for the grant opts
// describes: the documents a plan with DropOldKeys may write besides the
// grant's own (sync's sharding keeps them in the grant's shard). The error
// is Make's for such options (an unknown bucket, say); none when the bucket
// has no key of its own.
func OldKeys(st *state.State, opts Options) ([]string, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p := &planner{st: st, opts: opts, plan: &Plan{Fingerprints: map[string]string{}}}
	if err := p.locate(); err != nil {
		return nil, err
	}
	if p.key == nil {
		return nil, nil
	}
	return p.oldKeyARNs([]GrantID{p.grantID()}), nil
}

// oldKeys handles the grant's statements about keys other than the
// bucket's key now: with DropOldKeys it adds the changes that drop them,
// else it warns about the key policies that still grant them. The
// identity statement's old keys are warned about where the statement is
// rewritten (merge.rewrite).
func (p *planner) oldKeys() error {
	if p.key == nil || p.plan.Blocked() {
		return nil
	}
	id := p.grantID()
	ids := []GrantID{id}
	if !p.opts.DropOldKeys {
		for _, arn := range p.oldKeyARNs(ids) {
			ref := DocRef{Kind: DocKeyPolicy, ARN: arn, Account: accountOf(arn)}
			p.warn(Warning{Kind: WarnOldKey, Document: &ref,
				Message: fmt.Sprintf("the key policy of %s still grants %s (bucketgrant's KMS statement for this grant), though %s is now encrypted with %s: objects written under the old key still need it, so it stays; plan with --drop-old-keys to remove it once no object uses it", arn, p.principalARN, p.bucket.Name, p.key.ARN)})
		}
		return nil
	}
	olds, err := p.oldKeyTargets(ids)
	if err != nil {
		return err
	}
	// The grant's statements in the old keys' policies go.
	for _, t := range olds {
		t.after = t.before.Clone()
		for i := len(t.after.Statements()) - 1; i >= 0; i-- {
			s := t.after.Statements()[i]
			if !Owned(s, t.kind, id, purposeKMS) {
				continue
			}
			if err := t.after.RemoveStatement(i); err != nil {
				return fmt.Errorf("removing statement %s from %s: %w", s.Sid, t.ref.ID(), err)
			}
			t.stmts = append(t.stmts, StatementChange{Op: OpRemove, Sid: s.Sid, Index: i, Actions: actionsOf(s),
				Reason: fmt.Sprintf("--drop-old-keys: %s no longer encrypts %s (its key is %s)", t.ref.ARN, p.bucket.Name, p.key.ARN)})
		}
		if len(t.stmts) == 0 {
			continue
		}
		if len(t.after.Statements()) == 0 {
			ref := t.ref
			p.block(Blocker{Kind: BlockKeyLockout, Document: &ref,
				Message: "removing bucketgrant's statement would leave the key policy of the old key empty, locking everyone out of it",
				Hint:    "add a statement for the key's administrators first"})
			return nil
		}
		p.plan.Changes = append(p.plan.Changes, Change{Document: t.ref, Action: ActionUpdate, Before: t.before.String(), After: t.after.String(), Statements: t.stmts})
	}
	// The old keys leave the Resource of the grant's KMS statement in its
	// identity policies, as the plan leaves them (a change the plan
	// already makes to the document is built on).
	for _, t := range p.identityTargets() {
		if err := p.dropFromIdentity(t, id); err != nil {
			return err
		}
	}
	p.plan.Warnings = slices.DeleteFunc(p.plan.Warnings, func(w Warning) bool { return w.Kind == WarnOldKey })
	return nil
}

// dropFromIdentity takes the old keys out of the grant's KMS statement in
// one of the principal's identity documents; a statement that names old
// keys only goes.
func (p *planner) dropFromIdentity(t *target, id GrantID) error {
	ci := slices.IndexFunc(p.plan.Changes, func(c Change) bool { return c.Document.ID() == t.ref.ID() })
	doc := t.before
	if ci >= 0 {
		d, err := policy.Parse([]byte(p.plan.Changes[ci].After), policy.KindIdentity)
		if err != nil {
			return fmt.Errorf("%s: %w", t.ref.ID(), err)
		}
		doc = d
	}
	after := doc.Clone()
	var stmts []StatementChange
	for i := len(after.Statements()) - 1; i >= 0; i-- {
		s := after.Statements()[i]
		if !Owned(s, policy.KindIdentity, id, purposeKMS) {
			continue
		}
		keys := valuesOf(s.Resource)
		old := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == p.key.ARN })
		if len(old) == 0 {
			continue
		}
		reason := fmt.Sprintf("--drop-old-keys: %s no longer encrypts %s (its key is %s)", strings.Join(old, ", "), p.bucket.Name, p.key.ARN)
		if len(old) == len(keys) {
			if err := after.RemoveStatement(i); err != nil {
				return fmt.Errorf("removing statement %s from %s: %w", s.Sid, t.ref.ID(), err)
			}
			stmts = append(stmts, StatementChange{Op: OpRemove, Sid: s.Sid, Index: i, Actions: actionsOf(s), Reason: reason})
			continue
		}
		raw, _ := json.Marshal(p.key.ARN) // a string
		if err := after.SetStatementMember(i, "Resource", raw); err != nil {
			return err
		}
		stmts = append(stmts, StatementChange{Op: OpNarrow, Sid: s.Sid, Index: i, Reason: reason})
	}
	if len(stmts) == 0 {
		return nil
	}
	if ci >= 0 {
		c := &p.plan.Changes[ci]
		c.After, c.Statements = after.String(), append(c.Statements, stmts...)
		if len(after.Statements()) == 0 {
			c.Action, c.After = ActionDelete, ""
		}
		return nil
	}
	c := Change{Document: t.ref, Action: ActionUpdate, Before: t.before.String(), After: after.String(), Statements: stmts}
	if len(after.Statements()) == 0 {
		// bucketgrant's own policy, emptied: AWS refuses a policy without
		// statements.
		c.Action, c.After = ActionDelete, ""
	}
	// Identity documents are written first (apply.Order sorts them).
	p.plan.Changes = append(p.plan.Changes, c)
	return nil
}
