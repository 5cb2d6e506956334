package grantsync

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Accounts holds one SDK configuration per account, loaded on first use
// from the grants file's credentials (a profile, a role to assume, or the
// default chain), with the SDK's adaptive retry mode: an organisation-wide
// run is what trips IAM's and KMS's request rates, and adaptive mode slows
// the client down instead of failing.
type Accounts struct {
	Creds       Credentials
	EndpointURL string
	Region      string
	// MaxAttempts, MaxBackoff and Timeout are the retry and timeout knobs
	// of awsstate.Options (zero: their defaults).
	MaxAttempts int
	MaxBackoff  time.Duration
	Timeout     time.Duration
	// RateLimits bound the calls per second to each account
	// (awsstate.RateLimits; nil: awsstate.DefaultRateLimits).
	RateLimits awsstate.RateLimits
	// Load overrides how a configuration is loaded (tests); nil uses
	// awsstate.LoadClients.
	Load func(ctx context.Context, account string, a Account) (aws.Config, string, error)

	mu       sync.Mutex
	conns    map[string]*conn
	parallel int // calls in flight the run allows (Sync sets it)
}

// inFlight tells the accounts how many calls a run keeps in flight, before
// the first connection is made.
func (a *Accounts) inFlight(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.parallel = n
}

type conn struct {
	once  sync.Once
	cfg   aws.Config
	label string
	err   error

	iam *iam.Client
	mu  sync.Mutex
	s3  map[string]*s3.Client
	kms map[string]*kms.Client
}

func (a *Accounts) conn(ctx context.Context, account string) (*conn, error) {
	a.mu.Lock()
	if a.conns == nil {
		a.conns = map[string]*conn{}
	}
	c, ok := a.conns[account]
	if !ok {
		c = &conn{s3: map[string]*s3.Client{}, kms: map[string]*kms.Client{}}
		a.conns[account] = c
	}
	parallel := a.parallel
	a.mu.Unlock()
	c.once.Do(func() {
		creds := a.Creds.For(account)
		if a.Load != nil {
			c.cfg, c.label, c.err = a.Load(ctx, account, creds)
		} else {
			var cl *awsstate.Clients
			cl, c.err = awsstate.LoadClients(ctx, awsstate.Options{
				PrincipalProfile: creds.Profile, ResourceProfile: creds.Profile,
				PrincipalRoleARN: creds.Role, ResourceRoleARN: creds.Role,
				EndpointURL: a.EndpointURL, Region: a.Region,
				MaxAttempts: a.MaxAttempts, MaxBackoff: a.MaxBackoff, Timeout: a.Timeout, AdaptiveRetry: true,
			})
			if cl != nil {
				c.cfg, c.label = cl.Principal, cl.PrincipalLabel
			}
		}
		if c.err != nil {
			c.err = fmt.Errorf("credentials for account %s: %w", account, c.err)
			return
		}
		// The SDK's HTTP client keeps 10 idle connections per host. With
		// more calls in flight to one account's IAM endpoint, every call
		// beyond 10 closed its connection and the next opened a new one
		// (and against AWS, a TLS handshake): 157 new connections in a
		// 1,000-grant benchmark run at --parallel 32.
		if bc, ok := c.cfg.HTTPClient.(*awshttp.BuildableClient); ok && parallel > awshttp.DefaultHTTPTransportMaxIdleConnsPerHost {
			c.cfg.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, parallel)
				t.MaxIdleConns = max(t.MaxIdleConns, 4*parallel)
			})
		}
		if c.cfg.Retryer == nil {
			c.cfg.Retryer = func() aws.Retryer { return retry.NewAdaptiveMode() }
		}
		limits := a.RateLimits
		if limits == nil {
			limits = awsstate.DefaultRateLimits()
		}
		// Every client of the account, readers and writers, shares its
		// buckets: AWS counts the account's calls, whoever makes them.
		awsstate.NewLimiter(limits).Apply(&c.cfg)
		c.iam = iam.NewFromConfig(c.cfg)
	})
	return c, c.err
}

func (c *conn) s3Client(region string, pathStyle bool) *s3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s3[region] == nil {
		c.s3[region] = s3.NewFromConfig(c.cfg, func(o *s3.Options) {
			if region != "" {
				o.Region = region
			}
			o.UsePathStyle = o.UsePathStyle || pathStyle
		})
	}
	return c.s3[region]
}

func (c *conn) kmsClient(region string) *kms.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kms[region] == nil {
		c.kms[region] = kms.NewFromConfig(c.cfg, func(o *kms.Options) {
			if region != "" {
				o.Region = region
			}
		})
	}
	return c.kms[region]
}

func (a *Accounts) pathStyle(c *conn) bool {
	return a.EndpointURL != "" || c.cfg.BaseEndpoint != nil
}

// Reader returns a reader acting as the account (for awsstate.MultiReader).
func (a *Accounts) Reader(ctx context.Context, account string) (*awsstate.Reader, error) {
	c, err := a.conn(ctx, account)
	if err != nil {
		return nil, err
	}
	r := awsstate.NewReaderFromConfig(c.cfg, nil, a.pathStyle(c))
	r.PrincipalLabel, r.ResourceLabel = c.label, c.label
	return r, nil
}

// awsStore is an apply.Store over many accounts: each document is read and
// written with its own account's credentials, through apply.AWSStore.
type awsStore struct {
	accounts *Accounts
	// principalOf names the user or role each identity document belongs
	// to, regionOf each bucket's region (empty: found by S3).
	principalOf func(diff.DocRef) string
	regionOf    func(bucket string) string
}

// Store is an apply.Store that reads and writes each document with its own
// account's credentials: for rollback of a backup whose documents span
// accounts (a sync's), with the backup's record of whose each identity
// document is and where each bucket is.
func (a *Accounts) Store(principalOf func(diff.DocRef) string, regionOf func(bucket string) string) apply.Store {
	return &awsStore{accounts: a, principalOf: principalOf, regionOf: regionOf}
}

// Caller is the identity account's credentials act as
// (sts:GetCallerIdentity): the one that will write the account's key
// policies, which the lockout check must keep allowed.
func (a *Accounts) Caller(ctx context.Context, account string) (*policy.Caller, error) {
	c, err := a.conn(ctx, account)
	if err != nil {
		return nil, err
	}
	id, err := sts.NewFromConfig(c.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, awsstate.Classify(err, "sts:GetCallerIdentity", "", c.label)
	}
	if got := aws.ToString(id.Account); got != account {
		return nil, fmt.Errorf("the grants file's credentials for account %s (%s) act in account %s; give that account's own profile or role", account, c.label, got)
	}
	return &policy.Caller{ARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account)}, nil
}

func (s *awsStore) Describe() string { return "AWS" }

func (s *awsStore) store(ctx context.Context, ref diff.DocRef) (*apply.AWSStore, error) {
	c, err := s.accounts.conn(ctx, ref.Account)
	if err != nil {
		return nil, err
	}
	ps := s.accounts.pathStyle(c)
	return &apply.AWSStore{
		IAM:            c.iam,
		KMS:            func(region string) apply.KMSAPI { return c.kmsClient(region) },
		S3:             func(region string) apply.S3API { return c.s3Client(region, ps) },
		Principal:      s.principalOf(ref),
		BucketRegion:   s.regionOf(bucketOfRef(ref)),
		PrincipalLabel: c.label, ResourceLabel: c.label,
	}, nil
}

func (s *awsStore) Read(ctx context.Context, ref diff.DocRef) (string, bool, error) {
	st, err := s.store(ctx, ref)
	if err != nil {
		return "", false, err
	}
	return st.Read(ctx, ref)
}

func (s *awsStore) Write(ctx context.Context, ref diff.DocRef, text string, create, attach bool) error {
	st, err := s.store(ctx, ref)
	if err != nil {
		return err
	}
	return st.Write(ctx, ref, text, create, attach)
}

func (s *awsStore) Delete(ctx context.Context, ref diff.DocRef) error {
	st, err := s.store(ctx, ref)
	if err != nil {
		return err
	}
	return st.Delete(ctx, ref)
}
