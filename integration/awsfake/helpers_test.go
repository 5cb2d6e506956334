package awsfake

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

// clients are SDK clients for one identity and region.
type clients struct {
	cfg aws.Config
	sts *sts.Client
	iam *iam.Client
	kms *kms.Client
	s3  *s3.Client
}

func newClients(t *testing.T, srv *Server, c Credentials, region string) *clients {
	t.Helper()
	cfg, err := srv.AWSConfig(context.Background(), c, region)
	if err != nil {
		t.Fatal(err)
	}
	return &clients{
		cfg: cfg,
		sts: sts.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg),
		kms: kms.NewFromConfig(cfg),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
	}
}

// setup starts a server with two accounts and returns admin clients of
// account A in us-east-1.
func setup(t *testing.T) (*Server, *clients) {
	t.Helper()
	srv := Start(t)
	srv.AddAccount(acctB)
	return srv, newClients(t, srv, srv.AddAccount(acctA), "us-east-1")
}

// wantCode fails unless err is a smithy APIError with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%v), want %s", ae.ErrorCode(), err, code)
	}
}

// must fails the test on err.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var ctx = context.Background()
