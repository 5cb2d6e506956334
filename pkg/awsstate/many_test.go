package awsstate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// TestReadMany reads several targets naming the same principal, bucket and
// key: each is read once, with its own account's credentials, and a
// failure of one account, or a principal that does not exist, spares the
// rest.
func TestReadMany(t *testing.T) {
	st := loadExample(t, "seed-cross-account.json")
	const bob = "arn:aws:iam::111122223333:user/Bob"
	st.Principals = append(st.Principals, state.Principal{ARN: bob, Kind: state.KindUser})
	b2 := st.Buckets[0]
	b2.Name, b2.Source = "second-bucket", nil
	st.Buckets = append(st.Buckets, b2)
	ctx := context.Background()
	s := seed(t, st)
	const principalAcct, resourceAcct = "111122223333", "123456789098"
	configs := map[string]aws.Config{principalAcct: s.principal, resourceAcct: *s.resource}
	mr := &awsstate.MultiReader{Parallel: 4, For: func(_ context.Context, account string) (*awsstate.Reader, error) {
		return awsstate.NewReaderFromConfig(configs[account], nil, true), nil
	}}
	jane := st.Principals[0].ARN
	gone := "arn:aws:iam::111122223333:user/Gone"
	targets := []awsstate.Target{
		{Principal: jane, Bucket: testBucket, BucketAccount: resourceAcct},
		{Principal: jane, Bucket: "second-bucket", BucketAccount: resourceAcct},
		{Principal: bob, Bucket: testBucket, BucketAccount: resourceAcct},
		{Principal: gone, Bucket: "second-bucket", BucketAccount: resourceAcct},
	}
	s.srv.ResetCalls()
	res, err := mr.ReadMany(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.PrincipalErrors)+len(res.BucketErrors) != 0 {
		t.Fatalf("errors: %v %v", res.PrincipalErrors, res.BucketErrors)
	}
	if len(res.State.Buckets) != 2 || len(res.State.Keys) != 1 || len(res.State.Principals) != 2 {
		t.Fatalf("read %d buckets, %d keys, %d principals; want 2, 1 (shared), 2 (Gone does not exist)", len(res.State.Buckets), len(res.State.Keys), len(res.State.Principals))
	}
	for op, want := range map[string]int{"sts:GetCallerIdentity": 2, "iam:GetUser": 3, "s3:GetBucketPolicy": 2, "kms:GetKeyPolicy": 1, "kms:DescribeKey": 1} {
		if n := s.srv.Calls(op); n != want {
			t.Errorf("%s called %d times, want %d", op, n, want)
		}
	}
	if n := s.srv.AccountCalls(principalAcct, "s3:GetBucketPolicy"); n != 0 {
		t.Errorf("the principal account's credentials read %d bucket policies of the resource account", n)
	}
	if id := res.Identities[resourceAcct]; id.Account != resourceAcct {
		t.Errorf("identity of %s: %+v", resourceAcct, id)
	}

	// Credentials of the wrong account fail that account's targets only.
	mr.For = func(_ context.Context, account string) (*awsstate.Reader, error) {
		return awsstate.NewReaderFromConfig(configs[principalAcct], nil, true), nil
	}
	res, err = mr.ReadMany(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.State.Principals) != 2 || len(res.BucketErrors) != 2 {
		t.Fatalf("principals %d, bucket errors %v", len(res.State.Principals), res.BucketErrors)
	}
	if e := res.BucketErrors[testBucket]; awsstate.KindOf(e) != awsstate.KindWrongAccount || !strings.Contains(awsstate.Hint(e), "credentials.accounts."+resourceAcct) {
		t.Errorf("bucket error: %v (hint %q)", e, awsstate.Hint(e))
	}
}
