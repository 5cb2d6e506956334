package moto

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// readBack reads every document that decides the principals' access to the
// buckets, straight through the SDK as the accounts' admins: the test's
// own reader, sharing no code with bucketgrant's (pkg/awsstate), so that a
// reading bug in the tool cannot hide itself in what the tests compare.
// buckets maps each bucket name to its account.
func (s *seeded) readBack(ctx context.Context, principals []string, buckets map[string]string, order []string) (*state.State, error) {
	st := &state.State{}
	seenKey := map[string]bool{}
	for _, name := range order {
		b, key, err := s.readBucket(ctx, name, buckets[name])
		if err != nil {
			return nil, err
		}
		st.Buckets = append(st.Buckets, b)
		if key != nil && !seenKey[key.ARN] {
			seenKey[key.ARN] = true
			st.Keys = append(st.Keys, *key)
		}
	}
	for _, arn := range principals {
		p, err := s.readPrincipal(ctx, arn)
		if err != nil {
			return nil, err
		}
		st.Principals = append(st.Principals, p)
	}
	return st, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (s *seeded) readBucket(ctx context.Context, name, account string) (state.Bucket, *state.Key, error) {
	b := state.Bucket{Name: name, Account: account}
	loc, err := s3Client(s.cfg(account, "")).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name})
	if err != nil {
		return b, nil, fmt.Errorf("bucket %s: location: %w", name, err)
	}
	b.Region = string(loc.LocationConstraint)
	if b.Region == "" {
		b.Region = "us-east-1"
	}
	c := s3Client(s.cfg(account, b.Region))
	var key *state.Key
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name})
	switch {
	case apiCode(err) == "ServerSideEncryptionConfigurationNotFoundError":
	case err != nil:
		return b, nil, fmt.Errorf("bucket %s: encryption: %w", name, err)
	default:
		for _, rule := range enc.ServerSideEncryptionConfiguration.Rules {
			if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
				b.Encryption = &state.Encryption{SSEAlgorithm: string(d.SSEAlgorithm), KMSMasterKeyID: aws.ToString(d.KMSMasterKeyID),
					BucketKeyEnabled: aws.ToBool(rule.BucketKeyEnabled)}
				break
			}
		}
	}
	own, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &name})
	switch {
	case apiCode(err) == "OwnershipControlsNotFoundError":
	case err != nil:
		return b, nil, fmt.Errorf("bucket %s: ownership: %w", name, err)
	default:
		if len(own.OwnershipControls.Rules) > 0 {
			b.ObjectOwnership = string(own.OwnershipControls.Rules[0].ObjectOwnership)
		}
	}
	pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name})
	switch {
	case apiCode(err) == "NoSuchBucketPolicy":
	case err != nil:
		return b, nil, fmt.Errorf("bucket %s: policy: %w", name, err)
	default:
		b.Policy = state.NewDoc(aws.ToString(pol.Policy))
	}
	if b.Encryption != nil && b.Encryption.KMSMasterKeyID != "" {
		key, err = s.readKey(ctx, b.Encryption.KMSMasterKeyID, account, b.Region)
		if err != nil {
			return b, nil, fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return b, key, nil
}

func (s *seeded) readKey(ctx context.Context, id, account, region string) (*state.Key, error) {
	if a, err := state.ParseARN(id); err == nil {
		account, region = a.Account, a.Region
	}
	c := kms.NewFromConfig(s.cfg(account, region))
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	m := d.KeyMetadata
	k := &state.Key{ARN: aws.ToString(m.Arn), KeyManager: string(m.KeyManager), KeyState: string(m.KeyState), Region: region,
		MultiRegion: aws.ToBool(m.MultiRegion), Aliases: []string{}}
	al, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: m.KeyId})
	if err != nil {
		return nil, fmt.Errorf("key %s: aliases: %w", id, err)
	}
	for _, a := range al.Aliases {
		k.Aliases = append(k.Aliases, aws.ToString(a.AliasName))
	}
	pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: m.KeyId, PolicyName: aws.String("default")})
	if err != nil {
		return nil, fmt.Errorf("key %s: policy: %w", id, err)
	}
	k.Policy = state.NewDoc(aws.ToString(pol.Policy))
	return k, nil
}

// iamDocument decodes a policy document as IAM returns it: URL-encoded
// (RFC 3986) on AWS. moto returns GetPolicyVersion's documents as plain
// JSON (a deviation), so a document that already is JSON is taken as it
// is. A JSON policy document starts with "{"; an encoded one with "%7B".
func iamDocument(s string) (*state.Doc, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return state.NewDoc(s), nil
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return nil, err
	}
	return state.NewDoc(out), nil
}

func (s *seeded) readPrincipal(ctx context.Context, arn string) (state.Principal, error) {
	account := state.AccountOf(arn)
	c := iam.NewFromConfig(s.cfg(account, ""))
	_, name := splitIAM(arn)
	p := state.Principal{Kind: state.KindOf(arn)}
	wrap := func(what string, err error) (state.Principal, error) {
		return p, fmt.Errorf("%s: %s: %w", arn, what, err)
	}
	var inline []string
	var attached []string
	if p.Kind == state.KindRole {
		r, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
		if err != nil {
			return wrap("role", err)
		}
		p.ARN, p.ID = aws.ToString(r.Role.Arn), aws.ToString(r.Role.RoleId)
		if r.Role.PermissionsBoundary != nil {
			return wrap("boundary", errors.New("the read-back does not read boundaries"))
		}
		// The tags through the call made for them, not GetRole's answer
		// that bucketgrant reads: the snapshot must agree with it.
		tp := iam.NewListRoleTagsPaginator(c, &iam.ListRoleTagsInput{RoleName: &name})
		for tp.HasMorePages() {
			out, err := tp.NextPage(ctx)
			if err != nil {
				return wrap("tags", err)
			}
			for _, t := range out.Tags {
				p.Tags = append(p.Tags, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
			}
		}
		pg := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: &name})
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return wrap("inline policies", err)
			}
			inline = append(inline, out.PolicyNames...)
		}
		ap := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				return wrap("attached policies", err)
			}
			for _, a := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(a.PolicyArn))
			}
		}
		for _, n := range inline {
			out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: aws.String(n)})
			if err != nil {
				return wrap("inline policy "+n, err)
			}
			doc, err := iamDocument(aws.ToString(out.PolicyDocument))
			if err != nil {
				return wrap("inline policy "+n, err)
			}
			p.InlinePolicies = append(p.InlinePolicies, state.NamedDoc{Name: n, Doc: doc})
		}
	} else {
		u, err := c.GetUser(ctx, &iam.GetUserInput{UserName: &name})
		if err != nil {
			return wrap("user", err)
		}
		p.ARN, p.ID = aws.ToString(u.User.Arn), aws.ToString(u.User.UserId)
		if u.User.PermissionsBoundary != nil {
			return wrap("boundary", errors.New("the read-back does not read boundaries"))
		}
		// As for roles: ListUserTags, not GetUser's tags.
		tp := iam.NewListUserTagsPaginator(c, &iam.ListUserTagsInput{UserName: &name})
		for tp.HasMorePages() {
			out, err := tp.NextPage(ctx)
			if err != nil {
				return wrap("tags", err)
			}
			for _, t := range out.Tags {
				p.Tags = append(p.Tags, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
			}
		}
		pg := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: &name})
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return wrap("inline policies", err)
			}
			inline = append(inline, out.PolicyNames...)
		}
		ap := iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: &name})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				return wrap("attached policies", err)
			}
			for _, a := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(a.PolicyArn))
			}
		}
		for _, n := range inline {
			out, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: aws.String(n)})
			if err != nil {
				return wrap("inline policy "+n, err)
			}
			doc, err := iamDocument(aws.ToString(out.PolicyDocument))
			if err != nil {
				return wrap("inline policy "+n, err)
			}
			p.InlinePolicies = append(p.InlinePolicies, state.NamedDoc{Name: n, Doc: doc})
		}
		groups, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: &name})
		if err != nil {
			return wrap("groups", err)
		}
		for _, g := range groups.Groups {
			grp, err := s.readGroup(ctx, c, aws.ToString(g.GroupName))
			if err != nil {
				return wrap("group", err)
			}
			p.Groups = append(p.Groups, grp)
		}
	}
	for _, a := range attached {
		mp, err := readManaged(ctx, c, a)
		if err != nil {
			return wrap("managed policy", err)
		}
		p.AttachedPolicies = append(p.AttachedPolicies, mp)
	}
	return p, nil
}

func (s *seeded) readGroup(ctx context.Context, c *iam.Client, name string) (state.Group, error) {
	g := state.Group{Name: name}
	names, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: &name})
	if err != nil {
		return g, err
	}
	for _, n := range names.PolicyNames {
		out, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: aws.String(n)})
		if err != nil {
			return g, err
		}
		doc, err := iamDocument(aws.ToString(out.PolicyDocument))
		if err != nil {
			return g, err
		}
		g.InlinePolicies = append(g.InlinePolicies, state.NamedDoc{Name: n, Doc: doc})
	}
	att, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: &name})
	if err != nil {
		return g, err
	}
	for _, a := range att.AttachedPolicies {
		mp, err := readManaged(ctx, c, aws.ToString(a.PolicyArn))
		if err != nil {
			return g, err
		}
		g.AttachedPolicies = append(g.AttachedPolicies, mp)
	}
	return g, nil
}

func readManaged(ctx context.Context, c *iam.Client, arn string) (state.ManagedPolicy, error) {
	mp := state.ManagedPolicy{ARN: arn}
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return mp, err
	}
	mp.VersionID = aws.ToString(pol.Policy.DefaultVersionId)
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return mp, err
	}
	mp.Document, err = iamDocument(aws.ToString(v.PolicyVersion.Document))
	return mp, err
}
