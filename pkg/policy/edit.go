package policy

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Edits change a document in place and keep every byte they do not have to
// touch: an appended statement is laid out like its neighbours, a replaced
// member value is rendered in the document's style, and everything else is
// written back from its source text. After each edit the document is parsed
// again from its new text, so the typed view, Bytes and the checks of Parse
// always agree; an edit that would make the document invalid is refused and
// leaves it unchanged.

// AppendStatement adds a statement, given as a JSON object, at the end of
// the Statement list. A single-object Statement becomes an array.
func (d *Document) AppendStatement(stmt []byte) error {
	return d.AppendStatements(stmt)
}

// AppendStatements adds statements, each a JSON object, at the end of the
// Statement list in one edit (the document is parsed again once, not once
// per statement).
func (d *Document) AppendStatements(stmts ...[]byte) error {
	nodes := make([]*node, len(stmts))
	for i, stmt := range stmts {
		n, err := parseFragment(stmt, kindObject)
		if err != nil {
			return fmt.Errorf("new statement: %w", err)
		}
		// Documents AWS stored may repeat a Sid and are kept as they are,
		// but an edit never adds a repeat. (A plan appends a statement or
		// two to policies of hundreds: comparing is cheaper than a set.)
		if m := n.member("Sid"); m != nil && m.val.kind == kindString && m.val.str != "" {
			sid := m.val.str
			taken := slices.ContainsFunc(d.statements, func(s Statement) bool { return s.HasSid && s.Sid == sid }) ||
				slices.ContainsFunc(nodes[:i], func(o *node) bool {
					om := o.member("Sid")
					return om != nil && om.val.kind == kindString && om.val.str == sid
				})
			if taken {
				return fmt.Errorf("new statement: a statement has the same Sid %q", sid)
			}
		}
		nodes[i] = n
	}
	if len(nodes) == 0 {
		return nil
	}
	d.detachFor(true)
	appendAll := func(st style) {
		for _, n := range nodes {
			if d.stmts.val.kind == kindObject {
				d.wrapSingleStatement(n, st)
				continue
			}
			d.appendElem(d.stmts.val, n, st)
		}
	}
	if fresh, ok := d.checkAppended(nodes, stmts); ok {
		// Every check Parse would make of the new statements passed, and
		// the rest of the document is as it was parsed: render the new
		// text and extend the typed view, without parsing the whole
		// document again (key policies are large, and a plan appends to
		// them often). Anything unusual takes the full path below, whose
		// errors name the statement and field.
		st := detectStyle(d.root)
		d.root.dirty = true
		d.stmts.val.dirty = true
		appendAll(st)
		var buf strings.Builder
		buf.Grow(d.Len() + 256*len(nodes))
		buf.Write(d.lead)
		d.root.write(&buf)
		buf.Write(d.trail)
		d.text, d.str = nil, stringText(buf.String())
		d.idx = appendedIndex(d.idx, len(d.statements))
		// Exactly the size needed (append would leave room for as many
		// again): the statements of the document it shares are copied.
		d.statements = slices.Concat(d.statements, fresh)
		d.appended = true
		return nil
	}
	return d.edit(appendAll)
}

// checkAppended makes, for statements about to be appended, the checks
// Parse would make of them (parseFragment has refused malformed JSON and
// repeated members): a well-formed statement for the document's kind, and
// only the characters IAM and KMS accept.
// It returns their typed view, or false when the full path must decide.
func (d *Document) checkAppended(nodes []*node, raw [][]byte) ([]Statement, bool) {
	out := make([]Statement, len(nodes))
	for i, n := range nodes {
		if (d.kind == KindIdentity || d.kind == KindKeyPolicy) && bytes.ContainsFunc(raw[i], func(r rune) bool { return r > 0xFF }) {
			return nil, false
		}
		s, err := parseStatement(len(d.statements)+i, n, d.kind)
		if err != nil {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// SetStatementMember sets one member of statement i to a JSON value,
// replacing its value in place or, when absent, adding it after the last
// member.
func (d *Document) SetStatementMember(i int, key string, value []byte) error {
	n, err := parseFragment(value, 0)
	if err != nil {
		return fmt.Errorf("statement %d, %s: %w", i, key, err)
	}
	if _, err := d.statementNode(i); err != nil {
		return err
	}
	d.detach()
	stmt := d.ownStatement(i)
	return d.edit(func(st style) {
		stmt.dirty = true
		st = st.near(stmt)
		if m := stmt.member(key); m != nil {
			st.restyle(n, indentOf(m.lead))
			m.val = n
			return
		}
		last := stmt.members[len(stmt.members)-1]
		indent := indentOf(last.lead)
		st.restyle(n, indent)
		keyRaw := stringNode(key).raw
		stmt.members = append(stmt.members, &member{
			lead: bytes.Clone(last.lead), keyRaw: keyRaw, key: key, sep: bytes.Clone(last.sep), val: n, trail: last.trail,
		})
		last.trail = nil
	})
}

// RemoveStatementMember removes one member of statement i, if present.
func (d *Document) RemoveStatementMember(i int, key string) error {
	stmt, err := d.statementNode(i)
	if err != nil {
		return err
	}
	idx := -1
	for j, m := range stmt.members {
		if m.key == key {
			idx = j
		}
	}
	if idx < 0 {
		return nil
	}
	d.detach()
	stmt = d.ownStatement(i)
	return d.edit(func(style) {
		stmt.dirty = true
		removed := stmt.members[idx]
		stmt.members = append(stmt.members[:idx], stmt.members[idx+1:]...)
		switch {
		case len(stmt.members) == 0:
		case idx == 0:
			stmt.members[0].lead = removed.lead
		case idx == len(stmt.members):
			stmt.members[idx-1].trail = removed.trail
		}
	})
}

// RemoveStatement removes statement i. Removing the last statement leaves
// an empty Statement array. Removing a statement just appended gives back
// the text from before the append, except where that added brackets around
// a single-object Statement, which stay.
func (d *Document) RemoveStatement(i int) error {
	if _, err := d.statementNode(i); err != nil {
		return err
	}
	d.detach()
	return d.edit(func(style) {
		v := d.stmts.val
		if v.kind == kindObject {
			d.stmts.val = &node{kind: kindArray, raw: []byte("[]")}
			return
		}
		v.dirty = true
		removed := v.elems[i]
		v.elems = append(v.elems[:i], v.elems[i+1:]...)
		switch {
		case len(v.elems) == 0:
			// `[ {…} ]` empties to `[ ]`, as Jackson writes it, and a line
			// break to `[]`, as json.MarshalIndent does: the inverse of
			// appendElem on an empty array.
			v.inner = nil
			if !bytes.ContainsAny(removed.trail, "\r\n") {
				v.inner = removed.trail
			}
		case i == 0:
			v.elems[0].lead = removed.lead
		case i == len(v.elems):
			v.elems[i-1].trail = removed.trail
		}
	})
}

func (d *Document) statementNode(i int) (*node, error) {
	v := d.stmts.val
	switch {
	case v.kind == kindObject && i == 0:
		return v, nil
	case v.kind == kindArray && i >= 0 && i < len(v.elems):
		return v.elems[i].val, nil
	}
	return nil, fmt.Errorf("no statement %d: the document has %d", i, len(d.statements))
}

// detach copies the parts of the syntax tree an edit changes (the root,
// the Statement member, its value and the statement elements), so that an
// edit never changes a tree another document shares: Clone shares the whole
// tree, and parsed documents are shared between plans.
func (d *Document) detach() { d.detachFor(false) }

// detachFor is detach; for an append (appending) it copies of the
// statement elements only the last, the one element an append changes (its
// trailing white space moves to the new last element): a plan appends to
// key policies of hundreds of statements.
func (d *Document) detachFor(appending bool) {
	if d.appended {
		if fresh, err := Parse(d.Bytes(), d.kind); err == nil {
			*d = *fresh
		}
	}
	r := *d.root
	r.members = make([]*member, len(d.root.members))
	for i, m := range d.root.members {
		if m == d.stmts {
			c := *m
			d.stmts = &c
			m = &c
		}
		r.members[i] = m
	}
	d.root = &r
	v := *d.stmts.val
	if v.elems != nil {
		// One more slot: an append then adds without growing.
		v.elems = make([]*elem, len(d.stmts.val.elems), len(d.stmts.val.elems)+1)
		copy(v.elems, d.stmts.val.elems)
		for i, e := range v.elems {
			if appending && i < len(v.elems)-1 {
				continue
			}
			c := *e
			v.elems[i] = &c
		}
	}
	d.stmts.val = &v
}

// ownStatement copies statement i's node and its members (after detach),
// before an edit changes them.
func (d *Document) ownStatement(i int) *node {
	v := d.stmts.val
	orig := v
	if v.kind == kindArray {
		orig = v.elems[i].val
	}
	n := *orig
	n.members = make([]*member, len(orig.members))
	for j, m := range orig.members {
		c := *m
		n.members[j] = &c
	}
	if v.kind == kindArray {
		v.elems[i].val = &n
	} else {
		d.stmts.val = &n
	}
	return &n
}

// edit applies a change to the syntax tree, renders the document and parses
// the result again. On error the document is left as it was.
func (d *Document) edit(change func(style)) error {
	backup := d.Bytes()
	st := detectStyle(d.root)
	d.root.dirty = true
	d.stmts.val.dirty = true
	change(st)
	var buf bytes.Buffer
	buf.Grow(d.Len() + 256)
	buf.Write(d.lead)
	d.root.write(&buf)
	buf.Write(d.trail)
	fresh, err := Parse(buf.Bytes(), d.kind)
	if err != nil {
		// Restore from the untouched source text.
		old, perr := Parse(backup, d.kind)
		if perr == nil {
			*d = *old
		}
		return err
	}
	*d = *fresh
	return nil
}

// wrapSingleStatement turns `"Statement": {…}` into `"Statement": [{…}, n]`.
// The object keeps its text, so the only change to it is the bracket before
// it; n is laid out like it.
func (d *Document) wrapSingleStatement(n *node, st style) {
	obj := d.stmts.val
	st = st.near(obj)
	gap := st.objGap
	if st.pretty {
		gap = " "
	}
	st.restyle(n, closingIndent(obj))
	d.stmts.val = &node{kind: kindArray, dirty: true, elems: []*elem{
		{val: obj},
		{lead: []byte(gap), val: n},
	}}
}

// closingIndent returns the indentation of an object's closing brace.
func closingIndent(obj *node) string {
	if ms := obj.members; obj.kind == kindObject && len(ms) > 0 {
		return indentOf(ms[len(ms)-1].trail)
	}
	return ""
}

// appendElem adds n at the end of array a, with the separators of its
// neighbours: the white space after a comma, and the run before the
// closing bracket moved from the old last element to the new one.
func (d *Document) appendElem(a *node, n *node, st style) {
	a.dirty = true
	if len(a.elems) == 0 {
		indent := indentOf(d.stmts.lead)
		lead, trail := st.lineBreak(indent+st.unit), st.lineBreak(indent)
		closing := indent + st.unit
		if len(a.inner) > 0 && !bytes.ContainsAny(a.inner, "\r\n") {
			// `[ ]` (Jackson, as KMS writes it) becomes `[ {…} ]` with the
			// object's brace on the bracket's line; RemoveStatement undoes it.
			lead, trail, closing = string(a.inner), string(a.inner), indent
		}
		st.restyle(n, closing)
		a.elems = []*elem{{lead: []byte(lead), val: n, trail: []byte(trail)}}
		a.inner = nil
		return
	}
	last := a.elems[len(a.elems)-1]
	lead := a.elems[0].lead
	if len(a.elems) > 1 {
		lead = last.lead
	}
	// Lay the new object out like its neighbour: members indented as the
	// neighbour's are, closing brace where the neighbour's is.
	closing := indentOf(lead)
	if last.val.kind == kindObject && len(last.val.members) > 0 {
		closing = closingIndent(last.val)
	}
	st.near(last.val).restyle(n, closing)
	middle := []byte(nil)
	if len(a.elems) > 1 {
		middle = a.elems[0].trail
	}
	a.elems = append(a.elems, &elem{lead: bytes.Clone(lead), val: n, trail: last.trail})
	last.trail = middle
}

// parseFragment parses a JSON value given by the tool, optionally of a
// required kind.
func parseFragment(data []byte, want nodeKind) (*node, error) {
	_, n, _, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	if want != 0 && n.kind != want {
		return nil, fmt.Errorf("must be %s, got %s", want, n.kind)
	}
	return n, nil
}
