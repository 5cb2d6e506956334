package main

import (
	"path/filepath"
	"testing"
)

// TestOrgJSONOutputs: a plan, a check and a blocked apply on the example
// organization print JSON that their schemas accept, with the SCPs and RCPs
// evaluated and the organization-policy blocker's policy and level; the
// snapshot the apply leaves behind is still a valid snapshot.
func TestOrgJSONOutputs(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	dir, state := snapshotCopy(t, "org-guardrails.json")
	pat := []string{"--state", state, "--principal", "arn:aws:iam::444455556666:user/Pat", "--bucket", "DOC-EXAMPLE-BUCKET", "--access", "read,list"}
	jane := []string{"--state", state, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET"}

	r := runBin(t, env, "", append([]string{"plan", "--format", "json"}, jane...)...)
	p := oneLine(t, "plan", r)
	org, _ := p["organization"].(map[string]any)
	if ev, _ := org["evaluated"].([]any); len(ev) != 7 {
		t.Errorf("plan organization: %v", p["organization"])
	}
	r = runBin(t, env, "", append([]string{"check", "--format", "json"}, pat...)...)
	if r.code != 3 {
		t.Fatalf("check for Pat: exit %d\n%s%s", r.code, r.out, r.err)
	}
	c := oneLine(t, "check", r)
	bs, _ := c["blockers"].([]any)
	if len(bs) == 0 {
		t.Fatalf("check for Pat: no blockers\n%s", r.out)
	}
	b := bs[0].(map[string]any)
	op, _ := b["org_policy"].(map[string]any)
	if b["kind"] != "organization-policy" || op["policy_id"] != "p-perimeter1" || op["target"] != "r-ab12" || op["kind"] != "RCP" {
		t.Errorf("blocker: %v", b)
	}
	r = runBin(t, env, "", append([]string{"apply", "--yes", "--format", "json", "--backup-dir", filepath.Join(dir, "bk")}, pat...)...)
	if r.code != 3 {
		t.Fatalf("apply for Pat: exit %d\n%s%s", r.code, r.out, r.err)
	}
	oneLine(t, "apply-result", r)
	validate(t, "snapshot", fileBytes(t, state))
}
