package awsfake

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// faultCalls makes one call per service, for table-driven fault tests.
func faultCalls(c *clients) map[string]func() error {
	return map[string]func() error{
		"sts:GetCallerIdentity": func() error { _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
		"iam:GetUser": func() error {
			_, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")})
			return err
		},
		"kms:ListKeys": func() error { _, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{}); return err },
		"s3:GetBucketPolicy": func() error {
			_, err := c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("fault-bucket")})
			if err != nil && strings.Contains(err.Error(), "NoSuchBucketPolicy") {
				return nil
			}
			return err
		},
	}
}

func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestThrottleAndInternalErrors(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "fault-bucket", "us-east-1")
	throttle := map[string]string{"sts": "Throttling", "iam": "Throttling", "kms": "ThrottlingException", "s3": "SlowDown"}
	internal := map[string]string{"sts": "InternalFailure", "iam": "ServiceFailure", "kms": "KMSInternalException", "s3": "InternalError"}
	for op, call := range faultCalls(c) {
		svc, _, _ := strings.Cut(op, ":")
		srv.Throttle(op, 2)
		for range 2 {
			wantCode(t, call(), throttle[svc])
		}
		if err := call(); err != nil {
			t.Fatalf("%s after throttling: %v", op, err)
		}
		srv.FailInternal(op, 1, http.StatusInternalServerError)
		if err := call(); statusOf(err) != 500 {
			t.Fatalf("%s 500: %v", op, err)
		} else {
			wantCode(t, err, internal[svc])
		}
		srv.FailInternal(op, 1, http.StatusServiceUnavailable)
		if err := call(); statusOf(err) != 503 {
			t.Fatalf("%s 503: %v", op, err)
		}
		if n := srv.Calls(op); n != 5 {
			t.Fatalf("%s counted %d calls, want 5", op, n)
		}
	}
}

func TestSDKRetriesFaults(t *testing.T) {
	srv, c := setup(t)
	cl := iam.NewFromConfig(c.cfg, func(o *iam.Options) {
		o.RetryMaxAttempts = 0 // AWSConfig's 1 would override the retryer
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
	srv.Throttle("iam:GetUser", 2)
	if _, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("iam:GetUser"); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
}

func TestDropConnections(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "fault-bucket", "us-east-1")
	// net/http resends a GET by itself when a reused keep-alive connection
	// closes without an answer; without keep-alives every drop is seen.
	c.s3 = s3.NewFromConfig(c.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	})
	for op, call := range faultCalls(c) {
		const n = 1
		srv.ResetCalls()
		srv.DropConnections(op, n)
		err := call()
		if err == nil || statusOf(err) != 0 {
			t.Fatalf("%s dropped: %v", op, err)
		}
		if got := srv.Calls(op); got != n {
			t.Fatalf("%s: %d calls reached the server, want %d", op, got, n)
		}
		if err := call(); err != nil {
			t.Fatalf("%s after drop: %v", op, err)
		}
	}
	srv.DropConnections(AnyOp, 1)
	if _, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{}); err == nil {
		t.Fatal("AnyOp drop not applied")
	}
}

func TestLatency(t *testing.T) {
	srv, c := setup(t)
	srv.SetLatency("iam:GetUser", 400*time.Millisecond)
	start := time.Now()
	must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}))
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("GetUser took %v", d)
	}
	start = time.Now()
	must[*sts.GetCallerIdentityOutput](t)(c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("unrelated call took %v", d)
	}
	srv.SetLatency(AnyOp, 100*time.Millisecond)
	start = time.Now()
	must[*sts.GetCallerIdentityOutput](t)(c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("global latency: %v", d)
	}
	srv.SetLatency(AnyOp, 0)
	// A client timeout shorter than the latency fails the call.
	srv.SetLatency("iam:GetUser", 2*time.Second)
	cl := iam.NewFromConfig(c.cfg, func(o *iam.Options) { o.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} })
	if _, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}); err == nil {
		t.Fatal("timeout not hit")
	}
}

func TestDeny(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "fault-bucket", "us-east-1")
	srv.Deny(acctA, "iam:GetUser")
	_, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")})
	wantCode(t, err, "AccessDenied")
	want := "User: arn:aws:iam::" + acctA + ":user/admin is not authorized to perform: iam:GetUser on resource: arn:aws:iam::" + acctA + ":user/admin"
	if statusOf(err) != 403 || !strings.Contains(err.Error(), want) {
		t.Fatalf("message: %v", err)
	}
	// Other accounts are not affected.
	b := newClients(t, srv, srv.AddAccount(acctB), "us-east-1")
	must[*iam.GetUserOutput](t)(b.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}))
	srv.Allow(acctA, "iam:GetUser")
	must[*iam.GetUserOutput](t)(c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}))

	srv.Deny("", "kms:ListKeys")
	_, err = b.kms.ListKeys(ctx, &kms.ListKeysInput{})
	wantCode(t, err, "AccessDeniedException")
	srv.Deny(acctA, "s3:GetBucketPolicy")
	_, err = c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("fault-bucket")})
	wantCode(t, err, "AccessDenied")
	if statusOf(err) != 403 || !strings.Contains(err.Error(), "s3:GetBucketPolicy") {
		t.Fatalf("s3 denied: %v", err)
	}
	srv.ClearFaults()
	must[*kms.ListKeysOutput](t)(b.kms.ListKeys(ctx, &kms.ListKeysInput{}))
}

func TestExpiredCredentials(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "fault-bucket", "us-east-1")
	creds, _ := c.cfg.Credentials.Retrieve(ctx)
	srv.ExpireCredentials(creds.AccessKeyID)
	codes := map[string]string{"sts": "ExpiredToken", "iam": "ExpiredToken", "kms": "ExpiredTokenException", "s3": "ExpiredToken"}
	for op, call := range faultCalls(c) {
		svc, _, _ := strings.Cut(op, ":")
		wantCode(t, call(), codes[svc])
	}
	// Unknown keys are rejected too.
	stranger := newClients(t, srv, Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}, "us-east-1")
	_, err := stranger.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	_, err = stranger.kms.ListKeys(ctx, &kms.ListKeysInput{})
	wantCode(t, err, "UnrecognizedClientException")
}

func TestHooksSimulateAnotherWriter(t *testing.T) {
	srv, c := setup(t)
	createBucket(t, c, "data-bucket", "us-east-1")
	must[*s3.PutBucketPolicyOutput](t)(c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data-bucket"), Policy: aws.String(bucketPolicy("*"))}))
	other := bucketPolicy(acctA)
	var seen []Call
	remove := srv.After("s3:GetBucketPolicy", func(c Call) {
		seen = append(seen, c)
		_ = srv.SetBucketPolicyRaw("data-bucket", other)
	})
	first := must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	second := must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	if *first.Policy != bucketPolicy("*") || *second.Policy != other {
		t.Fatalf("first %s second %s", *first.Policy, *second.Policy)
	}
	if len(seen) != 2 || seen[0].Account != acctA || seen[0].Op != "s3:GetBucketPolicy" || seen[0].CallerARN == "" {
		t.Fatalf("hook calls = %+v", seen)
	}
	remove()
	var before int
	srv.Before(AnyOp, func(Call) { before++ })
	must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	if len(seen) != 2 || before != 1 {
		t.Fatalf("after remove: %d after-hook calls, %d before-hook calls", len(seen), before)
	}
	// A Before hook changes the document the call itself reads.
	srv.Before("s3:GetBucketPolicy", func(Call) { _ = srv.SetBucketPolicyRaw("data-bucket", bucketPolicy("*")) })
	got := must[*s3.GetBucketPolicyOutput](t)(c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("data-bucket")}))
	if *got.Policy != bucketPolicy("*") {
		t.Fatal("before hook did not run first")
	}
}

func TestCallCounts(t *testing.T) {
	srv, a := setup(t)
	b := newClients(t, srv, srv.AddAccount(acctB), "us-east-1")
	srv.ResetCalls()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a
			if i%2 == 1 {
				c = b
			}
			_, _ = c.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(fmt.Sprint(i))})
			_, _ = c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")})
		}()
	}
	wg.Wait()
	if srv.Calls("kms:CreateKey") != 20 || srv.Calls("iam:GetUser") != 20 || srv.Calls(AnyOp) != 40 {
		t.Fatalf("counts = %v", srv.CallCounts())
	}
	if srv.AccountCalls(acctA, "kms:CreateKey") != 10 || srv.AccountCalls(acctB, AnyOp) != 20 {
		t.Fatalf("per account: %d %d", srv.AccountCalls(acctA, "kms:CreateKey"), srv.AccountCalls(acctB, AnyOp))
	}
	if got := srv.CallCounts(); len(got) != 2 {
		t.Fatalf("CallCounts = %v", got)
	}
	srv.ResetCalls()
	if srv.Calls(AnyOp) != 0 || srv.AccountCalls(acctA, "kms:CreateKey") != 0 {
		t.Fatal("reset did not clear")
	}
}
