package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// newKeyID is the key the bucket is re-keyed to.
const newKeyID = "222bb3cc-444d-4e55-6666-b222cc3d44ee"

// Issue 14, item 3, through the binary on a snapshot: after the bucket's
// default key changes, apply grants the new key and keeps the old one
// (objects written under it still need it) and says so; apply
// --drop-old-keys then takes the old key out of Jane's identity statement
// and her statement out of the old key's policy; planning again is a
// no-op. sync does the same with drop_old_keys on the grant, or with
// --drop-old-keys for every grant.
func TestDropOldKeysOnSnapshot(t *testing.T) {
	for _, how := range []string{"apply", "sync field", "sync flag"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			st := exampleState(t, crossAccount, nil)
			old := st.Keys[0].ARN
			k := st.Keys[0]
			k.ARN, k.Aliases, k.Source = old[:strings.LastIndexByte(old, '/')+1]+newKeyID, []string{}, nil
			k.Policy = k.Policy.Clone()
			st.Keys = append(st.Keys, k)
			if err := snapshot.Save(path, st); err != nil {
				t.Fatal(err)
			}
			environ := []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true", "GORACE=atexit_sleep_ms=0"}
			runCode := func(want int, args ...string) string {
				t.Helper()
				out, stderr, code := run(t, environ, args...)
				if code != want {
					t.Fatalf("bucketgrant %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, stderr)
				}
				return out
			}
			grant := []string{"--state", path, "--principal", jane, "--bucket", bucket}
			runCode(0, append([]string{"apply", "--yes"}, grant...)...)

			// The bucket moves to the new key (outside bucketgrant).
			st, err := snapshot.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			enc := *st.FindBucket(bucket).Encryption
			enc.KMSMasterKeyID, enc.Source = k.ARN, nil
			st.FindBucket(bucket).Encryption = &enc
			if err := snapshot.Save(path, st); err != nil {
				t.Fatal(err)
			}
			var p diff.Plan
			if err := json.Unmarshal([]byte(runCode(0, append([]string{"plan", "--format", "json"}, grant...)...)), &p); err != nil {
				t.Fatal(err)
			}
			if p.Blocked() || p.Empty() || !slices.ContainsFunc(p.Warnings, func(w diff.Warning) bool { return w.Kind == diff.WarnOldKey }) {
				t.Fatalf("after re-keying, want changes for the new key and an old-key warning: blockers %v, %d changes, warnings %v", p.Blockers, len(p.Changes), p.Warnings)
			}
			runCode(0, append([]string{"apply", "--yes"}, grant...)...)
			if !namesOldKey(t, path, old) {
				t.Fatal("apply after re-keying dropped the old key without --drop-old-keys")
			}

			switch how {
			case "apply":
				out := runCode(0, append([]string{"apply", "--yes", "--drop-old-keys"}, grant...)...)
				if !strings.Contains(out, "--drop-old-keys") {
					t.Errorf("the plan does not say why the old key goes:\n%s", out)
				}
			case "sync field", "sync flag":
				file := "version: 1\ngrants:\n  - principal: " + jane + "\n    bucket: " + bucket + "\n"
				args := []string{"sync", "--yes", "--state", path, "-f", filepath.Join(dir, "grants.yaml")}
				if how == "sync field" {
					file += "    drop_old_keys: true\n"
				} else {
					args = append(args, "--drop-old-keys")
				}
				if err := os.WriteFile(filepath.Join(dir, "grants.yaml"), []byte(file), 0o600); err != nil {
					t.Fatal(err)
				}
				runCode(0, args...)
			}
			if namesOldKey(t, path, old) {
				t.Error("the old key is still granted after --drop-old-keys")
			}
			out := runCode(0, append([]string{"plan", "--detailed-exitcode"}, grant...)...)
			if strings.Contains(out, "old") && strings.Contains(out, old) {
				t.Errorf("the plan afterwards still speaks of the old key:\n%s", out)
			}
		})
	}
}

// namesOldKey reports whether one of bucketgrant's statements in the
// snapshot still grants Jane the old key: in its key policy, or in her
// identity policies.
func namesOldKey(t *testing.T, path, old string) bool {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	owned := func(d *state.Doc, kind policy.Kind, key bool) bool {
		if d == nil {
			return false
		}
		doc, err := policy.Parse(d.Text, kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statements() {
			if !strings.HasPrefix(s.Sid, diff.SidPrefix) {
				continue
			}
			if key || (s.Resource != nil && slices.Contains(s.Resource.Values, old)) {
				return true
			}
		}
		return false
	}
	if owned(st.FindKey(old).Policy, policy.KindKeyPolicy, true) {
		return true
	}
	pr := st.FindPrincipal(jane)
	for _, in := range pr.InlinePolicies {
		if owned(in.Doc, policy.KindIdentity, false) {
			return true
		}
	}
	for _, m := range pr.AttachedPolicies {
		if owned(m.Document, policy.KindIdentity, false) {
			return true
		}
	}
	return false
}
