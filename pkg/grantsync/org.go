package grantsync

import (
	"context"
	"fmt"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// readOrg reads the organization's SCPs and RCPs when the grants file names
// credentials for it (credentials.org), for every account the state holds:
// the principals', the buckets' and the keys'. A failure fails the run: the
// file asked for the guardrails, and plans made without them would claim
// more than they know.
func (c *Config) readOrg(ctx context.Context, st *state.State) error {
	o := c.File.Credentials.Org
	if o == nil || st == nil || c.Accounts == nil {
		return nil
	}
	var accounts []string
	add := func(a string) {
		if a != "" && !slices.Contains(accounts, a) {
			accounts = append(accounts, a)
		}
	}
	for _, p := range st.Principals {
		add(state.AccountOf(p.ARN))
	}
	for _, g := range c.File.Grants {
		add(state.AccountOf(g.Principal))
	}
	for _, b := range st.Buckets {
		add(b.Account)
	}
	for _, k := range st.Keys {
		add(state.AccountOf(k.ARN))
	}
	a := c.Accounts
	org, err := awsstate.ReadOrg(ctx, awsstate.Options{
		OrgProfile: o.Profile, OrgRoleARN: o.Role,
		EndpointURL: a.EndpointURL, Region: a.Region,
		MaxAttempts: a.MaxAttempts, MaxBackoff: a.MaxBackoff, Timeout: a.Timeout, AdaptiveRetry: true,
	}, nil, accounts...)
	if err != nil {
		return fmt.Errorf("%s: credentials.org: reading the organization's SCPs and RCPs: %w", c.File.Name, err)
	}
	st.Org = org
	return nil
}
