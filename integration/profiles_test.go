package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// A profile that assumes a role (role_arn + source_profile) sends its
// AssumeRole to AWS_ENDPOINT_URL like every other call. aws-sdk-go-v2
// resolves such a profile's credentials before the endpoint, so without
// bucketgrant's own care the AssumeRole went to sts.amazonaws.com: against
// an emulator the run failed as if there were no credentials, and against
// a real endpoint override the source profile's keys left for AWS.
func TestRoleProfileUsesTheEndpoint(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	ctx := context.Background()
	iamc := iam.NewFromConfig(w.config(w.resource))
	role := "BucketOperator"
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, w.resource)
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("admin"), PolicyDocument: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(w.dir, "aws-config")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + w.resource + ":role/" + role
	cfg = append(cfg, fmt.Sprintf("[profile operator]\nregion = us-east-1\nrole_arn = %s\nsource_profile = resource\n", roleARN)...)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	calls := w.srv.Calls("sts:AssumeRole")
	out, errOut, code := w.run(append([]string{"plan", "--principal-profile", "principal", "--resource-profile", "operator"}, grantArgs()...)...)
	if code != 0 && code != 2 {
		t.Fatalf("plan with a role_arn profile: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "key policy") {
		t.Errorf("the plan does not show the key policy it read:\n%s", out)
	}
	if got := w.srv.Calls("sts:AssumeRole") - calls; got == 0 {
		t.Errorf("the role was never assumed through the test server")
	}
}

// A role is assumed once per run. An apply reads, checks each document
// again before writing it, writes and verifies: before the run shared its
// credentials, each of those loaded its own configuration and assumed the
// roles again (three times per role for one apply).
func TestRoleAssumedOncePerRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	roles := map[string]string{}
	for flag, account := range map[string]string{"--principal-role-arn": w.principal, "--resource-role-arn": w.resource} {
		iamc := iam.NewFromConfig(w.config(account))
		if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("BucketOperator"), AssumeRolePolicyDocument: aws.String(fmt.Sprintf(trust, account))}); err != nil {
			t.Fatal(err)
		}
		if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("BucketOperator"), PolicyName: aws.String("admin"), PolicyDocument: aws.String(admin)}); err != nil {
			t.Fatal(err)
		}
		roles[flag] = "arn:aws:iam::" + account + ":role/BucketOperator"
	}
	before := w.srv.Calls("sts:AssumeRole")
	out, errOut, code := w.run(append([]string{"apply", "--yes",
		"--principal-profile", "principal", "--principal-role-arn", roles["--principal-role-arn"],
		"--resource-profile", "resource", "--resource-role-arn", roles["--resource-role-arn"]}, grantArgs()...)...)
	if code != 0 {
		t.Fatalf("apply with both roles: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := w.srv.Calls("sts:AssumeRole") - before; got != 2 {
		t.Errorf("apply assumed roles %d times, want 2 (each role once)", got)
	}
}
