package grantsync

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

func TestParse(t *testing.T) {
	const jane = "arn:aws:iam::111122223333:user/Jane"
	f, err := Parse("g.yaml", []byte(`version: 1
defaults:
  access: read,write
  kms_via: auto
credentials:
  default: {role: "arn:aws:iam::{account}:role/bucketgrant", profile: base}
  accounts:
    "123456789098": {profile: partner}
buckets:
  shared-bucket: {account: "123456789098"}
grants:
  - principal: `+jane+`
    bucket: own-bucket
  - principal: `+jane+`
    bucket: shared-bucket
    access: [read, list]
    prefix: reports/
    kms_via: key-policy
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Grant{
		{Principal: jane, Bucket: "own-bucket", Access: []diff.Level{diff.Read, diff.Write}, KMSVia: "auto", Line: 12},
		{Principal: jane, Bucket: "shared-bucket", Access: []diff.Level{diff.Read, diff.List}, Prefix: "reports/", KMSVia: "key-policy", Line: 14},
	}
	if d := cmp.Diff(want, f.Grants); d != "" {
		t.Errorf("grants (-want +got):\n%s", d)
	}
	if got := f.Credentials.For("444455556666"); got.Role != "arn:aws:iam::444455556666:role/bucketgrant" || got.Profile != "base" {
		t.Errorf("default credentials for 444455556666 = %+v", got)
	}
	if got := f.Credentials.For("123456789098"); got.Profile != "partner" || got.Role != "" {
		t.Errorf("credentials for 123456789098 = %+v", got)
	}
	if got := f.BucketAccount(f.Grants[1]); got != "123456789098" {
		t.Errorf("shared-bucket's account = %s", got)
	}
	if got := f.BucketAccount(f.Grants[0]); got != "111122223333" {
		t.Errorf("own-bucket's account = %s, want the principal's", got)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "version: 1\ngrants:\n"
	const jane = "arn:aws:iam::111122223333:user/Jane"
	tests := []struct {
		name, text string
		want       []string // each must appear in the error
	}{
		{"empty", "", []string{"g.yaml: the file is empty"}},
		{"not yaml", "grants: [", []string{"not valid YAML"}},
		{"unknown top-level field", "version: 1\ngrant: []\n", []string{`g.yaml:2: unknown field "grant"`, "missing field grants"}},
		{"unknown grant field", head + "  - principal: " + jane + "\n    bucket: b-one\n    acess: read\n", []string{`g.yaml:5: grants[0]: unknown field "acess"`}},
		{"wrong type", head + "  - principal: [a, b]\n    bucket: b-one\n", []string{"g.yaml:3: grants[0].principal: expected a string, found a list"}},
		{"grants not a list", "version: 1\ngrants: {a: 1}\n", []string{"g.yaml:2: grants: expected a list of grants"}},
		{"missing principal", head + "  - bucket: b-one\n", []string{"g.yaml:3: grants[0]: missing principal"}},
		{"missing bucket", head + "  - principal: " + jane + "\n", []string{"g.yaml:3: grants[0]: missing bucket"}},
		{"bad arn", head + "  - principal: arn:aws:iam::1111:user/Jane\n    bucket: b-one\n", []string{"g.yaml:3: grants[0].principal:", "12 digits"}},
		{"not a principal", head + "  - principal: arn:aws:s3:::b-one\n    bucket: b-one\n", []string{"g.yaml:3: grants[0].principal:", "not an IAM user or role ARN"}},
		{"bad access", head + "  - principal: " + jane + "\n    bucket: b-one\n    access: [read, admin]\n", []string{"g.yaml:5: grants[0].access:", `unknown access level "admin"`}},
		{"bad kms_via", head + "  - principal: " + jane + "\n    bucket: b-one\n    kms_via: somewhere\n", []string{"g.yaml:5: grants[0].kms_via:"}},
		{"bad bucket", head + "  - principal: " + jane + "\n    bucket: B/x\n", []string{"g.yaml:4: grants[0].bucket:"}},
		{"wildcard prefix", head + "  - principal: " + jane + "\n    bucket: b-one\n    prefix: a*\n", []string{"g.yaml:5: grants[0].prefix:"}},
		{"duplicate grant", head + "  - principal: " + jane + "\n    bucket: b-one\n  - principal: " + jane + "\n    bucket: b-one\n", []string{"g.yaml:5: grants[1]: duplicate grant", "at line 3"}},
		// Issue 14: two spellings of one user (with and without a path)
		// were merged into one grant's statements.
		{"one principal spelled twice", head + "  - principal: " + jane + "\n    bucket: b-one\n  - principal: arn:aws:iam::111122223333:user/team/Jane\n    bucket: b-one\n",
			[]string{"g.yaml:5: grants[1]: duplicate grant: arn:aws:iam::111122223333:user/team/Jane on b-one is already granted at line 3 as " + jane}},
		{"drop_old_keys not a boolean", head + "  - principal: " + jane + "\n    bucket: b-one\n    drop_old_keys: sure\n",
			[]string{"g.yaml:5: grants[0].drop_old_keys: expected true or false"}},
		{"duplicate key", head + "  - principal: " + jane + "\n    principal: " + jane + "\n    bucket: b-one\n", []string{"g.yaml:4: grants[0]: field \"principal\" is given twice (first at line 3)"}},
		{"bad version", "version: 2\ngrants: []\n", []string{"g.yaml:1: version: version 2 is not supported"}},
		{"missing version", "grants: []\n", []string{"missing field version"}},
		{"bad account id", "version: 1\ncredentials:\n  accounts:\n    \"12\": {profile: x}\ngrants: []\n", []string{"g.yaml:4: credentials.accounts:", "not an account ID"}},
		{"template outside default", "version: 1\ncredentials:\n  accounts:\n    \"111122223333\": {role: \"arn:aws:iam::{account}:role/x\"}\ngrants: []\n", []string{"g.yaml:4: credentials.accounts.111122223333.role:"}},
		{"bad role", "version: 1\ncredentials:\n  default: {role: \"arn:aws:iam::{account}:user/x\"}\ngrants: []\n", []string{"g.yaml:3: credentials.default.role:", "not a role ARN"}},
		{"bucket account", "version: 1\nbuckets:\n  b-one: {account: 12}\ngrants: []\n", []string{"g.yaml:3: buckets.b-one.account:"}},
		{"every error reported", head + "  - bucket: b-one\n  - principal: x\n    bucket: b-two\n", []string{"g.yaml:3:", "g.yaml:4:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("g.yaml", []byte(tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseErrorType(t *testing.T) {
	_, err := Parse("g.yaml", []byte("version: 1\ngrants:\n  - bucket: b-one\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.File != "g.yaml" {
		t.Errorf("error %v: want a *ParseError at g.yaml:3", err)
	}
}

func TestExampleFileParses(t *testing.T) {
	f, err := LoadFile("../../examples/grants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Grants) == 0 {
		t.Error("the example has no grants")
	}
}

// TestSchemaMatchesParser keeps schema/grants.schema.json and the parser
// agreeing on the fields they accept.
func TestSchemaMatchesParser(t *testing.T) {
	data, err := os.ReadFile("../../schema/grants.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage
			Items      struct {
				Properties map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }
	top := slices.Sorted(maps.Keys(schema.Properties))
	if want := []string{"buckets", "credentials", "defaults", "grants", "version"}; !slices.Equal(top, want) {
		t.Errorf("schema top-level fields %v, parser %v", top, want)
	}
	if got, want := keys(schema.Properties["grants"].Items.Properties), []string{"access", "bucket", "drop_old_keys", "kms_via", "prefix", "principal"}; !slices.Equal(got, want) {
		t.Errorf("schema grant fields %v, parser %v", got, want)
	}
	if got, want := keys(schema.Properties["defaults"].Properties), []string{"access", "kms_via"}; !slices.Equal(got, want) {
		t.Errorf("schema defaults fields %v, parser %v", got, want)
	}
	// Every field the schema names is accepted by the parser.
	_, err = Parse("all.yaml", []byte(`version: 1
defaults: {access: read, kms_via: auto}
credentials:
  default: {profile: p, role: "arn:aws:iam::{account}:role/r"}
  accounts: {"111122223333": {profile: q, role: "arn:aws:iam::111122223333:role/r"}}
buckets: {b-one: {account: "111122223333"}}
grants:
  - {principal: "arn:aws:iam::111122223333:role/R", bucket: b-one, access: [read], prefix: x/, kms_via: identity, drop_old_keys: true}
`))
	if err != nil {
		t.Error(err)
	}
}
