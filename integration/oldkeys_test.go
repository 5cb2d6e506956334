package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Issue 14, items 2 and 3, live: in one account with the KMS grant in the
// key policy, nothing but the old key's own policy remembers the grant
// once the bucket moved to another key. Revoke on AWS reads the account's
// other keys whose policies name the principal, and removes the grant's
// statement from the old key's policy too; without that, Jane kept
// kms:Decrypt on the old key after a revoke that said "removed".
func TestRevokeAfterRekeyOnAWS(t *testing.T) {
	t.Parallel()
	w, oldKey, _ := rekeyedWorld(t)

	out, _ := w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...)
	if d, _ := w.srv.KeyPolicy(oldKey); strings.Contains(d, jane) {
		t.Errorf("after the revoke the old key's policy still names Jane:\n%s\nrevoke said:\n%s", d, out)
	}
	if !strings.Contains(out, oldKey) {
		t.Errorf("the revoke does not show the old key's policy:\n%s", out)
	}
	// Nothing is left to revoke.
	if out, _ := w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...); !strings.Contains(out, "No changes") {
		t.Errorf("a second revoke:\n%s", out)
	}
}

// rekeyedWorld is the same-account scenario after Jane's grant was applied
// with its KMS statement in the key policy and the bucket then moved to a
// new key (outside bucketgrant): only the old key's own policy still names
// her. It returns the old key and the new one.
func rekeyedWorld(t *testing.T) (w *world, oldKey, newKey string) {
	t.Helper()
	w = newWorld(t, exampleState(t, sameAccount, nil))
	ctx := context.Background()
	w.mustRun(0, append([]string{"apply", "--yes", "--kms-via", "key-policy"}, grantArgs()...)...)
	oldKey = w.keyARN
	if d, _ := w.srv.KeyPolicy(oldKey); !strings.Contains(d, jane) {
		t.Fatalf("test setup: the key policy does not name Jane:\n%s", d)
	}
	kc := kms.NewFromConfig(w.config(w.resource))
	nk, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("the bucket's new key")})
	if err != nil {
		t.Fatal(err)
	}
	keyAdmin := `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + w.resource + `:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"KeyAdmin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + w.resource + `:role/KeyAdmin"},"Action":"kms:*","Resource":"*"}]}`
	if _, err := kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: nk.KeyMetadata.Arn, PolicyName: aws.String("default"), Policy: aws.String(keyAdmin)}); err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(w.config(w.resource), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: nk.KeyMetadata.Arn}}}}}); err != nil {
		t.Fatal(err)
	}
	return w, oldKey, aws.ToString(nk.KeyMetadata.Arn)
}
