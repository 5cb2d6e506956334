package diff_test

import (
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
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
