package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/integration/fixture"
	"github.com/bucketgrant/bucketgrant/internal/testbin"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

// The tests in *_binary_test.go run the built bucketgrant as a user does:
// through a pseudo-terminal for the prompt and signals, through bash for
// completion, and against the local AWS server for the live mode.

// testVersion is stamped into the binary the way make build and the
// release builds stamp theirs.
const testVersion = testbin.Version

var binary string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bucketgrant-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = testbin.Build("../..", dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// baseEnv is the environment of every run: nothing inherited that could
// reach a real account, no colour unless a test asks.
func baseEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "PATH=" + os.Getenv("PATH"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "GORACE=atexit_sleep_ms=0", "TERM=xterm",
	}
	return append(env, extra...)
}

type binResult struct {
	out, err string
	code     int
}

// runBin runs the binary without a terminal.
func runBin(t *testing.T, env []string, stdin string, args ...string) binResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running bucketgrant: %v", err)
	}
	if strings.Contains(errb.String(), "WARNING: DATA RACE") {
		t.Errorf("data race:\n%s", errb.String())
	}
	noStackTrace(t, out.String()+errb.String())
	return binResult{out.String(), errb.String(), code}
}

func noStackTrace(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(s, bad) {
			t.Fatalf("output holds %q:\n%s", bad, s)
		}
	}
}

// ptyRun is the binary running on a pseudo-terminal: stdin, stdout and
// stderr are the terminal, and it is the terminal's foreground process
// group, so Ctrl-C typed on the terminal reaches it as SIGINT.
type ptyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	// drained is closed when the terminal has nothing more to read: after
	// the exit, once the reader has read every byte the binary wrote.
	drained chan struct{}
	code    int
}

func startPTY(t *testing.T, env []string, args ...string) *ptyRun {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	r := &ptyRun{t: t, cmd: cmd, tty: f, done: make(chan struct{}), drained: make(chan struct{})}
	go func() {
		defer close(r.drained)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			r.mu.Lock()
			r.buf.Write(b[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
		f.Close()
	})
	return r
}

// output is what the terminal showed so far, with the terminal's CR LF
// turned into LF.
func (r *ptyRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.ReplaceAll(r.buf.String(), "\r\n", "\n")
}

// waitFor waits until the terminal shows s.
func (r *ptyRun) waitFor(s string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(r.output(), s) {
		if time.Now().After(deadline) {
			r.t.Fatalf("the terminal never showed %q:\n%s", s, r.output())
		}
		select {
		case <-r.done:
			select { // the last bytes
			case <-r.drained:
			case <-time.After(10 * time.Second):
			}
			if !strings.Contains(r.output(), s) {
				r.t.Fatalf("exited (%d) without showing %q:\n%s", r.code, s, r.output())
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (r *ptyRun) send(s string) {
	r.t.Helper()
	if _, err := r.tty.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// wait waits for the exit and returns its code.
func (r *ptyRun) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("still running:\n%s", r.output())
	}
	// Once the binary has exited and the terminal's other end is closed,
	// a read returns an error after the last byte (EIO on Linux): wait for
	// that, not a fixed time, which a loaded machine can outlast.
	select {
	case <-r.drained:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("the terminal still has output 10 s after the exit:\n%s", r.output())
	}
	return r.code
}

// snapshotCopy copies an example snapshot into a fresh directory.
func snapshotCopy(t *testing.T, name string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "state.json")
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// liveWorld is the local AWS server loaded with the same-account example
// (bucket renamed doc-example-bucket: S3 names are lower case), and an
// environment whose profile "keyadmin" is a session of the role KeyAdmin
// that the example's key policy lets manage the key.
type liveWorld struct {
	srv   *awsfake.Server
	env   []string
	creds awsfake.Credentials
	dir   string
}

const liveBucket = "doc-example-bucket"

func newLiveWorld(t *testing.T, extraEnv ...string) *liveWorld {
	t.Helper()
	data := fileBytes(t, filepath.Join("..", "..", "examples", "seed-same-account.json"))
	st, err := snapshot.Parse("seed", bytes.ReplaceAll(data, []byte("DOC-EXAMPLE-BUCKET"), []byte(liveBucket)))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsfake.Start(t)
	if _, err := fixture.Load(context.Background(), srv, st); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls() // count only the binary's calls
	w := &liveWorld{srv: srv, dir: t.TempDir()}
	w.creds = srv.NewCredentials("111122223333", "arn:aws:sts::111122223333:assumed-role/KeyAdmin/operator")
	w.writeProfile(w.creds)
	w.env = baseEnv(t, append([]string{
		"AWS_ENDPOINT_URL=" + srv.URL, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "credentials"),
	}, extraEnv...)...)
	return w
}

func (w *liveWorld) writeProfile(c awsfake.Credentials) {
	cfg := "[profile keyadmin]\nregion = us-east-1\n"
	creds := fmt.Sprintf("[keyadmin]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.AccessKeyID, c.SecretAccessKey)
	if c.SessionToken != "" {
		creds += "aws_session_token = " + c.SessionToken + "\n"
	}
	os.WriteFile(filepath.Join(w.dir, "config"), []byte(cfg), 0o600)
	os.WriteFile(filepath.Join(w.dir, "credentials"), []byte(creds), 0o600)
}
