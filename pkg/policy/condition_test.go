package policy

import "testing"

// cond builds a condition the way the parser does.
func cond(t *testing.T, op, key string, values ...string) Condition {
	t.Helper()
	o, err := ParseOperator(op)
	if err != nil {
		t.Fatalf("ParseOperator(%q): %v", op, err)
	}
	return Condition{Operator: op, Op: o, Key: key, Values: values}
}

type ctx = map[string][]string

func TestConditionHolds(t *testing.T) {
	vpce := ctx{"aws:SourceVpce": {"vpce-1a2b3c4d"}}
	tests := []struct {
		name   string
		op     string
		key    string
		values []string
		ctx    ctx
		want   bool
	}{
		// nil/empty: a key absent from a nil context.
		{"nil context StringEquals", "StringEquals", "aws:SourceVpce", []string{"vpce-1"}, nil, false},
		{"nil context no values", "StringEquals", "k", nil, nil, false},

		// IAM UG, condition operators: StringEquals is exact and case-sensitive.
		{"StringEquals match", "StringEquals", "aws:SourceVpce", []string{"vpce-1a2b3c4d"}, vpce, true},
		{"StringEquals case", "StringEquals", "aws:SourceVpce", []string{"VPCE-1A2B3C4D"}, vpce, false},
		// IAM UG, Condition element: key names are case-insensitive.
		{"key name case-insensitive", "StringEquals", "AWS:SOURCEVPCE", []string{"vpce-1a2b3c4d"}, vpce, true},
		// IAM UG: several values for one key are ORed.
		{"values OR", "StringEquals", "aws:SourceVpce", []string{"vpce-x", "vpce-1a2b3c4d"}, vpce, true},
		{"StringEquals star is literal", "StringEquals", "aws:SourceVpce", []string{"vpce-*"}, vpce, false},
		// IAM UG: a missing key makes a condition false…
		{"missing key false", "StringEquals", "aws:SourceVpc", []string{"vpc-1"}, vpce, false},
		// …except for negated operators, which are true (the S3 VPC endpoint example).
		{"missing key negated true", "StringNotEquals", "aws:SourceVpc", []string{"vpc-1"}, vpce, true},
		{"StringNotEquals none match", "StringNotEquals", "aws:SourceVpce", []string{"vpce-x", "vpce-y"}, vpce, true},
		// IAM UG: with several values a negated operator must match none.
		{"StringNotEquals one matches", "StringNotEquals", "aws:SourceVpce", []string{"vpce-x", "vpce-1a2b3c4d"}, vpce, false},
		{"IgnoreCase", "StringEqualsIgnoreCase", "aws:SourceVpce", []string{"VPCE-1A2B3C4D"}, vpce, true},
		{"NotEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "aws:SourceVpce", []string{"VPCE-1A2B3C4D"}, vpce, false},
		{"StringLike", "StringLike", "aws:SourceVpce", []string{"vpce-1a*"}, vpce, true},
		{"StringLike question", "StringLike", "aws:SourceVpce", []string{"vpce-1a2b3c4?"}, vpce, true},
		{"StringNotLike", "StringNotLike", "aws:SourceVpce", []string{"vpce-9*"}, vpce, true},
		// IAM UG: …IfExists makes a missing key true.
		{"IfExists missing", "StringEqualsIfExists", "aws:SourceVpc", []string{"vpc-1"}, vpce, true},
		{"IfExists present", "StringEqualsIfExists", "aws:SourceVpce", []string{"vpce-x"}, vpce, false},
		{"ArnNotEqualsIfExists missing", "ArnNotEqualsIfExists", "s3:x-amz-server-side-encryption-aws-kms-key-id", []string{"arn:aws:kms:us-east-1:1:key/k"}, nil, true},
		// IAM UG: Null true means "the key is absent".
		{"Null true absent", "Null", "s3:x-amz-server-side-encryption", []string{"true"}, nil, true},
		{"Null true present", "Null", "aws:SourceVpce", []string{"true"}, vpce, false},
		{"Null false present", "Null", "aws:SourceVpce", []string{"false"}, vpce, true},
		{"Null false absent", "Null", "aws:SourceVpc", []string{"false"}, vpce, false},
		{"several values on single key", "StringEquals", "k", []string{"a"}, ctx{"k": {"a", "b"}}, false},

		// IAM UG, multivalued keys.
		{"ForAnyValue absent", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"a"}, nil, false},
		{"ForAnyValue empty", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {}}, false},
		{"ForAnyValue one", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {"b", "a"}}, true},
		{"ForAnyValue none", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {"b", "c"}}, false},
		{"ForAnyValue IfExists absent", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", []string{"a"}, nil, false},
		{"ForAllValues absent", "ForAllValues:StringEquals", "aws:TagKeys", []string{"a"}, nil, true},
		{"ForAllValues empty", "ForAllValues:StringEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {}}, true},
		{"ForAllValues all", "ForAllValues:StringEquals", "aws:TagKeys", []string{"a", "b"}, ctx{"aws:TagKeys": {"b", "a"}}, true},
		{"ForAllValues one outside", "ForAllValues:StringEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {"a", "c"}}, false},
		{"ForAllValues negated", "ForAllValues:StringNotEquals", "aws:TagKeys", []string{"x"}, ctx{"aws:TagKeys": {"a", "c"}}, true},
		{"ForAnyValue negated", "ForAnyValue:StringNotEquals", "aws:TagKeys", []string{"a"}, ctx{"aws:TagKeys": {"a", "c"}}, true},

		// Numeric.
		{"NumericLessThan", "NumericLessThan", "s3:max-keys", []string{"10"}, ctx{"s3:max-keys": {"9"}}, true},
		{"NumericLessThan equal", "NumericLessThan", "s3:max-keys", []string{"10"}, ctx{"s3:max-keys": {"10"}}, false},
		{"NumericLessThanEquals", "NumericLessThanEquals", "s3:max-keys", []string{"10"}, ctx{"s3:max-keys": {"10"}}, true},
		{"NumericGreaterThan decimals", "NumericGreaterThan", "n", []string{"1.5"}, ctx{"n": {"1.50001"}}, true},
		{"NumericGreaterThanEquals", "NumericGreaterThanEquals", "n", []string{"-3"}, ctx{"n": {"-3"}}, true},
		{"NumericEquals forms", "NumericEquals", "n", []string{"1.50"}, ctx{"n": {"1.5"}}, true},
		{"NumericNotEquals", "NumericNotEquals", "n", []string{"1", "2"}, ctx{"n": {"3"}}, true},
		{"NumericNotEquals hit", "NumericNotEquals", "n", []string{"1", "2"}, ctx{"n": {"2"}}, false},
		{"Numeric garbage request", "NumericEquals", "n", []string{"1"}, ctx{"n": {"one"}}, false},
		{"NumericNotEquals garbage policy", "NumericNotEquals", "n", []string{"x"}, ctx{"n": {"1"}}, false},
		{"Numeric exponent not a number", "NumericEquals", "n", []string{"1e3"}, ctx{"n": {"1000"}}, false},

		// Date: ISO 8601 and epoch seconds (aws:CurrentTime, aws:EpochTime).
		{"DateLessThan ISO", "DateLessThan", "aws:CurrentTime", []string{"2026-01-01T00:00:00Z"}, ctx{"aws:CurrentTime": {"2025-12-31T23:59:59Z"}}, true},
		{"DateLessThan ISO false", "DateLessThan", "aws:CurrentTime", []string{"2026-01-01T00:00:00Z"}, ctx{"aws:CurrentTime": {"2026-01-01T00:00:00Z"}}, false},
		{"DateGreaterThan date only", "DateGreaterThan", "aws:CurrentTime", []string{"2020-01-01"}, ctx{"aws:CurrentTime": {"2020-01-01T00:00:01Z"}}, true},
		{"DateEquals offset", "DateEquals", "aws:CurrentTime", []string{"2020-01-01T01:00:00+01:00"}, ctx{"aws:CurrentTime": {"2020-01-01T00:00:00Z"}}, true},
		{"DateEquals epoch vs ISO", "DateEquals", "aws:EpochTime", []string{"2018-05-14T06:00:00Z"}, ctx{"aws:EpochTime": {"1526277600"}}, true},
		{"DateGreaterThanEquals fraction", "DateGreaterThanEquals", "t", []string{"2020-01-01T00:00:00.5Z"}, ctx{"t": {"2020-01-01T00:00:00.500Z"}}, true},
		{"DateNotEquals", "DateNotEquals", "t", []string{"2020-01-01"}, ctx{"t": {"2020-01-02"}}, true},
		{"Date garbage", "DateEquals", "t", []string{"2020-13-01"}, ctx{"t": {"2020-13-01"}}, false},
		{"DateLessThanEquals", "DateLessThanEquals", "t", []string{"1526277600"}, ctx{"t": {"1526277600"}}, true},

		// Bool.
		{"Bool false", "Bool", "aws:SecureTransport", []string{"false"}, ctx{"aws:SecureTransport": {"false"}}, true},
		{"Bool case", "Bool", "aws:SecureTransport", []string{"FALSE"}, ctx{"aws:SecureTransport": {"false"}}, true},
		{"Bool mismatch", "Bool", "aws:SecureTransport", []string{"false"}, ctx{"aws:SecureTransport": {"true"}}, false},
		{"Bool garbage", "Bool", "aws:SecureTransport", []string{"no"}, ctx{"aws:SecureTransport": {"no"}}, false},
		{"Bool missing", "Bool", "aws:SecureTransport", []string{"false"}, nil, false},
		{"BoolIfExists missing", "BoolIfExists", "aws:MultiFactorAuthPresent", []string{"false"}, nil, true},

		// Binary: base64 text.
		{"BinaryEquals", "BinaryEquals", "k", []string{"QmluYXJ5VmFsdWU="}, ctx{"k": {"QmluYXJ5VmFsdWU="}}, true},
		{"BinaryEquals differ", "BinaryEquals", "k", []string{"QmluYXJ5VmFsdWU="}, ctx{"k": {"QmluYXJ5"}}, false},

		// IP addresses (IAM UG: IpAddress example 203.0.113.0/24, 2001:DB8:1234:5678::/64).
		{"IpAddress in", "IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, ctx{"aws:SourceIp": {"203.0.113.9"}}, true},
		{"IpAddress out", "IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, ctx{"aws:SourceIp": {"203.0.114.9"}}, false},
		{"IpAddress v6", "IpAddress", "aws:SourceIp", []string{"2001:DB8:1234:5678::/64"}, ctx{"aws:SourceIp": {"2001:db8:1234:5678::1"}}, true},
		{"IpAddress single", "IpAddress", "aws:SourceIp", []string{"203.0.113.9"}, ctx{"aws:SourceIp": {"203.0.113.9"}}, true},
		{"IpAddress family mismatch", "IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, ctx{"aws:SourceIp": {"2001:db8::1"}}, false},
		{"NotIpAddress family mismatch", "NotIpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, ctx{"aws:SourceIp": {"2001:db8::1"}}, true},
		{"NotIpAddress in", "NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/8", "203.0.113.0/24"}, ctx{"aws:SourceIp": {"203.0.113.9"}}, false},
		{"NotIpAddress out", "NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}, ctx{"aws:SourceIp": {"203.0.113.9"}}, true},
		{"NotIpAddress missing", "NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}, nil, true},
		{"IpAddress garbage request", "IpAddress", "aws:SourceIp", []string{"0.0.0.0/0"}, ctx{"aws:SourceIp": {"nope"}}, false},
		{"NotIpAddress garbage policy", "NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/33"}, ctx{"aws:SourceIp": {"1.2.3.4"}}, false},

		// ARN operators: part by part, case-sensitive.
		{"ArnLike", "ArnLike", "aws:SourceArn", []string{"arn:aws:s3:::b*"}, ctx{"aws:SourceArn": {"arn:aws:s3:::bucket"}}, true},
		{"ArnEquals wildcard", "ArnEquals", "aws:PrincipalArn", []string{"arn:aws:iam::*:role/R"}, ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/R"}}, true},
		{"ArnLike case", "ArnLike", "aws:PrincipalArn", []string{"arn:aws:iam::*:role/r"}, ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/R"}}, false},
		{"ArnNotEquals", "ArnNotEquals", "k", []string{"arn:aws:kms:us-east-1:1:key/a"}, ctx{"k": {"arn:aws:kms:us-east-1:1:key/b"}}, true},
		{"ArnNotLike malformed request", "ArnNotLike", "k", []string{"arn:aws:kms:us-east-1:1:key/a"}, ctx{"k": {"key/b"}}, false},
		{"ArnLike star alone", "ArnLike", "k", []string{"*"}, ctx{"k": {"arn:aws:s3:::b"}}, false},

		{"unknown operator", "StringEqualz", "k", []string{"a"}, ctx{"k": {"a"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Condition{Operator: tt.op, Key: tt.key, Values: tt.values}
			if op, err := ParseOperator(tt.op); err == nil {
				c.Op = op
			}
			if got := conditionHolds(&c, tt.ctx, &varSource{ctx: tt.ctx}); got != tt.want {
				t.Errorf("%s %s %q with %v = %v, want %v", tt.op, tt.key, tt.values, tt.ctx, got, tt.want)
			}
		})
	}
}

func TestConditionVariables(t *testing.T) {
	c := ctx{
		"aws:username":      {"jane"},
		"aws:userid":        {"AIDAEXAMPLE"},
		"aws:PrincipalArn":  {"arn:aws:iam::111122223333:user/jane"},
		"s3:prefix":         {"home/jane/"},
		"aws:SourceIp":      {"203.0.113.9"},
		"aws:PrincipalType": {""},
		"multi":             {"a", "b"},
	}
	tests := []struct {
		name    string
		cond    Condition
		version bool
		want    bool
	}{
		// IAM UG, policy variables: "home/${aws:username}/*" in s3:prefix.
		{"StringLike variable", cond(t, "StringLike", "s3:prefix", "home/${aws:username}/*"), true, true},
		{"variable is text under 2008", cond(t, "StringLike", "s3:prefix", "home/${aws:username}/*"), false, false},
		{"literal under 2008", cond(t, "StringEquals", "k", "${aws:username}"), false, false},
		{"StringEquals variable", cond(t, "StringEquals", "s3:prefix", "home/${aws:username}/"), true, true},
		{"variable value stays literal", cond(t, "StringLike", "aws:username", "${aws:username}"), true, true},
		{"absent variable no match", cond(t, "StringEquals", "s3:prefix", "home/${aws:PrincipalTag/x}/"), true, false},
		// An unresolvable value fails a negated operator too.
		{"absent variable negated", cond(t, "StringNotEquals", "s3:prefix", "home/${aws:PrincipalTag/x}/"), true, false},
		{"default", cond(t, "StringEquals", "s3:prefix", "home/${aws:PrincipalTag/x, 'jane'}/"), true, true},
		{"empty value takes default", cond(t, "StringEquals", "aws:username", "${aws:PrincipalType, 'jane'}"), true, true},
		{"multivalued variable", cond(t, "StringEquals", "aws:username", "${multi}"), true, false},
		{"escape star", cond(t, "StringLike", "s3:prefix", "home/${*}"), true, false},
		{"ArnEquals PrincipalArn variable", cond(t, "ArnEquals", "aws:PrincipalArn", "arn:aws:iam::111122223333:user/${aws:username}"), true, true},
		{"Bool variable", cond(t, "Bool", "k", "${aws:username}"), true, false},
		{"IpAddress takes no variables", cond(t, "IpAddress", "aws:SourceIp", "${aws:SourceIp}"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vars *varSource
			if tt.version {
				vars = &varSource{ctx: c}
			}
			if got := conditionHolds(&tt.cond, c, vars); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	good := []string{"2020", "2020-02", "2020-02-29", "2020-02-29T10:00Z", "2020-02-29T10:00:01Z",
		"2020-02-29T10:00:01.123456789Z", "2020-02-29T10:00:01-05:00", "2020-02-29T10:00:01", "0", "-5", "1526277600"}
	bad := []string{"", "2O20", "2021-02-29", "2020-1-01", "2020-01-01T", "2020-01-01T10", "2020-01-01T10:00:00Q",
		"007", "-0", "1e9", "2020-01-01 10:00:00", "2020-01-01T10:00:00+5"}
	for _, s := range good {
		if _, ok := parseDate(s); !ok {
			t.Errorf("parseDate(%q) failed", s)
		}
	}
	for _, s := range bad {
		if d, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) = %v, want failure", s, d)
		}
	}
}

func TestParseNumber(t *testing.T) {
	good := map[string]float64{"0": 0, "10": 10, "-3": -3, "+4": 4, "1.50": 1.5, ".5": 0.5, "5.": 5}
	for s, want := range good {
		if got, ok := parseNumber(s); !ok || got != want {
			t.Errorf("parseNumber(%q) = %v, %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "1e3", "0x10", "Inf", "NaN", "1_000", "1.2.3", " 1"} {
		if _, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) succeeded", s)
		}
	}
}
