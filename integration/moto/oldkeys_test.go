package moto

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
)

// TestMotoSyncDropsOldKeys: in one account, with Jane's KMS statement in
// the key policy (the console's key policy does not delegate to IAM), the
// bucket moves to a new key; only the old key's own policy still names
// her. sync --drop-old-keys must find that key (kms:ListKeys and
// kms:GetKeyPolicy of the account) and take her statement out, and be in
// sync afterwards.
func TestMotoSyncDropsOldKeys(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, account, bucket, jane := sameAccount(t, "old-keys")
	w := newWorld(t, st, []string{jane})
	w.keyAdminSession(account)
	w.must(0, "apply", "--yes", "--principal", jane, "--bucket", bucket)

	region := st.Buckets[0].Region
	kc := kms.NewFromConfig(w.s.cfg(account, region))
	old := w.s.keyARNs[st.Keys[0].ARN]
	policyOf := func(arn string) string {
		t.Helper()
		out, err := kc.GetKeyPolicy(w.ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}
	if !strings.Contains(policyOf(old), jane) {
		t.Fatalf("test setup: the key policy does not name Jane:\n%s", policyOf(old))
	}
	// The bucket moves to a new key with the same (console) policy.
	nk, err := kc.CreateKey(w.ctx, &kms.CreateKeyInput{Policy: aws.String(st.Keys[0].Policy.String()), BypassPolicyLockoutSafetyCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3Client(w.s.cfg(account, region)).PutBucketEncryption(w.ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: nk.KeyMetadata.Arn}}}}}); err != nil {
		t.Fatal(err)
	}

	file := w.grantsFile(map[string]string{account: "keyadmin"}, grant{principal: jane, bucket: bucket})
	key := jane + " " + bucket
	if got := w.syncReport(0, "-f", file, "--yes", "--drop-old-keys"); got[key] != grantsync.StatusFixed {
		t.Errorf("sync --drop-old-keys: %v", got)
	}
	if p := policyOf(old); strings.Contains(p, jane) {
		t.Errorf("the old key's policy still names Jane:\n%s", p)
	}
	if p := policyOf(aws.ToString(nk.KeyMetadata.Arn)); !strings.Contains(p, jane) {
		t.Errorf("the new key's policy does not grant Jane:\n%s", p)
	}
	if got := w.syncReport(0, "-f", file, "--dry-run", "--detailed-exitcode", "--drop-old-keys"); got[key] != grantsync.StatusInSync {
		t.Errorf("dry run after sync: %v", got)
	}
}
