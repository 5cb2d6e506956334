package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// TestStalePlanOrgChanged: a plan saved with the organization's SCPs and
// RCPs is refused when an SCP that applies to the principal changed
// between the plan and its apply (exit 1, nothing written), as it is for a
// changed document; unchanged, it applies, and the check costs the
// organization's reads once more.
func TestStalePlanOrgChanged(t *testing.T) {
	w, o, ous := orgWorld(t)
	org := []string{"--org-profile", "org"}
	planFile := filepath.Join(w.dir, "plan.json")
	w.mustRun(0, append([]string{"plan", "--principal", jane, "--bucket", bucket, "--out", planFile}, org...)...)
	data, _ := os.ReadFile(planFile)
	p, err := diff.ReadPlan(planFile, data)
	if err != nil {
		t.Fatal(err)
	}
	if ids := diff.InputIDs(p); len(ids) != 2 || ids[0] != "rcp:"+w.resource || ids[1] != "scp:"+w.principal {
		t.Fatalf("the plan must fingerprint the SCPs of Jane's account and the RCPs of the bucket's: %v", ids)
	}

	// A new SCP at Jane's OU: it denies nothing the grant needs, but the
	// plan's verdicts were made without it.
	extra := o.CreatePolicy(awsfake.SCP, "NoEC2", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}`)
	o.Attach(extra, ous["workloads"])
	w.srv.ResetCalls()
	_, errOut, code := w.aws(append([]string{"apply", "--yes", planFile}, org...)...)
	if code != 1 || !strings.Contains(errOut, "the SCPs that apply to account "+w.principal) || !strings.Contains(errOut, "changed since the plan was made") {
		t.Fatalf("apply of a plan whose SCPs changed: exit %d, want 1 naming the SCPs\n%s", code, errOut)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a stale plan wrote %d documents", n)
	}
	noRawErrors(t, errOut)

	// Put back as it was: the plan applies, and reading the organization
	// again is what the check costs.
	o.Detach(extra, ous["workloads"])
	w.srv.ResetCalls()
	out, _ := w.mustRun(0, append([]string{"apply", "--yes", planFile}, org...)...)
	if !strings.Contains(out, jane+" can now ") {
		t.Errorf("apply of the unchanged plan:\n%s", out)
	}
	counts := w.srv.CallCounts()
	var orgCalls int
	for op, n := range counts {
		if strings.HasPrefix(op, "organizations:") {
			orgCalls += n
		}
	}
	t.Logf("apply PLAN.json with the organization: %d AWS calls, %d of them to Organizations (the input check and the verification each read it once)", total(counts), orgCalls)
	if orgCalls != 2*18 {
		t.Errorf("apply read the organization with %d calls, want 36 (18 for the input check, 18 for the verification)", orgCalls)
	}

	// Planned and written at once (--yes, no plan file): no input check,
	// only the verification reads the organization.
	w.srv.ResetCalls()
	w.mustRun(0, append([]string{"apply", "--yes", "--principal", jane, "--bucket", bucket}, org...)...)
	orgCalls = 0
	for op, n := range w.srv.CallCounts() {
		if strings.HasPrefix(op, "organizations:") {
			orgCalls += n
		}
	}
	if orgCalls != 18 {
		t.Errorf("apply --yes read the organization with %d calls, want 18 (the plan only: nothing to write, no verification)", orgCalls)
	}
}

// TestStalePlanGrantRetired: a plan that counts on a KMS grant for Jane
// (no KMS statement added) is refused when the grant is retired before the
// apply, on AWS and on a snapshot; a grant to someone else does not make it
// stale, and costs no ListGrants when none names the principal.
func TestStalePlanGrantRetired(t *testing.T) {
	st := exampleState(t, crossAccount, nil)
	janeGrant(st, "Decrypt", "GenerateDataKey")
	w := newWorld(t, st)
	grantID := w.env.GrantIDs["g-jane"]
	planFile := filepath.Join(w.dir, "plan.json")
	snap := filepath.Join(w.dir, "snapshot.json")
	w.mustRun(0, append([]string{"snapshot", "-o", snap}, grantArgs()...)...)
	w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)
	data, _ := os.ReadFile(planFile)
	p, err := diff.ReadPlan(planFile, data)
	if err != nil {
		t.Fatal(err)
	}
	if ids := diff.InputIDs(p); len(ids) != 1 || ids[0] != "kms-grants:"+w.keyARN {
		t.Fatalf("the plan must fingerprint the key's grants naming Jane: %v", ids)
	}
	if _, err := kmsClient(w).RevokeGrant(t.Context(), revokeInput(w.keyARN, grantID)); err != nil {
		t.Fatal(err)
	}
	w.srv.ResetCalls()
	_, errOut, code := w.aws("apply", "--yes", planFile)
	if code != 1 || !strings.Contains(errOut, "the KMS grants of "+w.keyARN+" that name the principal changed") {
		t.Fatalf("apply of a plan whose grant was retired: exit %d, want 1\n%s", code, errOut)
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a stale plan wrote %d documents", n)
	}
	if n := w.srv.Calls("kms:ListGrants"); n != 1 {
		t.Errorf("the input check made %d ListGrants calls, want 1", n)
	}

	// The same on the snapshot: the plan made on it, then the file's
	// grants changed by another writer.
	environ := w.environ
	offlinePlan := filepath.Join(w.dir, "offline-plan.json")
	if _, errOut, code := run(t, environ, append([]string{"plan", "--state", snap, "--out", offlinePlan}, grantArgs()...)...); code != 0 {
		t.Fatalf("offline plan: exit %d\n%s", code, errOut)
	}
	edit := func(f func(*state.State)) {
		t.Helper()
		st, err := snapshot.Load(snap)
		if err != nil {
			t.Fatal(err)
		}
		f(st)
		data, err := snapshot.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(snap, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var janes []state.Grant
	edit(func(st *state.State) { janes, st.Keys[0].Grants = st.Keys[0].Grants, []state.Grant{} })
	before, _ := os.ReadFile(snap)
	_, errOut, code = run(t, environ, "apply", "--state", snap, "--yes", offlinePlan)
	if code != 1 || !strings.Contains(errOut, "that name the principal changed") {
		t.Fatalf("offline apply of a plan whose grant was retired: exit %d, want 1\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(snap); string(after) != string(before) {
		t.Error("a stale offline apply changed the snapshot")
	}
	// Jane's grant back, and a grant to someone else beside it: the grants
	// naming Jane are what they were, so the plan is not stale.
	edit(func(st *state.State) {
		st.Keys[0].Grants = append(janes, state.Grant{ID: "g-other", GranteePrincipal: "arn:aws:iam::123456789098:role/Other", Operations: []string{"Decrypt"}})
	})
	if _, errOut, code := run(t, environ, "apply", "--state", snap, "--yes", offlinePlan); code != 0 {
		t.Fatalf("a grant to someone else must not make the plan stale: exit %d\n%s", code, errOut)
	}
}
