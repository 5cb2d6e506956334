package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	fullAccessSCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	fullAccessRCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	bucketAccount = "123456789098"
	janeAccount   = "111122223333"
	mgmtAccount   = "999999999999"
)

// testOrg is an organization holding Jane's account and the bucket's (the
// cross-account seed) under one OU each, with the AWS managed full-access
// SCP and RCP everywhere and extra policies at the OUs.
func testOrg(extraSCP, extraRCP map[string]string) *state.Organization {
	o := &state.Organization{
		ID: "o-exampleorgid", ManagementAccount: mgmtAccount, RootID: "r-ab12",
		EnabledTypes: []string{state.SCPType, state.RCPType},
		Policies: []state.OrgPolicy{
			{ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: state.SCPType, AWSManaged: true, Document: state.NewDoc(fullAccessSCP)},
			{ID: "p-RCPFullAWSAccess", Name: "RCPFullAWSAccess", Type: state.RCPType, AWSManaged: true, Document: state.NewDoc(fullAccessRCP)},
		},
	}
	full := func() ([]string, []string) { return []string{"p-FullAWSAccess"}, []string{"p-RCPFullAWSAccess"} }
	add := func(id, parent, name string) {
		s, r := full()
		o.Targets = append(o.Targets, state.OrgTarget{ID: id, Parent: parent, Name: name, SCPs: s, RCPs: r})
	}
	add("r-ab12", "", "Root")
	add("ou-ab12-11111111", "r-ab12", "Workloads")
	add("ou-ab12-22222222", "r-ab12", "Data")
	add(janeAccount, "ou-ab12-11111111", "")
	add(bucketAccount, "ou-ab12-22222222", "")
	add(mgmtAccount, "r-ab12", "management")
	attach := func(extra map[string]string, typ string) {
		for target, doc := range extra {
			id := "p-" + strings.ToLower(typ[:3]) + strings.ReplaceAll(target, "-", "")
			o.Policies = append(o.Policies, state.OrgPolicy{ID: id, Name: "Guardrail", Type: typ, Document: state.NewDoc(doc)})
			t := o.Target(target)
			if typ == state.SCPType {
				t.SCPs = append(t.SCPs, id)
			} else {
				t.RCPs = append(t.RCPs, id)
			}
		}
	}
	attach(extraSCP, state.SCPType)
	attach(extraRCP, state.RCPType)
	return o
}

func TestOrgNotReadSaysNotEvaluated(t *testing.T) {
	p := mustPlan(t, load(t, crossSnap), diff.Options{})
	if !slices.Contains(p.NotEvaluated, "service control policies (SCPs; no organization credentials)") || p.Organization != nil {
		t.Fatalf("without the organization the plan must say SCPs are not evaluated: %v", p.NotEvaluated)
	}
}

func TestOrgFullAccessChangesNothingAndIsListed(t *testing.T) {
	st := load(t, crossSnap)
	without := mustPlan(t, st, diff.Options{})
	st.Org = testOrg(nil, nil)
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() || len(p.Changes) != len(without.Changes) {
		t.Fatalf("full access everywhere must not change the plan: blockers %v, %d changes (want %d)", p.Blockers, len(p.Changes), len(without.Changes))
	}
	if slices.ContainsFunc(p.NotEvaluated, func(s string) bool { return strings.Contains(s, "SCP") || strings.Contains(s, "RCP") }) {
		t.Errorf("SCPs and RCPs were evaluated, yet the plan lists them as not evaluated: %v", p.NotEvaluated)
	}
	// Jane's path: root, OU, account for SCPs; the bucket's and key's
	// account (the same) for RCPs.
	var scp, rcp int
	for _, e := range p.Organization.Evaluated {
		switch e.Kind {
		case diff.OrgSCP:
			scp++
			if e.Account != janeAccount {
				t.Errorf("SCP evaluated for account %s, want Jane's %s", e.Account, janeAccount)
			}
		case diff.OrgRCP:
			rcp++
		}
	}
	if scp != 3 || rcp != 3 {
		t.Errorf("evaluated %d SCP and %d RCP attachments, want 3 and 3: %+v", scp, rcp, p.Organization.Evaluated)
	}
}

func TestOrgSCPDenyBlocks(t *testing.T) {
	st := load(t, crossSnap)
	st.Org = testOrg(map[string]string{"ou-ab12-11111111": `{"Version":"2012-10-17","Statement":[{"Sid":"NoUploads","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`}, nil)
	p := mustPlan(t, st, diff.Options{})
	if !slices.Contains(blockerKinds(p), diff.BlockOrgPolicy) || len(p.Changes) != 0 {
		t.Fatalf("an SCP deny must block: %+v", p.Blockers)
	}
	b := p.Blockers[slices.Index(blockerKinds(p), diff.BlockOrgPolicy)]
	if b.OrgPolicy == nil || b.OrgPolicy.Target != "ou-ab12-11111111" || b.OrgPolicy.Kind != diff.OrgSCP || !strings.Contains(b.Message, "OU ou-ab12-11111111 (Workloads)") {
		t.Errorf("the blocker must name the policy and the level: %+v %+v", b, b.OrgPolicy)
	}
}

func TestOrgSCPWithoutAllowBlocks(t *testing.T) {
	st := load(t, crossSnap)
	st.Org = testOrg(nil, nil)
	// The OU keeps only a policy that allows S3: KMS has no Allow there.
	ou := st.Org.Target("ou-ab12-11111111")
	st.Org.Policies = append(st.Org.Policies, state.OrgPolicy{ID: "p-s3only", Name: "S3Only", Type: state.SCPType,
		Document: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	ou.SCPs = []string{"p-s3only"}
	p := mustPlan(t, st, diff.Options{})
	if !slices.Contains(blockerKinds(p), diff.BlockOrgPolicy) {
		t.Fatalf("a level without an Allow must block: %+v", p.Blockers)
	}
	for _, b := range p.Blockers {
		if b.Kind == diff.BlockOrgPolicy && !strings.Contains(b.Message, "kms:") {
			t.Errorf("only the KMS requests lack an Allow: %s", b.Message)
		}
	}
}

// A data-perimeter SCP exempts the KMS request S3 makes for the principal
// with aws:ViaAWSService; a plain one does not.
func TestOrgSCPOnForwardAccessSessions(t *testing.T) {
	st := load(t, crossSnap)
	st.Org = testOrg(map[string]string{janeAccount: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"BoolIfExists":{"aws:ViaAWSService":"false"}}}]}`}, nil)
	if p := mustPlan(t, st, diff.Options{}); p.Blocked() {
		t.Fatalf("the SCP exempts requests through AWS services: %+v", p.Blockers)
	}
	st.Org = testOrg(map[string]string{janeAccount: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`}, nil)
	if p := mustPlan(t, st, diff.Options{}); !slices.Contains(blockerKinds(p), diff.BlockOrgPolicy) {
		t.Fatalf("the principal's SCPs apply to S3's KMS request on its behalf: %+v", p.Blockers)
	}
}

// An identity-perimeter RCP admits the organization's principals
// (aws:PrincipalOrgID is known once the organization is read) and keeps
// others out, even where the bucket policy would let them in.
func TestOrgRCPIdentityPerimeter(t *testing.T) {
	perimeter := `{"Version":"2012-10-17","Statement":[{"Sid":"EnforceOrgIdentities","Effect":"Deny","Principal":"*","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-exampleorgid"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}`
	st := load(t, crossSnap)
	st.Org = testOrg(nil, map[string]string{"ou-ab12-22222222": perimeter})
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() {
		t.Fatalf("Jane is in the organization: %+v", p.Blockers)
	}
	for _, r := range p.Requests {
		if r.Condition != "" {
			t.Errorf("%s hangs on %q, but the organization is known", r.Action, r.Condition)
		}
	}
	// Jane's account leaves the organization.
	st.Org.Targets = slices.DeleteFunc(st.Org.Targets, func(t state.OrgTarget) bool { return t.ID == janeAccount })
	st.Org.Outside = []string{janeAccount}
	p = mustPlan(t, st, diff.Options{})
	if !slices.Contains(p.NotEvaluated, "SCPs of account 111122223333 (not in organization o-exampleorgid)") {
		t.Errorf("another organization's SCPs are not evaluated: %v", p.NotEvaluated)
	}
	// Its aws:PrincipalOrgID is absent or another organization's: the
	// deny applies either way.
	if !slices.Contains(blockerKinds(p), diff.BlockOrgPolicy) {
		t.Fatalf("an outsider is kept out: %+v %+v", p.Blockers, p.Requests)
	}
}

func TestOrgManagementAccountIsNotLimited(t *testing.T) {
	st := load(t, crossSnap)
	st.Org = testOrg(map[string]string{"r-ab12": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`},
		map[string]string{"r-ab12": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`})
	if p := mustPlan(t, st, diff.Options{}); !slices.Contains(blockerKinds(p), diff.BlockOrgPolicy) {
		t.Fatalf("a deny-all at the root blocks member accounts: %+v", p.Blockers)
	}
	// Move both accounts' roles: the bucket's account becomes the
	// management account, so neither its SCPs... only the RCPs stop.
	st.Org.ManagementAccount = bucketAccount
	p := mustPlan(t, st, diff.Options{})
	for _, b := range p.Blockers {
		if b.OrgPolicy != nil && b.OrgPolicy.Kind == diff.OrgRCP {
			t.Errorf("RCPs do not limit the management account's resources: %s", b.Message)
		}
	}
	if !slices.ContainsFunc(p.Organization.NotApplied, func(s string) bool { return strings.Contains(s, "management account "+bucketAccount) }) {
		t.Errorf("the plan must say why RCPs did not apply: %v", p.Organization.NotApplied)
	}
}

func TestOrgAWSManagedKeyHasNoRCPs(t *testing.T) {
	st := load(t, sameSnap)
	for i := range st.Keys {
		st.Keys[i].KeyManager = "AWS"
	}
	st.Org = testOrg(nil, nil)
	st.Org.Targets = append(st.Org.Targets, state.OrgTarget{ID: "r-unused"}) // harmless extra target
	p := mustPlan(t, st, diff.Options{})
	if !slices.ContainsFunc(p.Organization.NotApplied, func(s string) bool { return strings.Contains(s, "AWS managed keys") }) {
		t.Errorf("RCPs do not apply to AWS managed keys: %v", p.Organization.NotApplied)
	}
	_ = policy.Allowed
}
