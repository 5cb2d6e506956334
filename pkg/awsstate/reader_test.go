package awsstate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	acct    = "111122223333"
	keyID   = "111aa2bb-333c-4d44-5555-a111bb2c33dd"
	keyARN  = "arn:aws:kms:eu-west-1:111122223333:key/" + keyID
	awsKey  = "aaaa0000-0000-0000-0000-000000000000"
	janeARN = "arn:aws:iam::111122223333:user/staff/Jane"
	// Documents with characters URL-encoding gets wrong: '+', "%2B" as
	// text, spaces and non-ASCII.
	plusDoc   = `{"Version":"2012-10-17","Statement":[{"Sid":"Plus","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/c d/*"}]}`
	pctDoc    = `{"Version":"2012-10-17","Statement":[{"Sid":"Pct","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%2B/é"}]}`
	sharedDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
	boundDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	keyPolicy = "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}"
	bktPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bkt/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	sharedARN = "arn:aws:iam::aws:policy/Shared"
	boundARN  = "arn:aws:iam::111122223333:policy/Boundary"
	otherARN  = "arn:aws:iam::111122223333:policy/Other"
)

func newFake() *fake {
	return &fake{
		account: acct, region: "us-east-1",
		users: map[string]*fakePrincipal{
			"Jane": {arn: janeARN, id: "AIDAEXAMPLEJANE000001", boundary: boundARN,
				inline:   map[string]string{"b-plus": plusDoc, "a-pct": pctDoc},
				attached: []string{sharedARN, otherARN}, groups: []string{"devs", "ops"}},
		},
		roles: map[string]*fakePrincipal{
			"App": {arn: "arn:aws:iam::111122223333:role/service/App", id: "AROAEXAMPLEAPP000001",
				inline: map[string]string{"r": plusDoc}, attached: []string{sharedARN}},
		},
		groups: map[string]*fakePrincipal{
			"devs": {inline: map[string]string{"g": pctDoc}, attached: []string{sharedARN}},
			"ops":  {attached: []string{sharedARN, otherARN}},
		},
		policies: map[string]string{sharedARN: sharedDoc, boundARN: boundDoc, otherARN: plusDoc},
		buckets: map[string]*fakeBucket{
			"bkt": {owner: acct, region: "eu-west-1", bucketKey: true, ownership: "BucketOwnerEnforced", policy: bktPolicy,
				enc: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)}},
		},
		keys: map[string]*fakeKey{
			keyID:  {arn: keyARN, manager: "CUSTOMER", state: "Enabled", policy: keyPolicy},
			awsKey: {arn: "arn:aws:kms:eu-west-1:111122223333:key/" + awsKey, manager: "AWS", state: "Enabled", policy: keyPolicy},
		},
		aliases: []kmstypes.AliasListEntry{
			{AliasName: aws.String("alias/aws/ebs")},
			{AliasName: aws.String("alias/aws/s3"), TargetKeyId: aws.String(awsKey)},
			{AliasName: aws.String("alias/app"), TargetKeyId: aws.String(keyID)},
			{AliasName: aws.String("alias/app-2"), TargetKeyId: aws.String(keyID)},
		},
	}
}

func (f *fake) reader() *Reader {
	return &Reader{
		IAM: f.iam(), PrincipalSTS: fakeSTS{f, "arn:aws:iam::111122223333:user/admin"},
		S3: f.s3, KMS: f.kms, PrincipalLabel: `profile "dev"`, Parallel: 4,
	}
}

func TestReadUser(t *testing.T) {
	f := newFake()
	st, err := f.reader().Read(context.Background(), janeARN, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	doc := state.NewDoc
	want := &state.State{
		Buckets: []state.Bucket{{Name: "bkt", Account: acct, Region: "eu-west-1",
			Encryption:      &state.Encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyARN, BucketKeyEnabled: true},
			ObjectOwnership: "BucketOwnerEnforced", Policy: doc(bktPolicy)}},
		Keys: []state.Key{{ARN: keyARN, KeyManager: "CUSTOMER", KeyState: "Enabled", Region: "eu-west-1",
			Aliases: []string{"alias/app", "alias/app-2"}, Policy: doc(keyPolicy)}},
		Principals: []state.Principal{{ARN: janeARN, ID: "AIDAEXAMPLEJANE000001", Kind: "user",
			InlinePolicies: []state.NamedDoc{{Name: "a-pct", Doc: doc(pctDoc)}, {Name: "b-plus", Doc: doc(plusDoc)}},
			AttachedPolicies: []state.ManagedPolicy{
				{ARN: sharedARN, Document: doc(sharedDoc), VersionID: "v3"},
				{ARN: otherARN, Document: doc(plusDoc), VersionID: "v3"}},
			Groups: []state.Group{
				{Name: "devs", InlinePolicies: []state.NamedDoc{{Name: "g", Doc: doc(pctDoc)}},
					AttachedPolicies: []state.ManagedPolicy{{ARN: sharedARN, Document: doc(sharedDoc), VersionID: "v3"}}},
				{Name: "ops", InlinePolicies: []state.NamedDoc{},
					AttachedPolicies: []state.ManagedPolicy{
						{ARN: sharedARN, Document: doc(sharedDoc), VersionID: "v3"},
						{ARN: otherARN, Document: doc(plusDoc), VersionID: "v3"}}}},
			PermissionsBoundary: &state.ManagedPolicy{ARN: boundARN, Document: doc(boundDoc), VersionID: "v3"},
			// GetUser answered without tags: read, and none.
			Tags: []state.Tag{},
		}},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	// Each managed document is read once, however often it is attached.
	for _, a := range []string{sharedARN, otherARN, boundARN} {
		for _, op := range []string{"GetPolicy ", "GetPolicyVersion "} {
			if n := f.calls[op+a]; n != 1 {
				t.Errorf("%s%s called %d times, want 1", op, a, n)
			}
		}
	}
	// Every list was paged (one item a page).
	for op, n := range map[string]int{"ListUserPolicies": 2, "ListAttachedUserPolicies": 2, "ListGroupsForUser": 2, "ListAliases": 2, "GetUserPolicy": 2, "GetGroupPolicy": 1} {
		if f.calls[op] != n {
			t.Errorf("%s called %d times, want %d", op, f.calls[op], n)
		}
	}
	// The bucket's region was found and used for the rest.
	if !f.regions["eu-west-1"] {
		t.Errorf("no S3 client in the bucket's region: %v", f.regions)
	}
}

func TestReadRoleAndSession(t *testing.T) {
	for _, arn := range []string{"arn:aws:iam::111122223333:role/service/App", "arn:aws:iam::111122223333:role/App", "arn:aws:sts::111122223333:assumed-role/App/botocore-session-1"} {
		t.Run(arn, func(t *testing.T) {
			f := newFake()
			st, err := f.reader().Read(context.Background(), arn, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			p := st.Principals[0]
			if p.ARN != "arn:aws:iam::111122223333:role/service/App" || p.Kind != state.KindRole || p.ID != "AROAEXAMPLEAPP000001" || len(p.Groups) != 0 {
				t.Errorf("principal = %+v", p)
			}
			if len(p.InlinePolicies) != 1 || p.InlinePolicies[0].Doc.String() != plusDoc || len(p.AttachedPolicies) != 1 {
				t.Errorf("policies = %+v", p)
			}
			if f.calls["ListGroupsForUser"] != 0 || f.calls["GetRole"] != 1 {
				t.Errorf("calls = %v", f.calls)
			}
		})
	}
}

func TestKeyResolution(t *testing.T) {
	awsKeyARN := "arn:aws:kms:eu-west-1:111122223333:key/" + awsKey
	tests := []struct {
		name    string
		enc     *s3types.ServerSideEncryptionByDefault
		oldNone bool
		wantKey string // "" = no key in the state
		wantEnc *state.Encryption
	}{
		{name: "key arn", enc: kmsEnc(keyARN), wantKey: keyARN},
		{name: "key id", enc: kmsEnc(keyID), wantKey: keyARN},
		{name: "alias name", enc: kmsEnc("alias/app"), wantKey: keyARN},
		{name: "alias arn", enc: kmsEnc("arn:aws:kms:eu-west-1:111122223333:alias/app"), wantKey: keyARN},
		{name: "aws/s3 by alias name", enc: kmsEnc("alias/aws/s3"), wantKey: awsKeyARN},
		{name: "aws/s3 by alias arn", enc: kmsEnc("arn:aws:kms:eu-west-1:111122223333:alias/aws/s3"), wantKey: awsKeyARN},
		{name: "aws:kms without a key id is aws/s3", enc: kmsEnc(""), wantKey: awsKeyARN},
		{name: "predefined alias with no key yet", enc: kmsEnc("alias/aws/ebs")},
		{name: "dsse", enc: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKmsDsse, KMSMasterKeyID: aws.String(keyARN)}, wantKey: keyARN},
		{name: "today's AES256 default", enc: nil, wantEnc: &state.Encryption{SSEAlgorithm: "AES256", BucketKeyEnabled: true}},
		{name: "older servers: no configuration", oldNone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.buckets["bkt"].enc, f.buckets["bkt"].oldNoEnc = tc.enc, tc.oldNone
			var logged []string
			r := f.reader()
			r.Logf = func(format string, args ...any) { logged = append(logged, format) }
			st, err := r.Read(context.Background(), janeARN, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(st.Keys) == 1 {
				got = st.Keys[0].ARN
			}
			if got != tc.wantKey {
				t.Errorf("key = %q, want %q", got, tc.wantKey)
			}
			if n := f.calls["DescribeKey on a predefined alias (side effect!)"]; n != 0 {
				t.Errorf("DescribeKey was called on a predefined alias")
			}
			if tc.wantKey == "" && tc.enc != nil && strings.HasPrefix(string(tc.enc.SSEAlgorithm), "aws:kms") && len(logged) == 0 {
				t.Errorf("no note that the managed key does not exist yet")
			}
			if tc.wantKey != "" {
				// The state resolves the bucket's key id the same way.
				if k := st.KeyForBucket(&st.Buckets[0]); k == nil || k.ARN != tc.wantKey {
					t.Errorf("state.KeyForBucket = %+v", k)
				}
			}
			if tc.wantEnc != nil || tc.oldNone {
				if diff := cmp.Diff(tc.wantEnc, st.Buckets[0].Encryption); diff != "" {
					t.Errorf("encryption (-want +got):\n%s", diff)
				}
				if f.calls["DescribeKey"]+f.calls["ListAliases"]+f.calls["GetKeyPolicy"] != 0 {
					t.Errorf("KMS called without a KMS default: %v", f.calls)
				}
			}
		})
	}
}

func kmsEnc(id string) *s3types.ServerSideEncryptionByDefault {
	e := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}
	if id != "" {
		e.KMSMasterKeyID = aws.String(id)
	}
	return e
}

func TestBucketWithoutOptionalSettings(t *testing.T) {
	f := newFake()
	b := f.buckets["bkt"]
	b.ownership, b.policy = "", ""
	st, err := f.reader().Read(context.Background(), janeARN, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Buckets[0]; got.ObjectOwnership != "" || got.Policy != nil {
		t.Errorf("bucket = %+v", got)
	}
}

// regionless is an S3 fake whose HeadBucket answers a redirect (or nothing
// useful), so the region comes from the header or GetBucketLocation.
type regionless struct {
	fakeS3
	headErr error
}

func (s regionless) HeadBucket(ctx context.Context, in *s3HeadIn, o ...func(*s3Opts)) (*s3HeadOut, error) {
	s.f.count("HeadBucket")
	if s.headErr != nil {
		return nil, s.headErr
	}
	return &s3HeadOut{}, nil
}

func TestBucketRegion(t *testing.T) {
	tests := []struct {
		name         string
		headErr      error
		wantLocation int
	}{
		{"redirect with header", httpErr(301, http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}}, apiErr("MovedPermanently")), 0},
		{"403 with header", httpErr(403, http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}}, apiErr("Forbidden")), 0},
		{"redirect without header", httpErr(301, http.Header{}, apiErr("MovedPermanently")), 1},
		{"no region in the answer", nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := f.reader()
			r.S3 = func(region string) S3API {
				if region == "" {
					return regionless{fakeS3{f, "us-east-1"}, tc.headErr}
				}
				return f.s3(region)
			}
			st, err := r.Read(context.Background(), janeARN, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if st.Buckets[0].Region != "eu-west-1" || f.calls["GetBucketLocation"] != tc.wantLocation {
				t.Errorf("region %q, GetBucketLocation calls %d", st.Buckets[0].Region, f.calls["GetBucketLocation"])
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fake, r *Reader)
		principal string
		kind      Kind
		msg       []string
		hint      string
	}{
		{name: "access denied on GetKeyPolicy", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetKeyPolicy": apiErr("AccessDeniedException")} },
			kind: KindAccessDenied, msg: []string{"kms:GetKeyPolicy on " + keyARN, `profile "dev" (arn:aws:iam::111122223333:user/admin)`, "cannot plan without"}, hint: "allow kms:GetKeyPolicy on " + keyARN},
		{name: "access denied on GetUserPolicy", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetUserPolicy": apiErr("AccessDenied")} },
			kind: KindAccessDenied, msg: []string{"iam:GetUserPolicy on " + janeARN + " (inline policy "}, hint: "--principal-profile"},
		{name: "access denied on a bucket read", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetBucketPolicy": apiErr("AccessDenied")} },
			kind: KindAccessDenied, msg: []string{"s3:GetBucketPolicy on arn:aws:s3:::bkt"}, hint: "--resource-profile"},
		{name: "bucket owned by another account", setup: func(f *fake, _ *Reader) { f.buckets["bkt"].owner = "999988887777" },
			kind: KindAccessDenied, msg: []string{"s3:"}, hint: "owned by another account"},
		{name: "no such bucket", setup: func(f *fake, _ *Reader) { delete(f.buckets, "bkt") },
			kind: KindNoSuchBucket, msg: []string{"s3:ListBucket on arn:aws:s3:::bkt: the bucket does not exist"}},
		{name: "head bucket 404", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"HeadBucket": &s3types.NotFound{}} },
			kind: KindNoSuchBucket, msg: []string{"the bucket does not exist"}},
		{name: "no such user", principal: "arn:aws:iam::111122223333:user/Nobody",
			kind: KindNoSuchEntity, msg: []string{"iam:GetUser on arn:aws:iam::111122223333:user/Nobody: no such user"}},
		{name: "no such role", principal: "arn:aws:iam::111122223333:role/Nobody",
			kind: KindNoSuchEntity, msg: []string{"iam:GetRole on arn:aws:iam::111122223333:role/Nobody: no such role"}},
		{name: "missing key", setup: func(f *fake, _ *Reader) { delete(f.keys, keyID) },
			kind: KindKeyNotFound, msg: []string{"kms:DescribeKey on " + keyARN + ": no such kms key"}},
		{name: "expired token", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetCallerIdentity": apiErr("ExpiredToken")} },
			kind: KindExpiredToken, msg: []string{"sts:GetCallerIdentity", "have expired"}},
		{name: "expired token exception", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"ListAliases": apiErr("ExpiredTokenException")} },
			kind: KindExpiredToken, msg: []string{"kms:ListAliases"}},
		{name: "request expired", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetUser": apiErr("RequestExpired")} },
			kind: KindExpiredToken},
		{name: "bucket in another region", setup: func(f *fake, r *Reader) {
			r.S3 = func(string) S3API { return fakeS3{f, "us-east-1"} } // ignores the region
		}, kind: KindWrongRegion, msg: []string{"the bucket is in region eu-west-1"}},
		{name: "throttled beyond retries", setup: func(f *fake, _ *Reader) {
			f.errs = map[string]error{"GetPolicy": &retry.MaxAttemptsError{Attempt: 3, Err: apiErr("Throttling")}}
		}, kind: KindThrottled, msg: []string{"iam:GetPolicy on arn:aws:iam::", "throttled"}},
		{name: "throttled", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetBucketEncryption": apiErr("SlowDown")} },
			kind: KindThrottled},
		{name: "other error", setup: func(f *fake, _ *Reader) { f.errs = map[string]error{"GetBucketEncryption": apiErr("InternalError")} },
			kind: KindOther, msg: []string{"s3:GetEncryptionConfiguration on arn:aws:s3:::bkt: aws error InternalError: InternalError message"}, hint: "--debug"},
		{name: "principal in another account than its credentials", principal: "arn:aws:iam::444455556666:user/Jane",
			kind: KindWrongAccount, msg: []string{"is in account 444455556666 but the principal credentials"}, hint: "--principal-profile"},
		{name: "invalid arn", principal: "Jane", kind: KindInvalidPrincipal, msg: []string{`invalid principal arn "Jane": not an arn`}},
		{name: "group arn", principal: "arn:aws:iam::111122223333:group/devs", kind: KindInvalidPrincipal, msg: []string{"not groups"}},
		{name: "root", principal: "arn:aws:iam::111122223333:root", kind: KindInvalidPrincipal},
		{name: "bad account", principal: "arn:aws:iam::1234:user/Jane", kind: KindInvalidPrincipal, msg: []string{"12 digits"}},
		{name: "session without name", principal: "arn:aws:sts::111122223333:assumed-role/App", kind: KindInvalidPrincipal},
		{name: "s3 arn", principal: "arn:aws:s3:::bkt", kind: KindInvalidPrincipal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := f.reader()
			if tc.setup != nil {
				tc.setup(f, r)
			}
			p := tc.principal
			if p == "" {
				p = janeARN
			}
			_, err := r.Read(context.Background(), p, "bkt")
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			if e.Kind != tc.kind {
				t.Errorf("kind = %v, want %v (%v)", e.Kind, tc.kind, err)
			}
			msg := err.Error()
			if msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("message is not lowercase: %q", msg)
			}
			for _, m := range tc.msg {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q lacks %q", msg, m)
				}
			}
			if !strings.Contains(Hint(err), tc.hint) || Hint(err) == "" {
				t.Errorf("hint %q lacks %q", Hint(err), tc.hint)
			}
			if e.ExitCode() != 1 {
				t.Errorf("exit code %d", e.ExitCode())
			}
			if e.Err != nil && (Detail(err) == "" || errors.Unwrap(err) == nil) {
				t.Errorf("the SDK error is not exposed for --debug")
			}
		})
	}
}

func TestClassifyModelledTypes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind Kind
	}{
		{&s3types.NoSuchBucket{}, KindNoSuchBucket},
		{&iamtypes.NoSuchEntityException{}, KindNoSuchEntity},
		{&kmstypes.NotFoundException{}, KindKeyNotFound},
		{httpErr(403, http.Header{}, apiErr("Forbidden")), KindAccessDenied},
		{httpErr(301, http.Header{}, apiErr("PermanentRedirect")), KindWrongRegion},
		{errors.New("operation error S3: GetBucketPolicy, failed to retrieve credentials: no profile"), KindNoCredentials},
	} {
		if got := KindOf(Classify(tc.err, "s3:GetBucketPolicy", "arn:aws:s3:::b", "")); got != tc.kind {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.kind)
		}
	}
	if Classify(nil, "x", "y", "z") != nil {
		t.Error("Classify(nil) != nil")
	}
	if err := Classify(context.Canceled, "x", "y", ""); !errors.Is(err, context.Canceled) || KindOf(err) != KindOther {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCallCount(t *testing.T) {
	// The seed's same-account shape: a user with nothing attached, a
	// customer managed key, a bucket policy.
	f := newFake()
	f.users["Jane"] = &fakePrincipal{arn: janeARN, id: "AIDAEXAMPLEJANE000001"}
	f.aliases = f.aliases[2:3]
	if _, err := f.reader().Read(context.Background(), janeARN, "bkt"); err != nil {
		t.Fatal(err)
	}
	// STS 1, S3 4 (HeadBucket, encryption, ownership, policy), KMS 3
	// (DescribeKey, ListAliases, GetKeyPolicy), IAM 4 (GetUser and three lists).
	if n := f.total(); n != 12 {
		t.Errorf("calls = %d, want 12: %v", n, f.calls)
	}
	// Two identities: one more GetCallerIdentity.
	f = newFake()
	f.users["Jane"] = &fakePrincipal{arn: janeARN, id: "AIDAEXAMPLEJANE000001"}
	f.aliases = f.aliases[2:3]
	r := f.reader()
	r.ResourceSTS = fakeSTS{f, "arn:aws:iam::111122223333:role/reader"}
	r.ResourceLabel = "role reader"
	res, err := r.ReadDetailed(context.Background(), janeARN, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Identity{Account: acct, ARN: "arn:aws:iam::111122223333:role/reader", Label: "role reader"}); res.Resource != want || res.Principal.ARN != "arn:aws:iam::111122223333:user/admin" {
		t.Errorf("identities %+v", res)
	}
	if n := f.total(); n != 13 {
		t.Errorf("calls = %d, want 13: %v", n, f.calls)
	}
}

func TestParallelIsBounded(t *testing.T) {
	f := newFake()
	r := f.reader()
	r.Parallel = 1 // one call at a time must still finish (no deadlock)
	if _, err := r.Read(context.Background(), janeARN, "bkt"); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeDocument(t *testing.T) {
	for in, want := range map[string]string{
		"%7B%22a%22%3A%22b+c%22%7D":       `{"a":"b+c"}`,
		"%7B%22a%22%3A%22b%2Bc%22%7D":     `{"a":"b+c"}`,
		"%7B%22a%22%3A%22b%20c%22%7D":     `{"a":"b c"}`,
		"%7B%22a%22%3A%22%C3%A9%25%22%7D": `{"a":"é%"}`,
		`{"a":"100%"}`:                    `{"a":"100%"}`,
		` {"a":"%2B"}`:                    ` {"a":"%2B"}`,
		"":                                "",
	} {
		got, err := DecodeDocument(in)
		if err != nil || got != want {
			t.Errorf("DecodeDocument(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := DecodeDocument("%7B%zz"); err == nil {
		t.Error("bad escape accepted")
	}
}
