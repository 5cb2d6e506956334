package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const jane = "arn:aws:iam::111122223333:user/Jane"

// result is one in-process run of the command line.
type result struct {
	code     int
	out, err string
}

func runCLI(t *testing.T, stdin string, tty bool, args ...string) result {
	t.Helper()
	t.Setenv("NO_COLOR", "1")
	var out, errw bytes.Buffer
	s := &streams{in: strings.NewReader(stdin), out: &out, err: &errw, tty: &tty}
	code := runStreams(context.Background(), s, append([]string{"bucketgrant"}, args...))
	return result{code: code, out: out.String(), err: errw.String()}
}

func example(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/bucketgrant -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs from its golden file (-want +got):\n%s", name, d)
	}
}

func TestPlanGolden(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"plan-cross-account", "seed-cross-account.json"},
		{"plan-same-account", "seed-same-account.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", false, "plan", "--state", example(t, tc.file), "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			golden(t, tc.name, r.out)
			r = runCLI(t, "", false, "plan", "--detailed-exitcode", "--state", example(t, tc.file), "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
			if r.code != exitPending {
				t.Errorf("--detailed-exitcode: exit %d, want %d", r.code, exitPending)
			}
		})
	}
}

func TestCheckGoldenAndExitCodes(t *testing.T) {
	path := example(t, "seed-same-account.json")
	r := runCLI(t, "", false, "check", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitPending {
		t.Fatalf("check before the grant: exit %d, want %d\n%s", r.code, exitPending, r.err)
	}
	golden(t, "check-same-account", r.out)
	if r := runCLI(t, "", false, "apply", "--yes", "--backup-dir", t.TempDir(), "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"); r.code != exitOK {
		t.Fatalf("apply: exit %d: %s", r.code, r.err)
	}
	if r := runCLI(t, "", false, "check", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"); r.code != exitOK {
		t.Fatalf("check after the grant: exit %d\n%s", r.code, r.out)
	}
	r = runCLI(t, "", false, "check", "--format", "json", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitOK || !strings.Contains(r.out, `"allowed":true`) {
		t.Fatalf("check json: exit %d\n%s", r.code, r.out)
	}
}

func TestApplyFlow(t *testing.T) {
	path := example(t, "seed-cross-account.json")
	backups := t.TempDir()
	args := []string{"--backup-dir", backups, "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}

	r := runCLI(t, "", false, append([]string{"apply"}, args...)...)
	if r.code != exitError || !strings.Contains(r.err, "needs confirmation") {
		t.Fatalf("apply without a terminal or --yes: exit %d, %q", r.code, r.err)
	}
	r = runCLI(t, "no\n", true, append([]string{"apply"}, args...)...)
	if r.code != exitError || !strings.Contains(r.err, "only 'yes' approves") {
		t.Fatalf("apply answered no: exit %d, %q", r.code, r.err)
	}
	r = runCLI(t, "yes\n", true, append([]string{"apply"}, args...)...)
	if r.code != exitOK || !strings.Contains(r.out, "can now download from, upload to") {
		t.Fatalf("apply answered yes: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = runCLI(t, "", false, append([]string{"apply", "--yes"}, args...)...)
	if r.code != exitOK || !strings.HasPrefix(r.out, "No changes.") {
		t.Fatalf("second apply: exit %d\n%s", r.code, r.out)
	}
	r = runCLI(t, "", false, append([]string{"revoke", "--yes"}, args...)...)
	if r.code != exitOK || !strings.Contains(r.out, "are removed") {
		t.Fatalf("revoke: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	original, _ := os.ReadFile(filepath.Join("..", "..", "examples", "seed-cross-account.json"))
	if now, _ := os.ReadFile(path); !bytes.Equal(now, original) {
		t.Fatal("revoke did not return the snapshot to its original bytes")
	}
}

func TestSavedPlan(t *testing.T) {
	path := example(t, "seed-cross-account.json")
	planPath := filepath.Join(t.TempDir(), "plan.json")
	r := runCLI(t, "", false, "plan", "--out", planPath, "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitOK {
		t.Fatalf("plan --out: exit %d %s", r.code, r.err)
	}
	if info, err := os.Stat(planPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("plan file mode: %v %v", info, err)
	}
	data, _ := os.ReadFile(planPath)
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	os.WriteFile(tampered, bytes.Replace(data, []byte(`"s3:ListBucket"`), []byte(`"s3:*"`), 1), 0o600)
	r = runCLI(t, "", false, "apply", "--yes", "--state", path, "--backup-dir", t.TempDir(), tampered)
	if r.code != exitError || !strings.Contains(r.err, "changed after it was made") {
		t.Fatalf("tampered plan: exit %d %q", r.code, r.err)
	}
	r = runCLI(t, "", false, "apply", "--yes", "--state", path, "--backup-dir", t.TempDir(), planPath)
	if r.code != exitOK {
		t.Fatalf("apply PLAN: exit %d %s", r.code, r.err)
	}
	r = runCLI(t, "", false, "apply", "--yes", "--state", path, "--backup-dir", t.TempDir(), planPath)
	if r.code != exitError || !strings.Contains(r.err, "changed since the plan was made") {
		t.Fatalf("applying a used plan again: exit %d %q", r.code, r.err)
	}
}

func TestFromError(t *testing.T) {
	path := example(t, "seed-cross-account.json")
	msg := `An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::111122223333:user/Jane is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/q3.csv" because no resource-based policy allows the s3:PutObject action`
	r := runCLI(t, "", false, "plan", "--state", path, "--from-error", msg)
	if r.code != exitOK || !strings.Contains(r.err, "principal arn:aws:iam::111122223333:user/Jane, action s3:PutObject, bucket DOC-EXAMPLE-BUCKET") {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.err)
	}
	kms := `User: arn:aws:iam::111122223333:user/Jane is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789098:key/111aa2bb-333c-4d44-5555-a111bb2c33dd because no resource-based policy allows the kms:Decrypt action`
	if r := runCLI(t, "", false, "plan", "--state", path, "--from-error", kms); r.code != exitError || !strings.Contains(r.err, "add --bucket") {
		t.Fatalf("kms message without bucket: exit %d %q", r.code, r.err)
	}
	if r := runCLI(t, "", false, "plan", "--state", path, "--bucket", "DOC-EXAMPLE-BUCKET", "--from-error", kms); r.code != exitOK {
		t.Fatalf("kms message with bucket: exit %d %q", r.code, r.err)
	}
	if r := runCLI(t, "", false, "plan", "--state", path, "--from-error", "something else entirely"); r.code != exitError {
		t.Fatalf("junk message: exit %d", r.code)
	}
}

func TestBadCommandLines(t *testing.T) {
	path := example(t, "seed-cross-account.json")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no principal", []string{"plan", "--state", path, "--bucket", "DOC-EXAMPLE-BUCKET"}, "needs --principal"},
		{"bad access", []string{"plan", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET", "--access", "read,delete"}, `unknown access level "delete"`},
		{"bad bucket", []string{"plan", "--state", path, "--principal", jane, "--bucket", "a/b"}, "bucket name"},
		{"bad principal", []string{"plan", "--state", path, "--principal", "Jane", "--bucket", "DOC-EXAMPLE-BUCKET"}, "expected an IAM user or role ARN"},
		{"bad format", []string{"plan", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET", "--format", "yaml"}, "--format"},
		{"missing state file", []string{"plan", "--state", "/nonexistent/state.json", "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}, "/nonexistent/state.json"},
		{"unknown bucket", []string{"plan", "--state", path, "--principal", jane, "--bucket", "other-bucket"}, `s3:ListBucket on arn:aws:s3:::other-bucket: the bucket does not exist in the snapshot`},
		{"bad kms-via", []string{"plan", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET", "--kms-via", "x"}, "--kms-via"},
		{"rollback without file", []string{"rollback", "--yes"}, "one backup file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", false, tc.args...)
			if r.code != exitError || !strings.Contains(r.err, tc.want) {
				t.Fatalf("exit %d, stderr %q, want it to mention %q", r.code, r.err, tc.want)
			}
			if strings.Contains(r.err, "goroutine") || strings.Contains(r.err, "panic") {
				t.Fatalf("a stack trace reached the user: %s", r.err)
			}
		})
	}
}

func TestBlockedPlanExitsThree(t *testing.T) {
	path := example(t, "seed-cross-account.json")
	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`"key_state": "Enabled"`), []byte(`"key_state": "Disabled"`), 1), 0o600)
	r := runCLI(t, "", false, "plan", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitBlocked || !strings.Contains(r.out, "Blocked") || !strings.Contains(r.out, "Disabled") {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	r = runCLI(t, "", false, "apply", "--yes", "--backup-dir", t.TempDir(), "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitBlocked {
		t.Fatalf("apply of a blocked plan: exit %d", r.code)
	}
	if now, _ := os.ReadFile(path); !bytes.Contains(now, []byte(`"key_state": "Disabled"`)) || bytes.Contains(now, []byte("BucketGrant")) {
		t.Fatal("a blocked apply wrote to the snapshot")
	}
}

// TestCheckSaysWhatItCouldNotDecide: an allow that holds only through a
// VPC endpoint is not access, and check says which request key would
// change the verdict.
func TestCheckSaysWhatItCouldNotDecide(t *testing.T) {
	path := example(t, "seed-same-account.json")
	data, _ := os.ReadFile(path)
	vpce := `"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ViaEndpoint\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/Jane\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*\",\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1a2b3c4d\"}}}]}"`
	start := bytes.Index(data, []byte(`"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\"`))
	if start < 0 {
		t.Fatal("test setup: the example's bucket policy was not found")
	}
	end := start + bytes.IndexByte(data[start+len(`"policy": "`):], '\n') + len(`"policy": "`)
	edited := append(append(append([]byte{}, data[:start]...), []byte(`"policy": `+vpce)...), data[end:]...)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", false, "check", "--access", "read", "--state", path, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET")
	if r.code != exitPending || !strings.Contains(r.out, "decided without aws:SourceVpce") {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.err, r.out)
	}
}
