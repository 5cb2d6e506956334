package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/tools/imagespec"
)

var (
	repoRoot = filepath.Join("..", "..")
	example  = filepath.Join(repoRoot, "examples", "kubernetes", "cronjob.yaml")
)

func readExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestExampleManifest(t *testing.T) {
	data := readExample(t)
	m, errs := Check(example, []byte(data))
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if len(m.CronJobs) != 1 || len(m.Claims) != 1 || len(m.ConfigMaps) != 1 || len(m.ServiceAccounts) != 1 || len(m.Namespaces) != 1 {
		t.Errorf("objects: %d CronJobs, %d claims, %d ConfigMaps, %d service accounts, %d namespaces",
			len(m.CronJobs), len(m.Claims), len(m.ConfigMaps), len(m.ServiceAccounts), len(m.Namespaces))
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{example}, &stdout, &stderr); code != 0 {
		t.Errorf("k8scheck exit %d: %s", code, stderr.String())
	}
}

// TestExampleCommandRuns runs the CronJob's container command as each pod
// of the Indexed job would, offline on a copy of the bundled snapshot: the
// grants file from the ConfigMap, the environment and the shard index the
// pod would get. After all shards, nothing is left to do.
func TestExampleCommandRuns(t *testing.T) {
	m, errs := Check(example, []byte(readExample(t)))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	cj := m.CronJobs[0]
	job := cj.Spec.JobTemplate.Spec
	c := job.Template.Spec.Containers[0]
	cm := m.ConfigMaps[key(cj.Namespace, "bucketgrant-grants")]

	dir := t.TempDir()
	bin := filepath.Join(dir, "bucketgrant")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bucketgrant")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building bucketgrant: %v\n%s", err, out)
	}
	grants := filepath.Join(dir, "grants.yaml")
	if err := os.WriteFile(grants, []byte(cm.Data["grants.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "organisation.json")
	orig, err := os.ReadFile(filepath.Join(repoRoot, "examples", "organisation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	// The pod's paths, moved under dir.
	moved := map[string]string{"/etc/bucketgrant/grants.yaml": grants, "/var/lib/bucketgrant/backups": filepath.Join(dir, "backups")}
	for index := range int(*job.Completions) {
		var args []string
		for _, a := range c.Args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(index))
			if to, ok := moved[a]; ok {
				a = to
			}
			args = append(args, a)
		}
		args = append(args, "--state", snap)
		env := []string{"HOME=" + dir}
		for _, e := range c.Env {
			v := e.Value
			if to, ok := moved[v]; ok {
				v = to
			}
			env = append(env, e.Name+"="+v)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("shard %d: bucketgrant %s: %v\n%s", index, strings.Join(args, " "), err, out)
		}
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "backups", "*.json"))
	if len(backups) == 0 {
		t.Error("no backup written to BUCKETGRANT_BACKUP_DIR")
	}
	cmd := exec.Command(bin, "sync", "-f", grants, "--state", snap, "--dry-run", "--detailed-exitcode")
	cmd.Env = []string{"HOME=" + dir}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("after every shard ran, a dry run is not clean: %v\n%s", err, out)
	}
}

// TestCheckFinds breaks the example one way at a time.
func TestCheckFinds(t *testing.T) {
	good := readExample(t)
	tests := []struct {
		name, from, to, want string
	}{
		{"misspelt field", "concurrencyPolicy: Forbid", "concurrencyPolicyy: Forbid", `unknown field "concurrencyPolicyy"`},
		{"wrong type", "completions: 4", "completions: four", "cannot unmarshal"},
		{"claim not defined", "claimName: bucketgrant-backups", "claimName: backups", `PersistentVolumeClaim "backups" is not defined`},
		{"configmap not defined", "name: bucketgrant-grants\n            - name: backups", "name: grants\n            - name: backups", `ConfigMap "grants" is not defined`},
		{"service account not defined", "serviceAccountName: bucketgrant", "serviceAccountName: sync", `serviceAccountName "sync" is not defined`},
		{"namespace not defined", "kind: Namespace\nmetadata:\n  name: bucketgrant", "kind: Namespace\nmetadata:\n  name: other", `namespace "bucketgrant" is not defined`},
		{"another image", "image: ghcr.io/bucketgrant/bucketgrant:v0.1.0", "image: example.com/bucketgrant:v0.1.0", "the image `make image` builds"},
		{"latest", "image: ghcr.io/bucketgrant/bucketgrant:v0.1.0", "image: ghcr.io/bucketgrant/bucketgrant:latest", "pin a release"},
		{"shell", "              args:\n", "              command: [/bin/sh, -c]\n              args:\n", "the image has no shell"},
		{"root", "runAsUser: 65532\n            runAsGroup", "runAsUser: 0\n            runAsGroup", "runAsUser 0"},
		{"may run as root", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot: true"},
		{"shards and completions", "completions: 4", "completions: 3", "the shard count and completions must be equal"},
		{"parallelism", "parallelism: 4", "parallelism: 5", "parallelism 5 is more than completions 4"},
		{"read-write-once", "accessModes: [ReadWriteMany]", "accessModes: [ReadWriteOnce]", "not ReadWriteMany"},
		{"grants key", "  grants.yaml: |", "  grant.yaml: |", "has no key for grants.yaml"},
		{"grants not mounted", "mountPath: /etc/bucketgrant\n", "mountPath: /etc/grants\n", "no volume is mounted there"},
		{"backups on emptyDir", "mountPath: /var/lib/bucketgrant/backups", "mountPath: /var/lib/other", "not on a persistentVolumeClaim"},
		{"default backup dir not on the claim", "                - name: BUCKETGRANT_BACKUP_DIR\n                  value: /var/lib/bucketgrant/backups\n", "                - name: BUCKETGRANT_BACKUP_DIR\n                  value: /tmp/backups\n", "backup directory /tmp/backups is not on a persistentVolumeClaim"},
		{"unset variable", "$(JOB_COMPLETION_INDEX)/4", "$(SHARD)/4", "$(SHARD) is not set"},
		{"not indexed", "completionMode: Indexed", "completionMode: NonIndexed", "only an Indexed job sets"},
		{"schedule fields", `schedule: "17 * * * *"`, `schedule: "17 * * *"`, "4 fields"},
		{"schedule range", `schedule: "17 * * * *"`, `schedule: "61 * * * *"`, "61 is outside 0-59"},
		{"time zone", "timeZone: Etc/UTC", "timeZone: Mars/Olympus", "not a time zone name"},
		{"restart policy", "restartPolicy: Never", "restartPolicy: Always", "need Never or OnFailure"},
		{"unknown kind", "kind: ServiceAccount", "kind: Deployment", `kind "Deployment"`},
		{"bad name", "name: bucketgrant-sync", "name: Bucketgrant_Sync", "metadata.name"},
		{"no namespace", "  name: bucketgrant-backups\n  namespace: bucketgrant\n", "  name: bucketgrant-backups\n", "metadata.namespace is empty"},
		{"not a grants file", "    version: 1\n", "    version: 2\n", "want version: 1"},
		{"read-only root without /tmp", "                - name: tmp\n                  mountPath: /tmp\n", "", "without a volume at /tmp"},
		{"mount of no volume", "                - name: tmp\n                  mountPath: /tmp\n", "                - name: scratch\n                  mountPath: /tmp\n", `volumeMount "scratch" names no volume`},
		{"duplicate object", "---\napiVersion: v1\nkind: ServiceAccount", "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: bucketgrant\n---\napiVersion: v1\nkind: ServiceAccount", "defined twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.from) {
				t.Fatalf("the example no longer holds %q", tt.from)
			}
			bad := strings.Replace(good, tt.from, tt.to, 1)
			_, errs := Check("cronjob.yaml", []byte(bad))
			joined := fmt.Sprint(errs)
			if !strings.Contains(joined, tt.want) {
				t.Errorf("errors %v\nwant one containing %q", errs, tt.want)
			}
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), "cronjob.yaml") {
					t.Errorf("error %q does not name the file", err)
				}
			}
		})
	}
}

// TestImageDefaultBackupDir: without BUCKETGRANT_BACKUP_DIR in the
// manifest, the image's own setting applies, which the example's claim is
// mounted at.
func TestImageDefaultBackupDir(t *testing.T) {
	env := "                - name: BUCKETGRANT_BACKUP_DIR\n                  value: /var/lib/bucketgrant/backups\n"
	good := readExample(t)
	if !strings.Contains(good, env) {
		t.Fatal("the example no longer sets BUCKETGRANT_BACKUP_DIR")
	}
	if _, errs := Check("cronjob.yaml", []byte(strings.Replace(good, env, "", 1))); len(errs) > 0 {
		t.Errorf("without the variable: %v", errs)
	}
	moved := strings.Replace(strings.Replace(good, env, "", 1), "mountPath: /var/lib/bucketgrant/backups", "mountPath: /backups", 1)
	if _, errs := Check("cronjob.yaml", []byte(moved)); !strings.Contains(fmt.Sprint(errs), "backup directory "+imagespec.BackupDir+" is not on a persistentVolumeClaim") {
		t.Errorf("the claim away from the image's backup directory: %v", errs)
	}
}

func TestCheckEmptyAndGarbage(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "{", "---\n---\n", "apiVersion: v1\n"} {
		_, errs := Check("x.yaml", []byte(in))
		if len(errs) == 0 {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no arguments: exit %d", code)
	}
	if code := run([]string{filepath.Join(t.TempDir(), "missing.yaml")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}
