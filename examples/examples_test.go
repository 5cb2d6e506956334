// Package examples holds no code: its tests run the repository's examples
// as a new user would, with the built binary, offline.
package examples

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/testbin"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
)

// binary is bucketgrant, built once by TestMain.
var binary string

// repoRoot is where a fresh clone's commands run from.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "bucketgrant-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = testbin.Build(repoRoot, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// offlineSync is the command the README and examples/README.md give, word
// for word.
const offlineSync = "bucketgrant sync -f examples/grants.yaml --state examples/organisation.json --dry-run"

// run runs bucketgrant in dir and returns stdout, stderr and the exit code.
func run(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	// Nothing from this machine's AWS setup: the examples run without one.
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// report is the part of `sync --format json` these tests read.
type report struct {
	Grants []struct {
		Principal, Bucket, Prefix, Status string
		Reasons                           []string
	}
	Pruned  []json.RawMessage
	Summary struct {
		InSync     int `json:"in_sync"`
		Fixed      int `json:"fixed"`
		DriftFound int `json:"drift_found"`
	}
}

func parseReport(t *testing.T, out string) report {
	t.Helper()
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("sync --format json printed no report (%v):\n%s", err, out)
	}
	return r
}

// TestOfflineSync runs the README's offline example exactly, from the root
// of the checkout, and checks that it reads every grant of the file from
// the bundled snapshot and changes nothing.
func TestOfflineSync(t *testing.T) {
	snapshot := filepath.Join(repoRoot, "examples", "organisation.json")
	before, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(offlineSync)[1:]
	stdout, stderr, code := run(t, repoRoot, nil, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", offlineSync, code, stdout, stderr)
	}
	if !strings.Contains(stdout, "5 grants: 2 in sync, 0 fixed, 3 drift found, 0 blocked, 0 errors; 7 documents would be written.") {
		t.Errorf("%s printed:\n%s", offlineSync, stdout)
	}
	after, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a dry run changed examples/organisation.json")
	}

	// Every grant of the file, in file order, found in the snapshot.
	f, err := grantsync.LoadFile(filepath.Join(repoRoot, "examples", "grants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = run(t, repoRoot, nil, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := parseReport(t, stdout)
	if len(r.Grants) != len(f.Grants) {
		t.Fatalf("report has %d grants, the file %d", len(r.Grants), len(f.Grants))
	}
	for i, g := range r.Grants {
		if g.Principal != f.Grants[i].Principal || g.Bucket != f.Grants[i].Bucket {
			t.Errorf("grant %d reported as %s on %s, the file has %s on %s", i, g.Principal, g.Bucket, f.Grants[i].Principal, f.Grants[i].Bucket)
		}
		if g.Status != "in sync" && g.Status != "drift found" {
			t.Errorf("%s on %s: %s %v", g.Principal, g.Bucket, g.Status, g.Reasons)
		}
	}
}

// TestSnapshotConverges applies the example to a copy of the snapshot:
// every grant is fixed, and a second run finds nothing to do.
func TestSnapshotConverges(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "organisation.json")
	copyFile(t, filepath.Join(repoRoot, "examples", "organisation.json"), snap)
	grants := filepath.Join(repoRoot, "examples", "grants.yaml")
	stdout, stderr, code := run(t, dir, nil, "sync", "-f", grants, "--state", snap, "--yes", "--format", "json", "--backup-dir", filepath.Join(dir, "backups"))
	if code != 0 {
		t.Fatalf("sync --yes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if r := parseReport(t, stdout); r.Summary.InSync != 2 || r.Summary.Fixed != 3 {
		t.Errorf("sync --yes: %+v", r.Summary)
	}
	stdout, stderr, code = run(t, dir, nil, "sync", "-f", grants, "--state", snap, "--dry-run", "--detailed-exitcode", "--format", "json")
	if code != 0 {
		t.Fatalf("second run: exit %d (2: drift left after --yes)\n%s\n%s", code, stdout, stderr)
	}
	if r := parseReport(t, stdout); r.Summary.InSync != 5 {
		t.Errorf("second run: %+v", r.Summary)
	}
}

// TestPruneExample: Bob's old grant is in the snapshot and not in the file;
// a prune dry run shows it and nothing of the file's grants.
func TestPruneExample(t *testing.T) {
	stdout, stderr, code := run(t, repoRoot, nil, "sync", "-f", "examples/grants.yaml", "--state", "examples/organisation.json",
		"--dry-run", "--prune", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := parseReport(t, stdout)
	if len(r.Pruned) == 0 {
		t.Fatalf("prune found nothing of Bob's old grant:\n%s", stdout)
	}
	for _, p := range r.Pruned {
		if !strings.Contains(string(p), "BucketGrant") {
			t.Errorf("prune touches something not bucketgrant's: %s", p)
		}
	}
	if !strings.Contains(stdout, "arn:aws:iam::111122223333:user/Bob") {
		t.Errorf("prune does not name Bob's policy:\n%s", stdout)
	}
}

// TestDocsShowTheOfflineSync keeps the documented command and this test's
// in agreement.
func TestDocsShowTheOfflineSync(t *testing.T) {
	for _, doc := range []string{"README.md", "examples/README.md"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), offlineSync) {
			t.Errorf("%s does not show %q", doc, offlineSync)
		}
	}
}

// TestSnapshotCoversTwoAccounts keeps the bundled organisation what the
// docs say it is.
func TestSnapshotCoversTwoAccounts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "organisation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Buckets    []struct{ Name, Account string }
		Keys       []struct{ ARN string }
		Principals []struct{ ARN string }
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	accounts := map[string]bool{}
	for _, b := range s.Buckets {
		accounts[b.Account] = true
	}
	for _, p := range s.Principals {
		accounts[strings.Split(p.ARN, ":")[4]] = true
	}
	if len(s.Buckets) < 3 || len(s.Keys) < 3 || len(s.Principals) < 4 || len(accounts) != 2 {
		t.Errorf("%d buckets, %d keys, %d principals in %d accounts", len(s.Buckets), len(s.Keys), len(s.Principals), len(accounts))
	}
	if !slices.ContainsFunc(s.Principals, func(p struct{ ARN string }) bool { return strings.Contains(p.ARN, ":123456789098:") }) {
		t.Error("no principal in the second account")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
