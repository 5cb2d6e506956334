package awsstate

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// fakeClock is a clock that moves only when told, and records the waits
// asked of it.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	return nil
}

func testLimiter(l RateLimits) (*Limiter, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	lim := NewLimiter(l)
	lim.now, lim.sleep = c.now, c.sleep
	return lim, c
}

func TestTokenBucket(t *testing.T) {
	lim, c := testLimiter(RateLimits{"iam": 5})
	// A second's worth goes at once; then one call every 200 ms, each
	// waiting its turn in the queue.
	for range 8 {
		if err := lim.Wait(context.Background(), "IAM", "GetRole", "us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond}
	if len(c.waits) != len(want) {
		t.Fatalf("waits %v, want %v", c.waits, want)
	}
	for i := range want {
		if d := c.waits[i] - want[i]; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("waits %v, want %v", c.waits, want)
		}
	}
	// Time passing refills the bucket, up to the burst.
	c.t = c.t.Add(10 * time.Second)
	c.waits = nil
	for range 5 {
		_ = lim.Wait(context.Background(), "IAM", "GetRole", "")
	}
	if len(c.waits) != 0 {
		t.Errorf("after 10 s, 5 calls waited %v", c.waits)
	}
}

func TestRateLimitRules(t *testing.T) {
	lim, c := testLimiter(DefaultRateLimits())
	for _, tc := range []struct {
		service, op, key string
		rate             float64
	}{
		{"KMS", "PutKeyPolicy", "kms:PutKeyPolicy", 12},
		{"KMS", "GetKeyPolicy", "kms:GetKeyPolicy", 800},
		{"KMS", "ScheduleKeyDeletion", "kms", 400},
		{"IAM", "GetRole", "iam", 20},
		{"IAM", "PutRolePolicy", "iam:write", 10},
		{"IAM", "DetachUserPolicy", "iam:write", 10},
		{"S3", "GetBucketPolicy", "s3", 50},
		{"S3", "PutBucketPolicy", "s3:write", 20},
		{"STS", "GetCallerIdentity", "sts", 0},
	} {
		key, rate := lim.rule(tc.service, tc.op)
		if key != tc.key || rate != tc.rate {
			t.Errorf("%s:%s: rule %s=%v, want %s=%v", tc.service, tc.op, key, rate, tc.key, tc.rate)
		}
	}
	// KMS counts per region, IAM for the whole account.
	for range 12 {
		_ = lim.Wait(context.Background(), "KMS", "PutKeyPolicy", "us-east-1")
		_ = lim.Wait(context.Background(), "KMS", "PutKeyPolicy", "eu-west-1")
	}
	if len(c.waits) != 0 {
		t.Errorf("12 key policy writes in each of two regions waited %v", c.waits)
	}
	for range 10 {
		_ = lim.Wait(context.Background(), "IAM", "PutUserPolicy", "us-east-1")
	}
	_ = lim.Wait(context.Background(), "IAM", "PutUserPolicy", "eu-west-1")
	if len(c.waits) != 1 {
		t.Errorf("the 11th IAM write in a second, from another region, waited %v; IAM's limit is the account's", c.waits)
	}
}

func TestParseRateLimits(t *testing.T) {
	l, err := ParseRateLimits("iam=5, kms:PutKeyPolicy=3,S3:write=0")
	if err != nil {
		t.Fatal(err)
	}
	if l["iam"] != 5 || l["kms:PutKeyPolicy"] != 3 || l["s3:write"] != 0 || l["kms:GetKeyPolicy"] != 800 {
		t.Errorf("parsed %v", l)
	}
	if l, err := ParseRateLimits("none"); err != nil || len(l) != 0 {
		t.Errorf("none: %v %v", l, err)
	}
	if l, err := ParseRateLimits(""); err != nil || l.String() != DefaultRateLimits().String() {
		t.Errorf("empty: %v %v", l, err)
	}
	for _, bad := range []string{"iam", "iam=x", "iam=-1", "ec2=5", "iam=5,", "kms:Put Key=1", "iam=NaN", "iam=Inf"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// answer is an HTTP client that answers every request with an empty 400,
// counting them: the limiter sits before the transport.
type answer struct {
	mu sync.Mutex
	n  int
}

func (a *answer) Do(*http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
	return &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}, nil
}

// TestLimiterInTheSDK: a configuration the limiter is applied to makes
// every client wait before each attempt of each call, by service; one it
// was not applied to (another account's) does not share its buckets.
func TestLimiterInTheSDK(t *testing.T) {
	lim, c := testLimiter(RateLimits{"iam": 2, "kms": 100})
	http := &answer{}
	cfg := aws.Config{Region: "us-east-1", HTTPClient: http, Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	other := cfg
	lim.Apply(&cfg)
	ic := iam.NewFromConfig(cfg)
	for range 5 {
		_, _ = ic.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("r")})
	}
	if len(c.waits) != 3 || http.n != 5 {
		t.Fatalf("5 IAM calls at 2 a second: waits %v, requests %d; want 3 waits", c.waits, http.n)
	}
	kc := kms.NewFromConfig(cfg)
	for range 5 {
		_, _ = kc.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String("k")})
	}
	if len(c.waits) != 3 {
		t.Errorf("KMS calls waited on IAM's bucket: %v", c.waits)
	}
	oc := iam.NewFromConfig(other)
	for range 5 {
		_, _ = oc.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("r")})
	}
	if len(c.waits) != 3 || len(other.APIOptions) != 0 {
		t.Errorf("a configuration the limiter was not applied to waited: %v", c.waits)
	}
}
