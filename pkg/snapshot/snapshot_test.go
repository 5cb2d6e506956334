package snapshot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

var fixtures = []string{"seed-same-account.json", "seed-cross-account.json", "odd-shapes.json", "empty.json", "grants-tags.json"}

func load(t *testing.T, name string) (*state.State, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return st, data
}

func marshal(t *testing.T, st *state.State) []byte {
	t.Helper()
	out, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("Marshal wrote invalid JSON:\n%s", out)
	}
	return out
}

func semantic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return v
}

// docsOf returns every document of a state as parsed JSON, by a path name.
func docsOf(t *testing.T, st *state.State) map[string]any {
	t.Helper()
	out := map[string]any{}
	put := func(name string, d *state.Doc) {
		if d == nil {
			out[name] = nil
			return
		}
		out[name+"/"+d.Form.String()] = semantic(t, d.Text)
	}
	for _, b := range st.Buckets {
		put("bucket "+b.Name, b.Policy)
	}
	for _, k := range st.Keys {
		put("key "+k.ARN, k.Policy)
	}
	for _, p := range st.Principals {
		for _, nd := range p.InlinePolicies {
			put(p.ARN+" inline "+nd.Name, nd.Doc)
		}
		for _, mp := range p.AttachedPolicies {
			put(p.ARN+" attached "+mp.ARN, mp.Document)
		}
		for _, g := range p.Groups {
			for _, nd := range g.InlinePolicies {
				put(p.ARN+" group "+g.Name+" inline "+nd.Name, nd.Doc)
			}
			for _, mp := range g.AttachedPolicies {
				put(p.ARN+" group "+g.Name+" attached "+mp.ARN, mp.Document)
			}
		}
		if p.PermissionsBoundary != nil {
			put(p.ARN+" boundary", p.PermissionsBoundary.Document)
		}
	}
	return out
}

func TestRoundTripIsByteIdentical(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			st, data := load(t, name)
			out := marshal(t, st)
			if diff := cmp.Diff(string(data), string(out)); diff != "" {
				t.Errorf("round trip changed the file (-read +written):\n%s", diff)
			}
		})
	}
}

// A state without Source (as read from live AWS) is written afresh; reading
// that back gives the same state.
func TestFreshWriteReadsBackEqual(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			st, _ := load(t, name)
			stripSources(st)
			out := marshal(t, st)
			back, err := Parse("fresh", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if diff := cmp.Diff(st, back, cmpOpts...); diff != "" {
				t.Errorf("fresh write does not read back equal (-want +got):\n%s\n%s", diff, out)
			}
			if diff := cmp.Diff(docsOf(t, st), docsOf(t, back)); diff != "" {
				t.Errorf("documents differ:\n%s", diff)
			}
			// And writing the re-read state again is byte-identical.
			if again := marshal(t, back); string(again) != string(out) {
				t.Errorf("second write differs:\n%s\n---\n%s", out, again)
			}
		})
	}
}

func stripSources(st *state.State) {
	st.Source = nil
	for i := range st.Buckets {
		st.Buckets[i].Source = nil
		if e := st.Buckets[i].Encryption; e != nil {
			e.Source = nil
		}
	}
	for i := range st.Keys {
		st.Keys[i].Source = nil
		for j := range st.Keys[i].Grants {
			st.Keys[i].Grants[j].Source = nil
		}
	}
	for i := range st.Principals {
		p := &st.Principals[i]
		p.Source = nil
		for j := range p.AttachedPolicies {
			p.AttachedPolicies[j].Source = nil
		}
		for j := range p.Groups {
			p.Groups[j].Source = nil
			for k := range p.Groups[j].AttachedPolicies {
				p.Groups[j].AttachedPolicies[k].Source = nil
			}
		}
		if p.PermissionsBoundary != nil {
			p.PermissionsBoundary.Source = nil
		}
	}
}

func TestFreshWriteOfTheExampleMatchesItsShape(t *testing.T) {
	// The examples are written the way a fresh snapshot is: the fresh
	// writer reproduces seed-same-account.json except for the one-line
	// "aliases" list it also writes on one line.
	st, data := load(t, "seed-same-account.json")
	stripSources(st)
	out := marshal(t, st)
	if diff := cmp.Diff(string(data), string(out)); diff != "" {
		t.Errorf("fresh write differs from the example (-example +fresh):\n%s", diff)
	}
}

func TestEditsTouchOnlyWhatChanged(t *testing.T) {
	newPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"BucketGrantX","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":"kms:Decrypt","Resource":"*"}]}`
	tests := []struct {
		name    string
		fixture string
		edit    func(st *state.State)
		want    []string // substrings that must appear in the output
		keep    []string // substrings of the original that must survive
	}{
		{
			name: "key policy replaced, string form kept", fixture: "seed-same-account.json",
			edit: func(st *state.State) { st.Keys[0].Policy = &state.Doc{Text: []byte(newPolicy), Form: state.FormString} },
			want: []string{`"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"BucketGrantX\"`},
			keep: []string{`"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\"`, `"aliases": ["alias/doc-example-bucket"]`},
		},
		{
			name: "inline policy added to an empty object", fixture: "seed-same-account.json",
			edit: func(st *state.State) {
				p := &st.Principals[0]
				p.InlinePolicies = append(p.InlinePolicies, state.NamedDoc{Name: "bucketgrant", Doc: state.NewDoc(newPolicy)})
			},
			want: []string{"\"inline_policies\": {\n        \"bucketgrant\": \"{\\\"Version", "\n      },\n      \"attached_policies\": []"},
		},
		{
			name: "inline policy appended after existing ones", fixture: "seed-cross-account.json",
			edit: func(st *state.State) {
				p := &st.Principals[0]
				p.InlinePolicies = append(p.InlinePolicies, state.NamedDoc{Name: "bucketgrant", Doc: state.NewDoc(newPolicy)})
			},
			want: []string{"\"read-own-profile\": \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":{\\\"Effect", "}\",\n        \"bucketgrant\": \""},
		},
		{
			name: "attached policy added to an empty array", fixture: "seed-same-account.json",
			edit: func(st *state.State) {
				p := &st.Principals[0]
				p.AttachedPolicies = append(p.AttachedPolicies, state.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/New", Document: state.NewDoc(newPolicy)})
			},
			want: []string{"\"attached_policies\": [\n        {\n          \"arn\": \"arn:aws:iam::111122223333:policy/New\",\n          \"document\": \""},
		},
		{
			name: "object-form bucket policy replaced keeps unknown members", fixture: "odd-shapes.json",
			edit: func(st *state.State) {
				st.Buckets[1].Policy = &state.Doc{Text: []byte(newPolicy), Form: state.FormObject}
			},
			want: []string{`"policy":` + newPolicy + `}`},
			keep: []string{`"blocked_encryption_types":["SSE-C"]`, `"x-future":{"a":[1,2,{"b":null}]}`, `"tags":{"k":"v"}`, `"rotation":"yes"`},
		},
		{
			name: "bucket policy added where it was null", fixture: "seed-cross-account.json",
			edit: func(st *state.State) { st.Buckets[0].Policy = state.NewDoc(newPolicy) },
			want: []string{`"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"BucketGrantX\"`},
		},
		{
			name: "policy member inserted where it was absent", fixture: "odd-shapes.json",
			edit: func(st *state.State) { st.Buckets[2].Policy = state.NewDoc(newPolicy) },
			want: []string{`"encryption":{"sse_algorithm":"AES256"}, "policy": "{`},
		},
		{
			name: "group inline policy changed in an inline-formatted file", fixture: "odd-shapes.json",
			edit: func(st *state.State) {
				g := &st.Principals[0].Groups[0]
				g.InlinePolicies = append(g.InlinePolicies, state.NamedDoc{Name: "g", Doc: state.NewDoc("{}")})
			},
			want: []string{`{"name":"devs","inline_policies":{` + "\n", `"g": "{}"`, `"path":"/"}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, data := load(t, tc.fixture)
			tc.edit(st)
			out := marshal(t, st)
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, k := range tc.keep {
				if !strings.Contains(string(data), k) {
					t.Fatalf("bad test: original lacks %q", k)
				}
				if !strings.Contains(string(out), k) {
					t.Errorf("output lost %q:\n%s", k, out)
				}
			}
			back, err := Parse("edited", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if diff := cmp.Diff(st, back, cmpOpts...); diff != "" {
				t.Errorf("edited state does not read back equal (-want +got):\n%s", diff)
			}
			// Unknown members survive: the written file holds every member
			// path the original held.
			for p := range paths(semantic(t, data), "") {
				if strings.Contains(p, ".policy.") {
					continue // documents may be replaced whole
				}
				if !paths(semantic(t, out), "")[p] {
					t.Errorf("member %s lost", p)
				}
			}
		})
	}
}

// paths lists the object member paths in v (array indexes kept).
func paths(v any, prefix string) map[string]bool {
	out := map[string]bool{}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := prefix + "." + k
			out[p] = true
			for q := range paths(e, p) {
				out[q] = true
			}
		}
	case []any:
		for i, e := range x {
			for q := range paths(e, prefix+"["+string(rune('0'+i))+"]") {
				out[q] = true
			}
		}
	}
	return out
}

func TestReadsOddShapes(t *testing.T) {
	st, _ := load(t, "odd-shapes.json")
	if got := len(st.Buckets); got != 3 {
		t.Fatalf("buckets = %d", got)
	}
	b2 := st.FindBucket("b2")
	if b2 == nil || b2.Policy == nil || b2.Policy.Form != state.FormObject || b2.ObjectOwnership != "" {
		t.Fatalf("b2 = %+v", b2)
	}
	if !strings.Contains(string(b2.Policy.Text), `1.50`) {
		t.Errorf("number text not kept: %s", b2.Policy.Text)
	}
	if k := st.KeyForBucket(b2); k == nil || k.ARN != "arn:aws:kms:eu-west-1:111122223333:key/abc" {
		t.Errorf("alias did not resolve: %+v", k)
	}
	if st.FindBucket("b1").Encryption != nil || st.FindBucket("b1").Policy != nil {
		t.Errorf("b1 nulls not read as none")
	}
	k := st.Keys[0]
	if !k.MultiRegion || k.Region != "eu-west-1" || k.Policy.Form != state.FormString || len(k.Aliases) != 0 {
		t.Errorf("key = %+v", k)
	}
	if !strings.Contains(string(k.Policy.Text), `"Sid":"Unicode \u00e9 \/ <tag> \u2028"`) {
		t.Errorf("string document text: %s", k.Policy.Text)
	}
	p := st.FindPrincipal("arn:aws:iam::111122223333:user/path/Bob")
	if p == nil || p.Kind != state.KindUser {
		t.Fatalf("Bob = %+v", p)
	}
	var names []string
	for _, nd := range p.InlinePolicies {
		names = append(names, nd.Name+"/"+nd.Doc.Form.String())
	}
	if diff := cmp.Diff([]string{"z-last/object", "a-first/string"}, names); diff != "" {
		t.Errorf("inline policy order (-want +got):\n%s", diff)
	}
	if p.AttachedPolicies[0].VersionID != "v7" || len(p.Groups) != 2 || p.Groups[1].InlinePolicies != nil {
		t.Errorf("Bob = %+v", p)
	}
	if p.PermissionsBoundary == nil || p.PermissionsBoundary.Document.Form != state.FormObject {
		t.Errorf("boundary = %+v", p.PermissionsBoundary)
	}
	if r := st.FindPrincipal("arn:aws:sts::111122223333:assumed-role/App/session-1"); r == nil || r.Kind != state.KindRole {
		t.Errorf("assumed-role session did not find the role: %+v", r)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty file", "", "f.json: empty file"},
		{"malformed", "{\n  \"format\": \"bucketgrant.snapshot/1\",\n  \"buckets\": [,]\n}", "f.json:3:15: malformed JSON"},
		{"not an object", `[]`, "f.json: want a JSON object, got array"},
		{"missing format", `{}`, "f.json: format: missing"},
		{"wrong format", `{"format":"bucketgrant.snapshot/3"}`, `f.json: format: is "bucketgrant.snapshot/3"; this version reads "bucketgrant.snapshot/2" and "bucketgrant.snapshot/1"`},
		{"format wrong type", `{"format":1}`, "f.json: format: want a string, got number"},
		{"buckets not array", `{"format":"bucketgrant.snapshot/1","buckets":{}}`, "f.json: buckets: want an array, got object"},
		{"bucket without name", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a"},{"region":"x"}]}`, "f.json: buckets[1].name: missing"},
		{"duplicate bucket", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a"},{"name":"a"}]}`, `f.json: buckets[1].name: duplicate bucket name "a" (also buckets[0])`},
		{"policy number", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a","policy":3}]}`, "f.json: buckets[0].policy: want a policy document (a JSON object or a string holding one), got number"},
		{"policy string not json", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a","policy":"{nope"}]}`, "f.json: buckets[0].policy: the string does not hold JSON (at 1:2 of the document)"},
		{"policy string array", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a","policy":"[]"}]}`, "f.json: buckets[0].policy: the string holds a JSON array"},
		{"encryption wrong type", `{"format":"bucketgrant.snapshot/1","buckets":[{"name":"a","encryption":{"bucket_key_enabled":"yes"}}]}`, "f.json: buckets[0].encryption.bucket_key_enabled: want true or false, got string"},
		{"key without arn", `{"format":"bucketgrant.snapshot/1","keys":[{"key_state":"Enabled"}]}`, "f.json: keys[0].arn: missing"},
		{"duplicate key", `{"format":"bucketgrant.snapshot/1","keys":[{"arn":"k"},{"arn":"k"}]}`, `f.json: keys[1].arn: duplicate key arn "k"`},
		{"alias wrong type", `{"format":"bucketgrant.snapshot/1","keys":[{"arn":"k","aliases":[1]}]}`, "f.json: keys[0].aliases[0]: want a string, got number"},
		{"principal without arn", `{"format":"bucketgrant.snapshot/1","principals":[{"id":"AIDA"}]}`, "f.json: principals[0].arn: missing"},
		{"inline not object", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","inline_policies":[]}]}`, "f.json: principals[0].inline_policies: want an object of policy name to document, got array"},
		{"inline null doc", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","inline_policies":{"p":null}}]}`, "f.json: principals[0].inline_policies.p: want a policy document, got null"},
		{"duplicate inline", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","inline_policies":{"p":{},"p":{}}}]}`, `f.json: principals[0].inline_policies.p: member "p" appears twice`},
		{"group without name", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","groups":[{}]}]}`, "f.json: principals[0].groups[0].name: missing"},
		{"attached without arn", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","attached_policies":[{"document":{}}]}]}`, "f.json: principals[0].attached_policies[0].arn: missing"},
		{"boundary wrong type", `{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","permissions_boundary":"x"}]}`, "f.json: principals[0].permissions_boundary: want a JSON object, got string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.json", []byte(tc.data))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got %q\nwant %q...", err, tc.want)
			}
		})
	}
}

func TestSaveIsAtomicAndPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, data := load(t, "seed-cross-account.json")
	if err := Save(path, st); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) {
		t.Errorf("saved file differs")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, back, cmpOpts...); diff != "" {
		t.Error(diff)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Load of a missing file: %v", err)
	}
	if err := Save(filepath.Join(dir, "no", "such", "dir.json"), st); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

func TestNilAndEmpty(t *testing.T) {
	out, err := Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"format\": \"bucketgrant.snapshot/2\",\n  \"buckets\": [],\n  \"keys\": [],\n  \"principals\": []\n}\n"
	if string(out) != want {
		t.Errorf("Marshal(nil) =\n%s", out)
	}
	st, err := Parse("x", out)
	if err != nil || len(st.Buckets)+len(st.Keys)+len(st.Principals) != 0 {
		t.Errorf("%v %+v", err, st)
	}
}

func TestRemovalsAndFormChanges(t *testing.T) {
	tests := []struct {
		name string
		edit func(st *state.State)
	}{
		{"inline policy removed", func(st *state.State) { st.Principals[0].InlinePolicies = st.Principals[0].InlinePolicies[1:] }},
		{"inline policies reordered", func(st *state.State) {
			ip := st.Principals[0].InlinePolicies
			ip[0], ip[1] = ip[1], ip[0]
		}},
		{"bucket removed", func(st *state.State) { st.Buckets = st.Buckets[1:] }},
		{"document form switched", func(st *state.State) {
			st.Keys[0].Policy.Form = state.FormObject
			st.Buckets[1].Policy.Form = state.FormString
		}},
		{"boundary removed", func(st *state.State) { st.Principals[0].PermissionsBoundary = nil }},
		{"group renamed and encryption dropped", func(st *state.State) {
			st.Principals[0].Groups[1].Name = "operators"
			st.Buckets[1].Encryption = nil
		}},
		{"new principal without source", func(st *state.State) {
			st.Principals = append(st.Principals, state.Principal{ARN: "arn:aws:iam::111122223333:user/New", ID: "AIDANEW", Kind: state.KindUser})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, data := load(t, "odd-shapes.json")
			tc.edit(st)
			out := marshal(t, st)
			back, err := Parse("edited", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if diff := cmp.Diff(st, back, cmpOpts...); diff != "" {
				t.Errorf("edited state does not read back equal (-want +got):\n%s\n%s", diff, out)
			}
			if !strings.Contains(string(out), `"x-future":{"a":[1,2,{"b":null}]}`) {
				t.Errorf("unknown top-level member lost")
			}
			if string(out) == string(data) {
				t.Errorf("nothing changed")
			}
		})
	}
}

func TestDocumentsDoNotAliasTheFile(t *testing.T) {
	st, data := load(t, "odd-shapes.json")
	d := st.Buckets[1].Policy
	d.Text = append(d.Text, "garbage"...)
	d.Text = d.Text[:len(d.Text)-len("garbage")]
	if out := marshal(t, st); string(out) != string(data) {
		t.Errorf("appending to a document changed the file:\n%s", out)
	}
}

func TestInlineRemovalSplices(t *testing.T) {
	const file = `{
  "format": "bucketgrant.snapshot/1",
  "principals": [
    {
      "arn": "arn:aws:iam::111122223333:user/Jane",
      "inline_policies": {
        "a": "{}",
        "b": {"Version": "2012-10-17"},
        "c": "{\"Statement\":[]}"
      },
      "x": 1
    }
  ]
}
`
	body := func(lines ...string) string {
		return "{\n  \"format\": \"bucketgrant.snapshot/1\",\n  \"principals\": [\n    {\n      \"arn\": \"arn:aws:iam::111122223333:user/Jane\",\n      \"inline_policies\": " +
			strings.Join(lines, "\n") + ",\n      \"x\": 1\n    }\n  ]\n}\n"
	}
	tests := []struct {
		name string
		keep []string
		add  bool
		want string
	}{
		{"first", []string{"b", "c"}, false, body("{", `        "b": {"Version": "2012-10-17"},`, `        "c": "{\"Statement\":[]}"`, "      }")},
		{"middle", []string{"a", "c"}, false, body("{", `        "a": "{}",`, `        "c": "{\"Statement\":[]}"`, "      }")},
		{"last", []string{"a", "b"}, false, body("{", `        "a": "{}",`, `        "b": {"Version": "2012-10-17"}`, "      }")},
		{"first two", []string{"c"}, false, body("{", `        "c": "{\"Statement\":[]}"`, "      }")},
		{"last two, one added", []string{"a"}, true, body("{", `        "a": "{}",`, `        "new": "{}"`, "      }")},
		{"all", nil, false, body("{}")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Parse("f", []byte(file))
			if err != nil {
				t.Fatal(err)
			}
			p := &st.Principals[0]
			var list []state.NamedDoc
			for _, nd := range p.InlinePolicies {
				for _, k := range tc.keep {
					if nd.Name == k {
						list = append(list, nd)
					}
				}
			}
			if tc.add {
				list = append(list, state.NamedDoc{Name: "new", Doc: state.NewDoc("{}")})
			}
			p.InlinePolicies = list
			out := marshal(t, st)
			if diff := cmp.Diff(tc.want, string(out)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
