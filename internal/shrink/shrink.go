// Package shrink makes a failing generated case smaller while it still
// fails: the loop the plan suite (pkg/diff) and the sequence test
// (internal/lifeseq) share; each brings its own cases' Shrinks.
package shrink

// Greedy returns the smallest case it reaches from c, and what fails says
// of it: it takes the first of shrinks(c) that still fails (fails returns
// a non-empty message) and starts again from there, until none does or
// rounds are used up. fails(c) must be non-empty.
func Greedy[T any](c T, msg string, fails func(T) string, shrinks func(T) []T, rounds int) (T, string) {
	for range rounds {
		shrunk := false
		for _, s := range shrinks(c) {
			if m := fails(s); m != "" {
				c, msg, shrunk = s, m, true
				break
			}
		}
		if !shrunk {
			break
		}
	}
	return c, msg
}
