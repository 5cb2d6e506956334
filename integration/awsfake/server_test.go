package awsfake

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestEndpointFromEnvironment is how the built binary reaches the server:
// AWS_ENDPOINT_URL for every service, default S3 addressing.
func TestEndpointFromEnvironment(t *testing.T) {
	srv := Start(t)
	creds := srv.AddAccount(acctA)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg := must[aws.Config](t)(config.LoadDefaultConfig(ctx))
	must[*sts.GetCallerIdentityOutput](t)(sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	must[*iam.GetUserOutput](t)(iam.NewFromConfig(cfg).GetUser(ctx, &iam.GetUserInput{}))
	must[*kms.ListKeysOutput](t)(kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{}))
	cl := s3.NewFromConfig(cfg)
	must[*s3.CreateBucketOutput](t)(cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("env-bucket")}))
	must[*s3.GetBucketEncryptionOutput](t)(cl.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("env-bucket")}))
}

// TestHostileInput sends raw requests the SDK would never send.
func TestHostileInput(t *testing.T) {
	srv := Start(t)
	creds := srv.AddAccount(acctA)
	auth := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=" + creds.AccessKeyID + "/20260101/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=00"
	}
	cases := []struct {
		name, method, path, service, target, body string
		status                                    int
		contains                                  string
	}{
		{"no auth", "POST", "/", "", "", "Action=GetUser", 403, "MissingAuthenticationToken"},
		{"unknown service", "POST", "/", "ec2", "", "Action=DescribeInstances", 400, "UnknownService"},
		{"iam bad form", "POST", "/", "iam", "", "Action=%zz", 400, "MalformedQueryString"},
		{"iam no action", "POST", "/", "iam", "", "", 400, "MissingAction"},
		{"iam unknown action", "POST", "/", "iam", "", "Action=DeleteAccount", 400, "InvalidAction"},
		{"iam missing name", "POST", "/", "iam", "", "Action=GetRole", 400, "ValidationError"},
		{"iam bad marker", "POST", "/", "iam", "", "Action=ListUserPolicies&UserName=admin&MaxItems=0", 400, "ValidationError"},
		{"iam doc not object", "POST", "/", "iam", "", "Action=PutUserPolicy&UserName=admin&PolicyName=p&PolicyDocument=" + url.QueryEscape(`"x"`), 400, "MalformedPolicyDocument"},
		{"iam deep doc", "POST", "/", "iam", "", "Action=PutUserPolicy&UserName=admin&PolicyName=p&PolicyDocument=" + strings.Repeat("%5B", 200), 400, "MalformedPolicyDocument"},
		{"sts unknown", "POST", "/", "sts", "", "Action=GetSessionToken", 400, "InvalidAction"},
		{"sts bad role", "POST", "/", "sts", "", "Action=AssumeRole&RoleArn=x&RoleSessionName=s", 400, "ValidationError"},
		{"kms unknown op", "POST", "/", "kms", "TrentService.Encrypt", "{}", 400, "UnknownOperationException"},
		{"kms no target", "POST", "/", "kms", "", "{}", 400, "UnknownOperationException"},
		{"kms bad json", "POST", "/", "kms", "TrentService.DescribeKey", "{", 400, "SerializationException"},
		{"kms wrong types", "POST", "/", "kms", "TrentService.DescribeKey", `{"KeyId":5}`, 400, "SerializationException"},
		{"kms missing key id", "POST", "/", "kms", "TrentService.DescribeKey", `{}`, 400, "ValidationException"},
		{"kms bad arn", "POST", "/", "kms", "TrentService.DescribeKey", `{"KeyId":"arn:aws:kms:x"}`, 400, "InvalidArnException"},
		{"kms empty body", "POST", "/", "kms", "TrentService.ListKeys", ``, 200, "Keys"},
		{"s3 object", "GET", "/b/key", "s3", "", "", 501, "NotImplemented"},
		{"s3 unknown subresource", "GET", "/b?versioning", "s3", "", "", 501, "NotImplemented"},
		{"s3 post root", "POST", "/", "s3", "", "", 501, "NotImplemented"},
		{"s3 bad create xml", "PUT", "/new-bucket", "s3", "", "<Create", 400, "MalformedXML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.service != "" {
				req.Header.Set("Authorization", auth(tc.service))
			}
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("%d %s, want %d containing %s", resp.StatusCode, body, tc.status, tc.contains)
			}
		})
	}
	// Bad bucket configuration documents on an existing bucket.
	c := newClients(t, srv, creds, "us-east-1")
	createBucket(t, c, "b-bucket", "us-east-1")
	for _, body := range []string{"<x", "<ServerSideEncryptionConfiguration/>",
		"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>rot13</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"} {
		req, _ := http.NewRequest("PUT", srv.URL+"/b-bucket?encryption", strings.NewReader(body))
		req.Header.Set("Authorization", auth("s3"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("PutBucketEncryption(%s) = %d", body, resp.StatusCode)
		}
	}
}

func TestDeterministicIDs(t *testing.T) {
	ids := func() []string {
		srv := Start(t)
		c := newClients(t, srv, srv.AddAccount(acctA), "us-east-1")
		u := must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
		k := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{}))
		return []string{*u.User.UserId, *k.KeyMetadata.KeyId}
	}
	a, b := ids(), ids()
	if a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("ids differ: %v %v", a, b)
	}
}

func TestConcurrentMixedLoad(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "busy-bucket", "us-east-1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				_, _ = c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("busy-bucket"), Policy: aws.String(bucketPolicy("*"))})
				_, _ = c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("busy-bucket")})
				_, _ = c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("p" + string(rune('a'+i))), PolicyDocument: aws.String(s3Read)})
				_, _ = c.kms.ListKeys(ctx, &kms.ListKeysInput{})
			}
		}()
		srv.Throttle("kms:ListKeys", 1)
	}
	wg.Wait()
	if got := srv.Calls("s3:PutBucketPolicy"); got != 80 {
		t.Fatalf("PutBucketPolicy calls = %d", got)
	}
}
