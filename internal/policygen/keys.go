package policygen

import (
	"slices"
	"strings"
)

// keyKind is how a condition key's values compare.
type keyKind int

const (
	kString keyKind = iota
	kBool
	kNumeric
	kDate
	kIP
	kARN
	kBinary
	kMulti // multi-valued string key: only with ForAnyValue:/ForAllValues:
)

// condKey describes one condition key of the universe: the values policies
// test against and the values requests carry.
type condKey struct {
	name    string
	kind    keyKind
	policy  []string // policy values; a "#" prefix marks a JSON number, "!" a JSON boolean
	request []string
	// fromCaller keys describe the caller and are always in the request,
	// as AWS always sets them (the oracle fills no keys by itself).
	fromCaller bool
}

var condKeys = []condKey{
	{name: "aws:SecureTransport", kind: kBool, policy: []string{"!true", "!false", "true", "false"}, request: []string{"true", "false"}},
	{name: "aws:SourceVpce", kind: kString, policy: []string{"vpce-1a2b3c4d", "vpce-9z8y7x6w", "vpce-1*", "VPCE-1A2B3C4D"}, request: []string{"vpce-1a2b3c4d", "vpce-9z8y7x6w", "vpce-55555555"}},
	{name: "aws:PrincipalOrgID", kind: kString, policy: []string{"o-abc123def4", "o-zzz999yyy8", "o-abc*", "o-???999yyy8"}, request: []string{"o-abc123def4", "o-zzz999yyy8"}},
	{name: "s3:x-amz-server-side-encryption", kind: kString, policy: []string{"aws:kms", "AES256", "aws:kms:dsse", "aws:*"}, request: []string{"aws:kms", "AES256", "aws:kms:dsse"}},
	{name: "kms:ViaService", kind: kString, policy: []string{"s3.us-east-1.amazonaws.com", "s3.*.amazonaws.com", "ec2.us-east-1.amazonaws.com"}, request: []string{"s3.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com", "S3.us-east-1.amazonaws.com"}},
	{name: "aws:SourceIp", kind: kIP, policy: []string{"10.0.0.0/8", "192.0.2.0/24", "203.0.113.5", "203.0.113.0/28", "2001:db8::/32", "128.0.0.0/1"}, request: []string{"10.1.2.3", "192.0.2.44", "203.0.113.5", "198.51.100.7", "2001:db8::1"}},
	{name: "aws:CurrentTime", kind: kDate, policy: []string{"2024-01-01T00:00:00Z", "2025-06-01T12:00:00Z", "2026-01-01", "2025-03-15T10:00:00Z", "2025-03-15T12:00:00+02:00", "2026-01-01T00:00:00.000Z"}, request: []string{"2025-03-15T10:00:00Z", "2023-07-01T00:00:00Z", "2026-06-30T23:59:59Z", "2026-01-01T00:00:00Z"}},
	{name: "aws:PrincipalTag/team", kind: kString, policy: []string{"blue", "red", "Blue", "b*"}, request: []string{"blue", "red", "green", "Blue"}},
	{name: "aws:PrincipalTag/blob", kind: kBinary, policy: []string{"QmluYXJ5VmFsdWU=", "T3RoZXJWYWx1ZQ=="}, request: []string{"QmluYXJ5VmFsdWU=", "T3RoZXJWYWx1ZQ=="}},
	{name: "s3:max-keys", kind: kNumeric, policy: []string{"#10", "#100", "1000", "#2.5", "#-1", "50"}, request: []string{"5", "10", "100", "1000"}},
	{name: "aws:TagKeys", kind: kMulti, policy: []string{"env", "team", "cost", "Owner", "t*", "*"}, request: []string{"env", "team", "cost", "owner"}},
	{name: "aws:PrincipalArn", kind: kARN, fromCaller: true, policy: []string{
		"arn:aws:iam::111122223333:user/*", "arn:aws:iam::*:role/Reader", "arn:aws:iam::444455556666:user/Jane",
		"arn:aws:iam::*:user/Bob", "arn:aws:iam::111122223333:*", "$arn:aws:iam::${aws:PrincipalAccount}:user/*",
	}},
	{name: "aws:PrincipalAccount", kind: kString, fromCaller: true, policy: []string{AccountA, AccountB, AccountC, "$${aws:PrincipalAccount}", "1111*"}},
	{name: "aws:username", kind: kString, fromCaller: true, policy: []string{"Jane", "Bob", "jane", "J*", "$${aws:username}"}},
	{name: "aws:userid", kind: kString, fromCaller: true, policy: []string{"AIDA*", "AROA*:s1", "*:s2", "$${aws:userid}"}},
}

// FromCaller reports whether a context key describes the caller (and so is
// always present; shrinking keeps it).
func FromCaller(key string) bool {
	for _, k := range condKeys {
		if k.fromCaller && strings.EqualFold(k.name, key) {
			return true
		}
	}
	return false
}

func (b *builder) context() {
	c := b.c
	ctx := c.Context
	for _, k := range condKeys {
		if k.fromCaller {
			continue
		}
		if !b.chance(0.55) {
			continue
		}
		name := k.name
		if b.chance(0.1) {
			// Request keys compare case-insensitively too.
			name = strings.ToLower(name)
		}
		if k.kind == kMulti {
			n := 1 + b.intn(3)
			var vs []string
			for len(vs) < n {
				v := pick(b, k.request)
				if !slices.Contains(vs, v) {
					vs = append(vs, v)
				}
			}
			ctx[name] = vs
			continue
		}
		ctx[name] = []string{pick(b, k.request)}
	}
	if c.Caller.RoleARN != "" {
		ctx["aws:PrincipalArn"] = []string{c.Caller.RoleARN}
		ctx["aws:userid"] = []string{c.Caller.UniqueID + ":" + c.Caller.ARN[strings.LastIndex(c.Caller.ARN, "/")+1:]}
	} else {
		ctx["aws:PrincipalArn"] = []string{c.Caller.ARN}
		ctx["aws:username"] = []string{c.Caller.User}
		ctx["aws:userid"] = []string{c.Caller.UniqueID}
	}
	ctx["aws:PrincipalAccount"] = []string{c.Caller.Account}
}

var opsByKind = map[keyKind][]string{
	kString:  {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"},
	kBool:    {"Bool", "Bool", "Bool", "StringEquals", "StringNotEquals"},
	kNumeric: {"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "StringEquals", "StringLike"},
	kDate:    {"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"},
	kIP:      {"IpAddress", "NotIpAddress"},
	kARN:     {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "StringLike", "StringEquals"},
	kBinary:  {"BinaryEquals"},
	kMulti:   {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase"},
}

func (b *builder) conditions() []Cond {
	var conds []Cond
	nOps := 1 + b.intn(2)
	if b.chance(0.15) {
		nOps = 3
	}
	for i := 0; i < nOps; i++ {
		nKeys := 1
		if b.chance(0.25) {
			nKeys = 2
		}
		for j := 0; j < nKeys; j++ {
			op, key := b.condition()
			ci := slices.IndexFunc(conds, func(c Cond) bool { return c.Op == op })
			if ci < 0 {
				conds = append(conds, Cond{Op: op})
				ci = len(conds) - 1
			}
			if slices.ContainsFunc(conds[ci].Keys, func(k CondKey) bool { return strings.EqualFold(k.Key, key.Key) }) {
				continue
			}
			conds[ci].Keys = append(conds[ci].Keys, key)
		}
	}
	return conds
}

func (b *builder) condition() (string, CondKey) {
	k := pick(b, condKeys)
	if k.name == "aws:username" && b.c.Caller.User == "" && b.chance(0.5) {
		k = condKeys[0]
	}
	name := k.name
	if b.chance(0.15) {
		// Key names compare case-insensitively.
		name = strings.ToUpper(name[:1]) + strings.ToLower(name[1:])
		if b.chance(0.5) {
			name = strings.ToUpper(name)
		}
	}
	if b.chance(0.1) {
		// Null tests presence.
		v := pick(b, []string{"!true", "!false", "true", "false"})
		return "Null", CondKey{Key: name, Value: Value{Items: []Scalar{scalar(v)}, Single: b.chance(0.8)}}
	}
	op := pick(b, opsByKind[k.kind])
	if k.kind == kMulti {
		op = pick(b, []string{"ForAnyValue:", "ForAllValues:"}) + op
	} else if b.chance(0.2) {
		op += "IfExists"
	}
	n := 1 + b.intn(3)
	if k.kind == kBool {
		n = 1
	}
	var items []Scalar
	for len(items) < n {
		v := pick(b, k.policy)
		if strings.HasPrefix(v, "$") {
			// A policy variable: only under 2012-10-17, and only one whose
			// key this caller always has.
			// Not under Arn* operators: the oracle splits the policy ARN at
			// colons before substituting, and every variable holds one.
			v = v[1:]
			if b.version != V2012 || (strings.Contains(v, "aws:username") && b.c.Caller.User == "") || strings.Contains(op, "Arn") {
				continue
			}
		}
		s := scalar(v)
		if slices.Contains(items, s) {
			break
		}
		items = append(items, s)
	}
	return op, CondKey{Key: name, Value: Value{Items: items, Single: len(items) == 1 && b.chance(0.6)}}
}

func scalar(v string) Scalar {
	switch {
	case strings.HasPrefix(v, "#"):
		return Scalar{Text: v[1:], Kind: 'n'}
	case strings.HasPrefix(v, "!"):
		return Scalar{Text: v[1:], Kind: 'b'}
	}
	return Scalar{Text: v, Kind: 's'}
}
