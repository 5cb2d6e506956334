package awsfake

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func bucketPolicy(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"` + principal +
		`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data-bucket/*"}]}`
}

func createBucket(t *testing.T, c *clients, name, region string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	must[*s3.CreateBucketOutput](t)(c.s3.CreateBucket(ctx, in))
}

func TestS3BucketConfiguration(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "data-bucket", "us-east-1")
	head := must[*s3.HeadBucketOutput](t)(c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("data-bucket")}))
	if aws.ToString(head.BucketRegion) != "us-east-1" {
		t.Fatalf("HeadBucket region = %v", head.BucketRegion)
	}
	loc := must[*s3.GetBucketLocationOutput](t)(c.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("data-bucket")}))
	if loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 location = %q", loc.LocationConstraint)
	}

	// Today's defaults: SSE-S3 and BucketOwnerEnforced.
	enc := must[*s3.GetBucketEncryptionOutput](t)(c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("data-bucket")}))
	if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("default encryption = %+v", r)
	}
	own := must[*s3.GetBucketOwnershipControlsOutput](t)(c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("data-bucket")}))
	if own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("ownership = %+v", own.OwnershipControls)
	}

	keyARN := "arn:aws:kms:us-east-1:" + acctA + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	must[*s3.PutBucketEncryptionOutput](t)(c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String("data-bucket"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)},
			BucketKeyEnabled:                   aws.Bool(true),
		}}},
	}))
	enc = must[*s3.GetBucketEncryptionOutput](t)(c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("data-bucket")}))
	rule := enc.ServerSideEncryptionConfiguration.Rules[0]
	if rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != keyARN || !aws.ToBool(rule.BucketKeyEnabled) {
		t.Fatalf("kms rule = %+v", rule)
	}
	must[*s3.DeleteBucketEncryptionOutput](t)(c.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("data-bucket")}))
	srv.SetLegacyS3Defaults(true)
	_, err := c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("data-bucket")})
	wantCode(t, err, "ServerSideEncryptionConfigurationNotFoundError")

	must[*s3.DeleteBucketOwnershipControlsOutput](t)(c.s3.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String("data-bucket")}))
	_, err = c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("data-bucket")})
	wantCode(t, err, "OwnershipControlsNotFoundError")
	must[*s3.PutBucketOwnershipControlsOutput](t)(c.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String("data-bucket"),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}}},
	}))
	own = must[*s3.GetBucketOwnershipControlsOutput](t)(c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("data-bucket")}))
	if own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerPreferred {
		t.Fatalf("ownership = %+v", own.OwnershipControls)
	}

	list := must[*s3.ListBucketsOutput](t)(c.s3.ListBuckets(ctx, &s3.ListBucketsInput{}))
	if len(list.Buckets) != 1 || *list.Buckets[0].Name != "data-bucket" {
		t.Fatalf("ListBuckets = %+v", list.Buckets)
	}
	_, err = c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data-bucket")})
	var owned *s3types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Fatalf("second CreateBucket: %v", err)
	}
}

func TestS3BucketPolicy(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "data-bucket", "us-east-1")
	_, err := c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")})
	wantCode(t, err, "NoSuchBucketPolicy")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Fatalf("status: %v", err)
	}

	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")}))
	doc := bucketPolicy("arn:aws:iam::" + acctA + ":user/jane")
	must[*s3.PutBucketPolicyOutput](t)(c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data-bucket"), Policy: aws.String(doc)}))
	got := must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	if *got.Policy != doc {
		t.Fatalf("policy = %s", *got.Policy)
	}

	for name, bad := range map[string]string{
		"bad json":     `{"Statement":[`,
		"duplicate":    `{"Statement":[],"Statement":[]}`,
		"missing user": bucketPolicy("arn:aws:iam::" + acctA + ":user/ghost"),
		"orphaned id":  bucketPolicy("AIDAAAAAAAAAAAAAAAAAA"),
		"too large":    strings.Replace(doc, `"Read"`, `"`+strings.Repeat("r", maxBucketPolicy)+`"`, 1),
	} {
		_, err := c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data-bucket"), Policy: aws.String(bad)})
		wantCode(t, err, "MalformedPolicy")
		if name == "missing user" && !strings.Contains(err.Error(), "Invalid principal in policy") {
			t.Errorf("message: %v", err)
		}
	}
	// Orphans can be planted directly.
	if err := srv.SetBucketPolicyRaw("data-bucket", bucketPolicy("AIDAAAAAAAAAAAAAAAAAA")); err != nil {
		t.Fatal(err)
	}
	must[*s3.DeleteBucketPolicyOutput](t)(c.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	if _, ok := srv.BucketPolicy("data-bucket"); ok {
		t.Fatal("policy survived DeleteBucketPolicy")
	}
}

func TestS3Errors(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "west-bucket", "eu-west-1")
	west := newClients(t, srv, srv.AddAccount(acctA), "eu-west-1")
	b := newClients(t, srv, srv.AddAccount(acctB), "eu-west-1")

	loc := must[*s3.GetBucketLocationOutput](t)(c.s3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("west-bucket")}))
	if loc.LocationConstraint != s3types.BucketLocationConstraintEuWest1 {
		t.Fatalf("location = %q", loc.LocationConstraint)
	}
	// Wrong region: 301 PermanentRedirect with the region header.
	_, err := c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("west-bucket")})
	wantCode(t, err, "PermanentRedirect")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusMovedPermanently ||
		re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
		t.Fatalf("redirect: %v", err)
	}
	_, err = c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("west-bucket")})
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusMovedPermanently ||
		re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
		t.Fatalf("HeadBucket redirect: %v", err)
	}

	// Missing bucket.
	_, err = west.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket")})
	wantCode(t, err, "NoSuchBucket")
	_, err = west.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadBucket missing: %v", err)
	}

	// Expected bucket owner.
	_, err = west.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("west-bucket"), ExpectedBucketOwner: aws.String(acctB)})
	wantCode(t, err, "AccessDenied")
	must[*s3.GetBucketEncryptionOutput](t)(west.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("west-bucket"), ExpectedBucketOwner: aws.String(acctA)}))

	// Another account: policy calls are denied; HeadBucket reports the region.
	_, err = b.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("west-bucket")})
	wantCode(t, err, "AccessDenied")
	_, err = b.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("west-bucket"), Policy: aws.String(bucketPolicy("*"))})
	wantCode(t, err, "AccessDenied")
	head := must[*s3.HeadBucketOutput](t)(b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("west-bucket")}))
	if aws.ToString(head.BucketRegion) != "eu-west-1" {
		t.Fatalf("region = %v", head.BucketRegion)
	}
	if list := must[*s3.ListBucketsOutput](t)(b.s3.ListBuckets(ctx, &s3.ListBucketsInput{})); len(list.Buckets) != 0 {
		t.Fatalf("account B sees %d buckets", len(list.Buckets))
	}
	_, err = b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west-bucket"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	var exists *s3types.BucketAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("taken name: %v", err)
	}
	_, err = west.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantCode(t, err, "InvalidBucketName")
	_, err = west.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("no-constraint")})
	wantCode(t, err, "IllegalLocationConstraintException")
}

func TestDeletedPrincipalBecomesUniqueID(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "data-bucket", "us-east-1")
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")}))
	janeID, _ := srv.UniqueID(acctA, "user", "jane")
	janeARN := "arn:aws:iam::" + acctA + ":user/jane"
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow",
  "Principal":{"AWS":["` + janeARN + `","arn:aws:iam::` + acctA + `:root"]},"Action":"s3:GetObject",
  "Resource":"arn:aws:s3:::data-bucket/*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + janeARN + `"}}}]}`
	must[*s3.PutBucketPolicyOutput](t)(c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data-bucket"), Policy: aws.String(doc)}))
	must[*iam.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("jane")}))

	got := *must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")})).Policy
	want := strings.Replace(doc, `["`+janeARN, `["`+janeID, 1)
	if got != want {
		t.Fatalf("policy after delete:\n%s\nwant\n%s", got, want)
	}
	// The document can no longer be written back as is, even after the
	// user is created again (with a new unique ID).
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")}))
	_, err := c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data-bucket"), Policy: aws.String(got)})
	wantCode(t, err, "MalformedPolicy")
}
