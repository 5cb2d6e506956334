package lifeseq

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/trust"
)

// foundSequences are shrunk sequences that once violated a property, each
// kept with what was wrong; TestFoundSequences runs them every time.
var foundSequences = []struct{ what, seq string }{
	{
		// After re-keying, a read grant made read+write extended its one
		// identity KMS statement, which still named the old key: the role
		// could generate data keys under the old key (nothing-new).
		"write actions reach the old key",
		`{"seed":1,"index":2763,"world":{"principals":[{"arn":"arn:aws:iam::111111111111:role/app"}],"buckets":[{"name":"beta","account":"111111111111","key":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000002"}],"keys":[{"arn":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000001","delegates":true},{"arn":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000002","delegates":true}]},"steps":[{"op":"sync","file":[{"principal":"arn:aws:iam::111111111111:role/app","bucket":"beta","access":["read"]},{"principal":"arn:aws:iam::111111111111:role/app","bucket":"beta","prefix":"logs/","access":["list"]}]},{"op":"rekey","bucket":"beta","key":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000001"},{"op":"apply","grant":{"principal":"arn:aws:iam::111111111111:role/app","bucket":"beta","access":["read","write"]}}]}`,
	},
	{
		// A read+write grant narrowed to read after re-keying (sync with
		// --drop-old-keys, without --prune): the new key went into the old
		// statement, which still allowed kms:GenerateDataKey (nothing-new).
		"the new key gets the old statement's write actions",
		`{"seed":1,"index":11145,"world":{"principals":[{"arn":"arn:aws:iam::111111111111:user/eng/bob"}],"buckets":[{"name":"beta","account":"111111111111","key":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000001"}],"keys":[{"arn":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000001","delegates":true},{"arn":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000002","delegates":true}]},"steps":[{"op":"sync","file":[{"principal":"arn:aws:iam::111111111111:user/eng/bob","bucket":"beta","prefix":"reports/","access":["read","write","versions"]}],"prune":true},{"op":"rekey","bucket":"beta","key":"arn:aws:kms:us-east-1:111111111111:key/1000000-0000-4000-8000-000000000002"},{"op":"sync","file":[{"principal":"arn:aws:iam::111111111111:user/eng/bob","bucket":"beta","prefix":"reports/","access":["read"],"drop_old_keys":true}]}]}`,
	},
}

func TestFoundSequences(t *testing.T) {
	o, err := oracle.Start()
	if err != nil {
		t.Fatalf("%v (%s)", err, oracle.InstallHint)
	}
	t.Cleanup(func() { o.Close() })
	r, err := NewRunner(filepath.Join(t.TempDir(), "found"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range foundSequences {
		var seq Sequence
		if err := json.Unmarshal([]byte(f.seq), &seq); err != nil {
			t.Fatalf("%s: %v", f.what, err)
		}
		run, err := Execute(context.Background(), seq, r, trust.NewGoDecider(), 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", f.what, err)
		}
		if err := decide(o, []*Run{run}); err != nil {
			t.Fatalf("%s: %v", f.what, err)
		}
		for _, v := range run.Violations {
			t.Errorf("%s: %s, step %d: %s", f.what, v.Prop, v.Step, v.Msg)
		}
		if len(run.Disagreements) > 0 {
			t.Errorf("%s: the Go evaluator and the oracle disagree: %v", f.what, run.Disagreements)
		}
	}
}
