package diff_test

import (
	"slices"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The inputs a plan's verdicts rest on, besides its documents: the SCPs
// and RCPs of the accounts involved, and the key's grants naming the
// principal. Each change that can move a verdict changes a fingerprint;
// a grant to someone else does not.
func TestInputFingerprints(t *testing.T) {
	st := load(t, crossSnap)
	st.Org = testOrg(nil, nil)
	st.Keys[0].Grants = []state.Grant{{ID: "g-jane", GranteePrincipal: jane, Operations: []string{"Decrypt"}}}
	p := mustPlan(t, st, diff.Options{})
	want := []string{"kms-grants:" + crossKey, "rcp:" + bucketAccount, "scp:" + janeAccount}
	if got := diff.InputIDs(p); !slices.Equal(got, want) {
		t.Fatalf("input IDs %v, want %v", got, want)
	}
	same := func(edit func(st *state.State)) map[string]bool {
		c := clone(t, st)
		edit(c)
		now := diff.InputFingerprints(c, p.Subject)
		out := map[string]bool{}
		for _, id := range want {
			out[id] = now[id] == p.Fingerprints[id]
		}
		return out
	}
	if s := same(func(*state.State) {}); !s[want[0]] || !s[want[1]] || !s[want[2]] {
		t.Fatalf("nothing changed, yet %v", s)
	}
	s := same(func(c *state.State) {
		c.Keys[0].Grants = append(c.Keys[0].Grants, state.Grant{ID: "g-bob", GranteePrincipal: "arn:aws:iam::111122223333:user/Bob", Operations: []string{"Decrypt"}})
	})
	if !s[want[0]] {
		t.Error("a grant to someone else changed the fingerprint of the grants naming Jane")
	}
	if s := same(func(c *state.State) { c.Keys[0].Grants[0].Operations = []string{"Decrypt", "GenerateDataKey"} }); s[want[0]] {
		t.Error("Jane's grant changed, its fingerprint did not")
	}
	if s := same(func(c *state.State) {
		c.Org.Policies[0].Document = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	}); s[want[2]] {
		t.Error("the full-access SCP changed, the SCP fingerprint did not")
	}
	if s := same(func(c *state.State) { c.Org.Target(bucketAccount).RCPs = nil }); s[want[1]] || !s[want[2]] {
		t.Errorf("an RCP detached from the bucket's account: %v", s)
	}
	if s := same(func(c *state.State) { c.Org.Target(janeAccount).Parent = "r-ab12" }); s[want[2]] {
		t.Error("Jane's account moved out of its OU, the SCP fingerprint did not change")
	}
	// A plan with nothing to apply records none.
	again := mustPlan(t, applied(t, st, p, diff.Options{}), diff.Options{})
	if ids := diff.InputIDs(again); len(ids) != 0 {
		t.Errorf("a plan with no change records inputs %v", ids)
	}
}

// A grant whose encryption-context constraint names one object allows
// S3's KMS requests for that object only: the plan must not count it for
// the others (found by the generated plan suite, seed 2 scenario 31, where
// the constrained object was the very one the planner probed).
func TestGrantConstraintOnOneObject(t *testing.T) {
	st := load(t, crossSnap)
	st.Keys[0].Grants = []state.Grant{{ID: "g-x", GranteePrincipal: jane, Operations: []string{"Decrypt"},
		Constraints: &state.GrantConstraints{EncryptionContextSubset: map[string]string{"aws:s3:arn": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x"}}}}
	o := diff.Options{Access: []diff.Level{diff.Read}, Now: probeNow}
	p := mustPlan(t, st, o)
	r := kmsRequest(t, p, "kms:Decrypt")
	if r.Before == policy.Allowed {
		t.Fatalf("kms:Decrypt is allowed for every object by a grant for one: %s", r.Why)
	}
	if !slices.Contains(kinds(p), diff.DocKeyPolicy) {
		t.Errorf("the plan must grant kms:Decrypt in the key policy, writes %v", kinds(p))
	}
	applied(t, st, p, o)
}
