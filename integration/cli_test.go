package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// design.md's synopsis puts flags after the positional arguments:
//
//	bucketgrant apply  (same selection flags | PLAN.json) [--yes] ...
//	bucketgrant rollback BACKUP [--yes]
//
// The command line (urfave/cli v2) stops reading flags at the first
// argument, so `apply PLAN.json --yes` reads "--yes" as a second plan file
// and refuses with "apply takes at most one plan file".
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	planFile := filepath.Join(w.dir, "plan.json")
	w.mustRun(0, append([]string{"plan", "--out", planFile}, grantArgs()...)...)

	t.Run("apply PLAN.json --yes", func(t *testing.T) {
		out, stderr, code := w.run(append([]string{"apply", planFile, "--yes"}, w.profiles...)...)
		if code != 0 || !strings.Contains(out, jane+" can now ") {
			t.Errorf("bug: flags after the plan file are read as plan files: exit %d\n%s%s", code, out, stderr)
		}
	})
}

// The snapshot file is private even when it already existed with a wider
// mode (a snapshot names accounts, principals and their policies).
func TestSnapshotNarrowsAnExistingFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, sameAccount, nil))
	path := filepath.Join(w.dir, "snapshot.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.mustRun(0, append([]string{"snapshot", "-o", path}, grantArgs()...)...)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// A plan made offline from a snapshot is the plan made live: the same
// changes from the same fingerprints, so a reviewer can plan on a snapshot
// and the operator apply the result.
func TestPlanFromSnapshotEqualsLivePlan(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			w := newWorld(t, exampleState(t, sc.example, nil))
			path := filepath.Join(w.dir, "snapshot.json")
			w.mustRun(0, append([]string{"snapshot", "-o", path}, grantArgs()...)...)
			live := w.planJSON()
			out, stderr, code := w.run(append([]string{"plan", "--format", "json", "--state", path}, grantArgs()...)...)
			if code != 0 {
				t.Fatalf("offline plan: exit %d\n%s", code, stderr)
			}
			offline, err := diff.ReadPlan("offline", []byte(out))
			if err != nil {
				t.Fatal(err)
			}
			// The clock is a fact of every request (aws:CurrentTime,
			// aws:EpochTime): the two plans were made moments apart.
			for _, p := range []*diff.Plan{live, offline} {
				for i := range p.Requests {
					delete(p.Requests[i].Context, "aws:CurrentTime")
					delete(p.Requests[i].Context, "aws:EpochTime")
				}
			}
			if d := cmp.Diff(live, offline, cmpopts.IgnoreFields(diff.Plan{}, "Checksum")); d != "" {
				t.Errorf("plan (-live +offline):\n%s", d)
			}
			// And the offline plan applies live.
			planFile := filepath.Join(w.dir, "offline-plan.json")
			if err := os.WriteFile(planFile, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _ = w.mustRun(0, "apply", "--yes", planFile)
			if !strings.Contains(out, jane+" can now ") {
				t.Errorf("apply of the offline plan:\n%s", out)
			}
		})
	}
}

// Write commands never write without a confirmation: no terminal and no
// --yes reads and plans, shows the plan and stops before any write (exit
// 1); with nothing to change it is a success (exit 0, "No changes.").
func TestApplyWithoutConfirmation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	w.srv.ResetCalls()
	_, stderr, code := w.aws(append([]string{"apply"}, grantArgs()...)...)
	if code != 1 || !strings.Contains(stderr, "pass --yes") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("writes without confirmation: %v", n)
	}
	// plan --detailed-exitcode says changes are pending.
	w.mustRun(2, append([]string{"plan", "--detailed-exitcode"}, grantArgs()...)...)
	w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	out, _ := w.mustRun(0, append([]string{"apply"}, grantArgs()...)...)
	if !strings.Contains(out, "No changes.") {
		t.Errorf("apply with nothing to change, without a terminal:\n%s", out)
	}
}

// revoke says it removes access. Its plan is rendered with apply's header,
// "will change these documents so that PRINCIPAL can access BUCKET", which
// tells the operator the opposite of what is about to happen.
func TestRevokeSaysWhatItRemoves(t *testing.T) {
	t.Parallel()
	w := newWorld(t, exampleState(t, crossAccount, nil))
	w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
	out, _ := w.mustRun(0, append([]string{"revoke", "--yes"}, grantArgs()...)...)
	header, _, _ := strings.Cut(out, "\n")
	if strings.Contains(header, "so that "+jane+" can") {
		t.Errorf("bug: revoke's plan header promises access: %q", header)
	}
}
