//go:build !race

package diff_test

// defaultPlans is how many plans TestGeneratedPlans makes by default.
const defaultPlans = 5000
