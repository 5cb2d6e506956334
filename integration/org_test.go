package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

const orgManagement = "999999999999"

// orgWorld is the cross-account example inside an organization: Jane's
// account under OU Workloads, the bucket's account under OU Data, SCPs and
// RCPs enabled, and a profile "org" for the management account.
func orgWorld(t *testing.T) (*world, *awsfake.Organization, map[string]string) {
	w := newWorld(t, exampleState(t, "seed-cross-account.json", nil))
	o, ous := addOrg(w)
	return w, o, ous
}

// addOrg puts a world's two accounts into an organization (see orgWorld).
func addOrg(w *world) (*awsfake.Organization, map[string]string) {
	o := w.srv.AddOrganization(orgManagement)
	o.EnablePolicyType(awsfake.SCP)
	o.EnablePolicyType(awsfake.RCP)
	ous := map[string]string{"workloads": o.AddOU(o.RootID, "Workloads"), "data": o.AddOU(o.RootID, "Data")}
	o.AddAccount(w.principal, ous["workloads"])
	o.AddAccount(w.resource, ous["data"])
	w.creds["org"] = w.srv.AddAccount(orgManagement)
	w.writeAWSConfig("us-east-1", nil)
	return o, ous
}

// TestOrgThroughTheBinary: with --org-profile every decision takes the
// SCPs and RCPs into account and the plan lists them; an SCP deny blocks
// (exit 3, nothing written); a snapshot keeps them; a missing permission is
// an error naming the call and the target.
func TestOrgThroughTheBinary(t *testing.T) {
	w, o, ous := orgWorld(t)
	org := []string{"--org-profile", "org"}

	w.srv.ResetCalls()
	p := w.planJSON()
	without := total(w.srv.CallCounts())
	w.srv.ResetCalls()
	p = w.planJSON(org...)
	with := total(w.srv.CallCounts())
	t.Logf("plan: %d AWS calls without the organization, %d with it (+%d)", without, with, with-without)
	// The same for a snapshot, and what the organization's calls are: one
	// DescribeOrganization and ListRoots, a ListParents per level above
	// each account, a ListPoliciesForTarget per level and enabled type, a
	// DescribePolicy per distinct policy.
	for _, withOrg := range []bool{false, true} {
		args := []string{"snapshot", "--principal", jane, "--bucket", bucket, "-o", filepath.Join(w.dir, "count.json")}
		if withOrg {
			args = append(args, org...)
		}
		w.srv.ResetCalls()
		w.mustRun(0, args...)
		counts := w.srv.CallCounts()
		orgCalls := map[string]int{}
		for op, n := range counts {
			if strings.HasPrefix(op, "organizations:") {
				orgCalls[op] = n
			}
		}
		t.Logf("snapshot (organization read: %v): %d AWS calls; organizations: %v", withOrg, total(counts), orgCalls)
		if withOrg && total(orgCalls) != 18 {
			t.Errorf("reading the organization for two accounts one OU deep, two policy types, two policies: %d calls, want 18 (%v)", total(orgCalls), orgCalls)
		}
	}
	if p.Organization == nil || len(p.Organization.Evaluated) != 6 {
		t.Fatalf("the plan must list the full-access SCP and RCP at root, OU and account: %+v", p.Organization)
	}
	if slices.ContainsFunc(p.NotEvaluated, func(s string) bool { return strings.Contains(s, "SCP") || strings.Contains(s, "RCP") }) {
		t.Errorf("SCPs and RCPs were read: %v", p.NotEvaluated)
	}
	if p.Blocked() {
		t.Fatalf("full access everywhere blocks nothing: %+v", p.Blockers)
	}

	// A plan saved with the organization is applied with it: the
	// verification after the write must evaluate the SCPs and RCPs too.
	planFile := filepath.Join(w.dir, "org-plan.json")
	w.mustRun(0, append([]string{"plan", "--principal", jane, "--bucket", bucket, "--out", planFile}, org...)...)
	if _, errOut, code := w.aws("apply", "--yes", planFile); code != 1 || !strings.Contains(errOut, "--org-profile") {
		t.Errorf("apply of an organization plan without --org-profile: exit %d\n%s", code, errOut)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a refused apply wrote %d documents", n)
	}
	out, _ := w.mustRun(0, append([]string{"apply", "--yes", planFile}, org...)...)
	if !strings.Contains(out, jane+" can now ") {
		t.Errorf("apply of the saved plan with --org-profile:\n%s", out)
	}

	// A guardrail on uploads at Jane's OU.
	deny := o.CreatePolicy(awsfake.SCP, "NoUploads", `{"Version":"2012-10-17","Statement":[{"Sid":"NoUploads","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`)
	o.Attach(deny, ous["workloads"])
	w.srv.ResetCalls()
	out, _, code := w.aws(append([]string{"apply", "--yes", "--principal", jane, "--bucket", bucket}, org...)...)
	if code != 3 || !strings.Contains(out, "is explicitly denied by SCP "+deny+" (NoUploads) at OU "+ous["workloads"]) {
		t.Fatalf("an SCP deny must block the apply (exit %d):\n%s", code, out)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a blocked apply wrote %d documents", n)
	}

	// The snapshot keeps the organization; planning on it blocks alike.
	snap := filepath.Join(w.dir, "org.json")
	w.mustRun(0, append([]string{"snapshot", "--principal", jane, "--bucket", bucket, "-o", snap}, org...)...)
	st, err := snapshot.Load(snap)
	if err != nil {
		t.Fatal(err)
	}
	if st.Org == nil || st.Org.Policy(deny) == nil {
		t.Fatalf("the snapshot must hold the organization and its policies: %+v", st.Org)
	}
	data, _ := os.ReadFile(snap)
	if !strings.Contains(string(data), `"format": "bucketgrant.snapshot/2"`) {
		t.Error("a snapshot with an organization is version 2")
	}
	out, _, code = w.run("plan", "--state", snap, "--principal", jane, "--bucket", bucket, "--format", "json")
	if code != 3 {
		t.Fatalf("plan on the snapshot: exit %d\n%s", code, out)
	}
	pl, err := diff.ReadPlan("plan", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pl.Blockers, func(b diff.Blocker) bool {
		return b.Kind == diff.BlockOrgPolicy && b.OrgPolicy != nil && b.OrgPolicy.PolicyID == deny && b.OrgPolicy.Target == ous["workloads"]
	}) {
		t.Errorf("the blocker must name the SCP and its level: %+v", pl.Blockers)
	}
	// With a snapshot, organization credentials make no sense.
	if _, errOut, code := w.run("plan", "--state", snap, "--principal", jane, "--bucket", bucket, "--org-profile", "org"); code != 1 || !strings.Contains(errOut, "--state") {
		t.Errorf("--org-profile with --state: exit %d\n%s", code, errOut)
	}

	// A permission missing on the organization's side is an error naming
	// the call and the target, never a silent "not evaluated".
	w.srv.Deny(orgManagement, "organizations:ListPoliciesForTarget")
	_, errOut, code := w.aws(append([]string{"plan", "--principal", jane, "--bucket", bucket}, org...)...)
	if code != 1 || !strings.Contains(errOut, "organizations:ListPoliciesForTarget on root "+o.RootID) || !strings.Contains(errOut, "--org-profile") {
		t.Errorf("a denied organization read: exit %d\n%s", code, errOut)
	}
	noRawErrors(t, errOut)
	w.srv.ClearFaults()

	// Credentials of a member account cannot read the organization.
	w.creds["org"] = w.srv.AddAccount(w.principal)
	w.writeAWSConfig("us-east-1", nil)
	_, errOut, code = w.aws(append([]string{"check", "--principal", jane, "--bucket", bucket}, org...)...)
	if code != 1 || !strings.Contains(errOut, "organizations:DescribeOrganization") {
		t.Errorf("member credentials: exit %d\n%s", code, errOut)
	}
}

// TestOrgSync: a grants file with credentials.org evaluates the SCPs and
// RCPs in every grant's plan; a deny blocks that grant; a failed
// organization read fails the run before anything is written.
func TestOrgSync(t *testing.T) {
	w, o, ous := orgWorld(t)
	file := filepath.Join(w.dir, "grants.yaml")
	text := "version: 1\ncredentials:\n  accounts:\n    \"" + w.principal + "\": {profile: principal}\n    \"" + w.resource + "\": {profile: resource}\n" +
		"  org: {profile: org}\nbuckets:\n  " + bucket + ": {account: \"" + w.resource + "\"}\ngrants:\n  - principal: " + jane + "\n    bucket: " + bucket + "\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rcp := o.CreatePolicy(awsfake.RCP, "NoKMSFromOutside", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"`+o.ID+`"}}}]}`)
	o.Attach(rcp, ous["data"])
	// Jane is in the organization: the RCP lets her through.
	out, errOut, code := w.run("sync", "-f", file, "--dry-run")
	if code != 0 || !strings.Contains(out, "drift found") {
		t.Fatalf("sync with the organization read: exit %d\n%s%s", code, out, errOut)
	}
	// An SCP on Jane's account denies decrypting: blocked.
	scp := o.CreatePolicy(awsfake.SCP, "NoDecrypt", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	o.Attach(scp, w.principal)
	w.srv.ResetCalls()
	out, _, code = w.run("sync", "-f", file, "--yes")
	if code != 3 || !strings.Contains(out, "SCP "+scp+" (NoDecrypt) at account "+w.principal) {
		t.Errorf("the SCP must block the grant (exit %d):\n%s", code, out)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a blocked grant wrote %d documents", n)
	}
	// The organization cannot be read: the run fails, nothing is written.
	w.srv.Deny(orgManagement, "organizations:ListParents")
	w.srv.ResetCalls()
	_, errOut, code = w.run("sync", "-f", file, "--yes")
	if code != 1 || !strings.Contains(errOut, "organizations:ListParents on account ") || !strings.Contains(errOut, "credentials.org") {
		t.Errorf("a denied organization read must fail the run: exit %d\n%s", code, errOut)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a failed run wrote %d documents", n)
	}
}
