package moto

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/testbin"
)

// requireEnv names the variable that turns "moto is not installed" from a
// skip into a failure. CI sets it (.ci/run) so that the suite can never be
// lost silently; a user's machine without moto skips.
const requireEnv = "BUCKETGRANT_REQUIRE_MOTO"

// enableHint is the one line a skipped run prints.
const enableHint = "python3 cannot import moto.server; install moto 5 with its server extras (pip install 'moto[server]') to run the TestMoto tests, or set " + requireEnv + "=1 to make this a failure"

var (
	// binary is the bucketgrant built once by TestMain.
	binary string
	// moto is the one moto server of the run ("" when skipped).
	motoURL string
	// skipReason is set when moto is not installed and not required.
	skipReason string
	// orc is the independent oracle for the trust property.
	orc    *oracle.Oracle
	orcErr error
	// repoRoot is the module's root directory.
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(filepath.Dir(wd))
	dir, err := os.MkdirTemp("", "bucketgrant-moto-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	// moto, the build and the oracle start side by side: each waits on
	// something else most of its time.
	start := time.Now()
	var (
		wg                         sync.WaitGroup
		srv                        *motoServer
		motoErr, buildErr          error
		motoTook, buildTook, oTook time.Duration
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		srv, motoErr = startMoto()
		motoTook = time.Since(start)
	}()
	go func() {
		defer wg.Done()
		buildErr = build(dir)
		buildTook = time.Since(start)
	}()
	go func() {
		defer wg.Done()
		orc, orcErr = oracle.Start()
		oTook = time.Since(start)
	}()
	wg.Wait()
	if orc != nil {
		defer orc.Close()
	}
	if srv != nil {
		defer srv.stop()
	}
	switch {
	case errors.Is(motoErr, errNoMoto) && os.Getenv(requireEnv) != "":
		fmt.Fprintf(os.Stderr, "moto: %s is set, but the TestMoto tests cannot run: %v; install moto 5 with its server extras (pip install 'moto[server]')\n", requireEnv, motoErr)
		return 1
	case errors.Is(motoErr, errNoMoto):
		skipReason = enableHint
		fmt.Println("moto: skipping the TestMoto tests: " + enableHint)
		return m.Run()
	case motoErr != nil:
		fmt.Fprintf(os.Stderr, "moto: %v\n", motoErr)
		return 1
	case buildErr != nil:
		fmt.Fprintln(os.Stderr, buildErr)
		return 1
	}
	motoURL = srv.url

	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "the last lines moto wrote:\n%s", srv.tail())
	}
	if testing.Verbose() {
		srv.stop()
		summary(os.Stdout, time.Since(start), motoTook, buildTook, oTook, srv)
	}
	return code
}

// build sets binary to the bucketgrant of the run (see internal/testbin):
// race-built under make test-race, like integration/main_test.go, so the
// reader's parallel calls run instrumented too.
func build(dir string) (err error) {
	binary, err = testbin.Build(repoRoot, dir)
	return err
}

// requireMoto skips t when moto is not installed (and not required).
func requireMoto(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// motoServer is the running moto process.
type motoServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	done  chan struct{} // closed when the process has exited

	stopOnce sync.Once

	mu    sync.Mutex
	lines []string // the last lines of its output, for a failed run
}

// launcher starts moto's own server (what `python3 -m moto.server -H
// 127.0.0.1 -p 0` runs) and also exits as soon as its standard input
// closes. The test binary holds the other end of that pipe, so moto never
// outlives the run, even when the test binary is killed (a -timeout, a
// panic, ^C) and has no chance to stop it. Port 0 lets the kernel choose a
// free port, which moto prints; nothing races for it.
const launcher = `
import os, sys, threading
try:
    from moto.server import main
except ImportError as e:
    print("cannot import moto.server:", e)
    sys.exit(3)
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
main(["-H", "127.0.0.1", "-p", "0"])
`

// errNoMoto is startMoto's error when python3 or moto is not installed.
var errNoMoto = errors.New("moto is not installed")

var runningRe = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

func startMoto() (*motoServer, error) {
	cmd := exec.Command("python3", "-c", launcher)
	// Unbuffered, so the line with the port arrives at once.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", errNoMoto, err)
		}
		return nil, fmt.Errorf("starting python3: %w", err)
	}
	s := &motoServer{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		// Drained to the end: a full pipe would stall moto's request log
		// and with it every request. Wait comes after the last read, as
		// os/exec requires of a pipe.
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := runningRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			s.mu.Lock()
			s.lines = append(s.lines, line)
			if len(s.lines) > 40 {
				s.lines = s.lines[len(s.lines)-40:]
			}
			s.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-found:
	case <-s.done:
		if s.cmd.ProcessState.ExitCode() == 3 {
			return nil, fmt.Errorf("%w: %s", errNoMoto, strings.TrimSpace(s.tail()))
		}
		return nil, fmt.Errorf("the server exited before it listened:\n%s", s.tail())
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("the server did not listen within 30 s:\n%s", s.tail())
	}
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady asks moto's own API until it answers: werkzeug prints its
// address just before it serves.
func (s *motoServer) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/moto-api/", nil)
		resp, err := httpClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(errors.New("the server did not answer within 20 s"), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends moto: closing its standard input makes it exit; it is killed
// if it has not within 5 s. The process is waited for, so none is left.
func (s *motoServer) stop() {
	s.stopOnce.Do(func() {
		s.stdin.Close()
		select {
		case <-s.done:
			return
		case <-time.After(5 * time.Second):
		}
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

func (s *motoServer) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n") + "\n"
}
