package awsstate_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
)

// useCredentials makes creds the default credential chain's answer.
func useCredentials(t *testing.T, c awsfake.Credentials) {
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", c.SessionToken)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
}

// Read with Options: the default chain, an endpoint URL (so S3 must use
// path-style addressing against 127.0.0.1), one identity.
func TestReadWithOptions(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "eu-west-1", func(arn string) string { return arn })
	useCredentials(t, w.creds)
	var notes []string
	st, err := awsstate.Read(context.Background(), awsstate.Options{EndpointURL: w.srv.URL, Region: "us-east-1",
		Logf: func(f string, a ...any) { notes = append(notes, f) }}, "arn:aws:iam::111122223333:user/Jane", "data")
	if err != nil {
		t.Fatalf("%v\n%s", err, awsstate.Detail(err))
	}
	if st.Principals[0].ARN != jane || st.Buckets[0].Region != "eu-west-1" || len(st.Keys) != 1 {
		t.Errorf("state %+v", st)
	}
	if len(notes) == 0 {
		t.Errorf("no note that the principal's ARN has a path")
	}
}

// Cross-account with a role to assume for the resources' account.
func TestReadWithResourceRole(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t) // account A: the principal
	w.must(w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Jane"), Path: aws.String("/staff/")}))

	const acctB = "444455556666"
	bcfg, err := w.srv.AWSConfig(ctx, w.srv.AddAccount(acctB), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	biam := iam.NewFromConfig(bcfg)
	role, err := biam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bucketgrant-reader"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`)})
	w.must(role, err)
	bs3 := s3.NewFromConfig(bcfg, func(o *s3.Options) { o.UsePathStyle = true })
	w.must(bs3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}))

	useCredentials(t, w.creds)
	w.srv.ResetCalls()
	st, err := awsstate.Read(ctx, awsstate.Options{EndpointURL: w.srv.URL, ResourceRoleARN: aws.ToString(role.Role.Arn)}, jane, "data")
	if err != nil {
		t.Fatalf("%v\n%s", err, awsstate.Detail(err))
	}
	if st.Buckets[0].Account != acctB || st.Principals[0].ARN != jane {
		t.Errorf("state %+v", st)
	}
	if n := w.srv.Calls("sts:AssumeRole"); n != 1 {
		t.Errorf("AssumeRole calls = %d", n)
	}
	counts := w.srv.CallCounts()
	total := 0
	for _, n := range counts {
		total += n
	}
	t.Logf("cross-account through an assumed role, AES256 bucket: %d calls: %v", total, counts)

	// Without the role, the principal's credentials cannot see B's bucket
	// as B's: they expect their own account as owner.
	_, err = awsstate.Read(ctx, awsstate.Options{EndpointURL: w.srv.URL}, jane, "data")
	if awsstate.KindOf(err) != awsstate.KindAccessDenied {
		t.Errorf("one identity on another account's bucket: %v", err)
	}
	t.Logf("%v\n  hint: %s", err, awsstate.Hint(err))

	// A principal of another account than the credentials.
	_, err = awsstate.Read(ctx, awsstate.Options{EndpointURL: w.srv.URL}, "arn:aws:iam::444455556666:user/Bob", "data")
	if awsstate.KindOf(err) != awsstate.KindWrongAccount {
		t.Errorf("principal of another account: %v", err)
	}
	t.Logf("%v\n  hint: %s", err, awsstate.Hint(err))
}
