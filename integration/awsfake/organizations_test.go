package awsfake

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// TestOrganizationsWire: the five read calls through the SDK, their
// answers, pagination, and Organizations' own error shapes, which the SDK
// turns into its modelled exception types.
func TestOrganizationsWire(t *testing.T) {
	srv := Start(t)
	ctx := context.Background()
	const mgmt = "999999999999"
	o := srv.AddOrganization(mgmt)
	o.EnablePolicyType(SCP)
	ou := o.AddOU(o.RootID, "Workloads")
	o.AddAccount(acctA, ou)
	deny := o.CreatePolicy(SCP, "Deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)
	o.Attach(deny, acctA)
	o.PageSize = 1
	client := func(account string) *organizations.Client {
		cfg, err := srv.AWSConfig(ctx, srv.AddAccount(account), "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		return organizations.NewFromConfig(cfg)
	}
	c := client(mgmt)

	d, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(d.Organization.Id) != o.ID || aws.ToString(d.Organization.MasterAccountId) != mgmt || d.Organization.FeatureSet != orgtypes.OrganizationFeatureSetAll {
		t.Fatalf("DescribeOrganization: %+v %v", d, err)
	}
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 || len(roots.Roots[0].PolicyTypes) != 1 || roots.Roots[0].PolicyTypes[0].Type != orgtypes.PolicyTypeServiceControlPolicy || roots.Roots[0].PolicyTypes[0].Status != orgtypes.PolicyTypeStatusEnabled {
		t.Fatalf("ListRoots: %+v %v", roots, err)
	}
	ps, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(acctA)})
	if err != nil || len(ps.Parents) != 1 || aws.ToString(ps.Parents[0].Id) != ou || ps.Parents[0].Type != orgtypes.ParentTypeOrganizationalUnit {
		t.Fatalf("ListParents: %+v %v", ps, err)
	}
	ps, err = c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(ou)})
	if err != nil || aws.ToString(ps.Parents[0].Id) != o.RootID || ps.Parents[0].Type != orgtypes.ParentTypeRoot {
		t.Fatalf("ListParents of the OU: %+v %v", ps, err)
	}
	// Two policies on the account, one per page: the paginator follows.
	var ids []string
	pg := organizations.NewListPoliciesForTargetPaginator(c, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(acctA), Filter: orgtypes.PolicyTypeServiceControlPolicy})
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range out.Policies {
			ids = append(ids, aws.ToString(p.Id))
		}
	}
	if pages != 2 || len(ids) != 2 || ids[0] != "p-FullAWSAccess" || ids[1] != deny {
		t.Fatalf("ListPoliciesForTarget: %d pages, %v", pages, ids)
	}
	pol, err := c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(deny)})
	if err != nil || aws.ToString(pol.Policy.PolicySummary.Name) != "Deny" || pol.Policy.PolicySummary.AwsManaged || aws.ToString(pol.Policy.Content) == "" {
		t.Fatalf("DescribePolicy: %+v %v", pol, err)
	}
	full, err := c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	if err != nil || !full.Policy.PolicySummary.AwsManaged {
		t.Fatalf("DescribePolicy FullAWSAccess: %+v %v", full, err)
	}

	// The error shapes, as modelled types.
	var childNotFound *orgtypes.ChildNotFoundException
	if _, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(acctB)}); !errors.As(err, &childNotFound) {
		t.Errorf("ListParents of a non-member: %v", err)
	}
	var targetNotFound *orgtypes.TargetNotFoundException
	if _, err := c.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("ou-none-00000000"), Filter: orgtypes.PolicyTypeServiceControlPolicy}); !errors.As(err, &targetNotFound) {
		t.Errorf("ListPoliciesForTarget of an unknown target: %v", err)
	}
	var policyNotFound *orgtypes.PolicyNotFoundException
	if _, err := c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-nonexist")}); !errors.As(err, &policyNotFound) {
		t.Errorf("DescribePolicy of an unknown policy: %v", err)
	}
	var denied *orgtypes.AccessDeniedException
	if _, err := client(acctA).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); !errors.As(err, &denied) {
		t.Errorf("a member account's call: %v", err)
	}
	var notInUse *orgtypes.AWSOrganizationsNotInUseException
	if _, err := client(acctB).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); !errors.As(err, &notInUse) {
		t.Errorf("an account in no organization: %v", err)
	}
	var tooMany *orgtypes.TooManyRequestsException
	srv.Throttle("organizations:ListRoots", 1)
	if _, err := c.ListRoots(ctx, &organizations.ListRootsInput{}); !errors.As(err, &tooMany) {
		t.Errorf("a throttled call: %v", err)
	}
	// A delegated administrator may read.
	o.Delegate(acctB)
	o.AddAccount(acctB, o.RootID)
	if _, err := client(acctB).ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Errorf("a delegated administrator: %v", err)
	}
}
