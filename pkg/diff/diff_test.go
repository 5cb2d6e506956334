package diff_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	jane      = "arn:aws:iam::111122223333:user/Jane"
	bucket    = "DOC-EXAMPLE-BUCKET"
	crossKey  = "arn:aws:kms:us-east-1:123456789098:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"
	sameKey   = "arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"
	sameSnap  = "../../examples/seed-same-account.json"
	crossSnap = "../../examples/seed-cross-account.json"
)

func load(t *testing.T, path string) *state.State {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// clone copies a state through the snapshot format.
func clone(t *testing.T, st *state.State) *state.State {
	t.Helper()
	data, err := snapshot.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	c, err := snapshot.Parse("clone", data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustPlan(t *testing.T, st *state.State, o diff.Options) *diff.Plan {
	t.Helper()
	if o.Principal == "" {
		o.Principal = jane
	}
	if o.Bucket == "" {
		o.Bucket = bucket
	}
	p, err := diff.Make(st, o)
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	return p
}

var (
	oracleOnce sync.Once
	theOracle  *oracle.Oracle
	oracleErr  error
)

func startOracle(t *testing.T) *oracle.Oracle {
	t.Helper()
	oracleOnce.Do(func() { theOracle, oracleErr = oracle.Start() })
	if oracleErr != nil {
		t.Fatalf("starting the oracle: %v", oracleErr)
	}
	return theOracle
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theOracle != nil {
		theOracle.Close()
	}
	os.Exit(code)
}

// applied returns the state with the plan's changes written into it, and
// checks the trust property and that planning again changes nothing.
func applied(t *testing.T, before *state.State, p *diff.Plan, o diff.Options) *state.State {
	t.Helper()
	after := clone(t, before)
	if err := apply.ToState(after, p); err != nil {
		t.Fatal(err)
	}
	if err := trust.Check(startOracle(t), before, after, p); err != nil {
		t.Fatalf("trust property: %v", err)
	}
	again := mustPlan(t, after, o)
	if !again.Empty() || again.Blocked() {
		t.Fatalf("planning again on the merged documents is not a no-op: %d changes, blockers %v", len(again.Changes), again.Blockers)
	}
	return after
}

func change(t *testing.T, p *diff.Plan, kind string) diff.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Document.Kind == kind {
			return c
		}
	}
	t.Fatalf("no %s change in the plan; changes: %v", kind, kinds(p))
	return diff.Change{}
}

func kinds(p *diff.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Document.Kind)
	}
	return out
}

// statementWith finds the statement of a document holding an action.
func statementWith(t *testing.T, text, action string) policy.Statement {
	t.Helper()
	d, err := policy.Parse([]byte(text), policy.KindAny)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Statements() {
		if s.Action != nil && slices.Contains(s.Action.Values, action) {
			return s
		}
	}
	t.Fatalf("no statement with %s in\n%s", action, text)
	return policy.Statement{}
}

// TestSeedCrossAccount follows the seed's cross-account resolution: the key
// policy names Jane for Decrypt and GenerateDataKey; her identity policy
// grants the object actions on bucket/*, ListBucket on the bucket and the
// KMS actions on the key ARN; the bucket policy names her for the same S3
// actions.
func TestSeedCrossAccount(t *testing.T) {
	st := load(t, crossSnap)
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() {
		t.Fatalf("blocked: %+v", p.Blockers)
	}
	if !p.Subject.CrossAccount {
		t.Fatal("not seen as cross-account")
	}
	want := []diff.Level{diff.Read, diff.Write, diff.List, diff.Versions, diff.ACL}
	if !slices.Equal(p.Grant.Access, want) {
		t.Fatalf("levels %v, want %v", p.Grant.Access, want)
	}
	id := change(t, p, diff.DocInlinePolicy)
	objects := statementWith(t, id.After, "s3:GetObject")
	if !slices.Equal(objects.Action.Values, []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectAcl"}) ||
		objects.Resource.Values[0] != "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*" {
		t.Errorf("identity object statement: %+v %+v", objects.Action, objects.Resource)
	}
	list := statementWith(t, id.After, "s3:ListBucket")
	if list.Resource.Values[0] != "arn:aws:s3:::DOC-EXAMPLE-BUCKET" {
		t.Errorf("ListBucket resource %v", list.Resource.Values)
	}
	kms := statementWith(t, id.After, "kms:Decrypt")
	if !slices.Equal(kms.Action.Values, []string{"kms:Decrypt", "kms:GenerateDataKey"}) || kms.Resource.Values[0] != crossKey {
		t.Errorf("identity KMS statement: %+v %+v", kms.Action, kms.Resource)
	}
	key := statementWith(t, change(t, p, diff.DocKeyPolicy).After, "kms:Decrypt")
	if key.Principal == nil || !slices.Equal(key.Principal.AWS, []string{jane}) || key.Resource.Values[0] != "*" {
		t.Errorf("key policy statement: %+v", key)
	}
	bp := change(t, p, diff.DocBucketPolicy)
	if bp.Action != diff.ActionCreate {
		t.Errorf("bucket policy action %s, want create", bp.Action)
	}
	for _, a := range []string{"s3:GetObject", "s3:ListBucket"} {
		s := statementWith(t, bp.After, a)
		if s.Principal == nil || !slices.Equal(s.Principal.AWS, []string{jane}) {
			t.Errorf("bucket policy statement for %s names %+v", a, s.Principal)
		}
	}
	applied(t, st, p, diff.Options{})
}

// TestSeedSameAccount follows the seed's same-account resolution: the key
// policy names Jane for Decrypt and GenerateDataKey (the console key policy
// does not delegate to IAM), her identity policy grants GetObject and
// PutObject on bucket/*; the bucket policy's TLS deny is not in the way.
func TestSeedSameAccount(t *testing.T) {
	st := load(t, sameSnap)
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() || p.Subject.CrossAccount {
		t.Fatalf("blocked %v cross %v", p.Blockers, p.Subject.CrossAccount)
	}
	if got := kinds(p); !slices.Equal(got, []string{diff.DocInlinePolicy, diff.DocKeyPolicy}) {
		t.Fatalf("changes %v, want inline and key policy", got)
	}
	s := statementWith(t, change(t, p, diff.DocInlinePolicy).After, "s3:GetObject")
	if !slices.Equal(s.Action.Values, []string{"s3:GetObject", "s3:PutObject"}) {
		t.Errorf("identity statement actions %v", s.Action.Values)
	}
	k := statementWith(t, change(t, p, diff.DocKeyPolicy).After, "kms:Decrypt")
	if !slices.Equal(k.Action.Values, []string{"kms:Decrypt", "kms:GenerateDataKey"}) {
		t.Errorf("key statement actions %v", k.Action.Values)
	}
	// The key policy keeps its console layout: the old text is a prefix of
	// the new one up to the closing brackets.
	kc := change(t, p, diff.DocKeyPolicy)
	if !strings.HasPrefix(kc.After, strings.TrimSuffix(kc.Before, "  } ]\n}")) {
		t.Errorf("key policy was re-laid out:\n%s", kc.After)
	}
	applied(t, st, p, diff.Options{})
}

// TestSameAccountDelegatedKeyUsesIdentity: when the key policy delegates to
// the account (the AWS default key policy), auto puts the KMS grant in the
// identity policy and leaves the key policy alone.
func TestSameAccountDelegatedKeyUsesIdentity(t *testing.T) {
	st := load(t, sameSnap)
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
	for _, tc := range []struct {
		via  string
		want []string
	}{
		{diff.ViaAuto, []string{diff.DocInlinePolicy}},
		{diff.ViaIdentity, []string{diff.DocInlinePolicy}},
		{diff.ViaKeyPolicy, []string{diff.DocInlinePolicy, diff.DocKeyPolicy}},
	} {
		t.Run(tc.via, func(t *testing.T) {
			o := diff.Options{KMSVia: tc.via}
			p := mustPlan(t, st, o)
			if got := kinds(p); !slices.Equal(got, tc.want) {
				t.Fatalf("changes %v, want %v", got, tc.want)
			}
			if tc.via != diff.ViaKeyPolicy {
				statementWith(t, change(t, p, diff.DocInlinePolicy).After, "kms:GenerateDataKey")
			}
			applied(t, st, p, o)
		})
	}
}

func TestPrefixNarrowsObjectsAndListing(t *testing.T) {
	st := load(t, crossSnap)
	o := diff.Options{Prefix: "reports/"}
	p := mustPlan(t, st, o)
	id := change(t, p, diff.DocInlinePolicy).After
	if s := statementWith(t, id, "s3:GetObject"); s.Resource.Values[0] != "arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/*" {
		t.Errorf("object resource %v", s.Resource.Values)
	}
	s := statementWith(t, id, "s3:ListBucket")
	if len(s.Conditions) != 1 || s.Conditions[0].Key != "s3:prefix" || s.Conditions[0].Values[0] != "reports/*" {
		t.Errorf("ListBucket conditions %+v", s.Conditions)
	}
	applied(t, st, p, o)
}

func TestKMSThroughS3(t *testing.T) {
	for _, bucketKey := range []bool{false, true} {
		st := load(t, crossSnap)
		st.Buckets[0].Encryption.BucketKeyEnabled = bucketKey
		o := diff.Options{KMSThroughS3: true}
		p := mustPlan(t, st, o)
		s := statementWith(t, change(t, p, diff.DocKeyPolicy).After, "kms:Decrypt")
		want := map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}
		if bucketKey {
			want["kms:EncryptionContext:aws:s3:arn"] = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
		}
		for _, c := range s.Conditions {
			if want[c.Key] != c.Values[0] {
				t.Errorf("bucket key %v: condition %s %s = %v", bucketKey, c.Operator, c.Key, c.Values)
			}
			delete(want, c.Key)
		}
		if len(want) > 0 {
			t.Errorf("bucket key %v: missing conditions %v", bucketKey, want)
		}
		applied(t, st, p, o)
	}
}

// TestExtendsOwnStatement: an earlier grant of read only is extended with
// write in the same statement, not duplicated.
func TestExtendsOwnStatement(t *testing.T) {
	st := load(t, crossSnap)
	first := mustPlan(t, st, diff.Options{Access: []diff.Level{diff.Read}})
	st2 := applied(t, st, first, diff.Options{Access: []diff.Level{diff.Read}})
	p := mustPlan(t, st2, diff.Options{Access: []diff.Level{diff.Read, diff.Write}})
	for _, c := range p.Changes {
		for _, s := range c.Statements {
			if s.Op == diff.OpAdd && strings.HasPrefix(s.Sid, "BucketGrantObjects") {
				t.Errorf("%s: added a second object statement instead of extending", c.Document.ID())
			}
		}
	}
	id := change(t, p, diff.DocInlinePolicy)
	if id.Statements[0].Op != diff.OpExtend || !slices.Equal(id.Statements[0].Actions, []string{"s3:PutObject"}) {
		t.Errorf("identity change %+v", id.Statements)
	}
	applied(t, st2, p, diff.Options{Access: []diff.Level{diff.Read, diff.Write}})
}

func TestRolePrincipalAndSessionARN(t *testing.T) {
	st := load(t, crossSnap)
	st.Principals[0].ARN = "arn:aws:iam::111122223333:role/team/Uploader"
	st.Principals[0].ID = "AROAEXAMPLEUPLOADER01"
	st.Principals[0].Kind = state.KindRole
	o := diff.Options{Principal: "arn:aws:sts::111122223333:assumed-role/Uploader/alice"}
	p := mustPlan(t, st, o)
	if p.Subject.PrincipalARN != "arn:aws:iam::111122223333:role/team/Uploader" {
		t.Fatalf("session resolved to %s", p.Subject.PrincipalARN)
	}
	k := statementWith(t, change(t, p, diff.DocKeyPolicy).After, "kms:Decrypt")
	if k.Principal.AWS[0] != "arn:aws:iam::111122223333:role/team/Uploader" {
		t.Errorf("key policy names %v, want the role", k.Principal.AWS)
	}
	applied(t, st, p, o)
}

func TestAlreadyAllowedIsNoChange(t *testing.T) {
	st := load(t, crossSnap)
	p := mustPlan(t, st, diff.Options{})
	after := applied(t, st, p, diff.Options{})
	again := mustPlan(t, after, diff.Options{})
	for _, r := range again.Requests {
		if r.Before != policy.Allowed || !strings.Contains(r.Why, "BucketGrant") {
			t.Errorf("%s: %s (%s)", r.Action, r.Before, r.Why)
		}
	}
}

// TestManagedPolicyFallback: a user whose inline policies are near IAM's
// 2,048-character aggregate gets the grant in a managed policy.
func TestManagedPolicyFallback(t *testing.T) {
	st := load(t, crossSnap)
	filler := `{"Version":"2012-10-17","Statement":[{"Sid":"Filler","Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111122223333:user/` + strings.Repeat("x", 1700) + `"}]}`
	st.Principals[0].InlinePolicies = []state.NamedDoc{{Name: "filler", Doc: state.NewDoc(filler)}}
	p := mustPlan(t, st, diff.Options{})
	c := change(t, p, diff.DocManagedPolicy)
	if c.Action != diff.ActionCreate || !c.Attach || c.Document.ARN != diff.ManagedPolicyARN(jane, bucket) || !strings.HasPrefix(c.Document.ARN, "arn:aws:iam::111122223333:policy/bucketgrant/bucketgrant-DOC-EXAMPLE-BUCKET-") {
		t.Fatalf("managed change %+v", c.Document)
	}
	for _, ch := range p.Changes {
		if ch.Document.Kind == diff.DocInlinePolicy {
			t.Errorf("an inline policy is still changed")
		}
	}
	applied(t, st, p, diff.Options{})
}

func blockerKinds(p *diff.Plan) []string {
	var out []string
	for _, b := range p.Blockers {
		out = append(out, b.Kind)
	}
	return out
}

func warningKinds(p *diff.Plan) []string {
	var out []string
	for _, w := range p.Warnings {
		out = append(out, w.Kind)
	}
	return out
}

func TestBlockers(t *testing.T) {
	tests := []struct {
		name   string
		snap   string
		edit   func(st *state.State)
		opts   diff.Options
		want   string
		phrase string
	}{
		{name: "unconditional deny in bucket policy", snap: crossSnap, want: diff.BlockExplicitDeny, phrase: "explicitly denied",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"NoJane","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
			}},
		{name: "deny in identity policy", snap: sameSnap, want: diff.BlockExplicitDeny, phrase: "NoKMS",
			edit: func(st *state.State) {
				st.Principals[0].InlinePolicies = []state.NamedDoc{{Name: "guard", Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"NoKMS","Effect":"Deny","Action":"kms:*","Resource":"*"}]}`)}}
			}},
		{name: "aws managed key across accounts", snap: crossSnap, want: diff.BlockAWSManagedKey, phrase: "AWS managed key",
			edit: func(st *state.State) { st.Keys[0].KeyManager = "AWS" }},
		{name: "key disabled", snap: crossSnap, want: diff.BlockKeyState, phrase: "Disabled",
			edit: func(st *state.State) { st.Keys[0].KeyState = "Disabled" }},
		{name: "key pending deletion", snap: sameSnap, want: diff.BlockKeyState, phrase: "PendingDeletion",
			edit: func(st *state.State) { st.Keys[0].KeyState = "PendingDeletion" }},
		{name: "key in another region", snap: crossSnap, want: diff.BlockKeyRegion, phrase: "us-west-2",
			edit: func(st *state.State) { st.Buckets[0].Region = "us-west-2" }},
		{name: "alias default across accounts", snap: crossSnap, want: diff.BlockAliasCrossAccount, phrase: "full key ARN",
			edit: func(st *state.State) { st.Buckets[0].Encryption.KMSMasterKeyID = "alias/doc-example-bucket" }},
		// A role's boundary limits even a bucket-policy statement naming
		// the role (a user's does not: TestBoundaryUserGetsBucketPolicy).
		{name: "permissions boundary of a role", snap: sameSnap, want: diff.BlockBoundary, phrase: "boundary",
			opts: diff.Options{Principal: "arn:aws:iam::111122223333:role/Jane"},
			edit: func(st *state.State) {
				st.Principals[0].ARN, st.Principals[0].Kind, st.Principals[0].ID = "arn:aws:iam::111122223333:role/Jane", state.KindRole, "AROAEXAMPLEJANEROLE01"
				st.Principals[0].PermissionsBoundary = &state.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/OnlyIAM",
					Document: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)}
			}},
		{name: "missing principal", snap: crossSnap, want: diff.BlockMissingPrincipal, phrase: "does not exist",
			opts: diff.Options{Principal: "arn:aws:iam::111122223333:user/Nobody"}},
		{name: "orphaned principal in key policy", snap: crossSnap, want: diff.BlockOrphanedPrincipals, phrase: "AIDAORPHANEDUSER00001",
			edit: func(st *state.State) {
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Old","Effect":"Allow","Principal":{"AWS":["AIDAORPHANEDUSER00001","arn:aws:iam::123456789098:role/Keep"]},"Action":"kms:Decrypt","Resource":"*"}]}`)
			}},
		{name: "key policy over 32 KB", snap: crossSnap, want: diff.BlockSizeLimit, phrase: "32768",
			edit: func(st *state.State) {
				big := `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Pad","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:DescribeKey","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"` + strings.Repeat("1", 32400) + `"}}}]}`
				st.Keys[0].Policy = state.NewDoc(big)
			}},
		{name: "bucket policy over 20 KB", snap: crossSnap, want: diff.BlockSizeLimit, phrase: "20480",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Pad","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/` + strings.Repeat("p", 20200) + `"}]}`)
			}},
		{name: "key policy does not delegate", snap: sameSnap, want: diff.BlockKeyNotDelegated, phrase: "--kms-via key-policy",
			opts: diff.Options{KMSVia: diff.ViaIdentity}},
		{name: "key not found", snap: crossSnap, want: diff.BlockMissingKey, phrase: "was not found",
			edit: func(st *state.State) {
				st.Buckets[0].Encryption.KMSMasterKeyID = "arn:aws:kms:us-east-1:123456789098:key/99999999-0000-0000-0000-000000000000"
			}},
		{name: "bucket policy requires another key", snap: crossSnap, want: diff.BlockExplicitDeny, phrase: "same key",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"OtherKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:123456789098:key/99999999-0000-0000-0000-000000000000"}}}]}`)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, tc.snap)
			if tc.edit != nil {
				tc.edit(st)
			}
			p := mustPlan(t, st, tc.opts)
			if !slices.Contains(blockerKinds(p), tc.want) {
				t.Fatalf("blockers %v, want %s", blockerKinds(p), tc.want)
			}
			if !p.Empty() {
				t.Errorf("a blocked plan has changes: %v", kinds(p))
			}
			var msgs []string
			for _, b := range p.Blockers {
				msgs = append(msgs, b.Message+" "+b.Hint)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.phrase) {
				t.Errorf("blocker text does not mention %q:\n%s", tc.phrase, strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestRemoveOrphanedPrincipals(t *testing.T) {
	st := load(t, crossSnap)
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Old","Effect":"Allow","Principal":{"AWS":["AIDAORPHANEDUSER00001","arn:aws:iam::123456789098:role/Keep"]},"Action":"kms:Decrypt","Resource":"*"},{"Sid":"Gone","Effect":"Allow","Principal":{"AWS":"AROAORPHANEDROLE00001"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	o := diff.Options{RemoveOrphanedPrincipals: true}
	p := mustPlan(t, st, o)
	if p.Blocked() {
		t.Fatalf("blocked: %v", p.Blockers)
	}
	kc := change(t, p, diff.DocKeyPolicy)
	if strings.Contains(kc.After, "AIDAORPHANEDUSER00001") || strings.Contains(kc.After, "AROAORPHANEDROLE00001") {
		t.Fatalf("orphans remain:\n%s", kc.After)
	}
	if !strings.Contains(kc.After, "arn:aws:iam::123456789098:role/Keep") {
		t.Fatalf("a live principal was removed:\n%s", kc.After)
	}
	var ops []string
	for _, s := range kc.Statements {
		ops = append(ops, s.Op)
	}
	if !slices.Contains(ops, diff.OpRemovePrincipals) || !slices.Contains(ops, diff.OpRemove) {
		t.Errorf("statement changes %v do not show the removals", ops)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		snap   string
		edit   func(st *state.State)
		want   string
		phrase string
	}{
		{name: "SSE-S3 bucket", snap: sameSnap, want: diff.WarnNoKMS, phrase: "AES256",
			edit: func(st *state.State) { st.Buckets[0].Encryption = &state.Encryption{SSEAlgorithm: "AES256"} }},
		{name: "no default encryption", snap: sameSnap, want: diff.WarnNoKMS, phrase: "none",
			edit: func(st *state.State) { st.Buckets[0].Encryption = nil }},
		{name: "uploads must request SSE-KMS", snap: crossSnap, want: diff.WarnConditionalDeny, phrase: "uploads send x-amz-server-side-encryption: aws:kms",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"RequireKMS","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}`)
			}},
		{name: "requests must come through a VPC endpoint", snap: sameSnap, want: diff.WarnConditionalDeny, phrase: "requests come through vpce-1a2b3c4d",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"VPCE","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`)
			}},
		{name: "principal must be in the organization", snap: crossSnap, want: diff.WarnConditionalDeny, phrase: "organization o-exampleorgid",
			edit: func(st *state.State) {
				st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Org","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-exampleorgid"}}}]}`)
			}},
		{name: "acl on an enforced bucket", snap: sameSnap, want: diff.WarnACLDisabled, phrase: "BucketOwnerEnforced",
			edit: func(st *state.State) { st.Buckets[0].ObjectOwnership = "BucketOwnerEnforced" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, tc.snap)
			tc.edit(st)
			o := diff.Options{}
			if tc.want == diff.WarnACLDisabled {
				o.Access = []diff.Level{diff.Read, diff.ACL}
			}
			p := mustPlan(t, st, o)
			if p.Blocked() {
				t.Fatalf("blocked: %+v", p.Blockers)
			}
			if !slices.Contains(warningKinds(p), tc.want) {
				t.Fatalf("warnings %v, want %s", warningKinds(p), tc.want)
			}
			var msgs []string
			for _, w := range p.Warnings {
				msgs = append(msgs, w.Message)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.phrase) {
				t.Errorf("warnings do not mention %q:\n%s", tc.phrase, strings.Join(msgs, "\n"))
			}
			if len(p.NotEvaluated) == 0 {
				t.Error("the plan does not say what it did not evaluate")
			}
			applied(t, st, p, o)
		})
	}
}

func TestBadInput(t *testing.T) {
	st := load(t, crossSnap)
	for _, tc := range []struct {
		name string
		opts diff.Options
		edit func(st *state.State)
		want string
	}{
		{name: "unknown bucket", opts: diff.Options{Bucket: "no-such-bucket"}, want: `bucket "no-such-bucket" is not in the state`},
		{name: "not an ARN", opts: diff.Options{Principal: "Jane"}, want: "expected an IAM user or role ARN"},
		{name: "bad kms-via", opts: diff.Options{KMSVia: "sideways"}, want: "--kms-via"},
		{name: "wildcard prefix", opts: diff.Options{Prefix: "a*"}, want: "--prefix"},
		{name: "malformed key policy", edit: func(st *state.State) { st.Keys[0].Policy = state.NewDoc(`{"Statement":[{"Effect":"allow"}]}`) }, want: "key policy of " + crossKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := clone(t, st)
			if tc.edit != nil {
				tc.edit(s)
			}
			if tc.opts.Principal == "" {
				tc.opts.Principal = jane
			}
			if tc.opts.Bucket == "" {
				tc.opts.Bucket = bucket
			}
			_, err := diff.Make(s, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := diff.Make(&state.State{}, diff.Options{Principal: jane, Bucket: bucket}); err == nil {
		t.Error("an empty state planned")
	}
}

func TestPlanChecksum(t *testing.T) {
	p := mustPlan(t, load(t, crossSnap), diff.Options{})
	p.Seal()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := diff.ReadPlan("plan.json", data); err != nil {
		t.Fatalf("a sealed plan is refused: %v", err)
	}
	tampered := strings.Replace(string(data), `"s3:GetObject"`, `"s3:*"`, 1)
	if _, err := diff.ReadPlan("plan.json", []byte(tampered)); err == nil || !strings.Contains(err.Error(), "changed after it was made") {
		t.Fatalf("a tampered plan: %v", err)
	}
	if _, err := diff.ReadPlan("plan.json", []byte("{")); err == nil {
		t.Fatal("a truncated plan was read")
	}
}

// TestExamplesShip checks the bundled examples are the shared ones.
func TestExamplesShip(t *testing.T) {
	for _, f := range []string{sameSnap, crossSnap} {
		if _, err := os.Stat(filepath.Clean(f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRevoke removes exactly bucketgrant's statements, also for a principal
// that was deleted since, and never empties a key policy.
func TestRevoke(t *testing.T) {
	st := load(t, crossSnap)
	p := mustPlan(t, st, diff.Options{})
	after := applied(t, st, p, diff.Options{})

	rv, err := diff.Revoke(after, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil || rv.Blocked() {
		t.Fatalf("revoke: %v %v", err, rv.Blockers)
	}
	back := clone(t, after)
	if err := apply.ToState(back, rv); err != nil {
		t.Fatal(err)
	}
	for i, k := range st.Keys {
		if k.Policy.String() != back.Keys[i].Policy.String() {
			t.Errorf("key policy not restored:\n%s", back.Keys[i].Policy)
		}
	}
	if back.Buckets[0].Policy != nil {
		t.Errorf("the bucket policy apply created is still there: %s", back.Buckets[0].Policy)
	}
	if n := len(back.Principals[0].InlinePolicies); n != len(st.Principals[0].InlinePolicies) {
		t.Errorf("%d inline policies, want %d", n, len(st.Principals[0].InlinePolicies))
	}

	// Jane is deleted: her statements in the key policy still go.
	gone := clone(t, after)
	gone.Principals = nil
	rv, err = diff.Revoke(gone, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil || rv.Blocked() || len(rv.Changes) != 2 {
		t.Fatalf("revoke for a deleted principal: %v %v %d changes", err, rv.Blockers, len(rv.Changes))
	}

	// A key policy holding only bucketgrant's statement is never emptied.
	lonely := clone(t, after)
	lonely.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[` + statementText(t, after.Keys[0].Policy.String(), 1) + `]}`)
	rv, err = diff.Revoke(lonely, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil || !slices.Contains(blockerKinds(rv), diff.BlockKeyLockout) || !rv.Empty() {
		t.Fatalf("emptying a key policy: %v %v", err, blockerKinds(rv))
	}
}

func statementText(t *testing.T, doc string, i int) string {
	t.Helper()
	d, err := policy.Parse([]byte(doc), policy.KindAny)
	if err != nil {
		t.Fatal(err)
	}
	return string(d.StatementText(i))
}

// TestBoundaryWithoutKMSUsesKeyPolicy: the key delegates to the account,
// but Jane's boundary allows no KMS action, so an identity grant would not
// take effect; auto puts the KMS grant in the key policy, which names her
// directly and is not limited by her boundary.
func TestBoundaryWithoutKMSUsesKeyPolicy(t *testing.T) {
	st := load(t, sameSnap)
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
	st.Principals[0].PermissionsBoundary = &state.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/S3Only",
		Document: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() {
		t.Fatalf("blocked: %+v", p.Blockers)
	}
	if got := kinds(p); !slices.Equal(got, []string{diff.DocInlinePolicy, diff.DocKeyPolicy}) {
		t.Fatalf("changes %v, want the S3 grant in the identity policy and the KMS grant in the key policy", got)
	}
	applied(t, st, p, diff.Options{})

	o := diff.Options{KMSVia: diff.ViaIdentity}
	if p := mustPlan(t, st, o); !slices.Contains(blockerKinds(p), diff.BlockBoundary) {
		t.Fatalf("--kms-via identity with a boundary without KMS: blockers %v", blockerKinds(p))
	}
}

// TestOtherPartitions: a grant in aws-cn or aws-us-gov names the bucket,
// the key and the principals in that partition, and in China S3's endpoint
// for kms:ViaService ends in amazonaws.com.cn.
func TestOtherPartitions(t *testing.T) {
	data, err := os.ReadFile(crossSnap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ partition, region, via string }{
		{"aws-cn", "cn-north-1", "s3.cn-north-1.amazonaws.com.cn"},
		{"aws-us-gov", "us-gov-west-1", "s3.us-gov-west-1.amazonaws.com"},
	} {
		t.Run(tc.partition, func(t *testing.T) {
			text := strings.ReplaceAll(strings.ReplaceAll(string(data), "arn:aws:", "arn:"+tc.partition+":"), "us-east-1", tc.region)
			st, err := snapshot.Parse("partition.json", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			o := diff.Options{Principal: "arn:" + tc.partition + ":iam::111122223333:user/Jane", KMSThroughS3: true}
			p := mustPlan(t, st, o)
			if p.Blocked() {
				t.Fatalf("blocked: %+v", p.Blockers)
			}
			bp := change(t, p, diff.DocBucketPolicy)
			if bp.Document.ARN != "arn:"+tc.partition+":s3:::DOC-EXAMPLE-BUCKET" || strings.Contains(bp.After, "arn:aws:") {
				t.Errorf("bucket policy %s:\n%s", bp.Document.ARN, bp.After)
			}
			key := change(t, p, diff.DocKeyPolicy)
			if !strings.Contains(key.After, tc.via) || strings.Contains(key.After, "arn:aws:") {
				t.Errorf("key policy:\n%s", key.After)
			}
			if strings.Contains(change(t, p, diff.DocInlinePolicy).After, "arn:aws:") {
				t.Errorf("identity policy names the aws partition")
			}
			applied(t, st, p, o)
		})
	}
}

// TestPartialDenyWarns: a deny on part of the bucket is not in the way of
// "any object", but the keys it names stay denied: the plan says so.
func TestPartialDenyWarns(t *testing.T) {
	st := load(t, sameSnap)
	st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Secret","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/secret/*"},` +
		`{"Sid":"OneFile","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/readme.txt"},` +
		`{"Sid":"OtherBucket","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"},` +
		`{"Sid":"NotJane","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/Bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/x/*"},` +
		`{"Sid":"BucketItself","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"}]}`)
	p := mustPlan(t, st, diff.Options{})
	var got []string
	for _, w := range p.Warnings {
		if w.Kind == diff.WarnPartialDeny {
			got = append(got, w.Statement.Sid)
		}
	}
	if !slices.Equal(got, []string{"Secret", "OneFile"}) {
		t.Fatalf("partial-deny warnings for %v, want Secret and OneFile; warnings: %+v", got, p.Warnings)
	}
	// With a prefix outside the denied part, nothing to say.
	p = mustPlan(t, st, diff.Options{Prefix: "public/"})
	if slices.Contains(warningKinds(p), diff.WarnPartialDeny) {
		t.Fatalf("a deny outside the prefix was reported: %+v", p.Warnings)
	}
}
