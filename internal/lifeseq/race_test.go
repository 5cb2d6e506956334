//go:build race

package lifeseq

// defaultSequences is how many sequences TestLifeSequences runs under the
// race detector, which slows planning several times over: `make test` runs
// the full count in a run without it.
const defaultSequences = 20
