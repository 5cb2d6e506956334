package awsstate

import (
	"context"
	"strings"
	"sync"

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
// kms:GetKeyPolicy per key, once per run and region however many grants
// ask (keyPolicies), then the usual reads for a key that names the
// principal. A key whose policy cannot be read (access denied, pending
// deletion, disabled) is skipped with a log line: it can hold nothing
// bucketgrant could remove.
func (ru *run) oldKeys(ctx context.Context, b state.Bucket, current *state.Key, p state.Principal) ([]state.Key, error) {
	pols, err := ru.keyPolicies(ctx, b.Region)
	if err != nil {
		return nil, err
	}
	var out []state.Key
	for _, kp := range pols {
		if kp.arn == current.ARN || !strings.Contains(kp.text, p.ARN) && (p.ID == "" || !strings.Contains(kp.text, p.ID)) {
			continue
		}
		k, err := ru.cachedKey(ctx, kp.arn, b.Region)
		if err != nil {
			return nil, err
		}
		if k.ARN != current.ARN {
			out = append(out, *k)
		}
	}
	return out, nil
}

// regionKey is one key of a region and the text of its policy.
type regionKey struct{ arn, text string }

type keyPoliciesEntry struct {
	once sync.Once
	list []regionKey
	err  error
}

// keyPolicies lists the keys of a region in the resources' account with
// their policies, once per run: a sync with drop_old_keys on many grants
// of one account asks for the same list for each.
func (ru *run) keyPolicies(ctx context.Context, region string) ([]regionKey, error) {
	ru.mu.Lock()
	if ru.keyPols == nil {
		ru.keyPols = map[string]*keyPoliciesEntry{}
	}
	e, ok := ru.keyPols[region]
	if !ok {
		e = &keyPoliciesEntry{}
		ru.keyPols[region] = e
	}
	ru.mu.Unlock()
	// Shared as cachedKey's reads are: one grant's cancelled context must
	// not become every other grant's error; an interrupt cancels root.
	root := ru.root
	if root == nil {
		root = context.WithoutCancel(ctx)
	}
	e.once.Do(func() { e.list, e.err = ru.listKeyPolicies(root, region) })
	return e.list, e.err
}

func (ru *run) listKeyPolicies(ctx context.Context, region string) ([]regionKey, error) {
	kc, ok := ru.r.KMS(region).(keyLister)
	if !ok {
		return nil, nil
	}
	res := "arn:" + ru.rid.partition + ":kms:" + region + ":" + ru.rid.account + ":key/*"
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
			if arn := aws.ToString(k.KeyArn); arn != "" {
				ids = append(ids, arn)
			}
		}
	}
	var out []regionKey
	for _, arn := range ids {
		var pol *kms.GetKeyPolicyOutput
		err := ru.r.call(ctx, func() (e error) {
			pol, e = ru.r.KMS(region).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default")})
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
		out = append(out, regionKey{arn: arn, text: aws.ToString(pol.Policy)})
	}
	return out, nil
}
