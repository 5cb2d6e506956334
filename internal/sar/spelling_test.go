package sar

import "testing"

func TestSpelling(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"aws:sourceip", "aws:SourceIp"},
		{"AWS:SOURCEVPCE", "aws:SourceVpce"},
		{"aws:principaltag/team", "aws:PrincipalTag/team"},
		{"s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-server-side-encryption-aws-kms-key-id"},
		{"kms:encryptioncontext:aws:s3:arn", "kms:EncryptionContext:aws:s3:arn"},
		{"s3:existingobjecttag/Team", "s3:ExistingObjectTag/Team"},
		{"aws:multifactorauthpresent", "aws:MultiFactorAuthPresent"},
		{"example:madeup", "example:madeup"},
	} {
		if got := Spelling(c.in); got != c.want {
			t.Errorf("Spelling(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
