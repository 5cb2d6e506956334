package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Organization credentials: SCPs and RCPs can be read only by the
// organization's management account or a delegated administrator, which
// usually are neither the principal's account nor the bucket's.
func orgFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "org-profile", Usage: "AWS profile of the organization's management account (or a delegated administrator), to read SCPs and RCPs", EnvVars: []string{"BUCKETGRANT_ORG_PROFILE"}},
		&cli.StringFlag{Name: "org-role-arn", Usage: "role to assume for reading SCPs and RCPs (in the management account or a delegated administrator)"},
	}
}

func orgOptions(c *cli.Context, o *awsstate.Options) {
	o.OrgProfile, o.OrgRoleARN = c.String("org-profile"), c.String("org-role-arn")
}

// checkOrgFlags refuses organization credentials with a snapshot: the
// snapshot holds the organization as it was read (or not).
func checkOrgFlags(sel *selection) error {
	if sel.statePath != "" && sel.aws.OrgRequested() {
		return usagef("--org-profile and --org-role-arn read live AWS; with --state the snapshot's own organization is used (take the snapshot with them)")
	}
	return nil
}

// readOrg adds the organization to a state read live, when organization
// credentials were given: the accounts of the principal, the bucket and the
// key. A failure is an error: the user asked for SCPs and RCPs, and a plan
// that silently left them out would claim more than it knows.
func readOrg(ctx context.Context, opts awsstate.Options, st *state.State, principal, bucket string) error {
	if !opts.OrgRequested() || st == nil {
		return nil
	}
	accounts := []string{state.AccountOf(principal)}
	if b := st.FindBucket(bucket); b != nil {
		accounts = append(accounts, b.Account)
		if k := st.KeyForBucket(b); k != nil {
			accounts = append(accounts, state.AccountOf(k.ARN))
		}
	}
	org, err := awsstate.ReadOrg(ctx, opts, nil, accounts...)
	if err != nil {
		return fmt.Errorf("reading the organization's SCPs and RCPs: %w", err)
	}
	st.Org = org
	return nil
}

// checkOrgDocs parses every SCP and RCP of a snapshot, so that one AWS
// would not hold is refused naming the file and where in it.
func checkOrgDocs(st *state.State, path string) error {
	if st == nil || st.Org == nil {
		return nil
	}
	for i, p := range st.Org.Policies {
		if p.Document == nil {
			continue
		}
		if _, err := policy.Parse(p.Document.Text, policy.KindAny); err != nil {
			return fmt.Errorf("%s: organization.policies[%d].document (%s %s): %w", filepath.Base(path), i, p.Type, p.ID, err)
		}
	}
	return nil
}

// checkPlanOrg refuses to apply a saved plan made with the organization's
// SCPs and RCPs against live AWS without the credentials to read them
// again: the verification after the write would leave them out and could
// report access that an SCP or RCP refuses.
func checkPlanOrg(p *diff.Plan, sel *selection) error {
	if err := checkOrgFlags(sel); err != nil {
		return err
	}
	if p.Organization != nil && sel.statePath == "" && !sel.aws.OrgRequested() {
		return usagef("the plan was made with organization %s's SCPs and RCPs: pass --org-profile or --org-role-arn so that the verification after the write evaluates them too", p.Organization.ID)
	}
	return nil
}
