package policy

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// AWS may restructure a document it stores: strip white space, reorder
// statements, turn a one-element array into a string, replace an account ID
// with its root ARN (aws-facts.md §4, RESTRUCT). Documents are therefore
// compared through a canonical form that erases exactly those differences,
// never as text.

// Canonical returns the document's canonical JSON: statements sorted, every
// list sorted and de-duplicated, actions and condition keys in lower case,
// account IDs as root ARNs, "*" principals as {"AWS":["*"]}. Two documents
// with equal canonical forms grant exactly the same.
//
// Conditions are a sorted list of (operator, key, values) rather than a map:
// the same key may appear twice under one operator when written in two
// spellings ("aws:SourceIp" and "aws:sourceip", or under "StringEquals" and
// "stringequals"), and those conditions must both hold, which merging their
// values into one list would turn into either.
func (d *Document) Canonical() []byte {
	type cond struct {
		Operator string   `json:"Operator"`
		Key      string   `json:"Key"`
		Values   []string `json:"Values"`
	}
	type stmt struct {
		Sid          string                     `json:"Sid,omitempty"`
		Effect       Effect                     `json:"Effect"`
		Principal    map[string][]string        `json:"Principal,omitempty"`
		NotPrincipal map[string][]string        `json:"NotPrincipal,omitempty"`
		Action       []string                   `json:"Action,omitempty"`
		NotAction    []string                   `json:"NotAction,omitempty"`
		Resource     []string                   `json:"Resource,omitempty"`
		NotResource  []string                   `json:"NotResource,omitempty"`
		Condition    []cond                     `json:"Condition,omitempty"`
		Other        map[string]json.RawMessage `json:"Other,omitempty"`
	}
	stmts := make([]string, 0, len(d.statements))
	for i, s := range d.statements {
		c := stmt{
			Sid: s.Sid, Effect: s.Effect,
			Principal: canonicalPrincipal(s.Principal), NotPrincipal: canonicalPrincipal(s.NotPrincipal),
			Action: canonicalList(values(s.Action), strings.ToLower), NotAction: canonicalList(values(s.NotAction), strings.ToLower),
			Resource: canonicalList(values(s.Resource), nil), NotResource: canonicalList(values(s.NotResource), nil),
		}
		for _, sc := range s.Conditions {
			c.Condition = append(c.Condition, cond{
				Operator: sc.Op.String(), Key: strings.ToLower(sc.Key), Values: canonicalList(sc.Values, nil),
			})
		}
		slices.SortFunc(c.Condition, func(a, b cond) int {
			return cmp.Or(strings.Compare(a.Operator, b.Operator), strings.Compare(a.Key, b.Key), slices.Compare(a.Values, b.Values))
		})
		c.Condition = slices.CompactFunc(c.Condition, func(a, b cond) bool {
			return a.Operator == b.Operator && a.Key == b.Key && slices.Equal(a.Values, b.Values)
		})
		if n, err := d.statementNode(i); err == nil {
			for _, m := range n.members {
				if !knownStatementMember[m.key] {
					if c.Other == nil {
						c.Other = make(map[string]json.RawMessage)
					}
					c.Other[m.key] = compact(m.val)
				}
			}
		}
		b, _ := json.Marshal(c) // plain data: cannot fail
		stmts = append(stmts, string(b))
	}
	slices.Sort(stmts)
	var buf bytes.Buffer
	buf.WriteString(`{"Version":`)
	b, _ := json.Marshal(d.version)
	buf.Write(b)
	if d.id != "" {
		buf.WriteString(`,"Id":`)
		b, _ = json.Marshal(d.id)
		buf.Write(b)
	}
	// Unknown top-level members in name order, as json.Marshal writes the
	// unknown members of a statement: their order means nothing.
	others := slices.SortedFunc(slices.Values(d.root.members), func(a, b *member) int { return strings.Compare(a.key, b.key) })
	for _, m := range others {
		if m.key != "Version" && m.key != "Id" && m.key != "Statement" {
			fmt.Fprintf(&buf, ",%s:%s", stringNode(m.key).raw, compact(m.val))
		}
	}
	buf.WriteString(`,"Statement":[`)
	buf.WriteString(strings.Join(stmts, ","))
	buf.WriteString("]}")
	return buf.Bytes()
}

var knownStatementMember = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true, "NotAction": true,
	"Resource": true, "NotResource": true, "Condition": true,
}

func compact(n *node) json.RawMessage {
	var raw, out bytes.Buffer
	n.write(&raw)
	if err := json.Compact(&out, raw.Bytes()); err != nil {
		return raw.Bytes()
	}
	return out.Bytes()
}

func canonicalPrincipal(p *Principal) map[string][]string {
	if p == nil {
		return nil
	}
	m := make(map[string][]string)
	if p.Star {
		m["AWS"] = []string{"*"}
	}
	if p.AWS != nil {
		m["AWS"] = canonicalList(append(m["AWS"], p.AWS...), func(v string) string {
			if accountPattern.MatchString(v) {
				return "arn:aws:iam::" + v + ":root"
			}
			return v
		})
	}
	for k, v := range map[string][]string{"Service": p.Service, "Federated": p.Federated, "CanonicalUser": p.CanonicalUser} {
		if v != nil {
			m[k] = canonicalList(v, nil)
		}
	}
	return m
}

func canonicalList(vs []string, norm func(string) string) []string {
	if vs == nil {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		if norm != nil {
			v = norm(v)
		}
		out[i] = v
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// String returns the operator in canonical spelling.
func (o Operator) String() string {
	var b strings.Builder
	switch o.Qualifier {
	case ForAnyValue:
		b.WriteString("ForAnyValue:")
	case ForAllValues:
		b.WriteString("ForAllValues:")
	}
	b.WriteString(o.Base)
	if o.IfExists {
		b.WriteString("IfExists")
	}
	return b.String()
}

// Equal reports whether two documents grant the same, ignoring layout,
// order and the spellings AWS normalises.
func Equal(a, b *Document) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Canonical(), b.Canonical())
}

// Fingerprint identifies the document's meaning: the SHA-256 of its
// canonical form, so a document AWS merely reformatted keeps its fingerprint
// and any change to what it grants changes it.
func (d *Document) Fingerprint() string {
	sum := sha256.Sum256(d.Canonical())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Pretty returns the document indented by two spaces with its member order
// kept, for showing diffs to people.
func (d *Document) Pretty() []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(d.Bytes()), "", "  "); err != nil {
		return d.Bytes()
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// DecodeURLEncoded decodes a policy document as IAM returns it: URL-encoded
// per RFC 3986 (GetUserPolicy, GetRolePolicy, GetGroupPolicy,
// GetPolicyVersion). A '+' stays a '+': form decoding, which turns it into a
// space, would change ARNs and condition values that contain one. Text that
// already starts with '{' is taken as decoded: AWS always encodes the
// opening brace (%7B), but some compatible servers send plain JSON, which
// may hold a '%' that must not be decoded.
func DecodeURLEncoded(s string) (string, error) {
	if strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{") {
		return s, nil
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decoding a URL-encoded policy document: %w", err)
	}
	return out, nil
}
