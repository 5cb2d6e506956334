package awsfake

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestKMSGrantsThroughTheSDK(t *testing.T) {
	_, c := setup(t)
	key := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{})).KeyMetadata
	jane := "arn:aws:iam::" + acctA + ":user/Jane"
	first := must[*kms.CreateGrantOutput](t)(c.kms.CreateGrant(ctx, &kms.CreateGrantInput{
		KeyId: key.KeyId, GranteePrincipal: aws.String(jane), Name: aws.String("reader"),
		Operations:  []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationGenerateDataKey},
		Constraints: &kmstypes.GrantConstraints{EncryptionContextSubset: map[string]string{"aws:s3:arn": "arn:aws:s3:::b"}},
	}))
	for i := 0; i < 120; i++ {
		must[*kms.CreateGrantOutput](t)(c.kms.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key.Arn,
			GranteePrincipal: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/r%d", acctB, i)), Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationEncrypt}}))
	}
	// The SDK's paginator follows NextMarker while Truncated: 50 a page by
	// default, as KMS.
	var all []kmstypes.GrantListEntry
	pages := 0
	for p := kms.NewListGrantsPaginator(c.kms, &kms.ListGrantsInput{KeyId: key.Arn}); p.HasMorePages(); pages++ {
		all = append(all, must[*kms.ListGrantsOutput](t)(p.NextPage(ctx)).Grants...)
	}
	if len(all) != 121 || pages != 3 {
		t.Fatalf("listed %d grants in %d pages, want 121 in 3", len(all), pages)
	}
	g := all[0]
	if *g.GrantId != *first.GrantId || *g.GranteePrincipal != jane || *g.KeyId != *key.Arn || *g.Name != "reader" ||
		*g.IssuingAccount != "arn:aws:iam::"+acctA+":root" || len(g.Operations) != 2 || g.CreationDate == nil ||
		g.Constraints == nil || g.Constraints.EncryptionContextSubset["aws:s3:arn"] != "arn:aws:s3:::b" || g.Constraints.EncryptionContextEquals != nil {
		t.Fatalf("first grant = %+v", g)
	}
	out := must[*kms.ListGrantsOutput](t)(c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId, Limit: aws.Int32(100)}))
	if len(out.Grants) != 100 || !out.Truncated || out.NextMarker == nil {
		t.Fatalf("Limit 100: %d grants, truncated %v", len(out.Grants), out.Truncated)
	}
	_, err := c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId, Limit: aws.Int32(101)})
	wantCode(t, err, "ValidationException")
	_, err = c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId, Marker: aws.String("bogus")})
	wantCode(t, err, "InvalidMarkerException")
	_, err = c.kms.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key.KeyId, GranteePrincipal: aws.String(jane), Operations: []kmstypes.GrantOperation{"Bogus"}})
	wantCode(t, err, "ValidationException")

	must[*kms.RevokeGrantOutput](t)(c.kms.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: key.KeyId, GrantId: first.GrantId}))
	out = must[*kms.ListGrantsOutput](t)(c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId, GranteePrincipal: aws.String(jane)}))
	if len(out.Grants) != 0 || out.Truncated {
		t.Fatalf("after revoke: %+v", out.Grants)
	}
	_, err = c.kms.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: key.KeyId, GrantId: first.GrantId})
	wantCode(t, err, "NotFoundException")
}

func TestIAMTagsThroughTheSDK(t *testing.T) {
	_, c := setup(t)
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Jane")}))
	must[*iam.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Loader"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}))
	var tags []iamtypes.Tag
	for i := 0; i < 30; i++ {
		tags = append(tags, iamtypes.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String(fmt.Sprint(i))})
	}
	must[*iam.TagUserOutput](t)(c.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("Jane"), Tags: tags}))
	// Another case of an existing key replaces its value.
	must[*iam.TagUserOutput](t)(c.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("Jane"), Tags: []iamtypes.Tag{{Key: aws.String("K00"), Value: aws.String("new")}}}))
	var got []iamtypes.Tag
	pages := 0
	for p := iam.NewListUserTagsPaginator(c.iam, &iam.ListUserTagsInput{UserName: aws.String("Jane"), MaxItems: aws.Int32(12)}); p.HasMorePages(); pages++ {
		got = append(got, must[*iam.ListUserTagsOutput](t)(p.NextPage(ctx)).Tags...)
	}
	if len(got) != 30 || pages != 3 || *got[0].Key != "k00" || *got[0].Value != "new" {
		t.Fatalf("%d tags in %d pages, first %s=%s", len(got), pages, *got[0].Key, *got[0].Value)
	}
	must[*iam.TagRoleOutput](t)(c.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Loader"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}))
	must[*iam.UntagRoleOutput](t)(c.iam.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("Loader"), TagKeys: []string{"TEAM"}}))
	rt := must[*iam.ListRoleTagsOutput](t)(c.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("Loader")}))
	if len(rt.Tags) != 0 || rt.IsTruncated {
		t.Fatalf("role tags after untag: %+v", rt.Tags)
	}
	_, err := c.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("Nobody")})
	wantCode(t, err, "NoSuchEntity")
}

// GetUser and GetRole answer with every tag of the entity (IAM holds at
// most 50 and neither call paginates); an untagged entity's answer has
// none.
func TestIAMGetUserAndGetRoleReturnTags(t *testing.T) {
	_, c := setup(t)
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Jane")}))
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Bob")}))
	must[*iam.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Loader"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}))
	var tags []iamtypes.Tag
	for i := range maxTags {
		tags = append(tags, iamtypes.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String(fmt.Sprint(i))})
	}
	must[*iam.TagUserOutput](t)(c.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("Jane"), Tags: tags}))
	must[*iam.TagRoleOutput](t)(c.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Loader"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("etl")}}}))

	u := must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Jane")}))
	if len(u.User.Tags) != maxTags || *u.User.Tags[0].Key != "k00" || *u.User.Tags[maxTags-1].Value != fmt.Sprint(maxTags-1) {
		t.Errorf("GetUser: %d tags, want all %d", len(u.User.Tags), maxTags)
	}
	if b := must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Bob")})); len(b.User.Tags) != 0 {
		t.Errorf("GetUser of an untagged user: %+v", b.User.Tags)
	}
	r := must[*iam.GetRoleOutput](t)(c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Loader")}))
	if len(r.Role.Tags) != 1 || *r.Role.Tags[0].Key != "team" || *r.Role.Tags[0].Value != "etl" {
		t.Errorf("GetRole tags: %+v", r.Role.Tags)
	}
}

func TestIAMProtectedRolesAreUnmodifiable(t *testing.T) {
	_, c := setup(t)
	for _, r := range []struct{ name, path string }{
		{"AWSReservedSSO_DataReaders_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/eu-west-1/"},
		{"AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/"},
	} {
		must[*iam.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), Path: aws.String(r.path), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}))
		_, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String("x"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
		wantCode(t, err, "UnmodifiableEntity")
		// Reading them is fine.
		must[*iam.ListRolePoliciesOutput](t)(c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(r.name)}))
	}
}
