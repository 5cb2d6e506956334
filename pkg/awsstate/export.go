package awsstate

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The pieces the writers (pkg/apply) and the CLI share with the readers:
// the two identities' SDK configurations (Classify, for their errors, is in
// errors.go).

// Clients are the SDK configurations of the two identities, for readers
// and writers alike.
type Clients struct {
	// Principal reads (and writes) IAM in the principal's account; Resource
	// reads S3 and KMS in the resources' account. They are the same
	// configuration when SameIdentity.
	Principal, Resource           aws.Config
	PrincipalLabel, ResourceLabel string
	SameIdentity                  bool
	// PathStyle is set when S3 must use path-style addressing (an endpoint
	// URL was given or AWS_ENDPOINT_URL is set).
	PathStyle bool
}

// LoadClients loads the SDK configurations opts describes: a profile or the
// default chain, then a role to assume (stscreds) where one is given.
func LoadClients(ctx context.Context, opts Options) (*Clients, error) {
	opts.Logf = serialLogf(opts.Logf)
	pcfg, err := loadConfig(ctx, opts, opts.PrincipalProfile, opts.PrincipalRoleARN)
	if err != nil {
		return nil, err
	}
	c := &Clients{Principal: pcfg, Resource: pcfg, SameIdentity: true,
		PrincipalLabel: label(opts.PrincipalProfile, opts.PrincipalRoleARN)}
	c.ResourceLabel = c.PrincipalLabel
	if opts.ResourceProfile != opts.PrincipalProfile || opts.ResourceRoleARN != opts.PrincipalRoleARN {
		rcfg, err := loadConfig(ctx, opts, opts.ResourceProfile, opts.ResourceRoleARN)
		if err != nil {
			return nil, err
		}
		c.Resource, c.SameIdentity = rcfg, false
		c.ResourceLabel = label(opts.ResourceProfile, opts.ResourceRoleARN)
	}
	c.PathStyle = opts.EndpointURL != "" || c.Resource.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return c, nil
}
