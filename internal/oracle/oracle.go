package oracle

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// PinnedVersion is the iam-simulate version oracle/package-lock.json pins.
const PinnedVersion = "0.1.173"

// InstallHint tells people how to install the oracle.
const InstallHint = "run `make oracle` (or `npm ci --prefix oracle`) at the repository root"

// NamedPolicy is one identity policy of a case.
type NamedPolicy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

// Case is one request under a set of policies, in the form both the oracle and
// the Go engine take. Policies are embedded JSON documents, so a case printed
// as JSON is a readable, pasteable reproduction.
type Case struct {
	ID string `json:"id,omitempty"`
	// ResourceType is "s3" or "kms": which service owns Resource. The oracle
	// picks its service rules from the action's prefix; the Go engine needs it
	// spelled out (policy.Policies.ResourceType).
	ResourceType string          `json:"resourceType"`
	Identity     []NamedPolicy   `json:"identity,omitempty"`
	Boundary     json.RawMessage `json:"boundary,omitempty"`
	Resource     json.RawMessage `json:"resource,omitempty"`
	// Principal is the caller: a user ARN or an assumed-role session ARN.
	Principal string `json:"principal"`
	// PrincipalAccount and PrincipalID feed policy.Caller; the oracle takes
	// the account from the ARN and has no use for the unique ID.
	PrincipalAccount string              `json:"principalAccount,omitempty"`
	PrincipalID      string              `json:"principalId,omitempty"`
	Action           string              `json:"action"`
	ResourceARN      string              `json:"resourceArn"`
	ResourceAccount  string              `json:"resourceAccount"`
	Context          map[string][]string `json:"context,omitempty"`
	// SCP and RCP are the organization levels whose service and resource
	// control policies apply, from the root down (nil: none apply).
	SCP []OrgLevel `json:"scp,omitempty"`
	RCP []OrgLevel `json:"rcp,omitempty"`
	// Validate asks the oracle to also run its own policy validators and
	// report what they reject (slower; for checking a generator).
	Validate bool `json:"validate,omitempty"`
}

// OrgLevel is one level of an organization (root, OU, account) with the
// SCPs or RCPs attached there.
type OrgLevel struct {
	Target   string        `json:"target"`
	Policies []NamedPolicy `json:"policies"`
}

// Decisions the oracle returns; they equal policy.Decision's values.
const (
	Allowed          = "Allowed"
	ImplicitlyDenied = "ImplicitlyDenied"
	ExplicitlyDenied = "ExplicitlyDenied"
)

// Result is the oracle's answer for one case.
type Result struct {
	ID       string `json:"id,omitempty"`
	Decision string `json:"decision,omitempty"`
	// Explain is the oracle's cheap explanation: which statements of each
	// policy matched, and whether it saw the request as same-account.
	Explain json.RawMessage `json:"explain,omitempty"`
	// ValidationErrors is set when Validate was asked and a validator
	// objected, keyed by policy name.
	ValidationErrors json.RawMessage `json:"validationErrors,omitempty"`
	// Error is set when the oracle failed on the case.
	Error string `json:"error,omitempty"`
}

// Oracle is a running oracle process. Its methods are safe to call from
// several goroutines; calls are served one after another.
type Oracle struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *limitedWriter
	closed bool
	// broken is set when a batch failed half-way: answers may be out of
	// step with cases from then on, so every later call fails.
	broken error
}

// RepoRoot walks up from dir to the directory holding oracle/simulate.mjs
// and go.mod.
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root from %s: %w", dir, err)
	}
	for {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "oracle", "simulate.mjs")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repository root: no directory above %s holds go.mod and oracle/simulate.mjs", dir)
		}
		d = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Start finds the repository root from the working directory (a test's
// package directory) and starts the oracle there.
func Start() (*Oracle, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("start oracle: %w", err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return nil, fmt.Errorf("start oracle: %w", err)
	}
	return StartIn(root)
}

// StartIn starts the oracle of the repository at root and checks that it
// answers and runs the pinned iam-simulate version.
func StartIn(root string) (*Oracle, error) {
	pkg := filepath.Join(root, "oracle", "node_modules", "@cloud-copilot", "iam-simulate", "package.json")
	if !fileExists(pkg) {
		return nil, fmt.Errorf("start oracle: %s is missing: the oracle is not installed; %s",
			filepath.Join(root, "oracle", "node_modules"), InstallHint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("start oracle: node (Node.js 20 or later) is not on PATH: %w", err)
	}
	cmd := exec.Command(node, filepath.Join(root, "oracle", "simulate.mjs"))
	cmd.Dir = filepath.Join(root, "oracle")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start oracle: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start oracle: %w", err)
	}
	stderr := &limitedWriter{max: 64 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start oracle: %w", err)
	}
	o := &Oracle{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 1<<20), stderr: stderr}
	version, err := o.ping()
	if err != nil {
		o.Close()
		return nil, err
	}
	if version != PinnedVersion {
		o.Close()
		return nil, fmt.Errorf("start oracle: oracle/node_modules holds iam-simulate %s, want %s; %s", version, PinnedVersion, InstallHint)
	}
	return o, nil
}

func (o *Oracle) ping() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := io.WriteString(o.stdin, `{"op":"ping","id":"ping"}`+"\n"); err != nil {
		return "", o.failure("ping oracle", err)
	}
	line, err := o.out.ReadBytes('\n')
	if err != nil {
		return "", o.failure("ping oracle", err)
	}
	var pong struct {
		Pong    bool   `json:"pong"`
		Version string `json:"version"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(line, &pong); err != nil || !pong.Pong {
		return "", fmt.Errorf("ping oracle: unexpected answer %q (%v)", strings.TrimSpace(string(line)), err)
	}
	return pong.Version, nil
}

// failure wraps an I/O error with whatever the process wrote to stderr.
func (o *Oracle) failure(op string, err error) error {
	msg := strings.TrimSpace(o.stderr.String())
	if msg != "" {
		return fmt.Errorf("%s: %w; oracle stderr:\n%s", op, err, msg)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Simulate decides one case.
func (o *Oracle) Simulate(c Case) (Result, error) {
	rs, err := o.SimulateBatch([]Case{c})
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// SimulateBatch decides cases in order, streaming them through the one
// process: a writer goroutine feeds stdin while this one reads answers, so
// neither pipe fills up. A case the oracle fails on comes back with Error
// set; the error return is for a broken process or protocol.
func (o *Oracle) SimulateBatch(cases []Case) ([]Result, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, errors.New("simulate: oracle is closed")
	}
	if o.broken != nil {
		return nil, fmt.Errorf("simulate: oracle is unusable after an earlier failure: %w", o.broken)
	}
	lines := make([][]byte, len(cases))
	for i, c := range cases {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("simulate case %d: encode: %w", i, err)
		}
		lines[i] = append(b, '\n')
	}
	rs, err := o.batch(lines)
	if err != nil {
		o.broken = err
	}
	return rs, err
}

// batch writes the encoded cases and reads as many answers.
func (o *Oracle) batch(lines [][]byte) ([]Result, error) {
	writeErr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(o.stdin, 1<<20)
		for _, l := range lines {
			if _, err := w.Write(l); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- w.Flush()
	}()
	results := make([]Result, len(lines))
	for i := range lines {
		line, err := o.out.ReadBytes('\n')
		if err != nil {
			return nil, o.failure(fmt.Sprintf("simulate case %d of %d", i, len(lines)), err)
		}
		if err := json.Unmarshal(line, &results[i]); err != nil {
			return nil, fmt.Errorf("simulate case %d: decode answer %q: %w", i, strings.TrimSpace(string(line)), err)
		}
	}
	if err := <-writeErr; err != nil {
		return nil, o.failure("simulate: write cases", err)
	}
	return results, nil
}

// Close ends the process: it closes stdin, so the script finishes its loop
// and exits, and waits for it.
func (o *Oracle) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	_ = o.stdin.Close()
	_, _ = io.Copy(io.Discard, o.out)
	if err := o.cmd.Wait(); err != nil {
		return o.failure("close oracle", err)
	}
	return nil
}

// limitedWriter keeps the first max bytes written to it.
type limitedWriter struct {
	mu  sync.Mutex
	b   strings.Builder
	max int
}

func (w *limitedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.b.Len(); room > 0 {
		if len(p) > room {
			w.b.Write(p[:room])
		} else {
			w.b.Write(p)
		}
	}
	return len(p), nil
}
