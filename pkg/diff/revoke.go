package diff

import (
	"fmt"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Revoke plans the removal of exactly bucketgrant's own statements for a
// principal and bucket (recognised by their Sids, which are derived from
// principal, bucket and prefix), and of bucketgrant's own inline or managed
// policy when nothing else is left in it. Nothing else in any document
// changes. It works for a principal that no longer exists too: its
// statements in the key and bucket policy still carry their Sids.
func Revoke(st *state.State, opts Options) (*Plan, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p := &planner{st: st, opts: opts}
	p.plan = &Plan{
		Format: PlanFormat, ToolVersion: opts.ToolVersion, Operation: PlanRevoke,
		Grant:    Grant{Principal: opts.Principal, Bucket: opts.Bucket, Prefix: opts.Prefix, KMSVia: opts.KMSVia},
		Requests: []Request{}, Changes: []Change{}, Blockers: []Blocker{}, Warnings: []Warning{},
		Fingerprints: map[string]string{},
	}
	if err := p.locate(); err != nil {
		return nil, err
	}
	// Revoking needs neither the principal nor the key to be usable.
	p.plan.Blockers = slices.DeleteFunc(p.plan.Blockers, func(b Blocker) bool {
		return b.Kind == BlockMissingPrincipal || b.Kind == BlockMissingKey
	})
	p.plan.Warnings = []Warning{}
	if p.principal == nil {
		// Only the resource side can hold statements for it now.
		p.principal = &state.Principal{ARN: p.principalARN}
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	sids := map[string]bool{}
	for _, purpose := range []string{purposeObjects, purposeList, purposeKMS} {
		sids[SidFor(p.principalARN, p.bucket.Name, p.opts.Prefix, purpose)] = true
	}
	m := newMerge(p)
	targets := []*target{m.identity, m.key, m.bucket}
	for _, t := range targets {
		if t == nil || t.before == nil {
			continue
		}
		if err := revokeFrom(t, sids); err != nil {
			return nil, err
		}
	}
	for _, t := range targets {
		if t == nil || len(t.stmts) == 0 {
			continue
		}
		c := Change{Document: t.ref, Action: ActionUpdate, Before: t.before.String(), After: t.after.String(), Statements: t.stmts}
		if len(t.after.Statements()) == 0 {
			switch t.ref.Kind {
			case DocKeyPolicy:
				ref := t.ref
				p.block(Blocker{Kind: BlockKeyLockout, Document: &ref,
					Message: "removing bucketgrant's statements would leave the key policy empty, locking everyone out of the key",
					Hint:    "add a statement for the key's administrators first"})
				continue
			default:
				// The tool's own policy, or a bucket policy holding only
				// the tool's statements, goes away entirely: AWS refuses a
				// policy without statements.
				c.Action, c.After = ActionDelete, ""
			}
		}
		p.plan.Changes = append(p.plan.Changes, c)
	}
	if p.plan.Blocked() {
		p.plan.Changes = []Change{}
	}
	return p.plan, nil
}

// revokeFrom removes the statements with the given Sids from a copy of the
// target's document.
func revokeFrom(t *target, sids map[string]bool) error {
	t.after = t.before.Clone()
	for i := len(t.after.Statements()) - 1; i >= 0; i-- {
		s := t.after.Statements()[i]
		if !sids[s.Sid] {
			continue
		}
		if err := t.after.RemoveStatement(i); err != nil {
			return fmt.Errorf("removing statement %s from %s: %w", s.Sid, t.ref.ID(), err)
		}
		t.stmts = append(t.stmts, StatementChange{Op: OpRemove, Sid: s.Sid, Index: i, Actions: actionsOf(s),
			Reason: "bucketgrant's own statement for " + t.ref.ID() + "; revoke removes it"})
	}
	return nil
}

func actionsOf(s policy.Statement) []string {
	if s.Action == nil {
		return nil
	}
	return s.Action.Values
}
