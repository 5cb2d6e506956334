package policy

import (
	"fmt"
	"strings"
)

// Qualifier is the set operator prefix of a condition operator.
type Qualifier int

const (
	NoQualifier Qualifier = iota
	ForAnyValue
	ForAllValues
)

// Operator is a parsed condition operator such as
// "ForAllValues:StringLikeIfExists": a qualifier, a base operator in its
// canonical spelling, and the IfExists suffix.
type Operator struct {
	Qualifier Qualifier
	Base      string // canonical, e.g. "StringLike"
	IfExists  bool
}

// baseOperators lists every condition operator AWS accepts, in canonical
// spelling (IAM User Guide, "Condition operators").
var baseOperators = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
	"DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	"Null",
}

var baseByLower = func() map[string]string {
	m := make(map[string]string, len(baseOperators))
	for _, b := range baseOperators {
		m[strings.ToLower(b)] = b
	}
	return m
}()

// ParseOperator parses a condition operator name. Names compare
// case-insensitively; Null takes neither IfExists nor a qualifier.
func ParseOperator(name string) (Operator, error) {
	var op Operator
	rest := name
	if q, r, ok := strings.Cut(rest, ":"); ok {
		switch strings.ToLower(q) {
		case "foranyvalue":
			op.Qualifier = ForAnyValue
		case "forallvalues":
			op.Qualifier = ForAllValues
		default:
			return Operator{}, fmt.Errorf("unknown condition operator %q: the set qualifier must be ForAnyValue or ForAllValues", name)
		}
		rest = r
	}
	lower := strings.ToLower(rest)
	if base, ok := baseByLower[lower]; ok {
		op.Base = base
	} else if base, ok := baseByLower[strings.TrimSuffix(lower, "ifexists")]; ok && strings.HasSuffix(lower, "ifexists") {
		op.Base = base
		op.IfExists = true
	} else {
		return Operator{}, fmt.Errorf("unknown condition operator %q", name)
	}
	if op.Base == "Null" && (op.IfExists || op.Qualifier != NoQualifier) {
		return Operator{}, fmt.Errorf("condition operator %q: Null takes neither IfExists nor a set qualifier", name)
	}
	return op, nil
}

// Negated reports whether the base operator is a negated one, which is true
// for a missing key (StringNotEquals, ArnNotLike, NotIpAddress, ...).
func (o Operator) Negated() bool {
	switch o.Base {
	case "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
		"DateNotEquals", "ArnNotEquals", "ArnNotLike", "NotIpAddress":
		return true
	}
	return false
}
