package apply_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
)

// Issue 7, part 4: the backup reader never panics, names the file in its
// errors, and a backup it accepts gives a rollback plan (or a clear error),
// never a crash.
func FuzzReadBackup(f *testing.F) {
	dir := "../../testdata/hostile/backup"
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format":"bucketgrant.backup/1","documents":[{"document":{"kind":"key-policy","arn":"arn:aws:kms:us-east-1:1:key/k"},"existed":false}]}`))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := os.CreateTemp(tmp, "backup-*.json")
		if err != nil {
			t.Fatal(err)
		}
		path := file.Name()
		defer os.Remove(path)
		_, err = file.Write(data)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := apply.ReadBackup(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		if len(b.Documents) == 0 {
			t.Fatal("a backup without documents was accepted")
		}
		p, err := apply.RollbackPlan(b, "fuzz")
		if err != nil {
			return
		}
		for _, ch := range p.Changes {
			if ch.Document.Kind == "" || ch.Document.ARN == "" {
				t.Fatalf("a rollback change without a document: %+v", ch.Document)
			}
		}
		_ = apply.Order(p)
	})
}
