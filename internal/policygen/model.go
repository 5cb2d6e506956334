package policygen

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Scalar is one JSON value in a condition: a string, a boolean or a number,
// kept as the text to write.
type Scalar struct {
	Text string
	Kind byte // 's' string, 'b' boolean, 'n' number
}

// Value is a condition value: a bare scalar (Single) or an array.
type Value struct {
	Items  []Scalar
	Single bool
}

// Strs is a string-or-array element (Action, Resource, principal values).
type Strs struct {
	Items  []string
	Single bool
}

// PrincipalType is one type of a Principal map ("AWS", "Service").
type PrincipalType struct {
	Name   string
	Values Strs
}

// Principal is a Principal or NotPrincipal value: "*" or a map.
type Principal struct {
	Star  bool
	Types []PrincipalType
}

// CondKey is one key under an operator.
type CondKey struct {
	Key   string
	Value Value
}

// Cond is one operator of a Condition block with its keys.
type Cond struct {
	Op   string
	Keys []CondKey
}

// Statement is one generated statement; nil pointers are absent elements.
type Statement struct {
	Sid          string
	Effect       string
	Principal    *Principal
	NotPrincipal *Principal
	Action       *Strs
	NotAction    *Strs
	Resource     *Strs
	NotResource  *Strs
	Conds        []Cond
}

// Doc is one generated policy document.
type Doc struct {
	Name    string
	Version string // "" when absent
	ID      string
	Single  bool // Statement written as one object (only with one statement)
	Stmts   []Statement
}

// JSON renders the document with members in the usual order.
func (d *Doc) JSON() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	member := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(&b, name)
		b.WriteByte(':')
	}
	if d.Version != "" {
		member("Version")
		writeString(&b, d.Version)
	}
	if d.ID != "" {
		member("Id")
		writeString(&b, d.ID)
	}
	member("Statement")
	if d.Single && len(d.Stmts) == 1 {
		d.Stmts[0].write(&b)
	} else {
		b.WriteByte('[')
		for i := range d.Stmts {
			if i > 0 {
				b.WriteByte(',')
			}
			d.Stmts[i].write(&b)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (s *Statement) write(b *bytes.Buffer) {
	b.WriteByte('{')
	first := true
	member := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, name)
		b.WriteByte(':')
	}
	if s.Sid != "" {
		member("Sid")
		writeString(b, s.Sid)
	}
	member("Effect")
	writeString(b, s.Effect)
	if s.Principal != nil {
		member("Principal")
		s.Principal.write(b)
	}
	if s.NotPrincipal != nil {
		member("NotPrincipal")
		s.NotPrincipal.write(b)
	}
	for _, el := range []struct {
		name string
		v    *Strs
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if el.v != nil {
			member(el.name)
			el.v.write(b)
		}
	}
	if len(s.Conds) > 0 {
		member("Condition")
		b.WriteByte('{')
		for i, c := range s.Conds {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, c.Op)
			b.WriteString(":{")
			for j, k := range c.Keys {
				if j > 0 {
					b.WriteByte(',')
				}
				writeString(b, k.Key)
				b.WriteByte(':')
				k.Value.write(b)
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func (p *Principal) write(b *bytes.Buffer) {
	if p.Star {
		writeString(b, "*")
		return
	}
	b.WriteByte('{')
	for i, t := range p.Types {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, t.Name)
		b.WriteByte(':')
		t.Values.write(b)
	}
	b.WriteByte('}')
}

func (s *Strs) write(b *bytes.Buffer) {
	if s.Single && len(s.Items) == 1 {
		writeString(b, s.Items[0])
		return
	}
	b.WriteByte('[')
	for i, v := range s.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, v)
	}
	b.WriteByte(']')
}

func (v *Value) write(b *bytes.Buffer) {
	one := func(s Scalar) {
		if s.Kind == 's' {
			writeString(b, s.Text)
		} else {
			b.WriteString(s.Text)
		}
	}
	if v.Single && len(v.Items) == 1 {
		one(v.Items[0])
		return
	}
	b.WriteByte('[')
	for i, s := range v.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		one(s)
	}
	b.WriteByte(']')
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

// Caller is the principal making the generated request.
type Caller struct {
	ARN      string // user ARN or assumed-role session ARN
	Account  string
	UniqueID string
	RoleARN  string // the session's role; "" for a user
	User     string // the user name; "" for a session
}

// Chain lists what AWS checks, in order, when a Deny statement's NotPrincipal
// is tested against this caller: the account, then the role (for a session),
// then the principal itself.
func (c Caller) Chain() []string {
	if c.RoleARN != "" {
		return []string{c.Account, c.RoleARN, c.ARN}
	}
	return []string{c.Account, c.ARN}
}

// chainLevel says which Chain element a NotPrincipal value names, or -1.
func (c Caller) chainLevel(v string) int {
	if v == c.Account || v == "arn:aws:iam::"+c.Account+":root" {
		return 0
	}
	for i, e := range c.Chain()[1:] {
		if v == e {
			return i + 1
		}
	}
	return -1
}

// Case is one generated request with its policies.
type Case struct {
	Seed            int64
	Index           int
	ResourceType    string // "s3" or "kms"
	Identity        []Doc
	Boundary        *Doc
	Resource        *Doc
	Caller          Caller
	Action          string
	ResourceARN     string
	ResourceAccount string
	Context         map[string][]string
	// SCP and RCP are the organization levels (org.go); nil: none apply.
	SCP, RCP []OrgLevel
}

// Clone returns a deep copy, so shrinking can edit it.
func (c Case) Clone() Case {
	out := c
	out.Identity = make([]Doc, len(c.Identity))
	for i := range c.Identity {
		out.Identity[i] = c.Identity[i].clone()
	}
	if c.Boundary != nil {
		b := c.Boundary.clone()
		out.Boundary = &b
	}
	if c.Resource != nil {
		r := c.Resource.clone()
		out.Resource = &r
	}
	out.SCP, out.RCP = cloneLevels(c.SCP), cloneLevels(c.RCP)
	out.Context = make(map[string][]string, len(c.Context))
	for k, v := range c.Context {
		out.Context[k] = append([]string(nil), v...)
	}
	return out
}

func (d Doc) clone() Doc {
	out := d
	out.Stmts = make([]Statement, len(d.Stmts))
	for i, s := range d.Stmts {
		out.Stmts[i] = s.clone()
	}
	return out
}

func (s Statement) clone() Statement {
	out := s
	out.Principal = s.Principal.clone()
	out.NotPrincipal = s.NotPrincipal.clone()
	out.Action = s.Action.clone()
	out.NotAction = s.NotAction.clone()
	out.Resource = s.Resource.clone()
	out.NotResource = s.NotResource.clone()
	out.Conds = make([]Cond, len(s.Conds))
	for i, c := range s.Conds {
		out.Conds[i] = Cond{Op: c.Op, Keys: make([]CondKey, len(c.Keys))}
		for j, k := range c.Keys {
			out.Conds[i].Keys[j] = CondKey{Key: k.Key, Value: Value{Items: append([]Scalar(nil), k.Value.Items...), Single: k.Value.Single}}
		}
	}
	if len(s.Conds) == 0 {
		out.Conds = nil
	}
	return out
}

func (p *Principal) clone() *Principal {
	if p == nil {
		return nil
	}
	out := &Principal{Star: p.Star, Types: make([]PrincipalType, len(p.Types))}
	for i, t := range p.Types {
		out.Types[i] = PrincipalType{Name: t.Name, Values: Strs{Items: append([]string(nil), t.Values.Items...), Single: t.Values.Single}}
	}
	return out
}

func (s *Strs) clone() *Strs {
	if s == nil {
		return nil
	}
	return &Strs{Items: append([]string(nil), s.Items...), Single: s.Single}
}

// Valid reports whether the case stays inside what the oracle evaluates like
// AWS. Generation only emits valid cases; shrinking drops candidates that are
// not.
func (c *Case) Valid() bool {
	if c.ResourceType == "kms" && c.Resource == nil {
		return false // every KMS key has a key policy
	}
	docs := append([]Doc(nil), c.Identity...)
	if c.Boundary != nil {
		docs = append(docs, *c.Boundary)
	}
	if c.Resource != nil {
		docs = append(docs, *c.Resource)
	}
	for _, d := range c.orgDocs() {
		docs = append(docs, *d)
	}
	for _, d := range docs {
		if len(d.Stmts) == 0 {
			return false
		}
		if d.Version != "2012-10-17" && strings.Contains(string(d.JSON()), "${") {
			return false
		}
	}
	if c.Resource != nil {
		for _, s := range c.Resource.Stmts {
			if s.NotPrincipal != nil && !c.notPrincipalAgrees(s.NotPrincipal) {
				return false
			}
		}
	}
	return true
}

// notPrincipalAgrees reports whether a NotPrincipal names all of the
// caller's chain or none of it: only then does the oracle (which exempts a
// caller when any one level is listed) agree with AWS (which exempts it only
// when every level is).
func (c *Case) notPrincipalAgrees(p *Principal) bool {
	chain := c.Caller.Chain()
	seen := make([]bool, len(chain))
	n := 0
	for _, t := range p.Types {
		if t.Name != "AWS" {
			continue
		}
		for _, v := range t.Values.Items {
			if l := c.Caller.chainLevel(v); l >= 0 && !seen[l] {
				seen[l] = true
				n++
			}
		}
	}
	return n == 0 || n == len(chain)
}
