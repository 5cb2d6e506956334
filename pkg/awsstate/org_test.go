package awsstate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	orgMgmt    = "999999999999"
	orgMember  = "111122223333"
	orgMember2 = "123456789098"
	orgOutside = "444455556666"
	orgAdmin   = "555566667777" // a delegated administrator
)

type orgWorld struct {
	srv         *awsfake.Server
	org         *awsfake.Organization
	workloads   string
	team        string
	denyUploads string
}

// newOrgWorld seeds: root → Workloads → Team → member; root → member2; the
// management account at the root; SCPs and RCPs enabled; a deny-uploads SCP
// at Workloads; one item per page, so every list call paginates.
func newOrgWorld(t *testing.T) *orgWorld {
	srv := awsfake.Start(t)
	o := srv.AddOrganization(orgMgmt)
	o.PageSize = 1
	o.EnablePolicyType(awsfake.SCP)
	o.EnablePolicyType(awsfake.RCP)
	w := &orgWorld{srv: srv, org: o}
	w.workloads = o.AddOU(o.RootID, "Workloads")
	w.team = o.AddOU(w.workloads, "Team")
	o.AddAccount(orgMember, w.team)
	o.AddAccount(orgMember2, o.RootID)
	o.AddAccount(orgAdmin, o.RootID)
	o.Delegate(orgAdmin)
	w.denyUploads = o.CreatePolicy(awsfake.SCP, "DenyUploads", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`)
	o.Attach(w.denyUploads, w.workloads)
	srv.AddAccount(orgOutside)
	return w
}

func (w *orgWorld) reader(t *testing.T, account string, calls *int) *awsstate.OrgReader {
	creds := w.srv.AddAccount(account)
	cfg, err := w.srv.AWSConfig(context.Background(), creds, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return &awsstate.OrgReader{API: organizations.NewFromConfig(cfg), Label: "org test credentials", Calls: calls}
}

func TestOrgReaderThroughTheSDK(t *testing.T) {
	w := newOrgWorld(t)
	calls := 0
	org, err := w.reader(t, orgMgmt, &calls).Read(context.Background(), orgMember, orgMember2, orgOutside, orgMember)
	if err != nil {
		t.Fatal(err)
	}
	if org.ID != w.org.ID || org.ManagementAccount != orgMgmt || org.RootID != w.org.RootID {
		t.Errorf("organization %+v", org)
	}
	if !org.Enabled(state.SCPType) || !org.Enabled(state.RCPType) {
		t.Errorf("enabled types %v", org.EnabledTypes)
	}
	if got, want := org.PathString(orgMember), w.org.ID+"/"+w.org.RootID+"/"+w.workloads+"/"+w.team+"/"; got != want {
		t.Errorf("path of %s: %q, want %q", orgMember, got, want)
	}
	if got, want := org.PathString(orgMember2), w.org.ID+"/"+w.org.RootID+"/"; got != want {
		t.Errorf("path of %s: %q, want %q", orgMember2, got, want)
	}
	if !org.IsOutside(orgOutside) {
		t.Errorf("%s is outside the organization: %v", orgOutside, org.Outside)
	}
	ou := org.Target(w.workloads)
	if ou == nil || len(ou.SCPs) != 2 || ou.SCPs[1] != w.denyUploads || len(ou.RCPs) != 1 {
		t.Fatalf("Workloads' policies: %+v", ou)
	}
	if p := org.Policy(w.denyUploads); p == nil || p.Name != "DenyUploads" || p.Type != state.SCPType || p.AWSManaged || !strings.Contains(p.Document.String(), "s3:PutObject") {
		t.Errorf("the deny policy read wrong: %+v", p)
	}
	if p := org.Policy("p-FullAWSAccess"); p == nil || !p.AWSManaged {
		t.Errorf("FullAWSAccess: %+v", p)
	}
	// The call count: 1 DescribeOrganization, 1 ListRoots, ListParents for
	// member (3 levels) + member2 (1) + outside (1), ListPoliciesForTarget
	// for 5 targets x 2 types with one page per policy plus a last page,
	// DescribePolicy for the 3 policies. Each page is a call.
	t.Logf("reading the organization for 3 accounts took %d calls (one item per page)", calls)
	if calls < 2+5+10+3 {
		t.Errorf("only %d calls: the lists were not paginated", calls)
	}
	// A state holding it round-trips through the planner's rules.
	if org.Path(orgMember) == nil || len(org.Path(orgMember)) != 4 {
		t.Errorf("path %v", org.Path(orgMember))
	}
}

func TestOrgReaderDelegatedAdministrator(t *testing.T) {
	w := newOrgWorld(t)
	if _, err := w.reader(t, orgAdmin, nil).Read(context.Background(), orgMember); err != nil {
		t.Fatalf("a delegated administrator reads the organization: %v", err)
	}
}

func TestOrgReaderErrorsNameTheCallAndTarget(t *testing.T) {
	w := newOrgWorld(t)
	ctx := context.Background()
	_, err := w.reader(t, orgMember, nil).Read(ctx, orgMember)
	var ae *awsstate.Error
	if !errors.As(err, &ae) || ae.Kind != awsstate.KindAccessDenied || ae.Op != "organizations:DescribeOrganization" || !strings.Contains(ae.Hint, "--org-profile") {
		t.Errorf("a member account without rights: %v (hint %q)", err, awsstate.Hint(err))
	}
	_, err = w.reader(t, orgOutside, nil).Read(ctx, orgMember)
	if err == nil || !strings.Contains(err.Error(), "not in an organization") {
		t.Errorf("credentials outside every organization: %v", err)
	}
	w.srv.Deny(orgMgmt, "organizations:ListParents")
	_, err = w.reader(t, orgMgmt, nil).Read(ctx, orgMember)
	if !errors.As(err, &ae) || ae.Op != "organizations:ListParents" || ae.Resource != "account "+orgMember {
		t.Errorf("ListParents denied: %v", err)
	}
	w.srv.ClearFaults()
	w.srv.Deny(orgMgmt, "organizations:DescribePolicy")
	_, err = w.reader(t, orgMgmt, nil).Read(ctx, orgMember)
	if !errors.As(err, &ae) || ae.Op != "organizations:DescribePolicy" || !strings.HasPrefix(ae.Resource, "policy p-") {
		t.Errorf("DescribePolicy denied: %v", err)
	}
	w.srv.ClearFaults()
	w.srv.Deny(orgMgmt, "organizations:ListPoliciesForTarget")
	_, err = w.reader(t, orgMgmt, nil).Read(ctx, orgMember)
	if !errors.As(err, &ae) || ae.Op != "organizations:ListPoliciesForTarget" || !strings.Contains(ae.Resource, "root ") {
		t.Errorf("ListPoliciesForTarget denied: %v", err)
	}
}
