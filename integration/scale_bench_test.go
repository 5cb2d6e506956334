package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

// scaleSizes are the organisations BenchmarkSyncStateScale runs: a
// thousand grants and ten times as many. BUCKETGRANT_SCALE (a comma list)
// replaces them, for the one-off run at 100,000.
func scaleSizes(b *testing.B) []int {
	env := os.Getenv("BUCKETGRANT_SCALE")
	if env == "" {
		return []int{1000, 10000}
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 20 {
			b.Fatalf("BUCKETGRANT_SCALE=%q: give grant counts of at least 20, comma-separated", env)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkSyncStateScale runs the built binary's `sync --state` on a
// generated organisation (scaledOrg: 3 accounts, principals, buckets and
// keys in proportion to the grants), once as a dry run and once with
// --yes, and reports the wall time and the process's peak memory (maximum
// resident set size). The cost of a run should grow with the number of
// grants, not faster: compare the sizes (with -v it prints how many times
// the time grew). Run it with
//
//	go test ./integration -run '^$' -bench SyncStateScale -benchtime 1x -v
func BenchmarkSyncStateScale(b *testing.B) {
	sizes := scaleSizes(b)
	walls := map[string]time.Duration{} // by size and mode: the last run's
	for _, n := range sizes {
		for _, mode := range []string{"--dry-run", "--yes"} {
			b.Run(fmt.Sprintf("grants=%d/%s", n, strings.TrimPrefix(mode, "--")), func(b *testing.B) {
				for range b.N {
					walls[fmt.Sprint(n, mode)] = benchScaleOnce(b, n, mode)
				}
			})
		}
	}
	// What the sizes are for: how the time grows with the work.
	for i := 1; i < len(sizes); i++ {
		for _, mode := range []string{"--dry-run", "--yes"} {
			small, large := walls[fmt.Sprint(sizes[i-1], mode)], walls[fmt.Sprint(sizes[i], mode)]
			if small > 0 && large > 0 {
				b.Logf("sync %s: %d grants took %.1f times the wall time of %d (%.1f times the grants)", mode, sizes[i], large.Seconds()/small.Seconds(), sizes[i-1], float64(sizes[i])/float64(sizes[i-1]))
			}
		}
	}
}

func benchScaleOnce(b *testing.B, n int, mode string) time.Duration {
	b.StopTimer()
	dir := b.TempDir()
	st, f := scaledOrg(n)
	statePath, grantsPath := filepath.Join(dir, "org.json"), filepath.Join(dir, "grants.yaml")
	if err := snapshot.Save(statePath, st); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(grantsPath, grantsYAML(f), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(binary, "sync", "-f", grantsPath, "--state", statePath, mode, "--format", "json", "--backup-dir", filepath.Join(dir, "backups"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	b.StartTimer()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatalf("sync %s on %d grants: %v\n%s", mode, n, err, stderr.String())
	}
	var rep grantsync.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		b.Fatalf("sync %s on %d grants: the report: %v\n%.2000s", mode, n, err, stdout.String())
	}
	if got := map[string]int{"--dry-run": rep.Summary.DriftFound, "--yes": rep.Summary.Fixed}[mode]; got != n {
		b.Fatalf("sync %s on %d grants: %+v", mode, n, rep.Summary)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rssMB := float64(ru.Maxrss) / 1024 // kilobytes on Linux
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(rssMB, "peak-MB")
	b.Logf("%d grants, sync %s: wall %s, cpu %s, peak RSS %.0f MB", n, mode, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), rssMB)
	return wall
}

// grantsYAML writes a grants file for f.
func grantsYAML(f *grantsync.File) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nbuckets:\n")
	for _, name := range sortedKeys(f.Buckets) {
		fmt.Fprintf(&b, "  %s: {account: %q}\n", name, f.Buckets[name].Account)
	}
	b.WriteString("grants:\n")
	for _, g := range f.Grants {
		levels := make([]string, len(g.Access))
		for i, l := range g.Access {
			levels[i] = string(l)
		}
		fmt.Fprintf(&b, "  - {principal: %q, bucket: %s, access: [%s]}\n", g.Principal, g.Bucket, strings.Join(levels, ", "))
	}
	return b.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// BenchmarkPlanAllScale plans scaledOrg's grants in this process (what
// `sync --state --dry-run` spends its time on, without the binary, the
// snapshot file and the report), so that a CPU or memory profile shows
// where a size's time goes:
//
//	go test ./integration -run '^$' -bench PlanAllScale/grants=10000 -benchtime 1x -cpuprofile cpu.out
func BenchmarkPlanAllScale(b *testing.B) {
	for _, n := range scaleSizes(b) {
		b.Run(fmt.Sprintf("grants=%d", n), func(b *testing.B) {
			st, f := scaledOrg(n)
			b.ResetTimer()
			for range b.N {
				run, err := grantsync.PlanAll(st, f, f.Grants, grantsync.PlanOptions{ToolVersion: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				drift := 0
				for _, r := range run.Results {
					if r.Status == grantsync.StatusDrift {
						drift++
					}
				}
				if drift != n {
					b.Fatalf("%d of %d grants planned as drift", drift, n)
				}
			}
		})
	}
}
