//go:build !race

package lifeseq

// defaultSequences is how many sequences TestLifeSequences runs by default.
const defaultSequences = 1000
