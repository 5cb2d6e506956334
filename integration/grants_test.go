package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Issue 12, items 2-4, end to end: KMS grants, principal tags and roles
// bucketgrant must not edit, live (the binary against the test server,
// loaded through the SDK) and offline (the binary on the snapshot it took).

func janeGrant(st *state.State, ops ...string) {
	st.Keys[0].Grants = []state.Grant{{ID: "g-jane", Name: "jane-s3", GranteePrincipal: jane, Operations: ops}}
}

// A grant for Jane on the bucket's key is an allow: neither the key policy
// nor Jane's identity policy gets a KMS statement, live or on the snapshot,
// and apply then check prove the access.
func TestKMSGrantLiveAndOffline(t *testing.T) {
	t.Parallel()
	st := exampleState(t, crossAccount, nil)
	janeGrant(st, "Decrypt", "GenerateDataKey")
	w := newWorld(t, st)
	grantID := w.env.GrantIDs["g-jane"]
	path := filepath.Join(w.dir, "snapshot.json")
	w.srv.ResetCalls()
	w.mustRun(0, append([]string{"snapshot", "-o", path}, grantArgs()...)...)
	// Jane's tags come with GetUser: no ListUserTags.
	if n, m := w.srv.Calls("kms:ListGrants"), w.srv.Calls("iam:ListUserTags"); n != 1 || m != 0 {
		t.Errorf("snapshot: %d ListGrants and %d ListUserTags calls, want 1 and 0", n, m)
	}
	snap, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if g := snap.Keys[0].Grants; len(g) != 1 || g[0].ID != grantID || g[0].GranteePrincipal != jane {
		t.Fatalf("the snapshot holds grants %+v, want the one for Jane (%s)", g, grantID)
	}
	if snap.Principals[0].Tags == nil {
		t.Error("the snapshot does not record that Jane's tags were read")
	}
	live := w.planJSON()
	out, stderr, code := w.run(append([]string{"plan", "--format", "json", "--state", path}, grantArgs()...)...)
	if code != 0 {
		t.Fatalf("offline plan: exit %d\n%s", code, stderr)
	}
	offline, err := diff.ReadPlan("offline", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*diff.Plan{"live": live, "offline": offline} {
		if p.Blocked() {
			t.Fatalf("%s plan blocked: %+v", name, p.Blockers)
		}
		for _, c := range p.Changes {
			if c.Document.Kind == diff.DocKeyPolicy || strings.Contains(c.After, "kms:") {
				t.Errorf("%s plan writes KMS permissions into %s although the grant allows:\n%s", name, c.Document.ID(), c.After)
			}
		}
		for _, r := range p.Requests {
			if strings.HasPrefix(r.Action, "kms:") && (r.Before != policy.Allowed || !strings.Contains(r.Why, "KMS grant "+grantID)) {
				t.Errorf("%s plan: %s is %s (%s), want allowed by KMS grant %s", name, r.Action, r.Before, r.Why, grantID)
			}
		}
	}
	keyBefore, _ := w.srv.KeyPolicy(w.keyARN)
	out, _ = w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	if !strings.Contains(out, jane+" can now ") {
		t.Errorf("apply:\n%s", out)
	}
	if after, _ := w.srv.KeyPolicy(w.keyARN); after != keyBefore {
		t.Errorf("apply changed the key policy although the grant allows:\n%s", after)
	}
	w.mustRun(0, append([]string{"check"}, grantArgs()...)...)
	// The grant is what allows: revoked, check reports the KMS requests
	// missing (exit 2), and the plan puts them in the key policy.
	ctx := t.Context()
	if _, err := kmsClient(w).RevokeGrant(ctx, revokeInput(w.keyARN, grantID)); err != nil {
		t.Fatal(err)
	}
	out, _ = w.mustRun(2, append([]string{"check"}, grantArgs()...)...)
	if !strings.Contains(out, "kms:Decrypt") {
		t.Errorf("check after the grant was revoked:\n%s", out)
	}
	p := w.planJSON()
	if !slices.Contains(kindsOf(p), diff.DocKeyPolicy) {
		t.Errorf("after the grant was revoked the plan changes %v, want the key policy too", kindsOf(p))
	}
}

func kindsOf(p *diff.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Document.Kind)
	}
	return out
}

// Credentials without kms:ListGrants still plan: the grant is not counted,
// the plan adds the KMS statements it would need without it, and says that
// the grants were not read.
func TestKMSGrantsNotReadable(t *testing.T) {
	t.Parallel()
	st := exampleState(t, crossAccount, nil)
	janeGrant(st, "Decrypt", "GenerateDataKey")
	w := newWorld(t, st)
	w.srv.Deny(crossResource, "kms:ListGrants")
	p := w.planJSON()
	if !slices.Contains(kindsOf(p), diff.DocKeyPolicy) {
		t.Errorf("changes %v: an unread grant must not be counted", kindsOf(p))
	}
	found := false
	for _, wn := range p.Warnings {
		found = found || wn.Kind == diff.WarnGrantsNotRead
	}
	if !found {
		t.Errorf("no grants-not-read warning: %+v", p.Warnings)
	}
}

// Jane's tags decide a bucket policy that admits only team data, live and
// on the snapshot: tagged, the grant works; untagged, the deny blocks it.
func TestPrincipalTagsLiveAndOffline(t *testing.T) {
	t.Parallel()
	teamOnly := `{\"Sid\":\"TeamOnly\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::doc-example-bucket\",\"arn:aws:s3:::doc-example-bucket/*\"],\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalTag/team\":\"data\"}}}`
	for _, tc := range []struct {
		name string
		tags []state.Tag
		want int
	}{
		{"tagged", []state.Tag{{Key: "team", Value: "data"}}, 0},
		{"untagged", nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := exampleState(t, sameAccount, func(s string) string {
				return strings.Replace(s, `{\"Sid\":\"DenyInsecureTransport\"`, teamOnly+`,{\"Sid\":\"DenyInsecureTransport\"`, 1)
			})
			st.Principals[0].Tags = tc.tags
			w := newWorld(t, st)
			path := filepath.Join(w.dir, "snapshot.json")
			w.mustRun(0, append([]string{"snapshot", "-o", path}, grantArgs()...)...)
			_, stderr, code := w.aws(append([]string{"plan", "--detailed-exitcode"}, grantArgs()...)...)
			if tc.want == 0 && code != 2 || tc.want == 3 && code != 3 {
				t.Errorf("live plan: exit %d\n%s", code, stderr)
			}
			out, stderr, code := w.run(append([]string{"plan", "--state", path}, grantArgs()...)...)
			if code != tc.want {
				t.Errorf("offline plan: exit %d, want %d\n%s%s", code, tc.want, out, stderr)
			}
			if strings.Contains(strings.ToLower(out), "only if aws:principaltag") {
				t.Errorf("the tags were read, yet the plan says the verdict depends on them:\n%s", out)
			}
			if tc.want == 0 {
				before, p := w.read(), w.planJSON()
				w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
				checkTrust(t, before, w.read(), p)
			}
		})
	}
}

const ssoRole = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_DataReaders_0123456789abcdef"

// An Identity Center role in the bucket's account: apply grants in the
// bucket policy and the key policy and never writes the role's policies
// (the server would refuse with UnmodifiableEntity).
func TestIdentityCenterRoleSameAccount(t *testing.T) {
	t.Parallel()
	st := exampleState(t, sameAccount, nil)
	st.Principals[0] = state.Principal{ARN: ssoRole, ID: "AROAEXAMPLESSOROLE001", Kind: state.KindRole}
	w := newWorld(t, st)
	args := []string{"--principal", ssoRole, "--bucket", bucket}
	p := w.planJSONFor(ssoRole)
	if got := kindsOf(p); len(got) != 2 || !slices.Contains(got, diff.DocKeyPolicy) || !slices.Contains(got, diff.DocBucketPolicy) {
		t.Fatalf("changes %v, want the key policy and the bucket policy only", got)
	}
	before := w.readPrincipal(ssoRole)
	out, _ := w.mustRun(0, append([]string{"apply", "--yes"}, args...)...)
	if !strings.Contains(out, ssoRole+" can now ") {
		t.Errorf("apply:\n%s", out)
	}
	if n := w.srv.Calls("iam:PutRolePolicy") + w.srv.Calls("iam:AttachRolePolicy") + w.srv.Calls("iam:CreatePolicy"); n != 0 {
		t.Errorf("%d writes to IAM for a role bucketgrant must not edit", n)
	}
	checkTrust(t, before, w.readPrincipal(ssoRole), p)
	w.mustRun(0, append([]string{"check"}, args...)...)
}

// Across accounts the role's own policies must allow: blocked (exit 3),
// nothing written, and the hint holds the statement for the permission
// set; the same offline.
func TestIdentityCenterRoleAcrossAccounts(t *testing.T) {
	t.Parallel()
	st := exampleState(t, crossAccount, nil)
	st.Principals[0] = state.Principal{ARN: ssoRole, ID: "AROAEXAMPLESSOROLE001", Kind: state.KindRole}
	w := newWorld(t, st)
	args := []string{"--principal", ssoRole, "--bucket", bucket}
	path := filepath.Join(w.dir, "snapshot.json")
	w.mustRun(0, append([]string{"snapshot", "-o", path}, args...)...)
	w.srv.ResetCalls()
	out, stderr := w.mustRun(3, append([]string{"apply", "--yes"}, args...)...)
	all := out + stderr
	for _, want := range []string{"never writes its policies", "permission set DataReaders", `{"Version":"2012-10-17","Statement":[`, `"s3:GetObject"`, `"kms:Decrypt"`, w.keyARN} {
		if !strings.Contains(all, want) {
			t.Errorf("apply output lacks %q:\n%s", want, all)
		}
	}
	if n := total(writes(w.srv.CallCounts())); n != 0 {
		t.Errorf("a blocked apply made %d writes", n)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := w.run(append([]string{"apply", "--yes", "--backup-dir", filepath.Join(w.dir, "b"), "--state", path}, args...)...)
	if code != 3 || !strings.Contains(out+stderr, "permission set DataReaders") {
		t.Errorf("offline apply: exit %d\n%s%s", code, out, stderr)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a blocked offline apply changed the snapshot")
	}
}

func kmsClient(w *world) *kms.Client { return kms.NewFromConfig(w.config(w.resource)) }

func revokeInput(keyARN, grantID string) *kms.RevokeGrantInput {
	return &kms.RevokeGrantInput{KeyId: aws.String(keyARN), GrantId: aws.String(grantID)}
}

// sync, offline on the bundled organisation: a grant for the partner's
// auditor on the reports key keeps KMS statements out of the key policy
// and the auditor's policy, and the written snapshot keeps the grant.
func TestSyncCountsGrants(t *testing.T) {
	t.Parallel()
	const (
		auditor    = "arn:aws:iam::123456789098:role/PartnerAuditor"
		reportsKey = "arn:aws:kms:us-east-1:111122223333:key/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
	)
	st, err := snapshot.Load(filepath.Join(repoRoot, "examples", "organisation.json"))
	if err != nil {
		t.Fatal(err)
	}
	k := st.FindKey(reportsKey)
	k.Grants = []state.Grant{{ID: "g-audit", GranteePrincipal: auditor, Operations: []string{"Decrypt"},
		Constraints: &state.GrantConstraints{EncryptionContextSubset: map[string]string{"aws:s3:arn": "arn:aws:s3:::doc-example-reports"}}}}
	keyBefore := k.Policy.String()
	dir := t.TempDir()
	path := filepath.Join(dir, "org.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "GORACE=atexit_sleep_ms=0"}
	out, stderr, code := run(t, environ, "sync", "-f", filepath.Join(repoRoot, "examples", "grants.yaml"), "--state", path, "--yes")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(out, "key-policy:"+reportsKey) {
		t.Errorf("sync writes the reports key policy although the grant allows:\n%s", out)
	}
	after, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ak := after.FindKey(reportsKey)
	if ak.Policy.String() != keyBefore || len(ak.Grants) != 1 || ak.Grants[0].ID != "g-audit" {
		t.Errorf("after sync: key policy changed %v, grants %+v", ak.Policy.String() != keyBefore, ak.Grants)
	}
	for _, in := range after.FindPrincipal(auditor).InlinePolicies {
		if strings.Contains(in.Doc.String(), "kms:") {
			t.Errorf("the auditor's %s holds a KMS statement:\n%s", in.Name, in.Doc)
		}
	}
}
