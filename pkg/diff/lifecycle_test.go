package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// withBeta adds a second bucket, beta, encrypted with the same key.
func withBeta(st *state.State) {
	b := st.Buckets[0]
	enc := *b.Encryption
	b.Name, b.Encryption, b.Policy = "beta", &enc, nil
	st.Buckets = append(st.Buckets, b)
}

// Every grant stands on its own statements: Jane's grant on beta, which
// shares alpha's key, holds its own KMS statements, so revoking (or
// rolling back) the grant on alpha leaves beta's access whole. Before,
// beta's plan found KMS "already allowed" by alpha's statement, wrote none
// of its own, and lost kms:Decrypt and kms:GenerateDataKey with the revoke.
func TestRevokeOneGrantKeepsAnotherOnTheSameKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap string
		opts diff.Options
	}{
		{"cross account (key policy and identity policy)", crossSnap, diff.Options{}},
		{"same account, key policy", sameSnap, diff.Options{KMSVia: diff.ViaKeyPolicy}},
		{"same account, identity policy", sameSnap, diff.Options{KMSVia: diff.ViaIdentity}},
		{"a prefix grant beside a whole-bucket grant", crossSnap, diff.Options{Prefix: "reports/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, tc.snap)
			withBeta(st)
			if tc.opts.KMSVia == diff.ViaIdentity {
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
			}
			alpha := tc.opts
			alpha.Prefix = ""
			st1 := applied(t, st, mustPlan(t, st, alpha), alpha)

			beta := tc.opts
			beta.Bucket = "beta"
			if tc.opts.Prefix != "" {
				beta.Bucket = bucket // the prefix grant on the same bucket
			}
			pb := mustPlan(t, st1, beta)
			kms := false
			for _, r := range pb.Requests {
				if r.Action == "kms:Decrypt" && r.Before != "Allowed" {
					kms = true
				}
			}
			if !kms {
				t.Fatalf("the second grant relies on the first grant's KMS statement: %+v", pb.Requests)
			}
			st2 := applied(t, st1, pb, beta)

			rv, err := diff.Revoke(st2, diff.Options{Principal: jane, Bucket: bucket})
			if err != nil || rv.Blocked() {
				t.Fatalf("revoke: %v %v", err, rv.Blockers)
			}
			st3 := clone(t, st2)
			if err := apply.ToState(st3, rv); err != nil {
				t.Fatal(err)
			}
			again := mustPlan(t, st3, beta)
			if !again.Empty() || again.Blocked() {
				t.Fatalf("revoking the first grant broke the second: %d changes, requests %+v", len(again.Changes), again.Requests)
			}
		})
	}
}

// withSecondKey adds a second key of the account, with the same policy as
// the first, and returns its ARN.
func withSecondKey(st *state.State) string {
	k := st.Keys[0]
	k.ARN = k.ARN[:strings.LastIndexByte(k.ARN, '/')+1] + "222bb3cc-444d-4e55-6666-b222cc3d44ee"
	k.Aliases = nil
	k.Policy = k.Policy.Clone()
	st.Keys = append(st.Keys, k)
	return k.ARN
}

// After the bucket's key changes, planning the grant again writes its KMS
// statement into the new key's policy and leaves the old key's (objects
// written before still need it). Revoking the grant must then remove both:
// revoke looked at the bucket's key only, so the old key kept granting
// kms:Decrypt and kms:GenerateDataKey to a revoked principal, and revoke
// and its verification said "removed" (found by the sequence test,
// internal/lifeseq).
func TestRevokeAfterRekeyRemovesTheOldKeysStatement(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap string
		opts diff.Options
	}{
		{"same account, key policy", sameSnap, diff.Options{KMSVia: diff.ViaKeyPolicy}},
		{"cross account", crossSnap, diff.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, tc.snap)
			old := st.Keys[0].ARN
			newKey := withSecondKey(st)
			st1 := applied(t, st, mustPlan(t, st, tc.opts), tc.opts)
			enc := *st1.Buckets[0].Encryption
			enc.KMSMasterKeyID = newKey
			st1.Buckets[0].Encryption = &enc
			st2 := applied(t, st1, mustPlan(t, st1, tc.opts), tc.opts)
			if !hasGrantStatement(st2.FindKey(old).Policy.String()) || !hasGrantStatement(st2.FindKey(newKey).Policy.String()) {
				t.Fatalf("want the grant's statement in both keys' policies before the revoke")
			}
			rv, err := diff.Revoke(st2, diff.Options{Principal: jane, Bucket: bucket})
			if err != nil || rv.Blocked() {
				t.Fatalf("revoke: %v %v", err, rv.Blockers)
			}
			st3 := clone(t, st2)
			if err := apply.ToState(st3, rv); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{old, newKey} {
				if hasGrantStatement(st3.FindKey(k).Policy.String()) {
					t.Errorf("after the revoke the policy of %s still holds the grant's statement:\n%s", k, st3.FindKey(k).Policy)
				}
			}
			again, err := diff.Revoke(st3, diff.Options{Principal: jane, Bucket: bucket})
			if err != nil || !again.Empty() {
				t.Fatalf("a second revoke is not empty: %v %+v", err, again.Changes)
			}
		})
	}
}

func hasGrantStatement(policyText string) bool {
	d, err := policy.Parse([]byte(policyText), policy.KindKeyPolicy)
	if err != nil {
		return false
	}
	for _, s := range d.Statements() {
		if strings.HasPrefix(s.Sid, diff.SidPrefix) {
			return true
		}
	}
	return false
}

// After re-keying, the plan keeps the old key granted and says so; with
// DropOldKeys it takes the old key out of the grant's identity statement
// and the grant's statement out of the old key's policy, and planning
// again with the flag is a no-op.
func TestDropOldKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap string
		opts diff.Options
	}{
		{"same account, key policy", sameSnap, diff.Options{KMSVia: diff.ViaKeyPolicy}},
		{"same account, identity policy", sameSnap, diff.Options{KMSVia: diff.ViaIdentity}},
		{"cross account", crossSnap, diff.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, tc.snap)
			if tc.opts.KMSVia == diff.ViaIdentity {
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
			}
			old := st.Keys[0].ARN
			newKey := withSecondKey(st)
			st1 := applied(t, st, mustPlan(t, st, tc.opts), tc.opts)
			enc := *st1.Buckets[0].Encryption
			enc.KMSMasterKeyID = newKey
			st1.Buckets[0].Encryption = &enc
			keep := mustPlan(t, st1, tc.opts)
			if !slices.Contains(warningKinds(keep), diff.WarnOldKey) {
				t.Errorf("the plan after re-keying does not say the old key stays granted: %v", keep.Warnings)
			}
			st2 := applied(t, st1, keep, tc.opts)
			if !grantsOldKey(t, st2, old) {
				t.Fatal("the plan after re-keying dropped the old key without --drop-old-keys")
			}
			drop := tc.opts
			drop.DropOldKeys = true
			p := mustPlan(t, st2, drop)
			if p.Blocked() || p.Empty() || !p.Grant.DropOldKeys {
				t.Fatalf("want changes that drop the old key: blockers %v, %d changes", p.Blockers, len(p.Changes))
			}
			if slices.Contains(warningKinds(p), diff.WarnOldKey) {
				t.Errorf("the plan that drops the old key still warns it stays: %v", p.Warnings)
			}
			st3 := applied(t, st2, p, drop)
			if grantsOldKey(t, st3, old) {
				t.Errorf("the old key is still granted after --drop-old-keys")
			}
			if again := mustPlan(t, st3, tc.opts); !again.Empty() || slices.Contains(warningKinds(again), diff.WarnOldKey) {
				t.Errorf("planning without the flag afterwards: %d changes, warnings %v", len(again.Changes), again.Warnings)
			}
		})
	}
}

// grantsOldKey reports whether one of bucketgrant's statements still names
// the old key: in its key policy, or in Jane's identity policies.
func grantsOldKey(t *testing.T, st *state.State, old string) bool {
	t.Helper()
	if hasGrantStatement(st.FindKey(old).Policy.String()) {
		return true
	}
	pr := st.FindPrincipal(jane)
	var docs []*state.Doc
	for _, in := range pr.InlinePolicies {
		docs = append(docs, in.Doc)
	}
	for _, m := range pr.AttachedPolicies {
		docs = append(docs, m.Document)
	}
	for _, d := range docs {
		doc, err := policy.Parse(d.Text, policy.KindIdentity)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statements() {
			if strings.HasPrefix(s.Sid, diff.SidPrefix) && s.Resource != nil && slices.Contains(s.Resource.Values, old) {
				return true
			}
		}
	}
	return false
}
