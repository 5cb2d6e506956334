//go:build race

package diff_test

// defaultPlans is how many plans TestGeneratedPlans makes by default under
// the race detector, which slows the planner several times over: `make
// test` runs the full count in a run without it.
const defaultPlans = 200
