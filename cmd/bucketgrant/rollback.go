package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// checkRollbackReach refuses, before anything is read or written, a
// rollback on AWS that its credentials cannot carry out: IAM names users
// and roles only within the caller's account, so an identity document of
// another account would read as missing (and the rollback would call it
// changed), and key and bucket policies are written only by their owner.
// A backup of one grant always fits; a sync's backup may span accounts.
func checkRollbackReach(ctx context.Context, cl *awsstate.Clients, b *apply.Backup) error {
	if unknown := b.UnknownOwners(); len(unknown) > 0 {
		return fmt.Errorf("the backup does not say which user or role the managed policy %s belongs to (a backup of a sync made by an older bucketgrant); nothing was written. Attach or detach it by hand as the backup's content shows, then remove it from the backup's documents and run rollback again", strings.Join(unknown, ", "))
	}
	identity, resource := b.Accounts()
	check := func(cfg aws.Config, label, flag string, need []string) error {
		if len(need) == 0 {
			return nil
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return awsstate.Classify(err, "sts:GetCallerIdentity", "", label)
		}
		have := aws.ToString(id.Account)
		var other []string
		for _, a := range need {
			if a != have {
				other = append(other, a)
			}
		}
		if len(other) == 0 {
			return nil
		}
		if len(need) > 1 {
			return fmt.Errorf("the backup holds documents of accounts %s, and rollback writes them with one set of credentials (%s, account %s); nothing was written. Give the grants file the sync ran with (rollback --grants-file FILE): its credentials reach each account", strings.Join(need, ", "), label, have)
		}
		return fmt.Errorf("the backup's documents are in account %s, but %s reaches account %s; nothing was written. Give credentials for %s with %s", need[0], label, have, need[0], flag)
	}
	if err := check(cl.Principal, cl.PrincipalLabel, "--principal-profile or --principal-role-arn", identity); err != nil {
		return err
	}
	return check(cl.Resource, cl.ResourceLabel, "--resource-profile or --resource-role-arn", resource)
}

// multiAccountStore is where a rollback --grants-file writes: every
// document with its own account's credentials from the grants file, as
// sync wrote them. Each key policy's writer is asked for up front, so a
// missing or wrong credential fails before anything is written.
func (w *writeRun) multiAccountStore(ctx context.Context, p *diff.Plan) (apply.Store, *policy.Caller, error) {
	if unknown := w.backup.UnknownOwners(); len(unknown) > 0 {
		return nil, nil, fmt.Errorf("the backup does not say which user or role the managed policy %s belongs to (a backup of a sync made by an older bucketgrant); nothing was written. Attach or detach it by hand as the backup's content shows, then remove it from the backup's documents and run rollback again", strings.Join(unknown, ", "))
	}
	callers := map[string]*policy.Caller{}
	identity, resource := w.backup.Accounts()
	for _, account := range append(identity, resource...) {
		if _, done := callers[account]; done {
			continue
		}
		c, err := w.accounts.Caller(ctx, account)
		if err != nil {
			return nil, nil, fmt.Errorf("%w; nothing was written", err)
		}
		callers[account] = c
	}
	w.callerFor = func(key diff.DocRef) *policy.Caller { return callers[key.Account] }
	return w.accounts.Store(w.backup.PrincipalOf, w.backup.RegionOf), nil, nil
}
