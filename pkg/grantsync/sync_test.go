package grantsync

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

// stateCopy writes the cross-account seed with Bob to a temporary file.
func stateCopy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, crossAccount(t)); err != nil {
		t.Fatal(err)
	}
	return path
}

func syncOn(t *testing.T, path string, f *File, dry bool, shard *Shard) *Report {
	t.Helper()
	rep, err := Sync(context.Background(), Config{File: f, StatePath: path, DryRun: dry, Shard: shard, BackupDir: t.TempDir(), Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSyncOnStateFile(t *testing.T) {
	path := stateCopy(t)
	f := file(Grant{Principal: jane, Bucket: bucket}, Grant{Principal: bob, Bucket: bucket, Access: []diff.Level{diff.Read}},
		Grant{Principal: jane, Bucket: bucket, Prefix: "reports/", Access: []diff.Level{diff.Read}})
	orig, _ := os.ReadFile(path)

	// Every grant stands on its own statements (docs/lifecycle.md): Jane's
	// reports/ grant gets its own although her grant on the whole bucket
	// covers it, so revoking that one later cannot take reports/ away.
	rep := syncOn(t, path, f, true, nil)
	if rep.Summary.DriftFound != 3 || rep.Summary.InSync != 0 || rep.ExitCode(true) != ExitPending || rep.ExitCode(false) != ExitOK {
		t.Fatalf("dry run: %+v", rep.Summary)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Fatal("the dry run wrote the file")
	}
	rep = syncOn(t, path, f, false, nil)
	if rep.Summary.Fixed != 3 || rep.Summary.InSync != 0 || rep.ExitCode(true) != ExitOK || rep.Summary.Backup == "" {
		t.Fatalf("sync: %+v\n%+v", rep.Summary, rep.Grants)
	}
	// The bucket policy, the key policy, Jane's and Bob's inline policies:
	// four documents for three grants.
	if rep.Summary.Written != 4 {
		t.Errorf("%d documents written, want 4", rep.Summary.Written)
	}
	written, _ := os.ReadFile(path)
	rep = syncOn(t, path, f, false, nil)
	if rep.Summary.InSync != 3 || rep.Summary.Written != 0 {
		t.Errorf("second sync: %+v", rep.Summary)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, written) {
		t.Error("a sync in sync rewrote the file")
	}
}

func TestSyncShardsOnStateFile(t *testing.T) {
	path := stateCopy(t)
	f := file(Grant{Principal: jane, Bucket: bucket}, Grant{Principal: bob, Bucket: bucket, Access: []diff.Level{diff.Read}})
	fixed := 0
	for k := range 2 {
		rep := syncOn(t, path, f, false, &Shard{K: k, N: 2})
		fixed += rep.Summary.Fixed
		// Both grants share the bucket policy: one shard has both.
		if rep.Summary.Grants != 0 && rep.Summary.Grants != 2 {
			t.Errorf("shard %d has %d grants; grants sharing a document must stay together", k, rep.Summary.Grants)
		}
	}
	if fixed != 2 {
		t.Errorf("%d grants fixed over the shards, want 2", fixed)
	}
	if rep := syncOn(t, path, f, true, nil); rep.Summary.InSync != 2 {
		t.Errorf("after the shards: %+v", rep.Summary)
	}
}
