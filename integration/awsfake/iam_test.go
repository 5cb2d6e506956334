package awsfake

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const s3Read = `{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`

func TestIAMUserLifecycle(t *testing.T) {
	_, c := setup(t)
	user := must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane"), Path: aws.String("/staff/")}))
	if *user.User.Arn != "arn:aws:iam::"+acctA+":user/staff/jane" || !uniqueIDRe.MatchString(*user.User.UserId) || !strings.HasPrefix(*user.User.UserId, "AIDA") {
		t.Fatalf("user = %s %s", *user.User.Arn, *user.User.UserId)
	}
	_, err := c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate CreateUser: %v", err)
	}

	// Inline policies: put, get (URL-encoded on the wire, decoded here), list, delete.
	must[*iam.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("jane"), PolicyName: aws.String("read"), PolicyDocument: aws.String(s3Read)}))
	got := must[*iam.GetUserPolicyOutput](t)(c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("jane"), PolicyName: aws.String("read")}))
	doc, _ := url.QueryUnescape(*got.PolicyDocument)
	if doc != s3Read || *got.UserName != "jane" {
		t.Fatalf("GetUserPolicy = %q (%s)", *got.PolicyDocument, *got.UserName)
	}
	if strings.Contains(*got.PolicyDocument, "+") || !strings.Contains(*got.PolicyDocument, "%22") {
		t.Fatalf("document not RFC 3986 encoded: %s", *got.PolicyDocument)
	}
	names := must[*iam.ListUserPoliciesOutput](t)(c.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("jane")}))
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "read" || names.IsTruncated {
		t.Fatalf("ListUserPolicies = %+v", names)
	}

	// A user with policies cannot be deleted.
	_, err = c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("jane")})
	var conflict *iamtypes.DeleteConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("DeleteUser with policies: %v", err)
	}
	must[*iam.DeleteUserPolicyOutput](t)(c.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("jane"), PolicyName: aws.String("read")}))
	must[*iam.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("jane")}))

	_, err = c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("jane")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("GetUser after delete: %v", err)
	}
	wantCode(t, err, "NoSuchEntity")
}

func TestIAMAccountsAreSeparate(t *testing.T) {
	srv, a := setup(t)
	b := newClients(t, srv, srv.AddAccount(acctB), "us-east-1")
	must[*iam.CreateUserOutput](t)(a.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("only-a")}))
	_, err := b.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("only-a")})
	wantCode(t, err, "NoSuchEntity")
}

func TestIAMRolesGroupsBoundaries(t *testing.T) {
	_, c := setup(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	must[*iam.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trust)}))
	pol := must[*iam.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary"), PolicyDocument: aws.String(s3Read)}))
	if !strings.HasPrefix(*pol.Policy.PolicyId, "ANPA") || *pol.Policy.DefaultVersionId != "v1" {
		t.Fatalf("policy = %+v", pol.Policy)
	}
	must[*iam.PutRolePermissionsBoundaryOutput](t)(c.iam.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("app"), PermissionsBoundary: pol.Policy.Arn}))
	role := must[*iam.GetRoleOutput](t)(c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")}))
	if !strings.HasPrefix(*role.Role.RoleId, "AROA") || role.Role.PermissionsBoundary == nil ||
		*role.Role.PermissionsBoundary.PermissionsBoundaryArn != *pol.Policy.Arn ||
		role.Role.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("role = %+v", role.Role)
	}
	if d, _ := url.QueryUnescape(*role.Role.AssumeRolePolicyDocument); d != trust {
		t.Fatalf("trust = %s", *role.Role.AssumeRolePolicyDocument)
	}
	must[*iam.PutRolePolicyOutput](t)(c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("p"), PolicyDocument: aws.String(s3Read)}))
	rp := must[*iam.GetRolePolicyOutput](t)(c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("p")}))
	if *rp.RoleName != "app" {
		t.Fatalf("GetRolePolicy = %+v", rp)
	}
	must[*iam.ListRolePoliciesOutput](t)(c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("app")}))
	must[*iam.AttachRolePolicyOutput](t)(c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: pol.Policy.Arn}))
	att := must[*iam.ListAttachedRolePoliciesOutput](t)(c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app")}))
	if len(att.AttachedPolicies) != 1 || *att.AttachedPolicies[0].PolicyName != "boundary" {
		t.Fatalf("attached = %+v", att.AttachedPolicies)
	}
	must[*iam.DetachRolePolicyOutput](t)(c.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: pol.Policy.Arn}))
	must[*iam.DeleteRolePolicyOutput](t)(c.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("p")}))
	must[*iam.DeleteRoleOutput](t)(c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")}))

	// Groups: membership, inline and attached policies.
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")}))
	must[*iam.PutUserPermissionsBoundaryOutput](t)(c.iam.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("jane"), PermissionsBoundary: pol.Policy.Arn}))
	u := must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("jane")}))
	if u.User.PermissionsBoundary == nil || *u.User.PermissionsBoundary.PermissionsBoundaryArn != *pol.Policy.Arn {
		t.Fatalf("user boundary = %+v", u.User.PermissionsBoundary)
	}
	g := must[*iam.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	if !strings.HasPrefix(*g.Group.GroupId, "AGPA") {
		t.Fatalf("group id %s", *g.Group.GroupId)
	}
	must[*iam.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("jane"), GroupName: aws.String("devs")}))
	must[*iam.PutGroupPolicyOutput](t)(c.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("gp"), PolicyDocument: aws.String(s3Read)}))
	must[*iam.AttachGroupPolicyOutput](t)(c.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn}))
	groups := must[*iam.ListGroupsForUserOutput](t)(c.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("jane")}))
	if len(groups.Groups) != 1 || *groups.Groups[0].GroupName != "devs" {
		t.Fatalf("groups = %+v", groups.Groups)
	}
	gp := must[*iam.GetGroupPolicyOutput](t)(c.iam.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("gp")}))
	if *gp.GroupName != "devs" {
		t.Fatalf("GetGroupPolicy = %+v", gp)
	}
	gl := must[*iam.ListGroupPoliciesOutput](t)(c.iam.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("devs")}))
	ga := must[*iam.ListAttachedGroupPoliciesOutput](t)(c.iam.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")}))
	if len(gl.PolicyNames) != 1 || len(ga.AttachedPolicies) != 1 {
		t.Fatalf("group policies %v %v", gl.PolicyNames, ga.AttachedPolicies)
	}
	p := must[*iam.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Policy.Arn}))
	if *p.Policy.AttachmentCount != 1 || *p.Policy.PermissionsBoundaryUsageCount != 1 {
		t.Fatalf("counts = %d %d", *p.Policy.AttachmentCount, *p.Policy.PermissionsBoundaryUsageCount)
	}
}

func TestIAMManagedPolicyVersions(t *testing.T) {
	_, c := setup(t)
	pol := must[*iam.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mp"), PolicyDocument: aws.String(s3Read)}))
	arn := pol.Policy.Arn
	must[*iam.AttachUserPolicyOutput](t)(c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: arn}))
	au := must[*iam.ListAttachedUserPoliciesOutput](t)(c.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("admin")}))
	if len(au.AttachedPolicies) != 1 || *au.AttachedPolicies[0].PolicyArn != *arn {
		t.Fatalf("attached = %+v", au.AttachedPolicies)
	}
	for i := 2; i <= 5; i++ {
		doc := strings.Replace(s3Read, `"R"`, fmt.Sprintf(`"R%d"`, i), 1)
		v := must[*iam.CreatePolicyVersionOutput](t)(c.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc), SetAsDefault: i == 5}))
		if *v.PolicyVersion.VersionId != fmt.Sprintf("v%d", i) || v.PolicyVersion.IsDefaultVersion != (i == 5) {
			t.Fatalf("version = %+v", v.PolicyVersion)
		}
	}
	_, err := c.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(s3Read)})
	var limit *iamtypes.LimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("sixth version: %v", err)
	}
	p := must[*iam.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn}))
	v := must[*iam.GetPolicyVersionOutput](t)(c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: p.Policy.DefaultVersionId}))
	if d, _ := url.QueryUnescape(*v.PolicyVersion.Document); !strings.Contains(d, `"R5"`) {
		t.Fatalf("default document = %s", d)
	}
	_, err = c.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")})
	wantCode(t, err, "DeleteConflict")
	_, err = c.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	wantCode(t, err, "DeleteConflict")
	for _, id := range []string{"v1", "v2", "v3", "v4"} {
		must[*iam.DeletePolicyVersionOutput](t)(c.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String(id)}))
	}
	must[*iam.DetachUserPolicyOutput](t)(c.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: arn}))
	must[*iam.DeletePolicyOutput](t)(c.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}))
	_, err = c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	wantCode(t, err, "NoSuchEntity")
}

func TestIAMPagination(t *testing.T) {
	_, c := setup(t)
	for i := range 5 {
		must[*iam.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"),
			PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(`{"Statement":[]}`)}))
		pol := must[*iam.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("m%d", i)), PolicyDocument: aws.String(s3Read)}))
		must[*iam.AttachUserPolicyOutput](t)(c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: pol.Policy.Arn}))
	}
	var names []string
	pages := 0
	for p := iam.NewListUserPoliciesPaginator(c.iam, &iam.ListUserPoliciesInput{UserName: aws.String("admin"), MaxItems: aws.Int32(2)}); p.HasMorePages(); pages++ {
		out := must[*iam.ListUserPoliciesOutput](t)(p.NextPage(ctx))
		names = append(names, out.PolicyNames...)
	}
	if pages != 3 || strings.Join(names, ",") != "p0,p1,p2,p3,p4" {
		t.Fatalf("%d pages: %v", pages, names)
	}
	var arns []string
	for p := iam.NewListAttachedUserPoliciesPaginator(c.iam, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("admin"), MaxItems: aws.Int32(3)}); p.HasMorePages(); {
		out := must[*iam.ListAttachedUserPoliciesOutput](t)(p.NextPage(ctx))
		for _, a := range out.AttachedPolicies {
			arns = append(arns, *a.PolicyName)
		}
	}
	if strings.Join(arns, ",") != "m0,m1,m2,m3,m4" {
		t.Fatalf("attached: %v", arns)
	}
	_, err := c.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("admin"), Marker: aws.String("bogus")})
	wantCode(t, err, "InvalidInput")
}

func TestIAMWriteChecks(t *testing.T) {
	_, c := setup(t)
	put := func(doc string) error {
		_, err := c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		return err
	}
	for _, bad := range []string{`{`, `[]`, `{"Statement":[],"Statement":[]}`, `{"Version":"2012-10-17"}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`} {
		var mpd *iamtypes.MalformedPolicyDocumentException
		if err := put(bad); !errors.As(err, &mpd) {
			t.Errorf("PutUserPolicy(%s) = %v, want MalformedPolicyDocument", bad, err)
		}
	}
	// 2,048 non-space characters in total over all inline policies of a user.
	filler := func(n int) string {
		doc := `{"Statement":[{"Sid":"X","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}]}`
		return strings.Replace(doc, `"X"`, `"`+strings.Repeat("x", n-len(doc)+1)+`"`, 1)
	}
	if err := put(filler(1500)); err != nil {
		t.Fatal(err)
	}
	// Replacing the same policy does not count twice; whitespace is free.
	if err := put(filler(2000) + strings.Repeat(" ", 500)); err != nil {
		t.Fatal(err)
	}
	_, err := c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("q"), PolicyDocument: aws.String(filler(100))})
	var limit *iamtypes.LimitExceededException
	if !errors.As(err, &limit) || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("over the aggregate: %v", err)
	}
	// Managed policies: 6,144.
	_, err = c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(filler(6145))})
	wantCode(t, err, "LimitExceeded")
	must[*iam.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ok"), PolicyDocument: aws.String(filler(6144))}))

	sum := must[*iam.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))
	for k, want := range map[iamtypes.SummaryKeyType]int32{"UserPolicySizeQuota": 2048, "RolePolicySizeQuota": 10240,
		"GroupPolicySizeQuota": 5120, "PolicySizeQuota": 6144, "AttachedPoliciesPerUserQuota": 10, "VersionsPerPolicyQuota": 5, "Users": 1} {
		if sum.SummaryMap[string(k)] != want {
			t.Errorf("SummaryMap[%s] = %d, want %d", k, sum.SummaryMap[string(k)], want)
		}
	}
	_, err = c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bad name!")})
	wantCode(t, err, "ValidationError")
}

func TestIAMSeedHelpers(t *testing.T) {
	srv, c := setup(t)
	// AWS managed policies can be attached and read, not changed.
	arn := srv.AddAWSManagedPolicy("AmazonS3ReadOnlyAccess", s3Read)
	if arn != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Fatal(arn)
	}
	must[*iam.AttachUserPolicyOutput](t)(c.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String(arn)}))
	v := must[*iam.GetPolicyVersionOutput](t)(c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	if d, _ := url.QueryUnescape(*v.PolicyVersion.Document); d != s3Read {
		t.Fatal(d)
	}
	_, err := c.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(s3Read)})
	wantCode(t, err, "AccessDenied")

	// Raw documents skip validation; getters read them back.
	if err := srv.SetInlinePolicyRaw(acctA, "user", "admin", "raw", `not json`); err != nil {
		t.Fatal(err)
	}
	got := must[*iam.GetUserPolicyOutput](t)(c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("raw")}))
	if *got.PolicyDocument != "not%20json" {
		t.Fatal(*got.PolicyDocument)
	}
	if d, ok := srv.InlinePolicy(acctA, "user", "admin", "raw"); !ok || d != "not json" {
		t.Fatal(d)
	}
	pol := must[*iam.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(s3Read)}))
	if err := srv.SetPolicyVersionRaw(*pol.Policy.Arn, "v1", `{"Statement":[]}`); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetPolicyVersionRaw(*pol.Policy.Arn, "v9", `{}`); err == nil {
		t.Fatal("missing version accepted")
	}
	if _, err := srv.UniqueID(acctA, "user", "nobody"); err == nil {
		t.Fatal("UniqueID of a missing user")
	}

	// GetGroup lists members.
	must[*iam.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("admin"), GroupName: aws.String("g")}))
	g := must[*iam.GetGroupOutput](t)(c.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("g")}))
	if len(g.Users) != 1 || *g.Users[0].UserName != "admin" {
		t.Fatalf("members = %+v", g.Users)
	}
	_, err = c.iam.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
	wantCode(t, err, "DeleteConflict")
	must[*iam.RemoveUserFromGroupOutput](t)(c.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("admin"), GroupName: aws.String("g")}))
	must[*iam.DeleteGroupOutput](t)(c.iam.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")}))
	empty := must[*iam.ListGroupsForUserOutput](t)(c.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("admin")}))
	if len(empty.Groups) != 0 || empty.IsTruncated {
		t.Fatalf("groups = %+v", empty)
	}
}
