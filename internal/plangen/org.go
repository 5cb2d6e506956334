package plangen

import (
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Organizations, KMS grants and principal tags in generated scenarios,
// modelled from AWS's documentation (Organizations User Guide, SCP and RCP
// evaluation; KMS Developer Guide, grants; IAM User Guide, global condition
// keys), independently of pkg/diff.

// The organization every account of an organization scenario is in: the
// principal's account under OU Workloads, the bucket's and the third
// account under OU Data, and the management account AccountO (which never
// calls and owns nothing) under the root, unless Org.Management says
// otherwise.
const (
	OrgID     = "o-a1b2c3d4e5" // the ID the generated conditions name
	RootID    = "r-ab12"
	OUPrin    = "ou-ab12-11111111" // Workloads (the paths conditions name)
	OUData    = "ou-ab12-22222222"
	scpFull   = "p-FullAWSAccess"
	rcpFull   = "p-RCPFullAWSAccess"
	fullSCP   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	fullRCP   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	typeSCP   = state.SCPType
	typeRCP   = state.RCPType
	orgPolicy = "p-gen"
)

// Org is a scenario's organization: which account manages it, and the
// policies attached beside (or instead of) the AWS managed full-access
// ones.
type Org struct {
	Management string
	Policies   []OrgPol
}

// OrgPol is one SCP or RCP attached at a target: the root (RootID), an
// OU or an account.
type OrgPol struct {
	Type   string // state.SCPType or state.RCPType
	Target string
	// Replace: attached instead of the full-access policy at that level
	// (so the level allows only what it allows).
	Replace bool
	Doc     Doc
}

// Grant is a KMS grant on the bucket's key.
type Grant struct {
	ID      string
	Grantee string
	Ops     []string
	// Subset and Equals are the encryption-context constraints (nil: not
	// set).
	Subset, Equals map[string]string
}

// Tag is an IAM tag on the principal.
type Tag struct{ Key, Value string }

// ouOf is the OU an account sits under.
func ouOf(account string) string {
	switch account {
	case AccountP:
		return OUPrin
	case AccountB, AccountK:
		return OUData
	}
	return RootID
}

// PathOf is the account's aws:PrincipalOrgPaths / aws:ResourceOrgPaths
// value: the organization, the root and the OUs above the account.
func PathOf(account string) string {
	if ou := ouOf(account); ou != RootID {
		return OrgID + "/" + RootID + "/" + ou + "/"
	}
	return OrgID + "/" + RootID + "/"
}

// orgState builds the state's organization.
func (s *Scenario) orgState() *state.Organization {
	o := s.Org
	st := &state.Organization{ID: OrgID, ManagementAccount: o.Management, RootID: RootID,
		EnabledTypes: []string{state.SCPType, state.RCPType},
		Policies: []state.OrgPolicy{
			{ID: scpFull, Name: "FullAWSAccess", Type: state.SCPType, AWSManaged: true, Document: state.NewDoc(fullSCP)},
			{ID: rcpFull, Name: "RCPFullAWSAccess", Type: state.RCPType, AWSManaged: true, Document: state.NewDoc(fullRCP)},
		}}
	targets := []state.OrgTarget{{ID: RootID, Name: "Root"}, {ID: OUPrin, Parent: RootID, Name: "Workloads"}, {ID: OUData, Parent: RootID, Name: "Data"}}
	for _, a := range []string{AccountP, AccountB, AccountK, AccountO} {
		targets = append(targets, state.OrgTarget{ID: a, Parent: ouOf(a)})
	}
	for i := range targets {
		t := &targets[i]
		t.SCPs, t.RCPs = []string{scpFull}, []string{rcpFull}
		for j, p := range o.Policies {
			if p.Target != t.ID {
				continue
			}
			id := orgPolicy + string(rune('a'+j))
			st.Policies = append(st.Policies, state.OrgPolicy{ID: id, Name: "Generated", Type: p.Type, Document: state.NewDoc(p.Doc.JSON())})
			ids := &t.SCPs
			if p.Type == state.RCPType {
				ids = &t.RCPs
			}
			if p.Replace {
				*ids = slices.DeleteFunc(*ids, func(x string) bool { return x == scpFull || x == rcpFull })
			}
			*ids = append(*ids, id)
		}
	}
	st.Targets = targets
	return st
}

// OrgLevels lists, root first, the levels above account with the
// documents of one type attached at each (nil when that type does not
// limit it: the management account).
func (s *Scenario) OrgLevels(typ, account string) [][]string {
	if s.Org == nil || account == s.Org.Management {
		return nil
	}
	path := []string{RootID}
	if ou := ouOf(account); ou != RootID {
		path = append(path, ou)
	}
	path = append(path, account)
	var out [][]string
	for _, t := range path {
		full := fullSCP
		if typ == state.RCPType {
			full = fullRCP
		}
		docs := []string{full}
		for _, p := range s.Org.Policies {
			if p.Target != t || p.Type != typ {
				continue
			}
			if p.Replace {
				docs = slices.DeleteFunc(docs, func(d string) bool { return d == full })
			}
			docs = append(docs, p.Doc.JSON())
		}
		out = append(out, docs)
	}
	return out
}

// tagsState is the principal's tags as read.
func (s *Scenario) tagsState() []state.Tag {
	if s.PrincipalTags == nil {
		return nil
	}
	out := []state.Tag{}
	for _, t := range s.PrincipalTags {
		out = append(out, state.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// grantsState is the key's grants as read.
func (s *Scenario) grantsState() []state.Grant {
	if s.Grants == nil {
		return nil
	}
	out := []state.Grant{}
	for _, g := range s.Grants {
		sg := state.Grant{ID: g.ID, GranteePrincipal: g.Grantee, Operations: slices.Clone(g.Ops)}
		if g.Subset != nil || g.Equals != nil {
			sg.Constraints = &state.GrantConstraints{EncryptionContextSubset: g.Subset, EncryptionContextEquals: g.Equals}
		}
		out = append(out, sg)
	}
	return out
}

// orgFacts adds the organization keys AWS sets on a request: the
// principal's organization and path, and the resource's (IAM User Guide,
// global condition keys aws:PrincipalOrgID, aws:PrincipalOrgPaths,
// aws:ResourceOrgID, aws:ResourceOrgPaths).
func (s *Scenario) orgFacts(ctx map[string][]string, resourceAccount string) {
	if s.Org == nil {
		return
	}
	ctx["aws:PrincipalOrgID"] = []string{OrgID}
	ctx["aws:PrincipalOrgPaths"] = []string{PathOf(AccountP)}
	ctx["aws:ResourceOrgID"] = []string{OrgID}
	ctx["aws:ResourceOrgPaths"] = []string{PathOf(resourceAccount)}
}

// tagFacts adds a user's tags, which are facts once read (a role's
// sessions may carry session tags that replace them: unknown).
func (s *Scenario) tagFacts(ctx map[string][]string) {
	if s.Kind != "user" || s.PrincipalTags == nil {
		return
	}
	for _, t := range s.PrincipalTags {
		ctx["aws:PrincipalTag/"+t.Key] = []string{t.Value}
	}
}

// Classify is the package's Classify with what the scenario read: the
// organization's keys are facts when there is one, and a user's tags when
// they were read.
func (s *Scenario) Classify(key, action string, kms bool) Class {
	k := strings.ToLower(key)
	switch {
	case s.Org != nil && (k == "aws:principalorgid" || k == "aws:principalorgpaths" || k == "aws:resourceorgid" || k == "aws:resourceorgpaths"):
		return Fact
	case s.Kind == "user" && s.PrincipalTags != nil && strings.HasPrefix(k, "aws:principaltag/"):
		return Fact
	}
	return Classify(key, action, kms)
}
