package diff

import (
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Where a need's object lives in its request: S3's object requests name it
// as the resource; S3's KMS requests carry it as the encryption context
// (without S3 Bucket Keys); a listing under a prefix carries it as
// s3:prefix. Requests without an object (the bucket, the key with Bucket
// Keys) have one case.
const (
	objectNone = iota
	objectResource
	objectEncryptionContext
	objectPrefix
)

// objectLimit bounds the automaton states of one need's object classes
// (policy.GroupClasses); beyond it the need is undecidable, never guessed.
const objectLimit = policy.DefaultStateLimit

// objectWitnesses lists one object per class of the grant's objects that
// the statements about the need treat alike: every object of the grant
// matches exactly the same Resource, NotResource and condition patterns as
// one of the witnesses (pkg/policy's glob sets decide this exactly). So
// "every object is allowed" is a statement about every key, and a deny on
// part of them is found wherever its wildcards are.
func (p *planner) objectWitnesses(n need, docs docSet) ([]string, error) {
	switch n.objectAt {
	case objectResource:
		return p.resourceWitnesses(n, docs)
	case objectEncryptionContext:
		return p.contextWitnesses(n, docs, "kms:EncryptionContext:aws:s3:arn", p.objectUniverse(), true)
	case objectPrefix:
		return p.contextWitnesses(n, docs, "s3:prefix", p.opts.Prefix, false)
	}
	return []string{""}, nil
}

// objectUniverse is the grant's objects as one string pattern (without the
// trailing wildcard): the bucket's ARN, "/", and the prefix. An S3 key is
// never empty, so a whole-bucket grant's objects are bucket/?* ; a prefix
// grant's are bucket/prefix* (the key may equal the prefix).
func (p *planner) objectUniverse() string {
	return p.bucketARN() + "/" + p.opts.Prefix
}

func (p *planner) universePattern(head string) policy.Pattern {
	toks := []rune(head)
	if p.opts.Prefix == "" {
		toks = append(toks, policy.GlobAnyOne)
	}
	toks = append(toks, policy.GlobAnyRun)
	u, err := policy.CompileTokens(toks, false)
	if err != nil {
		// The head is a bucket ARN and a prefix the planner checked.
		return policy.CompileGlob(head+"*", false)
	}
	return u
}

// relevant lists the statements of ps that may apply to the need: its
// action, and in resource policies its caller.
func (p *planner) relevant(n need, ps policy.Policies, visit func(named *policy.Named, s *policy.Statement, resourcePolicy bool)) {
	caller := p.caller()
	each := func(named *policy.Named, resourcePolicy bool) {
		named.StatementsFor(n.action, caller, resourcePolicy, func(s *policy.Statement) {
			visit(named, s, resourcePolicy)
		})
	}
	for i := range ps.Identity {
		each(&ps.Identity[i], false)
	}
	each(ps.Boundary, false)
	each(ps.Resource, true)
	// SCPs and RCPs decide too: a Deny on part of the objects in one is a
	// partial deny like any other (an RCP's Principal is "*").
	for _, side := range []struct {
		levels []policy.OrgLevel
		rcp    bool
	}{{ps.SCP, false}, {ps.RCP, true}} {
		for i := range side.levels {
			for j := range side.levels[i].Policies {
				each(&side.levels[i].Policies[j], side.rcp)
			}
		}
	}
}

// resourceWitnesses classifies the grant's object ARNs by the Resource and
// NotResource values of the statements about the need.
func (p *planner) resourceWitnesses(n need, docs docSet) ([]string, error) {
	head := "arn:" + partitionOf(p.principalARN) + ":s3:::"
	part := strings.TrimPrefix(p.objectUniverse(), head)
	universe := p.universePattern(part)
	var groups [][]policy.Pattern
	var firstErr error
	p.relevant(n, docs.policies(n), func(named *policy.Named, s *policy.Statement, resourcePolicy bool) {
		vars := policy.Variables{Enabled: named.Doc.Version() == policy.Version2012, Context: n.context}
		values, not := s.Resource, false
		if values == nil {
			values, not = s.NotResource, true
		}
		if values == nil {
			return
		}
		var group []policy.Pattern
		for _, v := range values.Values {
			matched, notExcluded, err := policy.ResourceValueSets(v, head, resourcePolicy, vars)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if not {
				group = append(group, notExcluded...)
			} else {
				group = append(group, matched...)
			}
		}
		groups = append(groups, group)
	})
	if firstErr != nil {
		return nil, firstErr
	}
	classes, err := policy.GroupClasses(universe, dedupGroups(groups), objectLimit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = head + c.Witness
	}
	return out, nil
}

// contextWitnesses classifies the values of a request key that carries the
// grant's object (the encryption context S3 sends, or s3:prefix) by the
// condition values on that key. universe is the literal head of the
// values; full says whether it is an object ARN (for ArnLike values).
func (p *planner) contextWitnesses(n need, docs docSet, key, head string, arn bool) ([]string, error) {
	var universe policy.Pattern
	if arn {
		universe = p.universePattern(head)
	} else {
		lit := make([]rune, 0, len(head)+1)
		lit = append(lit, []rune(head)...)
		lit = append(lit, policy.GlobAnyRun)
		u, err := policy.CompileTokens(lit, false)
		if err != nil {
			return nil, err
		}
		universe = u
	}
	arnHead := "arn:" + partitionOf(p.principalARN) + ":s3:::"
	var groups [][]policy.Pattern
	var firstErr error
	p.relevant(n, docs.policies(n), func(named *policy.Named, s *policy.Statement, _ bool) {
		vars := policy.Variables{Enabled: named.Doc.Version() == policy.Version2012, Context: n.context}
		for _, c := range s.Conditions {
			if !strings.EqualFold(c.Key, key) {
				continue
			}
			var group []policy.Pattern
			for _, v := range c.Values {
				switch base := c.Op.Base; {
				case base == "StringLike" || base == "StringNotLike":
					if pat, ok := policy.CompileWithVariables(v, n.context, false); ok {
						group = append(group, pat)
					}
				case base == "StringEquals" || base == "StringNotEquals":
					group = append(group, literal(v, false))
				case base == "StringEqualsIgnoreCase" || base == "StringNotEqualsIgnoreCase":
					group = append(group, literal(v, true))
				case strings.HasPrefix(base, "Arn") && arn:
					matched, _, err := policy.ArnValueSet(v, arnHead, vars)
					if err != nil {
						if firstErr == nil {
							firstErr = err
						}
						continue
					}
					for _, m := range matched {
						toks := append([]rune(arnHead), m.Tokens()...)
						if pat, err := policy.CompileTokens(toks, m.Fold()); err == nil {
							group = append(group, pat)
						}
					}
				}
			}
			if len(group) > 0 {
				groups = append(groups, group)
			}
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	// A KMS grant's encryption-context constraint names the objects it
	// covers as exactly as a condition does (grants.go).
	const ecPrefix = "kms:encryptioncontext:"
	if len(key) > len(ecPrefix) && strings.EqualFold(key[:len(ecPrefix)], ecPrefix) {
		ecKey := key[len(ecPrefix):]
		for _, g := range docs.policies(n).Grants {
			for _, m := range []map[string]string{g.Subset, g.Equals} {
				if v, ok := m[ecKey]; ok {
					groups = append(groups, []policy.Pattern{literal(v, false)})
				}
			}
		}
	}
	classes, err := policy.GroupClasses(universe, dedupGroups(groups), objectLimit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(classes))
	for i, c := range classes {
		out[i] = c.Witness
	}
	return out, nil
}

// literal is a pattern that matches exactly v.
func literal(v string, fold bool) policy.Pattern {
	p, err := policy.CompileTokens([]rune(v), fold)
	if err != nil {
		return policy.CompileGlob("", fold) // matches only ""; v was not valid text
	}
	return p
}

// dedupGroups drops groups that repeat another's patterns: the classes
// only depend on which distinct groups match.
func dedupGroups(groups [][]policy.Pattern) [][]policy.Pattern {
	seen := map[string]bool{}
	var out [][]policy.Pattern
	for _, g := range groups {
		keys := make([]string, len(g))
		for i, p := range g {
			keys[i] = p.String()
			if p.Fold() {
				keys[i] += "\x00i"
			}
		}
		slices.Sort(keys)
		k := strings.Join(keys, "\x00")
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, g)
	}
	return out
}
