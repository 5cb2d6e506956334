package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The evaluator matches a Resource value or an Arn* condition value
// against an ARN part by part (match.go). When the ARNs in question share
// their first five parts, as every object of one bucket does
// ("arn:aws:s3:::" then "bucket/key"), those parts are decided once and
// what remains is a set of sixth parts: the functions below turn one
// policy value into such sets, exactly as matchResource and arnCondition
// decide, so Classes and Covers can reason over every object at once.

// Variables says whether a document enables policy variables (Version
// 2012-10-17) and, if so, the request context they are read from. The
// zero value disables them: ${…} is then plain text.
type Variables struct {
	Enabled bool
	Context map[string][]string
}

func (v Variables) source() *varSource {
	if !v.Enabled {
		return nil
	}
	return &varSource{ctx: v.Context}
}

// splitHead checks an ARN head such as "arn:aws:s3:::": the five first
// parts of the ARNs in question, each followed by a colon.
func splitHead(head string) ([6]string, error) {
	var rp [6]string
	if splitARN(head, &rp) != 6 || rp[0] != "arn" || rp[5] != "" {
		return rp, fmt.Errorf("ARN head %q must be the five first parts of an ARN followed by a colon, such as \"arn:aws:s3:::\"", head)
	}
	return rp, nil
}

// ResourceValueSets describes one Resource or NotResource value for every
// ARN that starts with head: matched holds the resource parts (what
// follows head) the value matches, and notExcluded those it matches or
// cannot decide (a short pattern the evaluator pads, a variable without a
// value). Each is a union of at most one pattern: nil is no part, and
// "*" every part. A statement's Resource covers a part when some value's
// matched holds it; its NotResource applies to a part when no value's
// notExcluded holds it (an undecidable value makes the evaluator skip the
// statement rather than apply it).
//
// inResourcePolicy and vars are as for the document the value comes
// from. Policy text is valid UTF-8 (JSON); a value that is not is
// refused, since the evaluator compares the ARN's type prefix byte by byte
// but globs character by character.
func ResourceValueSets(value, head string, inResourcePolicy bool, vars Variables) (matched, notExcluded []Pattern, err error) {
	rp, err := splitHead(head)
	if err != nil {
		return nil, nil, err
	}
	if !utf8.ValidString(value) {
		return nil, nil, fmt.Errorf("resource value %q is not valid UTF-8", value)
	}
	vs := vars.source()
	all := []Pattern{CompileGlob("*", false)}
	if allStars(value) {
		return all, all, nil
	}
	var pp [6]string
	n := splitARNPattern(value, &pp, vs != nil)
	if pp[0] != "arn" {
		return nil, nil, nil
	}
	if n < 6 {
		if inResourcePolicy && !strings.Contains(value, "*") {
			return nil, nil, nil
		}
		for i := n; i < 6; i++ {
			pp[i] = "*"
		}
		// A padded value that does not match is undecided, not unmatched.
		m, _ := resourcePartSets(&pp, &rp, vs)
		return m, all, nil
	}
	m, mu := resourcePartSets(&pp, &rp, vs)
	return m, mu, nil
}

// resourcePartSets mirrors matchResourceParts for the resource parts of
// the ARNs whose first five parts are rp[:5].
func resourcePartSets(pp, rp *[6]string, vs *varSource) (matched, notExcluded []Pattern) {
	for i := 1; i < 5; i++ {
		switch matchPart(pp[i], rp[i], true, vs) {
		case partNoMatch:
			return nil, nil
		case partUnresolved:
			return nil, []Pattern{CompileGlob("*", false)}
		}
	}
	product := ""
	if !(strings.EqualFold(rp[2], "s3") && pp[3] == "" && pp[4] == "") {
		if i := strings.IndexAny(pp[5], "/:"); i >= 0 {
			product = pp[5][:i+1]
		}
	}
	if product != "" && strings.Contains(product, "${") {
		product = ""
	}
	// The type prefix is compared as text: * and ? in it are literal.
	toks := []rune(product)
	rest := pp[5][len(product):]
	if vs != nil && strings.Contains(rest, "${") {
		resolved, ok := vs.resolve(rest, true)
		if !ok {
			// Undecided for the parts with the type prefix; the others
			// fail the prefix first.
			u, _ := CompileTokens(append(toks, tokStar), false)
			return nil, []Pattern{u}
		}
		toks = append(toks, resolved...)
	} else {
		toks = append(toks, CompileGlob(rest, false).toks...)
	}
	p, err := CompileTokens(toks, false)
	if err != nil {
		// Runes from valid UTF-8 are always valid tokens.
		return nil, nil
	}
	return []Pattern{p}, []Pattern{p}
}

// ArnValueSet describes one ArnLike/ArnEquals value for every ARN that
// starts with head: matched holds the resource parts the value matches
// (nil: none). valid is false when the comparison fails outright for every
// such ARN (a value with fewer than six parts, a variable without a
// value): then ArnLike and ArnNotLike are both false. Otherwise ArnNotLike
// holds exactly outside matched.
func ArnValueSet(value, head string, vars Variables) (matched []Pattern, valid bool, err error) {
	rp, err := splitHead(head)
	if err != nil {
		return nil, false, err
	}
	if !utf8.ValidString(value) {
		return nil, false, fmt.Errorf("ARN condition value %q is not valid UTF-8", value)
	}
	vs := vars.source()
	var pp [6]string
	if splitARNPattern(value, &pp, vs != nil) < 6 {
		return nil, false, nil
	}
	for i := range 5 {
		switch matchPart(pp[i], rp[i], false, vs) {
		case partNoMatch:
			return nil, true, nil
		case partUnresolved:
			return nil, false, nil
		}
	}
	p, ok := CompileWithVariables(pp[5], vars.Context, false)
	if vs == nil {
		p, ok = CompileGlob(pp[5], false), true
	}
	if !ok {
		return nil, false, nil
	}
	return []Pattern{p}, true, nil
}
