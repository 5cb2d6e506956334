package awsstate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const acctA = "111122223333"

// world is a test server with one account's admin clients.
type world struct {
	t     *testing.T
	srv   *awsfake.Server
	creds awsfake.Credentials
	cfg   aws.Config
	iam   *iam.Client
	kms   *kms.Client
	s3    *s3.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := awsfake.Start(t)
	c := srv.AddAccount(acctA)
	cfg, err := srv.AWSConfig(context.Background(), c, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, srv: srv, creds: c, cfg: cfg, iam: iam.NewFromConfig(cfg), kms: kms.NewFromConfig(cfg),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
}

func (w *world) must(_ any, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// basic creates user Jane (in groups sharing a managed policy, with a
// boundary) and bucket "data" in region, encrypted with keyID (a function of
// the created key ARN, so a test can pick the form).
func (w *world) basic(t *testing.T, region string, keyID func(arn string) string) {
	t.Helper()
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/*"}]}`
	w.must(w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Jane"), Path: aws.String("/staff/")}))
	pol, err := w.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Shared"), PolicyDocument: aws.String(doc)})
	w.must(pol, err)
	w.must(w.iam.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("Jane"), PermissionsBoundary: pol.Policy.Arn}))
	w.must(w.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("Jane"), PolicyArn: pol.Policy.Arn}))
	for _, g := range []string{"devs", "ops", "qa"} {
		w.must(w.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)}))
		w.must(w.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g), UserName: aws.String("Jane")}))
		w.must(w.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: pol.Policy.Arn}))
		w.must(w.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(g), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	}
	for _, n := range []string{"one", "two", "three"} {
		w.must(w.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String(n), PolicyDocument: aws.String(doc)}))
	}
	rk := kms.NewFromConfig(w.cfg, func(o *kms.Options) { o.Region = region })
	k, err := rk.CreateKey(ctx, &kms.CreateKeyInput{})
	w.must(k, err)
	w.must(rk.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/data"), TargetKeyId: k.KeyMetadata.KeyId}))
	rs := s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.UsePathStyle = true; o.Region = region })
	in := &s3.CreateBucketInput{Bucket: aws.String("data")}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	w.must(rs.CreateBucket(ctx, in))
	if keyID != nil {
		w.must(rs.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("data"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyID(aws.ToString(k.KeyMetadata.Arn)))}}}}}))
	}
}

const jane = "arn:aws:iam::111122223333:user/staff/Jane"

func (w *world) read(principal string) (*state.State, error) {
	return awsstate.NewReaderFromConfig(w.cfg, nil, true).Read(context.Background(), principal, "data")
}

func TestLiveShapes(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "eu-west-1", func(arn string) string { return "alias/data" })
	w.srv.ResetCalls()
	st, err := w.read(jane)
	if err != nil {
		t.Fatalf("%v (%s)", err, awsstate.Detail(err))
	}
	b, p := st.Buckets[0], st.Principals[0]
	if b.Region != "eu-west-1" || b.Encryption.KMSMasterKeyID != "alias/data" || len(st.Keys) != 1 || st.KeyForBucket(&b) == nil {
		t.Errorf("bucket %+v keys %+v", b, st.Keys)
	}
	if len(p.InlinePolicies) != 3 || len(p.Groups) != 3 || p.PermissionsBoundary == nil || len(p.AttachedPolicies) != 1 {
		t.Errorf("principal %+v", p)
	}
	if !strings.Contains(p.InlinePolicies[0].Doc.String(), "a+b/*") {
		t.Errorf("'+' lost in decoding: %s", p.InlinePolicies[0].Doc)
	}
	// The shared managed policy is attached four times and is the boundary:
	// read once.
	if n := w.srv.Calls("iam:GetPolicyVersion"); n != 1 {
		t.Errorf("GetPolicyVersion calls = %d, want 1", n)
	}
	counts := w.srv.CallCounts()
	total := 0
	for _, n := range counts {
		total += n
	}
	t.Logf("user with 3 inline policies, 1 managed policy (also boundary), 3 groups: %d calls: %v", total, counts)
}

func TestLiveAWSManagedKeyIsNotCreated(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "us-east-1", func(string) string { return "alias/aws/s3" })
	st, err := w.read(jane)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Keys) != 0 {
		t.Errorf("keys = %+v", st.Keys)
	}
	// Reading must not have created aws/s3.
	out, err := w.kms.ListAliases(context.Background(), &kms.ListAliasesInput{})
	w.must(out, err)
	for _, a := range out.Aliases {
		if aws.ToString(a.AliasName) == "alias/aws/s3" && a.TargetKeyId != nil {
			t.Errorf("reading created the AWS managed key")
		}
	}
	// Once it exists, it is read.
	arn := w.srv.CreateAWSManagedKey(acctA, "us-east-1", "s3")
	st, err = w.read(jane)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Keys) != 1 || st.Keys[0].ARN != arn || st.Keys[0].KeyManager != "AWS" {
		t.Errorf("keys = %+v", st.Keys)
	}
}

func TestLiveDefaults(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		w := newWorld(t)
		w.srv.SetLegacyS3Defaults(legacy)
		w.basic(t, "us-east-1", nil)
		st, err := w.read(jane)
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		b := st.Buckets[0]
		if legacy && b.Encryption != nil || !legacy && (b.Encryption == nil || b.Encryption.SSEAlgorithm != "AES256") || b.Policy != nil || len(st.Keys) != 0 {
			t.Errorf("legacy=%v: bucket %+v", legacy, b)
		}
	}
}

func TestLiveErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(w *world)
		principal string
		kind      awsstate.Kind
		msg       string
	}{
		{"denied key policy", func(w *world) { w.srv.Deny(acctA, "kms:GetKeyPolicy") }, jane, awsstate.KindAccessDenied, "kms:GetKeyPolicy on arn:aws:kms:us-east-1:111122223333:key/"},
		{"denied bucket policy", func(w *world) { w.srv.Deny(acctA, "s3:GetBucketPolicy") }, jane, awsstate.KindAccessDenied, "s3:GetBucketPolicy on arn:aws:s3:::data: access denied"},
		{"denied user policy", func(w *world) { w.srv.Deny(acctA, "iam:GetUserPolicy") }, jane, awsstate.KindAccessDenied, "iam:GetUserPolicy on " + jane},
		{"no such user", nil, "arn:aws:iam::111122223333:user/Nobody", awsstate.KindNoSuchEntity, "no such user"},
		{"no such role", nil, "arn:aws:sts::111122223333:assumed-role/Nobody/s", awsstate.KindNoSuchEntity, "no such role"},
		{"expired", func(w *world) { w.srv.ExpireCredentials(w.creds.AccessKeyID) }, jane, awsstate.KindExpiredToken, "have expired"},
		{"throttled", func(w *world) { w.srv.Throttle("kms:DescribeKey", 10) }, jane, awsstate.KindThrottled, "kms:DescribeKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.basic(t, "us-east-1", func(arn string) string { return arn })
			if tc.setup != nil {
				tc.setup(w)
			}
			_, err := w.read(tc.principal)
			if awsstate.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v (kind %v), want kind %v with %q\ndetail: %s", err, awsstate.KindOf(err), tc.kind, tc.msg, awsstate.Detail(err))
			}
			if awsstate.Hint(err) == "" {
				t.Errorf("no hint")
			}
			t.Logf("%s\n  hint: %s", err, awsstate.Hint(err))
		})
	}
	t.Run("no such bucket", func(t *testing.T) {
		w := newWorld(t)
		w.basic(t, "us-east-1", nil)
		_, err := awsstate.NewReaderFromConfig(w.cfg, nil, true).Read(context.Background(), jane, "missing")
		if awsstate.KindOf(err) != awsstate.KindNoSuchBucket {
			t.Errorf("%v (%s)", err, awsstate.Detail(err))
		}
	})
	t.Run("bucket of another account", func(t *testing.T) {
		w := newWorld(t)
		w.basic(t, "us-east-1", nil)
		other := w.srv.AddAccount("444455556666")
		cfg, _ := w.srv.AWSConfig(context.Background(), other, "us-east-1")
		_, err := awsstate.NewReaderFromConfig(w.cfg, &cfg, true).Read(context.Background(), jane, "data")
		if awsstate.KindOf(err) != awsstate.KindAccessDenied {
			t.Errorf("%v (%s)", err, awsstate.Detail(err))
		}
		t.Logf("%s\n  hint: %s", err, awsstate.Hint(err))
	})
}

// A bucket is found by reading its policy in the client's region: there,
// three S3 calls and no HeadBucket; in another region, the redirect names
// the region, where the policy is read again (four calls, as with
// HeadBucket). A missing bucket and a denied policy read are reported as
// before.
func TestLiveBucketFoundByItsPolicy(t *testing.T) {
	for _, tc := range []struct {
		region string
		calls  map[string]int
	}{
		{"us-east-1", map[string]int{"s3:GetBucketPolicy": 1, "s3:GetBucketEncryption": 1, "s3:GetBucketOwnershipControls": 1}},
		{"eu-west-1", map[string]int{"s3:GetBucketPolicy": 2, "s3:GetBucketEncryption": 1, "s3:GetBucketOwnershipControls": 1}},
	} {
		t.Run(tc.region, func(t *testing.T) {
			w := newWorld(t)
			w.basic(t, tc.region, func(arn string) string { return arn })
			w.srv.ResetCalls()
			st, err := w.read(jane)
			if err != nil {
				t.Fatalf("%v (%s)", err, awsstate.Detail(err))
			}
			if st.Buckets[0].Region != tc.region {
				t.Errorf("bucket %+v", st.Buckets[0])
			}
			got := map[string]int{}
			for op, n := range w.srv.CallCounts() {
				if strings.HasPrefix(op, "s3:") {
					got[op] = n
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.calls) {
				t.Errorf("S3 calls %v, want %v", got, tc.calls)
			}

			w.srv.Deny("", "s3:GetBucketPolicy")
			_, err = w.read(jane)
			w.srv.ClearFaults()
			if awsstate.KindOf(err) != awsstate.KindAccessDenied || !strings.Contains(err.Error(), "s3:GetBucketPolicy on arn:aws:s3:::data") {
				t.Errorf("denied policy read: %v (kind %v)", err, awsstate.KindOf(err))
			}
			_, err = awsstate.NewReaderFromConfig(w.cfg, nil, true).Read(context.Background(), jane, "nodata")
			if awsstate.KindOf(err) != awsstate.KindNoSuchBucket || !strings.Contains(err.Error(), "arn:aws:s3:::nodata: the bucket does not exist") {
				t.Errorf("missing bucket: %v (kind %v)", err, awsstate.KindOf(err))
			}
		})
	}
}
