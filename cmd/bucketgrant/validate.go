package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Input AWS would never produce or accept is refused before any planning
// (exit 1, naming the input): a plan built on it would be blocked for a
// misleading reason or, worse, look fine.

// AWS's size limits on the documents a snapshot holds. Measured without
// white space outside strings, the most lenient reading, so that only a
// document AWS cannot hold is refused.
const (
	bucketPolicyLimit = 20 * 1024 // S3: 20 KB
	keyPolicyLimit    = 32 * 1024 // KMS: 32 KB
)

// checkPrincipal checks a --principal value against IAM's rules.
func checkPrincipal(arn string) error {
	if err := state.CheckPrincipalARN(arn); err != nil {
		return usagef("--principal %s: %v", shortQuote(arn), err)
	}
	return nil
}

// shortQuote quotes a value for a message, cut to a readable length: a
// 20,000-character value is named, not repeated.
func shortQuote(v string) string {
	const max = 100
	if len(v) <= max {
		return fmt.Sprintf("%q", v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d characters)", v[:cut], len(v))
}

// checkPartition refuses a grant across partitions: a principal in aws-cn
// can never be given access to a bucket in aws, whatever the policies say.
func checkPartition(st *state.State, principal, bucket string) error {
	a, err := state.ParseARN(principal)
	if err != nil {
		return nil // checked before
	}
	b := st.FindBucket(bucket)
	if b == nil {
		return nil
	}
	part := state.PartitionOfRegion(b.Region)
	if part == "" {
		if k := st.KeyForBucket(b); k != nil {
			if ka, err := state.ParseARN(k.ARN); err == nil {
				part = ka.Partition
			}
		}
	}
	if part != "" && part != a.Partition {
		return fmt.Errorf("--principal %s is in partition %s, but bucket %s is in %s (region %s): AWS partitions share no access; give a principal of the bucket's partition",
			shortQuote(principal), a.Partition, bucket, part, b.Region)
	}
	return nil
}

// checkSnapshot checks what a snapshot file holds for a grant: the
// documents' sizes, and that the bucket, the principal and the bucket's
// key are there. A missing one is reported as live AWS reports it (same
// operation, resource and words, "in the snapshot FILE" added), with exit 1
// in both modes.
func checkSnapshot(st *state.State, path, principal, bucket string, needPrincipal bool) error {
	src := "the snapshot " + filepath.Base(path)
	b := st.FindBucket(bucket)
	if b == nil {
		return &awsstate.Error{Kind: awsstate.KindNoSuchBucket, Op: "s3:ListBucket", Resource: "arn:" + partitionOf(principal) + ":s3:::" + bucket, Source: src,
			Hint: "check the bucket name, or take a snapshot that holds it: bucketgrant snapshot --principal ARN --bucket NAME -o FILE"}
	}
	if needPrincipal && st.FindPrincipal(principal) == nil {
		op, resource := "iam:GetUser", principal
		if state.KindOf(principal) == state.KindRole {
			op, resource = "iam:GetRole", roleOf(principal)
		}
		return &awsstate.Error{Kind: awsstate.KindNoSuchEntity, Op: op, Resource: resource, Source: src,
			Hint: "check the principal arn (names are case-sensitive), or take a snapshot that holds it: bucketgrant snapshot --principal ARN --bucket NAME -o FILE"}
	}
	if enc := b.Encryption; needPrincipal && enc != nil && strings.HasPrefix(enc.SSEAlgorithm, "aws:kms") && st.KeyForBucket(b) == nil {
		id := enc.KMSMasterKeyID
		if id == "" {
			id = "alias/aws/s3"
		}
		return &awsstate.Error{Kind: awsstate.KindKeyNotFound, Op: "kms:DescribeKey", Resource: id, Source: src,
			Hint: "the bucket's default encryption names a key the snapshot does not hold: check the bucket's default encryption, or take the snapshot again"}
	}
	return nil
}

// checkSizes refuses a snapshot whose bucket or key policy is over AWS's
// limit: AWS never stores such a document, so the file is damaged or was
// edited by hand.
func checkSizes(st *state.State, name string) error {
	for _, b := range st.Buckets {
		if n := compactSize(b.Policy); n > bucketPolicyLimit {
			return fmt.Errorf("%s: the bucket policy of %s is %s bytes, over S3's limit of %s bytes: AWS never holds such a policy, so the snapshot is damaged or was edited; take it again with bucketgrant snapshot",
				name, b.Name, thousands(n), thousands(bucketPolicyLimit))
		}
	}
	for _, k := range st.Keys {
		if n := compactSize(k.Policy); n > keyPolicyLimit {
			return fmt.Errorf("%s: the key policy of %s is %s bytes, over KMS's limit of %s bytes: AWS never holds such a policy, so the snapshot is damaged or was edited; take it again with bucketgrant snapshot",
				name, k.ARN, thousands(n), thousands(keyPolicyLimit))
		}
	}
	return nil
}

func compactSize(d *state.Doc) int {
	if d == nil {
		return 0
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, d.Text); err != nil {
		return len(d.Text) // not JSON: the planner reports it
	}
	return buf.Len()
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func partitionOf(arn string) string {
	if a, err := state.ParseARN(arn); err == nil {
		return a.Partition
	}
	return "aws"
}

// roleOf is the role a role or session ARN names (sessions name their
// role without its path).
func roleOf(arn string) string {
	a, err := state.ParseARN(arn)
	if err != nil || a.Service != "sts" {
		return arn
	}
	segs := strings.Split(a.Resource, "/")
	if len(segs) < 2 {
		return arn
	}
	return "arn:" + a.Partition + ":iam::" + a.Account + ":role/" + segs[1]
}
