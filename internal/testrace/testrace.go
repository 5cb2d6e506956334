// Package testrace tells tests whether they run under the race detector,
// and which of their heavy parts run there.
//
// make test runs every package under the detector and, in a job of its own
// without it, the large generated suites and corpora: the detector slows
// parsing and evaluation several times and finds nothing in code that one
// goroutine runs. Those tests use fewer cases (or skip) under the detector,
// unless BUCKETGRANT_RACE_ALL=1 (make test-race), which runs everything
// under it, the built binary included.
package testrace

import (
	"os"
	"runtime/debug"
	"testing"
)

// All says whether make test-race asked for every test, in full, under the
// detector.
func All() bool { return os.Getenv("BUCKETGRANT_RACE_ALL") == "1" }

// Binary says whether a binary the tests build and run should be
// race-built: only with All, as every run of a race-built binary costs
// several times the CPU of a plain one.
func Binary() bool { return Enabled && All() }

// Reduced says whether a heavy suite should run its reduced count: under
// the detector, without All.
func Reduced() bool { return Enabled && !All() }

// SkipHeavy skips a test that runs in full without the detector in
// make test, when it runs under the detector without All.
func SkipHeavy(t testing.TB) {
	t.Helper()
	if Reduced() {
		t.Skip("runs without the race detector in make test (job test-suites); make test-race runs it under the detector")
	}
}

// CollectLess makes the garbage collector run a quarter as often until the
// test ends (GOGC 400 instead of 100). The generated suites allocate much
// and keep little: measured on the 5,000 generated plans, the same work took
// about 16% less CPU (59 to 50 s) for a peak heap of about 700 MB instead of
// 250 MB, which matters on make test's two cores and not in its memory.
// The setting is process-wide: call it only in tests that do not run in
// parallel with others.
func CollectLess(tb testing.TB) {
	old := debug.SetGCPercent(400)
	tb.Cleanup(func() { debug.SetGCPercent(old) })
}
