package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// world is one scenario: its accounts, principals, keys and buckets seeded
// into moto, the AWS configuration the binary reads, and the recorder the
// binary's calls go through.
type world struct {
	t   *testing.T
	ctx context.Context
	rec *recorder
	s   *seeded
	// principals are the ARNs whose documents the read-back reads;
	// buckets the bucket names (in order) and their accounts.
	principals []string
	buckets    []string
	bucketAcct map[string]string
	dir        string
	environ    []string
	// flags are the credential flags every AWS command of the scenario
	// takes.
	flags []string
}

// profile is one entry of the AWS configuration the binary reads.
type profile struct {
	name string
	// creds are a static key, or
	creds *creds
	// roleARN is assumed with sourceProfile's key (through moto's STS).
	roleARN, sourceProfile string
}

// newWorld seeds st (renamed as the scenario wants) and writes the AWS
// configuration with the given profiles; flags are the credential flags of
// every AWS command.
func newWorld(t *testing.T, st *state.State, readPrincipals []string) *world {
	t.Helper()
	requireMoto(t)
	ctx := context.Background()
	s, err := seed(ctx, st)
	if err != nil {
		t.Fatalf("seeding moto: %v", err)
	}
	w := &world{t: t, ctx: ctx, rec: newRecorder(t), s: s, principals: readPrincipals, bucketAcct: map[string]string{}, dir: t.TempDir()}
	for _, b := range st.Buckets {
		w.buckets = append(w.buckets, b.Name)
		w.bucketAcct[b.Name] = b.Account
	}
	home, stateHome := filepath.Join(w.dir, "home"), filepath.Join(w.dir, "state")
	for _, d := range []string{home, stateHome} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is inherited: no AWS_* variable, no real ~/.aws, and IMDS is
	// off so the default chain cannot leave the machine.
	w.environ = []string{
		"HOME=" + home,
		"XDG_STATE_HOME=" + stateHome,
		"TMPDIR=" + w.dir,
		"NO_COLOR=1",
		"AWS_ENDPOINT_URL=" + w.rec.URL(),
		"AWS_REGION=" + defaultRegion,
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		// A race-enabled binary otherwise sleeps a second at every exit.
		"GORACE=atexit_sleep_ms=0",
	}
	t.Cleanup(func() {
		if n := w.rec.bypassed(); n != 0 {
			t.Errorf("BypassPolicyLockoutSafetyCheck was set on %d KMS call(s) of the binary", n)
		}
	})
	return w
}

// writeProfiles writes the AWS config and credentials files.
func (w *world) writeProfiles(ps ...profile) {
	w.t.Helper()
	var cfg, cred strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&cfg, "[profile %s]\nregion = %s\n", p.name, defaultRegion)
		if p.roleARN != "" {
			fmt.Fprintf(&cfg, "role_arn = %s\nsource_profile = %s\nrole_session_name = operator\n", p.roleARN, p.sourceProfile)
		}
		if p.creds != nil {
			fmt.Fprintf(&cred, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", p.name, p.creds.AccessKeyID, p.creds.SecretAccessKey)
			if p.creds.SessionToken != "" {
				fmt.Fprintf(&cred, "aws_session_token = %s\n", p.creds.SessionToken)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(w.dir, "aws-config"), []byte(cfg.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "aws-credentials"), []byte(cred.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) admin(account string) *creds {
	c := w.s.admins[account]
	return &c
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
	calls          map[string]int
}

// run runs the binary with args in the world's environment, and takes the
// calls it made from the recorder.
func (w *world) run(args ...string) result {
	w.t.Helper()
	w.rec.take()
	cmd := exec.Command(binary, args...)
	cmd.Env = w.environ
	cmd.Stdin = nil // not a terminal: write commands need --yes
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var ee *exec.ExitError
	r := result{stdout: out.String(), stderr: errb.String()}
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		w.t.Fatalf("running bucketgrant: %v", err)
	}
	r.calls = w.rec.take()
	if cmd.ProcessState != nil {
		countRun(elapsed, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	if strings.Contains(r.stderr, "WARNING: DATA RACE") {
		w.t.Errorf("bucketgrant %s: data race:\n%s", strings.Join(args, " "), r.stderr)
	}
	sdkNoise(w.t, args, r.stderr)
	logCalls(w.t, args, r, elapsed)
	return r
}

// aws runs an AWS command: args[0], the scenario's credential flags, then
// the rest (the command line stops reading flags at the first argument).
func (w *world) aws(args ...string) result {
	w.t.Helper()
	return w.run(append(append([]string{args[0]}, w.flags...), args[1:]...)...)
}

// must runs an AWS command and fails the test unless it exits with want.
func (w *world) must(want int, args ...string) result {
	w.t.Helper()
	r := w.aws(args...)
	if r.code != want {
		w.t.Fatalf("bucketgrant %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// sdkNoise fails a run whose stderr holds what the SDK logs on its own
// (its "SDK <time> WARN ..." lines, e.g. about response checksums moto
// does not send) or a raw SDK error: stderr is for people.
func sdkNoise(t *testing.T, args []string, stderr string) {
	t.Helper()
	for _, s := range []string{"SDK 20", " WARN ", "goroutine ", "panic:", "operation error", "RequestID", "StatusCode", "https response error", "api error"} {
		if strings.Contains(stderr, s) {
			t.Errorf("bucketgrant %s: stderr holds %q (SDK output or a raw error):\n%s", strings.Join(args, " "), s, stderr)
		}
	}
}

// readBack reads every document of the world through the SDK.
func (w *world) readBack() *state.State {
	w.t.Helper()
	st, err := w.s.readBack(w.ctx, w.principals, w.bucketAcct, w.buckets)
	if err != nil {
		w.t.Fatalf("reading back through the SDK: %v", err)
	}
	return st
}

// planJSON runs `plan --format json --detailed-exitcode` with args, wants
// exit code want, and parses the plan.
func (w *world) planJSON(want int, args ...string) *diff.Plan {
	w.t.Helper()
	r := w.must(want, append([]string{"plan", "--format", "json", "--detailed-exitcode"}, args...)...)
	noWrites(w.t, r, "plan")
	p, err := diff.ReadPlan("plan", []byte(r.stdout))
	if err != nil {
		w.t.Fatalf("%v\n%s", err, r.stdout)
	}
	return p
}

// judge checks a write with the independent oracle: the plan made from
// before, once written, gives after; every request the grant needs is
// allowed, nothing else is newly allowed to anyone, every earlier statement
// is kept.
func judge(t *testing.T, before, after *state.State, p *diff.Plan) {
	t.Helper()
	if orc == nil {
		t.Fatalf("the oracle did not start: %v (run `make oracle`)", orcErr)
	}
	if err := trust.Check(orc, before, after, p); err != nil {
		t.Errorf("trust property of the written state: %v", err)
	}
}

// loadSnapshot reads a snapshot file the binary wrote.
func loadSnapshot(t *testing.T, path string) *state.State {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// What the runs of the binary cost and which API calls they made, as the
// recorders counted them, for the summary TestMain prints with -v.
var (
	statsMu  sync.Mutex
	callsLog []string
	runs     int
	runWall  time.Duration
	runCPU   time.Duration
)

func countRun(wall, cpu time.Duration) {
	statsMu.Lock()
	defer statsMu.Unlock()
	runs++
	runWall += wall
	runCPU += cpu
}

func logCalls(t *testing.T, args []string, r result, elapsed time.Duration) {
	cmd := []string{args[0]}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--yes" || a == "--dry-run" || a == "--detailed-exitcode" || a == "--prune":
			cmd = append(cmd, a)
		case a == "--format" && i+1 < len(args):
			cmd = append(cmd, a, args[i+1])
		}
	}
	line := fmt.Sprintf("%-50s %-40s exit %d, %4d ms, %s", t.Name(), strings.Join(cmd, " "), r.code, elapsed.Milliseconds(), formatCounts(r.calls))
	t.Log(line)
	statsMu.Lock()
	callsLog = append(callsLog, line)
	statsMu.Unlock()
}

// summary prints where the time went and the API calls of every command.
func summary(out io.Writer, total, moto, build, oracle time.Duration, srv *motoServer) {
	statsMu.Lock()
	defer statsMu.Unlock()
	fmt.Fprintf(out, "moto summary: %.1f s in all; ready after: moto %.1f s, build %.1f s, oracle %.1f s\n",
		total.Seconds(), moto.Seconds(), build.Seconds(), oracle.Seconds())
	fmt.Fprintf(out, "moto summary: %d runs of bucketgrant, %.1f s wall in all, %.1f s CPU\n", runs, runWall.Seconds(), runCPU.Seconds())
	if ps := srv.cmd.ProcessState; ps != nil {
		fmt.Fprintf(out, "moto summary: the moto server used %.1f s CPU\n", (ps.UserTime() + ps.SystemTime()).Seconds())
	}
	// By test, each test's commands in the order they ran.
	slices.SortStableFunc(callsLog, func(a, b string) int { return strings.Compare(strings.Fields(a)[0], strings.Fields(b)[0]) })
	for _, l := range callsLog {
		fmt.Fprintln(out, "moto calls: "+l)
	}
}

func jsonIndent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
