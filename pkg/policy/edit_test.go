package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// editLayout is a document layout edits must respect. Files under
// testdata/edits/ hold the expected result of each edit on each layout.
type editLayout struct {
	name string
	kind Kind
	text string
}

func editLayouts(t *testing.T) []editLayout {
	t.Helper()
	fromCorpus := []struct{ name, file string }{
		{"compact-iam", "identity-compact-iam.json"},
		{"compact-s3", "bucket-require-sse-kms.json"},
		{"kms-console", "key-console-admins-users-grants.json"},
		{"kms-default", "key-default-policy.json"},
		{"marshalindent", "identity-notresource.json"},
		{"four-space-indent", "identity-notaction-mfa.json"},
		{"single-object-pretty", "identity-single-statement-object.json"},
		{"single-object-compact", "bucket-single-statement-object.json"},
		{"empty-statement-array", "any-empty-statement-array.json"},
		{"crlf", "key-crlf-line-endings.json"},
		{"tabs", "identity-tab-indented.json"},
		{"spaces-around-punctuation", "identity-spaces-around-punctuation.json"},
		{"trailing-white-space", "identity-trailing-whitespace.json"},
		{"one-line-values-in-pretty", "identity-username-variable.json"},
	}
	var out []editLayout
	for _, c := range fromCorpus {
		text, err := os.ReadFile(filepath.Join("testdata", "corpus", c.file))
		if err != nil {
			t.Fatal(err)
		}
		kind, _ := corpusKind(c.file)
		out = append(out, editLayout{c.name, kind, string(text)})
	}
	return append(out,
		editLayout{"kms-empty-statement-array", KindAny, "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ ]\n}"},
		editLayout{"one-line-statements-in-pretty", KindAny, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:ListBucket\"], \"Resource\": \"*\"},\n    {\"Effect\": \"Deny\", \"NotAction\": \"s3:*\", \"Resource\": \"*\"}\n  ]\n}\n"},
		editLayout{"compact-empty-statement-array", KindAny, `{"Version":"2012-10-17","Statement":[]}`},
	)
}

// addedStatement is the statement the tests append: every kind of value, so
// the layout of nested objects and arrays shows in the golden files.
func addedStatement(kind Kind) string {
	principal := `"Principal":{"AWS":["arn:aws:iam::111122223333:role/Added","444455556666"]},`
	if kind == KindIdentity {
		principal = ""
	}
	return `{"Sid":"BucketgrantAdded","Effect":"Allow",` + principal + `"Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::added/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":["a","b"]},"Bool":{"aws:SecureTransport":"true"}}}`
}

// nodeSpan returns where a node of d's tree sits in d.Bytes(): every node
// of a freshly parsed document is a slice of its text. An append does not
// parse the document again, so its nodes are found on a parse of the text.
func nodeSpan(t *testing.T, d *Document, n *node) (int, int) {
	t.Helper()
	text := d.Bytes()
	if n.dirty || cap(text)-cap(n.raw) < 0 || cap(text)-cap(n.raw) > len(text) {
		var buf bytes.Buffer
		n.write(&buf)
		i := bytes.Index(text, buf.Bytes())
		if i < 0 || bytes.Index(text[i+1:], buf.Bytes()) >= 0 {
			t.Fatalf("node not found once in the document text")
		}
		return i, i + buf.Len()
	}
	start := cap(text) - cap(n.raw)
	if start < 0 || start+len(n.raw) > len(text) || !bytes.Equal(text[start:start+len(n.raw)], n.raw) {
		t.Fatalf("node is not a slice of the document text")
	}
	return start, start + len(n.raw)
}

// changedRegion returns the region of before that differs from after, and
// the text after holds in its place, by common prefix and suffix.
func changedRegion(before, after []byte) (start, endBefore, endAfter int) {
	for start < len(before) && start < len(after) && before[start] == after[start] {
		start++
	}
	endBefore, endAfter = len(before), len(after)
	for endBefore > start && endAfter > start && before[endBefore-1] == after[endAfter-1] {
		endBefore--
		endAfter--
	}
	return start, endBefore, endAfter
}

// checkOnlyInserted asserts that after is before with inserted added once
// and, besides it, only white space, commas and brackets.
func checkOnlyInserted(t *testing.T, before, after, inserted []byte) {
	t.Helper()
	rest := after
	if len(inserted) > 0 {
		if bytes.Count(after, inserted) != bytes.Count(before, inserted)+1 {
			t.Fatalf("inserted text not found exactly once:\n%s", inserted)
		}
		// The last occurrence is the new text: edits append.
		i := bytes.LastIndex(after, inserted)
		rest = append(bytes.Clone(after[:i]), after[i+len(inserted):]...)
	}
	j := 0
	var extra []byte
	for _, c := range rest {
		switch {
		case j < len(before) && c == before[j]:
			j++
		case strings.IndexByte(" \t\r\n,[]", c) >= 0:
			extra = append(extra, c)
		default:
			t.Fatalf("the edit changed more than the inserted text: unexpected %q at %d of\n%s", c, len(extra)+j, rest)
		}
	}
	if j != len(before) {
		t.Fatalf("the edit removed original text from %d on:\n%s", j, before[j:])
	}
	if len(extra) > 16 {
		t.Errorf("the edit added %q beside the inserted text", extra)
	}
}

// lastStatementText is the text of the last statement of d.
func lastStatementText(t *testing.T, d *Document) []byte {
	t.Helper()
	n, err := d.statementNode(len(d.Statements()) - 1)
	if err != nil {
		t.Fatal(err)
	}
	s, e := nodeSpan(t, d, n)
	return d.Bytes()[s:e]
}

func statementsWithoutIndex(ss []Statement) []Statement {
	out := make([]Statement, len(ss))
	for i, s := range ss {
		s.Index = 0
		out[i] = s
	}
	return out
}

func TestEditAppendStatement(t *testing.T) {
	for _, l := range editLayouts(t) {
		t.Run(l.name, func(t *testing.T) {
			d := docFromText(t, l.text, l.kind)
			before := bytes.Clone(d.Bytes())
			orig := d.Statements()
			n := len(orig)
			stmt := addedStatement(l.kind)

			if err := d.AppendStatement([]byte(stmt)); err != nil {
				t.Fatalf("AppendStatement: %v", err)
			}
			after := bytes.Clone(d.Bytes())
			checkGolden(t, filepath.Join("testdata", "edits", l.name+".append.json"), after)

			if got := len(d.Statements()); got != n+1 {
				t.Fatalf("%d statements after the append, want %d", got, n+1)
			}
			if diff := cmp.Diff(orig, d.Statements()[:n]); diff != "" {
				t.Errorf("original statements changed (-before +after):\n%s", diff)
			}
			want := docFromText(t, `{"Statement":[`+stmt+`]}`, l.kind).Statements()
			if diff := cmp.Diff(statementsWithoutIndex(want), statementsWithoutIndex(d.Statements()[n:])); diff != "" {
				t.Errorf("appended statement (-want +got):\n%s", diff)
			}
			if d.SingleStatement() {
				t.Errorf("two statements but SingleStatement() is true")
			}
			if _, err := Parse(after, l.kind); err != nil {
				t.Errorf("the result does not parse: %v", err)
			}

			inserted := lastStatementText(t, d)
			checkOnlyInserted(t, before, after, inserted)
			if !strings.HasPrefix(l.name, "single-object") {
				// Away from a single-object Statement, appending inserts
				// text and removes none.
				if s, eb, _ := changedRegion(before, after); s != eb {
					t.Errorf("the append replaced %q", before[s:eb])
				}
			}
			if n > 0 {
				neighbour, _ := docFromText(t, l.text, l.kind).statementNode(n - 1)
				if multiline := bytes.ContainsRune(neighbour.raw, '\n'); multiline != bytes.ContainsRune(inserted, '\n') {
					t.Errorf("the new statement is laid out unlike its neighbour (multi-line: %v):\n%s", multiline, inserted)
				}
			}
			if bytes.Contains(before, []byte("\r\n")) && bytes.Count(after, []byte("\n")) != bytes.Count(after, []byte("\r\n")) {
				t.Errorf("a CRLF document gained bare line feeds")
			}

			// Removing what was appended gives the text back.
			if err := d.RemoveStatement(n); err != nil {
				t.Fatalf("RemoveStatement: %v", err)
			}
			if strings.HasPrefix(l.name, "single-object") {
				// The brackets the append added stay: [{…}] means the same
				// as {…}, and a one-element array cannot tell which it was.
				if !Equal(d, docFromText(t, l.text, l.kind)) {
					t.Errorf("RemoveStatement did not restore the meaning:\n%s", d.Bytes())
				}
				checkOnlyInserted(t, before, d.Bytes(), nil)
				return
			}
			if diff := cmp.Diff(string(before), string(d.Bytes())); diff != "" {
				t.Errorf("RemoveStatement of the appended statement did not restore the text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditAppendTwice(t *testing.T) {
	for _, l := range editLayouts(t) {
		t.Run(l.name, func(t *testing.T) {
			d := docFromText(t, l.text, l.kind)
			n := len(d.Statements())
			for i := range 2 {
				stmt := strings.Replace(addedStatement(l.kind), "BucketgrantAdded", fmt.Sprintf("Added%d", i), 1)
				if err := d.AppendStatement([]byte(stmt)); err != nil {
					t.Fatalf("AppendStatement %d: %v", i, err)
				}
			}
			afterTwo := bytes.Clone(d.Bytes())
			// Both appended statements are laid out alike (spans are
			// found on a parse of the text: appends do not re-parse).
			parsed := docFromText(t, string(afterTwo), l.kind)
			a, _ := parsed.statementNode(n)
			b, _ := parsed.statementNode(n + 1)
			sa, ea := nodeSpan(t, parsed, a)
			sb, eb := nodeSpan(t, parsed, b)
			if got, want := strings.Replace(string(afterTwo[sb:eb]), "Added1", "Added0", 1), string(afterTwo[sa:ea]); got != want {
				t.Errorf("the second appended statement is laid out differently:\n%s\n%s", want, got)
			}
			if err := d.RemoveStatement(n + 1); err != nil {
				t.Fatal(err)
			}
			if err := d.RemoveStatement(n); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(l.name, "single-object") && string(d.Bytes()) != l.text {
				t.Errorf("two appends and two removals changed the text:\n%s", d.Bytes())
			}
		})
	}
}

func TestEditSetStatementMember(t *testing.T) {
	const condition = `{"StringEquals":{"aws:PrincipalTag/team":["a","b"]},"Bool":{"aws:SecureTransport":"true"}}`
	for _, l := range editLayouts(t) {
		if len(docFromText(t, l.text, l.kind).Statements()) == 0 {
			continue
		}
		t.Run(l.name, func(t *testing.T) {
			d := docFromText(t, l.text, l.kind)
			before := bytes.Clone(d.Bytes())
			orig := d.Statements()
			stmt, _ := d.statementNode(0)
			old := stmt.member("Condition")
			var oldStart, oldEnd int
			if old != nil {
				oldStart, oldEnd = nodeSpan(t, d, old.val)
			}

			if err := d.SetStatementMember(0, "Condition", []byte(condition)); err != nil {
				t.Fatalf("SetStatementMember: %v", err)
			}
			after := bytes.Clone(d.Bytes())
			checkGolden(t, filepath.Join("testdata", "edits", l.name+".set-condition.json"), after)

			want := docFromText(t, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":`+condition+`}]}`, KindAny).Statements()[0].Conditions
			if diff := cmp.Diff(want, d.Statements()[0].Conditions); diff != "" {
				t.Errorf("Condition (-want +got):\n%s", diff)
			}
			// Nothing but the Condition changed.
			got0, orig0 := d.Statements()[0], orig[0]
			got0.Conditions, orig0.Conditions = nil, nil
			if diff := cmp.Diff(orig0, got0); diff != "" {
				t.Errorf("statement 0 changed beyond its Condition:\n%s", diff)
			}
			if diff := cmp.Diff(orig[1:], d.Statements()[1:]); diff != "" {
				t.Errorf("other statements changed:\n%s", diff)
			}
			s, eb, _ := changedRegion(before, after)
			if old != nil {
				if s < oldStart || eb > oldEnd {
					t.Errorf("replacing the value changed bytes %d-%d, outside the old value at %d-%d", s, eb, oldStart, oldEnd)
				}
				return
			}
			if s != eb {
				t.Errorf("adding a member replaced %q", before[s:eb])
			}
			// Removing the added member gives the text back.
			if err := d.RemoveStatementMember(0, "Condition"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(before), string(d.Bytes())); diff != "" {
				t.Errorf("RemoveStatementMember of the added member did not restore the text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditSetStatementMemberInPlace(t *testing.T) {
	tests := []struct {
		name, doc, key, value, want string
	}{
		{"compact string to array", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, "Action", `["s3:GetObject", "s3:PutObject"]`,
			`{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}`},
		{"KMS console array stays inline", "{\n  \"Statement\" : [ {\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"*\"\n    },\n    \"Action\" : [ \"kms:Decrypt\" ],\n    \"Resource\" : \"*\"\n  } ]\n}", "Action", `["kms:Decrypt","kms:Encrypt"]`,
			"{\n  \"Statement\" : [ {\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"*\"\n    },\n    \"Action\" : [ \"kms:Decrypt\", \"kms:Encrypt\" ],\n    \"Resource\" : \"*\"\n  } ]\n}"},
		{"MarshalIndent object", "{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}", "Principal", `{"AWS":["111122223333"]}`,
			"{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": [\n          \"111122223333\"\n        ]\n      },\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"},
		{"number text kept", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "Condition", `{"NumericLessThan":{"s3:max-keys":1.50e0}}`,
			`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":1.50e0}}}]}`},
		{"key needing escapes", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, `X-"quoted"<tag>`, `"é"`,
			`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","X-\"quoted\"<tag>":"é"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := docFromText(t, tt.doc, KindAny)
			if err := d.SetStatementMember(0, tt.key, []byte(tt.value)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(d.Bytes())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditRemoveStatement(t *testing.T) {
	for _, l := range editLayouts(t) {
		d := docFromText(t, l.text, l.kind)
		if len(d.Statements()) < 2 {
			continue
		}
		t.Run(l.name, func(t *testing.T) {
			orig := d.Statements()
			before := bytes.Clone(d.Bytes())
			if err := d.RemoveStatement(0); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "edits", l.name+".remove-first.json"), d.Bytes())
			if diff := cmp.Diff(statementsWithoutIndex(orig[1:]), statementsWithoutIndex(d.Statements())); diff != "" {
				t.Errorf("remaining statements (-want +got):\n%s", diff)
			}
			// Only the first statement and the separator after it went.
			src := docFromText(t, l.text, l.kind)
			first, _ := src.statementNode(0)
			second, _ := src.statementNode(1)
			start, _ := nodeSpan(t, src, first)
			end, _ := nodeSpan(t, src, second)
			want := string(before[:start]) + string(before[end:])
			if diff := cmp.Diff(want, string(d.Bytes())); diff != "" {
				t.Errorf("removing the first statement changed more than it (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditRemoveLastStatement(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"KMS", "{\n  \"Statement\" : [ {\n    \"Effect\" : \"Allow\",\n    \"Action\" : \"kms:*\"\n  } ]\n}", "{\n  \"Statement\" : [ ]\n}"},
		{"MarshalIndent", "{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"kms:*\"\n    }\n  ]\n}", "{\n  \"Statement\": []\n}"},
		{"compact", `{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}`, `{"Statement":[]}`},
		{"single object", `{"Statement":{"Effect":"Allow","Action":"kms:*"}}`, `{"Statement":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := docFromText(t, tt.doc, KindAny)
			if err := d.RemoveStatement(0); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(d.Bytes())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditRemoveStatementMember(t *testing.T) {
	tests := []struct{ name, doc, key, want string }{
		{"first member keeps the brace's white space", `{"Statement":[{ "Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*" }]}`, "Sid",
			`{"Statement":[{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }]}`},
		{"last member", "{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\",\n      \"Sid\": \"A\"\n    }\n  ]\n}", "Sid",
			"{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"},
		{"middle member", "{\n  \"Statement\" : [ {\n    \"Effect\" : \"Allow\",\n    \"Sid\" : \"A\",\n    \"Action\" : \"s3:*\",\n    \"Resource\" : \"*\"\n  } ]\n}", "Sid",
			"{\n  \"Statement\" : [ {\n    \"Effect\" : \"Allow\",\n    \"Action\" : \"s3:*\",\n    \"Resource\" : \"*\"\n  } ]\n}"},
		{"absent member", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "Condition",
			`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := docFromText(t, tt.doc, KindAny)
			if err := d.RemoveStatementMember(0, tt.key); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(d.Bytes())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEditRefused: an edit that would make the document invalid is refused
// and leaves it exactly as it was.
func TestEditRefused(t *testing.T) {
	bucket := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`
	identity := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Sid\": \"A\",\n    \"Effect\": \"Allow\",\n    \"Action\": \"s3:GetObject\",\n    \"Resource\": \"*\"\n  }\n}"
	tests := []struct {
		name string
		kind Kind
		doc  string
		edit func(*Document) error
	}{
		{"lower-case Effect", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "Effect", []byte(`"allow"`)) }},
		{"Action and NotAction", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "NotAction", []byte(`"s3:*"`)) }},
		{"empty Action", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "Action", []byte(`[]`)) }},
		{"unknown operator", KindBucketPolicy, bucket, func(d *Document) error {
			return d.SetStatementMember(0, "Condition", []byte(`{"StringEqualz":{"a":"b"}}`))
		}},
		{"malformed value", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "Action", []byte(`["s3:*"`)) }},
		{"value with trailing garbage", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "Action", []byte(`"s3:*" x`)) }},
		{"empty value", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(0, "Action", nil) }},
		{"no such statement", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(1, "Sid", []byte(`"B"`)) }},
		{"negative statement", KindBucketPolicy, bucket, func(d *Document) error { return d.SetStatementMember(-1, "Sid", []byte(`"B"`)) }},
		{"remove Effect", KindBucketPolicy, bucket, func(d *Document) error { return d.RemoveStatementMember(0, "Effect") }},
		{"remove Principal", KindBucketPolicy, bucket, func(d *Document) error { return d.RemoveStatementMember(0, "Principal") }},
		{"remove from no such statement", KindBucketPolicy, bucket, func(d *Document) error { return d.RemoveStatementMember(3, "Sid") }},
		{"remove no such statement", KindBucketPolicy, bucket, func(d *Document) error { return d.RemoveStatement(1) }},
		{"remove negative statement", KindBucketPolicy, bucket, func(d *Document) error { return d.RemoveStatement(-1) }},
		{"append without Principal", KindBucketPolicy, bucket, func(d *Document) error {
			return d.AppendStatement([]byte(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`))
		}},
		{"append duplicate Sid", KindBucketPolicy, bucket, func(d *Document) error {
			return d.AppendStatement([]byte(`{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`))
		}},
		{"append duplicate member", KindBucketPolicy, bucket, func(d *Document) error {
			return d.AppendStatement([]byte(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Effect":"Deny"}`))
		}},
		{"append an array", KindBucketPolicy, bucket, func(d *Document) error { return d.AppendStatement([]byte(`[{}]`)) }},
		{"append malformed", KindBucketPolicy, bucket, func(d *Document) error { return d.AppendStatement([]byte(`{"Effect":`)) }},
		{"append nothing", KindBucketPolicy, bucket, func(d *Document) error { return d.AppendStatement(nil) }},
		{"append Principal to an identity policy", KindIdentity, identity, func(d *Document) error {
			return d.AppendStatement([]byte(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`))
		}},
		{"append non-alphanumeric Sid to an identity policy", KindIdentity, identity, func(d *Document) error {
			return d.AppendStatement([]byte(`{"Sid":"a b","Effect":"Allow","Action":"s3:*","Resource":"*"}`))
		}},
		{"set Principal in an identity policy", KindIdentity, identity, func(d *Document) error {
			return d.SetStatementMember(0, "Principal", []byte(`"*"`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := docFromText(t, tt.doc, tt.kind)
			canon := d.Canonical()
			if err := tt.edit(d); err == nil {
				t.Fatalf("the edit was accepted:\n%s", d.Bytes())
			}
			if string(d.Bytes()) != tt.doc {
				t.Errorf("a refused edit changed the text:\n%s", d.Bytes())
			}
			if !bytes.Equal(d.Canonical(), canon) || d.SingleStatement() != docFromText(t, tt.doc, tt.kind).SingleStatement() {
				t.Errorf("a refused edit changed the document")
			}
			// The document still edits normally.
			if err := d.SetStatementMember(0, "Sid", []byte(`"Still"`)); err != nil {
				t.Errorf("editing after a refused edit: %v", err)
			}
		})
	}
}

func TestEditNewDocument(t *testing.T) {
	d := New(KindKeyPolicy)
	if err := d.AppendStatement([]byte(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`)); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Enable IAM User Permissions\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": \"kms:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
	if diff := cmp.Diff(want, string(d.Bytes())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEditLayoutVariants runs the edit round trips of FuzzEdit over every
// corpus document re-encoded in other layouts.
func TestEditLayoutVariants(t *testing.T) {
	variants := map[string]func([]byte) []byte{
		"as is": func(b []byte) []byte { return b },
		"compact": func(b []byte) []byte {
			var out bytes.Buffer
			_ = json.Compact(&out, b)
			return out.Bytes()
		},
		"two spaces": func(b []byte) []byte {
			var out bytes.Buffer
			_ = json.Indent(&out, b, "", "  ")
			return out.Bytes()
		},
		"tabs and CRLF": func(b []byte) []byte {
			var out bytes.Buffer
			_ = json.Indent(&out, b, "", "\t")
			return bytes.ReplaceAll(out.Bytes(), []byte("\n"), []byte("\r\n"))
		},
		"prefixed and trailing newline": func(b []byte) []byte {
			var out bytes.Buffer
			_ = json.Indent(&out, b, "    ", "   ")
			return append(out.Bytes(), '\n')
		},
	}
	for _, c := range loadCorpus(t) {
		for name, variant := range variants {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				d, err := Parse(variant(c.text), c.kind)
				if err != nil {
					t.Fatal(err)
				}
				fuzzEditOne(t, d, c.kind)
			})
		}
	}
}

// The append fast path gives the document Parse would give: the same text,
// the same typed statements, and an edit after it behaves as after a parse.
func TestAppendWithoutReparseEqualsParse(t *testing.T) {
	docs := map[Kind]string{
		KindKeyPolicy:    "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-consolepolicy-3\",\n  \"Statement\" : [ {\n    \"Sid\" : \"Root\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}",
		KindBucketPolicy: `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`,
		KindIdentity:     "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": []\n}",
	}
	add := [][]byte{
		[]byte(`{"Sid":"A1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}`),
		[]byte(`{"Sid":"A2","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/*"}}}`),
	}
	for kind, text := range docs {
		d, err := ParseString(text, kind)
		if err != nil {
			t.Fatal(err)
		}
		stmts := add
		if kind == KindIdentity {
			stmts = [][]byte{[]byte(`{"Sid":"A1","Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}`), []byte(`{"Sid":"A2","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/k"}`)}
		}
		if err := d.AppendStatements(stmts...); err != nil {
			t.Fatalf("%v: %v", kind, err)
		}
		want, err := Parse(bytes.Clone(d.Bytes()), kind)
		if err != nil {
			t.Fatalf("%v: the appended text does not parse: %v\n%s", kind, err, d.Bytes())
		}
		if !reflect.DeepEqual(d.Statements(), want.Statements()) {
			t.Errorf("%v: typed statements differ from a parse:\n got %+v\nwant %+v", kind, d.Statements(), want.Statements())
		}
		for i := range want.Statements() {
			if !bytes.Equal(d.StatementText(i), want.StatementText(i)) {
				t.Errorf("%v: statement %d text %q, parse gives %q", kind, i, d.StatementText(i), want.StatementText(i))
			}
		}
		// Edits after the fast path match edits after a parse.
		if err := d.RemoveStatement(0); err != nil {
			t.Fatal(err)
		}
		if err := want.RemoveStatement(0); err != nil {
			t.Fatal(err)
		}
		if d.String() != want.String() {
			t.Errorf("%v: an edit after the fast path differs:\n%s\n%s", kind, d.String(), want.String())
		}
	}
	// A statement the kind refuses takes the full path and its error.
	d := MustParse(docs[KindIdentity], KindIdentity)
	if err := d.AppendStatements([]byte(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`)); err == nil {
		t.Error("a Principal in an identity policy was appended")
	}
	if err := d.AppendStatements([]byte(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::café世"}`)); err == nil {
		t.Error("a character IAM refuses was appended")
	}
	if d.String() != docs[KindIdentity] {
		t.Error("a refused append changed the document")
	}
}

// TestAppendToClonesLeavesOthersAlone appends to clones of one document, in
// every layout: an append copies of the shared tree only what it changes,
// so the original and the other clones must keep their text, and each
// clone's appends must come out as on a document of its own.
func TestAppendToClonesLeavesOthersAlone(t *testing.T) {
	for _, l := range editLayouts(t) {
		t.Run(l.name, func(t *testing.T) {
			d := docFromText(t, l.text, l.kind)
			_ = d.String() // made once and shared with the clones until they change
			a, b := d.Clone(), d.Clone()
			stmt := func(i int) []byte {
				return []byte(strings.Replace(addedStatement(l.kind), "BucketgrantAdded", fmt.Sprintf("Added%d", i), 1))
			}
			if err := a.AppendStatements(stmt(0)); err != nil {
				t.Fatal(err)
			}
			if err := b.AppendStatements(stmt(0), stmt(1)); err != nil {
				t.Fatal(err)
			}
			if err := a.AppendStatements(stmt(1)); err != nil {
				t.Fatal(err)
			}
			if d.String() != l.text {
				t.Errorf("appending to clones changed the original:\n%s", d.Bytes())
			}
			for _, x := range []*Document{a, b} {
				if x.String() != string(x.Bytes()) {
					t.Errorf("String() is not the text after an append:\n%s\n%s", x.String(), x.Bytes())
				}
			}
			if a.String() != b.String() {
				t.Errorf("two appends differ from one append of both:\n%s\n%s", a.Bytes(), b.Bytes())
			}
			own := docFromText(t, l.text, l.kind)
			if err := own.AppendStatements(stmt(0), stmt(1)); err != nil {
				t.Fatal(err)
			}
			if own.String() != b.String() {
				t.Errorf("an append to a clone differs from one to a document of its own:\n%s\n%s", b.Bytes(), own.Bytes())
			}
			// Edits of the original after the clones' appends.
			if len(d.Statements()) > 0 {
				if err := d.RemoveStatement(len(d.Statements()) - 1); err != nil {
					t.Fatal(err)
				}
				if a.String() != own.String() || b.String() != own.String() {
					t.Errorf("editing the original changed a clone")
				}
			}
		})
	}
}
