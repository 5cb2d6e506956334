package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// TestOrgAllowOnUnknownKeyOnSnapshot: through the binary on a snapshot, an
// SCP whose only Allow asks for a role tag (which a session tag may
// replace, so bucketgrant cannot know it) plans the grant "allowed if" the
// tag holds, names the SCP and its level, applies, and plans again to
// nothing. An SCP level that allows the request for no value stays a
// blocker (exit 3, nothing written).
func TestOrgAllowOnUnknownKeyOnSnapshot(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/Loader"
	const workloads = "ou-ab12-11111111"
	build := func(scp string) *state.State {
		st := exampleState(t, "seed-cross-account.json", nil)
		pr := &st.Principals[0]
		pr.ARN, pr.ID, pr.Kind, pr.Groups = role, "AROAEXAMPLELOADER0001", state.KindRole, nil
		full := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
		fullRCP := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
		st.Org = &state.Organization{ID: "o-exampleorgid", ManagementAccount: orgManagement, RootID: "r-ab12",
			EnabledTypes: []string{state.SCPType, state.RCPType},
			Policies: []state.OrgPolicy{
				{ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: state.SCPType, AWSManaged: true, Document: state.NewDoc(full)},
				{ID: "p-RCPFullAWSAccess", Name: "RCPFullAWSAccess", Type: state.RCPType, AWSManaged: true, Document: state.NewDoc(fullRCP)},
				{ID: "p-teamdata", Name: "TeamDataOnly", Type: state.SCPType, Document: state.NewDoc(scp)},
			}}
		both := func(id, parent, name string, scps ...string) state.OrgTarget {
			return state.OrgTarget{ID: id, Parent: parent, Name: name, SCPs: scps, RCPs: []string{"p-RCPFullAWSAccess"}}
		}
		st.Org.Targets = []state.OrgTarget{
			both("r-ab12", "", "Root", "p-FullAWSAccess"),
			both(workloads, "r-ab12", "Workloads", "p-teamdata"),
			both("ou-ab12-22222222", "r-ab12", "Data", "p-FullAWSAccess"),
			both("111122223333", workloads, "", "p-FullAWSAccess"),
			both("123456789098", "ou-ab12-22222222", "", "p-FullAWSAccess"),
		}
		return st
	}
	dir := t.TempDir()
	environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true", "GORACE=atexit_sleep_ms=0"}
	write := func(name string, st *state.State) string {
		data, err := snapshot.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	grant := []string{"--principal", role, "--bucket", bucket}

	snap := write("tag.json", build(`{"Version":"2012-10-17","Statement":[{"Sid":"TeamData","Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}]}`))
	out, errOut, code := run(t, environ, append([]string{"plan", "--state", snap, "--format", "json", "--detailed-exitcode"}, grant...)...)
	if code != 2 {
		t.Fatalf("plan: exit %d, want 2 (changes pending)\n%s\n%s", code, out, errOut)
	}
	p, err := diff.ReadPlan("plan", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Requests {
		if !strings.Contains(r.Condition, "aws:PrincipalTag/team = data") {
			t.Errorf("%s: condition %q, want it to hang on the role's tag", r.Action, r.Condition)
		}
	}
	named := false
	for _, w := range p.Warnings {
		if w.Kind == diff.WarnConditionalAllow && strings.Contains(w.Message, "p-teamdata (TeamDataOnly)") && strings.Contains(w.Message, "OU "+workloads+" (Workloads)") {
			named = true
		}
	}
	if !named {
		t.Errorf("no conditional-allow warning names the SCP and its level: %+v", p.Warnings)
	}
	text, _, code := run(t, environ, append([]string{"plan", "--state", snap}, grant...)...)
	if code != 0 || !strings.Contains(text, "aws:PrincipalTag/team = data") {
		t.Errorf("the text plan must say what the verdict hangs on (exit %d):\n%s", code, text)
	}
	if _, errOut, code := run(t, environ, append([]string{"apply", "--state", snap, "--yes"}, grant...)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	if out, errOut, code := run(t, environ, append([]string{"plan", "--state", snap, "--detailed-exitcode"}, grant...)...); code != 0 {
		t.Errorf("planning again after apply: exit %d, want 0\n%s\n%s", code, out, errOut)
	}

	// An SCP at the OU that allows only EC2: no tag value helps.
	blocked := write("ec2.json", build(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`))
	before, _ := os.ReadFile(blocked)
	out, _, code = run(t, environ, append([]string{"apply", "--state", blocked, "--yes"}, grant...)...)
	if code != 3 || !strings.Contains(out, "is not allowed by any SCP attached to OU "+workloads) {
		t.Errorf("an SCP level that allows nothing: exit %d, want 3\n%s", code, out)
	}
	if after, _ := os.ReadFile(blocked); string(after) != string(before) {
		t.Error("a blocked apply changed the snapshot")
	}
}
