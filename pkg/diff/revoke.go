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
	return p.done(p.revoke())
}

func (p *planner) revoke() (*Plan, error) {
	opts := p.opts
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
	ids := p.revokeCandidates()
	m := newMerge(p)
	targets := []*target{m.key, m.bucket}
	targets = append(targets, p.identityTargets()...)
	olds, err := p.oldKeyTargets(ids)
	if err != nil {
		return nil, err
	}
	targets = append(targets, olds...)
	for _, t := range targets {
		if t == nil || t.before == nil {
			continue
		}
		if err := p.revokeFrom(t, ids); err != nil {
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

// revokeCandidates lists the grants whose statements revoke removes: the
// grant as named, and, when the principal is not in the state (deleted), the
// same principal under every path the documents name for it. IAM names are
// unique in an account and the path is not part of a principal's identity,
// so a deleted principal named without its path is still found.
func (p *planner) revokeCandidates() []GrantID {
	ids := []GrantID{p.grantID()}
	if p.st.FindPrincipal(p.opts.Principal) != nil {
		return ids
	}
	seen := map[string]bool{p.principalARN: true}
	for _, named := range []*policy.Named{p.now.key, p.now.bucket} {
		if named == nil {
			continue
		}
		for _, s := range named.Doc.Statements() {
			if s.Principal == nil {
				continue
			}
			for _, a := range s.Principal.AWS {
				if !seen[a] && samePrincipal(a, p.principalARN) {
					seen[a] = true
					ids = append(ids, GrantID{Principal: a, Bucket: p.bucket.Name, Prefix: p.opts.Prefix})
				}
			}
		}
	}
	return ids
}

// samePrincipal compares two user or role ARNs by partition, account, type
// and name, ignoring the path.
func samePrincipal(a, b string) bool {
	ka, kb := state.KindOf(a), state.KindOf(b)
	return ka != "" && ka == kb && partitionOf(a) == partitionOf(b) && accountOf(a) == accountOf(b) &&
		lastSegment(a) == lastSegment(b)
}

// identityTargets are the principal's documents that may hold the grant's
// identity-side statements: the inline policy bucketgrant-<bucket> and
// bucketgrant's managed policy for the principal and bucket (a grant that
// fell back to the managed policy may still have statements inline).
func (p *planner) identityTargets() []*target {
	var out []*target
	managed := ManagedPolicyARN(p.principalARN, p.bucket.Name)
	inline := InlinePolicyName(p.bucket.Name)
	for _, d := range p.now.identity {
		if !d.own {
			continue
		}
		if (d.ref.Kind == DocInlinePolicy && d.ref.Name == inline) || (d.ref.Kind == DocManagedPolicy && d.ref.ARN == managed) {
			out = append(out, &target{ref: d.ref, kind: policy.KindIdentity, before: d.named.Doc})
		}
	}
	return out
}

// oldKeyTargets are the policies of the state's other keys that hold a
// KMS statement of one of the grants: the bucket's earlier keys, whose
// statements stay after a re-keying (objects written under them still need
// them) until the grant is revoked or the old keys are dropped. A snapshot
// holds every key; read from AWS, the state holds the bucket's key only.
func (p *planner) oldKeyTargets(ids []GrantID) ([]*target, error) {
	var out []*target
	for _, arn := range p.oldKeyARNs(ids) {
		k := p.st.FindKey(arn)
		ref := DocRef{Kind: DocKeyPolicy, ARN: k.ARN, Account: accountOf(k.ARN)}
		d, err := p.parse(k.Policy, policy.KindKeyPolicy, ref, keyPolicyName(k.ARN))
		if err != nil {
			return nil, err
		}
		out = append(out, &target{ref: ref, kind: policy.KindKeyPolicy, before: d})
	}
	return out, nil
}

// oldKeyARNs lists the state's keys, other than the bucket's, whose
// policy holds a KMS statement of one of the grants.
func (p *planner) oldKeyARNs(ids []GrantID) []string {
	var out []string
	var idx []int
	if bases := kmsBases(ids); bases != nil {
		idx = keysHolding(p.st, bases) // doccache.go
	} else {
		for i := range p.st.Keys {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		k := &p.st.Keys[i]
		if (p.key != nil && k.ARN == p.key.ARN) || k.Policy == nil {
			continue
		}
		if holdsOwned(k.Policy, policy.KindKeyPolicy, ids) {
			out = append(out, k.ARN)
		}
	}
	return out
}

// kmsBases are the base Sids of the grants' KMS statements (as sidHash
// values), for holdsOwned; nil when a grant's bucket is unknown
// (anyBucket), whose statements are known by their content, not a Sid.
func kmsBases(ids []GrantID) []uint64 {
	out := make([]uint64, 0, len(ids))
	for _, id := range ids {
		if id.Bucket == anyBucket {
			return nil
		}
		out = append(out, sidHash(baseSid(id, purposeKMS)))
	}
	return out
}

// holdsOwned reports whether a document holds a KMS statement bucketgrant
// owns for one of the grants. A document that does not parse holds none.
func holdsOwned(doc *state.Doc, kind policy.Kind, ids []GrantID) bool {
	c := parseCached(doc.Text, kind)
	if c.err != nil {
		return false
	}
	for _, s := range c.doc.Statements() {
		for _, id := range ids {
			if Owned(s, kind, id, purposeKMS) {
				return true
			}
		}
	}
	return false
}

// revokeFrom removes, from a copy of the target's document, the statements
// bucketgrant owns for any of the grants. A statement that carries one of
// their Sids but allows more belongs to someone else: it stays, and the
// plan says so.
func (p *planner) revokeFrom(t *target, ids []GrantID) error {
	t.after = t.before.Clone()
	for i := len(t.after.Statements()) - 1; i >= 0; i-- {
		s := t.after.Statements()[i]
		owned, claimed := false, false
		for _, id := range ids {
			if _, ok := OwnedPurpose(s, t.kind, id); ok {
				owned = true
				break
			}
			claimed = claimed || ClaimsGrant(s, id)
		}
		if !owned {
			if claimed {
				ref := t.ref
				st := policy.Ref{Document: t.ref.ID(), Index: s.Index, Sid: s.Sid}
				p.warn(Warning{Kind: WarnForeignSid, Document: &ref, Statement: &st,
					Message: fmt.Sprintf("statement %d of %s carries bucketgrant's Sid %s but allows more than the grant: it is not bucketgrant's, so revoke leaves it", s.Index, t.ref.ID(), s.Sid)})
			}
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
