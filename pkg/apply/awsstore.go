package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// The SDK calls the writer makes, each consumer's narrow interface with the
// SDK's own signatures, so *iam.Client, *kms.Client and *s3.Client fit.

// IAMAPI is what the writer calls on IAM.
type IAMAPI interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUserPolicy(context.Context, *iam.GetUserPolicyInput, ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	CreatePolicyVersion(context.Context, *iam.CreatePolicyVersionInput, ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	AttachRolePolicy(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DetachRolePolicy(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
}

// KMSAPI is what the writer calls on KMS.
type KMSAPI interface {
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
	PutKeyPolicy(context.Context, *kms.PutKeyPolicyInput, ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error)
}

// S3API is what the writer calls on S3.
type S3API interface {
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(context.Context, *s3.DeleteBucketPolicyInput, ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
}

// AWSStore reads and writes documents in AWS: IAM with the principal
// account's credentials, KMS and S3 with the resource account's (key and
// bucket policies can only be written by their owner's account).
type AWSStore struct {
	IAM IAMAPI
	// KMS and S3 return a client for the resource account in a region.
	KMS func(region string) KMSAPI
	S3  func(region string) S3API
	// Principal is the user or role whose identity policies are written.
	Principal string
	// BucketRegion is the bucket's region.
	BucketRegion string
	// PrincipalOf and RegionOf, when set, override Principal (whose a
	// managed policy is) and BucketRegion per document, for a store that
	// writes many principals' and buckets' documents (a sync's rollback).
	// An answer of "" falls back to Principal and BucketRegion.
	PrincipalOf func(diff.DocRef) string
	RegionOf    func(bucket string) string
	// PrincipalLabel and ResourceLabel say which credentials were used,
	// for errors.
	PrincipalLabel, ResourceLabel string
	// PrincipalWait bounds how long a write refused for an invalid
	// principal is retried while IAM shows the principal exists (IAM is
	// eventually consistent: a principal created moments ago can be
	// unknown to KMS and S3 for a while). Zero means 60 seconds.
	PrincipalWait time.Duration
	// Sleep waits between those retries (time.Sleep-like; tests shorten it).
	Sleep func(context.Context, time.Duration) error

	quotaState
}

// Describe names the store.
func (s *AWSStore) Describe() string { return "AWS" }

// Read returns the document's current text.
func (s *AWSStore) Read(ctx context.Context, ref diff.DocRef) (string, bool, error) {
	switch ref.Kind {
	case diff.DocKeyPolicy:
		out, err := s.KMS(regionOf(ref.ARN)).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(ref.ARN), PolicyName: aws.String("default")})
		if err != nil {
			return "", false, s.fail(err, "kms:GetKeyPolicy", ref.ARN, s.ResourceLabel)
		}
		return aws.ToString(out.Policy), true, nil
	case diff.DocBucketPolicy:
		out, err := s.S3(s.regionOf(ref)).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucketOf(ref)), ExpectedBucketOwner: aws.String(ref.Account)})
		if code(err) == "NoSuchBucketPolicy" {
			return "", false, nil
		}
		if err != nil {
			return "", false, s.fail(err, "s3:GetBucketPolicy", ref.ARN, s.ResourceLabel)
		}
		return aws.ToString(out.Policy), true, nil
	case diff.DocInlinePolicy:
		return s.readInline(ctx, ref)
	case diff.DocManagedPolicy:
		return s.readManaged(ctx, ref)
	}
	return "", false, fmt.Errorf("unknown document kind %q", ref.Kind)
}

func (s *AWSStore) readInline(ctx context.Context, ref diff.DocRef) (string, bool, error) {
	name := principalName(ref.ARN)
	var doc *string
	var err error
	op := "iam:GetUserPolicy"
	if isRole(ref.ARN) {
		op = "iam:GetRolePolicy"
		var out *iam.GetRolePolicyOutput
		out, err = s.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(ref.Name)})
		if err == nil {
			doc = out.PolicyDocument
		}
	} else {
		var out *iam.GetUserPolicyOutput
		out, err = s.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(ref.Name)})
		if err == nil {
			doc = out.PolicyDocument
		}
	}
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail(err, op, ref.ARN, s.PrincipalLabel)
	}
	text, err := policy.DecodeURLEncoded(aws.ToString(doc))
	return text, true, err
}

func (s *AWSStore) readManaged(ctx context.Context, ref diff.DocRef) (string, bool, error) {
	out, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ref.ARN)})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail(err, "iam:GetPolicy", ref.ARN, s.PrincipalLabel)
	}
	v, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ref.ARN), VersionId: out.Policy.DefaultVersionId})
	if err != nil {
		return "", false, s.fail(err, "iam:GetPolicyVersion", ref.ARN, s.PrincipalLabel)
	}
	text, err := policy.DecodeURLEncoded(aws.ToString(v.PolicyVersion.Document))
	return text, true, err
}

// Write replaces or creates a document. Key and bucket policies refused for
// an invalid principal are retried while IAM confirms the principal exists.
func (s *AWSStore) Write(ctx context.Context, ref diff.DocRef, text string, create, attach bool) error {
	switch ref.Kind {
	case diff.DocKeyPolicy:
		// BypassPolicyLockoutSafetyCheck is never set: KMS's own check is
		// a second guard behind checkLockout.
		return s.retryInvalidPrincipal(ctx, "kms:PutKeyPolicy", ref, func() error {
			_, err := s.KMS(regionOf(ref.ARN)).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(ref.ARN), PolicyName: aws.String("default"), Policy: aws.String(text)})
			return err
		})
	case diff.DocBucketPolicy:
		return s.retryInvalidPrincipal(ctx, "s3:PutBucketPolicy", ref, func() error {
			_, err := s.S3(s.regionOf(ref)).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucketOf(ref)), Policy: aws.String(text), ExpectedBucketOwner: aws.String(ref.Account)})
			return err
		})
	case diff.DocInlinePolicy:
		name := principalName(ref.ARN)
		if isRole(ref.ARN) {
			_, err := s.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(ref.Name), PolicyDocument: aws.String(text)})
			return s.fail(err, "iam:PutRolePolicy", ref.ARN, s.PrincipalLabel)
		}
		_, err := s.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(ref.Name), PolicyDocument: aws.String(text)})
		return s.fail(err, "iam:PutUserPolicy", ref.ARN, s.PrincipalLabel)
	case diff.DocManagedPolicy:
		if create {
			return s.createManaged(ctx, ref, text, attach)
		}
		return s.updateManaged(ctx, ref, text)
	}
	return fmt.Errorf("unknown document kind %q", ref.Kind)
}

func (s *AWSStore) createManaged(ctx context.Context, ref diff.DocRef, text string, attach bool) error {
	path, name := managedPath(ref.ARN)
	_, err := s.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), Path: aws.String(path), PolicyDocument: aws.String(text),
		Description: aws.String("Grants written by bucketgrant; edit with bucketgrant apply/revoke")})
	if err != nil {
		return s.fail(err, "iam:CreatePolicy", ref.ARN, s.PrincipalLabel)
	}
	if !attach {
		return nil
	}
	owner := s.principalOf(ref)
	who := principalName(owner)
	if isRole(owner) {
		_, err = s.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(who), PolicyArn: aws.String(ref.ARN)})
		return s.fail(err, "iam:AttachRolePolicy", owner, s.PrincipalLabel)
	}
	_, err = s.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(who), PolicyArn: aws.String(ref.ARN)})
	return s.fail(err, "iam:AttachUserPolicy", owner, s.PrincipalLabel)
}

// updateManaged makes the text the policy's new default version, deleting
// the oldest non-default version first when IAM's limit of five is reached.
func (s *AWSStore) updateManaged(ctx context.Context, ref diff.DocRef, text string) error {
	versions, err := s.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(ref.ARN)})
	if err != nil {
		return s.fail(err, "iam:ListPolicyVersions", ref.ARN, s.PrincipalLabel)
	}
	// IAM keeps VersionsPerPolicyQuota versions (5 by default): at the
	// quota the oldest non-default one makes room for the new one.
	q, err := s.Quotas(ctx, ref.Account)
	if err != nil {
		return err
	}
	if len(versions.Versions) >= q.VersionsPerPolicy {
		old := slices.DeleteFunc(slices.Clone(versions.Versions), func(v iamtypes.PolicyVersion) bool { return v.IsDefaultVersion })
		slices.SortFunc(old, func(a, b iamtypes.PolicyVersion) int {
			return aws.ToTime(a.CreateDate).Compare(aws.ToTime(b.CreateDate))
		})
		if len(old) > 0 {
			if _, err := s.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(ref.ARN), VersionId: old[0].VersionId}); err != nil {
				return s.fail(err, "iam:DeletePolicyVersion", ref.ARN, s.PrincipalLabel)
			}
		}
	}
	_, err = s.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(ref.ARN), PolicyDocument: aws.String(text), SetAsDefault: true})
	return s.fail(err, "iam:CreatePolicyVersion", ref.ARN, s.PrincipalLabel)
}

// Delete removes a document.
func (s *AWSStore) Delete(ctx context.Context, ref diff.DocRef) error {
	switch ref.Kind {
	case diff.DocBucketPolicy:
		_, err := s.S3(s.regionOf(ref)).DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucketOf(ref)), ExpectedBucketOwner: aws.String(ref.Account)})
		return s.fail(err, "s3:DeleteBucketPolicy", ref.ARN, s.ResourceLabel)
	case diff.DocInlinePolicy:
		name := principalName(ref.ARN)
		if isRole(ref.ARN) {
			_, err := s.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(ref.Name)})
			return s.fail(err, "iam:DeleteRolePolicy", ref.ARN, s.PrincipalLabel)
		}
		_, err := s.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(ref.Name)})
		return s.fail(err, "iam:DeleteUserPolicy", ref.ARN, s.PrincipalLabel)
	case diff.DocManagedPolicy:
		return s.deleteManaged(ctx, ref)
	}
	return fmt.Errorf("the %s cannot be deleted", describe(ref))
}

// deleteManaged detaches bucketgrant's managed policy from the principal,
// deletes its non-default versions, then the policy (IAM's order).
func (s *AWSStore) deleteManaged(ctx context.Context, ref diff.DocRef) error {
	owner := s.principalOf(ref)
	who := principalName(owner)
	var err error
	if isRole(owner) {
		_, err = s.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(who), PolicyArn: aws.String(ref.ARN)})
	} else {
		_, err = s.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(who), PolicyArn: aws.String(ref.ARN)})
	}
	var missing *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &missing) {
		return s.fail(err, "iam:DetachUserPolicy", ref.ARN, s.PrincipalLabel)
	}
	versions, err := s.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(ref.ARN)})
	if err != nil {
		return s.fail(err, "iam:ListPolicyVersions", ref.ARN, s.PrincipalLabel)
	}
	for _, v := range versions.Versions {
		if !v.IsDefaultVersion {
			if _, err := s.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(ref.ARN), VersionId: v.VersionId}); err != nil {
				return s.fail(err, "iam:DeletePolicyVersion", ref.ARN, s.PrincipalLabel)
			}
		}
	}
	_, err = s.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(ref.ARN)})
	return s.fail(err, "iam:DeletePolicy", ref.ARN, s.PrincipalLabel)
}

// principalOf is whose a managed policy is.
func (s *AWSStore) principalOf(ref diff.DocRef) string {
	if s.PrincipalOf != nil {
		if p := s.PrincipalOf(ref); p != "" {
			return p
		}
	}
	return s.Principal
}

// regionOf is the region of a bucket policy's bucket.
func (s *AWSStore) regionOf(ref diff.DocRef) string {
	if s.RegionOf != nil {
		if r := s.RegionOf(bucketOf(ref)); r != "" {
			return r
		}
	}
	return s.BucketRegion
}

// retryInvalidPrincipal retries a resource-policy write that AWS refused
// for naming an invalid principal, but only while IAM says the principal
// exists: then the refusal is IAM's eventual consistency, which settles in
// seconds. A principal IAM does not know fails at once.
func (s *AWSStore) retryInvalidPrincipal(ctx context.Context, op string, ref diff.DocRef, put func() error) error {
	wait := s.PrincipalWait
	if wait == 0 {
		wait = 60 * time.Second
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	deadline := time.Now().Add(wait)
	delay := time.Second
	for {
		err := put()
		if err == nil || !invalidPrincipal(err) {
			return s.fail(err, op, ref.ARN, s.ResourceLabel)
		}
		if exists, ierr := s.principalExists(ctx); ierr != nil || !exists {
			return fmt.Errorf("%s on %s: AWS refused the policy for an invalid principal, and IAM does not show %s: %w", op, ref.ARN, s.Principal, err)
		}
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("%s on %s: AWS still refuses %s as a principal after %s although IAM shows it exists; run again in a minute: %w", op, ref.ARN, s.Principal, wait, err)
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, 8*time.Second)
	}
}

func (s *AWSStore) principalExists(ctx context.Context) (bool, error) {
	var err error
	if isRole(s.Principal) {
		_, err = s.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(principalName(s.Principal))})
	} else {
		_, err = s.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(principalName(s.Principal))})
	}
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return false, nil
	}
	return err == nil, err
}

// invalidPrincipal recognises KMS's and S3's refusal of a principal they do
// not know (aws-facts.md §6).
func invalidPrincipal(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	switch ae.ErrorCode() {
	case "MalformedPolicyDocumentException", "MalformedPolicy":
		return strings.Contains(msg, "invalid principal")
	}
	return false
}

func (s *AWSStore) fail(err error, op, resource, identity string) error {
	return awsstate.Classify(err, op, resource, identity)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

func bucketOf(ref diff.DocRef) string {
	return ref.ARN[strings.LastIndex(ref.ARN, ":")+1:]
}

// principalName is the user's or role's name: the last path segment.
func principalName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func isRole(arn string) bool { return strings.Contains(arn, ":role/") }

// managedPath splits a policy ARN's resource into IAM's path and name.
func managedPath(arn string) (path, name string) {
	res := arn[strings.Index(arn, ":policy")+len(":policy"):]
	i := strings.LastIndexByte(res, '/')
	return res[:i+1], res[i+1:]
}
