package integration

import (
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// TestSyncPruneLeavesBucketsTheFileDoesNotName is issue 13's report
// through the built binary and the local AWS server: Jane's grant on the
// bucket was made by `bucketgrant apply`; a grants file that names only the
// second bucket (on the same key) is synced with --prune. Nothing of Jane's
// grant may change: not her inline policy, not the bucket policy, not her
// statements in the shared key policy; her access stays complete.
func TestSyncPruneLeavesBucketsTheFileDoesNotName(t *testing.T) {
	w := newSyncWorld(t)
	w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	before := w.readAll([]grantLine{{principal: jane, bucket: bucket}, {principal: bob, bucket: secondBucket}})
	name := diff.InlinePolicyName(bucket)
	if inlineDoc(before, jane, name) == nil {
		t.Fatalf("apply wrote no %s", name)
	}

	file := w.grantsFileListing([]string{secondBucket}, grantLine{principal: bob, bucket: secondBucket, access: "[read]"})
	rep := w.syncJSON(0, "-f", file, "--yes", "--prune")
	if rep.Summary.Fixed != 1 || len(rep.Pruned) != 0 {
		t.Fatalf("sync: %+v, pruned %v", rep.Summary, rep.Pruned)
	}
	after := w.readAll([]grantLine{{principal: jane, bucket: bucket}, {principal: bob, bucket: secondBucket}})
	if !inlineDoc(after, jane, name).Equal(inlineDoc(before, jane, name)) {
		t.Errorf("prune changed Jane's %s, made by apply for a bucket the file does not name", name)
	}
	if !after.FindBucket(bucket).Policy.Equal(before.FindBucket(bucket).Policy) {
		t.Error("prune changed the policy of a bucket the file does not name")
	}
	janeKMS := diff.SidFor(jane, bucket, "", diff.PurposeKMS)
	if !hasSid(after.FindKey(w.keyARN).Policy, policy.KindKeyPolicy, janeKMS) {
		t.Errorf("prune removed Jane's %s from the key policy the two buckets share", janeKMS)
	}
	if p, err := diff.Make(after, diff.Options{Principal: jane, Bucket: bucket}); err != nil || !p.Empty() || p.Blocked() {
		t.Errorf("Jane's grant on %s no longer stands after the sync: %v %v", bucket, err, p)
	}
	// The dry run with --prune agrees: nothing to prune.
	if rep := w.syncJSON(0, "-f", file, "--dry-run", "--detailed-exitcode", "--prune"); len(rep.Pruned) != 0 || rep.Summary.InSync != 1 {
		t.Errorf("dry run: %+v, pruned %v", rep.Summary, rep.Pruned)
	}
}

func inlineDoc(st *state.State, principal, name string) *state.Doc {
	if p := st.FindPrincipal(principal); p != nil {
		for _, in := range p.InlinePolicies {
			if in.Name == name {
				return in.Doc
			}
		}
	}
	return nil
}

func hasSid(d *state.Doc, kind policy.Kind, sid string) bool {
	if d == nil {
		return false
	}
	for _, s := range policy.MustParse(d.String(), kind).Statements() {
		if s.Sid == sid {
			return true
		}
	}
	return false
}
