package grantsync

import (
	"context"
	"slices"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// overLimits is limits.Check for one grant's plan on the run's working
// state: a grant whose changes would pass a limit (the managed policy its
// fallback attaches being one too many, say) is blocked on its own, before
// its changes join the run's, instead of failing the whole run's write.
// The check sees only what the plan touches: a copy of the whole working
// state for every grant made a run quadratic in its size.
//
// The change is measured against AWS's default quotas first, and against
// the account's own (quotas, one iam:GetAccountSummary per account) only
// when it passes a default. An account's quotas can be raised, never set
// below the defaults, so a change within the defaults is within the
// account's own: most runs never need to ask.
func overLimits(work *state.State, p *diff.Plan, quotas func(string) limits.Quotas) ([]limits.Violation, error) {
	before, after := touchedOf(work, p), touchedOf(work, p)
	if err := apply.ToState(after, p); err != nil {
		return nil, err
	}
	var t limits.Touched
	for _, ch := range p.Changes {
		switch ch.Document.Kind {
		case diff.DocKeyPolicy:
			t.KeyPolicies = append(t.KeyPolicies, ch.Document.ARN)
		case diff.DocBucketPolicy:
			t.BucketPolicies = append(t.BucketPolicies, p.Grant.Bucket)
		case diff.DocManagedPolicy:
			t.Managed = append(t.Managed, ch.Document.ARN)
			t.Principals = append(t.Principals, p.Subject.PrincipalARN)
		case diff.DocInlinePolicy:
			t.Principals = append(t.Principals, p.Subject.PrincipalARN)
		}
	}
	if v := limits.Check(before, after, t, nil); len(v) == 0 || quotas == nil {
		return v, nil
	}
	return limits.Check(before, after, t, quotas), nil
}

// touchedOf is a state holding copies of the keys, buckets and principals
// a plan's changes belong to, as st holds them: all that ToState needs to
// write the plan and limits.Check to measure it.
func touchedOf(st *state.State, p *diff.Plan) *state.State {
	out := &state.State{Source: st.Source}
	addPrincipal := func(arn string) {
		if pr := st.FindPrincipal(arn); pr != nil && out.FindPrincipal(pr.ARN) == nil {
			c := *pr
			c.InlinePolicies = slices.Clone(pr.InlinePolicies)
			c.AttachedPolicies = slices.Clone(pr.AttachedPolicies)
			out.Principals = append(out.Principals, c)
		}
	}
	for _, ch := range p.Changes {
		switch ch.Document.Kind {
		case diff.DocKeyPolicy:
			if k := st.FindKey(ch.Document.ARN); k != nil && out.FindKey(k.ARN) == nil {
				out.Keys = append(out.Keys, *k)
			}
		case diff.DocBucketPolicy:
			if b := st.FindBucket(p.Grant.Bucket); b != nil && out.FindBucket(b.Name) == nil {
				out.Buckets = append(out.Buckets, *b)
			}
		case diff.DocInlinePolicy:
			addPrincipal(ch.Document.ARN)
		case diff.DocManagedPolicy:
			addPrincipal(p.Subject.PrincipalARN)
		}
	}
	return out
}

// quotasOf reads each principal account's IAM quotas once (AWS's defaults
// on a snapshot file, or where IAM does not tell them).
func (c *Config) quotasOf(ctx context.Context) func(string) limits.Quotas {
	if c.Accounts == nil {
		return func(string) limits.Quotas { return limits.Defaults("a snapshot file holds no account's own quotas") }
	}
	var mu sync.Mutex
	cache := map[string]limits.Quotas{}
	return func(account string) limits.Quotas {
		mu.Lock()
		defer mu.Unlock()
		if q, ok := cache[account]; ok {
			return q
		}
		q := limits.Defaults("the account's own could not be read")
		if cn, err := c.Accounts.conn(ctx, account); err == nil {
			// Only an interrupt fails ReadQuotas, and then the run stops
			// at its next call anyway.
			q, _ = awsstate.ReadQuotas(ctx, cn.iam, account, cn.label)
		}
		cache[account] = q
		return q
	}
}
