package policy

import (
	"fmt"
	"strings"
	"testing"
)

// largePolicy builds a resource policy of about size bytes from statements
// that each grant a different user of another account, with a condition,
// so that none of them match until the last, which grants the caller.
func largePolicy(size int, resource, action, last string) string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := 0; b.Len() < size-600; i++ {
		fmt.Fprintf(&b, `{"Sid":"Grant%04d","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:user/team%d/user%d","arn:aws:iam::444455556666:role/Role%d"]},`+
			`"Action":["%s","%s*"],"Resource":"%s","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-%08d"},"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"}}},`,
			i, i%7, i, i, action, action[:len(action)-2], resource, i, i%250)
	}
	b.WriteString(last)
	b.WriteString(`]}`)
	return b.String()
}

func BenchmarkEvaluate(b *testing.B) {
	userPolicy := identity(b, "user policy", seedUserPolicy)
	crossPolicy := identity(b, "bob policy", crossUserPolicy)
	bigBucket := largePolicy(20*1024, "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*", "s3:GetObject",
		`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},`+
			`{"Sid":"Jane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}`)
	bigKey := largePolicy(32*1024, "*", "kms:Decrypt",
		`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`)
	if len(bigBucket) < 19*1024 || len(bigBucket) > 20*1024 || len(bigKey) < 31*1024 || len(bigKey) > 32*1024 {
		b.Fatalf("policy sizes %d and %d", len(bigBucket), len(bigKey))
	}
	ctx := map[string][]string{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"203.0.113.9"}, "aws:username": {"Jane"}}

	cases := []struct {
		name string
		req  Request
		p    Policies
		want Decision
	}{
		{"seed same account GetObject", s3req(jane, "s3:GetObject", objectARN, ctx),
			Policies{Identity: []Named{userPolicy}, Resource: bucketPolicy(b, secureTransportBucketPolicy)}, Allowed},
		{"seed same account Decrypt", kmsreq(jane, "kms:Decrypt"),
			Policies{Identity: []Named{userPolicy}, Resource: keyPolicy(b, seedKeyPolicy), ResourceType: ResourceKMSKey}, Allowed},
		{"seed cross account PutObject", s3req(bobB, "s3:PutObject", objectARN, ctx),
			Policies{Identity: []Named{crossPolicy}, Resource: bucketPolicy(b, crossBucketPolicy)}, Allowed},
		{"seed cross account GenerateDataKey", kmsreq(bobB, "kms:GenerateDataKey"),
			Policies{Identity: []Named{crossPolicy}, Resource: keyPolicy(b, crossKeyPolicy), ResourceType: ResourceKMSKey}, Allowed},
		{"20KB bucket policy", s3req(jane, "s3:GetObject", objectARN, ctx),
			Policies{Resource: bucketPolicy(b, bigBucket)}, Allowed},
		{"32KB key policy", kmsreq(jane, "kms:Decrypt"),
			Policies{Identity: []Named{identity(b, "kms", kmsUserPolicy)}, Resource: keyPolicy(b, bigKey), ResourceType: ResourceKMSKey}, Allowed},
		{"32KB key policy denied", kmsreq(bobB, "kms:Decrypt"),
			Policies{Resource: keyPolicy(b, bigKey), ResourceType: ResourceKMSKey}, ImplicitlyDenied},
	}
	for _, c := range cases {
		if got := Evaluate(c.req, c.p); got.Decision != c.want {
			b.Fatalf("%s: decision %v, want %v", c.name, got.Decision, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(c.req, c.p)
			}
		})
	}
}
