package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Issue 7, part 1: the fault matrix. Every cell is a fresh server loaded
// with the cross-account example (plus a bucket policy of someone else's,
// so that every document the grant touches holds statements that must
// survive), one fault kind injected on one operation, and one command run
// through the built binary. Per cell:
//
//   - the run completes (exit 0), or fails with exit 1 and a message that
//     names the faulted operation and holds no stack trace or raw SDK dump;
//     which of the two is fixed per fault kind (a fault within the SDK's
//     retries must be ridden out, one beyond them must fail cleanly);
//   - every statement of every document before the run is still there
//     after it (statements compared parsed, not as text);
//   - with the faults cleared, `apply --yes` converges to verified access
//     and a following `plan` says "No changes." (for the write columns;
//     a read-only command must have written nothing, so its cell would
//     start that re-run where every other read-only cell does).
//
// The retry knobs are shortened (--retry-max-backoff) so the matrix stays
// fast; the attempts are the SDK's default 3.

// faultRow is a kind of fault.
type faultRow struct {
	name string
	// inject injects the fault on op and returns how many calls it
	// affects at most (-1: every call, as for latency).
	inject func(srv *awsfake.Server, op string) int
	// recovers says whether the run must complete despite the fault.
	recovers bool
	// slow marks the fault only --timeout ends.
	slow bool
	// says is what an exit-1 report says besides the operation.
	says string
}

const (
	// cellTimeout is the --timeout of the runs of the slow row, short so
	// that the matrix stays fast; every other row runs with
	// cellTimeoutOthers, which a starved CPU on a loaded machine (make
	// test runs its jobs side by side, the cells 8 at a time) cannot
	// reach by itself: a timeout there would be the machine's, not a
	// fault's.
	cellTimeout       = "1s"
	cellTimeoutOthers = "15s"
	cellBackoff       = "20ms"
)

var faultRows = []faultRow{
	{name: "throttle n=2", recovers: true, inject: func(s *awsfake.Server, op string) int { s.Throttle(op, 2); return 2 }},
	{name: "throttle n=50", says: "throttled", inject: func(s *awsfake.Server, op string) int { s.Throttle(op, 50); return 50 }},
	{name: "500 n=1", recovers: true, inject: func(s *awsfake.Server, op string) int { s.FailInternal(op, 1, 500); return 1 }},
	{name: "503 n=2", recovers: true, inject: func(s *awsfake.Server, op string) int { s.FailInternal(op, 2, 503); return 2 }},
	{name: "500 n=50", says: "server error (http 500", inject: func(s *awsfake.Server, op string) int { s.FailInternal(op, 50, 500); return 50 }},
	{name: "dropped connection n=1", recovers: true, inject: func(s *awsfake.Server, op string) int { s.DropConnections(op, 1); return 1 }},
	{name: "slow call beyond --timeout", slow: true, says: "did not answer in time", inject: func(s *awsfake.Server, op string) int {
		s.SetLatency(op, 30*time.Second)
		return -1
	}},
	{name: "latency 200ms", recovers: true, inject: func(s *awsfake.Server, op string) int { s.SetLatency(op, 200*time.Millisecond); return -1 }},
}

// faultColumn is a command and the operation faulted during it.
type faultColumn struct {
	command, op string
}

var faultColumns = []faultColumn{
	{"snapshot", "kms:GetKeyPolicy"}, {"snapshot", "s3:GetBucketPolicy"}, {"snapshot", "iam:GetUser"},
	{"plan", "kms:GetKeyPolicy"}, {"plan", "s3:GetBucketPolicy"}, {"plan", "iam:GetUser"},
	{"apply", "kms:PutKeyPolicy"}, {"apply", "s3:PutBucketPolicy"}, {"apply", "iam:PutUserPolicy"},
	{"sync", "kms:GetKeyPolicy"}, {"sync", "iam:GetUser"}, {"sync", "kms:PutKeyPolicy"}, {"sync", "s3:PutBucketPolicy"},
	// The read of a key's grants (issue 12): only access denied leaves
	// them unread; every other failure is an error. (A principal's tags
	// come with iam:GetUser, faulted above.)
	{"snapshot", "kms:ListGrants"}, {"sync", "kms:ListGrants"},
	// The organization's reads (--org-profile, credentials.org).
	{"plan", "organizations:ListPoliciesForTarget"}, {"sync", "organizations:ListParents"},
}

// syncGrants is the grants file of the sync column: Jane's grant.
func (w *world) syncGrants(credentials string) string {
	w.t.Helper()
	text := "version: 1\ncredentials:\n  accounts:\n" +
		"    \"" + w.principal + "\": {profile: principal}\n" +
		"    \"" + w.resource + "\": {profile: resource}\n" + credentials +
		"buckets:\n  " + bucket + ": {account: \"" + w.resource + "\"}\n" +
		"grants:\n  - principal: " + jane + "\n    bucket: " + bucket + "\n"
	path := filepath.Join(w.dir, "grants.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// otherBucketPolicy is someone else's bucket policy, present before every
// cell runs.
const otherBucketPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// matrixTally adds up the figures of the whole matrix.
type matrixTally struct {
	mu       sync.Mutex
	faults   int // calls answered by an injected fault (or delayed by one)
	runs     int // runs of the binary
	lost     int // statements present before a run and missing after it
	outcomes map[string]map[string]string
}

func (m *matrixTally) add(row, col, outcome string, faults, runs, lost int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults += faults
	m.runs += runs
	m.lost += lost
	if m.outcomes[row] == nil {
		m.outcomes[row] = map[string]string{}
	}
	m.outcomes[row][col] = outcome
}

// statements returns every statement of every document the grant can
// touch, each as compact JSON with sorted keys, by document.
func (w *world) statements() map[string][]string {
	w.t.Helper()
	docs := map[string]string{}
	if d, ok := w.srv.KeyPolicy(w.keyARN); ok {
		docs["key policy"] = d
	}
	if d, ok := w.srv.BucketPolicy(bucket); ok {
		docs["bucket policy"] = d
	}
	names := []string{inlineName}
	for _, nd := range w.st.Principals[0].InlinePolicies {
		names = append(names, nd.Name)
	}
	for _, n := range names {
		if d, ok := w.srv.InlinePolicy(w.principal, "user", "Jane", n); ok {
			docs["inline policy "+n] = d
		}
	}
	out := map[string][]string{}
	for name, text := range docs {
		out[name] = statementsOf(w.t, name, text)
	}
	return out
}

// statementsOf parses a policy document with encoding/json (independently
// of pkg/policy) and returns its statements in a normal form.
func statementsOf(t *testing.T, name, text string) []string {
	t.Helper()
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("%s does not parse: %v\n%s", name, err, text)
	}
	var list []any
	if err := json.Unmarshal(doc.Statement, &list); err != nil {
		var one any
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			t.Fatalf("%s: Statement: %v", name, err)
		}
		list = []any{one}
	}
	var out []string
	for _, s := range list {
		b, _ := json.Marshal(s) // maps marshal with sorted keys
		out = append(out, string(b))
	}
	return out
}

// lostStatements counts the statements of before missing from after.
func lostStatements(t *testing.T, before, after map[string][]string) int {
	t.Helper()
	lost := 0
	for doc, stmts := range before {
		for _, s := range stmts {
			if !slices.Contains(after[doc], s) {
				t.Errorf("the %s lost a statement: %s", doc, s)
				lost++
			}
		}
	}
	return lost
}

func faultWorld(t *testing.T) *world {
	st := exampleState(t, crossAccount, nil)
	st.Buckets[0].Policy = state.NewDoc(otherBucketPolicy)
	return newWorld(t, st)
}

func TestFaultMatrix(t *testing.T) {
	tally := &matrixTally{outcomes: map[string]map[string]string{}}
	t.Run("cells", func(t *testing.T) {
		for _, row := range faultRows {
			for _, col := range faultColumns {
				t.Run(row.name+"/"+col.command+"/"+col.op, func(t *testing.T) {
					t.Parallel()
					runFaultCell(t, row, col, tally)
				})
			}
		}
	})
	if t.Failed() {
		return
	}
	table := matrixTable(tally)
	cells := 0
	for _, r := range tally.outcomes {
		for _, o := range r {
			if !strings.HasPrefix(o, "n/a") {
				cells++
			}
		}
	}
	t.Logf("fault matrix: %d cells, %d faults injected, %d runs, %d statements lost\n%s",
		cells, tally.faults, tally.runs, tally.lost, table)
	if tally.lost != 0 {
		t.Errorf("%d statements lost", tally.lost)
	}
}

func runFaultCell(t *testing.T, row faultRow, col faultColumn, tally *matrixTally) {
	w := faultWorld(t)
	timeout := cellTimeoutOthers
	if row.slow {
		timeout = cellTimeout
	}
	knobs := []string{"--timeout", timeout, "--retry-max-backoff", cellBackoff}
	runs := 0
	var args []string
	snap := filepath.Join(w.dir, "snapshot.json")
	switch col.command {
	case "snapshot":
		args = append([]string{"snapshot", "-o", snap}, grantArgs()...)
	case "plan":
		args = append([]string{"plan"}, grantArgs()...)
	case "apply":
		args = append([]string{"apply", "--yes"}, grantArgs()...)
	case "sync":
		// sync takes its credentials from the grants file.
		args = []string{"sync", "-f", w.syncGrants(""), "--yes"}
	}
	if strings.HasPrefix(col.op, "organizations:") {
		addOrg(w)
		if col.command == "sync" {
			args = []string{"sync", "-f", w.syncGrants("  org: {profile: org}\n"), "--yes"}
		} else {
			args = append(args, "--org-profile", "org")
		}
	}
	args = append(args, knobs...)

	before := w.statements()
	counts0 := writes(w.srv.CallCounts())
	calls0 := w.srv.Calls(col.op)
	limit := row.inject(w.srv, col.op)
	start := time.Now()
	var out, stderr string
	var code int
	if col.command == "sync" {
		out, stderr, code = w.run(args...)
	} else {
		out, stderr, code = w.aws(args...)
	}
	runs++
	elapsed := time.Since(start)
	w.srv.ClearFaults()
	calls := w.srv.Calls(col.op) - calls0
	injected := calls
	if limit >= 0 {
		injected = min(calls, limit)
	}
	if calls == 0 {
		t.Fatalf("the run never called %s:\n%s%s", col.op, out, stderr)
	}

	outcome := "completes"
	switch {
	case code == 0 && row.recovers:
	case code == 1 && !row.recovers:
		outcome = "exit 1"
		// sync reports each grant's outcome on standard output.
		report := stderr
		if col.command == "sync" {
			report = out + stderr
		}
		t.Logf("the report:\n%s", report)
		noRawErrors(t, report)
		for _, s := range []string{col.op, row.says} {
			if !strings.Contains(report, s) {
				t.Errorf("the report does not say %q:\n%s", s, report)
			}
		}
	default:
		want := "exit 0"
		if !row.recovers {
			want = "exit 1"
		}
		t.Fatalf("exit %d, want %s (%s on %d calls of %s)\nstdout:\n%s\nstderr:\n%s", code, want, row.name, calls, col.op, out, stderr)
	}
	if col.command == "snapshot" {
		_, err := os.Stat(snap)
		switch {
		case code == 0 && err != nil:
			t.Errorf("snapshot exit 0 without a file: %v", err)
		case code == 0:
			if _, err := snapshot.Load(snap); err != nil {
				t.Errorf("the snapshot does not load: %v", err)
			}
		case err == nil:
			t.Errorf("a failed snapshot left a file")
		}
	}
	if col.command == "apply" && code == 0 && !strings.Contains(out, jane+" can now ") {
		t.Errorf("apply completed without verifying the access:\n%s", out)
	}
	if col.command == "sync" && code == 0 && strings.Contains(out+stderr, "failed") {
		t.Errorf("apply completed without verifying the access:\n%s", out)
	}
	lost := lostStatements(t, before, w.statements())
	if col.command == "snapshot" || col.command == "plan" {
		// A read-only command: the documents are as before (checked just
		// above), so the re-run below would start where every other
		// read-only cell's does; the write columns converge from the
		// states their faults leave.
		for op, n := range writes(w.srv.CallCounts()) {
			if n != counts0[op] {
				t.Errorf("%s called %s %d time(s)", col.command, op, n-counts0[op])
			}
		}
		t.Logf("%s: %s after %v; %d of %d calls of %s faulted", row.name, outcome, elapsed.Round(time.Millisecond), injected, calls, col.op)
		tally.add(row.name, col.command+" "+col.op, outcome, injected, runs, lost)
		return
	}

	// A re-run without faults converges, and the next plan is empty.
	mid := w.statements()
	out, stderr = w.mustRun(0, append(append([]string{"apply", "--yes"}, grantArgs()...), knobs...)...)
	runs++
	if !strings.Contains(out, jane+" can now ") && !strings.Contains(out, "No changes.") {
		t.Errorf("the re-run did not converge:\n%s%s", out, stderr)
	}
	lost += lostStatements(t, mid, w.statements())
	out, _ = w.mustRun(0, append(append([]string{"plan"}, grantArgs()...), knobs...)...)
	runs++
	if !strings.Contains(out, "No changes.") {
		t.Errorf("the plan after the re-run is not empty:\n%s", out)
	}
	t.Logf("%s: %s after %v; %d of %d calls of %s faulted", row.name, outcome, elapsed.Round(time.Millisecond), injected, calls, col.op)
	tally.add(row.name, col.command+" "+col.op, outcome, injected, runs, lost)
}

// matrixTable renders the outcomes as the Markdown table of the README:
// a row per command and faulted operation, a column per fault.
func matrixTable(m *matrixTally) string {
	var b strings.Builder
	b.WriteString("| command | operation faulted |")
	for _, r := range faultRows {
		fmt.Fprintf(&b, " %s |", r.name)
	}
	b.WriteString("\n| --- | --- |")
	for range faultRows {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, c := range faultColumns {
		fmt.Fprintf(&b, "| %s | `%s` |", c.command, c.op)
		for _, r := range faultRows {
			fmt.Fprintf(&b, " %s |", m.outcomes[r.name][c.command+" "+c.op])
		}
		b.WriteString("\n")
	}
	return b.String()
}
