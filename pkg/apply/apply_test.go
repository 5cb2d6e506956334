package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	jane   = "arn:aws:iam::111122223333:user/Jane"
	bucket = "DOC-EXAMPLE-BUCKET"
)

// copyExample copies a bundled example to a temporary snapshot file.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func planFile(t *testing.T, path string, o diff.Options) *diff.Plan {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Principal, o.Bucket = jane, bucket
	p, err := diff.Make(st, o)
	if err != nil {
		t.Fatal(err)
	}
	p.Seal()
	return p
}

func opts(t *testing.T) apply.Options {
	return apply.Options{BackupDir: t.TempDir()}
}

func TestApplyRevokeRollbackOnSnapshot(t *testing.T) {
	for _, example := range []string{"seed-cross-account.json", "seed-same-account.json"} {
		t.Run(example, func(t *testing.T) {
			path := copyExample(t, example)
			original, _ := os.ReadFile(path)
			p := planFile(t, path, diff.Options{})
			store, err := apply.NewStateStore(path, jane)
			if err != nil {
				t.Fatal(err)
			}
			res, err := apply.Apply(context.Background(), store, p, opts(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Written) != len(p.Changes) {
				t.Fatalf("wrote %d of %d documents", len(res.Written), len(p.Changes))
			}
			info, err := os.Stat(res.BackupPath)
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("backup %s: %v %v", res.BackupPath, err, info.Mode())
			}
			if again := planFile(t, path, diff.Options{}); !again.Empty() {
				t.Fatalf("the second plan is not empty: %d changes", len(again.Changes))
			}

			// Rollback restores the snapshot byte for byte.
			b, err := apply.ReadBackup(res.BackupPath)
			if err != nil {
				t.Fatal(err)
			}
			rb, err := apply.RollbackPlan(b, "test")
			if err != nil {
				t.Fatal(err)
			}
			store, _ = apply.NewStateStore(path, jane)
			if _, err := apply.Apply(context.Background(), store, rb, opts(t)); err != nil {
				t.Fatal(err)
			}
			if now, _ := os.ReadFile(path); string(now) != string(original) {
				t.Fatalf("rollback did not restore the snapshot:\n%s", now)
			}

			// Apply again, then revoke: back to the original too.
			p = planFile(t, path, diff.Options{})
			store, _ = apply.NewStateStore(path, jane)
			if _, err := apply.Apply(context.Background(), store, p, opts(t)); err != nil {
				t.Fatal(err)
			}
			st, _ := snapshot.Load(path)
			rv, err := diff.Revoke(st, diff.Options{Principal: jane, Bucket: bucket})
			if err != nil || rv.Blocked() {
				t.Fatalf("revoke plan: %v %v", err, rv.Blockers)
			}
			store, _ = apply.NewStateStore(path, jane)
			if _, err := apply.Apply(context.Background(), store, rv, opts(t)); err != nil {
				t.Fatal(err)
			}
			if now, _ := os.ReadFile(path); string(now) != string(original) {
				t.Fatalf("revoke did not restore the snapshot:\n%s", now)
			}
		})
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	path := copyExample(t, "seed-cross-account.json")
	p := planFile(t, path, diff.Options{})
	// Another writer adds a statement to the key policy after the plan.
	st, _ := snapshot.Load(path)
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/Other"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	store, _ := apply.NewStateStore(path, jane)
	_, err := apply.Apply(context.Background(), store, p, opts(t))
	var stale *apply.StaleError
	if !errors.As(err, &stale) || stale.Document.Kind != diff.DocKeyPolicy {
		t.Fatalf("got %v, want a stale key policy", err)
	}
	if !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("message: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a stale plan wrote to the file")
	}
}

// flaky is a store that changes or fails a document at its write.
type flaky struct {
	apply.Store
	failOn   string
	changeOn string
	mutate   func()
}

func (f *flaky) Write(ctx context.Context, ref diff.DocRef, text string, create, attach bool) error {
	if ref.Kind == f.failOn {
		return errors.New("injected failure")
	}
	return f.Store.Write(ctx, ref, text, create, attach)
}

func (f *flaky) Finish(ctx context.Context) error {
	if fin, ok := f.Store.(apply.Finisher); ok {
		return fin.Finish(ctx)
	}
	return nil
}

func (f *flaky) Read(ctx context.Context, ref diff.DocRef) (string, bool, error) {
	if ref.Kind == f.changeOn && f.mutate != nil {
		f.mutate()
	}
	return f.Store.Read(ctx, ref)
}

func TestPartialFailureReportsAndConverges(t *testing.T) {
	path := copyExample(t, "seed-cross-account.json")
	p := planFile(t, path, diff.Options{})
	// The StateStore writes only at Finish, so a failure midway leaves the
	// file untouched; the report must still say what was and was not done.
	mem, _ := apply.NewStateStore(path, jane)
	_, err := apply.Apply(context.Background(), &flaky{Store: mem, failOn: diff.DocKeyPolicy}, p, opts(t))
	var partial *apply.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("got %v, want a partial failure", err)
	}
	if len(partial.Written) != 1 || partial.Written[0].Kind != diff.DocInlinePolicy || partial.Failed.Kind != diff.DocKeyPolicy ||
		len(partial.NotWritten) != 1 || partial.NotWritten[0].Kind != diff.DocBucketPolicy || partial.Backup == "" {
		t.Fatalf("report %+v", partial)
	}
	for _, want := range []string{"written: inline policy", "not written: key policy", "bucket policy", "backup", "run the same command again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report does not say %q:\n%v", want, err)
		}
	}
	// A re-run converges.
	p = planFile(t, path, diff.Options{})
	store, _ := apply.NewStateStore(path, jane)
	if _, err := apply.Apply(context.Background(), store, p, opts(t)); err != nil {
		t.Fatal(err)
	}
	if again := planFile(t, path, diff.Options{}); !again.Empty() {
		t.Fatal("the re-run did not converge")
	}
}

func TestChangeBetweenReReadAndWriteStops(t *testing.T) {
	path := copyExample(t, "seed-cross-account.json")
	p := planFile(t, path, diff.Options{})
	store, _ := apply.NewStateStore(path, jane)
	reads := 0
	f := &flaky{Store: store, changeOn: diff.DocBucketPolicy, mutate: func() {
		reads++
		if reads == 2 { // after the pre-check, before the bucket policy's own write
			st, _ := snapshot.Load(path)
			st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"}]}`)
			if err := snapshot.Save(path, st); err != nil {
				t.Fatal(err)
			}
		}
	}}
	_, err := apply.Apply(context.Background(), f, p, opts(t))
	var stale *apply.StaleError
	if !errors.As(err, &stale) || stale.Document.Kind != diff.DocBucketPolicy || len(stale.Written) != 2 {
		t.Fatalf("got %v", err)
	}
	st, _ := snapshot.Load(path)
	if !strings.Contains(st.Buckets[0].Policy.String(), "Theirs") {
		t.Fatal("the other writer's bucket policy was overwritten")
	}
}

func TestLockoutIsRefused(t *testing.T) {
	path := copyExample(t, "seed-cross-account.json")
	p := planFile(t, path, diff.Options{})
	o := opts(t)
	o.KeyPolicyCaller = &policy.Caller{ARN: "arn:aws:iam::123456789098:user/KeyAdmin", Account: "123456789098"}
	// A plan whose merged key policy drops the root statement (a tampered
	// or buggy plan) must not reach the store.
	for i, ch := range p.Changes {
		if ch.Document.Kind == diff.DocKeyPolicy {
			p.Changes[i].After = `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyJane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}]}`
		}
	}
	store, _ := apply.NewStateStore(path, jane)
	_, err := apply.Apply(context.Background(), store, p, o)
	if err == nil || !strings.Contains(err.Error(), "locking it out") {
		t.Fatalf("got %v, want a lockout refusal", err)
	}
}

func TestBlockedAndEmptyPlans(t *testing.T) {
	store := &apply.StateStore{}
	if _, err := apply.Apply(context.Background(), store, &diff.Plan{Blockers: []diff.Blocker{{Kind: "x"}}}, apply.Options{}); err == nil {
		t.Fatal("a blocked plan was applied")
	}
	res, err := apply.Apply(context.Background(), store, &diff.Plan{}, apply.Options{})
	if err != nil || len(res.Written) != 0 {
		t.Fatalf("an empty plan: %v %v", res, err)
	}
}

func TestReadBackupRejectsTampering(t *testing.T) {
	path := copyExample(t, "seed-same-account.json")
	p := planFile(t, path, diff.Options{})
	store, _ := apply.NewStateStore(path, jane)
	res, err := apply.Apply(context.Background(), store, p, opts(t))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(res.BackupPath)
	bad := strings.Replace(string(data), `Allow access for Key Administrators`, `Allow access for Everyone`, 1)
	if bad == string(data) {
		t.Fatal("test setup: nothing replaced")
	}
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	os.WriteFile(tampered, []byte(bad), 0o600)
	if _, err := apply.ReadBackup(tampered); err == nil || !strings.Contains(err.Error(), "does not match its fingerprint") {
		t.Fatalf("tampered backup: %v", err)
	}
	for _, junk := range []string{"", "{", `{"format":"other"}`, `{"format":"bucketgrant.backup/1"}`} {
		os.WriteFile(tampered, []byte(junk), 0o600)
		if _, err := apply.ReadBackup(tampered); err == nil {
			t.Errorf("backup %q was read", junk)
		}
	}
}
