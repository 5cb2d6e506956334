package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// The policy model keeps every document as a concrete syntax tree: each
// value remembers its exact source bytes and the white space around it, so
// an untouched part of a document writes back byte for byte, and an edit
// re-renders only the values it replaces. encoding/json cannot do this: it
// forgets member order, number text and layout, and silently accepts
// duplicate member names, which AWS rejects.

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
// Real policies nest five levels deep (Statement, statement, Condition,
// operator, key, values).
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

type parser struct {
	data []byte
	pos  int
}

// parseTree parses one JSON value with optional surrounding white space.
// It returns the value and the white space before and after it.
func parseTree(data []byte) (lead []byte, root *node, trail []byte, err error) {
	p := &parser{data: data}
	lead = p.space()
	root, err = p.value(0)
	if err != nil {
		return nil, nil, nil, err
	}
	trail = p.space()
	if p.pos != len(p.data) {
		return nil, nil, nil, p.errorf("unexpected %s after the document", p.describe())
	}
	return lead, root, trail, nil
}

func (p *parser) errorf(format string, args ...any) error {
	line, col := 1, 1
	for _, c := range p.data[:min(p.pos, len(p.data))] {
		if c == '\n' {
			line++
			col = 1
		} else {
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
	if depth > maxDepth {
		return nil, p.errorf("nested more than %d levels deep", maxDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input, expected a value")
	}
	switch c := p.data[p.pos]; {
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
		return &node{kind: kindString, raw: p.data[start:p.pos], str: s}, nil
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
	return &node{kind: kind, raw: p.data[start:p.pos], str: word}, nil
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
	return &node{kind: kindNumber, raw: raw, str: string(raw)}, nil
}

// string scans a JSON string starting at the opening quote and returns its
// decoded value.
func (p *parser) string() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			body := p.data[start+1 : p.pos-1]
			if !escaped && utf8.Valid(body) {
				return string(body), nil
			}
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				p.pos = start
				return "", p.errorf("malformed string: %v", err)
			}
			if !utf8.Valid(body) && !escaped {
				// encoding/json replaced invalid bytes with U+FFFD; say so
				// instead of silently changing a policy.
				p.pos = start
				return "", p.errorf("string is not valid UTF-8")
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", p.errorf("control character %q inside a string must be escaped", rune(c))
		default:
			p.pos++
		}
	}
	p.pos = start
	return "", p.errorf("unterminated string")
}

func (p *parser) object(depth int) (*node, error) {
	start := p.pos
	p.pos++ // {
	n := &node{kind: kindObject}
	ws := p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		n.inner = ws
		n.raw = p.data[start:p.pos]
		return n, nil
	}
	seen := make(map[string]bool)
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, expected a member name in quotes", p.describe())
		}
		keyStart := p.pos
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		m := &member{lead: ws, keyRaw: p.data[keyStart:p.pos], key: key}
		if seen[key] {
			p.pos = keyStart
			return nil, p.errorf("duplicate member name %q", key)
		}
		seen[key] = true
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
		n.members = append(n.members, m)
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
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or '}'", p.describe())
		}
	}
}

func (p *parser) array(depth int) (*node, error) {
	start := p.pos
	p.pos++ // [
	n := &node{kind: kindArray}
	ws := p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		n.inner = ws
		n.raw = p.data[start:p.pos]
		return n, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		e := &elem{lead: ws, val: v, trail: p.space()}
		n.elems = append(n.elems, e)
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

// write appends the node's text: its source bytes when untouched, else its
// parts with their recorded white space.
func (n *node) write(buf *bytes.Buffer) {
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
