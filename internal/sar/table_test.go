package sar

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/sar/sargen"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestTableIsFresh regenerates the table in memory from the installed,
// pinned package and compares it with the checked-in file.
func TestTableIsFresh(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, sargen.DefaultDir)
	if _, err := os.Stat(filepath.Join(dir, "package.json")); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is not installed in %s; run `npm ci --prefix oracle` (make test does) to check the table against it", sargen.PackageName, dir)
	}
	d, err := sargen.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != DataVersion {
		t.Fatalf("installed %s is %s, the table was generated from %s: run `npm ci --prefix oracle`, or `make catalog` if the pin changed", sargen.PackageName, d.Version, DataVersion)
	}
	want, err := sargen.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "internal", "sar", "table.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("internal/sar/table.go is stale against %s %s: run `make catalog`", sargen.PackageName, d.Version)
	}
}

// TestPinnedVersion checks, without node_modules, that oracle/ pins the
// package version the table was generated from, as a direct dependency.
func TestPinnedVersion(t *testing.T) {
	root := repoRoot(t)
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, filepath.Join(root, "oracle", "package.json"), &pkg)
	if v := pkg.Dependencies[sargen.PackageName]; v != DataVersion {
		t.Errorf("oracle/package.json pins %s at %q, the table is from %q", sargen.PackageName, v, DataVersion)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
			License string `json:"license"`
		} `json:"packages"`
	}
	readJSON(t, filepath.Join(root, "oracle", "package-lock.json"), &lock)
	p := lock.Packages["node_modules/"+sargen.PackageName]
	if p.Version != DataVersion {
		t.Errorf("oracle/package-lock.json locks %s at %q, the table is from %q", sargen.PackageName, p.Version, DataVersion)
	}
	if p.License != "MIT" {
		t.Errorf("%s is locked with licence %q; the table may only copy MIT data", sargen.PackageName, p.License)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
