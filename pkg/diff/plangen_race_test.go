//go:build race

package diff_test

// defaultPlans is how many plans TestGeneratedPlans makes by default under
// the race detector, which slows the planner several times over: `make
// test` runs the full count in a run without it. The 25 run the suite's
// own concurrency (the oracle processes, the workers) under the detector.
const defaultPlans = 25
