package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition keys come only from Request.Context. The evaluator derives
// nothing from the Caller (not aws:username, aws:PrincipalArn, …): the
// request context is the one place a reader can see what a decision
// depended on, and iam-simulate, our differential oracle, fills no keys by
// itself either. Callers that want those keys put them in the context.

// lookupKey finds a context key by name without regard to case. The exact
// spelling is tried first so the common case costs one map lookup.
func lookupKey(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// varSource substitutes policy variables from the request context. A nil
// *varSource means the document's Version is not 2012-10-17, under which
// ${…} is plain text (IAM User Guide, Version element).
type varSource struct {
	ctx map[string][]string
}

// value resolves the inside of one ${…}. The three escapes ${*}, ${?} and
// ${$} stand for the literal characters. A variable takes its key's value
// when the key has exactly one non-empty value, else its default
// (${key, 'default'}), else it cannot be resolved and the policy value
// containing it matches nothing (IAM User Guide, "Request information that
// you can use for policy variables": no value means no match).
func (v *varSource) value(inner string) (val string, literal bool, ok bool) {
	switch inner {
	case "*", "?", "$":
		return inner, true, true
	}
	name, def := inner, ""
	if n, d, found := strings.Cut(inner, ", "); found {
		name = n
		if !strings.Contains(d, ", ") && len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
			def = d[1 : len(d)-1]
		}
	}
	name = strings.TrimSpace(name)
	if vals, present := lookupKey(v.ctx, name); present && len(vals) == 1 && vals[0] != "" {
		return vals[0], true, true
	}
	if def != "" {
		return def, true, true
	}
	return "", false, false
}

// resolve turns a pattern holding variables into glob tokens: substituted
// text is literal, * and ? outside variables stay wildcards when wildcards
// is set.
func (v *varSource) resolve(pattern string, wildcards bool) ([]rune, bool) {
	toks := make([]rune, 0, len(pattern))
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case wildcards && c == '*':
			toks = append(toks, tokStar)
			i++
			continue
		case wildcards && c == '?':
			toks = append(toks, tokQuest)
			i++
			continue
		case c == '$' && i+1 < len(pattern) && pattern[i+1] == '{':
			if j := strings.IndexByte(pattern[i+2:], '}'); j >= 0 {
				val, _, ok := v.value(pattern[i+2 : i+2+j])
				if !ok {
					return nil, false
				}
				toks = append(toks, []rune(val)...)
				i += j + 3
				continue
			}
		}
		r := []rune(pattern[i:nextRune(pattern, i)])
		toks = append(toks, r...)
		i = nextRune(pattern, i)
	}
	return toks, true
}

func nextRune(s string, i int) int {
	for j := i + 1; j <= len(s); j++ {
		if j == len(s) || s[j]&0xC0 != 0x80 {
			return j
		}
	}
	return len(s)
}

// resolveText substitutes variables into a value compared as plain text
// (StringEquals, Bool, …). Values without variables are returned as is.
func (v *varSource) resolveText(s string) (string, bool) {
	if v == nil || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i+2:], '}'); j >= 0 {
				val, _, ok := v.value(s[i+2 : i+2+j])
				if !ok {
					return "", false
				}
				b.WriteString(val)
				i += j + 3
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), true
}

// variableKeys calls fn with the name of each variable in s that is not
// one of the ${*} ${?} ${$} escapes.
func variableKeys(s string, fn func(string)) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return
		}
		j := strings.IndexByte(s[i+2:], '}')
		if j < 0 {
			return
		}
		inner := s[i+2 : i+2+j]
		s = s[i+3+j:]
		switch inner {
		case "*", "?", "$":
			continue
		}
		name, _, _ := strings.Cut(inner, ", ")
		if name = strings.TrimSpace(name); name != "" {
			fn(name)
		}
	}
}

// conditionHolds evaluates one condition (one key under one operator).
//
// Semantics, from the IAM User Guide's Condition, condition operator and
// multivalued-key pages, with iam-simulate deciding what they leave open:
//   - key absent: false; true for negated operators (StringNotEquals,
//     NotIpAddress, …) and for …IfExists; Null tests presence.
//   - ForAnyValue: false when the key is absent (IfExists does not change
//     that) or has no values; true if any request value matches.
//   - ForAllValues: true when the key is absent or empty; else every request
//     value must match.
//   - no qualifier on a key with several values: false (a set operator is
//     required for multivalued keys).
//   - several policy values: OR; for negated operators the request value
//     must match none of them.
func conditionHolds(c *Condition, ctx map[string][]string, vars *varSource) bool {
	op := c.Op
	if op.Base == "" {
		var err error
		if op, err = ParseOperator(c.Operator); err != nil {
			return false
		}
	}
	vals, present := lookupKey(ctx, c.Key)
	if op.Base == "Null" {
		goal := "true"
		if present {
			goal = "false"
		}
		for _, pv := range c.Values {
			if strings.EqualFold(pv, goal) {
				return true
			}
		}
		return false
	}
	negated := op.Negated()
	switch op.Qualifier {
	case ForAnyValue:
		for _, rv := range vals {
			if valueHolds(op.Base, negated, rv, c.Values, vars) {
				return true
			}
		}
		return false
	case ForAllValues:
		for _, rv := range vals {
			if !valueHolds(op.Base, negated, rv, c.Values, vars) {
				return false
			}
		}
		return true
	}
	if !present {
		return op.IfExists || negated
	}
	if len(vals) != 1 {
		return false
	}
	return valueHolds(op.Base, negated, vals[0], c.Values, vars)
}

// valueHolds applies a base operator to one request value and the policy
// values: any policy value for positive operators, all of them for negated
// ones. A policy value that cannot be compared (unparseable number or
// date, unresolvable variable, malformed ARN or address) is false under
// either polarity, so a negated operator with such a value fails.
func valueHolds(base string, negated bool, rv string, pvs []string, vars *varSource) bool {
	for _, pv := range pvs {
		ok := compare(base, rv, pv, vars)
		if negated && !ok {
			return false
		}
		if !negated && ok {
			return true
		}
	}
	return negated
}

// compare reports whether one request value satisfies one policy value
// under base; for negated operators, whether it satisfies the negation.
func compare(base, rv, pv string, vars *varSource) bool {
	switch base {
	case "StringEquals", "StringNotEquals":
		p, ok := vars.resolveText(pv)
		return ok && (p == rv) == (base == "StringEquals")
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		p, ok := vars.resolveText(pv)
		return ok && strings.EqualFold(p, rv) == (base == "StringEqualsIgnoreCase")
	case "StringLike", "StringNotLike":
		r := matchPart(pv, rv, false, vars)
		return r != partUnresolved && (r == partMatch) == (base == "StringLike")
	case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals":
		// Numeric and date operators take no policy variables.
		p, ok1 := parseNumber(pv)
		r, ok2 := parseNumber(rv)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(base[len("Numeric"):], compareFloat(r, p))
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals":
		p, ok1 := parseDate(pv)
		r, ok2 := parseDate(rv)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(base[len("Date"):], r.Compare(p))
	case "Bool":
		p, ok := vars.resolveText(pv)
		if !ok || !isBool(p) || !isBool(rv) {
			return false
		}
		return strings.EqualFold(p, rv)
	case "BinaryEquals":
		// Both sides are base64 text; AWS compares the encoded values.
		return pv == rv
	case "IpAddress":
		return ipCompare(pv, rv, true)
	case "NotIpAddress":
		return ipCompare(pv, rv, false)
	case "ArnEquals", "ArnLike":
		return matchArnCondition(pv, rv, vars)
	case "ArnNotEquals", "ArnNotLike":
		m, valid := arnCondition(pv, rv, vars)
		return valid && !m
	}
	return false
}

// arnCondition is matchArnCondition that also says whether the comparison
// was possible: a malformed ARN or an unresolvable variable makes it
// invalid, which fails ArnNotLike as well as ArnLike.
func arnCondition(pattern, value string, vars *varSource) (match, valid bool) {
	var pp, vp [6]string
	if splitARNPattern(pattern, &pp, vars != nil) < 6 || splitARN(value, &vp) < 6 {
		return false, false
	}
	for i := range pp {
		switch matchPart(pp[i], vp[i], false, vars) {
		case partNoMatch:
			return false, true
		case partUnresolved:
			return false, false
		}
	}
	return true, true
}

func isBool(s string) bool { return strings.EqualFold(s, "true") || strings.EqualFold(s, "false") }

// ordered applies the comparison named by suffix ("Equals", "LessThan", …)
// to cmp, the result of comparing the request value with the policy value.
func ordered(suffix string, cmp int) bool {
	switch suffix {
	case "Equals":
		return cmp == 0
	case "NotEquals":
		return cmp != 0
	case "LessThan":
		return cmp < 0
	case "LessThanEquals":
		return cmp <= 0
	case "GreaterThan":
		return cmp > 0
	case "GreaterThanEquals":
		return cmp >= 0
	}
	return false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseNumber accepts decimal integers and decimals with an optional sign
// ("10", "-3", "1.50"). Exponents, hex and "Inf" are not numbers in policy
// text; strconv alone would accept them.
func parseNumber(s string) (float64, bool) {
	t := s
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	digits, dots := 0, 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// parseDate accepts epoch seconds ("1526277600", as in aws:EpochTime) and
// the W3C profile of ISO 8601 that the IAM docs cite: YYYY, YYYY-MM,
// YYYY-MM-DD, then optionally Thh:mm, Thh:mm:ss or Thh:mm:ss.fraction, and
// Z or ±hh:mm; a time without a zone is read as UTC.
func parseDate(s string) (time.Time, bool) {
	if n, ok := parseEpoch(s); ok {
		return time.Unix(n, 0), true
	}
	num := func(i, w int) (int, bool) {
		if i+w > len(s) {
			return 0, false
		}
		n := 0
		for _, c := range []byte(s[i : i+w]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok := num(0, 4)
	if !ok {
		return time.Time{}, false
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	i := 4
	if i < len(s) && s[i] == '-' {
		if month, ok = num(i+1, 2); !ok {
			return time.Time{}, false
		}
		i += 3
		if i < len(s) && s[i] == '-' {
			if day, ok = num(i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
		}
	}
	loc := time.UTC
	if i < len(s) && s[i] == 'T' && i == 10 {
		if hour, ok = num(i+1, 2); !ok || i+3 >= len(s) || s[i+3] != ':' {
			return time.Time{}, false
		}
		if minute, ok = num(i+4, 2); !ok {
			return time.Time{}, false
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if sec, ok = num(i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && s[i] == '.' {
				j := i + 1
				scale := 100000000
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					nsec += int(s[j]-'0') * scale
					scale /= 10
					j++
				}
				if j == i+1 {
					return time.Time{}, false
				}
				i = j
			}
		}
		switch {
		case i < len(s) && s[i] == 'Z':
			i++
		case i < len(s) && (s[i] == '+' || s[i] == '-'):
			oh, ok1 := num(i+1, 2)
			om, ok2 := num(i+4, 2)
			if !ok1 || !ok2 || s[i+3] != ':' || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			off := oh*3600 + om*60
			if s[i] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
			i += 6
		}
	}
	if i != len(s) || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 24 || minute > 59 || sec > 59 || (hour == 24 && (minute != 0 || sec != 0 || nsec != 0)) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseEpoch(s string) (int64, bool) {
	t := s
	if t != "" && t[0] == '-' {
		t = t[1:]
	}
	if t == "" || (t[0] == '0' && len(t) > 1) || (s[0] == '-' && t == "0") {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ipCompare implements IpAddress (in true) and NotIpAddress (in false) for
// one policy value: a CIDR block or a single address, IPv4 or IPv6. An
// address of the other family is outside a block; a malformed request or
// policy value fails both operators.
func ipCompare(pv, rv string, in bool) bool {
	r, err := netip.ParseAddr(rv)
	if err != nil || r.Zone() != "" {
		return false
	}
	if strings.IndexByte(pv, '/') >= 0 {
		p, err := netip.ParsePrefix(pv)
		if err != nil {
			return false
		}
		if p.Addr().Is4() != r.Is4() {
			return !in
		}
		return p.Contains(r) == in
	}
	a, err := netip.ParseAddr(pv)
	if err != nil || a.Zone() != "" || a.Is4() != r.Is4() {
		return false
	}
	return (a == r) == in
}
