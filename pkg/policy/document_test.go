package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDoc is one file of testdata/corpus: a document in the exact text
// form AWS returns it, named for what it shows. The name's prefix is the
// kind it is checked as: key-, bucket-, identity- or any- (a resource policy
// of another service, such as a role trust policy).
type corpusDoc struct {
	name string
	kind Kind
	text []byte
}

func corpusKind(name string) (Kind, bool) {
	for prefix, kind := range map[string]Kind{
		"key-": KindKeyPolicy, "bucket-": KindBucketPolicy, "identity-": KindIdentity, "any-": KindAny,
	} {
		if strings.HasPrefix(name, prefix) {
			return kind, true
		}
	}
	return KindAny, false
}

func loadCorpus(tb testing.TB) []corpusDoc {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var docs []corpusDoc
	for _, p := range paths {
		name := filepath.Base(p)
		kind, ok := corpusKind(name)
		if !ok {
			tb.Fatalf("corpus file %s: name must start with key-, bucket-, identity- or any-", name)
		}
		text, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, corpusDoc{name: name, kind: kind, text: text})
	}
	return docs
}

func TestCorpusSize(t *testing.T) {
	if n := len(loadCorpus(t)); n < 40 {
		t.Errorf("corpus has %d documents, want at least 40", n)
	}
}

// TestCorpusCoverage keeps the corpus honest: each shape the parser must
// survive appears in at least one file.
func TestCorpusCoverage(t *testing.T) {
	docs := loadCorpus(t)
	has := func(s string) func(corpusDoc) bool {
		return func(c corpusDoc) bool { return bytes.Contains(c.text, []byte(s)) }
	}
	parsed := func(check func(*Document) bool) func(corpusDoc) bool {
		return func(c corpusDoc) bool {
			d, err := Parse(c.text, c.kind)
			return err == nil && check(d)
		}
	}
	anyStatement := func(check func(Statement) bool) func(corpusDoc) bool {
		return parsed(func(d *Document) bool {
			for _, s := range d.Statements() {
				if check(s) {
					return true
				}
			}
			return false
		})
	}
	anyCondition := func(check func(Condition) bool) func(corpusDoc) bool {
		return anyStatement(func(s Statement) bool {
			for _, c := range s.Conditions {
				if check(c) {
					return true
				}
			}
			return false
		})
	}
	features := []struct {
		name string
		ok   func(corpusDoc) bool
	}{
		{"KMS pretty style", has(`"Statement" : [ {`)},
		{"grant condition", has("kms:GrantIsForAWSResource")},
		{"kms:ViaService", has("kms:ViaService")},
		{"kms:CallerAccount", has("kms:CallerAccount")},
		{"SecureTransport", has("aws:SecureTransport")},
		{"SSE-KMS", has(`"s3:x-amz-server-side-encryption":"aws:kms"`)},
		{"aws:SourceVpce", has("aws:SourceVpce")},
		{"aws:PrincipalOrgID", has("aws:PrincipalOrgID")},
		{"s3:prefix with ForAnyValue:StringLike", has(`"ForAnyValue:StringLike":{"s3:prefix"`)},
		{"IP ranges", has("NotIpAddress")},
		{"DateGreaterThan", has("DateGreaterThan")},
		{"NumericLessThan with a number", has(`"NumericLessThan":{"s3:TlsVersion":1.2}`)},
		{"Bool with a boolean", has(`"aws:SecureTransport":false`)},
		{"Null", has(`"Null":`)},
		{"Service principal", has(`"Service":"cloudfront.amazonaws.com"`)},
		{"CanonicalUser principal", has(`"CanonicalUser"`)},
		{"Federated principal", has(`"Federated"`)},
		{"ELB log delivery", has("logdelivery.elasticloadbalancing.amazonaws.com")},
		{"NotAction", anyStatement(func(s Statement) bool { return s.NotAction != nil })},
		{"NotResource", anyStatement(func(s Statement) bool { return s.NotResource != nil })},
		{"NotPrincipal", anyStatement(func(s Statement) bool { return s.NotPrincipal != nil })},
		{"${aws:username}", has("${aws:username}")},
		{"single-object Statement", parsed(func(d *Document) bool { return d.SingleStatement() })},
		{"Version 2008-10-17", parsed(func(d *Document) bool { return d.Version() == Version2008 })},
		{"no Version", parsed(func(d *Document) bool { return d.Version() == "" })},
		{"Id", parsed(func(d *Document) bool { return d.ID() != "" })},
		{"unknown top-level member", has(`"Comment":`)},
		{"unknown statement member", has(`"Description":`)},
		{"unique-ID principal AIDA", has(`"AIDA`)},
		{"unique-ID principal AROA", has(`"AROA`)},
		{"bare account-ID principal", has(`"AWS":["111122223333"`)},
		{"mixed number/string condition values", has(`[111122223333,"444455556666",777788889999]`)},
		{"CRLF", has("\r\n")},
		{"tab indentation", has("\n\t\"")},
		{"unicode escape", has(`\u00e9`)},
		{"raw UTF-8", has("é")},
		{"escaped slash", has(`\/`)},
		{"number 1.50", has(": 1.50")},
		{"number 1e3", has(": 1e3")},
		{"trailing white space", func(c corpusDoc) bool { return bytes.HasSuffix(c.text, []byte("\n  \t\n")) }},
		{"empty Statement array", has(`"Statement": []`)},
		{"IfExists", anyCondition(func(c Condition) bool { return c.Op.IfExists })},
		{"ForAllValues", anyCondition(func(c Condition) bool { return c.Op.Qualifier == ForAllValues })},
		{"key policy", func(c corpusDoc) bool { return c.kind == KindKeyPolicy }},
		{"bucket policy", func(c corpusDoc) bool { return c.kind == KindBucketPolicy }},
		{"identity policy", func(c corpusDoc) bool { return c.kind == KindIdentity }},
	}
	for _, f := range features {
		found := false
		for _, c := range docs {
			if f.ok(c) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no corpus document shows %s", f.name)
		}
	}
}

// TestCorpusRoundTrip: every corpus document parses as its kind and writes
// back byte for byte, and so does its clone.
func TestCorpusRoundTrip(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.text, c.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d.Kind() != c.kind {
				t.Errorf("Kind() = %v, want %v", d.Kind(), c.kind)
			}
			if !bytes.Equal(d.Bytes(), c.text) {
				t.Errorf("Bytes() differs from the source:\n got %q\nwant %q", d.Bytes(), c.text)
			}
			if d.String() != string(c.text) {
				t.Errorf("String() differs from the source")
			}
			if len(d.Statements()) == 0 && !bytes.Contains(c.text, []byte(`"Statement": []`)) {
				t.Errorf("no statements parsed")
			}
			clone := d.Clone()
			if !bytes.Equal(clone.Bytes(), c.text) {
				t.Errorf("Clone().Bytes() differs from the source:\n got %q\nwant %q", clone.Bytes(), c.text)
			}
			// A clone shares the tree until an edit: editing either leaves
			// the other as it was.
			if len(d.Statements()) > 0 {
				other := d.Clone()
				if err := clone.RemoveStatement(0); err != nil {
					t.Fatalf("editing the clone: %v", err)
				}
				if !bytes.Equal(d.Bytes(), c.text) || !bytes.Equal(other.Bytes(), c.text) || len(d.Statements()) != len(other.Statements()) {
					t.Errorf("editing a clone changed the original or another clone")
				}
				if err := d.RemoveStatement(0); err != nil {
					t.Fatalf("editing the original: %v", err)
				}
				if !bytes.Equal(other.Bytes(), c.text) {
					t.Errorf("editing the original changed a clone")
				}
				if other.Clone().String() != string(c.text) {
					t.Errorf("a clone of an untouched clone differs")
				}
			}
			for _, kind := range []Kind{KindAny} {
				if _, err := Parse(c.text, kind); err != nil {
					t.Errorf("Parse as %v: %v", kind, err)
				}
			}
		})
	}
}

// TestDocumentFieldsFromCorpus spot-checks the typed view of a few corpus
// documents, where the shape of a value matters.
func TestDocumentFieldsFromCorpus(t *testing.T) {
	read := func(t *testing.T, name string) *Document {
		t.Helper()
		text, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
		if err != nil {
			t.Fatal(err)
		}
		kind, _ := corpusKind(name)
		d, err := Parse(text, kind)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("numbers keep their text", func(t *testing.T) {
		d := read(t, "identity-number-text-preserved.json")
		var got []string
		for _, c := range d.Statements()[0].Conditions {
			got = append(got, c.Values...)
		}
		want := []string{"1.50", "1e3", "-0", "2.0E+1"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("condition values = %q, want %q", got, want)
		}
	})
	t.Run("escapes are decoded", func(t *testing.T) {
		d := read(t, "key-unicode-escapes.json")
		s := d.Statements()[0]
		if s.Sid != "CaféReports" {
			t.Errorf("Sid = %q", s.Sid)
		}
		c := s.Conditions[0]
		if c.Key != "kms:EncryptionContext:café" || strings.Join(c.Values, "|") != `résumé|Analytics "EU"` {
			t.Errorf("condition = %q %q", c.Key, c.Values)
		}
		d = read(t, "identity-escaped-slashes.json")
		if got := d.Statements()[0].Resource.Values; got[0] != "arn:aws:s3:::example-bucket/uploads/*" || got[1] != "arn:aws:iam::111122223333:role/service-role/Uploader" {
			t.Errorf("Resource = %q", got)
		}
	})
	t.Run("single values keep their shape", func(t *testing.T) {
		d := read(t, "key-default-policy.json")
		s := d.Statements()[0]
		if !s.Action.Single || s.Action.Values[0] != "kms:*" || !s.Resource.Single {
			t.Errorf("Action = %+v, Resource = %+v", s.Action, s.Resource)
		}
		if d.ID() != "key-default-1" || d.Version() != Version2012 {
			t.Errorf("Id = %q, Version = %q", d.ID(), d.Version())
		}
	})
	t.Run("booleans and mixed values", func(t *testing.T) {
		d := read(t, "bucket-mixed-condition-values.json")
		var got []string
		for _, c := range d.Statements()[0].Conditions {
			got = append(got, c.Key+"="+strings.Join(c.Values, ","))
		}
		want := "aws:PrincipalAccount=111122223333,444455556666,777788889999 s3:max-keys=50,100,1.5e2 aws:SecureTransport=true,true"
		if strings.Join(got, " ") != want {
			t.Errorf("conditions = %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// TestRejectTable: what AWS rejects fails with a *ParseError naming the
// statement and the field, or a *SyntaxError with its line and column.
func TestRejectTable(t *testing.T) {
	const (
		v     = `"Version":"2012-10-17",`
		allow = `"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`
		star  = `"Principal":"*",`
	)
	deep := strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64)
	tests := []struct {
		name  string
		kind  Kind
		doc   string
		index int    // statement index; -1 for the document
		sid   string // expected Sid
		field string
		// For syntax errors, the position instead.
		line, column int
		msg          string // a fragment of the message
	}{
		{name: "effect lower case", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"A","Effect":"allow","Action":"s3:*","Resource":"*"}]}`, index: 0, sid: "A", field: "Effect", msg: "case-sensitive"},
		{name: "effect missing", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"A","Action":"s3:*","Resource":"*"},{"Sid":"B","Action":"s3:*","Resource":"*"}]}`, index: 0, sid: "A", field: "Effect", msg: "missing"},
		{name: "effect a number", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `},{"Sid":"Second","Effect":1,"Action":"s3:*","Resource":"*"}]}`, index: 1, sid: "Second", field: "Effect"},
		{name: "duplicate member at top level", kind: KindIdentity, doc: `{` + v + `"Version":"2012-10-17","Statement":[{` + allow + `}]}`, index: -1, field: "Version", msg: "duplicate member name at line 1, column 25"},
		{name: "duplicate member in a statement", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `},{"Sid":"Dup",` + allow + `,"Effect":"Deny"}]}`, index: 1, sid: "Dup", field: "Effect", msg: "duplicate"},
		{name: "duplicate condition key", kind: KindBucketPolicy, doc: `{` + v + `"Statement":{"Sid":"C",` + star + allow + `,"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpce":"vpce-2"}}}}`, index: 0, sid: "C", field: "Condition.StringEquals.aws:SourceVpce", msg: "duplicate"},
		{name: "duplicate condition operator", kind: KindBucketPolicy, doc: `{` + v + `"Statement":[{` + star + allow + `,"Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:ViaAWSService":"true"}}}]}`, index: 0, field: "Condition.Bool", msg: "duplicate"},
		{name: "duplicate in an unknown member", kind: KindAny, doc: `{` + v + `"Meta":{"a":[{"x":1,"x":2}]},"Statement":[{` + allow + `}]}`, index: -1, field: "Meta.a[0].x", msg: "duplicate"},
		// Past sixteen members repeats are found with a set: first
		// repeated early, then late.
		{name: "duplicate among many condition keys", kind: KindBucketPolicy, doc: `{` + v + `"Statement":{"Sid":"M",` + star + allow + `,"Condition":{"StringEquals":{` + manyKeys(30) + `,"k3":"again"}}}}`, index: 0, sid: "M", field: "Condition.StringEquals.k3", msg: "duplicate"},
		{name: "duplicate late among many condition keys", kind: KindBucketPolicy, doc: `{` + v + `"Statement":{"Sid":"M",` + star + allow + `,"Condition":{"StringEquals":{` + manyKeys(30) + `,"k29":"again"}}}}`, index: 0, sid: "M", field: "Condition.StringEquals.k29", msg: "duplicate"},
		{name: "duplicate escaped spelling", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"\u0045ffect":"Deny"}]}`, index: 0, field: "Effect", msg: "duplicate"},
		{name: "Action and NotAction", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"Both",` + allow + `,"NotAction":"s3:PutObject"}]}`, index: 0, sid: "Both", field: "Action", msg: "not both"},
		{name: "neither Action nor NotAction", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"None","Effect":"Allow","Resource":"*"}]}`, index: 0, sid: "None", field: "Action", msg: "missing"},
		{name: "empty Action array", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, index: 0, field: "Action", msg: "empty"},
		{name: "action without a colon", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Allow","Action":["s3:GetObject","GetObject"],"Resource":"*"}]}`, index: 0, field: "Action", msg: `"GetObject" is not an action`},
		{name: "NotAction without a colon", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Deny","NotAction":"iam","Resource":"*"}]}`, index: 0, field: "NotAction"},
		{name: "Principal in an identity policy", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"P",` + star + allow + `}]}`, index: 0, sid: "P", field: "Principal", msg: "identity policy"},
		{name: "NotPrincipal in an identity policy", kind: KindIdentity, doc: `{` + v + `"Statement":[{"NotPrincipal":{"AWS":"111122223333"},` + allow + `}]}`, index: 0, field: "NotPrincipal"},
		{name: "missing Principal in a bucket policy", kind: KindBucketPolicy, doc: `{` + v + `"Statement":[{"Sid":"NoP",` + allow + `}]}`, index: 0, sid: "NoP", field: "Principal", msg: "bucket policy"},
		{name: "missing Principal in a key policy", kind: KindKeyPolicy, doc: `{` + v + `"Statement":[{"Sid":"No principal here",` + allow + `}]}`, index: 0, sid: "No principal here", field: "Principal", msg: "key policy"},
		{name: "unknown principal type", kind: KindBucketPolicy, doc: `{` + v + `"Statement":[{"Principal":{"User":"jane"},` + allow + `}]}`, index: 0, field: "Principal", msg: `unknown principal type "User"`},
		{name: "principal not an ARN", kind: KindBucketPolicy, doc: `{` + v + `"Statement":[{"Principal":{"AWS":"jane"},` + allow + `}]}`, index: 0, field: "Principal"},
		{name: "empty principal object", kind: KindBucketPolicy, doc: `{` + v + `"Statement":[{"Principal":{},` + allow + `}]}`, index: 0, field: "Principal"},
		{name: "unknown condition operator", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"Op",` + allow + `,"Condition":{"StringEqualz":{"aws:SourceIp":"x"}}}]}`, index: 0, sid: "Op", field: "Condition.StringEqualz", msg: "unknown condition operator"},
		{name: "unknown set qualifier", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"x"}}}]}`, index: 0, field: "Condition.ForSomeValues:StringEquals"},
		{name: "Null with IfExists", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":{"NullIfExists":{"aws:SourceIp":"true"}}}]}`, index: 0, field: "Condition.NullIfExists", msg: "Null"},
		{name: "condition value null", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":{"StringEquals":{"aws:SourceVpce":null}}}]}`, index: 0, field: "Condition.StringEquals.aws:SourceVpce", msg: "null"},
		{name: "condition value object", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":{"StringEquals":{"aws:SourceVpce":{"a":"b"}}}}]}`, index: 0, field: "Condition.StringEquals.aws:SourceVpce", msg: "an object"},
		{name: "condition value null in an array", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1",null]}}}]}`, index: 0, field: "Condition.StringEquals.aws:SourceVpce"},
		{name: "condition not an object", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"Condition":"aws:SecureTransport"}]}`, index: 0, field: "Condition"},
		{name: "Version 2012-10-18", kind: KindIdentity, doc: `{"Version":"2012-10-18","Statement":[{` + allow + `}]}`, index: -1, field: "Version"},
		{name: "Version a number", kind: KindIdentity, doc: `{"Version":2012,"Statement":[{` + allow + `}]}`, index: -1, field: "Version"},
		{name: "Statement a string", kind: KindIdentity, doc: `{` + v + `"Statement":"Allow everything"}`, index: -1, field: "Statement"},
		{name: "Statement missing", kind: KindIdentity, doc: `{` + v + `"Id":"x"}`, index: -1, field: "Statement"},
		{name: "statement a string", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `},"s3:*"]}`, index: 1},
		{name: "Id a number", kind: KindBucketPolicy, doc: `{` + v + `"Id":1,"Statement":[]}`, index: -1, field: "Id"},
		{name: "duplicate Sids", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"Same",` + allow + `},{"Sid":"Other",` + allow + `},{"Sid":"Same",` + allow + `}]}`, index: 2, sid: "Same", field: "Sid", msg: "statement 0"},
		{name: "non-alphanumeric Sid in an identity policy", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":"Allow-Read",` + allow + `}]}`, index: 0, sid: "Allow-Read", field: "Sid", msg: "letters and digits"},
		{name: "Sid a number", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Sid":1,` + allow + `}]}`, index: 0, field: "Sid"},
		{name: "Resource missing in an identity policy", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, index: 0, field: "Resource"},
		{name: "Resource and NotResource", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `,"NotResource":"arn:aws:s3:::x"}]}`, index: 0, field: "Resource"},
		{name: "Resource a number", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":5}]}`, index: 0, field: "Resource"},
		{name: "Resource empty string", kind: KindIdentity, doc: `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":""}]}`, index: 0, field: "Resource"},
		{name: "document an array", kind: KindAny, doc: `[{` + allow + `}]`, index: -1, msg: "JSON object"},

		{name: "malformed JSON: missing colon", kind: KindIdentity, doc: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\" \"Allow\"}\n  ]\n}", line: 4, column: 15, msg: "expected ':'"},
		{name: "malformed JSON: trailing comma", kind: KindIdentity, doc: "{\r\n\t\"Version\": \"2012-10-17\",\r\n}", line: 3, column: 1, msg: "member name"},
		{name: "malformed JSON: unterminated", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":[`, line: 1, column: 38, msg: "end of input"},
		{name: "malformed JSON: unterminated string", kind: KindIdentity, doc: `{"Version":"2012-10-17`, line: 1, column: 12, msg: "unterminated"},
		{name: "malformed JSON: bad literal", kind: KindIdentity, doc: `{"Version":tru}`, line: 1, column: 12},
		{name: "malformed JSON: leading zero", kind: KindIdentity, doc: `{"a":01}`, line: 1, column: 7, msg: "leading zero"},
		{name: "malformed JSON: bad escape", kind: KindIdentity, doc: `{"a":"\x"}`, line: 1, column: 7, msg: "escape"},
		{name: "malformed JSON: short unicode escape", kind: KindIdentity, doc: `{"a":"\u00e"}`, line: 1, column: 7, msg: "hex"},
		{name: "lone surrogate escape", kind: KindIdentity, doc: `{"a":"x\ud800y"}`, line: 1, column: 8, msg: "surrogate"},
		{name: "column counts characters", kind: KindIdentity, doc: `{"é": x}`, line: 1, column: 7},
		{name: "trailing garbage", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `}]} {}`, line: 1, column: 98, msg: "after the document"},
		{name: "trailing comma after the document", kind: KindIdentity, doc: `{` + v + `"Statement":[]},`, msg: "after the document"},
		{name: "nesting deeper than 64 levels", kind: KindAny, doc: `{` + v + `"Statement":[],"Deep":` + deep + `}`, msg: "nested more than 64"},
		{name: "invalid UTF-8 in a string", kind: KindIdentity, doc: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"caf\xe9\"," + allow + "}]}", line: 1, column: 45, msg: "UTF-8"},
		{name: "invalid UTF-8 in a string with an escape", kind: KindIdentity, doc: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"\\u0041\xff\"," + allow + "}]}", msg: "UTF-8"},
		{name: "invalid UTF-8 outside strings", kind: KindIdentity, doc: "{\xff}", line: 1, column: 2},
		{name: "unescaped tab in a string", kind: KindIdentity, doc: "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"a\tb\"," + allow + "}]}", line: 1, column: 47, msg: "control character"},
		{name: "unescaped newline in a string", kind: KindIdentity, doc: "{\"Version\":\"2012-\n10-17\"}", line: 1, column: 18, msg: "control character"},
		{name: "NUL byte", kind: KindIdentity, doc: "{\"Version\":\"2012-10-17\"\x00}", line: 1, column: 24},

		{name: "character above U+00FF in an identity policy", kind: KindIdentity, doc: `{` + v + `"Statement":[{` + allow + `},{"Sid":"Two","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/报告/*"}]}`, index: 1, sid: "Two", field: "Resource", msg: "U+62A5"},
		{name: "character above U+00FF in a key policy", kind: KindKeyPolicy, doc: "{\n  \"Statement\" : [ {\n    \"Sid\" : \"Key 🔑\",\n" + `"Principal":"*",` + allow + "} ]\n}", index: 0, sid: "Key 🔑", field: "Sid", msg: "line 3, column 18"},
		{name: "character above U+00FF in a condition key", kind: KindKeyPolicy, doc: `{"Statement":[{` + star + allow + `,"Condition":{"StringEquals":{"kms:EncryptionContext:ключ":"x"}}}]}`, index: 0, field: "Condition.StringEquals.kms:EncryptionContext:ключ"},
		{name: "character above U+00FF outside the statements", kind: KindIdentity, doc: `{"Id":"x","Note":{"a":["ok","€"]},"Statement":[]}`, index: -1, field: "Note.a[1]"},

		{name: "empty input", kind: KindIdentity, doc: ``, line: 1, column: 1, msg: "end of input"},
		{name: "only white space", kind: KindBucketPolicy, doc: " \n\t", line: 2, column: 2, msg: "end of input"},
		{name: "null", kind: KindKeyPolicy, doc: `null`, index: -1, msg: "got null"},
		{name: "empty object", kind: KindAny, doc: `{}`, index: -1, field: "Statement"},
		{name: "empty array", kind: KindAny, doc: `[]`, index: -1, msg: "got an array"},
		{name: "a string", kind: KindAny, doc: `"{}"`, index: -1},
		{name: "a number", kind: KindAny, doc: `0`, index: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc), tt.kind)
			if err == nil {
				t.Fatalf("Parse accepted it: %s", d.Bytes())
			}
			if d != nil {
				t.Errorf("Parse returned a document with an error")
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			var pe *ParseError
			var se *SyntaxError
			switch {
			case errors.As(err, &pe):
				if tt.line != 0 {
					t.Fatalf("got ParseError %q, want a SyntaxError", err)
				}
				if pe.Index != tt.index || pe.Sid != tt.sid || pe.Field != tt.field {
					t.Errorf("ParseError{Index: %d, Sid: %q, Field: %q}, want {%d, %q, %q}: %v", pe.Index, pe.Sid, pe.Field, tt.index, tt.sid, tt.field, err)
				}
				if pe.Index >= 0 && !strings.Contains(err.Error(), "statement ") {
					t.Errorf("error %q does not name the statement", err)
				}
			case errors.As(err, &se):
				if tt.line == 0 && tt.column == 0 && (tt.field != "" || tt.index != 0) {
					t.Fatalf("got SyntaxError %q, want a ParseError", err)
				}
				if tt.line != 0 && (se.Line != tt.line || se.Column != tt.column) {
					t.Errorf("SyntaxError at %d:%d, want %d:%d: %v", se.Line, se.Column, tt.line, tt.column, err)
				}
			default:
				t.Errorf("error %T %q is neither a *ParseError nor a *SyntaxError", err, err)
			}
		})
	}
}

// TestDocumentAccepts: shapes that look odd but AWS accepts.
func TestDocumentAccepts(t *testing.T) {
	const allow = `"Effect":"Allow","Action":"kms:*","Resource":"*"`
	tests := []struct {
		name, doc string
		kind      Kind
	}{
		{"Sid with spaces in a key policy", `{"Statement":[{"Sid":"Allow use of the key","Principal":{"AWS":"111122223333"},` + allow + `}]}`, KindKeyPolicy},
		{"Sid with dashes in a bucket policy", `{"Statement":[{"Sid":"Access-to-specific-VPCE-only","Principal":"*",` + allow + `}]}`, KindBucketPolicy},
		{"empty Sids may repeat", `{"Statement":[{"Sid":"",` + allow + `},{"Sid":"",` + allow + `}]}`, KindIdentity},
		{"key policy statement without Resource", `{"Statement":[{"Principal":"*","Effect":"Allow","Action":"kms:Decrypt"}]}`, KindKeyPolicy},
		{"operator names are case-insensitive", `{"Statement":[{` + allow + `,"Condition":{"stringequals":{"aws:SourceVpce":"v"},"forallvalues:StringLikeIfExists":{"aws:TagKeys":"a*"}}}]}`, KindIdentity},
		{"action star", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, KindIdentity},
		{"64 levels of nesting", `{"Statement":[],"Deep":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`, KindAny},
		{"escaped surrogate pair", `{"Statement":[{"Sid":"\ud83d\ude00",` + allow + `}]}`, KindAny},
		{"U+FEFF inside a string", "{\"Id\":\"\ufeff\",\"Statement\":[]}", KindAny},
		{"characters above U+00FF in a bucket policy", `{"Statement":[{"Sid":"报告","Principal":"*",` + allow + `}]}`, KindBucketPolicy},
		{"characters above U+00FF escaped in an identity policy", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/\u62a5/*"}]}`, KindIdentity},
		{"Latin-1 in a key policy", `{"Statement":[{"Sid":"Clé ÿ","Principal":"*",` + allow + `}]}`, KindKeyPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc), tt.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(d.Bytes()) != tt.doc {
				t.Errorf("Bytes() = %s", d.Bytes())
			}
		})
	}
}

// TestDocumentNilEmpty: degenerate input never panics.
func TestDocumentNilEmpty(t *testing.T) {
	for _, in := range [][]byte{nil, {}, []byte("null"), []byte("{}"), []byte("[]"), []byte(" "), []byte("{"), []byte("["), []byte(`"`), []byte(`\`), []byte("-"), []byte(`{"Statement":null}`), []byte(`{"Statement":[null]}`), []byte(`{"Statement":{}}`), []byte(`{"Statement":[{}]}`)} {
		for _, kind := range []Kind{KindAny, KindIdentity, KindBucketPolicy, KindKeyPolicy} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("Parse(%q, %v) panicked: %v", in, kind, r)
					}
				}()
				if d, err := Parse(in, kind); err == nil {
					t.Errorf("Parse(%q, %v) accepted it: %s", in, kind, d.Bytes())
				}
			}()
		}
	}
	if _, err := ParseString("", KindAny); err == nil {
		t.Errorf("ParseString(\"\") accepted it")
	}
	if !Equal(nil, nil) || Equal(nil, New(KindIdentity)) || Equal(New(KindIdentity), nil) {
		t.Errorf("Equal with nil documents is wrong")
	}
}

func TestDocumentNew(t *testing.T) {
	for _, kind := range []Kind{KindAny, KindIdentity, KindBucketPolicy, KindKeyPolicy} {
		d := New(kind)
		if d.Kind() != kind || d.Version() != Version2012 || len(d.Statements()) != 0 || d.SingleStatement() {
			t.Errorf("New(%v) = %s", kind, d.Bytes())
		}
	}
}

func TestDocumentMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustParse of an invalid document did not panic")
		}
	}()
	MustParse(`{"Statement":"x"}`, KindAny)
}

func TestDocumentParseErrorText(t *testing.T) {
	tests := []struct {
		err  *ParseError
		want string
	}{
		{&ParseError{Index: 2, Sid: "Read", Field: "Effect", Msg: "bad"}, `statement 2 (Sid "Read"): Effect: bad`},
		{&ParseError{Index: 0, Field: "Action", Msg: "bad"}, `statement 0: Action: bad`},
		{&ParseError{Index: -1, Field: "Version", Msg: "bad"}, `Version: bad`},
		{&ParseError{Index: -1, Msg: "bad"}, `bad`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	se := &SyntaxError{Line: 3, Column: 7, Msg: "oops"}
	if got := se.Error(); got != "line 3, column 7: oops" {
		t.Errorf("SyntaxError.Error() = %q", got)
	}
}

// docFromText parses a document a test relies on, failing the test rather
// than panicking like MustParse, so one bad fixture does not stop the run.
func docFromText(t testing.TB, text string, kind Kind) *Document {
	t.Helper()
	d, err := Parse([]byte(text), kind)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	return d
}

// S3 and KMS have stored policies that repeat a Sid; such a document is
// read and written back as it is, and an edit never adds a repeat.
func TestRepeatedSidKeptInResourcePolicies(t *testing.T) {
	for _, kind := range []Kind{KindBucketPolicy, KindKeyPolicy} {
		text := `{"Version":"2012-10-17","Statement":[{"Sid":"Same","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},{"Sid":"Same","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}`
		d, err := ParseString(text, kind)
		if err != nil {
			t.Fatalf("%v: a stored policy with a repeated Sid is refused: %v", kind, err)
		}
		if d.String() != text || len(d.Statements()) != 2 {
			t.Fatalf("%v: the document changed on reading", kind)
		}
		err = d.AppendStatement([]byte(`{"Sid":"Same","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`))
		if err == nil || !strings.Contains(err.Error(), "same Sid") {
			t.Fatalf("%v: appending a third 'Same' was not refused: %v", kind, err)
		}
		if d.String() != text {
			t.Fatalf("%v: a refused edit changed the document", kind)
		}
	}
}

// manyKeys is n distinct condition keys k0…k(n-1), as object members.
func manyKeys(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"k%d":"v"`, i))
	}
	return strings.Join(parts, ",")
}
