package awsfake

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestGetCallerIdentity(t *testing.T) {
	_, c := setup(t)
	out := must[*sts.GetCallerIdentityOutput](t)(c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *out.Account != acctA || *out.Arn != "arn:aws:iam::"+acctA+":user/admin" || !strings.HasPrefix(*out.UserId, "AIDA") || len(*out.UserId) != 21 {
		t.Fatalf("identity = %s %s %s", *out.Account, *out.Arn, *out.UserId)
	}
	u := must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{}))
	if *u.User.UserId != *out.UserId {
		t.Fatalf("GetUser id %s != caller id %s", *u.User.UserId, *out.UserId)
	}
}

func TestAssumeRole(t *testing.T) {
	srv, a := setup(t)
	b := newClients(t, srv, srv.NewCredentials(acctB, "arn:aws:iam::"+acctB+":user/ops"), "us-east-1")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctB + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(a.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("deployer"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(trust)}))
	out := must[*sts.AssumeRoleOutput](t)(b.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1")}))
	if !strings.HasPrefix(*out.Credentials.AccessKeyId, "ASIA") || *out.Credentials.SessionToken == "" {
		t.Fatalf("credentials = %+v", out.Credentials)
	}
	sess := newClients(t, srv, Credentials{*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken}, "us-east-1")
	id := must[*sts.GetCallerIdentityOutput](t)(sess.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	wantARN := "arn:aws:sts::" + acctA + ":assumed-role/deployer/s1"
	if *id.Account != acctA || *id.Arn != wantARN || *id.UserId != *role.Role.RoleId+":s1" {
		t.Fatalf("session identity = %s %s %s", *id.Account, *id.Arn, *id.UserId)
	}
	// The session sees account A's IAM.
	must[*iam.GetRoleOutput](t)(sess.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")}))

	// A caller the trust policy does not name, and a missing role, are denied.
	other := newClients(t, srv, srv.AddAccount("777788889999"), "us-east-1")
	_, err := other.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	_, err = b.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctA + ":role/nope"), RoleSessionName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
}
