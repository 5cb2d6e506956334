package grantsync

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// actionsOf returns the actions of the statement with that Sid in a
// document, nil when it has none.
func actionsBySid(t *testing.T, d *state.Doc, kind policy.Kind, sid string) []string {
	t.Helper()
	if d == nil {
		return nil
	}
	for _, s := range policy.MustParse(d.String(), kind).Statements() {
		if s.Sid == sid && s.Action != nil {
			return s.Action.Values
		}
	}
	return nil
}

// TestNarrowingAccess is issue 14's narrowed grant: Jane had the
// cross-account default (read, write, list, versions); the file now says
// read. With --prune her statements keep only what reading needs; without
// it the report says the grant is broader than declared, and
// --detailed-exitcode exits 2.
func TestNarrowingAccess(t *testing.T) {
	wide := diff.Options{Principal: jane, Bucket: bucketX}
	st := applied(t, crossAccount(t), wide)
	narrow := Grant{Principal: jane, Bucket: bucketX, Access: []diff.Level{diff.Read}, Line: 1}
	f := file(narrow)

	t.Run("without prune", func(t *testing.T) {
		rep, after := syncFile(t, st, f, false, true)
		g := rep.Grants[0]
		if g.Status != StatusBroader || rep.Summary.Broader != 1 {
			t.Fatalf("status %q, summary %+v; want %q", g.Status, rep.Summary, StatusBroader)
		}
		if !slices.ContainsFunc(g.Broader, func(s string) bool { return strings.Contains(s, "s3:PutObject") }) {
			t.Errorf("the report does not say what is broader: %v", g.Broader)
		}
		if rep.ExitCode(true) != ExitPending || rep.ExitCode(false) != ExitOK {
			t.Errorf("exit codes %d (detailed), %d; want 2 and 0", rep.ExitCode(true), rep.ExitCode(false))
		}
		if !granted(t, after, diff.Options{Principal: jane, Bucket: bucketX, Access: []diff.Level{diff.Write}}) {
			t.Error("a sync without --prune narrowed the grant")
		}
		rep, _ = syncFile(t, st, f, false, false)
		if rep.Summary.Written != 0 || rep.Grants[0].Status != StatusBroader {
			t.Errorf("--yes without --prune: %+v, status %q", rep.Summary, rep.Grants[0].Status)
		}
	})

	t.Run("with prune", func(t *testing.T) {
		rep, after := syncFile(t, st, f, true, false)
		if rep.Summary.Errors != 0 || rep.Summary.Fixed != 1 || rep.Grants[0].Status != StatusFixed {
			t.Fatalf("sync: %+v %+v", rep.Summary, rep.Grants)
		}
		bp := after.FindBucket(bucketX).Policy
		if got := actionsBySid(t, bp, policy.KindBucketPolicy, diff.SidFor(jane, bucketX, "", diff.PurposeObjects)); !slices.Equal(got, []string{"s3:GetObject"}) {
			t.Errorf("the bucket policy's objects statement allows %v, want s3:GetObject only", got)
		}
		if got := actionsBySid(t, bp, policy.KindBucketPolicy, diff.SidFor(jane, bucketX, "", diff.PurposeList)); got != nil {
			t.Errorf("the bucket policy still lets Jane list: %v", got)
		}
		if got := actionsBySid(t, after.Keys[0].Policy, policy.KindKeyPolicy, diff.SidFor(jane, bucketX, "", diff.PurposeKMS)); !slices.Equal(got, []string{"kms:Decrypt"}) {
			t.Errorf("the key policy lets Jane %v, want kms:Decrypt only", got)
		}
		in := inline(after, jane, diff.InlinePolicyName(bucketX))
		if got := actionsBySid(t, in, policy.KindIdentity, diff.SidFor(jane, bucketX, "", diff.PurposeObjects)); !slices.Equal(got, []string{"s3:GetObject"}) {
			t.Errorf("Jane's inline policy allows %v, want s3:GetObject only", got)
		}
		if !granted(t, after, diff.Options{Principal: jane, Bucket: bucketX, Access: []diff.Level{diff.Read}}) {
			t.Error("narrowing took away what the file declares")
		}
		for _, l := range []diff.Level{diff.Write, diff.List, diff.Versions} {
			if granted(t, after, diff.Options{Principal: jane, Bucket: bucketX, Access: []diff.Level{l}}) {
				t.Errorf("Jane can still %s", l.Verb())
			}
		}
		// The other statements of the documents keep their bytes: the key
		// policy's own statements are still there.
		before := sids(t, st.Keys[0].Policy.String(), policy.KindKeyPolicy)
		if now := sids(t, after.Keys[0].Policy.String(), policy.KindKeyPolicy); !slices.Equal(before, now) {
			t.Errorf("key policy Sids %v, want %v", now, before)
		}
		rep, _ = syncFile(t, after, f, true, true)
		if rep.Summary.InSync != 1 || len(rep.Pruned) != 0 || rep.ExitCode(true) != ExitOK {
			t.Errorf("a second sync: %+v, pruned %v", rep.Summary, rep.Pruned)
		}
	})
}

// TestNarrowingPrefix: the grant moves from the whole bucket to reports/.
// With --prune the whole-bucket statements go and the prefix grant gets its
// own; without it the report says the grant is broader than declared.
func TestNarrowingPrefix(t *testing.T) {
	read := []diff.Level{diff.Read}
	st := applied(t, crossAccount(t), diff.Options{Principal: jane, Bucket: bucketX, Access: read})
	f := file(Grant{Principal: jane, Bucket: bucketX, Prefix: "reports/", Access: read, Line: 1})

	// Without --prune the grant on reports/ gets its own statements (every
	// grant stands on its own), and the whole-bucket ones, a grant no
	// longer in the file, make it broader than declared.
	rep, _ := syncFile(t, st, f, false, true)
	if g := rep.Grants[0]; g.Status != StatusDrift || len(g.Broader) == 0 || rep.ExitCode(true) != ExitPending {
		t.Errorf("dry run without prune: status %q, broader %v", g.Status, g.Broader)
	}
	rep, after := syncFile(t, st, f, true, false)
	if rep.Summary.Errors != 0 || rep.Summary.Fixed != 1 {
		t.Fatalf("sync: %+v %+v", rep.Summary, rep.Grants)
	}
	if granted(t, after, diff.Options{Principal: jane, Bucket: bucketX, Access: read}) {
		t.Error("Jane still reads the whole bucket")
	}
	if !granted(t, after, diff.Options{Principal: jane, Bucket: bucketX, Access: read, Prefix: "reports/"}) {
		t.Error("Jane cannot read reports/")
	}
}
