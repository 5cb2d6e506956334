package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// sizedPolicy is an IAM policy of exactly n characters (white space not
// counted).
func sizedPolicy(t *testing.T, n int) string {
	t.Helper()
	head := `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	doc := head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	if limits.IAMChars([]byte(doc)) != n {
		t.Fatalf("sizedPolicy(%d)", n)
	}
	return doc
}

// fillJane leaves Jane no room for a grant: an inline policy "existing" of
// inline characters and 10 attached managed policies, AWS's default quota.
func fillJane(t *testing.T, iamc *iam.Client, inline int) {
	t.Helper()
	ctx := context.Background()
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String("existing"), PolicyDocument: aws.String(sizedPolicy(t, inline))}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		out, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("team-%d", i)), PolicyDocument: aws.String(sizedPolicy(t, 200))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("Jane"), PolicyArn: out.Policy.Arn}); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 14, limits on AWS: Jane's inline policies are full and she has 10
// managed policies attached, so her grant's fallback would be an eleventh.
// apply refuses before any write (exit 3) with the quota it read from the
// account; once the account's quota is raised to 20, the same apply goes
// through.
func TestApplyPastAttachedQuotaOnAWS(t *testing.T) {
	w := newWorld(t, exampleState(t, sameAccount, nil))
	ctx := context.Background()
	iamc := iam.NewFromConfig(w.config(w.principal))
	fillJane(t, iamc, 1990)
	w.srv.ResetCalls()
	out, stderr, code := w.aws(append([]string{"apply", "--yes"}, grantArgs()...)...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	for _, want := range []string{"the managed policies attached to user " + jane, "would be 11 policies", "over IAM's quota per user of 10 (read from account " + janeAccount + " with iam:GetAccountSummary)", "detach a managed policy", "nothing was written"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the refused apply wrote: %v", n)
	}

	w.srv.SetAttachedQuota(janeAccount, 20)
	w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	list, err := iamc.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("Jane")})
	if err != nil || len(list.AttachedPolicies) != 11 {
		t.Fatalf("attached after the raise: %v %v", list, err)
	}
}

// Issue 14: rollback recreated an inline policy past the user's 2,048
// characters. On AWS the write would fail halfway (IAM refuses it after the
// key policy is restored); now the whole rollback is refused first.
func TestRollbackPastInlineLimitOnAWS(t *testing.T) {
	w := newWorld(t, exampleState(t, sameAccount, nil))
	ctx := context.Background()
	w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	iamc := iam.NewFromConfig(w.config(w.principal))
	got, err := iamc.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String(diff.InlinePolicyName(bucket))})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := policy.DecodeURLEncoded(aws.ToString(got.PolicyDocument))
	grantSize := limits.IAMChars([]byte(text))
	out, _ := w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...)
	m := backupLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no backup named:\n%s", out)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String("other"), PolicyDocument: aws.String(sizedPolicy(t, 2120-grantSize))}); err != nil {
		t.Fatal(err)
	}
	w.srv.ResetCalls()
	out, stderr, code := w.aws("rollback", "--yes", m[1])
	if code != 3 || !strings.Contains(stderr, "the inline policies of user "+jane+" together would be 2120 characters") || !strings.Contains(stderr, "nothing was written") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the refused rollback wrote: %v", n)
	}
}

// sync measures a grant against AWS's default quotas first and asks the
// account for its own (iam:GetAccountSummary) only when a default is
// passed, since an account's quotas are never below the defaults: a sync
// within them makes no such call. Past the default, the grant is blocked
// with the quota read from the account, and goes through once the account's
// quota is raised.
func TestSyncReadsQuotasOnlyPastTheDefaults(t *testing.T) {
	st := exampleState(t, crossAccount, nil)
	room := 1990 // of Jane's 2,048 characters, too few for the grant's statements
	for _, in := range st.Principals[0].InlinePolicies {
		room -= limits.IAMChars(in.Doc.Text)
	}
	w := newWorld(t, st)
	grants := w.syncGrants("")
	w.srv.ResetCalls()
	if out, stderr, code := w.run("sync", "-f", grants, "--dry-run"); code != 0 {
		t.Fatalf("sync --dry-run: exit %d\n%s%s", code, out, stderr)
	}
	if n := w.srv.Calls("iam:GetAccountSummary"); n != 0 {
		t.Errorf("a sync within the default quotas read them %d times", n)
	}

	ctx := context.Background()
	iamc := iam.NewFromConfig(w.config(w.principal))
	fillJane(t, iamc, room)
	w.srv.ResetCalls()
	out, stderr, code := w.run("sync", "-f", grants, "--yes")
	if code == 0 {
		t.Fatalf("sync past the attached-policy quota: exit 0\n%s%s", out, stderr)
	}
	if want := "over IAM's quota per user of 10 (read from account " + janeAccount + " with iam:GetAccountSummary)"; !strings.Contains(out+stderr, want) {
		t.Errorf("sync does not say %q:\n%s%s", want, out, stderr)
	}
	if n := w.srv.Calls("iam:GetAccountSummary"); n != 1 {
		t.Errorf("GetAccountSummary calls = %d, want 1", n)
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the blocked sync wrote: %v", n)
	}

	w.srv.SetAttachedQuota(janeAccount, 20)
	if out, stderr, code := w.run("sync", "-f", grants, "--yes"); code != 0 {
		t.Fatalf("sync after the raise: exit %d\n%s%s", code, out, stderr)
	}
	list, err := iamc.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("Jane")})
	if err != nil || len(list.AttachedPolicies) != 11 {
		t.Fatalf("attached after the raise: %v %v", list, err)
	}
}
