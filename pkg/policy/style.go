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
	elemGap      string // white space after a comma in an inline array
	objPad       string // white space inside the braces of a one-line object
	objGap       string // white space after a comma in a one-line object
}

// defaultStyle is used for documents the tool creates: two-space indented,
// like `json.MarshalIndent`, which reads well in a plan.
var defaultStyle = style{pretty: true, nl: "\n", unit: "  ", colon: ": ", elemGap: " "}

// detectStyle reads the layout of a parsed document.
func detectStyle(root *node) style {
	if root == nil || !bytes.ContainsRune(root.raw, '\n') {
		return oneLineStyle(root)
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
	if a := firstScalarArray(root); a != nil {
		if !bytes.ContainsRune(a.raw, '\n') {
			st.inlineArrays = true
			st.arrayPad, st.elemGap = arrayGaps(a, st.elemGap)
		}
	} else if a := firstObjectArray(root); a != nil && !bytes.ContainsRune(a.elems[0].lead, '\n') {
		// Jackson, which writes KMS key policies, opens an array of objects
		// with `[ {` and keeps arrays of scalars on one line; a default key
		// policy has only the former to go by.
		st.inlineArrays = true
		st.arrayPad = string(a.elems[0].lead)
	} else if m := root.member("Statement"); m != nil && m.val.kind == kindArray && len(m.val.elems) == 0 &&
		len(m.val.inner) > 0 && !bytes.ContainsAny(m.val.inner, "\r\n") {
		// Jackson writes an empty array as `[ ]`.
		st.inlineArrays = true
		st.arrayPad = string(m.val.inner)
	}
	return st
}

// oneLineStyle reads the layout of an object written on one line: a
// compact document, or a one-line statement inside a pretty one.
func oneLineStyle(obj *node) style {
	st := style{colon: ":"}
	if obj == nil || obj.kind != kindObject {
		return st
	}
	if m := firstMember(obj); m != nil {
		st.colon = string(m.sep)
		st.objPad = string(m.lead)
	}
	if len(obj.members) > 1 {
		st.objGap = string(obj.members[1].lead)
	}
	// Without an array to go by, space arrays as the object's members are.
	st.elemGap = st.objGap
	if a := firstScalarArray(obj); a != nil {
		st.arrayPad, st.elemGap = arrayGaps(a, st.objGap)
	}
	return st
}

// arrayGaps returns the white space inside the brackets of a one-line array
// and after its commas.
func arrayGaps(a *node, gap string) (pad, after string) {
	if len(a.elems) > 1 {
		gap = string(a.elems[1].lead)
	}
	return string(a.elems[0].lead), gap
}

func firstMember(n *node) *member {
	if n == nil || len(n.members) == 0 {
		return nil
	}
	return n.members[0]
}

// firstObjectArray finds, depth first, the first array whose first element
// is an object.
func firstObjectArray(n *node) *node {
	switch n.kind {
	case kindArray:
		if len(n.elems) > 0 && n.elems[0].val.kind == kindObject {
			return n
		}
		for _, e := range n.elems {
			if a := firstObjectArray(e.val); a != nil {
				return a
			}
		}
	case kindObject:
		for _, m := range n.members {
			if a := firstObjectArray(m.val); a != nil {
				return a
			}
		}
	}
	return nil
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
		n.dirty, n.restyled = true, true
		n.inner = nil
		if !st.pretty {
			for i, m := range n.members {
				m.lead, m.sep, m.trail = []byte(st.objGap), []byte(st.colon), nil
				if i == 0 {
					m.lead = []byte(st.objPad)
				}
				if i == len(n.members)-1 {
					m.trail = []byte(st.objPad)
				}
				st.restyle(m.val, indent)
			}
			return
		}
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
		if !st.pretty || (st.inlineArrays && onlyScalars(n)) {
			for i, e := range n.elems {
				e.lead, e.trail = []byte(st.elemGap), nil
				if i == 0 {
					e.lead = []byte(st.arrayPad)
				}
				if i == len(n.elems)-1 {
					e.trail = []byte(st.arrayPad)
				}
				st.restyle(e.val, indent)
			}
			return
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

// near returns the style for text placed beside obj: obj's own one-line
// layout when a pretty document holds it on one line.
func (st style) near(obj *node) style {
	if !st.pretty || obj.kind != kindObject {
		return st
	}
	if obj.restyled {
		// Laid out by the tool, as in an append of several statements: its
		// raw text is what the tool was given, not how it is written; its
		// white space says whether it is on one line.
		if len(obj.members) > 0 && !bytes.ContainsRune(obj.members[0].lead, '\n') {
			return oneLineStyle(obj)
		}
		return st
	}
	if obj.raw != nil && !bytes.ContainsRune(obj.raw, '\n') {
		return oneLineStyle(obj)
	}
	return st
}

func (st style) lineBreak(indent string) string {
	if !st.pretty {
		return ""
	}
	return st.nl + indent
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
