package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/testrace"
)

// Issue 7, part 3: the hostile input corpus (testdata/hostile at the
// module's root; its README says what is there). Every case runs through
// the command line in process; per case the exit code and a phrase of the
// message are checked, and that nothing panicked and nothing was written.

const hostileDir = "../../testdata/hostile"

type hostileCase struct {
	Name string   `json:"name"`
	Kind string   `json:"kind"` // state, plan, backup, grants, args
	File string   `json:"file"`
	Args []string `json:"args"`
	Exit int      `json:"exit"`
	Says string   `json:"says"`
	Note string   `json:"note"`
}

func loadHostile(t *testing.T) []hostileCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hostileDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostileCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	return cases
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// hostileRun is one run of a case: its arguments, and the files whose
// bytes must not change.
type hostileRun struct {
	args []string
}

var janeSelection = []string{"--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}

// runsOf turns a case into the runs that exercise it, in dir. Error cases
// of files a write command reads run through that write command too.
func runsOf(t *testing.T, c hostileCase, dir string) []hostileRun {
	t.Helper()
	seed, applied, grants := hostileBase(t, dir)
	bk := filepath.Join(dir, "bk")
	var file string
	if c.File != "" {
		file = filepath.Join(dir, filepath.Base(c.File))
		copyFile(t, filepath.Join(hostileDir, c.File), file)
	}
	switch c.Kind {
	case "state":
		runs := []hostileRun{{append([]string{"plan", "--state", file}, janeSelection...)}}
		if c.Exit != 0 {
			runs = append(runs, hostileRun{append([]string{"apply", "--yes", "--state", file, "--backup-dir", bk}, janeSelection...)})
		}
		return runs
	case "plan":
		return []hostileRun{{[]string{"apply", "--yes", "--state", seed, "--backup-dir", bk, file}}}
	case "backup":
		return []hostileRun{{[]string{"rollback", "--yes", "--state", applied, "--backup-dir", bk, file}}}
	case "grants":
		runs := []hostileRun{{[]string{"sync", "-f", file, "--dry-run", "--state", seed}}}
		if c.Exit != 0 {
			runs = append(runs, hostileRun{[]string{"sync", "-f", file, "--yes", "--state", seed, "--backup-dir", bk}})
		}
		return runs
	case "args":
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			a = strings.ReplaceAll(a, "{seed}", seed)
			a = strings.ReplaceAll(a, "{grants}", grants)
			args[i] = strings.ReplaceAll(a, "{dir}", dir)
		}
		return []hostileRun{{args}}
	}
	t.Fatalf("unknown kind %q", c.Kind)
	return nil
}

// hostileBase copies the base files into dir: a snapshot, the same after
// an apply, and a grants file.
func hostileBase(t *testing.T, dir string) (seed, applied, grants string) {
	t.Helper()
	seed, applied, grants = filepath.Join(dir, "seed.json"), filepath.Join(dir, "applied.json"), filepath.Join(dir, "grants.yaml")
	copyFile(t, filepath.Join(hostileDir, "base", "seed.json"), seed)
	copyFile(t, filepath.Join(hostileDir, "base", "applied.json"), applied)
	copyFile(t, filepath.Join(hostileDir, "base", "grants.yaml"), grants)
	return seed, applied, grants
}

// snapshotFiles returns the bytes of every file in dir, to compare after.
func snapshotFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = data
		}
	}
	return out
}

func checkHostile(t *testing.T, c hostileCase, dir string, runs []hostileRun) {
	t.Helper()
	for _, r := range runs {
		before := snapshotFiles(t, dir)
		res := runCLI(t, "", false, r.args...)
		all := res.out + res.err
		for _, s := range []string{"panic:", "goroutine ", "runtime error", "runtime."} {
			if strings.Contains(all, s) {
				t.Fatalf("%s: output holds %q:\n%s", r.args[0], s, all)
			}
		}
		if res.code != c.Exit {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), res.code, c.Exit, res.out, res.err)
		}
		if !strings.Contains(all, c.Says) {
			t.Errorf("%s: the output does not say %q:\n%s", r.args[0], c.Says, all)
		}
		if c.Exit == exitOK {
			continue
		}
		// An error or a blocker writes nothing: every file keeps its
		// bytes, no file appears, and no backup is made.
		after := snapshotFiles(t, dir)
		for name, data := range before {
			if !bytes.Equal(after[name], data) {
				t.Errorf("%s: %s was changed", r.args[0], name)
			}
		}
		for name := range after {
			if _, ok := before[name]; !ok {
				t.Errorf("%s: %s was created", r.args[0], name)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "bk")); err == nil {
			t.Errorf("%s: a backup directory was made", r.args[0])
		}
		// An error names its input: the file, or the document and field
		// in it, or the flag and value (the cases' phrases hold those).
		if c.Exit == exitError && c.File != "" {
			base := filepath.Base(c.File)
			if !strings.Contains(res.err, base) && !strings.Contains(res.err, "policy of ") {
				t.Errorf("%s: the message names neither %s nor a document in it:\n%s", r.args[0], base, res.err)
			}
		}
	}
}

func TestHostileCorpus(t *testing.T) {
	// Inputs of up to 10 MB, parsed on one goroutine: under the detector
	// they take minutes of make test's budget and find nothing.
	testrace.SkipHeavy(t)
	cases := loadHostile(t)
	testrace.CollectLess(t)
	kinds := map[string]int{}
	runs := 0
	for _, c := range cases {
		kinds[c.Kind]++
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			rs := runsOf(t, c, dir)
			runs += len(rs)
			checkHostile(t, c, dir, rs)
		})
	}
	generated := generatedHostile(t)
	for _, g := range generated {
		t.Run(g.c.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "generated.json"), g.data, 0o600); err != nil {
				t.Fatal(err)
			}
			c := g.c
			c.File = ""
			rs := []hostileRun{
				{append([]string{"plan", "--state", filepath.Join(dir, "generated.json")}, janeSelection...)},
				{append([]string{"apply", "--yes", "--state", filepath.Join(dir, "generated.json"), "--backup-dir", filepath.Join(dir, "bk")}, janeSelection...)},
			}
			runs += len(rs)
			checkHostile(t, c, dir, rs)
		})
	}
	// A saved plan with an extra member that asks for the lockout bypass:
	// made fresh, because a plan's checksum covers this version's Plan.
	t.Run("generated/plan-bypass-member", func(t *testing.T) {
		dir := t.TempDir()
		seed, _, _ := hostileBase(t, dir)
		planFile := filepath.Join(dir, "plan.json")
		if r := runCLI(t, "", false, append([]string{"plan", "--state", seed, "--out", planFile}, janeSelection...)...); r.code != exitOK {
			t.Fatalf("plan: exit %d\n%s", r.code, r.err)
		}
		var p map[string]any
		data, _ := os.ReadFile(planFile)
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		p["bypass_policy_lockout_safety_check"] = true
		data, _ = json.Marshal(p)
		if err := os.WriteFile(planFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, "", false, "apply", "--yes", "--state", seed, "--backup-dir", filepath.Join(dir, "bk"), planFile)
		runs += 2
		if r.code != exitOK || !strings.Contains(r.out, "Wrote 3 document(s)") {
			t.Fatalf("exit %d\n%s%s", r.code, r.out, r.err)
		}
	})
	total := len(cases) + len(generated) + 1
	if total < 50 {
		t.Errorf("the corpus has %d cases; the issue asks for at least 50", total)
	}
	t.Logf("hostile corpus: %d cases (%v, generated %d), %d runs", total, kinds, len(generated)+1, runs)
}

type generatedCase struct {
	c    hostileCase
	data []byte
}

// generatedHostile makes the cases too big to keep in testdata: the seed
// snapshot with its key policy replaced.
func generatedHostile(t *testing.T) []generatedCase {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join(hostileDir, "base", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap map[string]any
	if err := json.Unmarshal(seed, &snap); err != nil {
		t.Fatal(err)
	}
	withKeyPolicy := func(policy string) []byte {
		var s map[string]any
		_ = json.Unmarshal(seed, &s)
		s["keys"].([]any)[0].(map[string]any)["policy"] = policy
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	admin := `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"}`

	// 10 MB: far over KMS's 32 KB; one long Sid of someone else's.
	big := `{"Version":"2012-10-17","Statement":[` + admin + `,{"Sid":"` + strings.Repeat("A", 10<<20) + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:DescribeKey","Resource":"*"}]}`
	// 10 MB of statements.
	var many strings.Builder
	many.WriteString(`{"Version":"2012-10-17","Statement":[` + admin)
	for i := 0; many.Len() < 10<<20; i++ {
		many.WriteString(`,{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:DescribeKey","Resource":"*"}`)
	}
	many.WriteString(`]}`)
	// 200 levels of nesting in a condition value.
	nested := strings.Repeat(`{"a":`, 200) + `"x"` + strings.Repeat(`}`, 200)
	deep := `{"Version":"2012-10-17","Statement":[` + admin + `,{"Sid":"Deep","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/x":` + nested + `}}}]}`
	// 200 levels of arrays as a condition value.
	deepArrays := `{"Version":"2012-10-17","Statement":[` + admin + `,{"Sid":"Deep","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/x":` + strings.Repeat("[", 200) + `"x"` + strings.Repeat("]", 200) + `}}}]}`
	return []generatedCase{
		// AWS never holds a key policy over 32 KB: the snapshot is refused
		// before planning, naming the file and the key.
		{hostileCase{Name: "generated/key-policy-10MB-sid", Exit: exitError, Says: "generated.json: the key policy of arn:aws:kms:us-east-1:123456789098:key/111aa2bb-333c-4d44-5555-a111bb2c33dd is 10,486,061 bytes, over KMS's limit of 32,768 bytes"}, withKeyPolicy(big)},
		{hostileCase{Name: "generated/key-policy-10MB-statements", Exit: exitError, Says: "over KMS's limit of 32,768 bytes"}, withKeyPolicy(many.String())},
		{hostileCase{Name: "generated/condition-200-objects", Exit: exitError, Says: "nested more than 64 levels deep"}, withKeyPolicy(deep)},
		{hostileCase{Name: "generated/condition-200-arrays", Exit: exitError, Says: "nested more than 64 levels deep"}, withKeyPolicy(deepArrays)},
	}
}
