package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Save writes st to path as a snapshot file: mode 0600, atomically (a
// temporary file in the same directory, then a rename).
func Save(path string, st *state.State) error {
	data, err := Marshal(st)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return nil
}

// Marshal returns the snapshot text for st. Objects that carry a Source and
// did not change are written as those bytes; changed members are spliced
// into them; objects without a Source are written afresh (two-space indent,
// documents in the form they hold).
func Marshal(st *state.State) ([]byte, error) {
	if st == nil {
		st = &state.State{}
	}
	w := &writer{unit: "  "}
	if u := detectUnit(st.Source); u != "" {
		w.unit = u
	}
	if st.Source != nil {
		if orig, err := (&reader{}).state(st.Source); err == nil {
			sp := trimSpan(st.Source)
			body := w.object(st.Source[sp.start:sp.end], "", w.stateFields(st, orig))
			out := make([]byte, 0, len(st.Source)+len(body))
			out = append(out, st.Source[:sp.start]...)
			out = append(out, body...)
			out = append(out, st.Source[sp.end:]...)
			return out, nil
		}
	}
	out := w.object(nil, "", w.stateFields(st, nil))
	return append(out, '\n'), nil
}

// detectUnit returns the indentation of the first indented line.
func detectUnit(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j > i+1 {
			return string(b[i+1 : j])
		}
	}
	return ""
}

var cmpOpts = []cmp.Option{cmpopts.IgnoreTypes(state.Source(nil)), cmpopts.EquateEmpty()}

func same(a, b any) bool { return cmp.Equal(a, b, cmpOpts...) }

type writer struct{ unit string }

// field is one member the writer knows: its name, whether its value equals
// the one in the object's Source, and how to encode the current value.
type field struct {
	name string
	same bool
	// omit leaves the member out of a fresh object (and does not insert it
	// into an existing one); a member already present is still rewritten.
	omit bool
	enc  func(ind string) []byte
}

// object writes an object: afresh when src is nil, else by splicing changed
// fields into src (ind is the indentation of the line the object starts on).
// Members of src named in drop are removed; other members not among fields
// (unknown to this version) are kept as they are.
func (w *writer) object(src []byte, ind string, fields []field, drop ...string) []byte {
	if src == nil {
		var buf bytes.Buffer
		n := 0
		for _, f := range fields {
			if f.omit {
				continue
			}
			if n == 0 {
				buf.WriteString("{\n")
			} else {
				buf.WriteString(",\n")
			}
			n++
			mi := ind + w.unit
			buf.WriteString(mi)
			buf.Write(quote(f.name))
			buf.WriteString(": ")
			buf.Write(f.enc(mi))
		}
		if n == 0 {
			return []byte("{}")
		}
		buf.WriteString("\n" + ind + "}")
		return buf.Bytes()
	}
	ms := objectMembers(src)
	byName := map[string]member{}
	for _, m := range ms {
		byName[m.key] = m
	}
	mi, multiline := ind+w.unit, true
	if len(ms) > 0 {
		if s, ok := lineIndent(src, ms[0].keyStart); ok {
			mi = s
		} else {
			multiline = false
		}
	}
	var edits []edit
	var added [][]byte
	for _, f := range fields {
		if f.same {
			continue
		}
		m, ok := byName[f.name]
		if ok {
			vi := mi
			if s, ok := lineIndent(src, m.keyStart); ok {
				vi = s
			}
			edits = append(edits, edit{m.val, f.enc(vi)})
			continue
		}
		if f.omit {
			continue
		}
		added = append(added, append(append(quote(f.name), ": "...), f.enc(mi)...))
	}
	edits = append(edits, removals(src, ms, drop)...)
	sort.Slice(edits, func(i, j int) bool { return edits[i].at.start < edits[j].at.start })
	if len(added) > 0 {
		edits = append(edits, w.appendEdit(src, '}', len(ms) > len(drop), multiline, ind, mi, added))
	}
	return applyEdits(src, edits)
}

// removals deletes the members named in drop (with their commas), a run of
// neighbours at a time so that no two edits overlap.
func removals(src []byte, ms []member, drop []string) []edit {
	if len(drop) == 0 {
		return nil
	}
	gone := map[string]bool{}
	for _, d := range drop {
		gone[d] = true
	}
	var edits []edit
	for a := 0; a < len(ms); a++ {
		if !gone[ms[a].key] {
			continue
		}
		b := a
		for b+1 < len(ms) && gone[ms[b+1].key] {
			b++
		}
		switch {
		case a > 0: // from the end of the member before the run
			edits = append(edits, edit{span{ms[a-1].val.end, ms[b].val.end}, nil})
		case b+1 < len(ms): // the run starts the object: up to the next key
			edits = append(edits, edit{span{ms[0].keyStart, ms[b+1].keyStart}, nil})
		default: // every member
			edits = append(edits, edit{span{1, len(src) - 1}, nil})
		}
		a = b
	}
	return edits
}

// appendEdit inserts items before the closing bracket of src.
func (w *writer) appendEdit(src []byte, closer byte, nonEmpty, multiline bool, ind, itemInd string, items [][]byte) edit {
	end := len(src) - 1 // the closing bracket
	var buf bytes.Buffer
	if nonEmpty {
		// After the last item, before any whitespace preceding the closer.
		p := end
		for p > 0 && isSpace(src[p-1]) {
			p--
		}
		for _, it := range items {
			if multiline {
				buf.WriteString(",\n" + itemInd)
			} else {
				buf.WriteString(", ")
			}
			buf.Write(it)
		}
		return edit{span{p, p}, buf.Bytes()}
	}
	// Empty container: rewrite its inside.
	for i, it := range items {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n" + itemInd)
		buf.Write(it)
	}
	buf.WriteString("\n" + ind)
	return edit{span{1, end}, buf.Bytes()}
}

type edit struct {
	at   span
	with []byte
}

func applyEdits(src []byte, edits []edit) []byte {
	if len(edits) == 0 {
		return src
	}
	var buf bytes.Buffer
	pos := 0
	for _, e := range edits { // edits are in source order
		buf.Write(src[pos:e.at.start])
		buf.Write(e.with)
		pos = e.at.end
	}
	buf.Write(src[pos:])
	return buf.Bytes()
}

func quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func str(s string) func(string) []byte {
	return func(string) []byte { return quote(s) }
}

func nullableStr(s string) func(string) []byte {
	return func(string) []byte {
		if s == "" {
			return []byte("null")
		}
		return quote(s)
	}
}

func boolean(v bool) func(string) []byte {
	return func(string) []byte {
		if v {
			return []byte("true")
		}
		return []byte("false")
	}
}

func doc(d *state.Doc) func(string) []byte {
	return func(string) []byte {
		if d == nil {
			return []byte("null")
		}
		if d.Form == state.FormObject && json.Valid(d.Text) {
			return d.Text
		}
		return quote(string(d.Text))
	}
}

// array writes a JSON array of n items. With src, the items that already
// exist are spliced in place (each encoder keeps its own Source) and new
// ones appended; when items were removed the array is written afresh.
func (w *writer) array(src []byte, ind string, n int, item func(i int, ind string) []byte) []byte {
	if src != nil && kindOf(src) == "array" {
		es := arrayElements(src)
		if n >= len(es) {
			ii, multiline := ind+w.unit, true
			if len(es) > 0 {
				if s, ok := lineIndent(src, es[0].start); ok {
					ii = s
				} else {
					multiline = false
				}
			}
			var edits []edit
			for i, e := range es {
				if b := item(i, ii); !bytes.Equal(b, src[e.start:e.end]) {
					edits = append(edits, edit{e, b})
				}
			}
			if n > len(es) {
				var items [][]byte
				for i := len(es); i < n; i++ {
					items = append(items, item(i, ii))
				}
				edits = append(edits, w.appendEdit(src, ']', len(es) > 0, multiline, ind, ii, items))
			}
			return applyEdits(src, edits)
		}
	}
	if n == 0 {
		return []byte("[]")
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n" + ind + w.unit)
		buf.Write(item(i, ind+w.unit))
	}
	buf.WriteString("\n" + ind + "]")
	return buf.Bytes()
}

// memberValue returns the raw value of member name in the object src.
func memberValue(src []byte, name string) []byte {
	if src == nil || kindOf(src) != "object" {
		return nil
	}
	for _, m := range objectMembers(src) {
		if m.key == name {
			return src[m.val.start:m.val.end]
		}
	}
	return nil
}
