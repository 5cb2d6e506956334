package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Format is the value of the "format" member this package reads and writes.
const Format = "bucketgrant.snapshot/2"

// Error is a problem with a snapshot file: the file, where in it, and what
// is wrong.
type Error struct {
	File string // the file name ("" when parsing bytes without one)
	Path string // JSON path, e.g. buckets[0].policy ("" for the whole file)
	Line int    // 1-based line for malformed JSON (0 otherwise)
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	where := e.File
	if where == "" {
		where = "snapshot"
	}
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col)
	}
	if e.Path != "" {
		return where + ": " + e.Path + ": " + e.Msg
	}
	return where + ": " + e.Msg
}

// Load reads the snapshot file at path.
func Load(path string) (*state.State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a snapshot from data; name is used in errors. The state keeps
// its own copy of data (as Source) for Marshal.
func Parse(name string, data []byte) (*state.State, error) {
	data = bytes.Clone(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Msg: "empty file, want a JSON object"}
	}
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD
	// silently, and a document changed so must not be written back.
	// Some editors save a byte-order mark; JSON has none, and the error
	// encoding/json gives for it ("invalid character 'ï'") helps nobody.
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, &Error{File: name, Line: 1, Col: 1, Msg: "malformed JSON: the file starts with a byte-order mark; save it as UTF-8 without one"}
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		line, col := lineCol(data, off)
		return nil, &Error{File: name, Line: line, Col: col, Msg: fmt.Sprintf("byte 0x%02x is not UTF-8; a snapshot is UTF-8 JSON", data[off])}
	}
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		e := &Error{File: name, Msg: "malformed JSON: " + err.Error()}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			e.Line, e.Col = lineCol(data, int(se.Offset)-1)
		}
		return nil, e
	}
	r := reader{file: name}
	st, err := r.state(data)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// lineCol returns the 1-based line and column of byte offset off.
func lineCol(data []byte, off int) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > len(data) {
		off = len(data)
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

type reader struct{ file string }

func (r *reader) errf(path, format string, args ...any) error {
	return &Error{File: r.file, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func unquote(v []byte) string {
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fields lists an object's members by name, refusing duplicate names.
func (r *reader) fields(path string, v []byte) (map[string][]byte, []member, error) {
	if kindOf(v) != "object" {
		return nil, nil, r.errf(path, "want a JSON object, got %s", kindOf(v))
	}
	ms := objectMembers(v)
	m := make(map[string][]byte, len(ms))
	for _, x := range ms {
		if _, dup := m[x.key]; dup {
			return nil, nil, r.errf(join(path, x.key), "member %q appears twice", x.key)
		}
		m[x.key] = v[x.val.start:x.val.end:x.val.end]
	}
	return m, ms, nil
}

func (r *reader) str(path string, v []byte) (string, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return "", nil
	case "string":
		return unquote(v), nil
	}
	return "", r.errf(path, "want a string, got %s", kindOf(v))
}

func (r *reader) required(path string, v []byte) (string, error) {
	s, err := r.str(path, v)
	if err == nil && s == "" {
		err = r.errf(path, "missing (a non-empty string is required)")
	}
	return s, err
}

func (r *reader) boolean(path string, v []byte) (bool, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return false, nil
	case "boolean":
		return v[0] == 't', nil
	}
	return false, r.errf(path, "want true or false, got %s", kindOf(v))
}

// array returns the element values of an array (null or absent: none).
func (r *reader) array(path string, v []byte) ([][]byte, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	case "array":
		es := arrayElements(v)
		out := make([][]byte, len(es))
		for i, e := range es {
			out[i] = v[e.start:e.end:e.end]
		}
		return out, nil
	}
	return nil, r.errf(path, "want an array, got %s", kindOf(v))
}

// doc reads a policy document given as a JSON object or a JSON string
// holding the JSON text. null (or absence) is no document.
func (r *reader) doc(path string, v []byte) (*state.Doc, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	case "object":
		return &state.Doc{Text: bytes.Clone(v), Form: state.FormObject}, nil
	case "string":
		text := unquote(v)
		var probe any
		if err := json.Unmarshal([]byte(text), &probe); err != nil {
			msg := "the string does not hold JSON: " + err.Error()
			var se *json.SyntaxError
			if errors.As(err, &se) {
				l, c := lineCol([]byte(text), int(se.Offset)-1)
				msg = fmt.Sprintf("the string does not hold JSON (at %d:%d of the document): %v", l, c, err)
			}
			return nil, r.errf(path, "%s", msg)
		}
		if _, ok := probe.(map[string]any); !ok {
			return nil, r.errf(path, "the string holds a JSON %s, want a policy document (an object)", jsonKind(probe))
		}
		return &state.Doc{Text: []byte(text), Form: state.FormString}, nil
	}
	return nil, r.errf(path, "want a policy document (a JSON object or a string holding one), got %s", kindOf(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case float64:
		return "number"
	}
	return "object"
}

func (r *reader) state(data []byte) (*state.State, error) {
	sp := trimSpan(data)
	top := data[sp.start:sp.end:sp.end]
	m, _, err := r.fields("", top)
	if err != nil {
		return nil, err
	}
	format, err := r.str("format", m["format"])
	if err != nil {
		return nil, err
	}
	if format == "" {
		return nil, r.errf("format", "missing; want %q", Format)
	}
	if format != Format && format != FormatV1 {
		return nil, r.errf("format", "%s", formatError(format))
	}
	st := &state.State{Source: data}

	els, err := r.array("buckets", m["buckets"])
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for i, e := range els {
		p := index("buckets", i)
		b, err := r.bucket(p, e)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[b.Name]; dup {
			return nil, r.errf(join(p, "name"), "duplicate bucket name %q (also buckets[%d])", b.Name, j)
		}
		seen[b.Name] = i
		st.Buckets = append(st.Buckets, b)
	}

	els, err = r.array("keys", m["keys"])
	if err != nil {
		return nil, err
	}
	seen = map[string]int{}
	for i, e := range els {
		p := index("keys", i)
		k, err := r.key(p, e)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[k.ARN]; dup {
			return nil, r.errf(join(p, "arn"), "duplicate key arn %q (also keys[%d])", k.ARN, j)
		}
		seen[k.ARN] = i
		st.Keys = append(st.Keys, k)
	}

	els, err = r.array("principals", m["principals"])
	if err != nil {
		return nil, err
	}
	seen = map[string]int{}
	for i, e := range els {
		p := index("principals", i)
		pr, err := r.principal(p, e)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[pr.ARN]; dup {
			return nil, r.errf(join(p, "arn"), "duplicate principal arn %q (also principals[%d])", pr.ARN, j)
		}
		seen[pr.ARN] = i
		st.Principals = append(st.Principals, pr)
	}
	if st.Org, err = r.organization("organization", m["organization"]); err != nil {
		return nil, err
	}
	return st, nil
}

func (r *reader) bucket(path string, v []byte) (state.Bucket, error) {
	b := state.Bucket{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return b, err
	}
	if b.Name, err = r.required(join(path, "name"), m["name"]); err != nil {
		return b, err
	}
	if b.Account, err = r.str(join(path, "account"), m["account"]); err != nil {
		return b, err
	}
	if b.Region, err = r.str(join(path, "region"), m["region"]); err != nil {
		return b, err
	}
	if ev := m["encryption"]; kindOf(ev) != "null" && kindOf(ev) != "nothing" {
		enc, err := r.encryption(join(path, "encryption"), ev)
		if err != nil {
			return b, err
		}
		b.Encryption = enc
	}
	if b.ObjectOwnership, err = r.str(join(path, "object_ownership"), m["object_ownership"]); err != nil {
		return b, err
	}
	switch b.ObjectOwnership {
	case "", "BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter":
	default:
		return b, r.errf(join(path, "object_ownership"), "%q is not an Object Ownership setting (BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter)", b.ObjectOwnership)
	}
	if b.Policy, err = r.doc(join(path, "policy"), m["policy"]); err != nil {
		return b, err
	}
	return b, nil
}

func (r *reader) encryption(path string, v []byte) (*state.Encryption, error) {
	e := &state.Encryption{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return nil, err
	}
	if e.SSEAlgorithm, err = r.str(join(path, "sse_algorithm"), m["sse_algorithm"]); err != nil {
		return nil, err
	}
	if e.KMSMasterKeyID, err = r.str(join(path, "kms_master_key_id"), m["kms_master_key_id"]); err != nil {
		return nil, err
	}
	if e.BucketKeyEnabled, err = r.boolean(join(path, "bucket_key_enabled"), m["bucket_key_enabled"]); err != nil {
		return nil, err
	}
	return e, nil
}

func (r *reader) key(path string, v []byte) (state.Key, error) {
	k := state.Key{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return k, err
	}
	if k.ARN, err = r.required(join(path, "arn"), m["arn"]); err != nil {
		return k, err
	}
	if k.KeyManager, err = r.str(join(path, "key_manager"), m["key_manager"]); err != nil {
		return k, err
	}
	if k.KeyState, err = r.str(join(path, "key_state"), m["key_state"]); err != nil {
		return k, err
	}
	als, err := r.array(join(path, "aliases"), m["aliases"])
	if err != nil {
		return k, err
	}
	if als != nil {
		k.Aliases = []string{}
	}
	for i, a := range als {
		s, err := r.required(index(join(path, "aliases"), i), a)
		if err != nil {
			return k, err
		}
		k.Aliases = append(k.Aliases, s)
	}
	if k.Region, err = r.str(join(path, "region"), m["region"]); err != nil {
		return k, err
	}
	if k.Region == "" {
		k.Region = state.RegionOf(k.ARN)
	}
	if k.MultiRegion, err = r.boolean(join(path, "multi_region"), m["multi_region"]); err != nil {
		return k, err
	}
	if k.Policy, err = r.doc(join(path, "policy"), m["policy"]); err != nil {
		return k, err
	}
	if k.Grants, err = r.grants(join(path, "grants"), m["grants"]); err != nil {
		return k, err
	}
	return k, nil
}

func (r *reader) principal(path string, v []byte) (state.Principal, error) {
	p := state.Principal{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return p, err
	}
	if p.ARN, err = r.required(join(path, "arn"), m["arn"]); err != nil {
		return p, err
	}
	if p.ID, err = r.str(join(path, "id"), m["id"]); err != nil {
		return p, err
	}
	if p.Kind, err = r.str(join(path, "kind"), m["kind"]); err != nil {
		return p, err
	}
	if p.Kind == "" {
		p.Kind = state.KindOf(p.ARN)
	}
	if p.InlinePolicies, err = r.inline(join(path, "inline_policies"), m["inline_policies"]); err != nil {
		return p, err
	}
	if p.AttachedPolicies, err = r.attached(join(path, "attached_policies"), m["attached_policies"]); err != nil {
		return p, err
	}
	gs, err := r.array(join(path, "groups"), m["groups"])
	if err != nil {
		return p, err
	}
	if gs != nil {
		p.Groups = []state.Group{}
	}
	for i, gv := range gs {
		g, err := r.group(index(join(path, "groups"), i), gv)
		if err != nil {
			return p, err
		}
		p.Groups = append(p.Groups, g)
	}
	if bv := m["permissions_boundary"]; kindOf(bv) != "null" && kindOf(bv) != "nothing" {
		mp, err := r.managed(join(path, "permissions_boundary"), bv)
		if err != nil {
			return p, err
		}
		p.PermissionsBoundary = &mp
	}
	if p.Tags, err = r.tags(join(path, "tags"), m["tags"]); err != nil {
		return p, err
	}
	return p, nil
}

func (r *reader) group(path string, v []byte) (state.Group, error) {
	g := state.Group{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return g, err
	}
	if g.Name, err = r.required(join(path, "name"), m["name"]); err != nil {
		return g, err
	}
	if g.InlinePolicies, err = r.inline(join(path, "inline_policies"), m["inline_policies"]); err != nil {
		return g, err
	}
	if g.AttachedPolicies, err = r.attached(join(path, "attached_policies"), m["attached_policies"]); err != nil {
		return g, err
	}
	return g, nil
}

func (r *reader) inline(path string, v []byte) ([]state.NamedDoc, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	case "object":
	default:
		return nil, r.errf(path, "want an object of policy name to document, got %s", kindOf(v))
	}
	_, ms, err := r.fields(path, v)
	if err != nil {
		return nil, err
	}
	out := make([]state.NamedDoc, 0, len(ms))
	for _, x := range ms {
		p := join(path, x.key)
		if x.key == "" {
			return nil, r.errf(path, "an inline policy has an empty name")
		}
		d, err := r.doc(p, v[x.val.start:x.val.end:x.val.end])
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, r.errf(p, "want a policy document, got null")
		}
		out = append(out, state.NamedDoc{Name: x.key, Doc: d})
	}
	return out, nil
}

func (r *reader) attached(path string, v []byte) ([]state.ManagedPolicy, error) {
	els, err := r.array(path, v)
	if err != nil || els == nil {
		return nil, err
	}
	out := make([]state.ManagedPolicy, 0, len(els))
	for i, e := range els {
		mp, err := r.managed(index(path, i), e)
		if err != nil {
			return nil, err
		}
		out = append(out, mp)
	}
	return out, nil
}

func (r *reader) managed(path string, v []byte) (state.ManagedPolicy, error) {
	mp := state.ManagedPolicy{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return mp, err
	}
	if mp.ARN, err = r.required(join(path, "arn"), m["arn"]); err != nil {
		return mp, err
	}
	if mp.VersionID, err = r.str(join(path, "version_id"), m["version_id"]); err != nil {
		return mp, err
	}
	if mp.Document, err = r.doc(join(path, "document"), m["document"]); err != nil {
		return mp, err
	}
	return mp, nil
}
