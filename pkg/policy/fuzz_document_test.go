package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Run with: go test -fuzz=FuzzParseRoundTrip -fuzztime=60s ./pkg/policy/
// (and FuzzEdit). Crashers land in testdata/fuzz/ and run with go test.

var fuzzKinds = []Kind{KindAny, KindIdentity, KindBucketPolicy, KindKeyPolicy}

func addFuzzSeeds(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.text)
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"Statement":[]}`, "{\"Statement\":[\n  ]}", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"} , {"Effect":"Deny","Action":"*","Resource":"*"} ]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":["\ud83d\ude00",1e3,true]}}}]}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseRoundTrip: any input that parses writes back byte for byte and
// keeps its meaning through re-encoding; any input that does not parse
// fails with a located error, and only for a reason.
func FuzzParseRoundTrip(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		input := bytes.Clone(data)
		for _, kind := range fuzzKinds {
			d, err := Parse(data, kind)
			if err != nil {
				checkFuzzError(t, data, err)
				continue
			}
			if !bytes.Equal(d.Bytes(), input) {
				t.Fatalf("Bytes() differs from the input:\n got %q\nwant %q", d.Bytes(), input)
			}
			if !json.Valid(data) {
				t.Fatalf("Parse accepted invalid JSON %q", data)
			}
			if !utf8.Valid(data) {
				// encoding/json would have turned the bad bytes into U+FFFD:
				// a silent change to the policy.
				t.Fatalf("Parse accepted invalid UTF-8 %q", data)
			}
			canon := d.Canonical()
			if !json.Valid(canon) {
				t.Fatalf("Canonical() is not JSON: %s", canon)
			}
			re, err := Parse(d.Bytes(), kind)
			if err != nil {
				t.Fatalf("re-parsing the output: %v", err)
			}
			if !bytes.Equal(re.Canonical(), canon) {
				t.Fatalf("re-parse has another canonical form:\n%s\n%s", canon, re.Canonical())
			}
			if c := d.Clone(); !bytes.Equal(c.Bytes(), input) || !Equal(c, d) {
				t.Fatalf("Clone differs")
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, data); err != nil {
				t.Fatalf("json.Compact: %v", err)
			}
			for name, text := range map[string][]byte{"json.Compact": compact.Bytes(), "Pretty": d.Pretty()} {
				other, err := Parse(text, kind)
				if err != nil {
					t.Fatalf("%s output does not parse: %v\n%s", name, err, text)
				}
				if !bytes.Equal(other.Canonical(), canon) {
					t.Fatalf("%s output has another canonical form:\n%s\n%s", name, canon, other.Canonical())
				}
			}
		}
	})
}

// checkFuzzError: a refusal is a *ParseError or a located *SyntaxError, and
// JSON that encoding/json accepts is refused only for what AWS rejects and
// encoding/json lets through.
func checkFuzzError(t *testing.T, data []byte, err error) {
	t.Helper()
	var pe *ParseError
	var se *SyntaxError
	switch {
	case errors.As(err, &pe):
		if pe.Index >= 0 && !strings.HasPrefix(err.Error(), "statement ") {
			t.Fatalf("ParseError for a statement does not name it: %v", err)
		}
	case errors.As(err, &se):
		if se.Line < 1 || se.Column < 1 {
			t.Fatalf("SyntaxError without a position: %v", err)
		}
		if json.Valid(data) {
			for _, allowed := range []string{"duplicate member", "nested more than", "surrogate", "UTF-8"} {
				if strings.Contains(se.Msg, allowed) {
					return
				}
			}
			t.Fatalf("valid JSON refused as malformed: %v\n%q", err, data)
		}
	default:
		t.Fatalf("error %T %v is neither a *ParseError nor a *SyntaxError", err, err)
	}
}

// FuzzEdit: appending a statement to any document that parses keeps every
// original statement and re-parses, and removing it gives the text back.
func FuzzEdit(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range fuzzKinds {
			d, err := Parse(data, kind)
			if err != nil {
				continue
			}
			fuzzEditOne(t, d, kind)
		}
	})
}

func fuzzEditOne(t *testing.T, d *Document, kind Kind) {
	before := bytes.Clone(d.Bytes())
	orig := d.Statements()
	n := len(orig)
	for _, s := range orig {
		if s.Sid == "FuzzAdded" {
			return
		}
	}
	stmt := addedStatement(kind)
	stmt = strings.Replace(stmt, "BucketgrantAdded", "FuzzAdded", 1)
	single := d.SingleStatement()
	// An empty Statement array written across lines (`[\n  ]`) comes back as
	// `[]`: after an append nothing tells it from json.MarshalIndent's `[]`.
	emptyMultiline := n == 0 && d.stmts.val.kind == kindArray && bytes.ContainsAny(d.stmts.val.inner, "\r\n")

	if err := d.AppendStatement([]byte(stmt)); err != nil {
		t.Fatalf("AppendStatement to %q as %v: %v", before, kind, err)
	}
	after, err := Parse(d.Bytes(), kind)
	if err != nil {
		t.Fatalf("the result does not re-parse: %v\n%s", err, d.Bytes())
	}
	if len(after.Statements()) != n+1 {
		t.Fatalf("%d statements after the append, want %d", len(after.Statements()), n+1)
	}
	if diff := cmp.Diff(orig, after.Statements()[:n]); diff != "" {
		t.Fatalf("original statements changed:\n%s", diff)
	}
	if err := d.RemoveStatement(n); err != nil {
		t.Fatalf("RemoveStatement: %v", err)
	}
	switch {
	case single || emptyMultiline:
		if !bytes.Equal(d.Canonical(), docFromText(t, string(before), kind).Canonical()) {
			t.Fatalf("append and remove changed the meaning:\n%s\n%s", before, d.Bytes())
		}
	case !bytes.Equal(d.Bytes(), before):
		t.Fatalf("append and remove changed the text:\n got %q\nwant %q", d.Bytes(), before)
	}
	if n == 0 {
		return
	}

	// Setting a member of the first statement touches only it.
	d = docFromText(t, string(before), kind)
	hadCondition := d.stmts.val.kind == kindObject && d.stmts.val.member("Condition") != nil ||
		d.stmts.val.kind == kindArray && d.stmts.val.elems[0].val.member("Condition") != nil
	if err := d.SetStatementMember(0, "Condition", []byte(`{"StringEquals":{"aws:PrincipalTag/team":["a","b"]}}`)); err != nil {
		t.Fatalf("SetStatementMember: %v", err)
	}
	if len(d.Statements()[0].Conditions) != 1 {
		t.Fatalf("Condition not set: %s", d.Bytes())
	}
	if diff := cmp.Diff(orig[1:], d.Statements()[1:]); diff != "" {
		t.Fatalf("other statements changed:\n%s", diff)
	}
	if !hadCondition {
		if err := d.RemoveStatementMember(0, "Condition"); err != nil {
			t.Fatalf("RemoveStatementMember: %v", err)
		}
		if !bytes.Equal(d.Bytes(), before) {
			t.Fatalf("set and remove of a member changed the text:\n got %q\nwant %q", d.Bytes(), before)
		}
	}

	// Removing the first statement keeps the others.
	d = docFromText(t, string(before), kind)
	if err := d.RemoveStatement(0); err != nil {
		t.Fatalf("RemoveStatement(0): %v", err)
	}
	if diff := cmp.Diff(statementsWithoutIndex(orig[1:]), statementsWithoutIndex(d.Statements())); diff != "" {
		t.Fatalf("RemoveStatement(0) changed the others:\n%s", diff)
	}
}
