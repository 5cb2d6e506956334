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
