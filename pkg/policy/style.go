package policy

import (
	"bytes"
)

// style is the layout a document was written in, so that text the tool adds
// looks like the text around it: compact (as IAM and S3 store documents), or
// pretty-printed with a given indent, colon spacing and array layout (the
// KMS console writes `"Action" : [ "kms:A", "kms:B" ]`).
type style struct {
	pretty       bool
	nl           string // "\n" or "\r\n"
	unit         string // one level of indentation
	colon        string // ":" , ": " or " : "
	inlineArrays bool   // arrays of scalars on one line
	arrayPad     string // white space inside the brackets of an inline array
}

// defaultStyle is used for documents the tool creates: two-space indented,
// like `json.MarshalIndent`, which reads well in a plan.
var defaultStyle = style{pretty: true, nl: "\n", unit: "  ", colon: ": "}

// detectStyle reads the layout of a parsed document.
func detectStyle(root *node) style {
	if root == nil || !bytes.ContainsRune(root.raw, '\n') {
		st := style{colon: ":"}
		if m := firstMember(root); m != nil && len(bytes.TrimSpace(m.sep)) == 1 {
			st.colon = string(m.sep)
		}
		return st
	}
	st := defaultStyle
	if m := firstMember(root); m != nil {
		if bytes.Contains(m.lead, []byte("\r\n")) {
			st.nl = "\r\n"
		}
		if i := bytes.LastIndexByte(m.lead, '\n'); i >= 0 && i+1 < len(m.lead) {
			st.unit = string(m.lead[i+1:])
		}
		if !bytes.ContainsAny(m.sep, "\r\n") {
			st.colon = string(m.sep)
		}
	}
	if a := firstScalarArray(root); a != nil && !bytes.ContainsRune(a.raw, '\n') {
		st.inlineArrays = true
		st.arrayPad = string(a.elems[0].lead)
	}
	return st
}

func firstMember(n *node) *member {
	if n == nil || len(n.members) == 0 {
		return nil
	}
	return n.members[0]
}

// firstScalarArray finds, depth first, the first non-empty array holding
// only scalars.
func firstScalarArray(n *node) *node {
	switch n.kind {
	case kindArray:
		scalars := len(n.elems) > 0
		for _, e := range n.elems {
			if e.val.kind == kindObject || e.val.kind == kindArray {
				scalars = false
			}
		}
		if scalars {
			return n
		}
		for _, e := range n.elems {
			if a := firstScalarArray(e.val); a != nil {
				return a
			}
		}
	case kindObject:
		for _, m := range n.members {
			if a := firstScalarArray(m.val); a != nil {
				return a
			}
		}
	}
	return nil
}

// restyle lays out a new node for a place whose closing bracket sits at
// indent: it sets every separator of the node and its children and marks
// them for rendering.
func (st style) restyle(n *node, indent string) {
	switch n.kind {
	case kindObject:
		n.dirty = true
		n.inner = nil
		inner := st.lineBreak(indent + st.unit)
		for i, m := range n.members {
			m.lead, m.sep, m.trail = []byte(inner), []byte(st.colon), nil
			if i == len(n.members)-1 {
				m.trail = []byte(st.lineBreak(indent))
			}
			st.restyle(m.val, indent+st.unit)
		}
	case kindArray:
		n.dirty = true
		n.inner = nil
		if st.inlineArrays || !st.pretty {
			if onlyScalars(n) || !st.pretty {
				for i, e := range n.elems {
					e.lead, e.trail = []byte(st.arrayGap(i)), nil
					if i == len(n.elems)-1 {
						e.trail = []byte(st.arrayPad)
					}
					st.restyle(e.val, indent)
				}
				return
			}
		}
		inner := st.lineBreak(indent + st.unit)
		for i, e := range n.elems {
			e.lead, e.trail = []byte(inner), nil
			if i == len(n.elems)-1 {
				e.trail = []byte(st.lineBreak(indent))
			}
			st.restyle(e.val, indent+st.unit)
		}
	}
}

func (st style) lineBreak(indent string) string {
	if !st.pretty {
		return ""
	}
	return st.nl + indent
}

func (st style) arrayGap(i int) string {
	if i == 0 {
		return st.arrayPad
	}
	if st.pretty {
		return " "
	}
	return ""
}

func onlyScalars(n *node) bool {
	for _, e := range n.elems {
		if e.val.kind == kindObject || e.val.kind == kindArray {
			return false
		}
	}
	return true
}

// indentOf returns the indentation of the line a white-space run ends on,
// or "" when the run holds no line break.
func indentOf(ws []byte) string {
	i := bytes.LastIndexByte(ws, '\n')
	if i < 0 {
		return ""
	}
	return string(ws[i+1:])
}
