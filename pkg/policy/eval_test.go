package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	bucketARN = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
	objectARN = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/photo.jpg"
	keyARN    = "arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"
)

func parseDoc(t testing.TB, kind Kind, text string) *Document {
	t.Helper()
	d, err := Parse([]byte(text), kind)
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", kind, err, text)
	}
	return d
}

func identity(t testing.TB, name, text string) Named {
	return Named{Name: name, Doc: parseDoc(t, KindIdentity, text)}
}

func bucketPolicy(t testing.TB, text string) *Named {
	return &Named{Name: "bucket policy", Doc: parseDoc(t, KindBucketPolicy, text)}
}

func keyPolicy(t testing.TB, text string) *Named {
	return &Named{Name: "key policy", Doc: parseDoc(t, KindKeyPolicy, text)}
}

func boundary(t testing.TB, text string) *Named {
	return &Named{Name: "boundary", Doc: parseDoc(t, KindIdentity, text)}
}

// The seed case (Knowledge Center, "allow users to download from and upload
// to a bucket encrypted with a custom KMS key").
const (
	seedUserPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"ExampleStmt","Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`
	seedKeyPolicy  = `{"Version":"2012-10-17","Statement":[
		{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyAdmin"},"Action":["kms:Create*","kms:Describe*","kms:Put*"],"Resource":"*"},
		{"Sid":"ExampleStmt","Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Resource":"*"}]}`
	seedAdminOnlyKeyPolicy = `{"Version":"2012-10-17","Statement":[
		{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyAdmin"},"Action":["kms:Create*","kms:Describe*","kms:Put*"],"Resource":"*"}]}`
	// KMS DG, default key policy: the root statement delegates to IAM.
	rootKeyPolicy               = `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
	secureTransportBucketPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	kmsUserPolicy               = `{"Version":"2012-10-17","Statement":[{"Sid":"KMSAccess","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"}]}`
	crossUserPolicy             = `{"Version":"2012-10-17","Statement":[
		{"Sid":"DownloadandUpload","Action":["s3:GetObject","s3:GetObjectVersion","s3:PutObject","s3:PutObjectAcl"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"},
		{"Sid":"ListBucket","Action":["s3:ListBucket"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"},
		{"Sid":"KMSAccess","Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Resource":"arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"}]}`
	crossBucketPolicy = `{"Id":"Policy1584399307003","Version":"2012-10-17","Statement":[
		{"Sid":"DownloadandUpload","Action":["s3:GetObject","s3:GetObjectVersion","s3:PutObject","s3:PutObjectAcl"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Principal":{"AWS":["arn:aws:iam::444455556666:user/Bob"]}},
		{"Sid":"ListBucket","Action":["s3:ListBucket"],"Effect":"Allow","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET","Principal":{"AWS":["arn:aws:iam::444455556666:user/Bob"]}}]}`
	crossKeyPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"ExampleStmt","Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/Bob"},"Resource":"*"}]}`
)

func s3req(c Caller, action, resource string, ctx map[string][]string) Request {
	return Request{Principal: c, Action: action, Resource: resource, ResourceAccount: acctA, Context: ctx}
}

func kmsreq(c Caller, action string) Request {
	return Request{Principal: c, Action: action, Resource: keyARN, ResourceAccount: acctA}
}

var secure = map[string][]string{"aws:SecureTransport": {"true"}}

func ref(doc string, i int, sid string) Ref { return Ref{Document: doc, Index: i, Sid: sid} }

func TestEvaluate(t *testing.T) {
	userPolicy := identity(t, "user policy", seedUserPolicy)
	kmsPolicy := identity(t, "kms policy", kmsUserPolicy)
	crossPolicy := identity(t, "bob policy", crossUserPolicy)

	tests := []struct {
		name string
		req  Request
		p    Policies
		want Result
	}{
		{
			name: "nil/empty",
			req:  Request{},
			p:    Policies{},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "nil documents",
			req:  s3req(jane, "s3:GetObject", objectARN, nil),
			p: Policies{Identity: []Named{{Name: "x"}}, Boundary: &Named{Name: "b"},
				Resource: &Named{Name: "r"}, ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// KC seed, step 2: the user policy alone grants GetObject in the bucket's account.
			name: "same account identity allow",
			req:  s3req(jane, "s3:GetObject", objectARN, secure),
			p:    Policies{Identity: []Named{userPolicy}, Resource: bucketPolicy(t, secureTransportBucketPolicy)},
			want: Result{Decision: Allowed, Allows: []Ref{ref("user policy", 0, "ExampleStmt")}},
		},
		{
			// S3 UG example bucket policies: Deny when aws:SecureTransport is false.
			name: "bucket deny over plain HTTP",
			req:  s3req(jane, "s3:PutObject", objectARN, map[string][]string{"aws:SecureTransport": {"false"}}),
			p:    Policies{Identity: []Named{userPolicy}, Resource: bucketPolicy(t, secureTransportBucketPolicy)},
			want: Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("bucket policy", 0, "DenyInsecureTransport")}},
		},
		{
			name: "missing key reported",
			req:  s3req(jane, "s3:GetObject", objectARN, nil),
			p:    Policies{Identity: []Named{userPolicy}, Resource: bucketPolicy(t, secureTransportBucketPolicy)},
			want: Result{Decision: Allowed, Allows: []Ref{ref("user policy", 0, "ExampleStmt")}, MissingKeys: []string{"aws:securetransport"}},
		},
		{
			name: "action not granted",
			req:  s3req(jane, "s3:DeleteObject", objectARN, secure),
			p:    Policies{Identity: []Named{userPolicy}},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "other bucket",
			req:  s3req(jane, "s3:GetObject", "arn:aws:s3:::other/photo.jpg", secure),
			p:    Policies{Identity: []Named{userPolicy}},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// KC seed, step 1: a key policy naming the user suffices without IAM.
			name: "key policy names the user",
			req:  kmsreq(jane, "kms:Decrypt"),
			p:    Policies{Resource: keyPolicy(t, seedKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: Allowed, Allows: []Ref{ref("key policy", 1, "ExampleStmt")}},
		},
		{
			// KMS DG: without the root statement IAM allows on the key are ineffective.
			name: "identity allow without key policy delegation",
			req:  kmsreq(jane, "kms:Decrypt"),
			p:    Policies{Identity: []Named{kmsPolicy}, Resource: keyPolicy(t, seedAdminOnlyKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "no key policy allows nothing",
			req:  kmsreq(jane, "kms:Decrypt"),
			p:    Policies{Identity: []Named{kmsPolicy}, ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// KMS DG, default key policy: root delegation plus an IAM allow.
			name: "root delegation and identity allow",
			req:  kmsreq(jane, "kms:GenerateDataKey"),
			p:    Policies{Identity: []Named{kmsPolicy}, Resource: keyPolicy(t, rootKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: Allowed, Allows: []Ref{ref("kms policy", 0, "KMSAccess"), ref("key policy", 0, "Enable IAM User Permissions")}},
		},
		{
			// KMS DG: the root statement does not itself grant any user access.
			name: "root delegation without identity allow",
			req:  kmsreq(jane, "kms:Decrypt"),
			p:    Policies{Identity: []Named{userPolicy}, Resource: keyPolicy(t, rootKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// KMS DG: the root statement delegates only the actions it lists.
			name: "root delegation of other actions",
			req:  kmsreq(jane, "kms:Decrypt"),
			p: Policies{Identity: []Named{kmsPolicy}, ResourceType: ResourceKMSKey, Resource: keyPolicy(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Describe*","Resource":"*"}]}`)},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// IAM UG, cross-account evaluation: the trusting account's resource policy must allow.
			name: "cross account without bucket policy",
			req:  s3req(bobB, "s3:GetObject", objectARN, secure),
			p:    Policies{Identity: []Named{crossPolicy}},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "cross account bucket policy only",
			req:  s3req(bobB, "s3:GetObject", objectARN, secure),
			p:    Policies{Resource: bucketPolicy(t, crossBucketPolicy)},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			// KC seed, cross-account steps 2 and 3.
			name: "cross account both allow",
			req:  s3req(bobB, "s3:ListBucket", bucketARN, secure),
			p:    Policies{Identity: []Named{crossPolicy}, Resource: bucketPolicy(t, crossBucketPolicy)},
			want: Result{Decision: Allowed, Allows: []Ref{ref("bob policy", 1, "ListBucket"), ref("bucket policy", 1, "ListBucket")}},
		},
		{
			// IAM UG, cross-account: granting the account lets its admins delegate.
			name: "cross account bucket policy names the account",
			req:  s3req(bobB, "s3:GetObject", objectARN, nil),
			p: Policies{Identity: []Named{crossPolicy}, Resource: bucketPolicy(t,
				`{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)},
			want: Result{Decision: Allowed, Allows: []Ref{ref("bob policy", 0, "DownloadandUpload"), ref("bucket policy", 0, "B")}},
		},
		{
			// KMS DG, external accounts: key policy and external IAM policy both needed.
			name: "cross account key",
			req:  kmsreq(bobB, "kms:Decrypt"),
			p:    Policies{Identity: []Named{crossPolicy}, Resource: keyPolicy(t, crossKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: Allowed, Allows: []Ref{ref("bob policy", 2, "KMSAccess"), ref("key policy", 0, "ExampleStmt")}},
		},
		{
			name: "cross account key policy only",
			req:  kmsreq(bobB, "kms:Decrypt"),
			p:    Policies{Resource: keyPolicy(t, crossKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "cross account key identity only",
			req:  kmsreq(bobB, "kms:Decrypt"),
			p:    Policies{Identity: []Named{crossPolicy}, Resource: keyPolicy(t, rootKeyPolicy), ResourceType: ResourceKMSKey},
			want: Result{Decision: ImplicitlyDenied},
		},
		{
			name: "unknown caller account is cross account",
			req:  s3req(Caller{ARN: "garbage"}, "s3:GetObject", objectARN, nil),
			p:    Policies{Identity: []Named{userPolicy}},
			want: Result{Decision: ImplicitlyDenied},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.req, tt.p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateBoundaries(t *testing.T) {
	userPolicy := identity(t, "user policy", seedUserPolicy)
	kmsPolicy := identity(t, "kms policy", kmsUserPolicy)
	onlyKMS := boundary(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Describe*","Resource":"*"}]}`)
	allowS3 := boundary(t, `{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	denyS3 := boundary(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"No","Effect":"Deny","Action":"s3:Get*","Resource":"*"}]}`)
	grant := func(principal string) *Named {
		return bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"G","Effect":"Allow","Principal":`+principal+`,"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	}
	keyGrant := func(principal string) *Named {
		return keyPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"G","Effect":"Allow","Principal":`+principal+`,"Action":"kms:Decrypt","Resource":"*"}]}`)
	}
	allowed := func(refs ...Ref) Result { return Result{Decision: Allowed, Allows: refs} }
	implicit := Result{Decision: ImplicitlyDenied}
	g := ref("bucket policy", 0, "G")

	tests := []struct {
		name string
		req  Request
		p    Policies
		want Result
	}{
		// IAM UG, permissions boundaries: effective permissions are the intersection.
		{"boundary without the action", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{userPolicy}, Boundary: onlyKMS}, implicit},
		{"boundary with the action", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{userPolicy}, Boundary: allowS3},
			allowed(ref("user policy", 0, "ExampleStmt"), ref("boundary", 0, "S3"))},
		{"boundary alone grants nothing", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Boundary: allowS3}, implicit},
		{"empty boundary document", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{userPolicy}, Boundary: &Named{Name: "boundary"}}, implicit},
		{"boundary deny", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{userPolicy}, Boundary: denyS3},
			Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("boundary", 1, "No")}}},
		// IAM UG, evaluation logic: a same-account resource policy naming the user ARN
		// is not limited by an implicit deny in the boundary…
		{"bucket policy names the user past the boundary", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"` + janeARN + `"}`)}, allowed(g)},
		{"bucket policy names the user id past the boundary", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"` + janeID + `"}`)}, allowed(g)},
		// …nor one naming the role session ARN…
		{"bucket policy names the session past the boundary", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"` + sessARN + `"}`)}, allowed(g)},
		// …but one naming the role ARN is.
		{"bucket policy names the role, boundary blocks", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"` + roleARN + `"}`)}, implicit},
		{"bucket policy names the role, no boundary", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Resource: grant(`{"AWS":"` + roleARN + `"}`)}, allowed(g)},
		{"role caller named, boundary blocks", s3req(role, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"` + roleARN + `"}`)}, implicit},
		// "*" names everyone directly (iam-simulate: not limited by the boundary).
		{"star past the boundary", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`"*"`)}, allowed(g)},
		{"star for role caller past the boundary", s3req(role, "s3:GetObject", objectARN, nil),
			Policies{Boundary: onlyKMS, Resource: grant(`{"AWS":"*"}`)}, allowed(g)},
		// A bucket policy naming the account delegates to IAM; it grants nothing itself.
		{"account principal same account", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Resource: grant(`{"AWS":"111122223333"}`)}, implicit},
		{"account principal with identity allow", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{userPolicy}, Resource: grant(`{"AWS":"111122223333"}`)},
			allowed(ref("user policy", 0, "ExampleStmt"))},
		{"cross account, boundary blocks direct grant", s3req(bobB, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{identity(t, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)},
				Boundary: onlyKMS, Resource: grant(`{"AWS":"arn:aws:iam::444455556666:user/Bob"}`)}, implicit},
		{"key policy names the user past the boundary", kmsreq(jane, "kms:Decrypt"),
			Policies{Boundary: onlyKMS, Resource: keyGrant(`{"AWS":"` + janeARN + `"}`), ResourceType: ResourceKMSKey},
			allowed(ref("key policy", 0, "G"))},
		{"key root delegation, boundary blocks", kmsreq(jane, "kms:Decrypt"),
			Policies{Identity: []Named{kmsPolicy}, Boundary: allowS3, Resource: keyGrant(`{"AWS":"111122223333"}`), ResourceType: ResourceKMSKey},
			implicit},
		{"key root delegation within the boundary", kmsreq(jane, "kms:Decrypt"),
			Policies{Identity: []Named{kmsPolicy}, Boundary: boundary(t, `{"Version":"2012-10-17","Statement":[{"Sid":"K","Effect":"Allow","Action":"kms:*","Resource":"*"}]}`),
				Resource: keyGrant(`{"AWS":"111122223333"}`), ResourceType: ResourceKMSKey},
			allowed(ref("kms policy", 0, "KMSAccess"), ref("boundary", 0, "K"), ref("key policy", 0, "G"))},
		{"key policy names the role for a session", kmsreq(session, "kms:Decrypt"),
			Policies{Resource: keyGrant(`{"AWS":"` + roleARN + `"}`), ResourceType: ResourceKMSKey},
			allowed(ref("key policy", 0, "G"))},
		{"key policy names the role, boundary blocks", kmsreq(session, "kms:Decrypt"),
			Policies{Boundary: allowS3, Resource: keyGrant(`{"AWS":"` + roleARN + `"}`), ResourceType: ResourceKMSKey},
			implicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.req, tt.p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateNotElements(t *testing.T) {
	allowAll := identity(t, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	bob := Caller{ARN: "arn:aws:iam::111122223333:user/Bob", Account: acctA}
	// IAM UG, NotPrincipal: deny everyone except Bob; his account must be listed too.
	exceptJane := bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","NotPrincipal":{"AWS":["`+janeARN+`","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	exceptAccount := bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	exceptSession := bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","NotPrincipal":{"AWS":["`+sessARN+`","`+roleARN+`","111122223333"]},"Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	allowOthers := bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","NotPrincipal":{"AWS":"`+janeARN+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	d := Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("bucket policy", 0, "D")}}
	okAdmin := Result{Decision: Allowed, Allows: []Ref{ref("admin", 0, "")}}

	tests := []struct {
		name string
		req  Request
		p    Policies
		want Result
	}{
		{"NotPrincipal exempts the listed user", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: exceptJane}, okAdmin},
		{"NotPrincipal denies other users", s3req(bob, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: exceptJane}, d},
		{"NotPrincipal account exempts only the account", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: exceptAccount}, d},
		{"NotPrincipal session chain", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: exceptSession}, okAdmin},
		// IAM UG, permissions boundaries: Deny+NotPrincipal always denies a principal with a boundary.
		{"NotPrincipal with boundary always denies", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Boundary: &Named{Name: "b", Doc: allowAll.Doc}, Resource: exceptJane}, d},
		// IAM UG, NotPrincipal with Allow: everyone else.
		{"Allow NotPrincipal grants others", s3req(bob, "s3:GetObject", objectARN, nil),
			Policies{Resource: allowOthers}, Result{Decision: Allowed, Allows: []Ref{ref("bucket policy", 0, "A")}}},
		{"Allow NotPrincipal skips the listed", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Resource: allowOthers}, Result{Decision: ImplicitlyDenied}},
		// IAM UG, NotAction: Allow with NotAction grants every other action.
		{"NotAction allows others", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{identity(t, "n", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)}},
			Result{Decision: Allowed, Allows: []Ref{ref("n", 0, "")}}},
		{"NotAction excludes the listed", s3req(jane, "iam:CreateUser", "arn:aws:iam::111122223333:user/x", nil),
			Policies{Identity: []Named{identity(t, "n", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)}},
			Result{Decision: ImplicitlyDenied}},
		// IAM UG, NotResource: Deny everything outside one bucket.
		{"Deny NotResource outside", s3req(jane, "s3:GetObject", "arn:aws:s3:::other/x", nil),
			Policies{Identity: []Named{allowAll, identity(t, "fence", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"]}]}`)}},
			Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("fence", 0, "")}}},
		{"Deny NotResource inside", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll, identity(t, "fence", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"]}]}`)}},
			okAdmin},
		// IAM UG, evaluation logic: an explicit deny in any policy wins.
		{"identity deny beats bucket allow", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{identity(t, "deny", `{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`)},
				Resource: bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`)},
			Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("deny", 0, "X")}}},
		{"bucket deny naming the account", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}`)}, d},
		{"bucket deny naming the role denies its session", s3req(session, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{allowAll}, Resource: bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":{"AWS":"`+roleARN+`"},"Action":"s3:*","Resource":"*"}]}`)}, d},
		{"all denies are listed", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Identity: []Named{identity(t, "i", `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"},{"Sid":"B","Effect":"Deny","Action":"*","Resource":"*"}]}`)},
				Resource: bucketPolicy(t, `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`)},
			Result{Decision: ExplicitlyDenied, Denies: []Ref{ref("i", 0, "A"), ref("i", 1, "B"), ref("bucket policy", 0, "D")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.req, tt.p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateVariablesAndConditions(t *testing.T) {
	home := func(version string) Named {
		v := ""
		if version != "" {
			v = `"Version":"` + version + `",`
		}
		return identity(t, "home", `{`+v+`"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/home/${aws:username}/*"}]}`)
	}
	obj := "arn:aws:s3:::DOC-EXAMPLE-BUCKET/home/Jane/a.txt"
	user := map[string][]string{"aws:username": {"Jane"}}
	vpceAllow := bucketPolicy(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"V","Effect":"Allow","Principal":{"AWS":"`+janeARN+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"},"Bool":{"aws:SecureTransport":"true"}}},
		{"Sid":"W","Effect":"Allow","Principal":{"AWS":"`+janeARN+`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringEquals":{"AWS:SourceVPCE":"vpce-9"}}},
		{"Sid":"X","Effect":"Allow","Principal":{"AWS":"`+janeARN+`"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"x"}}}]}`)

	tests := []struct {
		name string
		req  Request
		p    Policies
		want Result
	}{
		// IAM UG, policy variables: home directories with ${aws:username}.
		{"variable substituted", s3req(jane, "s3:GetObject", obj, user),
			Policies{Identity: []Named{home(Version2012)}}, Result{Decision: Allowed, Allows: []Ref{ref("home", 0, "")}}},
		{"variable for another user", s3req(jane, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/home/Bob/a.txt", user),
			Policies{Identity: []Named{home(Version2012)}}, Result{Decision: ImplicitlyDenied}},
		// Only Request.Context supplies keys: the Caller's name is not used.
		{"variable key absent", s3req(jane, "s3:GetObject", obj, nil),
			Policies{Identity: []Named{home(Version2012)}}, Result{Decision: ImplicitlyDenied}},
		// IAM UG, Version element: under 2008-10-17 variables are literal text.
		{"variable under 2008", s3req(jane, "s3:GetObject", obj, user),
			Policies{Identity: []Named{home(Version2008)}}, Result{Decision: ImplicitlyDenied}},
		{"variable literal under 2008", s3req(jane, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/home/${aws:username}/a", user),
			Policies{Identity: []Named{home(Version2008)}}, Result{Decision: Allowed, Allows: []Ref{ref("home", 0, "")}}},
		{"variable without version", s3req(jane, "s3:GetObject", obj, user),
			Policies{Identity: []Named{home("")}}, Result{Decision: ImplicitlyDenied}},
		// S3 UG, VPC endpoint example: allowed only through the endpoint.
		{"conditions unmet report missing keys once, sorted", s3req(jane, "s3:GetObject", objectARN, nil),
			Policies{Resource: vpceAllow},
			Result{Decision: ImplicitlyDenied, MissingKeys: []string{"aws:securetransport", "aws:sourcevpce"}}},
		{"conditions met", s3req(jane, "s3:GetObject", objectARN, map[string][]string{"aws:sourcevpce": {"vpce-1a2b3c4d"}, "aws:SecureTransport": {"true"}}),
			Policies{Resource: vpceAllow},
			Result{Decision: Allowed, Allows: []Ref{ref("bucket policy", 0, "V")}}},
		{"missing keys only from matching statements", s3req(bobB, "s3:GetObject", objectARN, nil),
			Policies{Resource: vpceAllow}, Result{Decision: ImplicitlyDenied}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.req, tt.p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateKeyPolicyStatementWithoutResource(t *testing.T) {
	// KMS DG: a key policy statement without Resource is silently ineffective.
	d := &Document{version: Version2012, statements: []Statement{{
		Effect: Allow, Principal: aws(janeARN), Action: &Strings{Values: []string{"kms:Decrypt"}},
	}}}
	got := Evaluate(kmsreq(jane, "kms:Decrypt"), Policies{Resource: &Named{Name: "k", Doc: d}, ResourceType: ResourceKMSKey})
	if got.Decision != ImplicitlyDenied {
		t.Errorf("decision = %v, want ImplicitlyDenied", got.Decision)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	// Documents are shared read-only between goroutines; -race checks it.
	p := Policies{Identity: []Named{identity(t, "u", seedUserPolicy)}, Resource: bucketPolicy(t, secureTransportBucketPolicy)}
	done := make(chan Result)
	for range 8 {
		go func() { done <- Evaluate(s3req(jane, "s3:GetObject", objectARN, secure), p) }()
	}
	for range 8 {
		if r := <-done; r.Decision != Allowed {
			t.Errorf("decision = %v", r.Decision)
		}
	}
}

func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	switch r.Decision {
	case Allowed:
		if len(r.Allows) == 0 || len(r.Denies) != 0 {
			t.Fatalf("allowed with allows %v denies %v", r.Allows, r.Denies)
		}
	case ExplicitlyDenied:
		if len(r.Denies) == 0 || len(r.Allows) != 0 {
			t.Fatalf("explicitly denied with allows %v denies %v", r.Allows, r.Denies)
		}
	case ImplicitlyDenied:
		if len(r.Denies) != 0 || len(r.Allows) != 0 {
			t.Fatalf("implicitly denied with allows %v denies %v", r.Allows, r.Denies)
		}
	default:
		t.Fatalf("decision %q", r.Decision)
	}
	if !slices.IsSorted(r.MissingKeys) || len(slices.Compact(slices.Clone(r.MissingKeys))) != len(r.MissingKeys) {
		t.Fatalf("missing keys not sorted and unique: %q", r.MissingKeys)
	}
	for _, k := range r.MissingKeys {
		if k != strings.ToLower(k) {
			t.Fatalf("missing key %q not lower case", k)
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add(seedUserPolicy, secureTransportBucketPolicy, "s3:GetObject", objectARN, janeARN, "aws:SecureTransport", "true", false,
		"s3:Get*", "arn:aws:s3:::b/${aws:username}/*", "StringLike", "*")
	f.Add(kmsUserPolicy, rootKeyPolicy, "kms:Decrypt", keyARN, sessARN, "aws:username", "Jane", true,
		"*", "arn:aws:kms:*", "ForAllValues:ArnNotLikeIfExists", "arn:aws:*:*:*:*")
	f.Add(crossUserPolicy, crossBucketPolicy, "s3:ListBucket", bucketARN, "arn:aws:iam::444455556666:user/Bob", "aws:SourceIp", "203.0.113.9", false,
		"s3:?ist*", "arn:aws:s3:::*", "NotIpAddress", "203.0.113.0/24")
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":"s3:*","NotResource":"*"}}`, `{"Statement":[]}`, "", "", "", "", "", true,
		"", "", "Null", "true")
	f.Add("", "", "s3:", "arn:", "arn:aws:sts::1:assumed-role//", "${", "${aws:x, '", false, "::", "arn:::::${", "DateEquals", "0")

	f.Fuzz(func(t *testing.T, identityJSON, resourceJSON, action, resource, principal, key, value string, kms bool,
		actionPat, resourcePat, op, condValue string) {
		var p Policies
		if d, err := Parse([]byte(identityJSON), KindAny); err == nil {
			p.Identity = append(p.Identity, Named{Name: "identity", Doc: d})
			p.Boundary = &Named{Name: "boundary", Doc: d}
		}
		if d, err := Parse([]byte(resourceJSON), KindAny); err == nil {
			p.Resource = &Named{Name: "resource", Doc: d}
		}
		if kms {
			p.ResourceType = ResourceKMSKey
		}
		// A statement built by hand reaches patterns and operators the
		// parser would refuse.
		o, _ := ParseOperator(op)
		hand := &Document{version: Version2012, statements: []Statement{
			{Effect: Allow, Action: &Strings{Values: []string{actionPat}}, Resource: &Strings{Values: []string{resourcePat}},
				Principal:  &Principal{AWS: []string{principal, value}},
				Conditions: []Condition{{Operator: op, Op: o, Key: key, Values: []string{condValue}}}},
			{Effect: Deny, NotAction: &Strings{Values: []string{actionPat}}, NotResource: &Strings{Values: []string{resourcePat}},
				NotPrincipal: &Principal{AWS: []string{principal}},
				Conditions:   []Condition{{Operator: op, Key: condValue, Values: []string{key, value}}}},
		}}
		p.Identity = append(p.Identity, Named{Name: "hand", Doc: hand})
		req := Request{
			Principal:       Caller{ARN: principal, UniqueID: value},
			Action:          action,
			Resource:        resource,
			ResourceAccount: value,
			Context:         map[string][]string{key: {value}, condValue: {value, key}},
		}
		checkInvariants(t, Evaluate(req, p))
		checkInvariants(t, Evaluate(req, Policies{Resource: &Named{Name: "hand", Doc: hand}, ResourceType: p.ResourceType}))
	})
}

func TestEvaluateManyHits(t *testing.T) {
	// More hits than the evaluator keeps inline; order is document order.
	var stmts []Statement
	var want []Ref
	for i := range 9 {
		stmts = append(stmts, Statement{Index: i, Effect: Allow, Action: &Strings{Values: []string{"s3:*"}}, Resource: &Strings{Values: []string{"*"}}})
		want = append(want, Ref{Document: "many", Index: i})
	}
	p := Policies{Identity: []Named{{Name: "many", Doc: &Document{version: Version2012, statements: stmts}}}}
	got := Evaluate(s3req(jane, "s3:GetObject", objectARN, nil), p)
	if diff := cmp.Diff(Result{Decision: Allowed, Allows: want}, got); diff != "" {
		t.Errorf("allows (-want +got):\n%s", diff)
	}
	for i := range stmts {
		stmts[i].Effect = Deny
	}
	got = Evaluate(s3req(jane, "s3:GetObject", objectARN, nil), p)
	if diff := cmp.Diff(Result{Decision: ExplicitlyDenied, Denies: want}, got); diff != "" {
		t.Errorf("denies (-want +got):\n%s", diff)
	}
}

func TestEvaluateMissingVariableKeys(t *testing.T) {
	// A policy variable in a condition value whose key is absent is reported
	// like a condition key: the planner can say which key the grant needs.
	p := Policies{Identity: []Named{identity(t, "prefix", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","${*}"]}}}]}`)}}
	got := Evaluate(s3req(jane, "s3:ListBucket", bucketARN, map[string][]string{"s3:prefix": {"home/Jane/"}}), p)
	want := Result{Decision: ImplicitlyDenied, MissingKeys: []string{"aws:username"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = Evaluate(s3req(jane, "s3:ListBucket", bucketARN, map[string][]string{"s3:prefix": {"home/Jane/"}, "aws:username": {"Jane"}}), p)
	if got.Decision != Allowed || got.MissingKeys != nil {
		t.Errorf("with the key: %+v", got)
	}
}

func TestStatementMatches(t *testing.T) {
	s := parseDoc(t, KindIdentity, crossUserPolicy).Statements()[0]
	if !s.MatchesAction("s3:putobjectacl") || s.MatchesAction("s3:ListBucket") {
		t.Error("MatchesAction")
	}
	if !s.MatchesResource(objectARN) || s.MatchesResource(bucketARN) {
		t.Error("MatchesResource")
	}
	var empty Statement
	if empty.MatchesAction("s3:GetObject") || empty.MatchesResource(objectARN) {
		t.Error("a statement without Action or Resource matched")
	}
	not := Statement{NotAction: &Strings{Values: []string{"iam:*"}}, NotResource: &Strings{Values: []string{"arn:aws:s3:::other/*"}}}
	if !not.MatchesAction("s3:GetObject") || not.MatchesAction("IAM:CreateUser") {
		t.Error("NotAction")
	}
	if !not.MatchesResource(objectARN) || not.MatchesResource("arn:aws:s3:::other/x") {
		t.Error("NotResource")
	}
}
