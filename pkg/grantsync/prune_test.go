package grantsync

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The buckets of issue 13's prune report: X holds a grant made earlier by
// `bucketgrant apply`; the grants file names only Y. Both are encrypted
// with the same key.
const (
	bucketX = "DOC-EXAMPLE-BUCKET"
	bucketY = "second-bucket"
)

// withBucketY adds bucket Y, a copy of X's settings without a policy (same
// account, same key).
func withBucketY(st *state.State) *state.State {
	y := st.Buckets[0]
	y.Name, y.Policy = bucketY, nil
	st.Buckets = append(st.Buckets, y)
	return st
}

// sameAccountDelegating is the same-account seed whose key policy also
// delegates to the account, so a grant's KMS statement goes into the
// principal's inline policy (kms_via auto), with bucket Y and Bob.
func sameAccountDelegating(t *testing.T) *state.State {
	t.Helper()
	st, err := snapshot.Load("../../examples/seed-same-account.json")
	if err != nil {
		t.Fatal(err)
	}
	k := policy.MustParse(st.Keys[0].Policy.String(), policy.KindKeyPolicy)
	if err := k.AppendStatement([]byte(`{"Sid":"EnableIAMUserPermissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`)); err != nil {
		t.Fatal(err)
	}
	st.Keys[0].Policy = state.NewDoc(k.String())
	st.Principals = append(st.Principals, state.Principal{ARN: bob, ID: "AIDAEXAMPLEBOB0000001", Kind: state.KindUser})
	return withBucketY(st)
}

// applied is st after `bucketgrant apply` of one grant.
func applied(t *testing.T, st *state.State, o diff.Options) *state.State {
	t.Helper()
	p, err := diff.Make(st, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Blocked() || p.Empty() {
		t.Fatalf("apply %s on %s: blocked %v, %d changes", o.Principal, o.Bucket, p.Blockers, len(p.Changes))
	}
	out := CloneState(st)
	if err := apply.ToState(out, p); err != nil {
		t.Fatal(err)
	}
	return out
}

// granted reports whether a grant's access is complete in st: planning it
// finds nothing to add and nothing blocks it.
func granted(t *testing.T, st *state.State, o diff.Options) bool {
	t.Helper()
	p, err := diff.Make(st, o)
	if err != nil {
		t.Fatal(err)
	}
	return p.Empty() && !p.Blocked()
}

// syncFile runs sync on a copy of st saved to a state file and returns the
// report and the file's state afterwards.
func syncFile(t *testing.T, st *state.State, f *File, prune, dry bool) (*Report, *state.State) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(context.Background(), Config{File: f, StatePath: path, Prune: prune, DryRun: dry, BackupDir: t.TempDir(), Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	after, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return rep, after
}

func inline(st *state.State, principal, name string) *state.Doc {
	if p := st.FindPrincipal(principal); p != nil {
		for _, in := range p.InlinePolicies {
			if in.Name == name {
				return in.Doc
			}
		}
	}
	return nil
}

// TestPruneLeavesBucketsTheFileDoesNotName is issue 13's first case across
// accounts: Jane's grant on X, made by apply, is in X's bucket policy, the
// key policy and her inline policy bucketgrant-X. A grants file that names
// only Y, synced with --prune, used to delete her inline policy and leave
// the bucket and key policies naming her: a half-revoked grant. The file
// is the truth for Y only; nothing of X may change.
func TestPruneLeavesBucketsTheFileDoesNotName(t *testing.T) {
	janeX := diff.Options{Principal: jane, Bucket: bucketX}
	st := applied(t, withBucketY(crossAccount(t)), janeX)
	f := &File{Name: "y.yaml", Grants: []Grant{{Principal: bob, Bucket: bucketY, Line: 1}},
		Buckets: map[string]BucketInfo{bucketY: {Account: "123456789098"}}}
	rep, after := syncFile(t, st, f, true, false)
	if rep.Summary.Errors != 0 || rep.Summary.Fixed != 1 {
		t.Fatalf("sync: %+v %+v", rep.Summary, rep.Grants)
	}
	name := diff.InlinePolicyName(bucketX)
	if !inline(after, jane, name).Equal(inline(st, jane, name)) {
		t.Errorf("prune changed Jane's %s, a policy for a bucket the file does not name:\nbefore %s\nafter  %s", name, inline(st, jane, name), inline(after, jane, name))
	}
	if !after.FindBucket(bucketX).Policy.Equal(st.FindBucket(bucketX).Policy) {
		t.Error("prune changed the bucket policy of X, which the file does not name")
	}
	if !granted(t, after, janeX) {
		t.Error("Jane's grant on X, which the file does not name, no longer stands")
	}
	for _, ch := range rep.Pruned {
		t.Errorf("pruned %s %v; nothing on X is the file's to prune", ch.Document, ch.Statements)
	}
	if !granted(t, after, diff.Options{Principal: bob, Bucket: bucketY}) {
		t.Error("the file's own grant is not in place")
	}
}

// TestPruneLeavesBucketsTheFileDoesNotNameOneAccount is issue 13's first
// case in one account: the grant for Y relied on the KMS statement in
// Jane's bucketgrant-X (same key); prune removed it in the same run and
// verification reported an error.
func TestPruneLeavesBucketsTheFileDoesNotNameOneAccount(t *testing.T) {
	janeX := diff.Options{Principal: jane, Bucket: bucketX}
	st := applied(t, sameAccountDelegating(t), janeX)
	name := diff.InlinePolicyName(bucketX)
	if d := inline(st, jane, name); d == nil || !containsSid(t, d, diff.SidFor(jane, bucketX, "", diff.PurposeKMS)) {
		t.Fatalf("the setup needs Jane's KMS statement in %s: %s", name, d)
	}
	f := &File{Name: "y.yaml", Grants: []Grant{{Principal: jane, Bucket: bucketY, Line: 1}}, Buckets: map[string]BucketInfo{}}
	rep, after := syncFile(t, st, f, true, false)
	if rep.Summary.Errors != 0 || rep.Summary.Fixed != 1 {
		t.Fatalf("sync: %+v %+v", rep.Summary, rep.Grants)
	}
	if !inline(after, jane, name).Equal(inline(st, jane, name)) {
		t.Errorf("prune changed Jane's %s, a policy for a bucket the file does not name", name)
	}
	for _, o := range []diff.Options{janeX, {Principal: jane, Bucket: bucketY}} {
		if !granted(t, after, o) {
			t.Errorf("Jane on %s: the grant no longer stands after the sync", o.Bucket)
		}
	}
}

// TestPlannedAfterPruning is issue 13's second case with X named by the
// file (Bob keeps a grant there) while Jane's grant on X left it: prune
// removes Jane's statements on X, including the KMS statement her grant on
// Y could have relied on. Planned on the state after pruning, Y gets its
// own.
func TestPlannedAfterPruning(t *testing.T) {
	janeX, janeY := diff.Options{Principal: jane, Bucket: bucketX}, diff.Options{Principal: jane, Bucket: bucketY}
	st := applied(t, sameAccountDelegating(t), janeX)
	f := &File{Name: "xy.yaml", Grants: []Grant{{Principal: bob, Bucket: bucketX, Line: 1}, {Principal: jane, Bucket: bucketY, Line: 2}}, Buckets: map[string]BucketInfo{}}
	rep, after := syncFile(t, st, f, true, false)
	if rep.Summary.Errors != 0 || rep.Summary.Fixed != 2 {
		t.Fatalf("sync: %+v %+v", rep.Summary, rep.Grants)
	}
	if d := inline(after, jane, diff.InlinePolicyName(bucketX)); d != nil {
		t.Errorf("Jane's grant on X left the file, but her bucketgrant policy for X stays: %s", d)
	}
	if granted(t, after, janeX) {
		t.Error("Jane still has her grant on X, which left the file")
	}
	for _, o := range []diff.Options{janeY, {Principal: bob, Bucket: bucketX}} {
		if !granted(t, after, o) {
			t.Errorf("%s on %s: the file's grant does not stand after the sync", o.Principal, o.Bucket)
		}
	}
}

func containsSid(t *testing.T, d *state.Doc, sid string) bool {
	t.Helper()
	for _, s := range sids(t, d.String(), policy.KindIdentity) {
		if s == sid {
			return true
		}
	}
	return false
}

// TestPruneBucketListedWithoutGrants: a bucket the file lists under
// buckets: but grants nothing on is named: prune removes what is left of
// bucketgrant's grants there (the way to say "no grants on X any more").
func TestPruneBucketListedWithoutGrants(t *testing.T) {
	janeX := diff.Options{Principal: jane, Bucket: bucketX}
	st := applied(t, withBucketY(crossAccount(t)), janeX)
	f := &File{Name: "y.yaml", Grants: []Grant{{Principal: bob, Bucket: bucketY, Line: 1}},
		Buckets: map[string]BucketInfo{bucketX: {Account: "123456789098"}, bucketY: {Account: "123456789098"}}}
	rep, after := syncFile(t, st, f, true, false)
	if rep.Summary.Errors != 0 || len(rep.Pruned) == 0 {
		t.Fatalf("sync: %+v, pruned %v", rep.Summary, rep.Pruned)
	}
	if d := inline(after, jane, diff.InlinePolicyName(bucketX)); d != nil {
		t.Errorf("Jane's policy for the listed bucket stays: %s", d)
	}
	if granted(t, after, janeX) {
		t.Error("Jane's grant on the listed bucket stands")
	}
}
