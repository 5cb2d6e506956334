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
