package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func anyMatch(ps []Pattern, s string) bool {
	for _, p := range ps {
		if p.Match(s) {
			return true
		}
	}
	return false
}

func TestResourceValueSetsProbes(t *testing.T) {
	const head = "arn:aws:s3:::"
	vars := Variables{Enabled: true, Context: map[string][]string{"aws:username": {"Jane"}}}
	tests := []struct {
		name                 string
		value                string
		inResourcePolicy     bool
		vars                 Variables
		matched, notExcluded []string // members
		unmatched, undecided []string // non-members of matched; of notExcluded
	}{
		{name: "nil/empty value", value: "", unmatched: []string{"b/k", ""}, undecided: []string{"b/k"}},
		{name: "objects of a bucket", value: "arn:aws:s3:::b/*", matched: []string{"b/k", "b/"}, unmatched: []string{"b", "c/k"}},
		{name: "star", value: "*", matched: []string{"b/k", ""}},
		{name: "case of the service folds", value: "arn:AWS:S3:::b/*", matched: []string{"b/k"}},
		{name: "key is case sensitive", value: "arn:aws:s3:::B/*", unmatched: []string{"b/k"}},
		{name: "other service", value: "arn:aws:kms:::b/*", unmatched: []string{"b/k"}, undecided: []string{"b/k"}},
		{name: "region wildcard makes a type prefix", value: "arn:aws:s3:*:*:b/*", matched: []string{"b/k"}, unmatched: []string{"bb/k"}},
		{name: "type prefix is literal text", value: "arn:aws:s3:*:*:b*/k", matched: []string{"b*/k"}, unmatched: []string{"bx/k"}},
		{name: "short value in an identity policy is padded", value: "arn:aws:s3", matched: []string{"b/k"}, notExcluded: []string{"b/k"}},
		{name: "short value that misses is undecided", value: "arn:aws:kms", unmatched: []string{"b/k"}, notExcluded: []string{"b/k"}},
		{name: "short value without star in a resource policy", value: "arn:aws:s3", inResourcePolicy: true, unmatched: []string{"b/k"}, undecided: []string{"b/k"}},
		{name: "variable", value: "arn:aws:s3:::b/${aws:username}/*", vars: vars, matched: []string{"b/Jane/x"}, unmatched: []string{"b/Bob/x"}},
		{name: "variable is text without the version", value: "arn:aws:s3:::b/${aws:username}/*", matched: []string{"b/${aws:username}/x"}, unmatched: []string{"b/Jane/x"}},
		{name: "unresolvable variable is undecided", value: "arn:aws:s3:::b/${aws:userid}/*", vars: vars, unmatched: []string{"b/x/y"}, notExcluded: []string{"b/x/y", "c"}},
		{name: "literal star", value: "arn:aws:s3:::b/${*}", vars: vars, matched: []string{"b/*"}, unmatched: []string{"b/x"}},
		{name: "not an ARN", value: "b/*", unmatched: []string{"b/k"}, undecided: []string{"b/k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, mu, err := ResourceValueSets(tt.value, head, tt.inResourcePolicy, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.matched {
				if !anyMatch(m, s) || !anyMatch(mu, s) {
					t.Errorf("%q: matched %v, notExcluded %v; want both", s, anyMatch(m, s), anyMatch(mu, s))
				}
			}
			for _, s := range tt.notExcluded {
				if !anyMatch(mu, s) {
					t.Errorf("%q is excluded", s)
				}
			}
			for _, s := range tt.unmatched {
				if anyMatch(m, s) {
					t.Errorf("%q is matched", s)
				}
			}
			for _, s := range tt.undecided {
				if anyMatch(mu, s) {
					t.Errorf("%q is not excluded", s)
				}
			}
		})
	}
	if _, _, err := ResourceValueSets("*", "arn:aws:s3", false, Variables{}); err == nil {
		t.Error("a head with fewer than five parts was accepted")
	}
	if _, _, err := ResourceValueSets("arn:aws:s3:::b/\xff", head, false, Variables{}); err == nil {
		t.Error("invalid UTF-8 was accepted")
	}
}

// TestValueSetsAgainstEvaluator checks ResourceValueSets and ArnValueSet
// against matchResource and arnCondition on random values and every short
// resource part over a small alphabet.
func TestValueSetsAgainstEvaluator(t *testing.T) {
	heads := []string{"arn:aws:s3:::", "arn:aws:kms:us-east-1:111122223333:", "arn:aws-cn:s3:::"}
	frags := []string{"arn", "aws", "AWS", "s3", "S3", "kms", "us-east-1", "111122223333", "*", "*", "?", "",
		"a", "b", "/", ":", "a/", "b/*", "a*/", "${aws:username}", "${aws:nokey}", "${*}", "${?}", "${aws:nokey, 'b'}", "key/", "${aws:username}/"}
	var parts []string
	level := []string{""}
	for range 5 {
		parts = append(parts, level...)
		var next []string
		for _, s := range level {
			for _, r := range "ab/*:" {
				next = append(next, s+string(r))
			}
		}
		level = next
	}
	values := 3000
	if testing.Short() || globsetUnderRace {
		values = 300
	}
	rng := rand.New(rand.NewPCG(7, 11))
	frag := func() string {
		var b strings.Builder
		for range rng.IntN(3) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		return b.String()
	}
	for range values {
		head := heads[rng.IntN(len(heads))]
		var value string
		if rng.IntN(2) == 0 {
			// Free text: short values, odd part counts, non-ARNs.
			ps := make([]string, 1+rng.IntN(7))
			for i := range ps {
				ps[i] = frag()
			}
			if rng.IntN(3) > 0 {
				ps[0] = "arn"
			}
			value = strings.Join(ps, ":")
		} else {
			// Shaped like the head's ARNs, so the type prefix and the
			// resource part are what is tested.
			var hp [6]string
			splitARN(head, &hp)
			ps := make([]string, 6)
			for i := range 5 {
				switch rng.IntN(6) {
				case 0:
					ps[i] = "*"
				case 1:
					ps[i] = strings.ToUpper(hp[i])
				case 2:
					ps[i] = frag()
				default:
					ps[i] = hp[i]
				}
			}
			ps[5] = frag() + frag()
			value = strings.Join(ps, ":")
		}
		inRes := rng.IntN(2) == 0
		vars := Variables{Enabled: rng.IntN(3) > 0, Context: map[string][]string{"aws:username": {"ab"}}}
		m, mu, err := ResourceValueSets(value, head, inRes, vars)
		if err != nil {
			t.Fatal(err)
		}
		am, valid, err := ArnValueSet(value, head, vars)
		if err != nil {
			t.Fatal(err)
		}
		vs := vars.source()
		for _, part := range parts {
			arn := head + part
			r := matchResource(value, arn, inRes, vs)
			if anyMatch(m, part) != (r == resMatch) || anyMatch(mu, part) != (r != resNoMatch) {
				t.Fatalf("ResourceValueSets(%q, %q, %v, %v) on %q: matched %v, notExcluded %v; evaluator says %v",
					value, head, inRes, vars.Enabled, part, anyMatch(m, part), anyMatch(mu, part), r)
			}
			em, ev := arnCondition(value, arn, vs)
			if anyMatch(am, part) != em || valid != ev {
				t.Fatalf("ArnValueSet(%q, %q, %v) on %q: matched %v, valid %v; evaluator says %v, %v",
					value, head, vars.Enabled, part, anyMatch(am, part), valid, em, ev)
			}
		}
	}
}
