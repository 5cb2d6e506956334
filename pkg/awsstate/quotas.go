package awsstate

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/bucketgrant/bucketgrant/pkg/limits"
)

// SummaryAPI is the IAM call that reports an account's quotas.
type SummaryAPI interface {
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
}

var _ SummaryAPI = (*iam.Client)(nil)

// ReadQuotas reads an account's IAM quotas (iam:GetAccountSummary, which
// reports raised quotas too). When IAM does not answer (the permission is
// missing, or the call fails) it returns AWS's defaults, which are never
// above an account's own, saying why in Source; only an interrupt is an
// error.
func ReadQuotas(ctx context.Context, api SummaryAPI, account, identity string) (limits.Quotas, error) {
	out, err := api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if errors.Is(err, context.Canceled) {
		return limits.Quotas{}, err
	}
	if err != nil {
		return limits.Defaults(fmt.Sprintf("the account's own could not be read: %v", Classify(err, "iam:GetAccountSummary", "account "+account, identity))), nil
	}
	summary := map[string]int32{}
	for k, v := range out.SummaryMap {
		summary[k] = v
	}
	return limits.FromSummary(summary, account), nil
}
