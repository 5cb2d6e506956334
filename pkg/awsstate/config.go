package awsstate

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Options says which credentials read what. The principal's account (IAM)
// and the resources' account (S3, KMS) each come from a profile or a role to
// assume; with neither, the SDK's default credential chain. When both sides
// are given the same way, one identity reads everything.
type Options struct {
	PrincipalProfile string
	ResourceProfile  string
	PrincipalRoleARN string
	ResourceRoleARN  string
	// OrgProfile and OrgRoleARN are credentials of the organization's
	// management account or a delegated administrator, for reading SCPs
	// and RCPs (org.go); with neither, the organization is not read.
	OrgProfile string
	OrgRoleARN string
	// EndpointURL points every client at a compatible server (S3 then uses
	// path-style addressing). AWS_ENDPOINT_URL is honoured by the SDK itself.
	EndpointURL string
	// Region is the region for IAM, STS and the first S3 call (default: the
	// profile's, else us-east-1); the bucket's own region is found.
	Region string
	// Parallel bounds the AWS calls in flight (default 8).
	Parallel int
	// OldKeys also reads the other customer managed keys of the bucket's
	// account and region whose key policies name the principal (revoke,
	// --drop-old-keys): after the bucket's default key changed, a grant's
	// KMS statement can live in the policy of a key nothing else points
	// to any more.
	OldKeys bool
	// MaxAttempts is how many times each AWS call is tried, the first try
	// included, before its error is reported (0: the profile's max_attempts
	// or AWS_MAX_ATTEMPTS, else the SDK's standard retryer's 3). Throttling,
	// 5xx answers, dropped connections and timed-out attempts are retried.
	MaxAttempts int
	// MaxBackoff caps the SDK's exponential backoff between two attempts
	// (0: the SDK's 20 s).
	MaxBackoff time.Duration
	// Timeout bounds each attempt of each AWS call, from sending the
	// request to reading the whole answer, so that a call AWS never answers
	// fails (and is retried) instead of hanging (0: DefaultTimeout).
	Timeout time.Duration
	// AdaptiveRetry uses the SDK's adaptive retry mode, which also slows
	// the client down when AWS throttles it: for runs that make many calls
	// in a row (sync). The knobs above apply to it too.
	AdaptiveRetry bool
	// Logf narrates (may be nil). It is set for --debug only: with it, the
	// SDK's own log lines and one line per AWS call go to it too; without
	// it, the SDK logs nothing (its warnings are for developers, not for
	// the operator reading bucketgrant's report).
	Logf func(format string, args ...any)
}

// Read gathers the state of principalARN's access to bucket from live AWS:
// the result is what `bucketgrant snapshot` writes. Errors are *Error (use
// Hint, Detail, ExitCode).
func Read(ctx context.Context, opts Options, principalARN, bucket string) (*state.State, error) {
	r, err := NewReader(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.Read(ctx, principalARN, bucket)
}

// ReadDetailed is Read that also returns the identities that read (see
// Reader.ReadDetailed).
func ReadDetailed(ctx context.Context, opts Options, principalARN, bucket string) (*Result, error) {
	r, err := NewReader(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.ReadDetailed(ctx, principalARN, bucket)
}

// NewReader builds a Reader with SDK clients from opts.
func NewReader(ctx context.Context, opts Options) (*Reader, error) {
	opts.Logf = serialLogf(opts.Logf)
	c, err := LoadClients(ctx, opts)
	if err != nil {
		return nil, err
	}
	var rcfg *aws.Config
	if !c.SameIdentity {
		rcfg = &c.Resource
	}
	r := NewReaderFromConfig(c.Principal, rcfg, c.PathStyle)
	r.PrincipalLabel, r.ResourceLabel = c.PrincipalLabel, c.ResourceLabel
	r.Parallel, r.Logf, r.OldKeys = opts.Parallel, opts.Logf, opts.OldKeys
	return r, nil
}

// NewReaderFromConfig builds a Reader from SDK configurations: principal
// for IAM, resource (nil: the same identity) for S3 and KMS. S3 uses
// path-style addressing when pathStyle is set, the configuration has a base
// endpoint, or AWS_ENDPOINT_URL(_S3) is set.
func NewReaderFromConfig(principal aws.Config, resource *aws.Config, pathStyle bool) *Reader {
	r := &Reader{
		IAM:          iam.NewFromConfig(principal),
		PrincipalSTS: sts.NewFromConfig(principal),
	}
	rcfg := principal
	if resource != nil {
		rcfg = *resource
		r.ResourceSTS = sts.NewFromConfig(rcfg)
	}
	pathStyle = pathStyle || rcfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	var mu sync.Mutex
	s3c := map[string]*s3.Client{}
	kmsc := map[string]*kms.Client{}
	r.S3Region = rcfg.Region
	r.S3 = func(region string) S3API {
		if region == "" {
			region = rcfg.Region // one client for the region however named
		}
		mu.Lock()
		defer mu.Unlock()
		if c, ok := s3c[region]; ok {
			return c
		}
		c := s3.NewFromConfig(rcfg, func(o *s3.Options) {
			if region != "" {
				o.Region = region
			}
			o.UsePathStyle = pathStyle || o.UsePathStyle
		})
		s3c[region] = c
		return c
	}
	r.KMS = func(region string) KMSAPI {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := kmsc[region]; ok {
			return c
		}
		c := kms.NewFromConfig(rcfg, func(o *kms.Options) {
			if region != "" {
				o.Region = region
			}
		})
		kmsc[region] = c
		return c
	}
	return r
}

// DefaultTimeout bounds each attempt of an AWS call when Options.Timeout is
// 0. The calls bucketgrant makes answer in well under a second; a minute
// leaves room for a slow network without letting a run hang.
const DefaultTimeout = 60 * time.Second

func label(profile, role string) string {
	switch {
	case role != "" && profile != "":
		return fmt.Sprintf("role %s assumed with profile %q", role, profile)
	case role != "":
		return "role " + role
	case profile != "":
		return fmt.Sprintf("profile %q", profile)
	}
	return "the default credentials"
}

func loadConfig(ctx context.Context, opts Options, profile, role string) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(profile))
	}
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.EndpointURL != "" {
		lo = append(lo, config.WithBaseEndpoint(opts.EndpointURL))
	}
	if endpoint := stsEndpoint(opts); endpoint != "" {
		lo = append(lo, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			o.Client = pointAt(o.Client, endpoint)
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cfg, &Error{Kind: KindOther, Op: "load aws configuration for " + label(profile, role),
			Hint: "check the profile name and ~/.aws/config", Err: err}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM and STS are global; S3 finds the bucket's region
	}
	if opts.AdaptiveRetry {
		cfg.Retryer = func() aws.Retryer { return retry.NewAdaptiveMode() }
	}
	retryAndTimeout(&cfg, opts)
	debugLogging(&cfg, opts.Logf)
	if role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "bucketgrant"
		}))
	}
	if shared, ok := ctx.Value(sharedCredentialsKey{}).(*sharedCredentials); ok {
		cfg.Credentials = shared.get(credentialsKey{profile, role, cfg.Region, stsEndpoint(opts)}, cfg.Credentials)
	}
	return cfg, nil
}

// WithSharedCredentials returns a context under which every configuration
// LoadClients (and so Read, ReadOrg and the writers) loads for the same
// profile, role, region and endpoint shares one credentials cache: a role
// is assumed once per run, not once per read, write and verification, and
// a profile's process or SSO credentials are fetched once. The command
// line puts it on each command's context; a library caller that wants
// fresh credentials on every load does without.
func WithSharedCredentials(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedCredentialsKey{}, &sharedCredentials{m: map[credentialsKey]aws.CredentialsProvider{}})
}

type sharedCredentialsKey struct{}

// credentialsKey is what decides which credentials a configuration gets.
type credentialsKey struct{ profile, role, region, stsEndpoint string }

type sharedCredentials struct {
	mu sync.Mutex
	m  map[credentialsKey]aws.CredentialsProvider
}

// get returns the provider first stored under k, storing p when there is
// none. A nil provider (no credentials found) is not kept.
func (s *sharedCredentials) get(k credentialsKey, p aws.CredentialsProvider) aws.CredentialsProvider {
	s.mu.Lock()
	defer s.mu.Unlock()
	if have, ok := s.m[k]; ok {
		return have
	}
	if p != nil {
		s.m[k] = p
	}
	return p
}

// stsEndpoint is the endpoint every STS call should go to when one is set:
// --endpoint-url, else AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL. Empty
// means AWS's own.
func stsEndpoint(opts Options) string {
	for _, e := range []string{opts.EndpointURL, os.Getenv("AWS_ENDPOINT_URL_STS"), os.Getenv("AWS_ENDPOINT_URL")} {
		if e != "" {
			return e
		}
	}
	return ""
}

// pointAt makes the STS client that assumes a profile's role_arn (with
// source_profile or credential_source) send its AssumeRole to endpoint.
// aws-sdk-go-v2's config resolves a profile's credentials before the base
// endpoint (config.LoadDefaultConfig: resolveCredentials runs before
// resolveBaseEndpoint), so that client is made without it and would call
// sts.amazonaws.com with the source profile's keys even when every other
// call goes to AWS_ENDPOINT_URL: a local emulator then fails with an
// error that looks like missing credentials, and real keys would leave
// for AWS.
func pointAt(c stscreds.AssumeRoleAPIClient, endpoint string) stscreds.AssumeRoleAPIClient {
	client, ok := c.(*sts.Client)
	if !ok {
		return c
	}
	o := client.Options()
	if o.BaseEndpoint != nil {
		return c // AWS_ENDPOINT_URL_STS or the profile's own, already resolved
	}
	return sts.New(o, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// retryAndTimeout applies opts' retry and timeout knobs to cfg, for every
// client made from it (readers, writers, and the STS client that assumes a
// role). The retryer stays the SDK's standard one, which retries
// throttling, 5xx answers, connection errors and timed-out attempts with
// exponential backoff and jitter; only its attempts and its longest wait
// change, and only when asked.
func retryAndTimeout(cfg *aws.Config, opts Options) {
	if opts.MaxAttempts > 0 {
		// The service clients wrap their retryer with this, so it wins
		// over a profile's max_attempts.
		cfg.RetryMaxAttempts = opts.MaxAttempts
	}
	if opts.MaxBackoff > 0 {
		base := cfg.Retryer
		cfg.Retryer = func() aws.Retryer {
			var r aws.Retryer
			if base != nil {
				r = base()
			} else {
				r = retry.NewStandard()
			}
			return retry.AddWithMaxBackoffDelay(r, opts.MaxBackoff)
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = bc.WithTimeout(timeout)
	} else if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(timeout)
	}
}

// serialLogf makes logf safe to call from the parallel reads and the call
// log at once: callers may pass a function that is not (one appending to a
// slice).
func serialLogf(logf func(format string, args ...any)) func(format string, args ...any) {
	if logf == nil {
		return nil
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logf(format, args...)
	}
}
