package diff_test

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Issue 7, part 4: fuzzing of the merge. From the fuzzer's bytes, fuzzDocs
// builds valid documents around one of the examples: other people's
// statements in the key policy, the bucket policy and an inline policy of
// Jane's, with principals, actions, resources and conditions from pools that
// matter to the grant. Planning the grant must then keep every one of those
// statements byte for byte, write documents that parse, and, once written,
// plan nothing more.

// chooser hands out choices from the fuzzer's bytes (zero when they run
// out).
type chooser struct{ data []byte }

func (c *chooser) n(k int) int {
	if len(c.data) == 0 {
		return 0
	}
	b := c.data[0]
	c.data = c.data[1:]
	return int(b) % k
}

func (c *chooser) pick(vs ...string) string { return vs[c.n(len(vs))] }

var (
	fuzzPrincipals = []string{`{"AWS":"` + jane + `"}`, `{"AWS":"arn:aws:iam::111122223333:root"}`, `{"AWS":"111122223333"}`, `"*"`,
		`{"AWS":"arn:aws:iam::444455556666:root"}`, `{"AWS":["arn:aws:iam::444455556666:role/Reader","arn:aws:iam::123456789098:root"]}`,
		`{"Service":"s3.amazonaws.com"}`, `{"AWS":"arn:aws:iam::123456789098:root"}`}
	fuzzActions = []string{`"s3:GetObject"`, `"s3:*"`, `"kms:Decrypt"`, `"kms:*"`, `["s3:PutObject","s3:GetObject"]`, `"s3:ListBucket"`,
		`"kms:GenerateDataKey*"`, `"iam:GetUser"`, `"s3:Get*"`, `["kms:Encrypt","kms:ReEncrypt*"]`}
	fuzzConditions = []string{``, `,"Condition":{"Bool":{"aws:SecureTransport":"false"}}`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`,
		`,"Condition":{"StringLike":{"s3:prefix":["home/*"]}}`, `,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`,
		`,"Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, `,"Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}`}
)

// fuzzStatement is one statement's exact text; identity statements have no
// Principal.
func fuzzStatement(c *chooser, i int, identity bool, resources []string) string {
	effect := c.pick("Allow", "Allow", "Allow", "Deny")
	var b strings.Builder
	b.WriteString("{")
	if c.n(3) > 0 {
		b.WriteString(`"Sid":"Other` + string(rune('A'+i%26)) + `",`)
	}
	b.WriteString(`"Effect":"` + effect + `",`)
	if !identity {
		b.WriteString(`"Principal":` + fuzzPrincipals[c.n(len(fuzzPrincipals))] + `,`)
	}
	b.WriteString(`"Action":` + fuzzActions[c.n(len(fuzzActions))] + `,`)
	b.WriteString(`"Resource":"` + resources[c.n(len(resources))] + `"`)
	b.WriteString(fuzzConditions[c.n(len(fuzzConditions))])
	b.WriteString("}")
	return b.String()
}

// fuzzDoc builds a document holding keep (texts of statements already
// there) and n generated statements, in one of AWS's layouts; it returns
// the document and every statement text in it.
func fuzzDoc(c *chooser, keep []string, identity bool, resources []string) (string, []string) {
	stmts := append([]string(nil), keep...)
	for i, n := 0, c.n(4); i < n; i++ {
		stmts = append(stmts, fuzzStatement(c, i, identity, resources))
	}
	if len(stmts) == 0 {
		return "", nil
	}
	switch c.n(3) {
	case 0: // compact, as S3 returns bucket policies
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`, stmts
	case 1: // KMS's layout
		return "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ " + strings.Join(stmts, ", ") + " ]\n}", stmts
	}
	if len(stmts) == 1 { // a single statement object
		return `{"Version":"2012-10-17","Statement":` + stmts[0] + `}`, stmts
	}
	return "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        " + strings.Join(stmts, ",\n        ") + "\n    ]\n}", stmts
}

func compactStatements(t *testing.T, doc *state.Doc) []string {
	t.Helper()
	if doc == nil {
		return nil
	}
	var d struct{ Statement json.RawMessage }
	if err := json.Unmarshal(doc.Text, &d); err != nil {
		t.Fatal(err)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(d.Statement, &list); err != nil {
		list = []json.RawMessage{d.Statement}
	}
	var out []string
	for _, s := range list {
		var v any
		_ = json.Unmarshal(s, &v)
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	return out
}

var mergeSeeds = [][]byte{
	{}, {0}, {1}, {1, 3, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3}, {0, 2, 0, 0, 1, 0, 3, 2, 2, 1, 1, 1, 0, 0},
	{1, 1, 2, 3, 0, 7, 1, 1, 1, 1, 5, 1, 2, 1, 0, 6, 2, 2, 2, 3, 1, 0, 1, 2},
	[]byte("the merge keeps every statement"),
}

// More seeds: 40 fixed pseudo-random cases, most of which plan writes to
// documents that hold other people's statements.
func init() {
	r := rand.New(rand.NewSource(1))
	for range 40 {
		b := make([]byte, 40)
		r.Read(b)
		mergeSeeds = append(mergeSeeds, b)
	}
}

func FuzzMerge(f *testing.F) {
	for _, seed := range mergeSeeds {
		f.Add(seed)
	}
	examples := loadExamples(f)
	f.Fuzz(func(t *testing.T, data []byte) { checkMerge(t, examples, data) })
}

// The seeds reach the interesting part: plans that write documents holding
// other people's statements.
func TestMergeSeedsWriteOthersDocuments(t *testing.T) {
	examples := loadExamples(t)
	kept := 0
	for _, seed := range mergeSeeds {
		kept += checkMerge(t, examples, seed)
	}
	t.Logf("%d kept statements checked", kept)
	if kept < 60 {
		t.Errorf("the seeds check %d kept statements; they should reach written documents with other statements", kept)
	}
}

func loadExamples(tb testing.TB) map[bool][]byte {
	examples := map[bool][]byte{}
	for cross, name := range map[bool]string{false: sameSnap, true: crossSnap} {
		data, err := os.ReadFile(filepath.Clean(name))
		if err != nil {
			tb.Fatal(err)
		}
		examples[cross] = data
	}
	return examples
}

// checkMerge checks one generated case and returns how many kept
// statements it checked.
func checkMerge(t *testing.T, examples map[bool][]byte, data []byte) int {
	t.Helper()
	checked := 0
	{
		c := &chooser{data: data}
		cross := c.n(2) == 1
		st, err := snapshot.Parse("example", examples[cross])
		if err != nil {
			t.Fatal(err)
		}
		bucketARN := "arn:aws:s3:::" + bucket
		keyARN := st.Keys[0].ARN
		resources := []string{"*", bucketARN, bucketARN + "/*", bucketARN + "/home/*", keyARN, "arn:aws:s3:::other-bucket/*"}

		// Other people's statements in every document the grant touches.
		texts := map[string][]string{}
		keyDoc, keyStmts := fuzzDoc(c, compactStatements(t, st.Keys[0].Policy), false, resources)
		st.Keys[0].Policy, st.Keys[0].Source = state.NewDoc(keyDoc), nil
		texts["key"] = keyStmts
		if bdoc, bstmts := fuzzDoc(c, compactStatements(t, st.Buckets[0].Policy), false, resources); bdoc != "" {
			st.Buckets[0].Policy, st.Buckets[0].Source = state.NewDoc(bdoc), nil
			texts["bucket"] = bstmts
		}
		if idoc, istmts := fuzzDoc(c, nil, true, resources); idoc != "" {
			st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "team", Doc: state.NewDoc(idoc)})
			st.Principals[0].Source = nil
			texts["team"] = istmts
		}

		levels := [][]diff.Level{nil, {diff.Read}, {diff.Read, diff.Write}, {diff.List}, {diff.Write, diff.Versions}}
		o := diff.Options{Principal: jane, Bucket: bucket, Access: levels[c.n(len(levels))], Prefix: c.pick("", "", "home/"),
			KMSVia: c.pick(diff.ViaAuto, diff.ViaKeyPolicy, diff.ViaIdentity), KMSThroughS3: c.n(2) == 1}
		p, err := diff.Make(st, o)
		if err != nil {
			t.Fatalf("Make: %v", err)
		}
		if p.Blocked() {
			if len(p.Changes) > 0 {
				t.Fatalf("a blocked plan has %d changes", len(p.Changes))
			}
			return 0
		}
		for _, ch := range p.Changes {
			if ch.Action == diff.ActionDelete {
				t.Fatalf("a grant deletes %s", ch.Document.ID())
			}
			if _, err := policy.Parse([]byte(ch.After), policy.KindAny); err != nil {
				t.Fatalf("the merged %s does not parse: %v\n%s", ch.Document.ID(), err, ch.After)
			}
			var kept []string
			switch {
			case ch.Document.Kind == diff.DocKeyPolicy:
				kept = texts["key"]
			case ch.Document.Kind == diff.DocBucketPolicy:
				kept = texts["bucket"]
			case ch.Document.Kind == diff.DocInlinePolicy && ch.Document.Name == "team":
				kept = texts["team"]
			}
			for _, s := range kept {
				if !strings.Contains(ch.After, s) {
					t.Fatalf("the merged %s lost, or changed, a statement:\n%s\nmerged:\n%s", ch.Document.ID(), s, ch.After)
				}
				checked++
			}
		}
		// Written, the documents give the access: planning again is a no-op.
		after, err := snapshot.Parse("after", mustMarshal(t, st))
		if err != nil {
			t.Fatal(err)
		}
		if err := apply.ToState(after, p); err != nil {
			t.Fatalf("ToState: %v", err)
		}
		again, err := diff.Make(after, o)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Empty() || again.Blocked() {
			var ids []string
			for _, ch := range again.Changes {
				ids = append(ids, ch.Document.ID())
			}
			t.Fatalf("planning again is not a no-op: changes %v, blockers %v", ids, again.Blockers)
		}
	}
	return checked
}

func mustMarshal(t *testing.T, st *state.State) []byte {
	t.Helper()
	data, err := snapshot.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzReadPlan: the plan reader never panics; a plan it accepts is sealed,
// survives being written again, and its changes can be ordered for writing.
func FuzzReadPlan(f *testing.F) {
	addFiles(f, "../../testdata/hostile/plan")
	st, err := snapshot.Load(crossSnap)
	if err != nil {
		f.Fatal(err)
	}
	p, err := diff.Make(st, diff.Options{Principal: jane, Bucket: bucket})
	if err != nil {
		f.Fatal(err)
	}
	p.Seal()
	valid, _ := json.Marshal(p)
	f.Add(valid)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := diff.ReadPlan("fuzz.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		again, _ := json.Marshal(p)
		q, err := diff.ReadPlan("again.json", again)
		if err != nil {
			t.Fatalf("an accepted plan, written again, is refused: %v", err)
		}
		if q.Checksum != p.Checksum {
			t.Fatalf("the checksum changed: %s, %s", p.Checksum, q.Checksum)
		}
		_ = apply.Order(p)
		_, _ = p.Blocked(), p.Empty()
	})
}

func addFiles(f *testing.F, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
