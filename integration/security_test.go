package integration

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
)

// Issue 7, part 5: the tool's own security. Credentials sit in the
// environment and in the profile files; every command that writes a file
// runs, with and without --debug, one of them failing; then no file the
// tool wrote and none of its output holds an access key ID, a secret or a
// session token, and every file it wrote is 0600 (directories 0700).
// (BypassPolicyLockoutSafetyCheck is checked after every test that makes a
// world, in newWorld's cleanup.)
func TestNoCredentialsInOutputAndFiles(t *testing.T) {
	w := faultWorld(t)
	envCreds := awsfake.Credentials{AccessKeyID: "AKIAENVIRONMENT0001", SecretAccessKey: "envSecretKeyMustNotLeak0123456789abcdefgh",
		SessionToken: "FwoGZXIvYXdzEenvSessionTokenMustNotLeak0123456789"}
	w.environ = append(w.environ, "AWS_ACCESS_KEY_ID="+envCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+envCreds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+envCreds.SessionToken)
	secrets := map[string]string{}
	for name, c := range w.creds {
		secrets["access key id of profile "+name] = c.AccessKeyID
		secrets["secret of profile "+name] = c.SecretAccessKey
		if c.SessionToken != "" {
			secrets["session token of profile "+name] = c.SessionToken
		}
	}
	secrets["access key id of the environment"] = envCreds.AccessKeyID
	secrets["secret of the environment"] = envCreds.SecretAccessKey
	secrets["session token of the environment"] = envCreds.SessionToken

	snap := filepath.Join(w.dir, "snapshot.json")
	planFile := filepath.Join(w.dir, "plan.json")
	// A file the tool overwrites gets 0600, whatever its mode was.
	if err := os.WriteFile(planFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var output strings.Builder
	runs := 0
	record := func(want int, args ...string) {
		t.Helper()
		out, stderr, code := w.aws(args...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, stderr)
		}
		output.WriteString(out + stderr)
		runs++
	}
	record(0, append([]string{"snapshot", "-o", snap}, grantArgs()...)...)
	record(0, append([]string{"snapshot", "--debug", "-o", snap}, grantArgs()...)...)
	record(0, append([]string{"plan", "--debug", "--out", planFile}, grantArgs()...)...)
	record(0, append([]string{"plan", "--state", snap, "--format", "json"}, grantArgs()...)...)
	record(0, append([]string{"apply", "--yes", "--debug", "--state", snap}, grantArgs()...)...)
	record(0, "apply", "--yes", "--debug", planFile)
	record(0, append([]string{"revoke", "--yes", "--debug"}, grantArgs()...)...)
	// A failure, with AWS's own words (--debug).
	w.srv.Deny(w.resource, "kms:GetKeyPolicy")
	record(1, append([]string{"plan", "--debug"}, grantArgs()...)...)
	w.srv.ClearFaults()
	// sync logs as JSON.
	out, stderr, code := w.run("sync", "-f", w.syncGrants(""), "--yes", "--debug", "--log-format", "json")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, stderr)
	}
	output.WriteString(out + stderr)
	runs++

	text := output.String()
	if !strings.Contains(strings.ToLower(text), "debug") || !strings.Contains(text, "aws said") {
		t.Fatalf("the runs did not produce debug output to check:\n%s", text)
	}
	for what, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the output holds the %s", what)
		}
	}

	// Every file under the test's directory but the ones the test wrote.
	testFiles := map[string]bool{"aws-config": true, "aws-credentials": true, "grants.yaml": true}
	files := 0
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.dir, path)
		if d.IsDir() {
			if strings.Contains(rel, "backups") && info.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want 0700", rel, info.Mode().Perm())
			}
			return nil
		}
		if testFiles[rel] {
			return nil
		}
		files++
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", rel, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds the %s", rel, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot, the plan and at least four backups (two applies, the
	// revoke, sync).
	if files < 6 {
		t.Errorf("only %d files written; expected the snapshot, the plan and the backups", files)
	}
	t.Logf("%d runs, %d files written, %d secrets looked for", runs, files, len(secrets))
}

// Issue 7, part 5: a plan file whose content was changed is refused before
// anything is read or written, whatever was changed (plan/* of the hostile
// corpus covers more shapes in process).
func TestTamperedPlanRefused(t *testing.T) {
	w := faultWorld(t)
	planFile := filepath.Join(w.dir, "plan.json")
	w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"widened action", `kms:Decrypt`, `kms:*`},
		{"another principal", jane, "arn:aws:iam::111122223333:user/Mallory"},
		{"a white-space edit inside a document", `\"Effect\": \"Allow\"`, `\"Effect\":  \"Allow\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited := strings.Replace(string(data), tc.from, tc.to, 1)
			if edited == string(data) {
				t.Fatalf("%q is not in the plan", tc.from)
			}
			path := filepath.Join(w.dir, "tampered.json")
			if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			w.srv.ResetCalls()
			out, stderr, code := w.aws("apply", "--yes", path)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
			}
			if !strings.Contains(stderr, "was changed after it was made") {
				t.Errorf("stderr:\n%s", stderr)
			}
			if n := total(w.srv.CallCounts()); n != 0 {
				t.Errorf("%d AWS calls for a tampered plan", n)
			}
		})
	}
}
