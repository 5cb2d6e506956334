package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var allCommands = []string{"plan", "apply", "check", "revoke", "rollback", "snapshot", "sync", "help", "version", "completion"}

// Every way of asking for help answers on stdout with exit 0; every
// command's help has a synopsis, examples (but version) and exit codes.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	for _, args := range [][]string{{}, {"help"}, {"--help"}, {"-h"}} {
		r := runBin(t, env, "", args...)
		if r.code != 0 || r.err != "" || !strings.Contains(r.out, "Commands:") || !strings.Contains(r.out, "Exit codes:") {
			t.Errorf("bucketgrant %v: exit %d\n%s%s", args, r.code, r.out, r.err)
		}
	}
	for _, c := range allCommands {
		for _, args := range [][]string{{"help", c}, {c, "--help"}, {c, "-h"}} {
			r := runBin(t, env, "", args...)
			if r.code != 0 || r.err != "" {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.err)
				continue
			}
			for _, want := range []string{"bucketgrant " + c + ": ", "Usage:", "Exit codes:"} {
				if !strings.Contains(r.out, want) {
					t.Errorf("%v: help lacks %q", args, want)
				}
			}
			if c != "version" && !strings.Contains(r.out, "Examples:") {
				t.Errorf("%v: help has no examples", args)
			}
			if strings.Contains(r.out, "`") {
				t.Errorf("%v: a backtick leaked into the help:\n%s", args, r.out)
			}
		}
	}
	// Required flags are marked, values are named.
	r := runBin(t, env, "", "plan", "--help")
	for _, want := range []string{"--principal ARN", "--bucket NAME", "required;", "--out FILE", "--timeout DURATION"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plan --help lacks %q", want)
		}
	}
	// --help wins over everything else on the line, even bad flags.
	if r := runBin(t, env, "", "plan", "--principle", "x", "--help"); r.code != 0 || !strings.Contains(r.out, "Usage:") {
		t.Errorf("plan --principle x --help: exit %d\n%s", r.code, r.err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		r := runBin(t, baseEnv(t), "", args...)
		if r.code != 0 || !strings.HasPrefix(r.out, "bucketgrant "+testVersion+" (go") {
			t.Errorf("%v: exit %d, %q", args, r.code, r.out)
		}
	}
}

// Usage errors: one or two lines on stderr (what was wrong, the right
// spelling, where the help is), nothing on stdout, exit 1.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	_, state := snapshotCopy(t, "seed-same-account.json")
	sel := []string{"--state", state, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"plna"}, []string{`unknown command "plna"; did you mean "plan"?`, "Run 'bucketgrant --help'"}},
		{[]string{"aply"}, []string{`did you mean "apply"?`}},
		{[]string{"snapshto"}, []string{`did you mean "snapshot"?`}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"help", "plna"}, []string{`did you mean "plan"?`}},
		{[]string{"--colour", "plan"}, []string{"unknown flag --colour"}},
		{append([]string{"plan", "--principle", jane}, sel...), []string{"bucketgrant plan: unknown flag --principle; did you mean --principal?", "Run 'bucketgrant plan --help' for usage."}},
		{append([]string{"plan", "-principle", jane}, sel...), []string{"unknown flag --principle; did you mean --principal?"}},
		{append([]string{"apply", "--bukcet", "x"}, sel...), []string{"did you mean --bucket?"}},
		{[]string{"sync", "--dryrun"}, []string{"did you mean --dry-run?"}},
		{append([]string{"plan", "--timeout", "abc"}, sel...), []string{`--timeout "abc": expected a duration with its unit`}},
		{append([]string{"plan", "--max-attempts", "three"}, sel...), []string{`--max-attempts "three": expected a whole number`}},
		{[]string{"plan", "--principal"}, []string{"--principal needs a value (ARN)"}},
		{append([]string{"plan", "extra"}, sel...), []string{`unexpected argument "extra"`}},
		{append([]string{"check", "--access", "read,write", "--access", "list"}, sel...), []string{"--access is given twice (--access read,write, then --access list)", "--access read,write,list"}},
		{append([]string{"plan", "--bucket=b-b-b"}, sel...), []string{"--bucket is given twice"}},
		{[]string{"sync", "-f", "g.yaml", "--yes", "--dry-run"}, []string{"--yes and --dry-run together"}},
		{[]string{"completion", "tcsh"}, []string{`no completion for shell "tcsh"`}},
		{[]string{"version", "now"}, []string{`unexpected argument "now"`}},
		{append([]string{"plan", "--format", "yaml"}, sel...), []string{`--format "yaml": use text or json`}},
		{[]string{"plan", "--state", state, "--bucket", "DOC-EXAMPLE-BUCKET"}, []string{"needs --principal ARN and --bucket NAME"}},
	} {
		r := runBin(t, baseEnv(t), "", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.err), "\n")
		if r.code != exitError || r.out != "" || len(lines) > 2 {
			t.Errorf("%v: exit %d, stdout %q, %d lines on stderr:\n%s", tc.args, r.code, r.out, len(lines), r.err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.err, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, r.err)
			}
		}
	}
}

// The bash completion function, run by bash on partial command lines.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "bucketgrant.bash")
	r := runBin(t, baseEnv(t), "", "completion", "bash")
	if r.code != 0 {
		t.Fatalf("completion bash: exit %d %s", r.code, r.err)
	}
	if err := os.WriteFile(script, []byte(r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "state.json"), []byte("{}"), 0o600)
	// complete runs the function as bash does for the line typed so far.
	complete := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		// bash's own word: the typed word after its last ':' or '='.
		cur := words[len(words)-1]
		if i := strings.LastIndexAny(cur, ":="); i >= 0 {
			cur = cur[i+1:]
		}
		prog := `source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=($2); ` +
			`[[ "$2" == *" " ]] && COMP_WORDS+=(""); COMP_WORDS[${#COMP_WORDS[@]}-1]="$3"; COMP_CWORD=$((${#COMP_WORDS[@]}-1)); ` +
			`_bucketgrant; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "--norc", "-c", prog, "bash", script, strings.Replace(line, "bucketgrant", binary, 1), cur)
		cmd.Dir = dir
		cmd.Env = baseEnv(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				got = append(got, l)
			}
		}
		return got
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"bucketgrant pl", []string{"plan"}},
		{"bucketgrant re", []string{"revoke"}},
		{"bucketgrant ", allCommands},
		{"bucketgrant plan --pri", []string{"--principal", "--principal-profile", "--principal-role-arn"}},
		{"bucketgrant plan --format ", []string{"json", "jsonl", "text"}},
		{"bucketgrant sync --format=js", []string{"json", "jsonl"}},
		{"bucketgrant apply --access read,w", []string{"read,write"}},
		{"bucketgrant plan --kms-via k", []string{"key-policy"}},
		{"bucketgrant completion ", []string{"bash", "fish", "zsh"}},
		{"bucketgrant help sn", []string{"snapshot"}},
		{"bucketgrant plan --state sta", []string{"state.json"}},
		{"bucketgrant --no", []string{"--no-color"}},
	} {
		got := complete(tc.line)
		if strings.Join(sortedCopy(got), " ") != strings.Join(sortedCopy(tc.want), " ") {
			t.Errorf("%q: got %q, want %q", tc.line, got, tc.want)
		}
	}
	// A principal ARN holds ':', which bash splits words at: completing a
	// flag after one still works.
	if got := complete("bucketgrant plan --principal arn:aws:iam::111122223333:user/Jane --buc"); len(got) != 1 || got[0] != "--bucket" {
		t.Errorf("after an ARN: %q", got)
	}
	// zsh and fish scripts are printed too (no zsh or fish here to run them).
	for _, sh := range []string{"zsh", "fish"} {
		if r := runBin(t, baseEnv(t), "", "completion", sh); r.code != 0 || !strings.Contains(r.out, "__complete") {
			t.Errorf("completion %s: exit %d", sh, r.code)
		}
	}
}

func sortedCopy(s []string) []string {
	c := append([]string{}, s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}
