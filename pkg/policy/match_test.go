package policy

import "testing"

func TestMatchAction(t *testing.T) {
	tests := []struct {
		name, pattern, action string
		want                  bool
	}{
		{"empty pattern and action", "", "", false},
		{"empty pattern", "", "s3:GetObject", false},
		{"star", "*", "s3:GetObject", true},
		{"double star", "**", "kms:Decrypt", true},
		{"exact", "s3:GetObject", "s3:GetObject", true},
		// IAM UG, Action element: "the prefix and the action name are case insensitive".
		{"case-insensitive name", "s3:getobject", "s3:GetObject", true},
		{"case-insensitive service", "S3:GetObject", "s3:GetObject", true},
		{"service star", "s3:*", "s3:PutObject", true},
		{"other service", "s3:*", "kms:Decrypt", false},
		// IAM UG: "iam:*AccessKey*" matches all access-key actions.
		{"infix stars", "iam:*AccessKey*", "iam:ListAccessKeys", true},
		{"prefix", "kms:Generate*", "kms:GenerateDataKey", true},
		{"prefix no match", "kms:Generate*", "kms:Decrypt", false},
		{"question mark", "s3:?etObject", "s3:GetObject", true},
		{"question mark needs a char", "s3:GetObject?", "s3:GetObject", false},
		{"no colon", "s3GetObject", "s3:GetObject", false},
		{"empty name", "s3:", "s3:GetObject", false},
		{"white space in name", "s3:Get Object", "s3:GetObject", false},
		{"no wildcard in service", "s*:GetObject", "s3:GetObject", false},
		{"action without colon", "s3:*", "s3", false},
		{"longer action", "s3:GetObject", "s3:GetObjectAcl", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchAction(tt.pattern, tt.action); got != tt.want {
				t.Errorf("MatchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
			}
		})
	}
}

func TestMatchResource(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"
	tests := []struct {
		name, pattern, arn string
		want               bool
	}{
		{"nil/empty", "", "", false},
		{"empty pattern", "", "arn:aws:s3:::b/k", false},
		{"star matches anything", "*", "arn:aws:s3:::b/k", true},
		{"star matches malformed", "*", "not an arn", true},
		{"exact bucket", "arn:aws:s3:::b", "arn:aws:s3:::b", true},
		{"bucket is not its objects", "arn:aws:s3:::b", "arn:aws:s3:::b/k", false},
		{"objects", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", true},
		{"objects not bucket", "arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		// IAM UG, Resource element: "bucket/*/test/*" — * crosses "/".
		{"star crosses slash", "arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/x/y/test/z", true},
		{"star crosses slash, no test", "arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/x/y/z", false},
		{"question mark", "arn:aws:s3:::b?", "arn:aws:s3:::b1", true},
		{"resource id case-sensitive", "arn:aws:s3:::B/*", "arn:aws:s3:::b/k", false},
		{"object key case-sensitive", "arn:aws:s3:::b/Key", "arn:aws:s3:::b/key", false},
		{"region wildcard", "arn:aws:kms:*:111122223333:key/*", key, true},
		{"account wildcard", "arn:aws:kms:us-east-1:*:key/*", key, true},
		{"wrong account", "arn:aws:kms:us-east-1:444455556666:key/*", key, false},
		{"star in segment stays in segment", "arn:aws:kms:*:key/*", key, false},
		{"key exact", key, key, true},
		{"alias is not the key", "arn:aws:kms:us-east-1:111122223333:alias/x", key, false},
		{"resource part with colons", "arn:aws:logs:us-east-1:111122223333:log-group:g:*", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", true},
		// IAM UG, Resource element, incorrect wildcard use: arn:aws:iam::123456789012:u*.
		{"wildcard in type prefix", "arn:aws:kms:us-east-1:111122223333:*/111aa2bb-333c-4d44-5555-a111bb2c33dd", key, false},
		{"trailing star over the type", "arn:aws:kms:us-east-1:111122223333:*", key, true},
		{"short pattern padded", "arn:aws:kms", key, true},
		{"short pattern other service", "arn:aws:s3", key, false},
		{"not an arn pattern", "bucket/*", "arn:aws:s3:::bucket/k", false},
		{"malformed request", "arn:aws:s3:::b/*", "arn:aws:s3", false},
		{"variable is text without version", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/${aws:username}/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchResource(tt.pattern, tt.arn); got != tt.want {
				t.Errorf("MatchResource(%q, %q) = %v, want %v", tt.pattern, tt.arn, got, tt.want)
			}
		})
	}
}

func TestMatchResourceInResourcePolicy(t *testing.T) {
	// A short pattern without a wildcard names nothing in a resource policy.
	if got := matchResource("arn:aws:s3:::", "arn:aws:s3:::b", true, nil); got != resNoMatch {
		t.Errorf("short pattern without wildcard = %v, want no match", got)
	}
	if got := matchResource("arn:aws:s3*", "arn:aws:s3:::b", true, nil); got != resMatch {
		t.Errorf("short pattern with wildcard = %v, want match", got)
	}
}

func TestMatchResourceVariables(t *testing.T) {
	vars := &varSource{ctx: map[string][]string{"aws:username": {"jane"}, "aws:userid": {"AIDAEXAMPLE"}}}
	tests := []struct {
		name, pattern, arn string
		want               resResult
	}{
		// IAM UG, policy variables: arn:aws:s3:::bucket/home/${aws:username}/*.
		{"username", "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::b/home/jane/f", resMatch},
		{"other user", "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::b/home/bob/f", resNoMatch},
		{"key case-insensitive", "arn:aws:s3:::b/${AWS:UserName}", "arn:aws:s3:::b/jane", resMatch},
		{"absent variable", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:s3:::b/x/f", resUnknown},
		{"default", "arn:aws:s3:::b/${aws:PrincipalTag/team, 'all'}/*", "arn:aws:s3:::b/all/f", resMatch},
		{"escaped star is literal", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", resMatch},
		{"escaped star is not a wildcard", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", resNoMatch},
		{"escaped question mark", "arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", resMatch},
		{"escaped dollar", "arn:aws:s3:::b/${$}", "arn:aws:s3:::b/$", resMatch},
		{"unclosed is text", "arn:aws:s3:::b/${aws:username", "arn:aws:s3:::b/${aws:username", resMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchResource(tt.pattern, tt.arn, false, vars); got != tt.want {
				t.Errorf("matchResource(%q, %q) = %v, want %v", tt.pattern, tt.arn, got, tt.want)
			}
		})
	}
}

func TestMatchArn(t *testing.T) {
	tests := []struct {
		name, pattern, value string
		want                 bool
	}{
		{"nil/empty", "", "", false},
		{"exact", "arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/R", true},
		{"wildcard account", "arn:aws:iam::*:role/R", "arn:aws:iam::111122223333:role/R", true},
		{"case-sensitive", "arn:aws:iam::111122223333:role/r", "arn:aws:iam::111122223333:role/R", false},
		{"star alone is not six parts", "*", "arn:aws:iam::111122223333:role/R", false},
		{"short value", "arn:aws:iam::*:*", "arn:aws:iam", false},
		{"resource with colons", "arn:aws:logs:*:*:log-group:*", "arn:aws:logs:us-east-1:1:log-group:g:x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchArn(tt.pattern, tt.value); got != tt.want {
				t.Errorf("MatchArn(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"é?", "éü", false, true},
		{"É", "é", true, true},
		{"K", "\u212a", true, true}, // Kelvin sign folds to k
		{"?", "", false, false},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("glob(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	janeARN = "arn:aws:iam::111122223333:user/Jane"
	janeID  = "AIDAEXAMPLEJANE000001"
	roleARN = "arn:aws:iam::111122223333:role/Reader"
	roleID  = "AROAEXAMPLEREADER0001"
	sessARN = "arn:aws:sts::111122223333:assumed-role/Reader/s1"
)

var (
	jane    = Caller{ARN: janeARN, Account: acctA, UniqueID: janeID}
	role    = Caller{ARN: roleARN, Account: acctA, UniqueID: roleID}
	session = Caller{ARN: sessARN, Account: acctA, UniqueID: roleID}
	bobB    = Caller{ARN: "arn:aws:iam::444455556666:user/Bob", Account: acctB}
)

func aws(v ...string) *Principal { return &Principal{AWS: v} }

func TestMatchPrincipal(t *testing.T) {
	tests := []struct {
		name string
		p    *Principal
		c    Caller
		want PrincipalMatch
	}{
		{"nil/empty principal", nil, jane, PrincipalNoMatch},
		{"empty caller", aws(janeARN), Caller{}, PrincipalNoMatch},
		{"empty principal", &Principal{}, jane, PrincipalNoMatch},
		// IAM UG, Principal element: "*" and {"AWS":"*"} mean everyone.
		{"star", &Principal{Star: true}, jane, PrincipalWildcard},
		{"AWS star", aws("*"), jane, PrincipalWildcard},
		// IAM UG: an account ID is shorthand for arn:aws:iam::ACCT:root and means the account.
		{"account id", aws(acctA), jane, PrincipalAccount},
		{"root arn", aws("arn:aws:iam::111122223333:root"), jane, PrincipalAccount},
		{"other account", aws(acctB), jane, PrincipalNoMatch},
		{"user arn", aws(janeARN), jane, PrincipalDirect},
		// IAM UG: user names in principal ARNs are case sensitive.
		{"user arn other case", aws("arn:aws:iam::111122223333:user/jane"), jane, PrincipalNoMatch},
		{"user unique id", aws(janeID), jane, PrincipalDirect},
		{"other unique id", aws("AIDAOTHER"), jane, PrincipalNoMatch},
		{"unique id unknown caller id", aws(janeID), Caller{ARN: janeARN, Account: acctA}, PrincipalNoMatch},
		// IAM UG: no partial wildcards in principal ARNs.
		{"partial wildcard", aws("arn:aws:iam::111122223333:user/*"), jane, PrincipalNoMatch},
		{"service never matches", &Principal{Service: []string{"s3.amazonaws.com"}}, jane, PrincipalNoMatch},
		{"federated never matches", &Principal{Federated: []string{"cognito-identity.amazonaws.com"}}, jane, PrincipalNoMatch},
		{"canonical user never matches", &Principal{CanonicalUser: []string{"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}}, jane, PrincipalNoMatch},
		{"role arn for role", aws(roleARN), role, PrincipalDirect},
		// IAM UG: a role principal covers the role's sessions.
		{"role arn for session", aws(roleARN), session, PrincipalRole},
		{"role arn with path for session", aws("arn:aws:iam::111122223333:role/team/Reader"), session, PrincipalRole},
		{"role of other account", aws("arn:aws:iam::444455556666:role/Reader"), session, PrincipalNoMatch},
		{"session arn", aws(sessARN), session, PrincipalDirect},
		{"other session", aws("arn:aws:sts::111122223333:assumed-role/Reader/s2"), session, PrincipalNoMatch},
		{"role id for session", aws(roleID), session, PrincipalRole},
		{"best of several", aws(acctA, janeARN), jane, PrincipalDirect},
		{"malformed caller", aws(janeARN), Caller{ARN: "garbage"}, PrincipalNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchPrincipal(tt.p, tt.c); got != tt.want {
				t.Errorf("MatchPrincipal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNotPrincipalExemption(t *testing.T) {
	tests := []struct {
		name string
		p    *Principal
		c    Caller
		want bool
	}{
		{"nil/empty", nil, jane, false},
		{"star exempts all", &Principal{Star: true}, jane, true},
		// IAM UG, NotPrincipal: the Bob example lists his ARN and his account's ARN.
		{"user and account", aws(janeARN, "arn:aws:iam::111122223333:root"), jane, true},
		{"user without account", aws(janeARN), jane, false},
		{"account exempts only the account", aws(acctA), jane, false},
		{"other user", aws("arn:aws:iam::111122223333:user/Bob", acctA), jane, false},
		// IAM UG, NotPrincipal: a session needs its session ARN, role ARN and account.
		{"session, role and account", aws(sessARN, roleARN, acctA), session, true},
		{"session without role", aws(sessARN, acctA), session, false},
		{"role without session", aws(roleARN, acctA), session, false},
		{"role caller", aws(roleARN, acctA), role, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCaller(tt.c)
			if got := c.exemptedByNotPrincipal(tt.p); got != tt.want {
				t.Errorf("exemptedByNotPrincipal = %v, want %v", got, tt.want)
			}
		})
	}
}
