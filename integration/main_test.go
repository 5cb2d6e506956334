// Package integration runs the built bucketgrant binary against the local
// AWS-compatible test server (integration/awsfake), loaded with the
// examples through the AWS SDK (integration/fixture). Everything is
// offline: the binary's environment holds nothing but the test server's
// endpoint and credentials.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/integration/fixture"
	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/testbin"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

var update = flag.Bool("update", false, "rewrite docs/errors.md from what the tests see")

var (
	// binary is the bucketgrant built once by TestMain.
	binary string
	// orc is the independent oracle for the trust property, started once.
	orc    *oracle.Oracle
	orcErr error
	// repoRoot is the module's root directory.
	repoRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "bucketgrant-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The binary is race-built under make test-race: the reader's
	// parallel calls then run instrumented too.
	if binary, err = testbin.Build(repoRoot, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	orc, orcErr = oracle.Start()
	if orc != nil {
		defer orc.Close()
	}
	return m.Run()
}

// The example scenarios. The examples name their bucket DOC-EXAMPLE-BUCKET
// (the AWS documentation's placeholder), which S3 and the test server
// refuse: bucket names are lower case. The tests use each example with the
// bucket renamed to doc-example-bucket everywhere it occurs (its name, and
// the bucket policy's resources).
const (
	exampleBucket = "DOC-EXAMPLE-BUCKET"
	bucket        = "doc-example-bucket"
	jane          = "arn:aws:iam::111122223333:user/Jane"
	sameAccount   = "seed-same-account.json"
	crossAccount  = "seed-cross-account.json"
	janeAccount   = "111122223333"
	crossResource = "123456789098"
	keyID         = "111aa2bb-333c-4d44-5555-a111bb2c33dd"
)

// exampleState reads an example with the bucket renamed (and edit, when
// given, applied to its text first).
func exampleState(t *testing.T, name string, edit func(string) string) *state.State {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), exampleBucket, bucket)
	if edit != nil {
		text = edit(text)
	}
	st, err := snapshot.Parse(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// world is one test's server, loaded with one scenario, and the binary's
// environment pointing at it.
type world struct {
	t       *testing.T
	srv     *awsfake.Server
	env     *fixture.Env
	st      *state.State // what was loaded
	dir     string
	environ []string
	// profiles are the credential flags every AWS command of the scenario
	// takes.
	profiles []string
	// creds are the credentials behind each profile.
	creds map[string]awsfake.Credentials
	// principal and resource are the accounts of the principal and of the
	// bucket and key.
	principal, resource string
	keyARN              string
}

// newWorld starts a server, loads st and writes the AWS configuration the
// binary reads:
//
//   - same account (one profile, "keyadmin"): the example key policy lets
//     only role KeyAdmin manage the key, so the operator runs as a session
//     of that role; anyone else would be refused by KMS's lockout check
//     (and by bucketgrant's own, first).
//   - cross-account: profile "principal" is the admin of Jane's account
//     (IAM), profile "resource" the admin of the bucket's account (S3,
//     KMS), whose key policy delegates to its account.
func newWorld(t *testing.T, st *state.State) *world {
	t.Helper()
	ctx := context.Background()
	srv := awsfake.Start(t)
	env, err := fixture.Load(ctx, srv, st)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, srv: srv, env: env, st: st, dir: t.TempDir(), creds: map[string]awsfake.Credentials{},
		principal: state.AccountOf(st.Principals[0].ARN), resource: st.Buckets[0].Account}
	if len(st.Keys) > 0 {
		w.keyARN = env.KeyARNs[st.Keys[0].ARN]
	}
	region := "us-east-1"
	if w.principal == w.resource {
		w.creds["keyadmin"] = srv.NewCredentials(w.resource, "arn:aws:sts::"+w.resource+":assumed-role/KeyAdmin/operator")
		w.profiles = []string{"--profile", "keyadmin"}
	} else {
		w.creds["principal"] = env.Admins[w.principal]
		w.creds["resource"] = env.Admins[w.resource]
		w.profiles = []string{"--principal-profile", "principal", "--resource-profile", "resource"}
	}
	w.writeAWSConfig(region, nil)
	home, stateHome := filepath.Join(w.dir, "home"), filepath.Join(w.dir, "state")
	for _, d := range []string{home, stateHome} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is inherited: no AWS_* variable, no real HOME with a real
	// ~/.aws, and IMDS is off so the default chain cannot leave the box.
	w.environ = []string{
		"HOME=" + home,
		"XDG_STATE_HOME=" + stateHome,
		"TMPDIR=" + w.dir,
		"NO_COLOR=1",
		"AWS_ENDPOINT_URL=" + srv.URL,
		"AWS_REGION=" + region,
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		// A race-enabled binary otherwise sleeps a second at every exit.
		"GORACE=atexit_sleep_ms=0",
	}
	t.Cleanup(func() {
		if n := srv.BypassLockoutCount(); n != 0 {
			t.Errorf("BypassPolicyLockoutSafetyCheck was set on %d PutKeyPolicy call(s)", n)
		}
	})
	return w
}

// writeAWSConfig writes the profiles; extra adds lines to every profile of
// the config file (e.g. "max_attempts = 2").
func (w *world) writeAWSConfig(region string, extra []string) {
	w.t.Helper()
	var cfg, creds strings.Builder
	names := slices.Sorted(maps.Keys(w.creds))
	for _, name := range names {
		c := w.creds[name]
		fmt.Fprintf(&cfg, "[profile %s]\nregion = %s\n", name, region)
		for _, l := range extra {
			fmt.Fprintln(&cfg, l)
		}
		fmt.Fprintf(&creds, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", name, c.AccessKeyID, c.SecretAccessKey)
		if c.SessionToken != "" {
			fmt.Fprintf(&creds, "aws_session_token = %s\n", c.SessionToken)
		}
	}
	if err := os.WriteFile(filepath.Join(w.dir, "aws-config"), []byte(cfg.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "aws-credentials"), []byte(creds.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// run runs the built binary with environ and returns its output and exit
// code. A data race reported by the race-enabled binary fails the test.
func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ
	cmd.Stdin = nil // not a terminal: write commands need --yes
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running bucketgrant: %v", err)
	}
	if strings.Contains(errb.String(), "WARNING: DATA RACE") {
		t.Errorf("bucketgrant %s: data race:\n%s", strings.Join(args, " "), errb.String())
	}
	return out.String(), errb.String(), code
}

// run runs the binary in the world's environment.
func (w *world) run(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	return run(w.t, w.environ, args...)
}

// aws runs an AWS command of the scenario: the command args[0], the
// profile flags, then the rest of args. The flags go first because the
// command line stops reading flags at the first argument (see
// TestFlagsAfterArguments).
func (w *world) aws(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	return w.run(append(append([]string{args[0]}, w.profiles...), args[1:]...)...)
}

// mustRun runs an AWS command and fails the test unless it exits with want.
func (w *world) mustRun(want int, args ...string) (stdout, stderr string) {
	w.t.Helper()
	out, errOut, code := w.aws(args...)
	if code != want {
		w.t.Fatalf("bucketgrant %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// grantArgs selects the scenario's grant.
func grantArgs() []string { return []string{"--principal", jane, "--bucket", bucket} }

// config returns an SDK configuration for an account's admin.
func (w *world) config(account string) aws.Config {
	w.t.Helper()
	cfg, err := w.env.Config(context.Background(), account, "us-east-1")
	if err != nil {
		w.t.Fatal(err)
	}
	return cfg
}

// readPrincipal reads the live state of principal's access to the bucket.
func (w *world) readPrincipal(principal string) *state.State {
	w.t.Helper()
	var rcfg *aws.Config
	if w.resource != w.principal {
		c := w.config(w.resource)
		rcfg = &c
	}
	st, err := awsstate.NewReaderFromConfig(w.config(w.principal), rcfg, true).Read(context.Background(), principal, bucket)
	if err != nil {
		w.t.Fatalf("reading the state: %v\nhint: %s\ndetail: %s", err, awsstate.Hint(err), awsstate.Detail(err))
	}
	return st
}

// read reads the live state in process with pkg/awsstate, as the admins
// (the server does not evaluate the callers' IAM policies, so the admins
// read what the operator's profiles read). Its calls are counted like the
// binary's: take counts before calling it, or reset after.
func (w *world) read() *state.State {
	w.t.Helper()
	return w.readPrincipal(jane)
}

// planJSON runs `plan --format json` for Jane and parses the plan.
func (w *world) planJSON(extra ...string) *diff.Plan {
	w.t.Helper()
	return w.planJSONFor(jane, extra...)
}

// planJSONFor runs `plan --format json` for principal and parses the plan.
func (w *world) planJSONFor(principal string, extra ...string) *diff.Plan {
	w.t.Helper()
	out, errOut, code := w.aws(append([]string{"plan", "--format", "json", "--principal", principal, "--bucket", bucket}, extra...)...)
	if code != 0 {
		w.t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	p, err := diff.ReadPlan("plan", []byte(out))
	if err != nil {
		w.t.Fatalf("%v\n%s", err, out)
	}
	return p
}

// checkTrust checks the trust property of a write: the plan made from
// before, once written, gives after; every required request is allowed,
// nothing else newly allowed, every earlier statement kept.
func checkTrust(t *testing.T, before, after *state.State, p *diff.Plan) {
	t.Helper()
	if orc == nil {
		t.Fatalf("the oracle did not start: %v (run `make oracle`)", orcErr)
	}
	if err := trust.Check(orc, before, after, p); err != nil {
		t.Errorf("trust property: %v", err)
	}
}

// writes sums the calls that write: Put*, Create*, Attach*, Delete*, Detach*.
func writes(counts map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range counts {
		name := op[strings.IndexByte(op, ':')+1:]
		for _, p := range []string{"Put", "Create", "Attach", "Delete", "Detach", "Update", "Set"} {
			if strings.HasPrefix(name, p) {
				out[op] = n
			}
		}
	}
	return out
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// noRawErrors checks that stderr is for people: no Go stack trace, no raw
// SDK error dump (operation error …, RequestID, StatusCode).
func noRawErrors(t *testing.T, stderr string) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", "runtime.", "operation error", "RequestID", "StatusCode", "https response error", "api error"} {
		if strings.Contains(stderr, s) {
			t.Errorf("stderr holds %q, a stack trace or raw SDK error:\n%s", s, stderr)
		}
	}
}

func jsonIndent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func namedDoc(name, doc string) state.NamedDoc {
	return state.NamedDoc{Name: name, Doc: state.NewDoc(doc)}
}

func itoa(n int) string { return fmt.Sprint(n) }
