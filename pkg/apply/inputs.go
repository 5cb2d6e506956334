package apply

import (
	"context"
	"fmt"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// InputReader is a Store that can read again the inputs besides documents
// a plan's verdicts depend on (diff.InputFingerprints): the organization
// for the accounts given, and the grants of the keys given. The state it
// returns needs to hold only those (Org, and Keys with their Grants).
type InputReader interface {
	ReadInputs(ctx context.Context, orgAccounts, grantKeys []string) (*state.State, error)
}

// checkInputs refuses a plan whose SCPs, RCPs or KMS grants changed since
// it was made. A plan without such inputs costs no read.
func checkInputs(ctx context.Context, store Store, p *diff.Plan) error {
	ids := diff.InputIDs(p)
	if len(ids) == 0 {
		return nil
	}
	r, ok := asStore[InputReader](store)
	if !ok {
		return fmt.Errorf("the plan depends on %s, which %s cannot read again to check that they did not change; nothing was written", diff.DescribeInput(ids[0]), store.Describe())
	}
	orgAccounts, grantKeys := diff.InputNeeds(p)
	st, err := r.ReadInputs(ctx, orgAccounts, grantKeys)
	if err != nil {
		return fmt.Errorf("reading again what the plan's verdicts depend on: %w; nothing was written", err)
	}
	now := diff.InputFingerprints(st, p.Subject)
	for _, id := range ids {
		if now[id] != p.Fingerprints[id] {
			return &StaleError{Input: id, Rollback: p.Operation == diff.PlanRollback}
		}
	}
	return nil
}

// ReadInputs returns the snapshot as the file holds it now, as Read does
// for documents: its organization and its keys' grants are what another
// writer of the file may have changed since the plan.
func (s *StateStore) ReadInputs(context.Context, []string, []string) (*state.State, error) {
	return s.current()
}
