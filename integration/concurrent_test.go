package integration

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
)

// Issue 7, part 2: another writer changes a document while bucketgrant
// works on it. TestApplyStalePlan (the key policy between plan and apply)
// and TestApplyDocumentChangedDuringApply (the bucket policy between
// apply's two reads) cover two cells; these cover the other documents and
// the moment right after bucketgrant's own write. In every case the other
// writer's statement survives, the run exits 1, and its report names the
// document.

const otherWriterSid = "OtherWriter"

func otherWriterStatement(resource string) string {
	return `{"Sid":"` + otherWriterSid + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + crossResource + `:root"},"Action":"s3:GetBucketTagging","Resource":"` + resource + `"}`
}

// otherInline is an inline policy of the same name as bucketgrant's,
// written by someone else.
const otherInline = `{"Version":"2012-10-17","Statement":[{"Sid":"` + otherWriterSid + `","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"` + bucketARN + `"}]}`

// nthCall runs fn on the nth call of op (counting from 1), once.
func nthCall(srv *awsfake.Server, op string, n int, before bool, fn func()) {
	var mu sync.Mutex
	seen := 0
	hook := func(awsfake.Call) {
		mu.Lock()
		seen++
		now := seen == n
		mu.Unlock()
		if now {
			fn()
		}
	}
	if before {
		srv.Before(op, hook)
	} else {
		srv.After(op, hook)
	}
}

func TestConcurrentWriters(t *testing.T) {
	type change struct {
		name string
		// doc names the document in the report.
		doc string
		// write makes the other writer's change.
		write func(t *testing.T, w *world)
		// survived checks the other writer's statement is still there.
		survived func(w *world) bool
	}
	keyChange := change{
		name: "key policy",
		write: func(t *testing.T, w *world) {
			if err := w.srv.SetKeyPolicyRaw(w.keyARN, withStatement(t, w.keyPolicy(), otherWriterStatement("*"))); err != nil {
				t.Error(err)
			}
		},
		survived: func(w *world) bool { return strings.Contains(w.keyPolicy(), otherWriterSid) },
	}
	bucketChange := change{
		name: "bucket policy",
		doc:  "bucket policy of " + bucket,
		write: func(t *testing.T, w *world) {
			cur, _ := w.srv.BucketPolicy(bucket)
			if err := w.srv.SetBucketPolicyRaw(bucket, withStatement(t, cur, otherWriterStatement(bucketARN))); err != nil {
				t.Error(err)
			}
		},
		survived: func(w *world) bool { d, _ := w.srv.BucketPolicy(bucket); return strings.Contains(d, otherWriterSid) },
	}
	inlineChange := change{
		name: "inline policy",
		doc:  "inline policy " + inlineName + " of " + jane,
		write: func(t *testing.T, w *world) {
			if err := w.srv.SetInlinePolicyRaw(w.principal, "user", "Jane", inlineName, otherInline); err != nil {
				t.Error(err)
			}
		},
		survived: func(w *world) bool { d, _ := w.inlinePolicy(); return strings.Contains(d, otherWriterSid) },
	}

	for _, tc := range []struct {
		name string
		ch   change
		// when arms the change during the apply (nil: between plan and
		// apply).
		when func(w *world, fn func())
		// says is what the report says besides the document.
		says []string
	}{
		{name: "between plan and apply", ch: bucketChange, says: []string{"changed since the plan was made", "nothing was written"}},
		{name: "between plan and apply", ch: inlineChange, says: []string{"changed since the plan was made", "nothing was written"}},
		{
			// Apply reads each document once before the first write and
			// once more right before its own write: the change comes
			// between the two, after the inline policy was written.
			name: "inside apply, before the re-read", ch: keyChange,
			when: func(w *world, fn func()) { nthCall(w.srv, "kms:GetKeyPolicy", 2, true, fn) },
			says: []string{"changed since the plan was made", "not overwritten", "already written: inline policy " + inlineName},
		},
		{
			name: "inside apply, before the re-read", ch: inlineChange,
			when: func(w *world, fn func()) { nthCall(w.srv, "iam:GetUserPolicy", 2, true, fn) },
			says: []string{"changed since the plan was made", "nothing was written"},
		},
	} {
		t.Run(tc.name+"/"+tc.ch.name, func(t *testing.T) {
			t.Parallel()
			w := faultWorld(t)
			doc := tc.ch.doc
			if doc == "" {
				doc = "key policy of " + w.keyARN
			}
			planFile := filepath.Join(w.dir, "plan.json")
			w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)
			before := w.statements()
			if tc.when == nil {
				tc.ch.write(t, w)
			} else {
				tc.when(w, func() { tc.ch.write(t, w) })
			}
			out, stderr, code := w.aws("apply", "--yes", planFile)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
			}
			noRawErrors(t, stderr)
			t.Logf("the report:\n%s", stderr)
			for _, s := range append([]string{doc}, tc.says...) {
				if !strings.Contains(stderr, s) {
					t.Errorf("the report does not say %q:\n%s", s, stderr)
				}
			}
			if !tc.ch.survived(w) {
				t.Errorf("the other writer's statement was lost")
			}
			w.srv.ClearFaults()
			lostStatements(t, before, w.statements())

			// Planning again takes the other writer's change in, keeps it,
			// and converges.
			mid := w.statements()
			w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
			if !tc.ch.survived(w) {
				t.Errorf("the re-run lost the other writer's statement")
			}
			lostStatements(t, mid, w.statements())
			out, _ = w.mustRun(0, append([]string{"plan"}, grantArgs()...)...)
			if !strings.Contains(out, "No changes.") {
				t.Errorf("the plan after the re-run is not empty:\n%s", out)
			}
		})
	}
}

// Another writer that read the key policy before bucketgrant wrote it, and
// writes its own version right after bucketgrant's write, drops
// bucketgrant's statements (AWS has no conditional writes). Its statement
// survives; bucketgrant finds its own grant gone when it verifies, exits 1
// and names what is not allowed; a re-run puts the grant back without
// dropping the other writer's statement.
func TestConcurrentWriterAfterOwnWrite(t *testing.T) {
	w := faultWorld(t)
	original := w.keyPolicy()
	nthCall(w.srv, "kms:PutKeyPolicy", 1, false, func() {
		if err := w.srv.SetKeyPolicyRaw(w.keyARN, withStatement(t, original, otherWriterStatement("*"))); err != nil {
			t.Error(err)
		}
	})
	out, stderr, code := w.aws(append([]string{"apply", "--yes"}, grantArgs()...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s%s", out, stderr)
	for _, s := range []string{"the access is still not allowed", "kms:", w.keyARN} {
		if !strings.Contains(stderr, s) {
			t.Errorf("the report does not say %q:\n%s", s, stderr)
		}
	}
	if !strings.Contains(w.keyPolicy(), otherWriterSid) {
		t.Fatalf("the other writer's statement is gone")
	}
	w.srv.ClearFaults()
	mid := w.statements()
	out, _ = w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	if !strings.Contains(out, jane+" can now ") {
		t.Errorf("the re-run did not verify the access:\n%s", out)
	}
	if n := lostStatements(t, mid, w.statements()); n > 0 {
		t.Errorf("the re-run lost %d statements", n)
	}
}
