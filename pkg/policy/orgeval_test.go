package policy

import "testing"

const (
	fullSCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	fullRCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
)

func level(t *testing.T, target string, kind Kind, docs ...string) OrgLevel {
	l := OrgLevel{Target: target}
	for i, d := range docs {
		l.Policies = append(l.Policies, Named{Name: target + " policy " + string(rune('A'+i)), Doc: parseDoc(t, kind, d)})
	}
	return l
}

func TestOrgPolicies(t *testing.T) {
	jane := Caller{ARN: "arn:aws:iam::111122223333:user/Jane", Account: "111122223333"}
	req := Request{Principal: jane, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: "111122223333",
		Context: map[string][]string{"aws:PrincipalOrgID": {"o-1"}}}
	allowAll := identity(t, "id", fullSCP)
	denyGet := `{"Version":"2012-10-17","Statement":[{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`
	onlyPut := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`
	rcpOrgOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}]}`
	tests := []struct {
		name     string
		scp, rcp []OrgLevel
		ctx      map[string][]string
		want     Decision
		limit    string // Limit.Kind + " " + Limit.Target
		deny     string // the Denies[0] document
	}{
		{name: "no organization policies", want: Allowed},
		{name: "full access at every level", want: Allowed,
			scp: []OrgLevel{level(t, "root", KindIdentity, fullSCP), level(t, "ou", KindIdentity, fullSCP), level(t, "account", KindIdentity, fullSCP)}},
		{name: "an OU without an allow", want: ImplicitlyDenied, limit: "SCP ou",
			scp: []OrgLevel{level(t, "root", KindIdentity, fullSCP), level(t, "ou", KindIdentity, onlyPut), level(t, "account", KindIdentity, fullSCP)}},
		{name: "a deny at the account", want: ExplicitlyDenied, deny: "account policy B",
			scp: []OrgLevel{level(t, "root", KindIdentity, fullSCP), level(t, "account", KindIdentity, fullSCP, denyGet)}},
		{name: "a deny beats a level without an allow", want: ExplicitlyDenied, deny: "root policy B",
			scp: []OrgLevel{level(t, "root", KindIdentity, fullSCP, denyGet), level(t, "account", KindIdentity, onlyPut)}},
		{name: "RCP keeps the organization in", want: Allowed,
			rcp: []OrgLevel{level(t, "root", KindAny, fullRCP, rcpOrgOnly)}},
		{name: "RCP keeps an outsider out", want: ExplicitlyDenied, deny: "root policy B", ctx: map[string][]string{"aws:PrincipalOrgID": {"o-2"}},
			rcp: []OrgLevel{level(t, "root", KindAny, fullRCP, rcpOrgOnly)}},
		{name: "RCP gap is reported before SCP gap", want: ImplicitlyDenied, limit: "RCP r-account",
			scp: []OrgLevel{level(t, "s-root", KindIdentity, onlyPut)},
			rcp: []OrgLevel{level(t, "r-root", KindAny, fullRCP), level(t, "r-account", KindAny, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`)}},
		{name: "a level with no policies allows nothing", want: ImplicitlyDenied, limit: "SCP empty",
			scp: []OrgLevel{{Target: "empty"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := req
			if tc.ctx != nil {
				r.Context = tc.ctx
			}
			res := Evaluate(r, Policies{Identity: []Named{allowAll}, SCP: tc.scp, RCP: tc.rcp})
			if res.Decision != tc.want {
				t.Fatalf("decision %s, want %s (%+v)", res.Decision, tc.want, res)
			}
			got := ""
			if res.Limit != nil {
				got = res.Limit.Kind + " " + res.Limit.Target
			}
			if got != tc.limit {
				t.Errorf("limit %q, want %q", got, tc.limit)
			}
			if tc.deny != "" && (len(res.Denies) == 0 || res.Denies[0].Document != tc.deny) {
				t.Errorf("denies %+v, want %s", res.Denies, tc.deny)
			}
		})
	}
}

// A statement of an organization policy that matches in action and
// resource reports the condition keys the request lacks, so a planner can
// decide over them.
func TestOrgPoliciesReportMissingKeys(t *testing.T) {
	rcp := []OrgLevel{level(t, "root", KindAny, fullRCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}]}`)}
	res := Evaluate(Request{Principal: Caller{ARN: "arn:aws:iam::111122223333:user/Jane", Account: "111122223333"}, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: "111122223333"},
		Policies{Identity: []Named{identity(t, "id", fullSCP)}, RCP: rcp})
	if len(res.MissingKeys) != 1 || res.MissingKeys[0] != "aws:principalorgid" {
		t.Fatalf("missing keys %v, want [aws:principalorgid]", res.MissingKeys)
	}
}
