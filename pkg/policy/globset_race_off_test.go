//go:build !race

package policy

const globsetUnderRace = false
