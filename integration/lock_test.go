package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// usersSnapshot writes the same-account example with users U0…U(n-1) and
// a key policy that also delegates to the account (so --kms-via identity
// writes only the user's inline policy; key-policy writes the shared key
// policy too).
func usersSnapshot(t *testing.T, dir string, n int) string {
	t.Helper()
	st := exampleState(t, sameAccount, nil)
	var kp map[string]any
	if err := json.Unmarshal(st.Keys[0].Policy.Text, &kp); err != nil {
		t.Fatal(err)
	}
	kp["Statement"] = append(kp["Statement"].([]any), map[string]any{"Sid": "EnableIAMUserPermissions", "Effect": "Allow",
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + janeAccount + ":root"}, "Action": "kms:*", "Resource": "*"})
	text, _ := json.Marshal(kp)
	st.Keys[0].Policy, st.Keys[0].Source = state.NewDoc(string(text)), nil
	st.Principals, st.Source = nil, nil
	for i := range n {
		st.Principals = append(st.Principals, state.Principal{ARN: userN(i), ID: fmt.Sprintf("AIDAEXAMPLEUSER%06d", i), Kind: state.KindUser})
	}
	path := filepath.Join(dir, "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	return path
}

func userN(i int) string { return fmt.Sprintf("arn:aws:iam::%s:user/U%d", janeAccount, i) }

// granted reports whether a user's grant on the snapshot is complete
// (planning it again changes nothing).
func granted(t *testing.T, path string, i int, via string) bool {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := diff.Make(st, diff.Options{Principal: userN(i), Bucket: bucket, KMSVia: via})
	if err != nil {
		t.Fatal(err)
	}
	return p.Empty() && !p.Blocked()
}

var backupLine = regexp.MustCompile(`Backup: (\S+)`)

// Issue 14, "two applies on one snapshot file lose an update": applies,
// a revoke, a rollback and a sync run at once on one snapshot, as separate
// processes. Every one exits 0 and the file ends with exactly what they
// did together: no update is lost. Before the lock, most writers exited 0
// and verified while the last save dropped the others' grants.
func TestConcurrentWritersThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	path := usersSnapshot(t, dir, 8)
	environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true", "GORACE=atexit_sleep_ms=0"}
	sel := func(i int) []string { return []string{"--principal", userN(i), "--bucket", bucket} }
	bk := filepath.Join(dir, "bk")
	// Before: U0 granted through the key policy, U1 through its identity.
	mustExit := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, environ, args...)
		if code != 0 {
			t.Fatalf("bucketgrant %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
		}
		return out
	}
	mustExit(append([]string{"apply", "--yes", "--state", path, "--backup-dir", bk, "--kms-via", "key-policy"}, sel(0)...)...)
	m := backupLine.FindStringSubmatch(mustExit(append([]string{"apply", "--yes", "--state", path, "--backup-dir", bk, "--kms-via", "identity"}, sel(1)...)...))
	if m == nil {
		t.Fatal("no backup named")
	}
	u1Backup := m[1]
	grants := filepath.Join(dir, "grants.yaml")
	if err := os.WriteFile(grants, []byte(fmt.Sprintf("version: 1\ndefaults:\n  kms_via: key-policy\ngrants:\n  - principal: %s\n    bucket: %s\n  - principal: %s\n    bucket: %s\n",
		userN(6), bucket, userN(7), bucket)), 0o600); err != nil {
		t.Fatal(err)
	}

	runs := [][]string{
		append([]string{"revoke", "--yes", "--state", path, "--backup-dir", bk}, sel(0)...),
		{"rollback", "--yes", "--state", path, "--backup-dir", bk, u1Backup},
		{"sync", "-f", grants, "--yes", "--state", path, "--backup-dir", bk},
	}
	for i := 2; i <= 5; i++ {
		runs = append(runs, append([]string{"apply", "--yes", "--state", path, "--backup-dir", bk, "--kms-via", "key-policy"}, sel(i)...))
	}
	type result struct {
		out, stderr string
		code        int
	}
	results := make([]result, len(runs))
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Go(func() {
			out, stderr, code := run(t, environ, args...)
			results[i] = result{out, stderr, code}
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("bucketgrant %s: exit %d\n%s%s", strings.Join(runs[i], " "), r.code, r.out, r.stderr)
		}
	}
	for i := 2; i <= 7; i++ {
		if !granted(t, path, i, diff.ViaKeyPolicy) {
			t.Errorf("U%d's grant was lost", i)
		}
	}
	st, _ := snapshot.Load(path)
	if strings.Contains(st.Keys[0].Policy.String(), userN(0)) {
		t.Error("U0's revoked statement is back in the key policy")
	}
	if p := st.FindPrincipal(userN(1)); p == nil || len(p.InlinePolicies) != 0 {
		t.Error("the rollback of U1's grant was lost")
	}
}

// A writer that finds the snapshot locked waits BUCKETGRANT_LOCK_WAIT, then
// stops with exit 1, a message that says what to do, and no write at all.
func TestLockedSnapshotThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	path := usersSnapshot(t, dir, 1)
	before, _ := os.ReadFile(path)
	held, err := apply.LockStateFile(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true", "GORACE=atexit_sleep_ms=0",
		apply.LockWaitEnv + "=200ms"}
	bk := filepath.Join(dir, "bk")
	for _, args := range [][]string{
		{"apply", "--yes", "--state", path, "--backup-dir", bk, "--principal", userN(0), "--bucket", bucket},
		{"revoke", "--yes", "--state", path, "--backup-dir", bk, "--principal", userN(0), "--bucket", bucket},
	} {
		out, stderr, code := run(t, environ, args...)
		if code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", args[0], code, out, stderr)
		}
		noRawErrors(t, stderr)
		for _, want := range []string{"another bucketgrant is writing the state file " + path, "within 200ms", "nothing was written", apply.LockWaitEnv} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr does not say %q:\n%s", args[0], want, stderr)
			}
		}
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Error("the snapshot was written")
	}
	if _, err := os.Stat(bk); err == nil {
		t.Error("a backup directory was made")
	}
}
