package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// inputStore is the AWS store of an apply that can also read again the
// inputs besides documents the plan's verdicts depend on (apply.InputReader):
// the organization with the organization credentials, and the KMS grants
// of the plan's key with the key account's. It costs, on top of the
// documents' stale check, the organization's reads (DescribeOrganization,
// ListRoots, ListParents per level, ListPoliciesForTarget per level and
// type, DescribePolicy per policy) when the plan evaluated SCPs and RCPs,
// and one ListGrants page per 100 grants when a grant names the principal.
type inputStore struct {
	*apply.AWSStore
	opts   awsstate.Options
	grants func(region string) awsstate.GrantsAPI
	label  string
}

func (s *inputStore) Unwrap() apply.Store { return s.AWSStore }

// ReadInputs reads the organization for the accounts and the grants of the
// keys given.
func (s *inputStore) ReadInputs(ctx context.Context, orgAccounts, grantKeys []string) (*state.State, error) {
	st := &state.State{}
	if len(orgAccounts) > 0 {
		if !s.opts.OrgRequested() {
			return nil, fmt.Errorf("the plan was made with the organization's SCPs and RCPs: pass --org-profile or --org-role-arn so that they are read again before the write")
		}
		org, err := awsstate.ReadOrg(ctx, s.opts, nil, orgAccounts...)
		if err != nil {
			return nil, fmt.Errorf("reading the organization's SCPs and RCPs: %w", err)
		}
		st.Org = org
	}
	for _, key := range grantKeys {
		api := s.grants(regionOfARN(key))
		if api == nil {
			return nil, fmt.Errorf("the KMS client for %s cannot list grants", key)
		}
		gs, err := awsstate.ListGrants(ctx, api, key, s.label)
		if err != nil {
			return nil, err
		}
		st.Keys = append(st.Keys, state.Key{ARN: key, Grants: gs})
	}
	return st, nil
}

// regionOfARN is the region field of an ARN ("" if it has none).
func regionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
