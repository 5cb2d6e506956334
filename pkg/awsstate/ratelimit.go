package awsstate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// RateLimits are client-side limits on AWS calls, per account: calls per
// second by key. A key is a service ("iam", "kms", "s3", "sts"), a service's
// writes ("iam:write": Put, Create, Delete, Attach, Detach, Update calls), or
// one operation ("kms:PutKeyPolicy"); a call takes the most specific key
// set. IAM and STS limits hold for the account; KMS and S3 limits for each
// region of it, as AWS counts them. 0 means no limit. A missing key: no
// limit.
//
// AWS throttles each account's calls (KMS per operation and region, IAM for
// the account as a whole), and an organisation-wide sync makes thousands: a
// client that stays under the quota does not spend its retries on
// throttling it caused itself, and leaves room for the account's other
// callers.
type RateLimits map[string]float64

// DefaultRateLimits are the limits sync uses unless told otherwise.
//
//   - KMS: 80% of AWS's documented default request quotas (AWS KMS
//     Developer Guide, "Request quotas": DescribeKey 2,000, GetKeyPolicy
//     1,000, ListAliases 500, PutKeyPolicy 15 per second, per account and
//     region, shared with every other caller in the account).
//   - IAM: AWS does not publish IAM's rates (the IAM blog on API throttling
//     describes per-API token buckets whose sizes it does not give, and the
//     quota cannot be raised), so sync keeps a modest 20 calls a second per
//     account, writes 10 of them at most.
//   - S3 bucket-configuration calls (policy, encryption, ownership): S3
//     publishes rates only for object requests (thousands per second per
//     prefix), so sync keeps 50 a second per account and region, writes 20.
//   - STS: one GetCallerIdentity per account; not limited.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		"kms":              400,
		"kms:DescribeKey":  1600,
		"kms:GetKeyPolicy": 800,
		"kms:ListAliases":  400,
		"kms:PutKeyPolicy": 12,
		"iam":              20,
		"iam:write":        10,
		"s3":               50,
		"s3:write":         20,
		"sts":              0,
	}
}

// NoRateLimits lifts every limit (a server without quotas, such as a test
// server).
func NoRateLimits() RateLimits { return RateLimits{} }

// String lists the limits as ParseRateLimits reads them.
func (l RateLimits) String() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(l[k], 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

var rateServices = []string{"iam", "kms", "s3", "sts"}

// ParseRateLimits reads "KEY=N,KEY=N" (see RateLimits) over the defaults:
// a key given replaces the default for that key; "none" lifts every limit.
func ParseRateLimits(s string) (RateLimits, error) {
	out := DefaultRateLimits()
	s = strings.TrimSpace(s)
	if s == "none" {
		return NoRateLimits(), nil
	}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("--rate-limit %q: want KEY=CALLS_PER_SECOND, comma-separated (iam=20,kms:PutKeyPolicy=12; 0 for no limit)", part)
		}
		k = strings.TrimSpace(k)
		svc, op, _ := strings.Cut(k, ":")
		svc = strings.ToLower(svc)
		if !slices.Contains(rateServices, svc) || strings.ContainsAny(op, " =") {
			return nil, fmt.Errorf("--rate-limit %q: the key is a service (%s), SERVICE:write or SERVICE:Operation", part, strings.Join(rateServices, ", "))
		}
		if op != "" {
			k = svc + ":" + op
		} else {
			k = svc
		}
		out[k] = n
	}
	return out, nil
}

// Limiter holds one account's token buckets. Every client made from a
// configuration it was applied to waits for its turn before each attempt of
// each call (retries included: AWS counts them too).
type Limiter struct {
	limits RateLimits
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

// NewLimiter returns a limiter for one account.
func NewLimiter(l RateLimits) *Limiter {
	return &Limiter{limits: l, now: time.Now, sleep: sleepFor, buckets: map[string]*tokenBucket{}}
}

func sleepFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Apply makes every client built from cfg wait for the limiter.
func (l *Limiter) Apply(cfg *aws.Config) {
	if l == nil {
		return
	}
	// Clip: configurations copied from one another must not share the
	// appended element.
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(s *middleware.Stack) error {
		mw := middleware.FinalizeMiddlewareFunc("BucketgrantRateLimit", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := l.Wait(ctx, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), awsmiddleware.GetRegion(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		})
		// After the retryer: each attempt waits.
		if _, ok := s.Finalize.Get("Retry"); ok {
			return s.Finalize.Insert(mw, "Retry", middleware.After)
		}
		return s.Finalize.Add(mw, middleware.Before)
	})
}

var writePrefixes = []string{"Put", "Create", "Delete", "Attach", "Detach", "Update", "Set", "Tag", "Untag"}

// rule finds the limit for a call: the operation's, else the service's
// writes' for a write, else the service's.
func (l *Limiter) rule(service, op string) (string, float64) {
	svc := strings.ToLower(service)
	if r, ok := l.limits[svc+":"+op]; ok {
		return svc + ":" + op, r
	}
	for _, p := range writePrefixes {
		if strings.HasPrefix(op, p) {
			if r, ok := l.limits[svc+":write"]; ok {
				return svc + ":write", r
			}
			break
		}
	}
	r, ok := l.limits[svc]
	if !ok {
		return "", 0
	}
	return svc, r
}

// Wait blocks until a call to service's operation in region may go.
func (l *Limiter) Wait(ctx context.Context, service, op, region string) error {
	key, rate := l.rule(service, op)
	if rate <= 0 {
		return nil
	}
	if svc := strings.ToLower(service); svc == "iam" || svc == "sts" {
		region = "" // global: the account's quota
	}
	l.mu.Lock()
	b, ok := l.buckets[key+"|"+region]
	if !ok {
		// A second's worth at once, as AWS counts per second.
		burst := math.Max(1, math.Floor(rate))
		b = &tokenBucket{rate: rate, burst: burst, tokens: burst, last: l.now()}
		l.buckets[key+"|"+region] = b
	}
	l.mu.Unlock()
	return b.take(ctx, l.now, l.sleep)
}

// tokenBucket lets rate calls a second through on average, burst at once.
// A call takes its token at once (the count may go below zero) and waits
// until the token would have been there: callers queue in arrival order
// without polling.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	b.mu.Lock()
	t := now()
	b.tokens = math.Min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	b.last = t
	b.tokens--
	wait := time.Duration(0)
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	b.mu.Unlock()
	if wait == 0 {
		return nil
	}
	if err := sleep(ctx, wait); err != nil {
		b.mu.Lock()
		b.tokens++ // the call does not go: its turn is free again
		b.mu.Unlock()
		return err
	}
	return nil
}
