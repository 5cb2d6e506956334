package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Principal tags, once read, are facts for a user: conditions on
// aws:PrincipalTag/* are decided. For a role they stay unknown (a session
// tag replaces a role tag of the same key) and the verdict says so.
func TestPrincipalTags(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/Loader"
	teamDeny := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"data"}}}]}`
	for _, tc := range []struct {
		name      string
		principal string
		tags      []state.Tag
		// want: "works" (not blocked, no condition), "blocked", or
		// "depends" (a condition naming the phrase)
		want, phrase string
	}{
		{"user tagged as the policy wants", jane, []state.Tag{{Key: "team", Value: "data"}}, "works", ""},
		{"tag keys compare without case", jane, []state.Tag{{Key: "Team", Value: "data"}}, "works", ""},
		{"user tagged otherwise", jane, []state.Tag{{Key: "team", Value: "web"}}, "blocked", ""},
		{"user read without tags", jane, []state.Tag{}, "blocked", ""},
		{"user whose tags were not read", jane, nil, "depends", "aws:PrincipalTag/team = data"},
		{"role tagged: session tags can still replace it", role, []state.Tag{{Key: "team", Value: "data"}}, "depends", "the role's own tags: team = data; session tags replace"},
		{"role without the tag", role, []state.Tag{}, "depends", "team no such tag"},
		{"role whose tags were not read", role, nil, "depends", "the role's tags were not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, crossSnap)
			st.Buckets[0].Policy = state.NewDoc(teamDeny)
			pr := &st.Principals[0]
			pr.Tags = tc.tags
			if tc.principal == role {
				pr.ARN, pr.ID, pr.Kind, pr.Groups = role, "AROAEXAMPLELOADER0001", state.KindRole, nil
			}
			o := diff.Options{Principal: tc.principal, Now: probeNow}
			p := mustPlan(t, st, o)
			var conds []string
			for _, r := range p.Requests {
				if r.Condition != "" {
					conds = append(conds, r.Condition)
				}
			}
			switch tc.want {
			case "works":
				if p.Blocked() || len(conds) > 0 {
					t.Fatalf("want a decided grant, got blockers %v conditions %v", blockerKinds(p), conds)
				}
				// The oracle (iam-simulate) judges the merged documents
				// with the tag in the request context, as the plan's
				// requests carry it.
				applied(t, st, p, o)
			case "blocked":
				if !slices.Contains(blockerKinds(p), diff.BlockExplicitDeny) {
					t.Fatalf("want an explicit-deny blocker, got %v conditions %v", blockerKinds(p), conds)
				}
			case "depends":
				if p.Blocked() || len(conds) == 0 || !strings.Contains(strings.ToLower(strings.Join(conds, "\n")), strings.ToLower(tc.phrase)) {
					t.Fatalf("want a condition naming %q, got blockers %v conditions %v", tc.phrase, blockerKinds(p), conds)
				}
			}
		})
	}
}

// A tag used as a policy variable is substituted once read: the grant's
// objects under the user's team prefix are covered, the others not.
func TestPrincipalTagVariable(t *testing.T) {
	st := load(t, sameSnap)
	st.Principals[0].Tags = []state.Tag{{Key: "team", Value: "data"}}
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "team",
		Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/${aws:PrincipalTag/team}/*"}]}`)})
	st.Keys[0].Grants = []state.Grant{grant("g-dec", jane, "Decrypt")}
	for _, tc := range []struct {
		prefix string
		want   policy.Decision
	}{{"data/", policy.Allowed}, {"web/", policy.ImplicitlyDenied}} {
		p := mustPlan(t, st, diff.Options{Access: []diff.Level{diff.Read}, Prefix: tc.prefix, Now: probeNow})
		if r := kmsRequest(t, p, "s3:GetObject"); r.Before != tc.want || r.Condition != "" {
			t.Errorf("prefix %s: GetObject %s (condition %q), want %s", tc.prefix, r.Before, r.Condition, tc.want)
		}
	}
}
