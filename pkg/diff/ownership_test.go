package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const bob = "arn:aws:iam::111122223333:user/Bob"

// A statement that carries Jane's Sid but also names Bob is not
// bucketgrant's: extending it would give Bob the grant too. The plan writes
// Jane's own statement beside it, warns, and revoke leaves it alone.
func TestForeignStatementWithOwnSidIsNeverExtended(t *testing.T) {
	st := load(t, crossSnap)
	sid := diff.SidFor(jane, bucket, "", "Objects")
	foreign := `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":["` + jane + `","` + bob + `"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}`
	st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[` + foreign + `]}`)
	o := diff.Options{}
	p := mustPlan(t, st, o)
	if p.Blocked() {
		t.Fatalf("blocked: %v", p.Blockers)
	}
	if !slices.Contains(warningKinds(p), diff.WarnForeignSid) {
		t.Errorf("no foreign-sid warning: %v", warningKinds(p))
	}
	c := change(t, p, diff.DocBucketPolicy)
	for _, s := range c.Statements {
		if s.Sid == sid {
			t.Errorf("the statement that names Bob too was changed: %+v", s)
		}
	}
	if got := statementText(t, c.After, 0); got != foreign {
		t.Errorf("someone else's statement lost its bytes:\n%s", got)
	}
	after := applied(t, st, p, o) // trust property: Bob gains nothing

	rv, err := diff.Revoke(after, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil || rv.Blocked() {
		t.Fatalf("revoke: %v %v", err, rv.Blockers)
	}
	back := clone(t, after)
	if err := apply.ToState(back, rv); err != nil {
		t.Fatal(err)
	}
	if back.Buckets[0].Policy == nil || !strings.Contains(back.Buckets[0].Policy.String(), foreign) {
		t.Fatalf("revoke removed or changed the statement that is not bucketgrant's:\n%v", back.Buckets[0].Policy)
	}
	if !slices.Contains(warningKinds(rv), diff.WarnForeignSid) {
		t.Errorf("revoke did not say why it left the statement: %v", warningKinds(rv))
	}
}

// Each shape that makes a statement more than bucketgrant's is refused as
// bucketgrant's, and the exact statement bucketgrant writes is accepted.
func TestOwnedRule(t *testing.T) {
	g := diff.GrantID{Principal: jane, Bucket: bucket, Prefix: "reports/"}
	sid := diff.SidFor(jane, bucket, "reports/", "Objects")
	listSid := diff.SidFor(jane, bucket, "reports/", "List")
	own := `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"` + jane + `"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/*"}`
	tests := []struct {
		name, stmt string
		owned      bool
	}{
		{"what bucketgrant writes", own, true},
		{"another principal too", strings.Replace(own, `"`+jane+`"`, `["`+jane+`","`+bob+`"]`, 1), false},
		{"everyone", strings.Replace(own, `{"AWS":"`+jane+`"}`, `"*"`, 1), false},
		{"the whole bucket", strings.Replace(own, "reports/*", "*", 1), false},
		{"another action", strings.Replace(own, `"s3:PutObject"`, `"s3:DeleteObject"`, 1), false},
		{"a wildcard action", strings.Replace(own, `"s3:PutObject"`, `"s3:*"`, 1), false},
		{"a condition someone added", own[:len(own)-1] + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, false},
		{"a Deny", strings.Replace(own, `"Allow"`, `"Deny"`, 1), false},
		{"NotResource", strings.Replace(own, `"Resource"`, `"NotResource"`, 1), false},
		{"another Sid", strings.Replace(own, sid, sid+"x", 1), false},
		{"the next Sid of the grant", strings.Replace(own, sid, sid+"v2", 1), true},
		{"list with the prefix condition", `{"Sid":"` + listSid + `","Effect":"Allow","Principal":{"AWS":"` + jane + `"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET","Condition":{"StringLike":{"s3:prefix":"reports/*"}}}`, true},
		{"list without the prefix condition", `{"Sid":"` + listSid + `","Effect":"Allow","Principal":{"AWS":"` + jane + `"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := policy.ParseString(`{"Version":"2012-10-17","Statement":[`+tt.stmt+`]}`, policy.KindBucketPolicy)
			if err != nil {
				t.Fatal(err)
			}
			_, owned := diff.OwnedPurpose(d.Statements()[0], policy.KindBucketPolicy, g)
			if owned != tt.owned {
				t.Errorf("owned = %v, want %v for %s", owned, tt.owned, tt.stmt)
			}
		})
	}
}

// A Deny whose NotPrincipal names only a deleted principal denies everyone:
// removing it (or emptying it) would lift the deny, so it is a blocker,
// even with --remove-orphaned-principals. With another principal beside
// the orphan, only the orphan's ID goes.
func TestOrphanInDenyIsNeverRemoved(t *testing.T) {
	st := load(t, crossSnap)
	st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOps","Effect":"Deny","NotPrincipal":{"AWS":"AIDAORPHANEDUSER00001"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	p := mustPlan(t, st, diff.Options{RemoveOrphanedPrincipals: true})
	if !slices.Contains(blockerKinds(p), diff.BlockOrphanDeny) || !p.Empty() {
		t.Fatalf("blockers %v, %d changes", blockerKinds(p), len(p.Changes))
	}
	if !strings.Contains(p.Blockers[0].Message, "denies everyone") {
		t.Errorf("the blocker does not explain: %s", p.Blockers[0].Message)
	}

	st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOps","Effect":"Deny","NotPrincipal":{"AWS":["AIDAORPHANEDUSER00001","arn:aws:iam::123456789098:root"]},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"}]}`)
	o := diff.Options{RemoveOrphanedPrincipals: true}
	p = mustPlan(t, st, o)
	if p.Blocked() {
		t.Fatalf("blocked: %v", p.Blockers)
	}
	after := change(t, p, diff.DocBucketPolicy).After
	if strings.Contains(after, "AIDAORPHANEDUSER00001") || !strings.Contains(after, `"Sid":"OnlyOps","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789098:root"}`) {
		t.Errorf("the deny was not kept with only the orphan removed:\n%s", after)
	}
	applied(t, st, p, o)
}

// Revoke finds a deleted principal's statements when the operator names it
// without its path: IAM names are unique in an account, paths are not part
// of identity.
func TestRevokeDeletedPrincipalWithoutPath(t *testing.T) {
	st := load(t, crossSnap)
	withPath := "arn:aws:iam::111122223333:user/team/Jane"
	st.Principals[0].ARN = withPath
	p := mustPlan(t, st, diff.Options{Principal: withPath})
	after := applied(t, st, p, diff.Options{Principal: withPath})
	after.Principals = nil // deleted
	rv, err := diff.Revoke(after, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil || rv.Blocked() {
		t.Fatalf("revoke: %v %v", err, rv.Blockers)
	}
	back := clone(t, after)
	if err := apply.ToState(back, rv); err != nil {
		t.Fatal(err)
	}
	if k := back.Keys[0].Policy.String(); k != st.Keys[0].Policy.String() {
		t.Errorf("the key policy still holds the grant:\n%s", k)
	}
	if back.Buckets[0].Policy != nil {
		t.Errorf("the bucket policy still holds the grant:\n%s", back.Buckets[0].Policy)
	}
}

// After the bucket's default key changes, the grant's identity-side KMS
// statement names the new key too (objects written before still need the
// old one), and the new key's policy gets the grant: never "blocked".
func TestRekeyedBucket(t *testing.T) {
	st := load(t, crossSnap)
	o := diff.Options{}
	after := applied(t, st, mustPlan(t, st, o), o)

	newKey := "arn:aws:kms:us-east-1:123456789098:key/22222222-3333-4444-5555-666666666666"
	k := st.Keys[0] // the key policy as it was before the grant
	k.ARN = newKey
	k.Aliases = nil
	after.Keys = append(after.Keys, k)
	after.Buckets[0].Encryption.KMSMasterKeyID = newKey

	p := mustPlan(t, after, o)
	if p.Blocked() {
		t.Fatalf("a re-keyed bucket is blocked: %v", p.Blockers)
	}
	id := change(t, p, diff.DocInlinePolicy)
	s := statementWith(t, id.After, "kms:Decrypt")
	if !slices.Contains(s.Resource.Values, crossKey) || !slices.Contains(s.Resource.Values, newKey) {
		t.Errorf("identity KMS statement names %v, want the old and the new key", s.Resource.Values)
	}
	if !slices.Contains(warningKinds(p), diff.WarnOldKey) {
		t.Errorf("the plan does not say the old key stays granted: %v", warningKinds(p))
	}
	kc := change(t, p, diff.DocKeyPolicy)
	if kc.Document.ARN != newKey {
		t.Errorf("key policy change for %s, want the new key", kc.Document.ARN)
	}
	applied(t, after, p, o)
}

// In one account a bucket-policy statement that names a user is not
// limited by the user's permissions boundary (aws-facts.md §3): a user whose
// boundary lacks the S3 actions gets the S3 grant in the bucket policy,
// naming the user, instead of a blocker.
func TestBoundaryUserGetsBucketPolicy(t *testing.T) {
	st := load(t, sameSnap)
	st.Principals[0].PermissionsBoundary = &state.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/OnlyIAM",
		Document: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)}
	o := diff.Options{}
	p := mustPlan(t, st, o)
	if p.Blocked() {
		t.Fatalf("blocked: %v", p.Blockers)
	}
	b := change(t, p, diff.DocBucketPolicy)
	s := statementWith(t, b.After, "s3:GetObject")
	if s.Principal == nil || !slices.Equal(s.Principal.AWS, []string{jane}) {
		t.Errorf("bucket policy statement names %v, want Jane", s.Principal)
	}
	for _, c := range p.Changes {
		if c.Document.Kind == diff.DocInlinePolicy || c.Document.Kind == diff.DocManagedPolicy {
			t.Errorf("an identity policy the boundary cuts was changed: %s", c.Document.ID())
		}
	}
	applied(t, st, p, o)
}

// Bucket in the principal's account, key in a third account: S3 is a
// same-account grant (identity policy), KMS a cross-account one (the key
// policy and the identity policy).
func TestKeyInThirdAccount(t *testing.T) {
	st := load(t, sameSnap)
	third := "arn:aws:kms:us-east-1:444455556666:key/33333333-4444-5555-6666-777777777777"
	st.Keys[0].ARN = third
	st.Keys[0].Aliases = nil
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}]}`)
	st.Buckets[0].Encryption.KMSMasterKeyID = third
	o := diff.Options{}
	p := mustPlan(t, st, o)
	if p.Blocked() {
		t.Fatalf("blocked: %v", p.Blockers)
	}
	if p.Subject.CrossAccount || p.Subject.KeyAccount != "444455556666" {
		t.Errorf("subject %+v", p.Subject)
	}
	k := statementWith(t, change(t, p, diff.DocKeyPolicy).After, "kms:Decrypt")
	if !slices.Equal(k.Principal.AWS, []string{jane}) {
		t.Errorf("key policy names %v", k.Principal.AWS)
	}
	id := change(t, p, diff.DocInlinePolicy)
	ks := statementWith(t, id.After, "kms:Decrypt")
	if !slices.Contains(ks.Resource.Values, third) {
		t.Errorf("identity KMS statement on %v, want the third-account key", ks.Resource.Values)
	}
	for _, c := range p.Changes {
		if c.Document.Kind == diff.DocBucketPolicy {
			t.Errorf("a same-account bucket's policy was changed")
		}
	}
	applied(t, st, p, o)
}

// A session ARN is evaluated as that session: its name is in aws:userid
// and in the caller's ARN, so a policy that tests it decides differently
// for another session; the plan says so.
func TestSessionARNIsTheSessionEvaluated(t *testing.T) {
	st := load(t, crossSnap)
	st.Principals[0].ARN = "arn:aws:iam::111122223333:role/team/Uploader"
	st.Principals[0].ID = "AROAEXAMPLEUPLOADER01"
	st.Principals[0].Kind = state.KindRole
	st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"OnlyAlice","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"StringNotLike":{"aws:userid":"AROAEXAMPLEUPLOADER01:alice"}}}]}`)
	alice := mustPlan(t, st, diff.Options{Principal: "arn:aws:sts::111122223333:assumed-role/Uploader/alice"})
	if slices.Contains(blockerKinds(alice), diff.BlockExplicitDeny) {
		t.Errorf("alice's session is denied: %v", alice.Blockers)
	}
	if !slices.Contains(warningKinds(alice), diff.WarnSession) {
		t.Errorf("no warning that other sessions may differ: %v", warningKinds(alice))
	}
	bob := mustPlan(t, st, diff.Options{Principal: "arn:aws:sts::111122223333:assumed-role/Uploader/bob"})
	if !slices.Contains(blockerKinds(bob), diff.BlockExplicitDeny) {
		t.Errorf("bob's session is not denied: %v", bob.Blockers)
	}
}
