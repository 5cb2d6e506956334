package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// filler is an inline policy of n statements (about 105 characters each)
// that grants nothing bucketgrant cares about.
func filler(n int) string {
	var stmts []string
	for i := range n {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"Filler%02d","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::other-bucket-%02d"}`, i, i))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// Issue 14, "rollback of a sync backup that holds managed policies fails":
// on AWS, a sync that gives Jane a managed policy (her inline policies are
// nearly full) and Bob an inline one, across two accounts, is rolled back
// through the binary: every document is as before the sync, and the
// managed policy is detached and deleted. Then a prune that deletes Jane's
// managed policy is rolled back: it is created and attached again.
func TestRollbackOfSyncBackupOnAWS(t *testing.T) {
	w := newSyncWorld(t)
	ctx := context.Background()
	iamc := iam.NewFromConfig(w.config(w.principal))
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String("existing"), PolicyDocument: aws.String(filler(15))}); err != nil {
		t.Fatal(err)
	}
	grants := []grantLine{{principal: jane, bucket: bucket, access: "[read, write]"}, {principal: bob, bucket: bucket, access: "[read]"}}
	managed := diff.ManagedPolicyARN(jane, bucket)
	before := w.readAll(grants)

	rep := w.syncJSON(0, "-f", w.grantsFile(grants...), "--yes")
	if rep.Summary.Backup == "" || rep.Summary.Fixed != 2 {
		t.Fatalf("sync: %+v", rep.Summary)
	}
	synced := w.readAll(grants)
	if !attached(synced.FindPrincipal(jane).AttachedPolicies, managed) {
		t.Fatalf("test setup: Jane's grant did not fall back to %s", managed)
	}

	out, stderr := w.mustRun(0, "rollback", "--yes", rep.Summary.Backup)
	noRawErrors(t, stderr)
	if !strings.Contains(out, "Wrote 4 document(s)") {
		t.Errorf("rollback output:\n%s", out)
	}
	if changed := changedDocs(before, w.readAll(grants)); len(changed) > 0 {
		t.Errorf("after the rollback these documents differ from before the sync: %v", changed)
	}
	var missing *iamtypes.NoSuchEntityException
	if _, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(managed)}); !errors.As(err, &missing) {
		t.Errorf("the managed policy the sync created is still there: %v", err)
	}

	// Sync again, then prune Jane's grant: her managed policy is deleted.
	w.syncJSON(0, "-f", w.grantsFile(grants...), "--yes")
	synced = w.readAll(grants)
	rep = w.syncJSON(0, "-f", w.grantsFile(grants[1]), "--yes", "--prune")
	if rep.Summary.Backup == "" {
		t.Fatalf("prune wrote nothing: %+v", rep.Summary)
	}
	if _, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(managed)}); !errors.As(err, &missing) {
		t.Fatalf("test setup: prune left the managed policy: %v", err)
	}
	_, stderr = w.mustRun(0, "rollback", "--yes", rep.Summary.Backup)
	noRawErrors(t, stderr)
	if changed := changedDocs(synced, w.readAll(grants)); len(changed) > 0 {
		t.Errorf("after rolling back the prune these documents differ from before it: %v", changed)
	}
	if p := w.readAll(grants).FindPrincipal(jane); !attached(p.AttachedPolicies, managed) {
		t.Error("the managed policy is not attached to Jane again")
	}
}

// A rollback whose credentials do not reach the backup's accounts is
// refused before anything is read or written.
func TestRollbackRefusesAnotherAccount(t *testing.T) {
	w := newSyncWorld(t)
	rep := w.syncJSON(0, "-f", w.grantsFile(grantLine{principal: bob, bucket: bucket, access: "[read]"}), "--yes")
	after := w.readAll([]grantLine{{principal: bob, bucket: bucket}})
	w.srv.ResetCalls()
	// Both sides with the resource account's admin: Bob's inline policy is
	// in the principal account.
	_, stderr, code := w.run("rollback", "--yes", "--principal-profile", "resource", "--resource-profile", "resource", rep.Summary.Backup)
	if code != 1 || !strings.Contains(stderr, "in account "+w.principal) || !strings.Contains(stderr, "nothing was written") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the refused rollback wrote: %v", n)
	}
	if changed := changedDocs(after, w.readAll([]grantLine{{principal: bob, bucket: bucket}})); len(changed) > 0 {
		t.Errorf("changed: %v", changed)
	}
}

// The same on a snapshot: sync, rollback, rollback of the rollback, prune,
// rollback, through the binary; the file comes back byte for byte each
// time.
func TestRollbackOfSyncBackupOnSnapshot(t *testing.T) {
	st := syncState(t)
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, namedDoc("existing", filler(15)))
	dir := t.TempDir()
	w := &world{t: t, dir: dir, principal: janeAccount, resource: crossResource}
	path := filepath.Join(dir, "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true", "GORACE=atexit_sleep_ms=0"}
	grants := []grantLine{{principal: jane, bucket: bucket, access: "[read, write]"}, {principal: bob, bucket: bucket, access: "[read]"}}
	both, bobOnly := w.grantsFile(grants...), w.grantsFile(grants[1])
	runOK := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, environ, args...)
		if code != 0 {
			t.Fatalf("bucketgrant %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
		}
		return out
	}
	backupOf := func(out string) string {
		t.Helper()
		m := backupLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no backup in:\n%s", out)
		}
		return m[1]
	}
	original, _ := os.ReadFile(path)
	b := backupOf(runOK("sync", "-f", both, "--yes", "--state", path))
	synced, _ := os.ReadFile(path)
	if !strings.Contains(string(synced), managedName(jane)) {
		t.Fatal("test setup: Jane's grant did not fall back to a managed policy")
	}
	rb := backupOf(runOK("rollback", "--yes", "--state", path, b))
	if now, _ := os.ReadFile(path); string(now) != string(original) {
		t.Fatalf("the rollback of the sync did not restore the file:\n%s", now)
	}
	// The rollback's own backup says whose the managed policy is, so the
	// rollback can be rolled back too (it failed with "no user or role in
	// the state has the managed policy attached"; found by the sequence
	// test, internal/lifeseq).
	runOK("rollback", "--yes", "--state", path, rb)
	if now, _ := os.ReadFile(path); string(now) != string(synced) {
		t.Fatalf("the rollback of the rollback did not bring the sync back:\n%s", now)
	}
	synced, _ = os.ReadFile(path)
	b = backupOf(runOK("sync", "-f", bobOnly, "--yes", "--prune", "--state", path))
	runOK("rollback", "--yes", "--state", path, b)
	if now, _ := os.ReadFile(path); string(now) != string(synced) {
		t.Fatalf("the rollback of the prune did not restore the file:\n%s", now)
	}
}

func managedName(principal string) string {
	arn := diff.ManagedPolicyARN(principal, bucket)
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func attached(list []state.ManagedPolicy, arn string) bool {
	for _, p := range list {
		if p.ARN == arn {
			return true
		}
	}
	return false
}

// A sync's backup whose identity documents span two principal accounts:
// one pair of --principal-*/--resource-* credentials cannot write it, so
// rollback refuses it without a grants file, and with the grants file
// (rollback -f) writes every document with its own account's credentials
// and restores every one.
func TestRollbackOfSyncBackupAcrossThreeAccounts(t *testing.T) {
	const third = "444455556666"
	dave := "arn:aws:iam::" + third + ":user/Dave"
	st := syncState(t)
	st.Principals = append(st.Principals, state.Principal{ARN: dave, Kind: state.KindUser})
	w := newWorld(t, st)
	w.creds["third"] = w.env.Admins[third]
	w.writeAWSConfig("us-east-1", nil)
	grants := []grantLine{{principal: jane, bucket: bucket, access: "[read]"}, {principal: dave, bucket: bucket, access: "[read]"}}
	file := w.grantsFile(grants...)
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.Replace(string(text), "  accounts:\n", fmt.Sprintf("  accounts:\n    %q: {profile: third}\n", third), 1))
	if err := os.WriteFile(file, text, 0o600); err != nil {
		t.Fatal(err)
	}
	before := w.readAll(grants)
	rep := w.syncJSON(0, "-f", file, "--yes")
	if rep.Summary.Backup == "" || rep.Summary.Fixed != 2 {
		t.Fatalf("sync: %+v", rep.Summary)
	}
	synced := w.readAll(grants)
	if len(changedDocs(before, synced)) == 0 {
		t.Fatal("test setup: the sync changed nothing")
	}

	// Without the grants file: refused, nothing written.
	w.srv.ResetCalls()
	_, stderr, code := w.aws("rollback", "--yes", rep.Summary.Backup)
	if code != 1 || !strings.Contains(stderr, "nothing was written") || !strings.Contains(stderr, "--grants-file") {
		t.Fatalf("rollback without the grants file: exit %d\n%s", code, stderr)
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the refused rollback wrote: %v", n)
	}
	// Credentials flags and the grants file contradict each other.
	if _, stderr, code := w.aws("rollback", "--yes", "-f", file, rep.Summary.Backup); code != 1 || !strings.Contains(stderr, "give one") {
		t.Errorf("rollback with both: exit %d\n%s", code, stderr)
	}

	out, stderr, code := w.run("rollback", "--yes", "-f", file, rep.Summary.Backup)
	if code != 0 {
		t.Fatalf("rollback -f: exit %d\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	if changed := changedDocs(before, w.readAll(grants)); len(changed) > 0 {
		t.Errorf("after the rollback these documents differ from before the sync: %v", changed)
	}
}
