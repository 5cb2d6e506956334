package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// docEqual compares two documents by meaning (policy.Equal): AWS re-lays
// out what it stores, and a snapshot holds AWS's text.
func docEqual(t *testing.T, a, b *state.Doc) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	da, err := policy.Parse(a.Text, policy.KindAny)
	if err != nil {
		t.Fatalf("%v: %s", err, a.Text)
	}
	db, err := policy.Parse(b.Text, policy.KindAny)
	if err != nil {
		t.Fatalf("%v: %s", err, b.Text)
	}
	return policy.Equal(da, db)
}

// stateOptions compare states by meaning: documents with policy.Equal, the
// raw snapshot bytes (Source) and forms not at all.
func stateOptions(t *testing.T) []cmp.Option {
	return []cmp.Option{
		cmp.Comparer(func(a, b *state.Doc) bool { return docEqual(t, a, b) }),
		cmp.Comparer(func(a, b state.Source) bool { return true }),
	}
}

// Issue 3: `bucketgrant snapshot` against live AWS (the test server) writes
// exactly the example it was loaded from, reading each document once.
func TestSnapshotOfExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		example string
	}{
		{"same account", sameAccount},
		{"cross account", crossAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := exampleState(t, tc.example, nil)
			w := newWorld(t, exampleState(t, tc.example, nil))
			path := filepath.Join(w.dir, "snapshot.json")
			w.srv.ResetCalls()
			_, errOut := w.mustRun(0, append([]string{"snapshot", "-o", path}, grantArgs()...)...)
			counts := w.srv.CallCounts()

			t.Run("every document equals the example's", func(t *testing.T) {
				got, err := snapshot.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				wb, gb := want.Buckets[0], got.Buckets[0]
				if !docEqual(t, wb.Policy, gb.Policy) {
					t.Errorf("bucket policy:\n got %s\nwant %s", gb.Policy, wb.Policy)
				}
				if len(got.Keys) != 1 || !docEqual(t, want.Keys[0].Policy, got.Keys[0].Policy) {
					t.Errorf("key policy:\n got %+v\nwant %s", got.Keys, want.Keys[0].Policy)
				}
				wp, gp := want.Principals[0], got.Principals[0]
				if len(gp.InlinePolicies) != len(wp.InlinePolicies) {
					t.Fatalf("inline policies: got %d, want %d", len(gp.InlinePolicies), len(wp.InlinePolicies))
				}
				for i, nd := range wp.InlinePolicies {
					if gp.InlinePolicies[i].Name != nd.Name || !docEqual(t, nd.Doc, gp.InlinePolicies[i].Doc) {
						t.Errorf("inline policy %d: got %s %s, want %s %s", i, gp.InlinePolicies[i].Name, gp.InlinePolicies[i].Doc, nd.Name, nd.Doc)
					}
				}
				// And everything else: the fixture kept the example's key ID
				// and Jane's unique ID, so the whole state compares. The
				// example's keys carry no region; a live read knows it.
				for i := range want.Keys {
					if want.Keys[i].Region == "" {
						want.Keys[i].Region = state.RegionOf(want.Keys[i].ARN)
					}
				}
				// The examples record no tags (not read); a live read
				// reads that Jane has none.
				for i := range want.Principals {
					if want.Principals[i].Tags == nil {
						want.Principals[i].Tags = []state.Tag{}
					}
				}
				if d := cmp.Diff(want, got, stateOptions(t)...); d != "" {
					t.Errorf("snapshot (-example +snapshot):\n%s", d)
				}
			})

			t.Run("the file is private", func(t *testing.T) {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want 0600", fi.Mode().Perm())
				}
				if !strings.Contains(errOut, "Wrote the snapshot to "+path) {
					t.Errorf("stderr does not say where the snapshot went:\n%s", errOut)
				}
			})

			t.Run("each document is read once", func(t *testing.T) {
				p := want.Principals[0]
				perDocument := map[string]int{
					"kms:GetKeyPolicy":       len(want.Keys),
					"s3:GetBucketPolicy":     1,
					"iam:GetUserPolicy":      len(p.InlinePolicies),
					"iam:GetPolicyVersion":   len(p.AttachedPolicies),
					"iam:GetGroupPolicy":     0,
					"iam:GetRolePolicy":      0,
					"s3:GetBucketEncryption": 1,
				}
				for op, n := range perDocument {
					if counts[op] != n {
						t.Errorf("%s: %d calls, want %d", op, counts[op], n)
					}
				}
				// Nothing else is called more than once, except who-am-I
				// once per identity.
				identities := 1
				if w.principal != w.resource {
					identities = 2
				}
				for op, n := range counts {
					limit := 1
					switch {
					case op == "sts:GetCallerIdentity":
						limit = identities
					case perDocument[op] > 1:
						limit = perDocument[op]
					}
					if n > limit {
						t.Errorf("%s called %d times", op, n)
					}
				}
				if w := writes(counts); len(w) > 0 {
					t.Errorf("snapshot wrote: %v", w)
				}
			})
			ops := make([]string, 0, len(counts))
			for op, n := range counts {
				ops = append(ops, op+"="+itoa(n))
			}
			slices.Sort(ops)
			t.Logf("API calls per snapshot, %s: %d (%s)", tc.name, total(counts), strings.Join(ops, " "))
		})
	}
}
