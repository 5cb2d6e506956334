package awsstate

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fake is a small in-memory AWS: one account's IAM, S3 and KMS. It pages
// every list one item at a time, URL-encodes IAM documents as IAM does, and
// counts calls.
type fake struct {
	account string
	region  string // the region the "" client is in

	users    map[string]*fakePrincipal
	roles    map[string]*fakePrincipal
	groups   map[string]*fakePrincipal
	policies map[string]string // managed policy arn -> document (default version v3)
	buckets  map[string]*fakeBucket
	keys     map[string]*fakeKey // key id -> key
	aliases  []kmstypes.AliasListEntry

	errs map[string]error // op -> error to answer

	mu      sync.Mutex
	calls   map[string]int
	regions map[string]bool // regions asked of the S3 factory
}

type fakePrincipal struct {
	arn, id  string
	boundary string
	inline   map[string]string
	attached []string
	groups   []string
}

type fakeBucket struct {
	owner, region string
	enc           *s3types.ServerSideEncryptionByDefault
	bucketKey     bool
	ownership     string
	policy        string
	oldNoEnc      bool // answer ServerSideEncryptionConfigurationNotFoundError
}

type fakeKey struct {
	arn, manager, state, policy string
	multiRegion                 bool
}

func (f *fake) count(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	return f.errs[op]
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for op, c := range f.calls {
		if !strings.Contains(op, " ") { // "GetPolicy ARN" etc. are details
			n += c
		}
	}
	return n
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " message"}
}

func httpErr(status int, header http.Header, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}}, Err: err}}
}

func encode(doc string) *string {
	// IAM's encoding: RFC 3986, so spaces are %20 and '+' is %2B.
	return aws.String(strings.ReplaceAll(urlEscape(doc), "+", "%2B"))
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// page returns items[marker] and the next marker (one item per page).
func page[T any](items []T, marker *string) ([]T, bool, *string) {
	i := 0
	if marker != nil {
		i, _ = strconv.Atoi(*marker)
	}
	if i >= len(items) {
		return nil, false, nil
	}
	if i+1 < len(items) {
		return items[i : i+1], true, aws.String(strconv.Itoa(i + 1))
	}
	return items[i : i+1], false, nil
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- STS ----

type fakeSTS struct {
	f   *fake
	arn string
}

func (s fakeSTS) GetCallerIdentity(_ context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := s.f.count("GetCallerIdentity"); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(s.f.account), Arn: aws.String(s.arn)}, nil
}

// ---- S3 ----

type fakeS3 struct {
	f      *fake
	region string
}

func (f *fake) s3(region string) S3API {
	f.mu.Lock()
	if f.regions == nil {
		f.regions = map[string]bool{}
	}
	f.regions[region] = true
	f.mu.Unlock()
	if region == "" {
		region = f.region
	}
	return fakeS3{f, region}
}

func (s fakeS3) bucket(op, name string, owner *string) (*fakeBucket, error) {
	if err := s.f.count(op); err != nil {
		return nil, err
	}
	b, ok := s.f.buckets[name]
	if !ok {
		return nil, &s3types.NoSuchBucket{}
	}
	if aws.ToString(owner) != b.owner {
		return nil, fmt.Errorf("%s without the right ExpectedBucketOwner (%q): %w", op, aws.ToString(owner), apiErr("AccessDenied"))
	}
	if op != "HeadBucket" && op != "GetBucketLocation" && s.region != b.region {
		return nil, httpErr(301, http.Header{"X-Amz-Bucket-Region": {b.region}}, apiErr("PermanentRedirect"))
	}
	return b, nil
}

func (s fakeS3) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	b, err := s.bucket("HeadBucket", aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	return &s3.HeadBucketOutput{BucketRegion: aws.String(b.region)}, nil
}

func (s fakeS3) GetBucketLocation(_ context.Context, in *s3.GetBucketLocationInput, _ ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error) {
	b, err := s.bucket("GetBucketLocation", aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	lc := b.region
	if lc == "us-east-1" {
		lc = ""
	}
	return &s3.GetBucketLocationOutput{LocationConstraint: s3types.BucketLocationConstraint(lc)}, nil
}

func (s fakeS3) GetBucketEncryption(_ context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	b, err := s.bucket("GetBucketEncryption", aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	enc := b.enc
	if enc == nil {
		if b.oldNoEnc {
			return nil, apiErr("ServerSideEncryptionConfigurationNotFoundError")
		}
		enc = &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}
	}
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: enc, BucketKeyEnabled: aws.Bool(b.bucketKey)}}}}, nil
}

func (s fakeS3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	b, err := s.bucket("GetBucketOwnershipControls", aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.ownership == "" {
		return nil, apiErr("OwnershipControlsNotFoundError")
	}
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnership(b.ownership)}}}}, nil
}

func (s fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	b, err := s.bucket("GetBucketPolicy", aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if b.policy == "" {
		return nil, apiErr("NoSuchBucketPolicy")
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(b.policy)}, nil
}

// ---- KMS ----

type fakeKMS struct {
	f      *fake
	region string
}

func (f *fake) kms(region string) KMSAPI { return fakeKMS{f, region} }

func (k fakeKMS) find(id string) *fakeKey {
	if key, ok := k.f.keys[id]; ok {
		return key
	}
	for _, key := range k.f.keys {
		if key.arn == id {
			return key
		}
	}
	name := id
	if i := strings.Index(id, ":alias/"); i >= 0 {
		name = id[i+1:]
	}
	for _, a := range k.f.aliases {
		if aws.ToString(a.AliasName) == name {
			return k.f.keys[aws.ToString(a.TargetKeyId)]
		}
	}
	return nil
}

func (k fakeKMS) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	id := aws.ToString(in.KeyId)
	if strings.Contains(id, "alias/aws/") {
		k.f.count("DescribeKey on a predefined alias (side effect!)")
	}
	if err := k.f.count("DescribeKey"); err != nil {
		return nil, err
	}
	key := k.find(id)
	if key == nil {
		return nil, &kmstypes.NotFoundException{Message: aws.String("Key '" + id + "' does not exist")}
	}
	return &kms.DescribeKeyOutput{KeyMetadata: &kmstypes.KeyMetadata{
		Arn: aws.String(key.arn), KeyId: aws.String(key.arn[strings.LastIndex(key.arn, "/")+1:]),
		KeyManager: kmstypes.KeyManagerType(key.manager), KeyState: kmstypes.KeyState(key.state), MultiRegion: aws.Bool(key.multiRegion)}}, nil
}

func (k fakeKMS) ListAliases(_ context.Context, in *kms.ListAliasesInput, _ ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	if err := k.f.count("ListAliases"); err != nil {
		return nil, err
	}
	var items []kmstypes.AliasListEntry
	for _, a := range k.f.aliases {
		if in.KeyId != nil {
			key := k.find(*in.KeyId)
			if key == nil || k.f.keys[aws.ToString(a.TargetKeyId)] != key {
				continue
			}
		}
		items = append(items, a)
	}
	p, more, next := page(items, in.Marker)
	return &kms.ListAliasesOutput{Aliases: p, Truncated: more, NextMarker: next}, nil
}

func (k fakeKMS) GetKeyPolicy(_ context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	if err := k.f.count("GetKeyPolicy"); err != nil {
		return nil, err
	}
	if aws.ToString(in.PolicyName) != "default" {
		return nil, apiErr("NotFoundException")
	}
	key := k.find(aws.ToString(in.KeyId))
	if key == nil {
		return nil, &kmstypes.NotFoundException{}
	}
	return &kms.GetKeyPolicyOutput{Policy: aws.String(key.policy), PolicyName: aws.String("default")}, nil
}

// ---- IAM ----

type fakeIAM struct{ f *fake }

func (f *fake) iam() IAMAPI { return fakeIAM{f} }

func (i fakeIAM) who(op string, m map[string]*fakePrincipal, name string) (*fakePrincipal, error) {
	if err := i.f.count(op); err != nil {
		return nil, err
	}
	p, ok := m[name]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("The entity " + name + " cannot be found.")}
	}
	return p, nil
}

func (i fakeIAM) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	p, err := i.who("GetUser", i.f.users, aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	u := &iamtypes.User{Arn: aws.String(p.arn), UserId: aws.String(p.id), UserName: in.UserName}
	if p.boundary != "" {
		u.PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(p.boundary)}
	}
	return &iam.GetUserOutput{User: u}, nil
}

func (i fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	p, err := i.who("GetRole", i.f.roles, aws.ToString(in.RoleName))
	if err != nil {
		return nil, err
	}
	r := &iamtypes.Role{Arn: aws.String(p.arn), RoleId: aws.String(p.id), RoleName: in.RoleName}
	if p.boundary != "" {
		r.PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(p.boundary)}
	}
	return &iam.GetRoleOutput{Role: r}, nil
}

func (i fakeIAM) names(op string, m map[string]*fakePrincipal, name string, marker *string) ([]string, bool, *string, error) {
	p, err := i.who(op, m, name)
	if err != nil {
		return nil, false, nil, err
	}
	n, more, next := page(sortedKeys(p.inline), marker)
	return n, more, next, nil
}

func (i fakeIAM) doc(op string, m map[string]*fakePrincipal, name, policy string) (*string, error) {
	p, err := i.who(op, m, name)
	if err != nil {
		return nil, err
	}
	d, ok := p.inline[policy]
	if !ok {
		return nil, &iamtypes.NoSuchEntityException{}
	}
	return encode(d), nil
}

func (i fakeIAM) attachedOf(op string, m map[string]*fakePrincipal, name string, marker *string) ([]iamtypes.AttachedPolicy, bool, *string, error) {
	p, err := i.who(op, m, name)
	if err != nil {
		return nil, false, nil, err
	}
	var out []iamtypes.AttachedPolicy
	for _, a := range p.attached {
		out = append(out, iamtypes.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(a[strings.LastIndex(a, "/")+1:])})
	}
	ps, more, next := page(out, marker)
	return ps, more, next, nil
}

func (i fakeIAM) ListUserPolicies(_ context.Context, in *iam.ListUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	n, more, next, err := i.names("ListUserPolicies", i.f.users, aws.ToString(in.UserName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListUserPoliciesOutput{PolicyNames: n, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) GetUserPolicy(_ context.Context, in *iam.GetUserPolicyInput, _ ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	d, err := i.doc("GetUserPolicy", i.f.users, aws.ToString(in.UserName), aws.ToString(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iam.GetUserPolicyOutput{PolicyDocument: d, PolicyName: in.PolicyName, UserName: in.UserName}, nil
}

func (i fakeIAM) ListAttachedUserPolicies(_ context.Context, in *iam.ListAttachedUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	ps, more, next, err := i.attachedOf("ListAttachedUserPolicies", i.f.users, aws.ToString(in.UserName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: ps, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) ListGroupsForUser(_ context.Context, in *iam.ListGroupsForUserInput, _ ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	p, err := i.who("ListGroupsForUser", i.f.users, aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	var gs []iamtypes.Group
	for _, g := range p.groups {
		gs = append(gs, iamtypes.Group{GroupName: aws.String(g)})
	}
	ps, more, next := page(gs, in.Marker)
	return &iam.ListGroupsForUserOutput{Groups: ps, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) ListGroupPolicies(_ context.Context, in *iam.ListGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error) {
	n, more, next, err := i.names("ListGroupPolicies", i.f.groups, aws.ToString(in.GroupName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListGroupPoliciesOutput{PolicyNames: n, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) GetGroupPolicy(_ context.Context, in *iam.GetGroupPolicyInput, _ ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error) {
	d, err := i.doc("GetGroupPolicy", i.f.groups, aws.ToString(in.GroupName), aws.ToString(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iam.GetGroupPolicyOutput{PolicyDocument: d, PolicyName: in.PolicyName, GroupName: in.GroupName}, nil
}

func (i fakeIAM) ListAttachedGroupPolicies(_ context.Context, in *iam.ListAttachedGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	ps, more, next, err := i.attachedOf("ListAttachedGroupPolicies", i.f.groups, aws.ToString(in.GroupName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedGroupPoliciesOutput{AttachedPolicies: ps, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) ListRolePolicies(_ context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	n, more, next, err := i.names("ListRolePolicies", i.f.roles, aws.ToString(in.RoleName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: n, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	d, err := i.doc("GetRolePolicy", i.f.roles, aws.ToString(in.RoleName), aws.ToString(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: d, PolicyName: in.PolicyName, RoleName: in.RoleName}, nil
}

func (i fakeIAM) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	ps, more, next, err := i.attachedOf("ListAttachedRolePolicies", i.f.roles, aws.ToString(in.RoleName), in.Marker)
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: ps, IsTruncated: more, Marker: next}, nil
}

func (i fakeIAM) GetPolicy(_ context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	if err := i.f.count("GetPolicy"); err != nil {
		return nil, err
	}
	i.f.count("GetPolicy " + aws.ToString(in.PolicyArn))
	if _, ok := i.f.policies[aws.ToString(in.PolicyArn)]; !ok {
		return nil, &iamtypes.NoSuchEntityException{}
	}
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn, DefaultVersionId: aws.String("v3")}}, nil
}

func (i fakeIAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	if err := i.f.count("GetPolicyVersion"); err != nil {
		return nil, err
	}
	i.f.count("GetPolicyVersion " + aws.ToString(in.PolicyArn))
	d, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok || aws.ToString(in.VersionId) != "v3" {
		return nil, &iamtypes.NoSuchEntityException{}
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{Document: encode(d), VersionId: in.VersionId, IsDefaultVersion: true}}, nil
}

type (
	s3HeadIn  = s3.HeadBucketInput
	s3HeadOut = s3.HeadBucketOutput
	s3Opts    = s3.Options
)
