package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	inlineName = "bucketgrant-" + bucket
	bucketARN  = "arn:aws:s3:::" + bucket
)

var scenarios = []struct{ name, example string }{
	{"same account", sameAccount},
	{"cross account", crossAccount},
}

// keyPolicy is the key policy as the server stores it.
func (w *world) keyPolicy() string {
	w.t.Helper()
	doc, ok := w.srv.KeyPolicy(w.keyARN)
	if !ok {
		w.t.Fatalf("no key %s", w.keyARN)
	}
	return doc
}

// inlinePolicy is bucketgrant's inline policy of Jane as stored.
func (w *world) inlinePolicy() (string, bool) {
	return w.srv.InlinePolicy(w.principal, "user", "Jane", inlineName)
}

// sameDoc reports whether two document texts mean the same.
func sameDoc(t *testing.T, a, b string) bool {
	t.Helper()
	return docEqual(t, state.NewDoc(a), state.NewDoc(b))
}

// putKeyPolicy changes the key policy through the SDK as the resource
// account's operator would (another writer).
func (w *world) putKeyPolicy(doc string) {
	w.t.Helper()
	// The key's administrator: the same-account key policy lets only
	// KeyAdmin put a policy (KMS's lockout check).
	c, ok := w.creds["keyadmin"]
	if !ok {
		c = w.creds["resource"]
	}
	cfg, err := w.srv.AWSConfig(context.Background(), c, "us-east-1")
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := kms.NewFromConfig(cfg).PutKeyPolicy(context.Background(), &kms.PutKeyPolicyInput{KeyId: aws.String(w.keyARN),
		PolicyName: aws.String("default"), Policy: aws.String(doc)}); err != nil {
		w.t.Fatal(err)
	}
}

// withStatement returns doc with one more statement (a change by someone
// else that a stale plan must not overwrite).
func withStatement(t *testing.T, doc, stmt string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	var s any
	if err := json.Unmarshal([]byte(stmt), &s); err != nil {
		t.Fatal(err)
	}
	switch st := v["Statement"].(type) {
	case []any:
		v["Statement"] = append(st, s)
	default:
		v["Statement"] = []any{st, s}
	}
	out, _ := json.Marshal(v)
	return string(out)
}

const auditorStatement = `{"Sid":"Auditor","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:DescribeKey","Resource":"*"}`

// applyFresh plans (JSON, for the trust property), applies with --yes and
// checks the verdict and the trust property of the written state.
func (w *world) applyFresh(extra ...string) (p *diff.Plan, stdout string) {
	w.t.Helper()
	before := w.read()
	p = w.planJSON(extra...)
	out, _ := w.mustRun(0, append(append([]string{"apply", "--yes"}, grantArgs()...), extra...)...)
	if !strings.Contains(out, jane+" can now ") {
		w.t.Errorf("apply does not verify the access:\n%s", out)
	}
	checkTrust(w.t, before, w.read(), p)
	return p, out
}

// Issue 5: both seed scenarios go from no access to verified access, and a
// second apply writes nothing.
func TestApplyGrantsAccess(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t, sc.example, nil))
			// check says the access is missing (exit 2) before.
			w.mustRun(2, append([]string{"check"}, grantArgs()...)...)
			w.applyFresh()
			w.mustRun(0, append([]string{"check"}, grantArgs()...)...)

			t.Run("a second apply writes nothing", func(t *testing.T) {
				w.srv.ResetCalls()
				out, _ := w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
				if !strings.Contains(out, "No changes.") {
					t.Errorf("second apply:\n%s", out)
				}
				if wr := writes(w.srv.CallCounts()); len(wr) > 0 {
					t.Errorf("second apply wrote: %v", wr)
				}
			})
		})
	}
}

// Issue 5: a document changed between plan and apply is not overwritten;
// the apply stops before its first write and names the document.
func TestApplyStalePlan(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	planFile := filepath.Join(w.dir, "plan.json")
	w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)
	changed := withStatement(t, w.keyPolicy(), strings.ReplaceAll(auditorStatement, "%s", crossResource))
	w.putKeyPolicy(changed)

	w.srv.ResetCalls()
	out, stderr, code := w.aws("apply", "--yes", planFile)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s", stderr)
	for _, s := range []string{"key policy of " + w.keyARN, "changed since the plan was made", "not overwritten", "nothing was written"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	if wr := writes(w.srv.CallCounts()); len(wr) > 0 {
		t.Errorf("a stale apply wrote: %v", wr)
	}
	if got := w.keyPolicy(); got != changed {
		t.Errorf("the key policy was overwritten:\n%s", got)
	}
	if _, ok := w.inlinePolicy(); ok {
		t.Errorf("the inline policy was written")
	}
	if _, ok := w.srv.BucketPolicy(bucket); ok {
		t.Errorf("the bucket policy was written")
	}
}

// Issue 5: a document changed after apply's first re-read and before its
// own write (here the bucket policy, written last, changed while the key
// policy is written) is not overwritten; what was written before is
// reported with the backup.
func TestApplyDocumentChangedDuringApply(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	planFile := filepath.Join(w.dir, "plan.json")
	w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)

	// apply PLAN reads the bucket policy twice: before the first write
	// (all documents), and right before its own write. Another writer
	// sets one between the two.
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"` + bucketARN + `"}]}`
	var reads atomic.Int32
	w.srv.Before("s3:GetBucketPolicy", func(awsfake.Call) {
		if reads.Add(1) == 2 {
			if err := w.srv.SetBucketPolicyRaw(bucket, other); err != nil {
				t.Error(err)
			}
		}
	})
	w.srv.ResetCalls()
	out, stderr, code := w.aws("apply", "--yes", planFile)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s", stderr)
	for _, s := range []string{"bucket policy of " + bucket + " changed since the plan was made", "not overwritten",
		"already written: inline policy " + inlineName + " of " + jane + "; key policy of " + w.keyARN, "backup: "} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	if got, _ := w.srv.BucketPolicy(bucket); got != other {
		t.Errorf("the bucket policy was overwritten:\n%s", got)
	}
	if n := w.srv.Calls("s3:PutBucketPolicy"); n != 0 {
		t.Errorf("PutBucketPolicy calls: %d", n)
	}
	backup := backupPath(t, stderr)
	if _, err := os.Stat(backup); err != nil {
		t.Errorf("backup: %v", err)
	}
}

var backupRe = regexp.MustCompile(`(?m)backup(?: of everything before the apply)?: (\S+\.json)`)

// backupPath finds the backup file a report names.
func backupPath(t *testing.T, report string) string {
	t.Helper()
	m := backupRe.FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no backup path in:\n%s", report)
	}
	return strings.TrimSuffix(m[1], ";")
}

// Issue 5: a write that fails midway (KMS answers 500 on every attempt the
// SDK makes) gives a report of what was written and what not, and where the
// backup is; running the same command again finishes the job.
func TestApplyFailureMidway(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	before := w.read()
	p := w.planJSON()
	// The SDK's standard retryer makes 3 attempts: fail all of them.
	w.srv.FailInternal("kms:PutKeyPolicy", 3, 500)
	out, stderr, code := w.aws(append([]string{"apply", "--yes"}, grantArgs()...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s", stderr)
	for _, s := range []string{
		"writing the key policy of " + w.keyARN + " failed",
		"written: inline policy " + inlineName + " of " + jane,
		"not written: key policy of " + w.keyARN + "; bucket policy of " + bucket,
		"backup of everything before the apply: ",
		"run the same command again",
	} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	if n := w.srv.Calls("kms:PutKeyPolicy"); n != 3 {
		t.Errorf("PutKeyPolicy calls: %d, want 3 (the SDK's attempts)", n)
	}
	if _, err := os.Stat(backupPath(t, stderr)); err != nil {
		t.Errorf("backup: %v", err)
	}
	if _, ok := w.srv.BucketPolicy(bucket); ok {
		t.Errorf("the bucket policy was written after the failure")
	}

	t.Run("a re-run converges", func(t *testing.T) {
		out, _ := w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
		if !strings.Contains(out, jane+" can now ") {
			t.Errorf("re-run:\n%s", out)
		}
		// The re-run planned only what was left: the inline policy is
		// not in its plan.
		if strings.Contains(out, "# inline policy") {
			t.Errorf("the re-run plans the inline policy again:\n%s", out)
		}
		checkTrust(t, before, w.read(), p)
		w.srv.ResetCalls()
		out, _ = w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
		if !strings.Contains(out, "No changes.") || len(writes(w.srv.CallCounts())) > 0 {
			t.Errorf("third apply: writes %v\n%s", writes(w.srv.CallCounts()), out)
		}
	})
}

// Issue 5 / principle 6: a plan whose key policy would lock the operator
// out of the key is refused before any write. The planner only adds
// statements, so it never makes such a plan: the test edits a saved plan
// (dropping the key administrators' statement) and seals it again, as a
// tampering reviewer with the checksum code could.
func TestApplyRefusesKeyLockout(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, sameAccount, nil))
	p := w.planJSON()
	edited := false
	for i, ch := range p.Changes {
		if ch.Document.Kind != diff.DocKeyPolicy {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(ch.After), &doc); err != nil {
			t.Fatal(err)
		}
		var kept []any
		for _, s := range doc["Statement"].([]any) {
			if s.(map[string]any)["Sid"] != "Allow access for Key Administrators" {
				kept = append(kept, s)
			}
		}
		doc["Statement"] = kept
		after, _ := json.Marshal(doc)
		p.Changes[i].After = string(after)
		edited = true
	}
	if !edited {
		t.Fatal("the plan does not change the key policy")
	}
	p.Seal()
	planFile := filepath.Join(w.dir, "lockout.json")
	data, _ := json.Marshal(p)
	if err := os.WriteFile(planFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	keyBefore := w.keyPolicy()
	w.srv.ResetCalls()
	out, stderr, code := w.aws("apply", "--yes", planFile)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	noRawErrors(t, stderr)
	t.Logf("the report:\n%s", stderr)
	for _, s := range []string{"refusing to write the key policy of " + w.keyARN, "kms:PutKeyPolicy", "nothing was written"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
	if wr := writes(w.srv.CallCounts()); len(wr) > 0 {
		t.Errorf("writes before the refusal: %v", wr)
	}
	if w.keyPolicy() != keyBefore {
		t.Errorf("the key policy changed")
	}
	if _, ok := w.inlinePolicy(); ok {
		t.Errorf("the inline policy (written before the key policy) was written")
	}
}

// bigPolicy is an inline policy of about n non-white-space characters
// that allows nothing on the test bucket or key.
func bigPolicy(n int) string {
	var stmts []string
	for i := 0; len(strings.Join(stmts, ",")) < n-120; i++ {
		stmts = append(stmts, `{"Sid":"Read`+itoa(i)+`","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket-`+itoa(i)+`/*"}`)
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// Issue 5: when bucketgrant's inline statements would take Jane's inline
// policies past IAM's 2,048-character aggregate, the grant goes to a
// customer managed policy bucketgrant-<bucket> under /bucketgrant/,
// created and attached, and the access verifies.
func TestApplyManagedPolicyFallback(t *testing.T) {
	t.Parallel()
	st := exampleState(t, crossAccount, nil)
	big := bigPolicy(1700)
	if diff.IAMSize([]byte(big)) > 2048-200 {
		t.Fatalf("the seed policy is too big: %d", diff.IAMSize([]byte(big)))
	}
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "other-buckets", Doc: state.NewDoc(big)})
	w := newWorld(t, st)
	p, _ := w.applyFresh()

	managedARN := diff.ManagedPolicyARN(jane, bucket)
	var created bool
	for _, ch := range p.Changes {
		if ch.Document.Kind == diff.DocManagedPolicy && ch.Document.ARN == managedARN && ch.Action == diff.ActionCreate && ch.Attach {
			created = true
		}
		if ch.Document.Kind == diff.DocInlinePolicy {
			t.Errorf("the plan writes an inline policy: %+v", ch.Document)
		}
	}
	if !created {
		t.Errorf("the plan does not create and attach %s:\n%s", managedARN, jsonIndent(p.Changes))
	}
	c := iam.NewFromConfig(w.config(w.principal))
	out, err := c.ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String("Jane")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyArn) != managedARN {
		t.Errorf("attached policies: %+v", out.AttachedPolicies)
	}
	if _, ok := w.inlinePolicy(); ok {
		t.Errorf("an inline policy %s was written as well", inlineName)
	}
}

// Issue 5: revoke returns every document to its content before apply: the
// bucket policy apply created is deleted, bucketgrant's inline policy is
// deleted, the key policy is as it was.
func TestRevokeRestoresEveryDocument(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t, sc.example, nil))
			keyBefore := w.keyPolicy()
			bucketBefore, hadBucketPolicy := w.srv.BucketPolicy(bucket)
			w.applyFresh()

			out, _ := w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...)
			if !strings.Contains(out, "are removed") {
				t.Errorf("revoke:\n%s", out)
			}
			if !sameDoc(t, w.keyPolicy(), keyBefore) {
				t.Errorf("key policy after revoke:\n%s\nbefore apply:\n%s", w.keyPolicy(), keyBefore)
			}
			got, ok := w.srv.BucketPolicy(bucket)
			switch {
			case ok != hadBucketPolicy:
				t.Errorf("bucket policy exists: %v, before apply: %v (%s)", ok, hadBucketPolicy, got)
			case ok && !sameDoc(t, got, bucketBefore):
				t.Errorf("bucket policy after revoke:\n%s\nbefore apply:\n%s", got, bucketBefore)
			}
			if doc, ok := w.inlinePolicy(); ok {
				t.Errorf("bucketgrant's inline policy is still there: %s", doc)
			}
			// Jane's own inline policies are untouched.
			for _, nd := range w.st.Principals[0].InlinePolicies {
				if doc, ok := w.srv.InlinePolicy(w.principal, "user", "Jane", nd.Name); !ok || !sameDoc(t, doc, nd.Doc.String()) {
					t.Errorf("inline policy %s: %q", nd.Name, doc)
				}
			}
			w.mustRun(2, append([]string{"check"}, grantArgs()...)...)
		})
	}
}

// Issue 5: rollback BACKUP restores the documents an apply overwrote, and
// deletes the ones it created.
func TestRollbackRestoresBackup(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t, sc.example, nil))
			keyBefore := w.keyPolicy()
			bucketBefore, hadBucketPolicy := w.srv.BucketPolicy(bucket)
			_, out := w.applyFresh()
			backup := backupPath(t, strings.Replace(out, "Backup: ", "backup: ", 1))
			fi, err := os.Stat(backup)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("backup mode %v", fi.Mode().Perm())
			}
			w.mustRun(0, "rollback", "--yes", backup)
			if !sameDoc(t, w.keyPolicy(), keyBefore) {
				t.Errorf("key policy after rollback:\n%s", w.keyPolicy())
			}
			got, ok := w.srv.BucketPolicy(bucket)
			if ok != hadBucketPolicy || ok && !sameDoc(t, got, bucketBefore) {
				t.Errorf("bucket policy after rollback: %v %s", ok, got)
			}
			if _, ok := w.inlinePolicy(); ok {
				t.Errorf("the inline policy apply created is still there")
			}
			w.mustRun(2, append([]string{"check"}, grantArgs()...)...)
		})
	}
}

// Eventual consistency: KMS (PutKeyPolicy) and S3 (PutBucketPolicy) refuse
// a policy naming Jane on the first try, as AWS does moments after a
// principal is created, while IAM already shows her; the applier asks IAM,
// waits (1 s, its first backoff) and retries, and the apply succeeds.
func TestApplyWaitsForPrincipalPropagation(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"kms:PutKeyPolicy", "s3:PutBucketPolicy"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel() // each waits a second
			w := newWorld(t, exampleState(t, crossAccount, nil))
			w.srv.PropagatePrincipalAfter(op, jane, 1)
			w.srv.ResetCalls()
			w.applyFresh()
			if n := w.srv.Calls(op); n != 2 {
				t.Errorf("%s calls: %d, want 2 (refused once, then accepted)", op, n)
			}
			if n := w.srv.Calls("iam:GetUser"); n < 2 {
				t.Errorf("GetUser calls: %d: the applier did not ask IAM whether Jane exists", n)
			}
		})
	}
}
