package policy

import (
	"testing"
)

func TestGrants(t *testing.T) {
	const (
		key     = "arn:aws:kms:us-east-1:111122223333:key/k1"
		jane    = "arn:aws:iam::111122223333:user/Jane"
		role    = "arn:aws:iam::111122223333:role/path/Loader"
		session = "arn:aws:sts::111122223333:assumed-role/Loader/s1"
		remote  = "arn:aws:iam::444455556666:user/Remote"
		object  = "arn:aws:s3:::reports/a.txt"
	)
	ctx := func(pairs ...string) map[string][]string {
		c := map[string][]string{}
		for i := 0; i+1 < len(pairs); i += 2 {
			c["kms:EncryptionContext:"+pairs[i]] = []string{pairs[i+1]}
		}
		return c
	}
	noPolicy := MustParse(`{"Version":"2012-10-17","Statement":[]}`, KindKeyPolicy)
	denyAll := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}`, KindKeyPolicy)
	denyIdentity := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`, KindIdentity)
	boundaryS3 := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, KindIdentity)
	boundaryKMS := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`, KindIdentity)
	g := func(grantee string, ops ...string) Grant {
		return Grant{Name: "KMS grant g1 on key " + key, ID: "g1", Grantee: grantee, Operations: ops}
	}
	subset := g(jane, "Decrypt")
	subset.Subset = map[string]string{"aws:s3:arn": object}
	equals := g(jane, "Decrypt")
	equals.Equals = map[string]string{"aws:s3:arn": object}
	caseDiff := g(jane, "Decrypt")
	caseDiff.Subset = map[string]string{"AWS:S3:ARN": object}

	for _, tc := range []struct {
		name     string
		caller   Caller
		action   string
		context  map[string][]string
		grants   []Grant
		resource *Document
		identity *Document
		boundary *Document
		want     Decision
	}{
		{"no grant", Caller{ARN: jane}, "kms:Decrypt", nil, nil, noPolicy, nil, nil, ImplicitlyDenied},
		{"grant to the user", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g(jane, "Decrypt")}, noPolicy, nil, nil, Allowed},
		{"operation names compare without case", Caller{ARN: jane}, "kms:decrypt", nil, []Grant{g(jane, "Decrypt")}, noPolicy, nil, nil, Allowed},
		{"other operation", Caller{ARN: jane}, "kms:GenerateDataKey", nil, []Grant{g(jane, "Decrypt", "Encrypt")}, noPolicy, nil, nil, ImplicitlyDenied},
		{"GenerateDataKeyWithoutPlaintext is not GenerateDataKey", Caller{ARN: jane}, "kms:GenerateDataKey", nil, []Grant{g(jane, "GenerateDataKeyWithoutPlaintext")}, noPolicy, nil, nil, ImplicitlyDenied},
		{"grant to someone else", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g("arn:aws:iam::111122223333:user/Bob", "Decrypt")}, noPolicy, nil, nil, ImplicitlyDenied},
		{"grant to the account is not counted", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g("arn:aws:iam::111122223333:root", "Decrypt")}, noPolicy, nil, nil, ImplicitlyDenied},
		{"grant to the role covers its sessions", Caller{ARN: session}, "kms:Decrypt", nil, []Grant{g(role, "Decrypt")}, noPolicy, nil, nil, Allowed},
		{"grant to one session", Caller{ARN: session}, "kms:Decrypt", nil, []Grant{g(session, "Decrypt")}, noPolicy, nil, nil, Allowed},
		{"grant to another session", Caller{ARN: "arn:aws:sts::111122223333:assumed-role/Loader/s2"}, "kms:Decrypt", nil, []Grant{g(session, "Decrypt")}, noPolicy, nil, nil, ImplicitlyDenied},
		{"cross-account grant needs no IAM policy", Caller{ARN: remote}, "kms:Decrypt", nil, []Grant{g(remote, "Decrypt")}, noPolicy, nil, nil, Allowed},
		{"key policy deny wins over a grant", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g(jane, "Decrypt")}, denyAll, nil, nil, ExplicitlyDenied},
		{"identity deny wins over a grant", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g(jane, "Decrypt")}, noPolicy, denyIdentity, nil, ExplicitlyDenied},
		{"boundary without the operation", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g(jane, "Decrypt")}, noPolicy, nil, boundaryS3, ImplicitlyDenied},
		{"boundary with the operation", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{g(jane, "Decrypt")}, noPolicy, nil, boundaryKMS, Allowed},
		{"subset holds", Caller{ARN: jane}, "kms:Decrypt", ctx("aws:s3:arn", object, "extra", "x"), []Grant{subset}, noPolicy, nil, nil, Allowed},
		{"subset fails on another object", Caller{ARN: jane}, "kms:Decrypt", ctx("aws:s3:arn", object+"2"), []Grant{subset}, noPolicy, nil, nil, ImplicitlyDenied},
		{"subset fails without context", Caller{ARN: jane}, "kms:Decrypt", nil, []Grant{subset}, noPolicy, nil, nil, ImplicitlyDenied},
		{"subset keys compare with case", Caller{ARN: jane}, "kms:Decrypt", ctx("aws:s3:arn", object), []Grant{caseDiff}, noPolicy, nil, nil, ImplicitlyDenied},
		{"equals holds", Caller{ARN: jane}, "kms:Decrypt", ctx("aws:s3:arn", object), []Grant{equals}, noPolicy, nil, nil, Allowed},
		{"equals fails with an extra pair", Caller{ARN: jane}, "kms:Decrypt", ctx("aws:s3:arn", object, "extra", "x"), []Grant{equals}, noPolicy, nil, nil, ImplicitlyDenied},
		{"grants apply to KMS only", Caller{ARN: jane}, "s3:GetObject", nil, []Grant{g(jane, "GetObject")}, nil, nil, nil, ImplicitlyDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Policies{ResourceType: ResourceKMSKey, Grants: tc.grants}
			if tc.action == "s3:GetObject" {
				ps.ResourceType = ResourceS3
			}
			if tc.resource != nil {
				ps.Resource = &Named{Name: "key policy", Doc: tc.resource}
			}
			if tc.identity != nil {
				ps.Identity = []Named{{Name: "identity", Doc: tc.identity}}
			}
			if tc.boundary != nil {
				ps.Boundary = &Named{Name: "boundary", Doc: tc.boundary}
			}
			res := Evaluate(Request{Principal: tc.caller, Action: tc.action, Resource: key, ResourceAccount: "111122223333", Context: tc.context}, ps)
			if res.Decision != tc.want {
				t.Fatalf("decision %s, want %s (%+v)", res.Decision, tc.want, res)
			}
			if tc.want == Allowed && (len(res.Allows) != 1 || res.Allows[0].Document != tc.grants[0].Name || res.Allows[0].Index != -1) {
				t.Errorf("the allow must name the grant, got %+v", res.Allows)
			}
		})
	}
}
