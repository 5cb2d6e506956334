package policygen

import (
	"encoding/json"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
)

// SeedCase is a hand-written case from the project's seed scenario with the
// decision AWS makes.
type SeedCase struct {
	Name string
	Case oracle.Case
	Want string
}

// The seed's names.
const (
	SeedUserAccount    = "111122223333"
	SeedCrossAccount   = "123456789098"
	SeedBucket         = "DOC-EXAMPLE-BUCKET"
	seedKeyID          = "111aa2bb-333c-4d44-5555-a111bb2c33dd"
	SeedJane           = "arn:aws:iam::111122223333:user/Jane"
	seedJaneID         = "AIDAEXAMPLEJANE000001"
	seedSameKey        = "arn:aws:kms:us-east-1:111122223333:key/" + seedKeyID
	seedCrossKey       = "arn:aws:kms:us-east-1:123456789098:key/" + seedKeyID
	seedObject         = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/q1.csv"
	seedBucketARN      = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
	seedKeyAdminPolicy = `{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyAdmin"},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"}`
	// The key policy statement the seed adds for Jane (both scenarios).
	seedKeyStmt = `{"Sid":"ExampleStmt","Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Resource":"*"}`
	// Same account: the identity policy and the bucket's existing policy.
	seedSameIdentity = `{"Version":"2012-10-17","Statement":[{"Sid":"ExampleStmt","Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`
	seedSameBucket   = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	// Cross account: the default key policy of the bucket's account, the
	// seed's identity policy (REGION stands for the key's region) and bucket
	// policy.
	seedDefaultKeyStmt = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"}`
	seedCrossIdentity  = `{"Version":"2012-10-17","Statement":[{"Sid":"DownloadandUpload","Action":["s3:GetObject","s3:GetObjectVersion","s3:PutObject","s3:PutObjectAcl"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"},{"Sid":"ListBucket","Action":["s3:ListBucket"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"},{"Sid":"KMSAccess","Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Resource":"arn:aws:kms:REGION:123456789098:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"}]}`
	seedCrossBucket    = `{"Id":"Policy1584399307003","Version":"2012-10-17","Statement":[{"Sid":"DownloadandUpload","Action":["s3:GetObject","s3:GetObjectVersion","s3:PutObject","s3:PutObjectAcl"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Principal":{"AWS":["arn:aws:iam::111122223333:user/Jane"]}},{"Sid":"ListBucket","Action":["s3:ListBucket"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET","Principal":{"AWS":["arn:aws:iam::111122223333:user/Jane"]}}]}`
)

func keyPolicy(id string, stmts ...string) json.RawMessage {
	return json.RawMessage(`{"Version":"2012-10-17","Id":"` + id + `","Statement":[` + strings.Join(stmts, ",") + `]}`)
}

func janeContext(secure string) map[string][]string {
	ctx := map[string][]string{
		"aws:PrincipalArn":     {SeedJane},
		"aws:PrincipalAccount": {SeedUserAccount},
		"aws:username":         {"Jane"},
		"aws:userid":           {seedJaneID},
	}
	if secure != "" {
		ctx["aws:SecureTransport"] = []string{secure}
	}
	return ctx
}

func janeCase(rt, action, resource, resourceAccount string, identity []oracle.NamedPolicy, res json.RawMessage, secure string) oracle.Case {
	return oracle.Case{
		ResourceType: rt, Identity: identity, Resource: res,
		Principal: SeedJane, PrincipalAccount: SeedUserAccount, PrincipalID: seedJaneID,
		Action: action, ResourceARN: resource, ResourceAccount: resourceAccount,
		Context: janeContext(secure),
	}
}

// SeedCases returns the seed's two scenarios, before and after the grant,
// as requests with the decisions AWS makes.
func SeedCases() []SeedCase {
	sameIdentity := []oracle.NamedPolicy{{Name: "inline ExampleStmt of user/Jane", Policy: json.RawMessage(seedSameIdentity)}}
	sameKeyBefore := keyPolicy("key-consolepolicy-3", seedKeyAdminPolicy)
	sameKeyAfter := keyPolicy("key-consolepolicy-3", seedKeyAdminPolicy, seedKeyStmt)
	sameBucket := json.RawMessage(seedSameBucket)

	crossIdentity := func(region string) []oracle.NamedPolicy {
		return []oracle.NamedPolicy{{Name: "inline DownloadandUpload of user/Jane", Policy: json.RawMessage(strings.Replace(seedCrossIdentity, "REGION", region, 1))}}
	}
	crossKeyBefore := keyPolicy("key-default-1", seedDefaultKeyStmt)
	crossKeyAfter := keyPolicy("key-default-1", seedDefaultKeyStmt, seedKeyStmt)
	crossBucket := json.RawMessage(seedCrossBucket)
	cross := SeedCrossAccount

	var out []SeedCase
	add := func(name, want string, c oracle.Case) {
		c.ID = name
		out = append(out, SeedCase{Name: name, Case: c, Want: want})
	}
	// Same account, after the grant.
	for _, a := range []string{"s3:GetObject", "s3:PutObject"} {
		add("same/after/"+a, oracle.Allowed, janeCase("s3", a, seedObject, SeedUserAccount, sameIdentity, sameBucket, "true"))
		add("same/after/"+a+"/insecure", oracle.ExplicitlyDenied, janeCase("s3", a, seedObject, SeedUserAccount, sameIdentity, sameBucket, "false"))
	}
	add("same/after/s3:ListBucket", oracle.ImplicitlyDenied, janeCase("s3", "s3:ListBucket", seedBucketARN, SeedUserAccount, sameIdentity, sameBucket, "true"))
	for _, a := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
		add("same/after/"+a, oracle.Allowed, janeCase("kms", a, seedSameKey, SeedUserAccount, sameIdentity, sameKeyAfter, "true"))
		add("same/before/"+a, oracle.ImplicitlyDenied, janeCase("kms", a, seedSameKey, SeedUserAccount, sameIdentity, sameKeyBefore, "true"))
	}
	add("same/after/kms:PutKeyPolicy", oracle.ImplicitlyDenied, janeCase("kms", "kms:PutKeyPolicy", seedSameKey, SeedUserAccount, sameIdentity, sameKeyAfter, "true"))
	add("same/before/s3:GetObject", oracle.ImplicitlyDenied, janeCase("s3", "s3:GetObject", seedObject, SeedUserAccount, nil, sameBucket, "true"))

	// Cross account, after the grant.
	for _, a := range []string{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"} {
		add("cross/after/"+a, oracle.Allowed, janeCase("s3", a, seedObject, cross, crossIdentity("us-east-1"), crossBucket, "true"))
		add("cross/no-bucket-policy/"+a, oracle.ImplicitlyDenied, janeCase("s3", a, seedObject, cross, crossIdentity("us-east-1"), nil, "true"))
		add("cross/no-identity-policy/"+a, oracle.ImplicitlyDenied, janeCase("s3", a, seedObject, cross, nil, crossBucket, "true"))
	}
	add("cross/after/s3:ListBucket", oracle.Allowed, janeCase("s3", "s3:ListBucket", seedBucketARN, cross, crossIdentity("us-east-1"), crossBucket, "true"))
	for _, a := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
		add("cross/after/"+a, oracle.Allowed, janeCase("kms", a, seedCrossKey, cross, crossIdentity("us-east-1"), crossKeyAfter, "true"))
		// The key policy alone does not let another account's user in.
		add("cross/key-policy-only/"+a, oracle.ImplicitlyDenied, janeCase("kms", a, seedCrossKey, cross, nil, crossKeyAfter, "true"))
		// The default key policy delegates only to its own account.
		add("cross/before/"+a, oracle.ImplicitlyDenied, janeCase("kms", a, seedCrossKey, cross, crossIdentity("us-east-1"), crossKeyBefore, "true"))
		// The seed's placeholder region does not name the real key.
		add("cross/placeholder-region/"+a, oracle.ImplicitlyDenied, janeCase("kms", a, seedCrossKey, cross, crossIdentity("example-region-1"), crossKeyAfter, "true"))
	}
	return out
}
