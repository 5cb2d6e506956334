package sargen

import (
	"bytes"
	"fmt"
	"strings"
)

// iam-data keeps its list of global condition keys in JavaScript, not JSON:
// dist/esm/globalConditionKeys.js starts with
//
//	export const globalConditionKeys = [ { key: '...', category: '...', type: '...', description: '' }, ... ];
//
// parseGlobalKeys reads that one array literal and nothing else. It accepts
// only object literals whose members are identifiers bound to string
// literals, with comments and trailing commas, and refuses anything else, so
// a change of shape in a new package version fails generation instead of
// silently dropping keys.
func parseGlobalKeys(src []byte) ([]GlobalKey, error) {
	const marker = "export const globalConditionKeys = ["
	i := bytes.Index(src, []byte(marker))
	if i < 0 {
		return nil, fmt.Errorf("no %q", marker)
	}
	lx := &lexer{src: src, pos: i + len(marker) - 1}
	if t := lx.next(); t.kind != '[' {
		return nil, lx.errorf("want [")
	}
	var out []GlobalKey
	seen := map[string]bool{}
	for {
		t := lx.next()
		if t.kind == ']' {
			break
		}
		if t.kind != '{' {
			return nil, lx.errorf("want { or ], got %s", t)
		}
		fields := map[string]string{}
		for {
			t = lx.next()
			if t.kind == '}' {
				break
			}
			if t.kind != 'i' {
				return nil, lx.errorf("want a member name, got %s", t)
			}
			name := t.text
			if t = lx.next(); t.kind != ':' {
				return nil, lx.errorf("want : after %s", name)
			}
			if t = lx.next(); t.kind != 's' {
				return nil, lx.errorf("member %s: want a string literal, got %s", name, t)
			}
			if _, dup := fields[name]; dup {
				return nil, lx.errorf("member %s twice", name)
			}
			fields[name] = t.text
			t = lx.next()
			if t.kind == '}' {
				break
			}
			if t.kind != ',' {
				return nil, lx.errorf("want , or }, got %s", t)
			}
		}
		k := GlobalKey{Name: fields["key"], Category: fields["category"], Type: fields["type"]}
		if k.Name == "" || k.Category == "" || k.Type == "" {
			return nil, lx.errorf("a global key without key, category or type: %v", fields)
		}
		if seen[strings.ToLower(k.Name)] {
			return nil, lx.errorf("global key %s listed twice", k.Name)
		}
		seen[strings.ToLower(k.Name)] = true
		out = append(out, k)
		t = lx.next()
		if t.kind == ']' {
			break
		}
		if t.kind != ',' {
			return nil, lx.errorf("want , or ] after an entry, got %s", t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the global key list is empty")
	}
	return out, nil
}

type token struct {
	kind byte // one of [ ] { } , : ; 'i' identifier, 's' string, 0 end, '?' anything else
	text string
}

func (t token) String() string {
	switch t.kind {
	case 0:
		return "end of file"
	case 'i', 's', '?':
		return fmt.Sprintf("%q", t.text)
	}
	return string(t.kind)
}

type lexer struct {
	src []byte
	pos int
	err error
}

func (l *lexer) errorf(format string, args ...any) error {
	line := 1 + bytes.Count(l.src[:min(l.pos, len(l.src))], []byte("\n"))
	if l.err != nil {
		return fmt.Errorf("line %d: %w", line, l.err)
	}
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (l *lexer) next() token {
	l.skip()
	if l.pos >= len(l.src) {
		return token{}
	}
	c := l.src[l.pos]
	switch {
	case strings.IndexByte("[]{},:", c) >= 0:
		l.pos++
		return token{kind: c}
	case c == '\'' || c == '"':
		return l.str(c)
	case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := l.pos
		for l.pos < len(l.src) {
			c := l.src[l.pos]
			if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				l.pos++
				continue
			}
			break
		}
		return token{kind: 'i', text: string(l.src[start:l.pos])}
	}
	l.pos++
	return token{kind: '?', text: string(c)}
}

func (l *lexer) skip() {
	for l.pos < len(l.src) {
		switch {
		case l.src[l.pos] == ' ' || l.src[l.pos] == '\t' || l.src[l.pos] == '\n' || l.src[l.pos] == '\r':
			l.pos++
		case bytes.HasPrefix(l.src[l.pos:], []byte("//")):
			if j := bytes.IndexByte(l.src[l.pos:], '\n'); j >= 0 {
				l.pos += j + 1
			} else {
				l.pos = len(l.src)
			}
		case bytes.HasPrefix(l.src[l.pos:], []byte("/*")):
			if j := bytes.Index(l.src[l.pos+2:], []byte("*/")); j >= 0 {
				l.pos += j + 4
			} else {
				l.pos = len(l.src)
			}
		default:
			return
		}
	}
}

// str reads a string literal. Only the escapes a condition key name could
// need are accepted; any other escape is an error rather than a guess.
func (l *lexer) str(q byte) token {
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			return token{kind: 's', text: b.String()}
		case c == '\n':
			l.err = fmt.Errorf("unterminated string")
			return token{kind: '?', text: b.String()}
		case c == '\\':
			if l.pos+1 >= len(l.src) || strings.IndexByte(`\'"/`, l.src[l.pos+1]) < 0 {
				l.err = fmt.Errorf("unsupported escape in a string literal")
				return token{kind: '?', text: b.String()}
			}
			b.WriteByte(l.src[l.pos+1])
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	l.err = fmt.Errorf("unterminated string")
	return token{kind: '?', text: b.String()}
}
