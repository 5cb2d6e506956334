package awsstate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// ListGrants reads every grant of a key (kms:ListGrants, paginated by 100)
// outside a state read: the applier reads again the grants a plan counted
// on before writing it (pkg/apply's input check). Unlike a state read, a
// denied ListGrants is an error here: the check cannot be made, and the
// plan must not be applied on a guess. identity names the credentials for
// errors.
func ListGrants(ctx context.Context, api GrantsAPI, keyARN, identity string) ([]state.Grant, error) {
	p := kms.NewListGrantsPaginator(api, &kms.ListGrantsInput{KeyId: aws.String(keyARN), Limit: aws.Int32(100)})
	out := []state.Grant{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, Classify(err, "kms:ListGrants", keyARN, identity)
		}
		for _, g := range page.Grants {
			out = append(out, stateGrant(g))
		}
	}
	return out, nil
}

// stateGrant is one ListGrants entry as the state keeps it.
func stateGrant(g kmstypes.GrantListEntry) state.Grant {
	sg := state.Grant{
		ID: aws.ToString(g.GrantId), Name: aws.ToString(g.Name),
		GranteePrincipal: aws.ToString(g.GranteePrincipal), RetiringPrincipal: aws.ToString(g.RetiringPrincipal),
		IssuingAccount: aws.ToString(g.IssuingAccount), Operations: []string{},
	}
	for _, op := range g.Operations {
		sg.Operations = append(sg.Operations, string(op))
	}
	if c := g.Constraints; c != nil && (c.EncryptionContextSubset != nil || c.EncryptionContextEquals != nil) {
		sg.Constraints = &state.GrantConstraints{EncryptionContextSubset: c.EncryptionContextSubset, EncryptionContextEquals: c.EncryptionContextEquals}
	}
	return sg
}
