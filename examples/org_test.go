package examples

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	orgExample = "org-guardrails.json"
	janeARN    = "arn:aws:iam::111122223333:user/Jane"
	patARN     = "arn:aws:iam::444455556666:user/Pat"
	exBucket   = "DOC-EXAMPLE-BUCKET"
)

// TestOrgGuardrails runs the built binary on the example organization: its
// SCPs and RCPs are listed in every plan, Jane (in the organization) gets
// her grant, and Pat (outside it, let in by the bucket policy) is blocked by
// the identity-perimeter RCP, named with its level.
func TestOrgGuardrails(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", orgExample))
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, orgExample)
	if err := os.WriteFile(snap, data, 0o600); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := run(t, dir, nil, "plan", "--state", snap, "--principal", janeARN, "--bucket", exBucket, "--format", "json")
	if code != 0 {
		t.Fatalf("plan for Jane: exit %d\n%s\n%s", code, out, stderr)
	}
	var plan struct {
		NotEvaluated []string `json:"not_evaluated"`
		Organization struct {
			ID        string
			Evaluated []struct{ Kind, PolicyID, Target string }
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Organization.ID != "o-exampleorgid" || len(plan.Organization.Evaluated) != 7 {
		t.Errorf("the plan must list the 3 SCP and 4 RCP attachments evaluated: %+v", plan.Organization)
	}
	for _, s := range plan.NotEvaluated {
		if strings.Contains(s, "SCP") || strings.Contains(s, "RCP") {
			t.Errorf("SCPs and RCPs were evaluated: %v", plan.NotEvaluated)
		}
	}

	out, _, code = run(t, dir, nil, "check", "--state", snap, "--principal", patARN, "--bucket", exBucket, "--access", "read,list")
	if code != 3 || !strings.Contains(out, "explicitly denied by RCP p-perimeter1 (IdentityPerimeter) at root r-ab12") {
		t.Errorf("Pat must be blocked by the RCP (exit %d):\n%s", code, out)
	}
	if !strings.Contains(out, "SCPs of account 444455556666 (not in organization o-exampleorgid)") {
		t.Errorf("Pat's own organization's SCPs cannot be read, and check must say so:\n%s", out)
	}

	out, stderr, code = run(t, dir, nil, "apply", "--state", snap, "--principal", janeARN, "--bucket", exBucket, "--yes")
	if code != 0 {
		t.Fatalf("apply for Jane: exit %d\n%s\n%s", code, out, stderr)
	}
	out, _, code = run(t, dir, nil, "check", "--state", snap, "--principal", janeARN, "--bucket", exBucket)
	if code != 0 {
		t.Errorf("after apply, Jane's access must be allowed under the SCPs and RCPs (exit %d):\n%s", code, out)
	}
	after, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(after), `"format": "bucketgrant.snapshot/2"`) || !strings.Contains(string(after), `"p-perimeter1"`) {
		t.Error("apply --state must keep the organization and the format")
	}
}
