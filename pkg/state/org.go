package state

import "slices"

// Organization policy types, as AWS Organizations names them.
const (
	SCPType = "SERVICE_CONTROL_POLICY"
	RCPType = "RESOURCE_CONTROL_POLICY"
)

// Organization is what bucketgrant read of the AWS organization the
// accounts of a grant belong to: the hierarchy above each account it looked
// at and the service and resource control policies attached along it. A nil
// *Organization means it was not read (no organization credentials), so
// SCPs and RCPs are not evaluated.
type Organization struct {
	ID                string // o-…
	ManagementAccount string // 12 digits
	RootID            string // r-…
	// EnabledTypes are the policy types enabled at the root (SCPType,
	// RCPType). A type that is not enabled limits nothing.
	EnabledTypes []string
	// Targets are the root, the OUs and the accounts read, each with its
	// parent and the policies attached to it directly.
	Targets []OrgTarget
	// Policies are the documents of every policy attached to a target.
	Policies []OrgPolicy
	// Outside lists accounts that were asked about and are not members of
	// this organization (they may belong to another one, which these
	// credentials cannot read).
	Outside []string

	Source Source
}

// OrgTarget is the root, an OU or an account.
type OrgTarget struct {
	ID     string // r-…, ou-…, or a 12-digit account ID
	Name   string // optional, for people
	Parent string // "" for the root
	SCPs   []string
	RCPs   []string

	Source Source
}

// OrgPolicy is one SCP or RCP.
type OrgPolicy struct {
	ID         string // p-… (p-FullAWSAccess for AWS's own)
	Name       string
	Type       string // SCPType or RCPType
	AWSManaged bool
	Document   *Doc

	Source Source
}

// Enabled reports whether the policy type is enabled in the organization.
func (o *Organization) Enabled(typ string) bool {
	return o != nil && slices.Contains(o.EnabledTypes, typ)
}

// Target returns the target with that ID, or nil.
func (o *Organization) Target(id string) *OrgTarget {
	if o == nil {
		return nil
	}
	for i := range o.Targets {
		if o.Targets[i].ID == id {
			return &o.Targets[i]
		}
	}
	return nil
}

// Policy returns the policy with that ID, or nil.
func (o *Organization) Policy(id string) *OrgPolicy {
	if o == nil {
		return nil
	}
	for i := range o.Policies {
		if o.Policies[i].ID == id {
			return &o.Policies[i]
		}
	}
	return nil
}

// IsMember reports whether the account is a member of the organization as
// read (the management account included).
func (o *Organization) IsMember(account string) bool {
	return o != nil && o.Target(account) != nil
}

// IsOutside reports whether the account was found not to be a member.
func (o *Organization) IsOutside(account string) bool {
	return o != nil && slices.Contains(o.Outside, account)
}

// Path returns the targets from the root down to the account (the account
// last), or nil when the account is not held or its chain of parents is
// broken (a parent not held, or a cycle).
func (o *Organization) Path(account string) []*OrgTarget {
	t := o.Target(account)
	if t == nil {
		return nil
	}
	var up []*OrgTarget
	for t != nil {
		if len(up) > len(o.Targets) {
			return nil // a cycle
		}
		up = append(up, t)
		if t.Parent == "" {
			break
		}
		t = o.Target(t.Parent)
		if t == nil {
			return nil
		}
	}
	if up[len(up)-1].ID != o.RootID {
		return nil
	}
	slices.Reverse(up)
	return up
}

// PathString is the account's aws:PrincipalOrgPaths / aws:ResourceOrgPaths
// value: o-…/r-…/ou-…/…/ (IAM User Guide, global condition keys), "" when
// the account's path is not held. The path names the account's parent, not
// the account itself.
func (o *Organization) PathString(account string) string {
	path := o.Path(account)
	if path == nil {
		return ""
	}
	s := o.ID + "/"
	for _, t := range path[:len(path)-1] {
		s += t.ID + "/"
	}
	return s
}
