package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7, part 3: a handful of the hostile corpus (testdata/hostile; all
// of it runs in process in cmd/bucketgrant) through the built binary, so
// that exit codes, streams and the absence of writes are those of the real
// process.
func TestHostileCorpusBinary(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "hostile", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Kind, File, Says string
		Args                   []string
		Exit                   int
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	pick := map[string]bool{
		"snapshot/invalid-utf8": true, "snapshot/dup-effect": true, "snapshot/principal-unique-id": true,
		"snapshot/deep-array": true, "plan/after-edited": true, "backup/content-edited": true,
		"grants/alias-bomb": true, "args/principal-wildcard": true, "args/prefix-newline": true,
		"snapshot/org-deny-all": true, "snapshot/org-cycle": true,
	}
	hostile := filepath.Join(repoRoot, "testdata", "hostile")
	sel := []string{"--principal", jane, "--bucket", exampleBucket}
	ran := 0
	for _, c := range cases {
		if !pick[c.Name] {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			cp := func(from, to string) string {
				b, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(to, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return to
			}
			seed := cp(filepath.Join(hostile, "base", "seed.json"), filepath.Join(dir, "seed.json"))
			applied := cp(filepath.Join(hostile, "base", "applied.json"), filepath.Join(dir, "applied.json"))
			file := ""
			if c.File != "" {
				file = cp(filepath.Join(hostile, c.File), filepath.Join(dir, filepath.Base(c.File)))
			}
			bk := filepath.Join(dir, "bk")
			var args []string
			switch c.Kind {
			case "state":
				args = append([]string{"apply", "--yes", "--state", file, "--backup-dir", bk}, sel...)
			case "plan":
				args = []string{"apply", "--yes", "--state", seed, "--backup-dir", bk, file}
			case "backup":
				args = []string{"rollback", "--yes", "--state", applied, "--backup-dir", bk, file}
			case "grants":
				args = []string{"sync", "-f", file, "--yes", "--state", seed, "--backup-dir", bk}
			case "args":
				for _, a := range c.Args {
					args = append(args, strings.ReplaceAll(strings.ReplaceAll(a, "{seed}", seed), "{dir}", dir))
				}
			}
			before := map[string][]byte{}
			for _, f := range []string{seed, applied, file} {
				if f != "" {
					before[f], _ = os.ReadFile(f)
				}
			}
			environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true"}
			out, stderr, code := run(t, environ, args...)
			if code != c.Exit {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.Exit, out, stderr)
			}
			noRawErrors(t, stderr)
			if !strings.Contains(out+stderr, c.Says) {
				t.Errorf("the output does not say %q:\n%s%s", c.Says, out, stderr)
			}
			for f, b := range before {
				if now, _ := os.ReadFile(f); !bytes.Equal(now, b) {
					t.Errorf("%s was changed", filepath.Base(f))
				}
			}
			if _, err := os.Stat(bk); err == nil {
				t.Errorf("a backup directory was made")
			}
		})
	}
	if ran != len(pick) {
		t.Errorf("ran %d of the %d picked cases: cases.json changed", ran, len(pick))
	}
}
