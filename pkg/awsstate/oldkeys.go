package awsstate

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// keyLister lists the keys of an account and region (kms:ListKeys).
type keyLister interface {
	ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error)
}

// oldKeys reads the customer managed keys of the bucket's account and
// region, other than its current key, whose key policies name the
// principal (by ARN or unique ID). After a bucket's default key changed,
// the grant's KMS statement in the old key's policy is referenced by
// nothing the reader otherwise reads: in one account with the statement in
// the key policy, no identity policy names the old key. Revoke and
// --drop-old-keys must see it to remove it; the planner decides which
// statements are the grant's. One kms:ListKeys page per 1,000 keys and one
// kms:GetKeyPolicy per key, then the usual reads for a key that names the
// principal. A key whose policy cannot be read (access denied, pending
// deletion, disabled) is skipped with a log line: it can hold nothing
// bucketgrant could remove.
func (ru *run) oldKeys(ctx context.Context, b state.Bucket, current *state.Key, p state.Principal) ([]state.Key, error) {
	kc, ok := ru.r.KMS(b.Region).(keyLister)
	if !ok {
		return nil, nil
	}
	res := "arn:" + ru.rid.partition + ":kms:" + b.Region + ":" + ru.rid.account + ":key/*"
	var ids []string
	p0 := kms.NewListKeysPaginator(kc, &kms.ListKeysInput{Limit: aws.Int32(1000)})
	for p0.HasMorePages() {
		var page *kms.ListKeysOutput
		if err := ru.r.call(ctx, func() (e error) { page, e = p0.NextPage(ctx); return }); err != nil {
			e := Classify(err, "kms:ListKeys", res, ru.rid.String())
			if KindOf(e) == KindAccessDenied {
				ru.r.logf("%s; the policies of keys the bucket used before are not read", strings.TrimSpace(e.Error()))
				return nil, nil
			}
			return nil, e
		}
		for _, k := range page.Keys {
			if arn := aws.ToString(k.KeyArn); arn != "" && arn != current.ARN {
				ids = append(ids, arn)
			}
		}
	}
	var out []state.Key
	for _, arn := range ids {
		var pol *kms.GetKeyPolicyOutput
		err := ru.r.call(ctx, func() (e error) {
			pol, e = ru.r.KMS(b.Region).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default")})
			return
		})
		if err != nil {
			e := Classify(err, "kms:GetKeyPolicy", arn, ru.rid.String())
			switch KindOf(e) {
			case KindAccessDenied, KindKeyNotFound:
				ru.r.logf("%s; skipped", strings.TrimSpace(e.Error()))
				continue
			}
			if code(err) == "KMSInvalidStateException" {
				ru.r.logf("%s: %s; skipped", arn, code(err))
				continue
			}
			return nil, e
		}
		text := aws.ToString(pol.Policy)
		if !strings.Contains(text, p.ARN) && (p.ID == "" || !strings.Contains(text, p.ID)) {
			continue
		}
		k, err := ru.cachedKey(ctx, arn, b.Region)
		if err != nil {
			return nil, err
		}
		if k.ARN != current.ARN {
			out = append(out, *k)
		}
	}
	return out, nil
}
