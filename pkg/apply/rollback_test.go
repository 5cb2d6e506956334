package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const bob = "arn:aws:iam::111122223333:user/Bob"

// syncSnapshot is the cross-account seed with Bob beside Jane, whose inline
// policies are nearly full, so that her grant falls back to a managed
// policy.
func syncSnapshot(t *testing.T) string {
	t.Helper()
	st, err := snapshot.Load(filepath.Join("..", "..", "examples", "seed-cross-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for i := range 15 {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"Filler%02d","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::other-bucket-%02d"}`, i, i))
	}
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies,
		state.NamedDoc{Name: "existing", Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)})
	st.Principals[0].Source = nil
	st.Principals = append(st.Principals, state.Principal{ARN: bob, ID: "AIDAEXAMPLEBOB0000001", Kind: state.KindUser})
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	return path
}

func grantsFile(t *testing.T, principals ...string) *grantsync.File {
	t.Helper()
	text := "version: 1\nbuckets:\n  " + bucket + ": {account: \"123456789098\"}\ngrants:\n"
	for _, p := range principals {
		text += "  - principal: " + p + "\n    bucket: " + bucket + "\n"
	}
	f, err := grantsync.Parse("grants.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func syncFile(t *testing.T, path string, f *grantsync.File, prune bool, backups string) string {
	t.Helper()
	rep, err := grantsync.Sync(context.Background(), grantsync.Config{File: f, StatePath: path, Prune: prune, BackupDir: backups})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Backup == "" || rep.Summary.Error != "" {
		t.Fatalf("sync: %+v", rep.Summary)
	}
	return rep.Summary.Backup
}

func rollback(t *testing.T, path, backup string) error {
	t.Helper()
	b, err := apply.ReadBackup(backup)
	if err != nil {
		t.Fatal(err)
	}
	p, err := apply.RollbackPlan(b, "test")
	if err != nil {
		t.Fatal(err)
	}
	store, err := apply.NewStateStoreFor(path, b.PrincipalOf)
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply.Apply(context.Background(), store, p, opts(t))
	return err
}

// Issue 14, "rollback of a sync backup that holds managed policies fails
// on a snapshot" ("… is not in the state"): a sync's backup names the owner
// of each identity document, and rollback restores every document of it,
// the managed policy it created (detached and deleted) or the one a prune
// deleted (created and attached again).
func TestRollbackOfSyncBackupOnSnapshot(t *testing.T) {
	path := syncSnapshot(t)
	bk := t.TempDir()
	original, _ := os.ReadFile(path)
	backup := syncFile(t, path, grantsFile(t, jane, bob), false, bk)
	synced, _ := os.ReadFile(path)
	managed := diff.ManagedPolicyARN(jane, bucket)
	if !strings.Contains(string(synced), managed) {
		t.Fatal("test setup: Jane's grant did not fall back to a managed policy")
	}
	b, _ := apply.ReadBackup(backup)
	if got := b.PrincipalOf(diff.DocRef{Kind: diff.DocManagedPolicy, ARN: managed}); got != jane {
		t.Errorf("the backup says the managed policy is %q's", got)
	}
	if id, res := b.Accounts(); !slices.Equal(id, []string{"111122223333"}) || !slices.Equal(res, []string{"123456789098"}) {
		t.Errorf("accounts %v %v", id, res)
	}
	if err := rollback(t, path, backup); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(original) {
		t.Fatalf("the rollback did not restore the file:\n%s", now)
	}

	// A prune that deletes Jane's managed policy, rolled back.
	syncFile(t, path, grantsFile(t, jane, bob), false, bk)
	synced, _ = os.ReadFile(path)
	backup = syncFile(t, path, grantsFile(t, bob), true, bk)
	if now, _ := os.ReadFile(path); strings.Contains(string(now), managed) {
		t.Fatal("test setup: the prune left the managed policy")
	}
	if err := rollback(t, path, backup); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(synced) {
		t.Fatalf("the rollback of the prune did not restore the file:\n%s", now)
	}
}

// A sync's backup made before backups named owners: on a snapshot the
// owner of a managed policy is found by its attachment; what cannot be
// found (a managed policy to create again) is said, and nothing written.
func TestRollbackOfOlderSyncBackup(t *testing.T) {
	path := syncSnapshot(t)
	bk := t.TempDir()
	original, _ := os.ReadFile(path)
	strip := func(backup string) string {
		data, _ := os.ReadFile(backup)
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		for _, d := range raw["documents"].([]any) {
			delete(d.(map[string]any), "principal")
			delete(d.(map[string]any), "region")
		}
		data, _ = json.Marshal(raw)
		old := filepath.Join(t.TempDir(), "old.json")
		os.WriteFile(old, data, 0o600)
		return old
	}
	old := strip(syncFile(t, path, grantsFile(t, jane, bob), false, bk))
	b, _ := apply.ReadBackup(old)
	if got := b.UnknownOwners(); !slices.Equal(got, []string{diff.ManagedPolicyARN(jane, bucket)}) {
		t.Errorf("unknown owners %v", got)
	}
	if err := rollback(t, path, old); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(original) {
		t.Fatalf("the rollback did not restore the file:\n%s", now)
	}

	syncFile(t, path, grantsFile(t, jane, bob), false, bk)
	before, _ := os.ReadFile(path)
	old = strip(syncFile(t, path, grantsFile(t, bob), true, bk))
	pruned, _ := os.ReadFile(path)
	err := rollback(t, path, old)
	if err == nil || !strings.Contains(err.Error(), "does not say") {
		t.Fatalf("got %v", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(pruned) || string(now) == string(before) {
		t.Error("the refused rollback wrote")
	}
}
