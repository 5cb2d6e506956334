package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// sized is a policy of exactly n characters as IAM counts them.
func sized(t *testing.T, n int) string {
	t.Helper()
	head := `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	doc := head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	if limits.IAMChars([]byte(doc)) != n {
		t.Fatalf("sized(%d) is %d", n, limits.IAMChars([]byte(doc)))
	}
	return doc
}

func applyPlan(t *testing.T, path, principal string, p *diff.Plan) (*apply.Result, error) {
	t.Helper()
	store, err := apply.NewStateStore(path, principal)
	if err != nil {
		t.Fatal(err)
	}
	return apply.Apply(context.Background(), store, p, opts(t))
}

// Issue 14, "limits not checked on every write path": rollback recreated
// an inline policy that took the user's inline policies past IAM's 2,048
// characters. Now it is refused whole, before any write (no backup either),
// with the numbers and what to do.
func TestRollbackOverInlineLimitIsRefused(t *testing.T) {
	path := copyExample(t, "seed-same-account.json")
	if _, err := applyPlan(t, path, jane, planFile(t, path, diff.Options{})); err != nil {
		t.Fatal(err)
	}
	st, _ := snapshot.Load(path)
	grantSize := limits.IAMChars(st.Principals[0].InlinePolicies[0].Doc.Text)
	rv, err := diff.Revoke(st, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	rv.Seal()
	res, err := applyPlan(t, path, jane, rv)
	if err != nil {
		t.Fatal(err)
	}
	// Someone gives Jane another inline policy; with bucketgrant's back
	// she would have 2,120 characters.
	st, _ = snapshot.Load(path)
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "other", Doc: state.NewDoc(sized(t, 2120-grantSize))})
	st.Principals[0].Source = nil
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	b, _ := apply.ReadBackup(res.BackupPath)
	rb, _ := apply.RollbackPlan(b, "test")
	o := opts(t)
	store, _ := apply.NewStateStore(path, jane)
	_, err = apply.Apply(context.Background(), store, rb, o)
	var le *apply.LimitError
	if !errors.As(err, &le) || len(le.Violations) != 1 {
		t.Fatalf("got %v, want one limit violation", err)
	}
	for _, want := range []string{"the inline policies of user " + jane, "2120 characters", "2048", "move some of the user's other inline policies", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if now, _ := os.ReadFile(path); string(now) != string(before) {
		t.Error("the refused rollback wrote the file")
	}
	if entries, _ := os.ReadDir(o.BackupDir); len(entries) != 0 {
		t.Error("the refused rollback wrote a backup")
	}
}

// Issue 14: "a sync attached 12 managed policies to one user (IAM's
// default quota is 10)". Jane has 9 attached policies and full inline
// policies, so each of her grants on three buckets falls back to a managed
// policy of its own: the first fits, the others are blocked (exit 3) and
// say why; nothing past the quota is written.
func TestSyncPastAttachedQuotaIsBlocked(t *testing.T) {
	st, err := snapshot.Load(filepath.Join("..", "..", "examples", "seed-same-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	jn := &st.Principals[0]
	jn.InlinePolicies = []state.NamedDoc{{Name: "existing", Doc: state.NewDoc(sized(t, 1990))}}
	for i := range 9 {
		jn.AttachedPolicies = append(jn.AttachedPolicies, state.ManagedPolicy{ARN: fmt.Sprintf("arn:aws:iam::aws:policy/Other%d", i), Document: state.NewDoc(sized(t, 200))})
	}
	jn.Source = nil
	for _, name := range []string{"second-bucket", "third-bucket"} {
		b := st.Buckets[0]
		b.Name, b.Policy, b.Source = name, nil, nil
		st.Buckets = append(st.Buckets, b)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	text := "version: 1\ngrants:\n"
	for _, b := range []string{bucket, "second-bucket", "third-bucket"} {
		text += "  - principal: " + jane + "\n    bucket: " + b + "\n"
	}
	f, err := grantsync.Parse("grants.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := grantsync.Sync(context.Background(), grantsync.Config{File: f, StatePath: path, BackupDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Fixed != 1 || rep.Summary.Blocked != 2 || rep.ExitCode(false) != grantsync.ExitBlocked {
		t.Fatalf("summary %+v", rep.Summary)
	}
	for _, g := range rep.Grants {
		if g.Status == grantsync.StatusBlocked && !strings.Contains(strings.Join(g.Reasons, " "), "would be 11 policies, over IAM's quota per user") {
			t.Errorf("blocked grant's reasons: %v", g.Reasons)
		}
	}
	after, _ := snapshot.Load(path)
	if n := len(after.Principals[0].AttachedPolicies); n != 10 {
		t.Errorf("Jane has %d managed policies attached, want 10", n)
	}
}

// Issue 14: a legacy bucket name over 116 characters made an inline policy
// name over IAM's 128. The name keeps 128 characters, stays the same from
// run to run, and revoke and prune find it.
func TestLongLegacyBucketName(t *testing.T) {
	long := strings.Repeat("legacy-bucket.", 10) + "end"  // 143 characters
	other := strings.Repeat("legacy-bucket.", 10) + "two" // the same first 128
	st, err := snapshot.Load(filepath.Join("..", "..", "examples", "seed-same-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := st.Buckets[0]
	b.Name, b.Policy, b.Source = long, nil, nil
	st.Buckets = []state.Bucket{b}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	original, _ := os.ReadFile(path)
	name := diff.InlinePolicyName(long)
	if len(name) != 128 || name != diff.InlinePolicyName(long) || name == diff.InlinePolicyName(other) || !strings.HasPrefix(name, "bucketgrant-legacy-bucket.") {
		t.Fatalf("inline policy name %q (%d characters)", name, len(name))
	}
	plan := func() *diff.Plan {
		st, _ := snapshot.Load(path)
		p, err := diff.Make(st, diff.Options{Principal: jane, Bucket: long})
		if err != nil {
			t.Fatal(err)
		}
		p.Seal()
		return p
	}
	if _, err := applyPlan(t, path, jane, plan()); err != nil {
		t.Fatal(err)
	}
	st, _ = snapshot.Load(path)
	if got := st.Principals[0].InlinePolicies; len(got) != 1 || got[0].Name != name {
		t.Fatalf("inline policies %v", got)
	}
	if !plan().Empty() {
		t.Fatal("planning again is not a no-op")
	}
	rv, err := diff.Revoke(st, diff.Options{Principal: jane, Bucket: long})
	if err != nil {
		t.Fatal(err)
	}
	rv.Seal()
	if _, err := applyPlan(t, path, jane, rv); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(original) {
		t.Fatalf("revoke did not find everything:\n%s", now)
	}
	// Prune finds it too.
	if _, err := applyPlan(t, path, jane, plan()); err != nil {
		t.Fatal(err)
	}
	// The file names the bucket (and no grant on it): prune is the truth
	// only for the buckets a file names.
	f, err := grantsync.Parse("grants.yaml", []byte("version: 1\nbuckets:\n  "+long+": {account: \"111122223333\"}\ngrants: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grantsync.Sync(context.Background(), grantsync.Config{File: f, StatePath: path, Prune: true, BackupDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(original) {
		t.Fatalf("prune did not find everything:\n%s", now)
	}
}
