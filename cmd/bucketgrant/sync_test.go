package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func grantsFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grants.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sameAccountGrants = `version: 1
grants:
  - principal: arn:aws:iam::111122223333:user/Jane
    bucket: DOC-EXAMPLE-BUCKET
    access: [read, write]
`

func TestSyncOnSnapshot(t *testing.T) {
	st := example(t, "seed-same-account.json")
	g := grantsFile(t, sameAccountGrants)
	backups := t.TempDir()

	r := runCLI(t, "", false, "sync", "-f", g, "--state", st, "--dry-run", "--detailed-exitcode")
	if r.code != exitPending || !strings.Contains(r.out, "drift found") || !strings.Contains(r.out, "1 drift found") {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = runCLI(t, "", false, "sync", "-f", g, "--state", st, "--yes", "--backup-dir", backups, "--log-format", "json")
	if r.code != exitOK || !strings.Contains(r.out, "1 fixed") {
		t.Fatalf("sync: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// Logs are JSON lines on stderr, one object each; no progress display
	// when stderr is not a terminal.
	for _, line := range strings.Split(strings.TrimSpace(r.err), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil {
			t.Errorf("stderr line is not a JSON log record: %q", line)
		}
	}
	if strings.Contains(r.err, "\r") {
		t.Error("a progress display was drawn on a stream that is not a terminal")
	}
	r = runCLI(t, "", false, "sync", "-f", g, "--state", st, "--dry-run", "--detailed-exitcode", "--format", "json")
	var rep struct {
		Format string
		Grants []struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || r.code != exitOK || rep.Format != "bucketgrant.sync-report/1" || len(rep.Grants) != 1 || rep.Grants[0].Status != "in sync" {
		t.Errorf("after sync: exit %d, %v\n%s", r.code, err, r.out)
	}
}

func TestSyncUsage(t *testing.T) {
	g := grantsFile(t, sameAccountGrants)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"sync", "--yes"}, "-f GRANTS.yaml"},
		{"neither yes nor dry run", []string{"sync", "-f", g}, "either --yes"},
		{"both", []string{"sync", "-f", g, "--yes", "--dry-run"}, "--yes and --dry-run together"},
		{"detailed without dry run", []string{"sync", "-f", g, "--yes", "--detailed-exitcode"}, "goes with --dry-run"},
		{"bad shard", []string{"sync", "-f", g, "--dry-run", "--shard", "3/3"}, "K in 0..N-1"},
		{"bad format", []string{"sync", "-f", g, "--dry-run", "--format", "yaml"}, "--format"},
		{"bad parallel", []string{"sync", "-f", g, "--dry-run", "--parallel", "0"}, "--parallel"},
		{"bad file", []string{"sync", "-f", grantsFile(t, "version: 1\ngrants:\n  - bucket: b-one\n"), "--dry-run", "--state", "x.json"}, "grants.yaml:3: grants[0]: missing principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", false, tt.args...)
			if r.code != exitError || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, want 1 with %q\n%s", r.code, tt.want, r.err)
			}
		})
	}
}
