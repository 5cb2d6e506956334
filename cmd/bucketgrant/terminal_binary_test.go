package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// applyOnSnapshot is an apply that has changes to make: it shows the plan
// and asks.
func applyOnSnapshot(t *testing.T) (env []string, state, backups string, args []string) {
	dir, state := snapshotCopy(t, "seed-same-account.json")
	backups = filepath.Join(dir, "backups")
	return baseEnv(t), state, backups, []string{"apply", "--state", state, "--backup-dir", backups,
		"--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}
}

func noBackup(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("a backup directory was made: %s", dir)
	}
}

const prompt = "Enter a value: "

// Ctrl-C at the prompt: the run stops at once, writes nothing, exits 130;
// typing yes afterwards changes nothing.
func TestPromptCtrlC(t *testing.T) {
	t.Parallel()
	env, state, backups, args := applyOnSnapshot(t)
	before := fileBytes(t, state)
	r := startPTY(t, env, args...)
	r.waitFor(prompt)
	r.send("\x03") // what the terminal sends for Ctrl-C: SIGINT to the foreground group
	code := r.wait()
	r.send("yes\r")
	out := r.output()
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130:\n%s", code, out)
	}
	if !strings.Contains(out, "interrupted at the confirmation prompt; nothing was written") {
		t.Errorf("no report of the interrupt:\n%s", out)
	}
	time.Sleep(100 * time.Millisecond)
	if !bytes.Equal(fileBytes(t, state), before) {
		t.Error("the snapshot was written after Ctrl-C")
	}
	noBackup(t, backups)
}

// SIGTERM (a scheduler or a container stopping) at the prompt is an
// interrupt too.
func TestPromptSIGTERM(t *testing.T) {
	t.Parallel()
	env, state, backups, args := applyOnSnapshot(t)
	before := fileBytes(t, state)
	r := startPTY(t, env, args...)
	r.waitFor(prompt)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(); code != exitInterrupted {
		t.Fatalf("exit %d, want 130:\n%s", code, r.output())
	}
	if !bytes.Equal(fileBytes(t, state), before) {
		t.Error("the snapshot was written after SIGTERM")
	}
	noBackup(t, backups)
}

// Ctrl-D at the prompt answers no, on a fresh line: the terminal echoes no
// newline for it.
func TestPromptCtrlD(t *testing.T) {
	t.Parallel()
	env, state, backups, args := applyOnSnapshot(t)
	before := fileBytes(t, state)
	r := startPTY(t, env, args...)
	r.waitFor(prompt)
	r.send("\x04")
	code := r.wait()
	out := r.output()
	if code != exitError {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, prompt+"\nNot applied: only 'yes' approves. Nothing was written.") {
		t.Errorf("the refusal is not on a line of its own:\n%q", out[max(0, len(out)-200):])
	}
	if !bytes.Equal(fileBytes(t, state), before) {
		t.Error("the snapshot was written after Ctrl-D")
	}
	noBackup(t, backups)
}

// Anything but yes is a no; yes writes and verifies.
func TestPromptAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer string
		code   int
		says   string
	}{
		{"no\r", exitError, "Not applied"},
		{"y\r", exitError, "Not applied"},
		{"YES\r", exitError, "Not applied"},
		{"yes\r", exitOK, "can now download from and upload to DOC-EXAMPLE-BUCKET"},
	} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			t.Parallel()
			env, state, _, args := applyOnSnapshot(t)
			before := fileBytes(t, state)
			r := startPTY(t, env, args...)
			r.waitFor(prompt)
			r.send(tc.answer)
			if code := r.wait(); code != tc.code || !strings.Contains(r.output(), tc.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.says, r.output())
			}
			if written := !bytes.Equal(fileBytes(t, state), before); written != (tc.code == exitOK) {
				t.Errorf("written: %v", written)
			}
		})
	}
}

// apply with nothing to change says so and exits 0, with or without a
// terminal, and never asks.
func TestApplyNoChanges(t *testing.T) {
	t.Parallel()
	env, state, _, args := applyOnSnapshot(t)
	if r := runBin(t, env, "", append(args, "--yes")...); r.code != exitOK {
		t.Fatalf("first apply: exit %d\n%s", r.code, r.err)
	}
	r := runBin(t, env, "", args...)
	if r.code != exitOK || !strings.HasPrefix(r.out, "No changes.") {
		t.Errorf("without a terminal: exit %d\n%s%s", r.code, r.out, r.err)
	}
	p := startPTY(t, env, args...)
	if code := p.wait(); code != exitOK || !strings.Contains(p.output(), "No changes.") || strings.Contains(p.output(), prompt) {
		t.Errorf("on a terminal: exit %d\n%s", code, p.output())
	}
	_ = state
}

// Colour only on a terminal, and not with --no-color, NO_COLOR or
// TERM=dumb.
func TestColour(t *testing.T) {
	t.Parallel()
	_, state := snapshotCopy(t, "seed-same-account.json")
	plan := []string{"plan", "--state", state, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		colour bool
	}{
		{"terminal", nil, plan, true},
		{"--no-color after the command", nil, append(append([]string{}, plan...), "--no-color"), false},
		{"--no-color before the command", nil, append([]string{"--no-color"}, plan...), false},
		{"NO_COLOR", []string{"NO_COLOR=1"}, plan, false},
		{"TERM=dumb", []string{"TERM=dumb"}, plan, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startPTY(t, baseEnv(t, tc.env...), tc.args...)
			if code := r.wait(); code != exitOK {
				t.Fatalf("exit %d\n%s", code, r.output())
			}
			if got := strings.Contains(r.output(), "\x1b["); got != tc.colour {
				t.Errorf("colour %v, want %v:\n%q", got, tc.colour, r.output()[:min(300, len(r.output()))])
			}
		})
	}
	// Never on a pipe.
	if r := runBin(t, baseEnv(t), "", plan...); strings.Contains(r.out, "\x1b[") {
		t.Error("colour on a pipe")
	}
}

// An interrupt while AWS is being read: nothing is written, exit 130.
func TestInterruptDuringRead(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	w.srv.SetLatency("kms:GetKeyPolicy", 5*time.Second)
	r := startPTY(t, w.env, "apply", "--yes", "--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket)
	// The server counts a call when it arrives, before the latency.
	deadline := time.Now().Add(20 * time.Second)
	for w.srv.Calls("kms:GetKeyPolicy") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the key policy was never read:\n%s", r.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.send("\x03")
	code := r.wait()
	if code != exitInterrupted || !strings.Contains(r.output(), "interrupted; nothing was written") {
		t.Fatalf("exit %d:\n%s", code, r.output())
	}
	for op, n := range w.srv.CallCounts() {
		if strings.Contains(op, ":Put") || strings.Contains(op, ":Create") || strings.Contains(op, ":Attach") {
			t.Errorf("%s called %d times after an interrupt during the reads", op, n)
		}
	}
}
