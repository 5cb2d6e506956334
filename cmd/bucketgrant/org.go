package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
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
