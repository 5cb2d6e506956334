package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// A role as the principal, across accounts: the same path as a user, with
// the role's inline policy.
func TestApplyGrantsAccessToARole(t *testing.T) {
	t.Parallel()
	toRole := func(s string) string { return strings.ReplaceAll(s, "user/Jane", "role/Jane") }
	w := newWorld(t, exampleState(t, crossAccount, toRole))
	role := "arn:aws:iam::" + janeAccount + ":role/Jane"
	before := w.readPrincipal(role)
	p := w.planJSONFor(role)
	out, _ := w.mustRun(0, "apply", "--yes", "--principal", role, "--bucket", bucket)
	if !strings.Contains(out, role+" can now ") {
		t.Errorf("apply:\n%s", out)
	}
	if _, ok := w.srv.InlinePolicy(w.principal, "role", "Jane", inlineName); !ok {
		t.Errorf("no inline policy on the role")
	}
	checkTrust(t, before, w.readPrincipal(role), p)
	w.mustRun(0, "revoke", "--yes", "--principal", role, "--bucket", bucket)
	if _, ok := w.srv.InlinePolicy(w.principal, "role", "Jane", inlineName); ok {
		t.Errorf("revoke left the inline policy on the role")
	}
}

// The managed policy of the 2,048-character fallback is found again by a
// second apply (no changes) and removed by revoke (detached and deleted).
func TestManagedPolicyFallbackRevoke(t *testing.T) {
	t.Parallel()
	st := exampleState(t, crossAccount, nil)
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, namedDoc("other-buckets", bigPolicy(1700)))
	w := newWorld(t, st)
	w.applyFresh()
	w.srv.ResetCalls()
	out, _ := w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	if !strings.Contains(out, "No changes.") || len(writes(w.srv.CallCounts())) > 0 {
		t.Errorf("second apply: writes %v\n%s", writes(w.srv.CallCounts()), out)
	}
	w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...)
	c := iam.NewFromConfig(w.config(w.principal))
	att, err := c.ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String("Jane")})
	if err != nil {
		t.Fatal(err)
	}
	if len(att.AttachedPolicies) != 0 {
		t.Errorf("attached after revoke: %+v", att.AttachedPolicies)
	}
	if _, err := c.GetPolicy(context.Background(), &iam.GetPolicyInput{PolicyArn: aws.String(diff.ManagedPolicyARN(jane, bucket))}); err == nil {
		t.Errorf("the managed policy still exists after revoke")
	}
}

// rollback refuses a document someone changed after the apply, and
// restores nothing over it.
func TestRollbackRefusesChangedDocument(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	_, out := w.applyFresh()
	backup := backupPath(t, strings.Replace(out, "Backup: ", "backup: ", 1))
	changed := withStatement(t, w.keyPolicy(), strings.ReplaceAll(auditorStatement, "%s", crossResource))
	w.putKeyPolicy(changed)
	w.srv.ResetCalls()
	_, stderr, code := w.aws("rollback", "--yes", backup)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	t.Logf("the report:\n%s", stderr)
	if !strings.Contains(stderr, "key policy of "+w.keyARN) {
		t.Errorf("the report does not name the key policy:\n%s", stderr)
	}
	if w.keyPolicy() != changed {
		t.Errorf("rollback overwrote the changed key policy")
	}
	if wr := writes(w.srv.CallCounts()); len(wr) > 0 {
		t.Errorf("rollback wrote: %v", wr)
	}
	// The refusal is apply's stale-plan message, which sends the operator
	// to "make the plan again": wrong advice for a rollback, whose
	// document changed since the apply the backup was made by.
	if strings.Contains(stderr, "Make the plan again") || !strings.Contains(stderr, "since the apply") {
		t.Errorf("bug: rollback's refusal speaks of a plan, not of the document changed since the apply:\n%s", stderr)
	}
}

// Access denied on a write: the report names the permission, the document
// and the credentials, and what was written before.
func TestApplyAccessDeniedOnWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	w.srv.Deny(w.resource, "s3:PutBucketPolicy")
	out, stderr, code := w.aws(append([]string{"apply", "--yes"}, grantArgs()...)...)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s", stderr)
	for _, s := range []string{"s3:PutBucketPolicy on " + bucketARN, "access denied", `profile "resource"`, "cannot write the change",
		"written: inline policy " + inlineName, "key policy of " + w.keyARN, "not written: bucket policy of " + bucket} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q", s)
		}
	}
}

// An interrupt (SIGINT) while a write is in flight: bucketgrant exits 130
// and says "nothing more was written". But the request had already reached
// AWS, which may carry it out whether or not anyone waits for the answer
// (the test server does): the message must not claim what the tool cannot
// know, and the report should say which write was in flight and where the
// backup is.
func TestInterruptDuringWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	w.srv.SetLatency("kms:PutKeyPolicy", time.Second)
	inFlight := make(chan struct{}, 1)
	w.srv.After("iam:PutUserPolicy", func(awsfake.Call) {
		select {
		case inFlight <- struct{}{}:
		default:
		}
	})

	cmd := exec.Command(binary, append([]string{"apply", "--yes"}, append(w.profiles, grantArgs()...)...)...)
	cmd.Env = w.environ
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatal("the inline policy was never written")
	}
	// The key policy write is next; give it time to be sent.
	deadline := time.Now().Add(5 * time.Second)
	for w.srv.Calls("kms:PutKeyPolicy") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	stderr := errb.String()
	t.Logf("exit %d; the report:\n%s", code, stderr)
	if code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	noRawErrors(t, stderr)
	// Wait for the server to finish the request the tool gave up on.
	written := false
	for deadline := time.Now().Add(3 * time.Second); !written && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		written = !sameDoc(t, w.keyPolicy(), w.st.Keys[0].Policy.String())
	}
	if written && strings.Contains(stderr, "nothing more was written") {
		t.Errorf("bug: the key policy write in flight was carried out, yet bucketgrant says \"nothing more was written\"")
	}
	if !strings.Contains(stderr, "Backed up") {
		t.Errorf("the report does not say where the backup is")
	}
	if _, ok := w.srv.BucketPolicy(bucket); ok {
		t.Errorf("the bucket policy was written after the interrupt")
	}
}
