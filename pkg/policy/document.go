package policy

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Kind says where a document lives, which decides what AWS accepts in it.
type Kind int

const (
	KindAny          Kind = iota // no placement checks
	KindIdentity                 // IAM identity policy or permissions boundary: no Principal
	KindBucketPolicy             // S3 bucket policy: Principal required
	KindKeyPolicy                // KMS key policy: Principal required
)

func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity policy"
	case KindBucketPolicy:
		return "bucket policy"
	case KindKeyPolicy:
		return "key policy"
	}
	return "policy"
}

// Document is a parsed policy document. It keeps the exact source text and
// its syntax tree, so Bytes returns the source unchanged until an edit, and
// an edit changes only the text it must.
type Document struct {
	kind       Kind
	text       []byte
	lead       []byte
	trail      []byte
	root       *node
	stmts      *member // the Statement member
	version    string
	id         string
	statements []Statement
	// appended marks a tree extended by an append without a parse
	// (AppendStatements): its text and typed view are right, but the next
	// edit parses the text first, so that layouts are detected on parsed
	// nodes as always.
	appended bool
	// idx narrows evaluation to the statements that can apply (index.go);
	// nil means every statement is visited.
	idx *stmtIndex
	// str is the text as a string, made once: plans put the text of
	// every document they change into the plan, and parsed documents are
	// shared between plans. Nil for a document not made by Parse. A
	// document extended by AppendStatements has only this string (text is
	// nil until Bytes asks for it): the plan takes the string, and a copy
	// of a large policy as bytes as well would be made for nothing.
	str *textString
}

type textString struct {
	once sync.Once
	s    string
	// bytes is s as bytes, for a document whose text is the string.
	bytesOnce sync.Once
	bytes     []byte
}

// stringText is the text of a document extended without a parse.
func stringText(s string) *textString {
	t := &textString{s: s}
	t.once.Do(func() {}) // s is the text already
	return t
}

// ParseError is a document AWS would refuse, located at a statement and a
// field where that applies.
type ParseError struct {
	Index int    // statement index, -1 for the document itself
	Sid   string // the statement's Sid, if it has one
	Field string // the element at fault, e.g. "Effect" or "Condition.StringEquals"
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Index >= 0 {
		fmt.Fprintf(&b, "statement %d", e.Index)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", e.Sid)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse parses a policy document from its JSON text and checks it the way
// AWS does for a document of the given kind. The document keeps data as its
// text: do not modify it afterwards.
func Parse(data []byte, kind Kind) (*Document, error) {
	lead, root, trail, err := parseTree(data)
	var dup *duplicateError
	if errors.As(err, &dup) {
		return nil, duplicateMember(root, dup)
	}
	if err != nil {
		return nil, err
	}
	d := &Document{kind: kind, text: data, lead: lead, root: root, trail: trail, str: &textString{}}
	if err := d.load(); err != nil {
		return nil, err
	}
	return d, nil
}

// ParseString parses a document given as a string, as AWS APIs return it.
func ParseString(text string, kind Kind) (*Document, error) {
	return Parse([]byte(text), kind)
}

// MustParse is Parse for documents known to be valid, such as test fixtures
// and the tool's own templates; it panics on an error.
func MustParse(text string, kind Kind) *Document {
	d, err := Parse([]byte(text), kind)
	if err != nil {
		panic(fmt.Sprintf("policy.MustParse: %v", err))
	}
	return d
}

// New returns an empty document of the given kind, Version 2012-10-17, laid
// out like json.MarshalIndent.
func New(kind Kind) *Document {
	return MustParse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}", kind)
}

// Kind returns the kind the document was parsed as.
func (d *Document) Kind() Kind { return d.kind }

// Version returns the Version member, "" when absent.
func (d *Document) Version() string { return d.version }

// ID returns the Id member, "" when absent.
func (d *Document) ID() string { return d.id }

// Statements returns the typed statements in document order. The slice is
// shared: do not modify it.
func (d *Document) Statements() []Statement { return d.statements }

// SingleStatement reports whether Statement is one object, not an array.
func (d *Document) SingleStatement() bool { return d.stmts.val.kind == kindObject }

// Bytes returns the document's text: the source text until an edit. The
// slice is shared: do not modify it.
func (d *Document) Bytes() []byte {
	if d.text == nil && d.str != nil {
		d.str.bytesOnce.Do(func() { d.str.bytes = []byte(d.str.s) })
		return d.str.bytes
	}
	return d.text
}

// Len returns the length of the document's text in bytes.
func (d *Document) Len() int {
	if d.text == nil && d.str != nil {
		return len(d.str.s)
	}
	return len(d.text)
}

// String returns the document's text.
func (d *Document) String() string {
	if d.str == nil {
		return string(d.text)
	}
	d.str.once.Do(func() { d.str.s = string(d.text) })
	return d.str.s
}

// Clone returns an independent copy, for editing without touching d.
//
// The copy shares d's text and syntax tree: every edit first copies the
// parts of the tree it changes (detach), so neither document ever sees the
// other's edits.
func (d *Document) Clone() *Document {
	c := *d
	return &c
}

// load fills the typed view from the syntax tree and checks it.
func (d *Document) load() error {
	root := d.root
	if root.kind != kindObject {
		return &ParseError{Index: -1, Msg: fmt.Sprintf("a policy document must be a JSON object, got %s", root.kind)}
	}
	d.version, d.id, d.statements, d.stmts, d.idx = "", "", nil, nil, nil
	if m := root.member("Version"); m != nil {
		if m.val.kind != kindString {
			return &ParseError{Index: -1, Field: "Version", Msg: "must be a string"}
		}
		if m.val.str != Version2012 && m.val.str != Version2008 {
			return &ParseError{Index: -1, Field: "Version", Msg: fmt.Sprintf("%q is not a policy language version; use %q", m.val.str, Version2012)}
		}
		d.version = m.val.str
	}
	if m := root.member("Id"); m != nil {
		if m.val.kind != kindString {
			return &ParseError{Index: -1, Field: "Id", Msg: "must be a string"}
		}
		d.id = m.val.str
	}
	d.stmts = root.member("Statement")
	if d.stmts == nil {
		return &ParseError{Index: -1, Field: "Statement", Msg: "missing: a policy needs a Statement"}
	}
	var nodes []*node
	switch v := d.stmts.val; v.kind {
	case kindObject:
		nodes = []*node{v}
	case kindArray:
		for _, e := range v.elems {
			nodes = append(nodes, e.val)
		}
	default:
		return &ParseError{Index: -1, Field: "Statement", Msg: fmt.Sprintf("must be an object or an array of objects, got %s", v.kind)}
	}
	d.statements = make([]Statement, len(nodes))
	sids := make(map[string]int)
	for i, n := range nodes {
		s, err := parseStatement(i, n, d.kind)
		if err != nil {
			return err
		}
		// IAM refuses a repeated Sid, but S3 and KMS have stored policies
		// that repeat one, and such a document must still be read and kept
		// as it is (bucketgrant itself never writes a repeated Sid).
		if s.HasSid && s.Sid != "" && d.kind == KindIdentity {
			if j, dup := sids[s.Sid]; dup {
				return &ParseError{Index: i, Sid: s.Sid, Field: "Sid", Msg: fmt.Sprintf("statement %d has the same Sid; Sids must be unique within a policy", j)}
			}
			sids[s.Sid] = i
		}
		d.statements[i] = s
	}
	d.idx = newStmtIndex()
	return d.checkCharacters()
}

// checkCharacters refuses, in IAM and KMS documents, the characters their
// APIs reject: they take only tab, line feed, carriage return and U+0020 to
// U+00FF (aws-facts.md §4). The check is on the text, as AWS's is, so a
// character written as a \u escape passes.
func (d *Document) checkCharacters() error {
	if d.kind != KindIdentity && d.kind != KindKeyPolicy {
		return nil
	}
	off := bytes.IndexFunc(d.text, func(r rune) bool { return r > 0xFF })
	if off < 0 {
		return nil
	}
	r, _ := utf8.DecodeRune(d.text[off:])
	var at *SyntaxError
	errors.As((&parser{data: d.text, pos: off}).errorf(""), &at)
	msg := fmt.Sprintf("character %q (U+%04X) at line %d, column %d: IAM and KMS accept only tab, line feed, carriage return and U+0020 to U+00FF",
		r, r, at.Line, at.Column)
	var nodes []*node
	if v := d.stmts.val; v.kind == kindObject {
		nodes = []*node{v}
	} else {
		for _, e := range v.elems {
			nodes = append(nodes, e.val)
		}
	}
	for i, n := range nodes {
		if start := d.offset(n.raw); off >= start && off < start+len(n.raw) {
			return &ParseError{Index: i, Sid: d.statements[i].Sid, Field: d.pathAt(n, off, ""), Msg: msg}
		}
	}
	return &ParseError{Index: -1, Field: d.pathAt(d.root, off, ""), Msg: msg}
}

// offset returns where b, a slice of the source text as every node of a
// freshly parsed tree holds, starts in it.
func (d *Document) offset(b []byte) int { return cap(d.text) - cap(b) }

// pathAt names the member of n whose text holds byte offset off, e.g.
// "Condition.StringEquals.aws:SourceVpce".
func (d *Document) pathAt(n *node, off int, path string) string {
	within := func(b []byte) bool { start := d.offset(b); return off >= start && off < start+len(b) }
	for _, m := range n.members {
		if within(m.keyRaw) {
			return joinPath(path, m.key)
		}
		if within(m.val.raw) {
			return d.pathAt(m.val, off, joinPath(path, m.key))
		}
	}
	for i, e := range n.elems {
		if within(e.val.raw) {
			return d.pathAt(e.val, off, fmt.Sprintf("%s[%d]", path, i))
		}
	}
	return path
}

// duplicateMember reports a repeated member name as a ParseError naming the
// statement and the path to the name, e.g. Condition.StringEquals.aws:SourceIp.
func duplicateMember(root *node, dup *duplicateError) error {
	msg := fmt.Sprintf("duplicate member name at line %d, column %d: AWS rejects a policy that repeats a name in one object", dup.Line, dup.Column)
	if root.kind != kindObject {
		return dup.SyntaxError
	}
	var walk func(n *node, path string) (string, bool)
	walk = func(n *node, path string) (string, bool) {
		if n == dup.obj {
			return joinPath(path, n.dup), true
		}
		for _, m := range n.members {
			if p, ok := walk(m.val, joinPath(path, m.key)); ok {
				return p, true
			}
		}
		for i, e := range n.elems {
			if p, ok := walk(e.val, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
		return "", false
	}
	if m := root.member("Statement"); m != nil {
		stmts := []*node{m.val}
		if m.val.kind == kindArray {
			stmts = stmts[:0]
			for _, e := range m.val.elems {
				stmts = append(stmts, e.val)
			}
		}
		for i, st := range stmts {
			if field, ok := walk(st, ""); ok {
				sid := ""
				if s := st.member("Sid"); s != nil && s.val.kind == kindString {
					sid = s.val.str
				}
				return &ParseError{Index: i, Sid: sid, Field: field, Msg: msg}
			}
		}
	}
	field, _ := walk(root, "")
	return &ParseError{Index: -1, Field: field, Msg: msg}
}

func joinPath(path, key string) string {
	if path == "" || key == "" {
		return path + key
	}
	return path + "." + key
}

var iamSid = regexp.MustCompile(`^[A-Za-z0-9]*$`)

func parseStatement(i int, n *node, kind Kind) (Statement, error) {
	s := Statement{Index: i}
	fail := func(field, format string, args ...any) (Statement, error) {
		return Statement{}, &ParseError{Index: i, Sid: s.Sid, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	failField := func(err error) (Statement, error) {
		var fe *fieldError
		if errors.As(err, &fe) {
			return fail(fe.field, "%s", fe.msg)
		}
		return fail("", "%v", err)
	}
	if n.kind != kindObject {
		return fail("", "a statement must be an object, got %s", n.kind)
	}
	if m := n.member("Sid"); m != nil {
		if m.val.kind != kindString {
			return fail("Sid", "must be a string, got %s", m.val.kind)
		}
		s.Sid, s.HasSid = m.val.str, true
		if kind == KindIdentity && !iamSid.MatchString(s.Sid) {
			return fail("Sid", "IAM accepts only letters and digits in a Sid")
		}
	}
	m := n.member("Effect")
	switch {
	case m == nil:
		return fail("Effect", "missing: every statement needs Effect \"Allow\" or \"Deny\"")
	case m.val.kind != kindString || (m.val.str != string(Allow) && m.val.str != string(Deny)):
		return fail("Effect", "must be \"Allow\" or \"Deny\" (case-sensitive), got %s", m.val.raw)
	}
	s.Effect = Effect(m.val.str)

	var err error
	if s.Action, s.NotAction, err = pair(n, "Action", "NotAction", true); err != nil {
		return failField(err)
	}
	for _, a := range append(values(s.Action), values(s.NotAction)...) {
		if a != "*" && !strings.Contains(a, ":") {
			return fail(field(s.Action, "Action", "NotAction"), "%q is not an action; write service:Action, e.g. s3:GetObject", a)
		}
	}
	// A key policy statement without Resource is accepted and grants nothing
	// (aws-facts.md §4); other resource policies, such as role trust
	// policies, have none, and KindAny places no such demand.
	resourceRequired := kind == KindIdentity || kind == KindBucketPolicy
	if s.Resource, s.NotResource, err = pair(n, "Resource", "NotResource", resourceRequired); err != nil {
		return failField(err)
	}
	if s.Principal, s.NotPrincipal, err = principals(n); err != nil {
		return fail(field(s.Principal != nil || n.member("Principal") != nil, "Principal", "NotPrincipal"), "%v", err)
	}
	switch {
	case kind == KindIdentity && (s.Principal != nil || s.NotPrincipal != nil):
		return fail(field(s.Principal != nil, "Principal", "NotPrincipal"), "not allowed in an identity policy: IAM policies apply to the identity they are attached to")
	case (kind == KindBucketPolicy || kind == KindKeyPolicy) && s.Principal == nil && s.NotPrincipal == nil:
		return fail("Principal", "missing: a %s statement must name a Principal", kind)
	}
	if c := n.member("Condition"); c != nil {
		var at string
		if s.Conditions, at, err = conditions(c.val); err != nil {
			return fail(joinPath("Condition", at), "%v", err)
		}
	}
	return s, nil
}

// field names the element that is present, for messages.
func field[T comparable](first T, a, b string) string {
	var zero T
	if first != zero {
		return a
	}
	return b
}

func values(s *Strings) []string {
	if s == nil {
		return nil
	}
	return s.Values
}

// pair reads an element that comes with its negation (Action/NotAction,
// Resource/NotResource): exactly one of them, unless optional.
func pair(n *node, name, notName string, required bool) (*Strings, *Strings, error) {
	pos, neg := n.member(name), n.member(notName)
	switch {
	case pos != nil && neg != nil:
		return nil, nil, &fieldError{name, fmt.Sprintf("a statement takes %s or %s, not both", name, notName)}
	case pos == nil && neg == nil:
		if required {
			return nil, nil, &fieldError{name, fmt.Sprintf("missing: a statement needs %s or %s", name, notName)}
		}
		return nil, nil, nil
	case pos != nil:
		s, err := stringsOf(pos.val, name)
		return s, nil, err
	default:
		s, err := stringsOf(neg.val, notName)
		return nil, s, err
	}
}

// fieldError is a fault in one element of a statement; parseStatement
// turns it into a ParseError naming that element once.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// stringsOf reads a string-or-array-of-strings value.
func stringsOf(n *node, name string) (*Strings, error) {
	switch n.kind {
	case kindString:
		if n.str == "" {
			return nil, &fieldError{name, "must not be empty"}
		}
		return &Strings{Values: []string{n.str}, Single: true}, nil
	case kindArray:
		if len(n.elems) == 0 {
			return nil, &fieldError{name, "must not be an empty array"}
		}
		s := &Strings{Values: make([]string, len(n.elems))}
		for i, e := range n.elems {
			if e.val.kind != kindString || e.val.str == "" {
				return nil, &fieldError{name, fmt.Sprintf("element %d must be a non-empty string, got %s", i, e.val.raw)}
			}
			s.Values[i] = e.val.str
		}
		return s, nil
	}
	return nil, &fieldError{name, fmt.Sprintf("must be a string or an array of strings, got %s", n.kind)}
}

func principals(n *node) (*Principal, *Principal, error) {
	pos, neg := n.member("Principal"), n.member("NotPrincipal")
	if pos != nil && neg != nil {
		return nil, nil, errors.New("a statement takes Principal or NotPrincipal, not both")
	}
	var err error
	var p, np *Principal
	if pos != nil {
		p, err = principal(pos.val)
	}
	if neg != nil {
		np, err = principal(neg.val)
	}
	return p, np, err
}

// uniqueIDPattern matches IAM unique IDs as AWS shows them in policies after
// the entity they named was deleted (AIDA… users, AROA… roles, and the
// other four-letter prefixes of IAM identifiers).
var uniqueIDPattern = regexp.MustCompile(`^A[A-Z0-9]{3}[A-Z0-9]{12,}$`)

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

func principal(n *node) (*Principal, error) {
	if n.kind == kindString {
		if n.str != "*" {
			return nil, fmt.Errorf(`must be "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}, got %s`, n.raw)
		}
		return &Principal{Star: true}, nil
	}
	if n.kind != kindObject {
		return nil, fmt.Errorf("must be \"*\" or an object, got %s", n.kind)
	}
	if len(n.members) == 0 {
		return nil, errors.New("must name at least one principal")
	}
	p := &Principal{}
	for _, m := range n.members {
		s, err := stringsOf(m.val, m.key)
		if err != nil {
			return nil, err
		}
		switch m.key {
		case "AWS":
			for _, v := range s.Values {
				if v != "*" && !accountPattern.MatchString(v) && !uniqueIDPattern.MatchString(v) && !strings.HasPrefix(v, "arn:") {
					return nil, fmt.Errorf("AWS: %q is not a principal: use an account ID, an ARN or \"*\"", v)
				}
			}
			p.AWS = s.Values
		case "Service":
			p.Service = s.Values
		case "Federated":
			p.Federated = s.Values
		case "CanonicalUser":
			p.CanonicalUser = s.Values
		default:
			return nil, fmt.Errorf("unknown principal type %q: use AWS, Service, Federated or CanonicalUser", m.key)
		}
	}
	return p, nil
}

// conditions reads a Condition block. On error it also returns where, as
// "Operator" or "Operator.key", so the message names the field.
func conditions(n *node) ([]Condition, string, error) {
	if n.kind != kindObject {
		return nil, "", fmt.Errorf("must be an object of operators, got %s", n.kind)
	}
	var out []Condition
	for _, om := range n.members {
		op, err := ParseOperator(om.key)
		if err != nil {
			return nil, om.key, err
		}
		if om.val.kind != kindObject {
			return nil, om.key, fmt.Errorf("must be an object of condition keys, got %s", om.val.kind)
		}
		for _, km := range om.val.members {
			if km.key == "" {
				return nil, om.key, errors.New("empty condition key")
			}
			vals, err := conditionValues(km.val)
			if err != nil {
				return nil, joinPath(om.key, km.key), err
			}
			out = append(out, Condition{Operator: om.key, Op: op, Key: km.key, Values: vals})
		}
	}
	return out, "", nil
}

func conditionValues(n *node) ([]string, error) {
	scalar := func(v *node) (string, error) {
		switch v.kind {
		case kindString, kindNumber, kindBool:
			return v.str, nil
		}
		return "", fmt.Errorf("values must be strings, numbers or booleans, got %s", v.kind)
	}
	if n.kind != kindArray {
		s, err := scalar(n)
		return []string{s}, err
	}
	out := make([]string, len(n.elems))
	for i, e := range n.elems {
		s, err := scalar(e.val)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
