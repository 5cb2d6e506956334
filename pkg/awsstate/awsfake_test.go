package awsstate_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/integration/fixture"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The examples name their bucket DOC-EXAMPLE-BUCKET, which S3 (and the
// test server) refuse as a bucket name; the test uses it in lower case.
const exampleBucket, testBucket = "DOC-EXAMPLE-BUCKET", "doc-example-bucket"

func loadExample(t *testing.T, name string) *state.State {
	t.Helper()
	data, err := os.ReadFile("../../examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := snapshot.Parse(name, []byte(strings.ReplaceAll(string(data), exampleBucket, testBucket)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type seeded struct {
	srv                *awsfake.Server
	principal          aws.Config
	resource           *aws.Config       // nil: same account
	keyARNs            map[string]string // example key ARN -> created key ARN
	principalARN, name string
}

// seed creates, through the SDK, everything an example snapshot holds
// (integration/fixture, shared with the end-to-end tests).
func seed(t *testing.T, st *state.State) *seeded {
	t.Helper()
	ctx := context.Background()
	srv := awsfake.Start(t)
	env, err := fixture.Load(ctx, srv, st)
	if err != nil {
		t.Fatal(err)
	}
	b := st.Buckets[0]
	p := st.Principals[0]
	pAcct := state.AccountOf(p.ARN)
	cfgFor := func(acct string) aws.Config {
		c, err := env.Config(ctx, acct, b.Region)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s := &seeded{srv: srv, principal: cfgFor(pAcct), keyARNs: env.KeyARNs, principalARN: p.ARN, name: b.Name}
	if b.Account != pAcct {
		c := cfgFor(b.Account)
		s.resource = &c
	}
	return s
}

func parsed(t *testing.T, d *state.Doc) any {
	t.Helper()
	if d == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(d.Text, &v); err != nil {
		t.Fatalf("%v: %s", err, d.Text)
	}
	return v
}

func TestReadExamplesFromTheTestServer(t *testing.T) {
	for _, tc := range []struct {
		file      string
		wantCalls int
	}{
		// Each counts one kms:ListGrants (up to 100 grants a page);
		// the principal's tags come with iam:GetUser; the bucket is in
		// the client's region, found by reading its policy (no
		// HeadBucket).
		{"seed-same-account.json", 12},
		{"seed-cross-account.json", 14},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := loadExample(t, tc.file)
			s := seed(t, want)
			s.srv.ResetCalls()
			r := awsstate.NewReaderFromConfig(s.principal, s.resource, true)
			got, err := r.Read(context.Background(), s.principalARN, s.name)
			if err != nil {
				t.Fatalf("%v\nhint: %s\ndetail: %s", err, awsstate.Hint(err), awsstate.Detail(err))
			}
			counts := s.srv.CallCounts()
			total := 0
			for _, n := range counts {
				total += n
			}
			t.Logf("%s: %d API calls: %v", tc.file, total, counts)
			if total != tc.wantCalls {
				t.Errorf("API calls = %d, want %d: %v", total, tc.wantCalls, counts)
			}

			// Every document is semantically the example's.
			wb, gb := want.Buckets[0], got.Buckets[0]
			if diff := cmp.Diff(parsed(t, wb.Policy), parsed(t, gb.Policy)); diff != "" {
				t.Errorf("bucket policy (-example +read):\n%s", diff)
			}
			if len(got.Keys) != 1 {
				t.Fatalf("keys = %+v", got.Keys)
			}
			wk, gk := want.Keys[0], got.Keys[0]
			if diff := cmp.Diff(parsed(t, wk.Policy), parsed(t, gk.Policy)); diff != "" {
				t.Errorf("key policy (-example +read):\n%s", diff)
			}
			wp, gp := want.Principals[0], got.Principals[0]
			if len(wp.InlinePolicies) != len(gp.InlinePolicies) {
				t.Fatalf("inline policies: %+v", gp.InlinePolicies)
			}
			for i := range wp.InlinePolicies {
				if wp.InlinePolicies[i].Name != gp.InlinePolicies[i].Name {
					t.Errorf("inline policy %d is %q, want %q", i, gp.InlinePolicies[i].Name, wp.InlinePolicies[i].Name)
				}
				if diff := cmp.Diff(parsed(t, wp.InlinePolicies[i].Doc), parsed(t, gp.InlinePolicies[i].Doc)); diff != "" {
					t.Errorf("inline policy %s (-example +read):\n%s", wp.InlinePolicies[i].Name, diff)
				}
			}

			// And the rest, with the ARNs and IDs the server made.
			wb.Encryption.KMSMasterKeyID = s.keyARNs[wb.Encryption.KMSMasterKeyID]
			wk.ARN = s.keyARNs[wk.ARN]
			if !strings.HasPrefix(gp.ID, "AIDA") {
				t.Errorf("user id %q", gp.ID)
			}
			wp.ID = gp.ID
			if wp.Tags == nil {
				wp.Tags = []state.Tag{} // the examples record no tags; the principal has none
			}
			opts := []cmp.Option{cmp.Comparer(func(a, b *state.Doc) bool { return cmp.Equal(parsed(t, a), parsed(t, b)) }),
				cmp.Comparer(func(a, b state.Source) bool { return true })}
			if diff := cmp.Diff(want.Buckets[0], gb, opts...); diff != "" {
				t.Errorf("bucket (-example +read):\n%s", diff)
			}
			wk.Region = gk.Region
			if diff := cmp.Diff(wk, gk, opts...); diff != "" {
				t.Errorf("key (-example +read):\n%s", diff)
			}
			if diff := cmp.Diff(wp, gp, opts...); diff != "" {
				t.Errorf("principal (-example +read):\n%s", diff)
			}
			if got.KeyForBucket(&got.Buckets[0]) == nil {
				t.Errorf("the state does not resolve the bucket's key")
			}

			// What was read writes as a snapshot that reads back the same.
			out, err := snapshot.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := snapshot.Parse("read", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if diff := cmp.Diff(got, back, opts...); diff != "" {
				t.Errorf("snapshot of the read state (-read +reread):\n%s", diff)
			}
		})
	}
}
