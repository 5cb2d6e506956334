package moto

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// defaultRegion is where IAM and STS are called, and the region of buckets
// and keys whose state names none.
const defaultRegion = "us-east-1"

// creds are one identity's access key.
type creds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// bootstrap signs the calls that open an account. moto checks no signature
// (a deviation: AWS refuses a wrong secret), and an access key it has not
// issued lands in its default account 123456789012 (another: AWS refuses
// an unknown key). Only newAccount uses it, to assume a role into the
// account it opens; no scenario lives in 123456789012.
var bootstrap = creds{AccessKeyID: "AKIAMOTOBOOTSTRAP000", SecretAccessKey: "moto-does-not-check-signatures"}

// config is an SDK configuration for c against endpoint.
func config(endpoint string, c creds, region string) aws.Config {
	if region == "" {
		region = defaultRegion
	}
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
	}
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// accountSeq hands out account IDs: every scenario has accounts of its own,
// so the tests share one moto server and still run in parallel.
var accountSeq atomic.Int64

// newAccountID returns an unused 12-digit account ID whose first digits
// say which side it is (1111: principals, 2222: resources), for reading
// failures.
func newAccountID(side int) string {
	return fmt.Sprintf("%d%08d", side*1111, accountSeq.Add(1))
}

var bucketSeq atomic.Int64

// newBucketName returns an unused bucket name (S3 bucket names are global,
// in moto as in AWS).
func newBucketName(base string) string {
	return fmt.Sprintf("%s-%03d", base, bucketSeq.Add(1))
}

// newAccount opens an account in moto and returns the access key of its
// user "admin". moto has no Organizations-style account creation through
// IAM: an account exists once something is made in it. AssumeRole into any
// role ARN of the account gives credentials there (moto does not require
// the role to exist, where AWS does); with them the admin user and its
// long-term key are made as an operator would. moto evaluates no IAM
// policy, so the admin's allow-all inline policy only states what it may do
// on AWS (an inline one: moto loads no AWS managed policy unless told to).
func newAccount(ctx context.Context, account string) (creds, error) {
	tmp, err := assumeRole(ctx, bootstrap, "arn:aws:iam::"+account+":role/moto-bootstrap", "seed")
	if err != nil {
		return creds{}, fmt.Errorf("opening account %s: %w", account, err)
	}
	c := iam.NewFromConfig(config(motoURL, tmp, ""))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")}); err != nil {
		return creds{}, fmt.Errorf("admin user of %s: %w", account, err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("admin"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		return creds{}, fmt.Errorf("admin policy of %s: %w", account, err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		return creds{}, fmt.Errorf("admin key of %s: %w", account, err)
	}
	return creds{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}, nil
}

// assumeRole returns a session of roleARN, assumed with c through moto's STS.
func assumeRole(ctx context.Context, c creds, roleARN, session string) (creds, error) {
	out, err := sts.NewFromConfig(config(motoURL, c, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session)})
	if err != nil {
		return creds{}, fmt.Errorf("assuming %s: %w", roleARN, err)
	}
	return creds{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)}, nil
}

// seeded is what a scenario put into moto.
type seeded struct {
	// admins are the admin credentials of every account, by account ID.
	admins map[string]creds
	// keyARNs maps each key ARN of the seeded state to the ARN moto gave
	// the key (moto chooses key IDs; AWS does too).
	keyARNs map[string]string
}

// cfg is an SDK configuration for account's admin, talking to moto
// directly (not through a test's recorder: seeding and read-back are not
// the binary's calls).
func (s *seeded) cfg(account, region string) aws.Config {
	return config(motoURL, s.admins[account], region)
}

// principalRe finds the users and roles a resource policy names.
var principalRe = regexp.MustCompile(`arn:aws:iam::([0-9]{12}):(user|role)(/(?:[A-Za-z0-9+=,.@_-]+/)*)([A-Za-z0-9+=,.@_-]+)`)

// seed creates everything st holds, through the SDK, as its accounts'
// admins: users and roles with their paths, inline and attached policies
// and groups; the users and roles the resource policies name; keys with
// their policies and aliases; buckets with their region, default
// encryption, Object Ownership and policy. Key ARNs in the buckets'
// encryption are rewritten to the ARNs moto gave.
func seed(ctx context.Context, st *state.State) (*seeded, error) {
	s := &seeded{admins: map[string]creds{}, keyARNs: map[string]string{}}
	open := func(account string) error {
		if _, ok := s.admins[account]; ok || account == "" || account == "aws" {
			return nil
		}
		c, err := newAccount(ctx, account)
		s.admins[account] = c
		return err
	}
	var named [][]string
	for _, k := range st.Keys {
		if k.Policy != nil {
			named = append(named, principalRe.FindAllStringSubmatch(k.Policy.String(), -1)...)
		}
	}
	for _, b := range st.Buckets {
		if b.Policy != nil {
			named = append(named, principalRe.FindAllStringSubmatch(b.Policy.String(), -1)...)
		}
	}
	for _, p := range st.Principals {
		if err := open(state.AccountOf(p.ARN)); err != nil {
			return nil, err
		}
	}
	for _, m := range named {
		if err := open(m[1]); err != nil {
			return nil, err
		}
	}
	for _, k := range st.Keys {
		if err := open(state.AccountOf(k.ARN)); err != nil {
			return nil, err
		}
	}
	for _, b := range st.Buckets {
		if err := open(b.Account); err != nil {
			return nil, err
		}
	}

	made := map[string]bool{}
	for _, p := range st.Principals {
		if err := s.principal(ctx, p); err != nil {
			return nil, err
		}
		made[p.ARN] = true
	}
	// AWS refuses a key or bucket policy naming a user or role that does
	// not exist; moto validates no policy (a deviation), but the scenarios
	// are built as they would have to be on AWS.
	for _, m := range named {
		arn := m[0]
		if made[arn] {
			continue
		}
		made[arn] = true
		if err := s.principal(ctx, state.Principal{ARN: arn, Kind: m[2]}); err != nil {
			return nil, err
		}
	}
	for _, k := range st.Keys {
		if err := s.key(ctx, k); err != nil {
			return nil, err
		}
	}
	for _, b := range st.Buckets {
		if err := s.bucket(ctx, b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// splitIAM returns the path and name of a user or role ARN.
func splitIAM(arn string) (path, name string) {
	res := arn[strings.Index(arn, ":user/")+len(":user"):]
	if strings.Contains(arn, ":role/") {
		res = arn[strings.Index(arn, ":role/")+len(":role"):]
	}
	i := strings.LastIndexByte(res, '/')
	return res[:i+1], res[i+1:]
}

func trustPolicy(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

func (s *seeded) principal(ctx context.Context, p state.Principal) error {
	account := state.AccountOf(p.ARN)
	c := iam.NewFromConfig(s.cfg(account, ""))
	path, name := splitIAM(p.ARN)
	role := state.KindOf(p.ARN) == state.KindRole
	var err error
	if role {
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, Path: &path, AssumeRolePolicyDocument: aws.String(trustPolicy(account))})
	} else {
		_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: &name, Path: &path})
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", p.ARN, err)
	}
	if len(p.Tags) > 0 {
		var tags []iamtypes.Tag
		for _, t := range p.Tags {
			tags = append(tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		if role {
			_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: &name, Tags: tags})
		} else {
			_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: &name, Tags: tags})
		}
		if err != nil {
			return fmt.Errorf("tagging %s: %w", p.ARN, err)
		}
	}
	for _, nd := range p.InlinePolicies {
		doc := aws.String(nd.Doc.String())
		if role {
			_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String(nd.Name), PolicyDocument: doc})
		} else {
			_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &name, PolicyName: aws.String(nd.Name), PolicyDocument: doc})
		}
		if err != nil {
			return fmt.Errorf("inline policy %s of %s: %w", nd.Name, p.ARN, err)
		}
	}
	for _, mp := range p.AttachedPolicies {
		arn, err := s.managed(ctx, account, mp)
		if err != nil {
			return err
		}
		if role {
			_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &name, PolicyArn: &arn})
		} else {
			_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &name, PolicyArn: &arn})
		}
		if err != nil {
			return fmt.Errorf("attaching %s to %s: %w", arn, p.ARN, err)
		}
	}
	if p.PermissionsBoundary != nil {
		// moto does not implement PutUserPermissionsBoundary (a
		// deviation); no scenario needs a boundary, and bucketgrant
		// blocks on one anyway.
		return errors.New("permissions boundaries cannot be seeded into moto")
	}
	for _, g := range p.Groups {
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g.Name)}); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g.Name), UserName: &name}); err != nil {
			return fmt.Errorf("adding %s to %s: %w", name, g.Name, err)
		}
		for _, nd := range g.InlinePolicies {
			if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(g.Name), PolicyName: aws.String(nd.Name),
				PolicyDocument: aws.String(nd.Doc.String())}); err != nil {
				return fmt.Errorf("inline policy %s of group %s: %w", nd.Name, g.Name, err)
			}
		}
		for _, mp := range g.AttachedPolicies {
			arn, err := s.managed(ctx, account, mp)
			if err != nil {
				return err
			}
			if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g.Name), PolicyArn: &arn}); err != nil {
				return fmt.Errorf("attaching %s to group %s: %w", arn, g.Name, err)
			}
		}
	}
	return nil
}

// managed creates a customer managed policy under its path; AWS managed
// policies (arn:aws:iam::aws:policy/...) exist in moto already.
func (s *seeded) managed(ctx context.Context, account string, mp state.ManagedPolicy) (string, error) {
	if strings.HasPrefix(mp.ARN, "arn:aws:iam::aws:policy/") {
		return mp.ARN, nil
	}
	res := mp.ARN[strings.Index(mp.ARN, ":policy/")+len(":policy"):]
	i := strings.LastIndexByte(res, '/')
	out, err := iam.NewFromConfig(s.cfg(account, "")).CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(res[i+1:]),
		Path: aws.String(res[:i+1]), PolicyDocument: aws.String(mp.Document.String())})
	if err != nil {
		return "", fmt.Errorf("creating managed policy %s: %w", mp.ARN, err)
	}
	return aws.ToString(out.Policy.Arn), nil
}

func (s *seeded) key(ctx context.Context, k state.Key) error {
	account, region := state.AccountOf(k.ARN), k.Region
	if a, err := state.ParseARN(k.ARN); err == nil && a.Region != "" {
		region = a.Region
	}
	c := kms.NewFromConfig(s.cfg(account, region))
	in := &kms.CreateKeyInput{MultiRegion: aws.Bool(k.MultiRegion)}
	if k.Policy != nil {
		// The seeding, not the tool, skips the lockout check: the console
		// policy lets only the KeyAdmin role manage the key, and the admin
		// creating it is not that role. (moto runs no lockout check at
		// all, a deviation; the flag is for AWS's sake.)
		in.Policy, in.BypassPolicyLockoutSafetyCheck = aws.String(k.Policy.String()), true
	}
	out, err := c.CreateKey(ctx, in)
	if err != nil {
		return fmt.Errorf("creating key %s: %w", k.ARN, err)
	}
	arn := aws.ToString(out.KeyMetadata.Arn)
	s.keyARNs[k.ARN] = arn
	for _, al := range k.Aliases {
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(al), TargetKeyId: aws.String(arn)}); err != nil {
			return fmt.Errorf("alias %s of %s: %w", al, k.ARN, err)
		}
	}
	if k.KeyState == "Disabled" {
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
			return fmt.Errorf("disabling %s: %w", k.ARN, err)
		}
	}
	return nil
}

func (s *seeded) bucket(ctx context.Context, b state.Bucket) error {
	region := b.Region
	if region == "" {
		region = defaultRegion
	}
	c := s3Client(s.cfg(b.Account, region))
	in := &s3.CreateBucketInput{Bucket: aws.String(b.Name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("creating bucket %s: %w", b.Name, err)
	}
	// moto gives a new bucket no default encryption and no ownership
	// controls until they are set (a deviation: AWS gives every new bucket
	// SSE-S3 and BucketOwnerEnforced). Every scenario sets both, so the
	// bucket reads as it would on AWS.
	if e := b.Encryption; e != nil {
		id := e.KMSMasterKeyID
		if arn, ok := s.keyARNs[id]; ok {
			id = arn
		}
		def := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(e.SSEAlgorithm)}
		if id != "" {
			def.KMSMasterKeyID = aws.String(id)
		}
		if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b.Name),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				BucketKeyEnabled: aws.Bool(e.BucketKeyEnabled), ApplyServerSideEncryptionByDefault: def}}}}); err != nil {
			return fmt.Errorf("encryption of bucket %s: %w", b.Name, err)
		}
	}
	if b.ObjectOwnership != "" {
		if _, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(b.Name),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnership(b.ObjectOwnership)}}}}); err != nil {
			return fmt.Errorf("ownership of bucket %s: %w", b.Name, err)
		}
	}
	if b.Policy != nil {
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.Name), Policy: aws.String(b.Policy.String())}); err != nil {
			return fmt.Errorf("policy of bucket %s: %w", b.Name, err)
		}
	}
	return nil
}
