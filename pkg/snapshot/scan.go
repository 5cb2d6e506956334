package snapshot

// A tiny scanner over JSON text that has already been validated: it finds
// the byte spans of an object's members and an array's elements, so the
// writer can splice new values into the original text.

type span struct{ start, end int }

type member struct {
	key      string
	keyStart int
	val      span
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		i++
		for i < len(b) {
			switch b[i] {
			case '\\':
				i += 2
				continue
			case '"':
				return i + 1
			}
			i++
		}
		return i
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipValue(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
			i++
		}
		return i
	}
}

// trimSpan returns the span of the single value in b, without surrounding
// whitespace.
func trimSpan(b []byte) span {
	s := skipSpace(b, 0)
	e := len(b)
	for e > s && isSpace(b[e-1]) {
		e--
	}
	return span{s, e}
}

// objectMembers lists the members of the object b (which starts with '{').
func objectMembers(b []byte) []member {
	var ms []member
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		ks := i
		ke := skipValue(b, i)
		key := unquote(b[ks:ke])
		i = skipSpace(b, ke)
		i = skipSpace(b, i+1) // ':'
		ve := skipValue(b, i)
		ms = append(ms, member{key: key, keyStart: ks, val: span{i, ve}})
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return ms
}

// arrayElements lists the element spans of the array b (which starts with '[').
func arrayElements(b []byte) []span {
	var es []span
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != ']' {
		e := skipValue(b, i)
		es = append(es, span{i, e})
		i = skipSpace(b, e)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return es
}

// lineIndent returns the whitespace between the last newline before pos and
// pos, if only whitespace lies between them; ok is false when pos does not
// start its own line within b.
func lineIndent(b []byte, pos int) (string, bool) {
	i := pos
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t') {
		i--
	}
	if i > 0 && b[i-1] == '\n' {
		return string(b[i:pos]), true
	}
	return "", false
}
