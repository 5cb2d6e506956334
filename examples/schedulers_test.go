package examples

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// needTools skips a scheduler test on a machine without the programs its
// example calls (they are part of any Debian or Ubuntu system and of
// GitHub's runners, so the skip is for unusual machines only).
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the example calls it", tool)
		}
	}
}

// stateShim puts a `bucketgrant` first on PATH that runs the built binary
// with --state snap added: the example's own command line then runs
// unchanged, offline, on a copy of the bundled snapshot.
func stateShim(t *testing.T, snap string) string {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" --state %q\n", binary, snap)
	if err := os.WriteFile(filepath.Join(dir, "bucketgrant"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func snapshotCopy(t *testing.T) string {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "organisation.json")
	copyFile(t, filepath.Join(repoRoot, "examples", "organisation.json"), snap)
	return snap
}

func shell(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestCronExample runs every line of the cron file as cron would (sh -c,
// with the file's variables, \% turned into %), with its paths moved into a
// temporary directory.
func TestCronExample(t *testing.T) {
	needTools(t, "flock", "date")
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "cron", "bucketgrant-sync.cron"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, d := range []string{"etc", "log", "lib/backups", "lock"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join(repoRoot, "examples", "grants.yaml"), filepath.Join(root, "etc", "grants.yaml"))
	moved := strings.NewReplacer("/etc/bucketgrant/", root+"/etc/", "/var/log/bucketgrant/", root+"/log/",
		"/var/lib/bucketgrant/", root+"/lib/", "/run/lock/", root+"/lock/", `\%`, "%")
	snap := snapshotCopy(t)
	shim := stateShim(t, snap)

	var env, commands []string
	schedule := regexp.MustCompile(`^[0-9*/,-]+$`)
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(name, " \t") {
			if name == "PATH" {
				if !strings.Contains(value, "/usr/local/bin") {
					t.Errorf("PATH=%s lacks /usr/local/bin, where the install steps put bucketgrant", value)
				}
				value = shim + ":" + value
			}
			env = append(env, name+"="+moved.Replace(value))
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 7 {
			t.Fatalf("cron line without a command: %q", line)
		}
		for _, f := range fields[:5] {
			if !schedule.MatchString(f) {
				t.Errorf("cron line %q: schedule field %q", line, f)
			}
		}
		if fields[5] != "bucketgrant" {
			t.Errorf("cron line %q runs as %q, not the bucketgrant user of the setup", line, fields[5])
		}
		command := line
		for range 6 { // drop the schedule and the user, keep the command's spacing
			command = strings.TrimLeft(command, " \t")
			command = command[strings.IndexAny(command, " \t"):]
		}
		commands = append(commands, moved.Replace(command))
	}
	for _, command := range commands {
		out, code := shell(t, root, env, "/bin/sh", "-c", command)
		if code != 0 {
			t.Errorf("cron command exit %d:\n%s\n%s", code, command, out)
		}
	}
	if len(commands) != 2 {
		t.Fatalf("%d cron jobs, want the hourly sync and the nightly prune preview", len(commands))
	}
	log, err := os.ReadFile(filepath.Join(root, "log", "sync.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" sync exit 0\n", " prune preview exit 2\n"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("sync.log lacks %q:\n%s", want, log)
		}
	}
	last, err := os.ReadFile(filepath.Join(root, "log", "last-sync.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := parseReport(t, string(last)); r.Summary.Fixed != 3 {
		t.Errorf("the hourly run fixed %d grants, want 3", r.Summary.Fixed)
	}
	preview, err := os.ReadFile(filepath.Join(root, "log", "prune-preview.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := parseReport(t, string(preview)); len(r.Pruned) == 0 {
		t.Errorf("the prune preview shows nothing to prune:\n%s", preview)
	}
	if backups, _ := filepath.Glob(filepath.Join(root, "lib", "backups", "*.json")); len(backups) != 1 {
		t.Errorf("backups %v: want the one of the hourly run, in BUCKETGRANT_BACKUP_DIR", backups)
	}

	// A run while the previous one holds the lock is skipped, with 75.
	lockFile := filepath.Join(root, "lock", "bucketgrant-sync.lock")
	holder := exec.Command("flock", lockFile, "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	for i := 0; ; i++ { // until the holder has the lock
		if _, code := shell(t, root, nil, "flock", "-n", lockFile, "true"); code != 0 {
			break
		}
		if i == 100 {
			t.Fatal("the lock holder never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, code := shell(t, root, env, "/bin/sh", "-c", commands[0]); code != 0 {
		t.Errorf("cron command exit %d while locked:\n%s", code, out)
	}
	log, err = os.ReadFile(filepath.Join(root, "log", "sync.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), " sync exit 75\n") {
		t.Errorf("a run during another run did not log exit 75:\n%s", log)
	}
}

// workflow is the part of a GitHub Actions workflow these tests read.
type workflow struct {
	Env  map[string]string
	Jobs map[string]struct {
		Steps []struct {
			Name string
			Uses string
			Run  string
			Env  map[string]string
		}
	}
}

func readWorkflow(t *testing.T) workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "ci", "scheduled-sync.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w workflow) step(t *testing.T, name string) (run string, env map[string]string) {
	t.Helper()
	for _, s := range w.Jobs["sync"].Steps {
		if s.Name == name {
			return s.Run, s.Env
		}
	}
	t.Fatalf("the workflow has no step %q", name)
	return "", nil
}

// goreleaserNames renders the archive and checksum names the way
// .goreleaser.yaml names them, so the examples and the release agree.
func goreleaserNames(t *testing.T, version, goos, goarch string) (archive, sums string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ProjectName string `yaml:"project_name"`
		Archives    []struct {
			NameTemplate string `yaml:"name_template"`
			Formats      []string
		}
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
		}
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("{{ .ProjectName }}", cfg.ProjectName, "{{ .Version }}", version, "{{ .Os }}", goos, "{{ .Arch }}", goarch)
	archive = r.Replace(cfg.Archives[0].NameTemplate) + "." + cfg.Archives[0].Formats[0]
	sums = r.Replace(cfg.Checksum.NameTemplate)
	if strings.Contains(archive+sums, "{{") {
		t.Fatalf("unrendered template in %q, %q: update this test with .goreleaser.yaml", archive, sums)
	}
	return archive, sums
}

// releaseArchive is the archive goreleaser makes: the binary at its root.
func releaseArchive(t *testing.T) []byte {
	t.Helper()
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	// Stored, not compressed: the install step does not care, and
	// compressing the 20 MB binary under the race detector takes a minute.
	zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		data []byte
	}{{"README.md", []byte("# bucketgrant\n")}, {"bucketgrant", bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeRelease serves a release as GitHub would: the archive and the
// checksums file, which lists it and another platform's.
func fakeRelease(t *testing.T, version string, tgz []byte, corrupt bool) *httptest.Server {
	t.Helper()
	archive, sums := goreleaserNames(t, version, "linux", "amd64")
	served := bytes.Clone(tgz)
	if corrupt {
		served[len(served)/2] ^= 0xff
	}
	other, _ := goreleaserNames(t, version, "darwin", "arm64")
	checksums := fmt.Sprintf("%x  %s\n%x  %s\n", sha256.Sum256([]byte("not here")), other, sha256.Sum256(tgz), archive)
	mux := http.NewServeMux()
	mux.HandleFunc("/v"+version+"/"+archive, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(served) })
	mux.HandleFunc("/v"+version+"/"+sums, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(checksums)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestCIInstallStep runs the workflow's install step against a release
// served on 127.0.0.1 in place of GitHub's download URL.
func TestCIInstallStep(t *testing.T) {
	needTools(t, "bash", "curl", "sha256sum", "tar")
	w := readWorkflow(t)
	version := w.Env["BUCKETGRANT_VERSION"]
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(version) {
		t.Fatalf("BUCKETGRANT_VERSION %q: want a release like 1.2.3 (archives are named without the v)", version)
	}
	script, _ := w.step(t, "install bucketgrant")
	const github = "https://github.com/bucketgrant/bucketgrant/releases/download"
	if strings.Count(script, github) != 1 {
		t.Fatalf("the install step does not download from %s once:\n%s", github, script)
	}
	tgz := releaseArchive(t)
	for _, corrupt := range []bool{false, true} {
		t.Run(fmt.Sprintf("corrupt=%v", corrupt), func(t *testing.T) {
			srv := fakeRelease(t, version, tgz, corrupt)
			tmp := t.TempDir()
			ghPath := filepath.Join(tmp, "github-path")
			env := []string{"PATH=/usr/bin:/bin", "HOME=" + tmp, "RUNNER_TEMP=" + tmp, "GITHUB_PATH=" + ghPath,
				"BUCKETGRANT_VERSION=" + version}
			// How GitHub runs a run: step (shell: bash).
			out, code := shell(t, tmp, env, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
				strings.Replace(script, github, srv.URL, 1))
			if corrupt {
				if code == 0 {
					t.Errorf("a corrupt archive was installed:\n%s", out)
				}
				if _, err := os.Stat(filepath.Join(tmp, "bin", "bucketgrant")); err == nil {
					t.Error("the corrupt archive was unpacked")
				}
				return
			}
			if code != 0 {
				t.Fatalf("install step exit %d:\n%s", code, out)
			}
			if !regexp.MustCompile(`bucketgrant \S+ \(go`).MatchString(out) {
				t.Errorf("the step does not show the installed version:\n%s", out)
			}
			p, err := os.ReadFile(ghPath)
			if err != nil || strings.TrimSpace(string(p)) != filepath.Join(tmp, "bin") {
				t.Errorf("GITHUB_PATH holds %q (%v), want %s", p, err, filepath.Join(tmp, "bin"))
			}
		})
	}
}

// TestCISyncStep runs the workflow's sync step as each shard of a
// scheduled run would, then as a pull request's dry run.
func TestCISyncStep(t *testing.T) {
	needTools(t, "bash", "jq")
	w := readWorkflow(t)
	script, stepEnv := w.step(t, "sync (dry run on pull requests)")
	if stepEnv["SHARD"] != "${{ matrix.shard }}" || stepEnv["EVENT"] != "${{ github.event_name }}" {
		t.Fatalf("the step's environment changed: %v", stepEnv)
	}
	runStep := func(snap, event string, shard int) (string, string, int) {
		ws := t.TempDir()
		copyFile(t, filepath.Join(repoRoot, "examples", "grants.yaml"), filepath.Join(ws, "grants.yaml"))
		summary := filepath.Join(ws, "summary.md")
		env := []string{"PATH=" + stateShim(t, snap) + ":/usr/bin:/bin", "HOME=" + ws, "RUNNER_TEMP=" + ws,
			"GITHUB_STEP_SUMMARY=" + summary, "EVENT=" + event, fmt.Sprintf("SHARD=%d", shard)}
		out, code := shell(t, ws, env, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		sum, _ := os.ReadFile(summary)
		return out, string(sum), code
	}

	pr := snapshotCopy(t)
	for shard := range 3 {
		out, _, code := runStep(pr, "pull_request", shard)
		if code != 0 {
			t.Errorf("pull request, shard %d: exit %d (drift must not fail a pull request)\n%s", shard, code, out)
		}
	}
	_, summary, _ := runStep(pr, "pull_request", 0)
	_, summary1, _ := runStep(pr, "pull_request", 1)
	_, summary2, _ := runStep(pr, "pull_request", 2)
	if n := strings.Count(summary+summary1+summary2, "drift found\t"); n != 3 {
		t.Errorf("the pull request summaries show %d grants with drift, want 3:\n%s%s%s", n, summary, summary1, summary2)
	}

	scheduled := snapshotCopy(t)
	for shard := range 3 {
		out, _, code := runStep(scheduled, "schedule", shard)
		if code != 0 {
			t.Errorf("scheduled, shard %d: exit %d\n%s", shard, code, out)
		}
	}
	stdout, stderr, code := run(t, repoRoot, nil, "sync", "-f", "examples/grants.yaml", "--state", scheduled, "--dry-run", "--detailed-exitcode")
	if code != 0 {
		t.Errorf("after the three shards, drift is left (exit %d):\n%s%s", code, stdout, stderr)
	}
}

// TestReleaseWorkflow keeps the release workflow on the Makefile's pins:
// the same goreleaser, and the image repository make image names.
func TestReleaseWorkflow(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		On struct {
			Push struct{ Tags []string }
		}
		Env  map[string]string
		Jobs map[string]struct {
			Steps []struct{ Run string }
		}
	}
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.On.Push.Tags) == 0 {
		t.Error("the release workflow does not run on tags")
	}
	pin := regexp.MustCompile(`goreleaser/v2@(v[0-9.]+)`)
	inMake, inWorkflow := pin.FindStringSubmatch(string(makefile)), pin.FindStringSubmatch(w.Env["GORELEASER"])
	if inMake == nil || inWorkflow == nil || inMake[1] != inWorkflow[1] {
		t.Errorf("goreleaser pinned at %v in the Makefile, %v in the workflow", inMake, inWorkflow)
	}
	repo := regexp.MustCompile(`(?m)^IMAGE_REPOSITORY\s*\?=\s*(\S+)`).FindStringSubmatch(string(makefile))
	var runs strings.Builder
	for _, s := range w.Jobs["release"].Steps {
		runs.WriteString(s.Run + "\n")
	}
	if repo == nil || !strings.Contains(runs.String(), repo[1]+":$GITHUB_REF_NAME") {
		t.Errorf("the workflow does not push %v:TAG", repo)
	}
	for _, want := range []string{"make test", "make image", "$GORELEASER release --clean"} {
		if !strings.Contains(runs.String(), want) {
			t.Errorf("the release workflow does not run %q", want)
		}
	}
}
