package snapshot

import (
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Grants and tags are optional: a snapshot that does not hold them says
// nothing about them (nil), which the planner reports as not read; an
// empty list or object says there are none.

// grants reads keys[].grants.
func (r *reader) grants(path string, v []byte) ([]state.Grant, error) {
	if k := kindOf(v); k == "nothing" || k == "null" {
		return nil, nil
	}
	els, err := r.array(path, v)
	if err != nil {
		return nil, err
	}
	out := make([]state.Grant, 0, len(els))
	seen := map[string]int{}
	for i, e := range els {
		p := index(path, i)
		g, err := r.grant(p, e)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[g.ID]; dup {
			return nil, r.errf(join(p, "grant_id"), "duplicate grant id %q (also %s)", g.ID, index(path, j))
		}
		seen[g.ID] = i
		out = append(out, g)
	}
	return out, nil
}

func (r *reader) grant(path string, v []byte) (state.Grant, error) {
	g := state.Grant{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return g, err
	}
	if g.ID, err = r.required(join(path, "grant_id"), m["grant_id"]); err != nil {
		return g, err
	}
	if g.Name, err = r.str(join(path, "name"), m["name"]); err != nil {
		return g, err
	}
	if g.GranteePrincipal, err = r.required(join(path, "grantee_principal"), m["grantee_principal"]); err != nil {
		return g, err
	}
	if g.RetiringPrincipal, err = r.str(join(path, "retiring_principal"), m["retiring_principal"]); err != nil {
		return g, err
	}
	if g.IssuingAccount, err = r.str(join(path, "issuing_account"), m["issuing_account"]); err != nil {
		return g, err
	}
	ops, err := r.array(join(path, "operations"), m["operations"])
	if err != nil {
		return g, err
	}
	g.Operations = []string{}
	for i, o := range ops {
		p := index(join(path, "operations"), i)
		s, err := r.required(p, o)
		if err != nil {
			return g, err
		}
		// KMS lists operation names (Decrypt), never actions (kms:Decrypt)
		// or patterns: a grant names exact operations.
		if strings.ContainsAny(s, ":*?") {
			return g, r.errf(p, "%q is not a KMS operation name (a grant lists names like Decrypt, without kms: or wildcards)", s)
		}
		g.Operations = append(g.Operations, s)
	}
	if cv := m["constraints"]; kindOf(cv) != "nothing" && kindOf(cv) != "null" {
		cm, _, err := r.fields(join(path, "constraints"), cv)
		if err != nil {
			return g, err
		}
		c := &state.GrantConstraints{}
		cp := join(path, "constraints")
		if c.EncryptionContextSubset, err = r.stringMap(join(cp, "encryption_context_subset"), cm["encryption_context_subset"]); err != nil {
			return g, err
		}
		if c.EncryptionContextEquals, err = r.stringMap(join(cp, "encryption_context_equals"), cm["encryption_context_equals"]); err != nil {
			return g, err
		}
		g.Constraints = c
	}
	return g, nil
}

// stringMap reads an object of strings (absent or null: nil).
func (r *reader) stringMap(path string, v []byte) (map[string]string, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	case "object":
	default:
		return nil, r.errf(path, "want an object of strings, got %s", kindOf(v))
	}
	_, ms, err := r.fields(path, v)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ms))
	for _, x := range ms {
		s, err := r.str(join(path, x.key), v[x.val.start:x.val.end:x.val.end])
		if err != nil {
			return nil, err
		}
		out[x.key] = s
	}
	return out, nil
}

// tags reads principals[].tags: an object of tag key to value, in the
// order written. IAM keeps tag keys unique whatever their case, and
// condition keys (aws:PrincipalTag/Team) match them whatever their case,
// so two keys that differ only in case are refused.
func (r *reader) tags(path string, v []byte) ([]state.Tag, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	case "object":
	default:
		return nil, r.errf(path, "want an object of tag key to value, got %s", kindOf(v))
	}
	_, ms, err := r.fields(path, v)
	if err != nil {
		return nil, err
	}
	out := make([]state.Tag, 0, len(ms))
	seen := map[string]string{}
	for _, x := range ms {
		p := join(path, x.key)
		if x.key == "" {
			return nil, r.errf(path, "a tag has an empty key")
		}
		if prev, dup := seen[strings.ToLower(x.key)]; dup {
			return nil, r.errf(p, "tag key %q differs from %q only in case; IAM keeps one of them", x.key, prev)
		}
		seen[strings.ToLower(x.key)] = x.key
		val := v[x.val.start:x.val.end:x.val.end]
		if kindOf(val) != "string" {
			return nil, r.errf(p, "want a string, got %s", kindOf(val))
		}
		out = append(out, state.Tag{Key: x.key, Value: unquote(val)})
	}
	return out, nil
}

func (w *writer) grant(g *state.Grant, ind string) []byte {
	src := g.Source
	o, err := (&reader{}).grant("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "grant_id", same: has && o.ID == g.ID, enc: str(g.ID)},
		{name: "name", same: has && o.Name == g.Name, omit: g.Name == "", enc: nullableStr(g.Name)},
		{name: "grantee_principal", same: has && o.GranteePrincipal == g.GranteePrincipal, enc: str(g.GranteePrincipal)},
		{name: "retiring_principal", same: has && o.RetiringPrincipal == g.RetiringPrincipal, omit: g.RetiringPrincipal == "", enc: nullableStr(g.RetiringPrincipal)},
		{name: "issuing_account", same: has && o.IssuingAccount == g.IssuingAccount, omit: g.IssuingAccount == "", enc: nullableStr(g.IssuingAccount)},
		{name: "operations", same: has && same(o.Operations, g.Operations), enc: w.strings(memberValue(src, "operations"), g.Operations)},
		{name: "constraints", same: has && same(o.Constraints, g.Constraints), omit: g.Constraints == nil, enc: func(ind string) []byte {
			if g.Constraints == nil {
				return []byte("null")
			}
			var fs []field
			if c := g.Constraints.EncryptionContextSubset; c != nil {
				fs = append(fs, field{name: "encryption_context_subset", enc: stringMap(c)})
			}
			if c := g.Constraints.EncryptionContextEquals; c != nil {
				fs = append(fs, field{name: "encryption_context_equals", enc: stringMap(c)})
			}
			return w.object(nil, ind, fs)
		}},
	})
}

// stringMap writes an encryption context on one line, its keys sorted (a
// JSON object has no order, and KMS reports none).
func stringMap(m map[string]string) func(string) []byte {
	return func(string) []byte {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := []byte("{")
		for i, k := range keys {
			if i > 0 {
				out = append(out, ", "...)
			}
			out = append(append(append(out, quote(k)...), ": "...), quote(m[k])...)
		}
		return append(out, '}')
	}
}

// tags writes a principal's tags on one line, in the order held.
func (w *writer) tags(ts []state.Tag) func(string) []byte {
	return func(string) []byte {
		if ts == nil {
			return []byte("null")
		}
		out := []byte("{")
		for i, t := range ts {
			if i > 0 {
				out = append(out, ", "...)
			}
			out = append(append(append(out, quote(t.Key)...), ": "...), quote(t.Value)...)
		}
		return append(out, '}')
	}
}

// sameReadKeys and sameReadPrincipals tell "not read" (nil) from "none"
// (empty), which same (equating empty values) does not.
func sameReadKeys(a, b []state.Key) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i].Grants == nil) != (b[i].Grants == nil) {
			return false
		}
	}
	return true
}

func sameReadPrincipals(a, b []state.Principal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i].Tags == nil) != (b[i].Tags == nil) {
			return false
		}
	}
	return true
}
