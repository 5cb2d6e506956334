//go:build race

package policy

// globsetUnderRace is set when tests run with -race; the brute-force property
// tests then run a sample and leave the full count to a run without it
// (`make test` runs both).
const globsetUnderRace = true
