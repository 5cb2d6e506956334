package awsstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// OrganizationsAPI is what the organization reader calls, with credentials
// of the organization's management account or of a delegated administrator
// for Organizations policies (AWS Organizations User Guide, "Delegated
// administrator for AWS Organizations"): both may describe the
// organization, walk its hierarchy and read its policies.
type OrganizationsAPI interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	ListPoliciesForTarget(context.Context, *organizations.ListPoliciesForTargetInput, ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
}

var _ OrganizationsAPI = (*organizations.Client)(nil)

// OrgReader reads the part of an organization that decides requests of
// and to some accounts: for each account its parents up to the root, and at
// every level (the account, each OU, the root) the SCPs and RCPs attached,
// with their documents. Nothing is written.
type OrgReader struct {
	API OrganizationsAPI
	// Label says where the credentials came from (for errors).
	Label string
	// Calls, when set, counts the AWS calls made (for the report of how
	// many calls reading the organization takes).
	Calls *int
}

// orgRun is one Read's caches: each target's parent and policies, and each
// policy's document, are read once however many accounts share them.
type orgRun struct {
	o       *OrgReader
	org     *state.Organization
	parents map[string]string // child → parent
	targets map[string]*state.OrgTarget
}

// Read reads the organization and the hierarchy above each account. An
// account that is not a member is recorded in Outside. A failed read is an
// error naming the call (the permission it needs) and the account or target
// it was about.
func (o *OrgReader) Read(ctx context.Context, accounts ...string) (*state.Organization, error) {
	ru := &orgRun{o: o, parents: map[string]string{}, targets: map[string]*state.OrgTarget{}}
	var desc *organizations.DescribeOrganizationOutput
	err := o.call(func() error {
		var err error
		desc, err = o.API.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	})
	if err != nil {
		return nil, o.classify(err, "organizations:DescribeOrganization", "the organization")
	}
	if desc.Organization == nil || aws.ToString(desc.Organization.Id) == "" {
		return nil, &Error{Kind: KindOther, Op: "organizations:DescribeOrganization answered without an organization", Identity: o.Label,
			Hint: "check that --org-profile / --org-role-arn are credentials of an account in the organization"}
	}
	ru.org = &state.Organization{ID: aws.ToString(desc.Organization.Id), ManagementAccount: aws.ToString(desc.Organization.MasterAccountId)}
	if err := ru.root(ctx); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, a := range accounts {
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		if err := ru.account(ctx, a); err != nil {
			return nil, err
		}
	}
	for _, t := range ru.org.Targets {
		if err := ru.policies(ctx, t.ID); err != nil {
			return nil, err
		}
	}
	// Targets were appended by pointer into the map; copy them back.
	for i := range ru.org.Targets {
		ru.org.Targets[i] = *ru.targets[ru.org.Targets[i].ID]
	}
	return ru.org, nil
}

func (o *OrgReader) call(f func() error) error {
	if o.Calls != nil {
		*o.Calls++
	}
	return f()
}

// classify names the call and what it was about, and turns the answers of
// Organizations that are not access problems into plain words.
func (o *OrgReader) classify(err error, op, about string) error {
	switch code(err) {
	case "AWSOrganizationsNotInUseException":
		// The message says it in words, with AWS's code for searching.
		return &Error{Kind: KindOther, Op: op, Identity: o.Label,
			Err:  errors.New("the account of these credentials (" + o.Label + ") is not in an organization (AWSOrganizationsNotInUseException)"),
			Hint: "pass --org-profile or --org-role-arn for the organization's management account, or leave them out to plan without SCPs and RCPs"}
	case "PolicyTypeNotEnabledException":
		return &Error{Kind: KindOther, Op: op, Resource: about, Identity: o.Label,
			Err:  errors.New("the policy type is not enabled (PolicyTypeNotEnabledException)"),
			Hint: "run again; if it persists, report it (bucketgrant reads only enabled types)"}
	}
	return Classify(err, op, about, o.Label)
}

// root reads the root and the policy types enabled there (ListRoots: the
// types enabled in the organization are those ENABLED at its root).
func (ru *orgRun) root(ctx context.Context) error {
	var roots []orgtypes.Root
	p := organizations.NewListRootsPaginator(ru.o.API, &organizations.ListRootsInput{})
	for p.HasMorePages() {
		var out *organizations.ListRootsOutput
		err := ru.o.call(func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return ru.o.classify(err, "organizations:ListRoots", "organization "+ru.org.ID)
		}
		roots = append(roots, out.Roots...)
	}
	if len(roots) != 1 || aws.ToString(roots[0].Id) == "" {
		return &Error{Kind: KindOther, Op: fmt.Sprintf("organizations:ListRoots on organization %s answered %d roots, want one", ru.org.ID, len(roots)), Identity: ru.o.Label,
			Hint: "run again with --debug to see the answer"}
	}
	r := roots[0]
	ru.org.RootID = aws.ToString(r.Id)
	for _, pt := range r.PolicyTypes {
		if pt.Status != orgtypes.PolicyTypeStatusEnabled {
			continue
		}
		switch pt.Type {
		case orgtypes.PolicyTypeServiceControlPolicy:
			ru.org.EnabledTypes = append(ru.org.EnabledTypes, state.SCPType)
		case orgtypes.PolicyTypeResourceControlPolicy:
			ru.org.EnabledTypes = append(ru.org.EnabledTypes, state.RCPType)
		}
	}
	ru.add(state.OrgTarget{ID: ru.org.RootID, Name: aws.ToString(r.Name)})
	return nil
}

func (ru *orgRun) add(t state.OrgTarget) {
	if _, ok := ru.targets[t.ID]; ok {
		return
	}
	ru.org.Targets = append(ru.org.Targets, t)
	c := t
	ru.targets[t.ID] = &c
}

// account walks from the account up to the root with ListParents.
func (ru *orgRun) account(ctx context.Context, account string) error {
	child := account
	for depth := 0; ; depth++ {
		if t, ok := ru.targets[child]; ok && child != account && t.Parent != "" {
			return nil // the rest of the path is known
		}
		if depth > 10 {
			// An organization nests OUs five deep at most.
			return &Error{Kind: KindOther, Op: fmt.Sprintf("organizations:ListParents from account %s: no root after %d levels", account, depth), Identity: ru.o.Label,
				Hint: "run again with --debug to see the answers"}
		}
		var parents []orgtypes.Parent
		p := organizations.NewListParentsPaginator(ru.o.API, &organizations.ListParentsInput{ChildId: aws.String(child)})
		for p.HasMorePages() {
			var out *organizations.ListParentsOutput
			err := ru.o.call(func() error {
				var err error
				out, err = p.NextPage(ctx)
				return err
			})
			if err != nil {
				if child == account && (code(err) == "ChildNotFoundException" || code(err) == "AccountNotFoundException") {
					// Not a member: its SCPs and RCPs, if any, are
					// another organization's.
					if !slices.Contains(ru.org.Outside, account) {
						ru.org.Outside = append(ru.org.Outside, account)
					}
					return nil
				}
				return ru.o.classify(err, "organizations:ListParents", describeTarget(child))
			}
			parents = append(parents, out.Parents...)
		}
		if len(parents) != 1 || aws.ToString(parents[0].Id) == "" {
			return &Error{Kind: KindOther, Op: fmt.Sprintf("organizations:ListParents on %s answered %d parents, want one", describeTarget(child), len(parents)), Identity: ru.o.Label,
				Hint: "run again with --debug to see the answer"}
		}
		parent := aws.ToString(parents[0].Id)
		if child == account {
			ru.add(state.OrgTarget{ID: account, Parent: parent})
		} else {
			ru.targets[child].Parent = parent
		}
		if parents[0].Type == orgtypes.ParentTypeRoot || parent == ru.org.RootID {
			return nil
		}
		ru.add(state.OrgTarget{ID: parent})
		child = parent
	}
}

func describeTarget(id string) string {
	switch {
	case strings.HasPrefix(id, "r-"):
		return "root " + id
	case strings.HasPrefix(id, "ou-"):
		return "OU " + id
	}
	return "account " + id
}

// policies reads the SCPs and RCPs attached to a target (the enabled
// types), and each new policy's document.
func (ru *orgRun) policies(ctx context.Context, target string) error {
	t := ru.targets[target]
	for _, typ := range ru.org.EnabledTypes {
		filter := orgtypes.PolicyTypeServiceControlPolicy
		if typ == state.RCPType {
			filter = orgtypes.PolicyTypeResourceControlPolicy
		}
		var ids []string
		p := organizations.NewListPoliciesForTargetPaginator(ru.o.API, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: filter})
		for p.HasMorePages() {
			var out *organizations.ListPoliciesForTargetOutput
			err := ru.o.call(func() error {
				var err error
				out, err = p.NextPage(ctx)
				return err
			})
			if err != nil {
				return ru.o.classify(err, "organizations:ListPoliciesForTarget", fmt.Sprintf("%s (%s)", describeTarget(target), typ))
			}
			for _, ps := range out.Policies {
				ids = append(ids, aws.ToString(ps.Id))
			}
		}
		for _, id := range ids {
			if err := ru.policy(ctx, id, typ); err != nil {
				return err
			}
		}
		if typ == state.SCPType {
			t.SCPs = ids
		} else {
			t.RCPs = ids
		}
	}
	return nil
}

func (ru *orgRun) policy(ctx context.Context, id, typ string) error {
	if ru.org.Policy(id) != nil {
		return nil
	}
	var out *organizations.DescribePolicyOutput
	err := ru.o.call(func() error {
		var err error
		out, err = ru.o.API.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
		return err
	})
	if err != nil {
		return ru.o.classify(err, "organizations:DescribePolicy", "policy "+id)
	}
	if out.Policy == nil || out.Policy.Content == nil {
		return &Error{Kind: KindOther, Op: "organizations:DescribePolicy on policy " + id + " answered without the policy's content", Identity: ru.o.Label,
			Hint: "run again with --debug to see the answer"}
	}
	p := state.OrgPolicy{ID: id, Type: typ, Document: state.NewDoc(aws.ToString(out.Policy.Content))}
	if s := out.Policy.PolicySummary; s != nil {
		p.Name, p.AWSManaged = aws.ToString(s.Name), s.AwsManaged
		if s.Type != "" && string(s.Type) != typ {
			return &Error{Kind: KindOther, Op: fmt.Sprintf("organizations:DescribePolicy on policy %s answered type %s, but it is listed as a %s", id, s.Type, typ), Identity: ru.o.Label}
		}
	}
	ru.org.Policies = append(ru.org.Policies, p)
	return nil
}

// OrgRequested reports whether opts ask for the organization to be read.
func (opts Options) OrgRequested() bool { return opts.OrgProfile != "" || opts.OrgRoleARN != "" }

// ReadOrg reads the organization for accounts with opts' organization
// credentials (OrgProfile, OrgRoleARN). calls, when set, counts the calls.
func ReadOrg(ctx context.Context, opts Options, calls *int, accounts ...string) (*state.Organization, error) {
	opts.Logf = serialLogf(opts.Logf)
	cfg, err := loadConfig(ctx, opts, opts.OrgProfile, opts.OrgRoleARN)
	if err != nil {
		return nil, err
	}
	// Organizations has one endpoint per partition, in its home region.
	region := "us-east-1"
	switch {
	case strings.HasPrefix(cfg.Region, "cn-"):
		region = "cn-northwest-1"
	case strings.HasPrefix(cfg.Region, "us-gov-"):
		region = "us-gov-west-1"
	}
	api := organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Region = region })
	r := &OrgReader{API: api, Label: label(opts.OrgProfile, opts.OrgRoleARN), Calls: calls}
	return r.Read(ctx, accounts...)
}
