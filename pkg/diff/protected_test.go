package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	ssoRole = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_DataReaders_0123456789abcdef"
	slRole  = "arn:aws:iam::111122223333:role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup"
)

func TestProtectedRoleKinds(t *testing.T) {
	for arn, want := range map[string]string{
		ssoRole: diff.ProtectedIdentityCenter,
		"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef": diff.ProtectedIdentityCenter,
		"arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef":                                diff.ProtectedIdentityCenter,
		slRole:                                  diff.ProtectedServiceLinked,
		"arn:aws:iam::111122223333:role/Loader": "",
		"arn:aws:iam::111122223333:role/team/aws-service-role/Loader":     "",
		"arn:aws:iam::111122223333:user/aws-reserved/sso.amazonaws.com/x": "",
		"not an arn": "",
	} {
		if got := diff.ProtectedRole(arn); got != want {
			t.Errorf("ProtectedRole(%s) = %q, want %q", arn, got, want)
		}
	}
}

func asRole(st *state.State, arn string) {
	pr := &st.Principals[0]
	pr.ARN, pr.ID, pr.Kind, pr.Groups = arn, "AROAEXAMPLEPROTECTED1", state.KindRole, nil
}

// In one account the bucket policy and the key policy naming the role are
// enough: bucketgrant grants there and never touches the role's policies.
func TestProtectedRoleSameAccountGrantsOnTheResourceSide(t *testing.T) {
	for _, role := range []string{ssoRole, slRole} {
		for _, keyPolicy := range []string{"console (no delegation)", "default (delegates to the account)"} {
			t.Run(lastPart(role)+" "+keyPolicy, func(t *testing.T) {
				st := load(t, sameSnap)
				asRole(st, role)
				if strings.HasPrefix(keyPolicy, "default") {
					st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
				}
				o := diff.Options{Principal: role}
				p := mustPlan(t, st, o)
				if p.Blocked() {
					t.Fatalf("blocked: %+v", p.Blockers)
				}
				if got := kinds(p); !slices.Equal(got, []string{diff.DocKeyPolicy, diff.DocBucketPolicy}) && !slices.Equal(got, []string{diff.DocBucketPolicy, diff.DocKeyPolicy}) {
					t.Fatalf("changes %v, want the key policy and the bucket policy only", got)
				}
				s := statementWith(t, change(t, p, diff.DocBucketPolicy).After, "s3:GetObject")
				if s.Principal == nil || !slices.Equal(s.Principal.AWS, []string{role}) {
					t.Errorf("bucket statement names %+v, want the role", s.Principal)
				}
				applied(t, st, p, o)
			})
		}
	}
}

// Across accounts the role's own policies must allow too: blocked, with
// the statement to add to the permission set.
func TestProtectedRoleAcrossAccountsIsBlockedWithTheStatement(t *testing.T) {
	for _, tc := range []struct{ role, hint string }{
		{ssoRole, "add this statement to the permission set DataReaders"},
		{slRole, "a service-linked role cannot be given more permissions"},
	} {
		t.Run(lastPart(tc.role), func(t *testing.T) {
			st := load(t, crossSnap)
			asRole(st, tc.role)
			p := mustPlan(t, st, diff.Options{Principal: tc.role, Prefix: "in/"})
			if !slices.Contains(blockerKinds(p), diff.BlockProtectedRole) || len(p.Changes) != 0 {
				t.Fatalf("blockers %v changes %v, want protected-role and no change", blockerKinds(p), kinds(p))
			}
			var b diff.Blocker
			for _, x := range p.Blockers {
				if x.Kind == diff.BlockProtectedRole {
					b = x
				}
			}
			for _, want := range []string{tc.hint, `"s3:GetObject"`, `"s3:ListBucket"`, `"kms:Decrypt"`, `"kms:GenerateDataKey"`, crossKey, `"arn:aws:s3:::DOC-EXAMPLE-BUCKET/in/*"`, `"s3:prefix":"in/*"`} {
				if !strings.Contains(b.Hint, want) {
					t.Errorf("hint lacks %q:\n%s", want, b.Hint)
				}
			}
		})
	}
}

func TestProtectedRoleRefusesKMSViaIdentity(t *testing.T) {
	st := load(t, sameSnap)
	asRole(st, ssoRole)
	p := mustPlan(t, st, diff.Options{Principal: ssoRole, KMSVia: diff.ViaIdentity})
	if !slices.Contains(blockerKinds(p), diff.BlockProtectedRole) {
		t.Fatalf("blockers %v, want protected-role", blockerKinds(p))
	}
}

func lastPart(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// Whatever would touch a protected role's own policies (here bucketgrant's
// KMS statement in it, left from before, naming the bucket's old key) is
// refused: no identity-side change ever reaches the plan.
func TestProtectedRoleOwnPoliciesAreNeverChanged(t *testing.T) {
	st := load(t, sameSnap)
	asRole(st, ssoRole)
	sid := diff.SidsOf(diff.GrantID{Principal: ssoRole, Bucket: bucket}, diff.PurposeKMS)[0]
	st.Principals[0].InlinePolicies = []state.NamedDoc{{Name: "bucketgrant-" + bucket, Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"` + sid +
		`","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"}]}`)}}
	p := mustPlan(t, st, diff.Options{Principal: ssoRole})
	for _, c := range p.Changes {
		if c.Document.Kind == diff.DocInlinePolicy || c.Document.Kind == diff.DocManagedPolicy || c.Attach {
			t.Fatalf("the plan changes the protected role's %s", c.Document.ID())
		}
	}
	t.Logf("changes %v, blockers %v", kinds(p), blockerKinds(p))
}
