package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Every JSON output, made by the built binary, parsed and checked against
// its schema in docs/schemas. stdout holds the data only: it parses whole.

var (
	schemasMu sync.Mutex
	schemas   = map[string]*jsonschema.Schema{}
)

func schemaFor(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s, ok := schemas[name]; ok {
		return s
	}
	path, err := filepath.Abs(filepath.Join("..", "..", "docs", "schemas", name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.NewCompiler().Compile(path)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	schemas[name] = s
	return s
}

// validate parses data as one JSON value and checks it against the schema;
// it returns the value.
func validate(t *testing.T, schema string, data []byte) map[string]any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not one JSON value: %v\n%s", schema, err, data)
	}
	if err := schemaFor(t, schema).Validate(v); err != nil {
		t.Fatalf("%s: %v\n%s", schema, err, data)
	}
	m, _ := v.(map[string]any)
	return m
}

// oneLine checks that stdout is one JSON object on one line (a log
// pipeline reads one record per line), and validates it.
func oneLine(t *testing.T, schema string, r binResult) map[string]any {
	t.Helper()
	if strings.Count(r.out, "\n") != 1 || !strings.HasSuffix(r.out, "\n") {
		t.Fatalf("%s: stdout is not one line:\n%s\nstderr:\n%s", schema, r.out, r.err)
	}
	return validate(t, schema, []byte(r.out))
}

func TestJSONOutputs(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	dir, state := snapshotCopy(t, "seed-cross-account.json")
	backups := filepath.Join(dir, "backups")
	sel := []string{"--state", state, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}
	run := func(want int, args ...string) binResult {
		t.Helper()
		r := runBin(t, env, "", args...)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, r.code, want, r.out, r.err)
		}
		return r
	}

	p := oneLine(t, "plan", run(0, append([]string{"plan", "--format", "json"}, sel...)...))
	if p["format"] != "bucketgrant.plan/1" {
		t.Errorf("plan format %v", p["format"])
	}
	planFile := filepath.Join(dir, "plan.json")
	run(0, append([]string{"plan", "--out", planFile}, sel...)...)
	validate(t, "plan", fileBytes(t, planFile))

	c := oneLine(t, "check", run(2, append([]string{"check", "--format", "json"}, sel...)...))
	if c["format"] != formatCheck || c["allowed"] != false {
		t.Errorf("check: %v %v", c["format"], c["allowed"])
	}

	// Without a terminal and without --yes: the result says so, exit 1.
	r := run(1, append([]string{"apply", "--format", "json", "--backup-dir", backups}, sel...)...)
	if res := oneLine(t, "apply-result", r); res["status"] != statusNeedsYes {
		t.Errorf("apply without --yes: status %v", res["status"])
	}
	res := oneLine(t, "apply-result", run(0, append([]string{"apply", "--yes", "--format", "json", "--backup-dir", backups}, sel...)...))
	if res["status"] != statusApplied || res["verified"] != true || res["backup"] == "" || len(res["written"].([]any)) != 3 {
		t.Errorf("apply: %v", res)
	}
	res = oneLine(t, "apply-result", run(0, append([]string{"apply", "--yes", "--format", "json", "--backup-dir", backups}, sel...)...))
	if res["status"] != statusNoChanges {
		t.Errorf("second apply: %v", res["status"])
	}
	c = oneLine(t, "check", run(0, append([]string{"check", "--format", "json"}, sel...)...))
	if c["allowed"] != true {
		t.Errorf("check after apply: %v", c["allowed"])
	}
	res = oneLine(t, "apply-result", run(0, append([]string{"revoke", "--yes", "--format", "json", "--backup-dir", backups}, sel...)...))
	if res["status"] != statusApplied || res["operation"] != "revoke" {
		t.Errorf("revoke: %v %v", res["status"], res["operation"])
	}
	backup := res["backup"].(string)
	res = oneLine(t, "apply-result", run(0, "rollback", "--yes", "--format", "json", "--state", state, "--backup-dir", backups, backup))
	if res["status"] != statusApplied || res["operation"] != "rollback" {
		t.Errorf("rollback: %v %v", res["status"], res["operation"])
	}

	// Blocked: the result says so, exit 3.
	blocked := filepath.Join(dir, "blocked.json")
	os.WriteFile(blocked, bytes.Replace(fileBytes(t, state), []byte(`"key_state": "Enabled"`), []byte(`"key_state": "Disabled"`), 1), 0o600)
	res = oneLine(t, "apply-result", run(3, "apply", "--yes", "--format", "json", "--state", blocked, "--backup-dir", backups, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"))
	if res["status"] != statusBlocked {
		t.Errorf("blocked: %v", res["status"])
	}

	// sync: json is one line; jsonl is one line per grant and a summary.
	_, state = snapshotCopy(t, "seed-cross-account.json")
	grants := filepath.Join(dir, "grants.yaml")
	os.WriteFile(grants, []byte("version: 1\ngrants:\n  - principal: "+jane+"\n    bucket: DOC-EXAMPLE-BUCKET\n"), 0o600)
	rep := oneLine(t, "sync-report", run(2, "sync", "-f", grants, "--state", state, "--dry-run", "--detailed-exitcode", "--format", "json"))
	if rep["format"] != "bucketgrant.sync-report/1" {
		t.Errorf("sync report format %v", rep["format"])
	}
	r = run(0, "sync", "-f", grants, "--state", state, "--yes", "--backup-dir", backups, "--format", "jsonl", "--log-format", "json")
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl: %d lines, want a grant and the summary:\n%s", len(lines), r.out)
	}
	var types []string
	for _, l := range lines {
		v := validate(t, "sync-line", []byte(l))
		types = append(types, v["type"].(string))
	}
	if strings.Join(types, ",") != "grant,summary" {
		t.Errorf("jsonl line types %v", types)
	}
	// The logs on stderr are JSON lines too, and never mixed into stdout.
	for _, l := range strings.Split(strings.TrimSpace(r.err), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("stderr line is not a JSON log record: %q", l)
		}
	}
}

// The snapshot command's outputs, live against the local AWS server.
func TestSnapshotJSON(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	sel := []string{"--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket}
	r := runBin(t, w.env, "", append([]string{"snapshot"}, sel...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	validate(t, "snapshot", []byte(r.out))
	path := filepath.Join(w.dir, "snap.json")
	r = runBin(t, w.env, "", append([]string{"snapshot", "-o", path, "--format", "json"}, sel...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	if v := oneLine(t, "snapshot-result", r); v["file"] != path {
		t.Errorf("file %v", v["file"])
	}
	validate(t, "snapshot", fileBytes(t, path))
}
