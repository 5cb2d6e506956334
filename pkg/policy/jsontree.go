package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// The policy model keeps every document as a concrete syntax tree: each
// value remembers its exact source bytes and the white space around it, so
// an untouched part of a document writes back byte for byte, and an edit
// re-renders only the values it replaces. encoding/json cannot do this: it
// forgets member order, number text and layout, and silently accepts
// duplicate member names, which AWS rejects.

// maxDepth bounds nesting, counted in objects and arrays, so that hostile
// input cannot exhaust the stack. Real policies nest six levels deep (the
// document, Statement, a statement, Condition, an operator, a value list).
const maxDepth = 64

type nodeKind byte

const (
	kindObject nodeKind = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func (k nodeKind) String() string {
	switch k {
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	}
	return "nothing"
}

// node is one JSON value. raw is its source text, valid while the node is
// not dirty; a dirty node is rendered from its parts.
type node struct {
	kind    nodeKind
	raw     []byte
	str     string // decoded value of a string; the text of a number or boolean
	members []*member
	elems   []*elem
	inner   []byte // white space inside an empty object or array
	dirty   bool
	// restyled marks an object the tool laid out (style.restyle): its
	// raw text is not its layout.
	restyled bool
	dup      string // the first member name this object repeats, if any
}

// member is one "key": value pair of an object, with the white space before
// the key (lead), between key and value including the colon (sep), and
// after the value (trail).
type member struct {
	lead, keyRaw, sep, trail []byte
	key                      string
	val                      *node
}

// elem is one array element with the white space around it.
type elem struct {
	lead, trail []byte
	val         *node
}

// SyntaxError is malformed JSON, located by line and column (1-based).
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// duplicateError is well-formed JSON that repeats a member name in one
// object. AWS rejects such a document, but unlike other syntax errors the
// tree is complete, so Parse can say which statement and field repeat.
type duplicateError struct {
	*SyntaxError
	obj *node // the object holding the repeated name
}

func (e *duplicateError) Unwrap() error { return e.SyntaxError }

type parser struct {
	data []byte
	pos  int
	dup  *duplicateError // the first repeated member name in the text

	// Nodes, members and elements are handed out of blocks, a few
	// allocations per document instead of one per value: a plan parses
	// the statements it appends, and loading parses policies of hundreds
	// of statements. A tree keeps its blocks alive, as it would its nodes.
	nodes   []node
	members []member
	elems   []elem
	// Open objects and arrays collect their members and elements here
	// (nested values finish first, so one stack serves all), and take an
	// exact-size copy when they close.
	memberStack []*member
	elemStack   []*elem
}

// newParser returns a parser of data with room on its stacks for the
// usual statement.
func newParser(data []byte) *parser {
	return &parser{data: data, memberStack: make([]*member, 0, 16), elemStack: make([]*elem, 0, 8)}
}

// The first block is sized by the text (policy JSON has a value every
// sixteen bytes or so, a member every twenty-four, an array element every
// sixty-four); later blocks double, up to maxBlock.
const maxBlock = 512

func grow[T any](block []T, textLen, bytesPer int) []T {
	n := 2 * cap(block)
	if n == 0 {
		n = textLen/bytesPer + 1
	}
	return make([]T, 0, min(max(n, 4), maxBlock))
}

func (p *parser) newNode(n node) *node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = grow(p.nodes, len(p.data), 16)
	}
	p.nodes = append(p.nodes, n)
	return &p.nodes[len(p.nodes)-1]
}

func (p *parser) newMember(m member) *member {
	if len(p.members) == cap(p.members) {
		p.members = grow(p.members, len(p.data), 24)
	}
	p.members = append(p.members, m)
	return &p.members[len(p.members)-1]
}

func (p *parser) newElem(e elem) *elem {
	if len(p.elems) == cap(p.elems) {
		p.elems = grow(p.elems, len(p.data), 64)
	}
	p.elems = append(p.elems, e)
	return &p.elems[len(p.elems)-1]
}

// parseTree parses one JSON value with optional surrounding white space.
// It returns the value and the white space before and after it. A repeated
// member name is a *duplicateError returned together with the tree.
func parseTree(data []byte) (lead []byte, root *node, trail []byte, err error) {
	p := newParser(data)
	lead = p.space()
	root, err = p.value(0)
	if err != nil {
		return nil, nil, nil, err
	}
	trail = p.space()
	if p.pos != len(p.data) {
		return nil, nil, nil, p.errorf("unexpected %s after the document", p.describe())
	}
	if p.dup != nil {
		return lead, root, trail, p.dup
	}
	return lead, root, trail, nil
}

func (p *parser) errorf(format string, args ...any) error {
	// Columns count characters, as editors show them, not bytes.
	line, col := 1, 1
	for _, c := range p.data[:min(p.pos, len(p.data))] {
		switch {
		case c == '\n':
			line++
			col = 1
		case !utf8.RuneStart(c):
			// A continuation byte belongs to the character before it.
		default:
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return fmt.Sprintf("character %q", r)
}

func (p *parser) space() []byte {
	start := p.pos
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return p.data[start:p.pos]
		}
	}
	return p.data[start:p.pos]
}

func (p *parser) value(depth int) (*node, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input, expected a value")
	}
	switch c := p.data[p.pos]; {
	case (c == '{' || c == '[') && depth >= maxDepth:
		return nil, p.errorf("nested more than %d levels deep", maxDepth)
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		start := p.pos
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{kind: kindString, raw: p.data[start:p.pos], str: s}), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", kindBool)
	case c == 'f':
		return p.literal("false", kindBool)
	case c == 'n':
		return p.literal("null", kindNull)
	}
	return nil, p.errorf("unexpected %s, expected a value", p.describe())
}

func (p *parser) literal(word string, kind nodeKind) (*node, error) {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		return nil, p.errorf("unexpected %s, expected a value", p.describe())
	}
	start := p.pos
	p.pos += len(word)
	return p.newNode(node{kind: kind, raw: p.data[start:p.pos], str: word}), nil
}

func (p *parser) number() (*node, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 {
		return nil, p.errorf("malformed number")
	}
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		p.pos = intStart + 1
		return nil, p.errorf("malformed number: leading zero")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("malformed number: no digits after the decimal point")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("malformed number: no digits in the exponent")
		}
	}
	raw := p.data[start:p.pos]
	return p.newNode(node{kind: kindNumber, raw: raw, str: string(raw)}), nil
}

// string scans a JSON string starting at the opening quote and returns its
// decoded value. It decodes escapes itself rather than through
// encoding/json, which replaces invalid UTF-8 and lone surrogates with
// U+FFFD: that would silently change a policy, so both are errors here.
func (p *parser) string() (string, error) {
	start := p.pos
	p.pos++
	var out []byte // nil until the first escape: most strings have none
	chunk := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			if !utf8.Valid(p.data[start+1 : p.pos]) {
				p.pos = start
				return "", p.errorf("string is not valid UTF-8")
			}
			p.pos++
			if out == nil {
				return intern(p.data[chunk : p.pos-1]), nil
			}
			return string(append(out, p.data[chunk:p.pos-1]...)), nil
		case c == '\\':
			out = append(out, p.data[chunk:p.pos]...)
			if out == nil {
				out = []byte{}
			}
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
			chunk = p.pos
		case c < 0x20:
			return "", p.errorf("control character %q inside a string must be escaped", rune(c))
		default:
			p.pos++
		}
	}
	p.pos = start
	return "", p.errorf("unterminated string")
}

// intern returns the words every policy repeats without allocating a
// string for each (the compiler does not allocate for a switch on
// string(b)).
func intern(b []byte) string {
	switch string(b) {
	case "Version":
		return "Version"
	case "Statement":
		return "Statement"
	case "Sid":
		return "Sid"
	case "Effect":
		return "Effect"
	case "Principal":
		return "Principal"
	case "NotPrincipal":
		return "NotPrincipal"
	case "AWS":
		return "AWS"
	case "Service":
		return "Service"
	case "Action":
		return "Action"
	case "NotAction":
		return "NotAction"
	case "Resource":
		return "Resource"
	case "NotResource":
		return "NotResource"
	case "Condition":
		return "Condition"
	case "Allow":
		return "Allow"
	case "Deny":
		return "Deny"
	case "*":
		return "*"
	case "2012-10-17":
		return "2012-10-17"
	}
	return string(b)
}

// escape decodes one escape sequence at p.pos (the backslash), joining a
// UTF-16 surrogate pair into one rune.
func (p *parser) escape() (rune, error) {
	at := p.pos
	if p.pos+1 >= len(p.data) {
		return 0, p.errorf("unterminated string")
	}
	p.pos += 2
	switch c := p.data[p.pos-1]; c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			p.pos = at
			return 0, p.errorf("malformed \\u escape: want four hex digits")
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if bytes.HasPrefix(p.data[p.pos:], []byte(`\u`)) {
			p.pos += 2
			if r2, ok := p.hex4(); ok {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					return pair, nil
				}
			}
		}
		p.pos = at
		return 0, p.errorf("\\u escape is half of a UTF-16 surrogate pair")
	}
	p.pos = at
	return 0, p.errorf("unknown escape \\%c in a string", p.data[at+1])
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *parser) object(depth int) (*node, error) {
	start := p.pos
	p.pos++ // {
	n := p.newNode(node{kind: kindObject})
	ws := p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		n.inner = ws
		n.raw = p.data[start:p.pos]
		return n, nil
	}
	base := len(p.memberStack)
	defer func() { p.memberStack = p.memberStack[:base] }()
	// Repeated names are found by comparing with the members so far;
	// past a few, with a set (hostile input may hold thousands).
	var seen map[string]bool
	repeated := func(key string) bool {
		so := p.memberStack[base:]
		if seen == nil && len(so) <= 16 {
			return slices.ContainsFunc(so, func(m *member) bool { return m.key == key })
		}
		if seen == nil {
			seen = make(map[string]bool, 2*len(so))
			for _, m := range so {
				seen[m.key] = true
			}
		}
		return seen[key]
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, expected a member name in quotes", p.describe())
		}
		keyStart := p.pos
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		if repeated(key) && n.dup == "" {
			// Keep parsing: a later syntax error takes precedence, and a
			// complete tree lets Parse name the statement.
			n.dup = key
			if p.dup == nil {
				end := p.pos
				p.pos = keyStart
				p.dup = &duplicateError{SyntaxError: p.errorf("duplicate member name %q", key).(*SyntaxError), obj: n}
				p.pos = end
			}
		}
		if seen != nil {
			seen[key] = true
		}
		m := p.newMember(member{lead: ws, keyRaw: p.data[keyStart:p.pos], key: key})
		sepStart := p.pos
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %s, expected ':' after member name %q", p.describe(), key)
		}
		p.pos++
		p.space()
		m.sep = p.data[sepStart:p.pos]
		if m.val, err = p.value(depth + 1); err != nil {
			return nil, err
		}
		m.trail = p.space()
		p.memberStack = append(p.memberStack, m)
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input, expected ',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			ws = p.space()
		case '}':
			p.pos++
			n.raw = p.data[start:p.pos]
			n.members = slices.Clone(p.memberStack[base:])
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or '}'", p.describe())
		}
	}
}

func (p *parser) array(depth int) (*node, error) {
	start := p.pos
	p.pos++ // [
	n := p.newNode(node{kind: kindArray})
	ws := p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		n.inner = ws
		n.raw = p.data[start:p.pos]
		return n, nil
	}
	base := len(p.elemStack)
	defer func() { p.elemStack = p.elemStack[:base] }()
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		e := p.newElem(elem{lead: ws, val: v, trail: p.space()})
		p.elemStack = append(p.elemStack, e)
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input, expected ',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			ws = p.space()
		case ']':
			p.pos++
			n.raw = p.data[start:p.pos]
			n.elems = slices.Clone(p.elemStack[base:])
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or ']'", p.describe())
		}
	}
}

// member returns the object member with the given key, nil if absent.
func (n *node) member(key string) *member {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for _, m := range n.members {
		if m.key == key {
			return m
		}
	}
	return nil
}

// textWriter is where a tree is written: a bytes.Buffer, or a
// strings.Builder for text that is wanted as a string.
type textWriter interface {
	Write(p []byte) (int, error)
	WriteByte(c byte) error
}

// write appends the node's text: its source bytes when untouched, else its
// parts with their recorded white space.
func (n *node) write(buf textWriter) {
	if !n.dirty && n.raw != nil {
		buf.Write(n.raw)
		return
	}
	switch n.kind {
	case kindObject:
		buf.WriteByte('{')
		if len(n.members) == 0 {
			buf.Write(n.inner)
		}
		for i, m := range n.members {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(m.lead)
			buf.Write(m.keyRaw)
			buf.Write(m.sep)
			m.val.write(buf)
			buf.Write(m.trail)
		}
		buf.WriteByte('}')
	case kindArray:
		buf.WriteByte('[')
		if len(n.elems) == 0 {
			buf.Write(n.inner)
		}
		for i, e := range n.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(e.lead)
			e.val.write(buf)
			buf.Write(e.trail)
		}
		buf.WriteByte(']')
	default:
		buf.Write(n.raw)
	}
}

// stringNode builds a string node, encoded without encoding/json's HTML
// escaping of <, > and &, which AWS documents never use and which would show
// as noise in a plan's diff.
func stringNode(s string) *node {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail for a string
	return &node{kind: kindString, raw: bytes.TrimRight(buf.Bytes(), "\n"), str: s}
}
