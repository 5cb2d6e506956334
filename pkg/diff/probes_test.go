package diff_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Single-rule probes, written the way a sceptical reviewer tries one AWS
// rule at a time. Each names the rule, the AWS behaviour (IAM User Guide,
// global condition keys; S3's Service Authorization Reference; KMS
// Developer Guide) and what the plan must say. They are the cases that a
// planner deciding from one sample request got wrong.

// probeNow is the time probes are judged at.
var probeNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type probe struct {
	name string
	snap string
	// bucket, key and identity replace the bucket policy, add a key-policy
	// statement, and give Jane an inline policy.
	bucket, keyStmt, identity string
	access                    []diff.Level
	prefix                    string
	via                       string // --kms-via; auto when empty
	boundary                  string // statements of a permissions boundary for Jane
	// docs, when set, are the kinds of the documents the plan must write,
	// in order.
	docs []string
	// want: "blocked" (with the blocker kind in kind), "works" (no
	// blocker, no condition), "depends" (no blocker, a request whose
	// Condition is set), "nochange" (already allowed, nothing written).
	want, kind, phrase string
}

func runProbe(t *testing.T, pr probe) *diff.Plan {
	t.Helper()
	st := load(t, pr.snap)
	if pr.bucket != "" {
		st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[` + pr.bucket + `]}`)
	}
	if pr.keyStmt != "" {
		k := st.Keys[0].Policy.String()
		i := strings.LastIndex(k, "]")
		st.Keys[0].Policy = state.NewDoc(k[:i] + "," + pr.keyStmt + k[i:])
	}
	if pr.identity != "" {
		st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies,
			state.NamedDoc{Name: "probe", Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[` + pr.identity + `]}`)})
	}
	if pr.boundary != "" {
		st.Principals[0].PermissionsBoundary = &state.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/boundary",
			Document: state.NewDoc(`{"Version":"2012-10-17","Statement":[` + pr.boundary + `]}`)}
	}
	o := diff.Options{Access: pr.access, Now: probeNow, Prefix: pr.prefix, KMSVia: pr.via}
	p := mustPlan(t, st, o)
	var texts []string
	for _, b := range p.Blockers {
		texts = append(texts, b.Message+" "+b.Hint)
	}
	for _, w := range p.Warnings {
		texts = append(texts, w.Message)
	}
	conditions := 0
	for _, r := range p.Requests {
		if r.Condition != "" {
			conditions++
			texts = append(texts, r.Condition)
		}
	}
	all := strings.Join(texts, "\n")
	switch pr.want {
	case "blocked":
		if !slices.Contains(blockerKinds(p), pr.kind) {
			t.Fatalf("want blocker %s, got blockers %v warnings %v", pr.kind, blockerKinds(p), all)
		}
	case "works", "depends", "nochange", "changes":
		if p.Blocked() {
			t.Fatalf("blocked: %s", all)
		}
		if pr.want == "depends" && conditions == 0 {
			t.Fatalf("the verdict hangs on a key bucketgrant cannot know, but no request says so:\n%s", all)
		}
		if pr.want != "depends" && conditions > 0 {
			t.Fatalf("unexpected condition on the verdict:\n%s", all)
		}
		if pr.want == "nochange" && !p.Empty() {
			t.Fatalf("redundant changes: %v", kinds(p))
		}
		if pr.want == "changes" && p.Empty() {
			t.Fatalf("the plan changes nothing, but the access is not there for every object")
		}
		if pr.docs != nil && !slices.Equal(kinds(p), pr.docs) {
			t.Fatalf("the plan writes %v, want %v", kinds(p), pr.docs)
		}
		applied(t, st, p, o)
	}
	if pr.phrase != "" && !strings.Contains(all, pr.phrase) {
		t.Errorf("the plan does not say %q:\n%s", pr.phrase, all)
	}
	return p
}

const (
	objs   = `"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"`
	both   = `["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"]`
	denyS3 = `"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":` + both
)

func TestProbesConditionKeysByOrigin(t *testing.T) {
	probes := []probe{
		// AWS sets these from facts bucketgrant knows: decided with the
		// real value, in denies and in allows.
		{name: "deny after a date (aws:CurrentTime)", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			bucket: `{"Sid":"Expired",` + denyS3 + `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`},
		{name: "deny before a future date does not apply now", snap: crossSnap, want: "works",
			bucket: `{"Sid":"NotYet",` + denyS3 + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`},
		{name: "deny unless another region (aws:RequestedRegion)", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			bucket: `{"Sid":"EUOnly",` + denyS3 + `,"Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}`},
		{name: "deny unless the resource is in the caller's account (aws:ResourceAccount)", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			identity: `{"Sid":"OwnAccountOnly","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":"111122223333"}}}`},
		{name: "key-policy deny unless a VPC endpoint: S3's KMS call never carries it", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			keyStmt: `{"Sid":"VPCEOnly","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`},
		{name: "key-policy VPC deny guarded by aws:ViaAWSService spares S3's call", snap: crossSnap, want: "works",
			keyStmt: `{"Sid":"VPCEOnly","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"},"Bool":{"aws:ViaAWSService":"false"}}}`},
		{name: "key-policy deny unless an alias names the key (kms:RequestAlias)", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			keyStmt: `{"Sid":"AliasOnly","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"kms:RequestAlias":"alias/doc-example"}}}`},
		{name: "a GET cannot carry the SSE header", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny, access: []diff.Level{diff.Read},
			bucket: `{"Sid":"RequireKMS",` + denyS3 + `,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}`},
		{name: "the key-id header is the client's to send (Null deny)", snap: crossSnap, want: "works", phrase: "x-amz-server-side-encryption-aws-kms-key-id",
			bucket: `{"Sid":"RequireKeyID","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"Null":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"true"}}}`},
		{name: "AWS's force-MFA policy asks for an MFA session", snap: crossSnap, want: "works", phrase: "MFA session",
			identity: `{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`},
		{name: "an allow that holds now (aws:CurrentTime) needs no new statement", snap: sameSnap, want: "nochange", access: []diff.Level{diff.Read},
			identity: `{"Sid":"Until2099","Effect":"Allow","Action":"s3:GetObject","Resource":` + objs + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"}}},{"Sid":"KMS","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`,
			keyStmt:  `{"Sid":"Jane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"kms:Decrypt","Resource":"*"}`},
		{name: "an allow on the bucket's region and account needs no new statement", snap: sameSnap, want: "nochange", access: []diff.Level{diff.Read},
			identity: `{"Sid":"Here","Effect":"Allow","Action":"s3:GetObject","Resource":` + objs + `,"Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:ResourceAccount":"111122223333"}}}`,
			keyStmt:  `{"Sid":"Jane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"kms:Decrypt","Resource":"*"}`},
		{name: "the Null and StringNotEquals pair requiring SSE-KMS on uploads", snap: crossSnap, want: "works", phrase: "aws:kms",
			bucket: `{"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},{"Sid":"DenyUnEncryptedObjectUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`},
		{name: "aws:PrincipalIsAWSService is false on an IAM principal's call", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			bucket: `{"Sid":"ServicesOnly",` + denyS3 + `,"Condition":{"Bool":{"aws:PrincipalIsAWSService":"false"}}}`},
		{name: "the server-access-log pattern: only the logging service's calls carry aws:SourceAccount", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny, access: []diff.Level{diff.Write},
			bucket: `{"Sid":"LogsOnly","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}`},
		{name: "AWS's deny-by-IP example names the ranges", snap: crossSnap, want: "works", phrase: "192.0.2.0/24",
			identity: `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}`},
		{name: "a policy accepting AES256 or aws:kms: the advice keeps the bucket's key", snap: crossSnap, want: "works", phrase: "x-amz-server-side-encryption: aws:kms",
			bucket: `{"Sid":"SSE","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":["AES256","aws:kms"]}}}`},
		{name: "a principal tag bucketgrant cannot read: allowed only if", snap: crossSnap, want: "depends", phrase: "aws:PrincipalTag/team",
			bucket: `{"Sid":"TeamOnly",` + denyS3 + `,"Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"data"}}}`},
		{name: "an unknown condition key is never the client's choice", snap: crossSnap, want: "depends", phrase: "aws:SomeNewKey",
			bucket: `{"Sid":"NewKey",` + denyS3 + `,"Condition":{"StringNotEquals":{"aws:SomeNewKey":"x"}}}`},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) { runProbe(t, pr) })
	}
}

// Every object of the grant, not one probe object: the policies' patterns
// split the grant's keys into classes, and each class is decided.
func TestProbesObjectSets(t *testing.T) {
	kmsForJane := `{"Sid":"Jane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}`
	probes := []probe{
		{name: "an allow on bucket/*/* does not cover bucket/top.txt", snap: sameSnap, want: "changes", access: []diff.Level{diff.Read}, keyStmt: kmsForJane,
			identity: `{"Sid":"Nested","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/*"}`},
		{name: "an allow on bucket/* covers every key", snap: sameSnap, want: "nochange", access: []diff.Level{diff.Read}, keyStmt: kmsForJane,
			identity: `{"Sid":"All","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}`},
		{name: "an allow on reports/b* does not cover --prefix reports/", snap: sameSnap, want: "changes", access: []diff.Level{diff.Read}, prefix: "reports/", keyStmt: kmsForJane,
			identity: `{"Sid":"B","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/b*"}`},
		{name: "two allows that together cover the prefix", snap: sameSnap, want: "nochange", access: []diff.Level{diff.Read}, prefix: "r/", keyStmt: kmsForJane,
			identity: `{"Sid":"Short","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/r/?"},{"Sid":"Long","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET/r/??*","arn:aws:s3:::DOC-EXAMPLE-BUCKET/r/"]}`},
		{name: "a deny with a wildcard in the middle is a partial deny, with an example key", snap: crossSnap, want: "works", phrase: "secret",
			bucket: `{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/secret/*"}`},
		{name: "a NotResource deny leaves only its exception: partial", snap: crossSnap, want: "works", phrase: "stay denied",
			bucket: `{"Sid":"OnlyPublic","Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/public/*"}`},
		{name: "a NotResource deny whose exception is the grant's prefix does not apply", snap: crossSnap, want: "works", prefix: "public/",
			bucket: `{"Sid":"OnlyPublic","Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/public/*"}`},
		{name: "a deny on every object is a blocker", snap: crossSnap, want: "blocked", kind: diff.BlockExplicitDeny,
			bucket: `{"Sid":"Nothing","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/?*"}`},
		{name: "listing allowed only under reports/b does not cover --prefix reports/", snap: sameSnap, want: "changes", access: []diff.Level{diff.List}, prefix: "reports/",
			identity: `{"Sid":"ListB","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET","Condition":{"StringLike":{"s3:prefix":"reports/b*"}}}`},
		{name: "a key policy that allows only some objects' encryption context", snap: crossSnap, want: "changes", access: []diff.Level{diff.Read},
			keyStmt: `{"Sid":"SomeObjects","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/a*"}}}`},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) { runProbe(t, pr) })
	}
}

// A deny that needs two keys bucketgrant cannot read at once: every value
// of each key is allowed with some value of the other, but not every
// combination; the verdict names the combinations denied, never "works".
func TestProbeDenyOnTwoUnknownKeys(t *testing.T) {
	runProbe(t, probe{name: "two unknown keys", snap: crossSnap, want: "depends", phrase: "aws:PrincipalTag/team",
		bucket: `{"Sid":"Both",` + denyS3 + `,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"data","aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`})
}

// Whether the key policy delegates to the account's IAM policies is asked
// for the principal itself (its ARN, an identity policy that allows
// everything, no boundary), not for a stand-in user of its account: a
// key-policy deny that exempts the principal alone hits a stand-in.
// NotPrincipal with Deny checks the account and then the user, and denies
// if either is missing from the list (IAM User Guide, NotPrincipal: "you
// must also specify the account ARN of the not-denied principal"), so
// exempting Jane takes her ARN and her account's.
func TestProbesKeyDelegation(t *testing.T) {
	const (
		delegate = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`
		bob      = "arn:aws:iam::111122223333:user/Bob"
		denyKMS  = `"Effect":"Deny","Action":"kms:*","Resource":"*"`
	)
	read := []diff.Level{diff.Read}
	probes := []probe{
		{name: "a deny for everyone but Jane and her account leaves the delegation to Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy},
			keyStmt: delegate + `,{"Sid":"OnlyJane",` + denyKMS + `,"NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","` + jane + `"]}}`},
		{name: "with auto, the same deny lets the grant go to the identity policy", snap: sameSnap, access: read,
			want: "changes", docs: []string{diff.DocInlinePolicy},
			keyStmt: delegate + `,{"Sid":"OnlyJane",` + denyKMS + `,"NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","` + jane + `"]}}`},
		{name: "a deny for everyone but Bob and his account denies Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "blocked", kind: diff.BlockExplicitDeny, phrase: "OnlyBob",
			keyStmt: delegate + `,{"Sid":"OnlyBob",` + denyKMS + `,"NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","` + bob + `"]}}`},
		{name: "a deny whose NotPrincipal names Jane but not her account denies Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "blocked", kind: diff.BlockExplicitDeny, phrase: "JaneAlone",
			keyStmt: delegate + `,{"Sid":"JaneAlone",` + denyKMS + `,"NotPrincipal":{"AWS":"` + jane + `"}}`},
		{name: "a deny unless aws:PrincipalArn is Jane leaves the delegation to Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy},
			keyStmt: delegate + `,{"Sid":"OnlyJaneByArn",` + denyKMS + `,"Principal":"*","Condition":{"StringNotEquals":{"aws:PrincipalArn":"` + jane + `"}}}`},
		{name: "a deny unless aws:PrincipalArn is Bob denies Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "blocked", kind: diff.BlockExplicitDeny, phrase: "OnlyBobByArn",
			keyStmt: delegate + `,{"Sid":"OnlyBobByArn",` + denyKMS + `,"Principal":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"` + bob + `"}}}`},
		{name: "a delegation only for Jane's ARN is a delegation to Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy},
			keyStmt: `{"Sid":"DelegateJane","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + jane + `"}}}`},
		{name: "a delegation only for Bob's ARN does not delegate to Jane", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "blocked", kind: diff.BlockKeyNotDelegated,
			keyStmt: `{"Sid":"DelegateBob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + bob + `"}}}`},
		{name: "with auto, a delegation only for Bob puts Jane's grant in the key policy", snap: sameSnap, access: read,
			want: "changes", docs: []string{diff.DocInlinePolicy, diff.DocKeyPolicy},
			keyStmt: `{"Sid":"DelegateBob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + bob + `"}}}`},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) { runProbe(t, pr) })
	}
}

// Access that holds only for some values of a key bucketgrant cannot read,
// because an allow it needs (a boundary, the key policy's delegation) is
// conditional on one, and no grant bucketgrant may add works for the other
// values: the verdict is "allowed if" those values hold, never "blocked"
// (and never "works").
func TestProbesAllowedIf(t *testing.T) {
	const delegate = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`
	read := []diff.Level{diff.Read}
	probes := []probe{
		{name: "--kms-via identity under a boundary that allows KMS only for team data", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "depends", phrase: "aws:PrincipalTag/team = data", docs: []string{diff.DocInlinePolicy}, keyStmt: delegate,
			boundary: `{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}`},
		{name: "--kms-via identity where the key delegates unless aws:SomeNewKey = x", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "depends", phrase: "aws:SomeNewKey is not x", docs: []string{diff.DocInlinePolicy},
			keyStmt: `{"Sid":"Delegate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:SomeNewKey":"x"}}}`},
		{name: "a boundary conditional on a tag for everything: nothing bucketgrant adds works otherwise", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "depends", phrase: "is allowed only if aws:PrincipalTag/team = data", keyStmt: delegate,
			boundary: `{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}`},
		{name: "a boundary that allows KMS for no tag value stays a blocker", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "blocked", kind: diff.BlockBoundary, keyStmt: delegate,
			boundary: `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) { runProbe(t, pr) })
	}
}

// A key policy that delegates to the account only for requests made with
// MFA (Bool aws:MultiFactorAuthPresent true on the root statement): with
// --kms-via identity no statement bucketgrant may add lets a request
// without MFA decrypt, but Jane can make her requests with an MFA session
// (a user's choice: GetSessionToken with a code), and then the identity
// grant works. The plan grants it and says that requests must use an MFA
// session, rather than "blocked".
func TestProbesMFAShape(t *testing.T) {
	const mfaDelegate = `{"Sid":"DelegateWithMFA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`
	read := []diff.Level{diff.Read}
	probes := []probe{
		{name: "--kms-via identity: the identity grant, for requests made with an MFA session", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy}, phrase: "allowed only for requests made so that requests are made with an MFA session", keyStmt: mfaDelegate},
		{name: "auto: the key-policy grant, which needs no MFA", snap: sameSnap, access: read,
			want: "changes", docs: []string{diff.DocInlinePolicy, diff.DocKeyPolicy}, keyStmt: mfaDelegate},
		{name: "--kms-via identity under a boundary that allows KMS only with MFA", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy}, phrase: "MFA session",
			keyStmt:  `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`,
			boundary: `{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`},
		{name: "--kms-via identity where the key delegates only without MFA: the default request", snap: sameSnap, access: read, via: diff.ViaIdentity,
			want: "changes", docs: []string{diff.DocInlinePolicy},
			keyStmt: `{"Sid":"DelegateNoMFA","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			p := runProbe(t, pr)
			for _, r := range p.Requests {
				if r.Action != "kms:Decrypt" {
					continue
				}
				v, _ := lookupFoldCtx(r.Context, "aws:MultiFactorAuthPresent")
				mfa := slices.Equal(v, []string{"true"})
				if want := strings.Contains(pr.phrase, "MFA"); mfa != want {
					t.Errorf("kms:Decrypt's context has aws:MultiFactorAuthPresent %v; want an MFA session: %v", v, want)
				}
			}
		})
	}
}

func lookupFoldCtx(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
