package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goldenUpdate regenerates golden files: go test ./pkg/policy/ -update.
// The flag is looked up rather than owned, so that another test file of the
// package may declare it too.
func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// checkGolden compares got with the golden file at path, or rewrites it
// under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if goldenUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestCanonicalCorpus: the canonical form of every corpus document is
// stable, survives re-encoding, and matches its golden file.
func TestCanonicalCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			d := docFromText(t, string(c.text), c.kind)
			canon := d.Canonical()
			if !json.Valid(canon) {
				t.Fatalf("Canonical() is not JSON: %s", canon)
			}
			if again := d.Canonical(); !bytes.Equal(again, canon) {
				t.Errorf("Canonical() is not stable:\n%s\n%s", canon, again)
			}
			if clone := d.Clone(); !bytes.Equal(clone.Canonical(), canon) || clone.Fingerprint() != d.Fingerprint() {
				t.Errorf("the clone has another canonical form")
			}
			if !strings.HasPrefix(d.Fingerprint(), "sha256:") || len(d.Fingerprint()) != len("sha256:")+64 {
				t.Errorf("Fingerprint() = %q", d.Fingerprint())
			}

			// Re-encodings that change only layout keep meaning.
			var compact, indented bytes.Buffer
			if err := json.Compact(&compact, c.text); err != nil {
				t.Fatal(err)
			}
			if err := json.Indent(&indented, c.text, "\t", "    "); err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string][]byte{"json.Compact": compact.Bytes(), "json.Indent": indented.Bytes(), "Pretty": d.Pretty()} {
				re, err := Parse(text, c.kind)
				if err != nil {
					t.Fatalf("%s output does not parse: %v\n%s", name, err, text)
				}
				if diff := cmp.Diff(string(canon), string(re.Canonical())); diff != "" {
					t.Errorf("%s output has another canonical form (-orig +re):\n%s", name, diff)
				}
				if re.Fingerprint() != d.Fingerprint() || !Equal(d, re) {
					t.Errorf("%s output has another fingerprint", name)
				}
			}

			pretty := d.Pretty()
			if !json.Valid(pretty) {
				t.Errorf("Pretty() is not valid JSON:\n%s", pretty)
			}
			if !bytes.HasSuffix(pretty, []byte("}\n")) {
				t.Errorf("Pretty() does not end in a newline")
			}

			checkGolden(t, filepath.Join("testdata", "canonical", c.name), indentJSON(t, canon))
		})
	}
}

// TestCanonicalEqual: the spellings AWS normalises compare equal, and
// anything that changes what a document grants does not.
func TestCanonicalEqual(t *testing.T) {
	const base = `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}},{"Sid":"B","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	tests := []struct {
		name  string
		other string
		equal bool
	}{
		{"itself", base, true},
		{"statements reordered", `{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}}]}`, true},
		{"account ID for root ARN, lists reordered, action case, operator and key case, boolean for string, {AWS:*} for *",
			`{"Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333"]},"Action":["S3:putobject","s3:GetObject","s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"stringequals":{"AWS:SourceVPCE":["vpce-2","vpce-1"]}}},{"Sid":"B","Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}],"Version":"2012-10-17"}`, true},
		{"pretty printed", "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"B\",\n    \"Effect\" : \"Deny\",\n    \"Principal\" : \"*\",\n    \"Action\" : \"s3:*\",\n    \"Resource\" : \"*\",\n    \"Condition\" : {\n      \"Bool\" : {\n        \"aws:SecureTransport\" : \"false\"\n      }\n    }\n  }, {\n    \"Sid\" : \"A\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n    \"Action\" : [ \"s3:PutObject\", \"s3:GetObject\" ],\n    \"Resource\" : \"arn:aws:s3:::b/*\",\n    \"Condition\" : {\n      \"StringEquals\" : {\n        \"aws:SourceVpce\" : [ \"vpce-1\", \"vpce-2\" ]\n      }\n    }\n  } ]\n}\n", true},
		{"escapes for plain characters", `{"Version":"2012-10-17","Statement":[{"Sid":"\u0041","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b\/*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}},{"Sid":"B","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, true},

		{"Effect changed", strings.Replace(base, `"Deny"`, `"Allow"`, 1), false},
		{"resource case changed", strings.Replace(base, `arn:aws:s3:::b/*`, `arn:aws:s3:::B/*`, 1), false},
		{"condition value case changed", strings.Replace(base, `vpce-1`, `VPCE-1`, 1), false},
		{"condition value dropped", strings.Replace(base, `["vpce-1","vpce-2"]`, `"vpce-1"`, 1), false},
		{"operator changed", strings.Replace(base, `StringEquals`, `StringLike`, 1), false},
		{"IfExists added", strings.Replace(base, `StringEquals`, `StringEqualsIfExists`, 1), false},
		{"principal changed", strings.Replace(base, `111122223333`, `444455556666`, 1), false},
		{"Principal to NotPrincipal", strings.Replace(base, `"Principal":"*"`, `"NotPrincipal":{"AWS":"*"}`, 1), false},
		{"Action to NotAction", strings.Replace(base, `"Action":"s3:*"`, `"NotAction":"s3:*"`, 1), false},
		{"Version dropped", strings.Replace(base, `"Version":"2012-10-17",`, ``, 1), false},
		{"statement dropped", `{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, false},
		{"unknown member added", strings.Replace(base, `"Sid":"B",`, `"Sid":"B","Note":"x",`, 1), false},
		{"Id added", strings.Replace(base, `"Version":"2012-10-17",`, `"Version":"2012-10-17","Id":"x",`, 1), false},
		// Two spellings of one condition key must both hold: merging their
		// values would turn "vpce-1 and vpce-2" into "vpce-1 or vpce-2".
		{"one key in two spellings is AND, not OR", strings.Replace(base, `"aws:SourceVpce":["vpce-1","vpce-2"]`, `"aws:SourceVpce":"vpce-1","aws:sourcevpce":"vpce-2"`, 1), false},
		{"one operator in two spellings is AND, not OR", strings.Replace(base, `"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}`, `"StringEquals":{"aws:SourceVpce":"vpce-1"},"stringEquals":{"aws:SourceVpce":"vpce-2"}`, 1), false},
	}
	a := docFromText(t, base, KindBucketPolicy)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.other), KindBucketPolicy)
			if err != nil {
				t.Fatal(err)
			}
			if got := Equal(a, b); got != tt.equal {
				t.Errorf("Equal = %v, want %v\n%s\n%s", got, tt.equal, a.Canonical(), b.Canonical())
			}
			if got := a.Fingerprint() == b.Fingerprint(); got != tt.equal {
				t.Errorf("fingerprints equal = %v, want %v", got, tt.equal)
			}
		})
	}
}

func TestCanonicalSameConditionTwice(t *testing.T) {
	// The same condition written under two spellings of its operator is one
	// condition.
	a := docFromText(t, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"v"},"stringequals":{"AWS:SourceVpce":"v"}}}]}`, KindIdentity)
	b := docFromText(t, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"v"}}}]}`, KindIdentity)
	if !Equal(a, b) {
		t.Errorf("not equal:\n%s\n%s", a.Canonical(), b.Canonical())
	}
}

func TestCanonicalPretty(t *testing.T) {
	d := docFromText(t, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"caf\\u00e9\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}\r\n", KindAny)
	want := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"caf\\u00e9\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n"
	if diff := cmp.Diff(want, string(d.Pretty())); diff != "" {
		t.Errorf("Pretty() (-want +got):\n%s", diff)
	}
}

func TestCanonicalDecodeURLEncoded(t *testing.T) {
	tests := []struct {
		in, want string
		fail     bool
	}{
		{in: "%7B%22Version%22%3A%222012-10-17%22%7D", want: `{"Version":"2012-10-17"}`},
		{in: "%7B%0A%20%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%2A%22%7D", want: "{\n  \"Resource\": \"arn:aws:s3:::b/a+b*\"}"},
		{in: "caf%C3%A9", want: "café"},
		{in: "", want: ""},
		{in: "%zz", fail: true},
		{in: "100%", fail: true},
	}
	for _, tt := range tests {
		got, err := DecodeURLEncoded(tt.in)
		if (err != nil) != tt.fail {
			t.Errorf("DecodeURLEncoded(%q) error = %v, want failure %v", tt.in, err, tt.fail)
			continue
		}
		if got != tt.want {
			t.Errorf("DecodeURLEncoded(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalUnknownMembers(t *testing.T) {
	a := docFromText(t, `{"Version":"2012-10-17","B":{"y":1,"x":[1.50,"s"]},"A":null,"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Z":1,"Note":"n"}]}`, KindIdentity)
	b := docFromText(t, "{\n  \"A\" : null,\n  \"Statement\" : [ {\n    \"Note\" : \"n\",\n    \"Z\" : 1,\n    \"Effect\" : \"Allow\",\n    \"Action\" : \"s3:*\",\n    \"Resource\" : \"*\"\n  } ],\n  \"B\" : { \"y\" : 1, \"x\" : [ 1.50, \"s\" ] },\n  \"Version\" : \"2012-10-17\"\n}", KindIdentity)
	if !Equal(a, b) {
		t.Errorf("unknown members in another order or layout compare unequal:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	want := `{"Version":"2012-10-17","A":null,"B":{"y":1,"x":[1.50,"s"]},"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"],"Other":{"Note":"n","Z":1}}]}`
	if diff := cmp.Diff(want, string(a.Canonical())); diff != "" {
		t.Errorf("Canonical() (-want +got):\n%s", diff)
	}
	c := docFromText(t, strings.Replace(string(a.Bytes()), `"Z":1`, `"Z":2`, 1), KindIdentity)
	if Equal(a, c) {
		t.Errorf("a changed unknown member compares equal")
	}
}
