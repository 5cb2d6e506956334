package policy

import (
	"flag"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/bucketgrant/bucketgrant/internal/testrace"
)

// The property test checks Classes, Covers, Subset and Intersects against
// brute force: every string up to a length over a small alphabet is matched
// with globTokens (the evaluator's matcher), and the answers must agree.
// Patterns are drawn from every token sequence up to a length, so each
// pattern's matches are computed once, as a bitset over the strings.

var (
	globsetSets = flag.Int("globset.sets", 100_000, "random pattern sets for TestGlobSetProperty (exact patterns)")
	globsetSeed = flag.Uint64("globset.seed", 1, "seed for TestGlobSetProperty")
)

// bruteWorld is a pattern pool with the match bitsets of every pattern.
type bruteWorld struct {
	strs     []string // all strings over the alphabet up to maxLen, shortest first
	words    int
	patterns []Pattern
	matches  [][]uint64 // matches[i]: bit j set when patterns[i] matches strs[j]
	byKey    map[string]int
}

func newBruteWorld(alphabet []rune, maxLen int, tokens []rune, maxToks int, folds []bool) *bruteWorld {
	w := &bruteWorld{byKey: map[string]int{}}
	level := []string{""}
	for n := 0; n <= maxLen; n++ {
		w.strs = append(w.strs, level...)
		var next []string
		for _, s := range level {
			for _, r := range alphabet {
				next = append(next, s+string(r))
			}
		}
		level = next
	}
	w.words = (len(w.strs) + 63) / 64
	var seqs [][]rune
	level2 := [][]rune{nil}
	for n := 0; n <= maxToks; n++ {
		seqs = append(seqs, level2...)
		var next [][]rune
		for _, s := range level2 {
			for _, t := range tokens {
				next = append(next, append(append([]rune(nil), s...), t))
			}
		}
		level2 = next
	}
	for _, fold := range folds {
		for _, seq := range seqs {
			p, err := CompileTokens(seq, fold)
			if err != nil {
				panic(err)
			}
			key := string(patternKey(nil, p))
			if _, ok := w.byKey[key]; ok {
				continue
			}
			m := make([]uint64, w.words)
			for j, s := range w.strs {
				if globTokens(p.toks, s, p.fold) {
					m[j>>6] |= 1 << (j & 63)
				}
			}
			w.byKey[key] = len(w.patterns)
			w.patterns = append(w.patterns, p)
			w.matches = append(w.matches, m)
		}
	}
	return w
}

var (
	exactWorldOnce, foldWorldOnce sync.Once
	exactWorld, foldWorld         *bruteWorld
)

// The exact world: literals a, b, "/" and a literal "*" (as ${*} yields),
// strings over those and x (the character no pattern names).
func getExactWorld() *bruteWorld {
	exactWorldOnce.Do(func() {
		exactWorld = newBruteWorld([]rune{'a', 'b', '/', '*', 'x'}, 5,
			[]rune{'a', 'b', '/', '*', tokStar, tokQuest}, 4, []bool{false})
	})
	return exactWorld
}

// The folding world: k, K and the Kelvin sign (one fold orbit), exact and
// folded patterns mixed.
func getFoldWorld() *bruteWorld {
	foldWorldOnce.Do(func() {
		foldWorld = newBruteWorld([]rune{'k', 'K', '\u212a', '/', 'x'}, 4,
			[]rune{'k', 'K', '\u212a', '/', tokStar, tokQuest}, 3, []bool{false, true})
	})
	return foldWorld
}

// draw picks a random pattern of the pool: base followed by random tokens,
// at least one when there is room, up to maxToks tokens in all.
func (w *bruteWorld) draw(rng *rand.Rand, base, tokens []rune, maxToks int, folds []bool) int {
	seq := slices.Clone(base)
	if room := maxToks - len(base); room > 0 {
		for range 1 + rng.IntN(room) {
			seq = append(seq, tokens[rng.IntN(len(tokens))])
		}
	}
	p, err := CompileTokens(seq, folds[rng.IntN(len(folds))])
	if err != nil {
		panic(err)
	}
	i, ok := w.byKey[string(patternKey(nil, p))]
	if !ok {
		panic("pattern outside the pool")
	}
	return i
}

// drawSet picks a universe and patterns that often share its literal
// prefix, as a grant's prefix and a policy's Resource values do; purely
// random sets are mostly disjoint and would test little.
func (w *bruteWorld) drawSet(rng *rand.Rand, lits, tokens []rune, maxToks int, folds []bool, ps []int) (int, []int) {
	var u int
	if rng.IntN(2) == 0 {
		prefix := make([]rune, rng.IntN(maxToks))
		for i := range prefix {
			prefix[i] = lits[rng.IntN(len(lits))]
		}
		u = w.draw(rng, append(prefix, tokStar), nil, 0, folds)
	} else {
		u = w.draw(rng, nil, tokens, rng.IntN(maxToks+1), folds)
		if p := w.patterns[u]; !slices.Contains(p.toks, tokStar) && rng.IntN(4) > 0 {
			// A universe without * is a few strings of one length: keep
			// some, but mostly test sets of unbounded length.
			toks := append(slices.Clone(p.toks[:min(len(p.toks), maxToks-1)]), tokStar)
			u = w.draw(rng, toks, nil, 0, []bool{p.fold})
		}
	}
	head := w.patterns[u].toks
	if i := slices.Index(head, tokStar); i >= 0 {
		head = head[:i]
	}
	ps = ps[:0]
	for range 1 + rng.IntN(5) {
		var base []rune
		if rng.IntN(3) > 0 {
			base = head[:rng.IntN(len(head)+1)]
		}
		ps = append(ps, w.draw(rng, base, tokens, maxToks, folds))
	}
	return u, ps
}

// firstBit returns the index of the lowest set bit of b, or -1.
func firstBit(b []uint64) int {
	for i, x := range b {
		if x != 0 {
			return i*64 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

type propertyStats struct {
	sets, classes, groupClasses, covers, violations, longWitnesses int
}

// checkPartition checks classes of universe (world index u) over groups
// of world patterns against brute force: each witness is in the universe
// and has its class's vector (by the matcher itself), each class holds a
// brute-force string as short as its witness when there is one, the
// classes share no string, and together they hold every string of the
// universe.
func (w *bruteWorld) checkPartition(t *testing.T, what string, u int, groups [][]int, classes []Class, st *propertyStats) bool {
	t.Helper()
	universe := w.patterns[u]
	covered := make([]uint64, w.words)
	cell := make([]uint64, w.words)
	group := make([]uint64, w.words)
	for _, c := range classes {
		if !universe.Match(c.Witness) || !utf8.ValidString(c.Witness) {
			t.Errorf("%s: witness %q is not in the universe", what, c.Witness)
			return false
		}
		copy(cell, w.matches[u])
		for i, g := range groups {
			got := false
			clear(group)
			for _, p := range g {
				got = got || w.patterns[p].Match(c.Witness)
				for k := range group {
					group[k] |= w.matches[p][k]
				}
			}
			if got != c.Match[i] {
				t.Errorf("%s: witness %q: group %d matches %v, class says %v", what, c.Witness, i, got, c.Match[i])
				return false
			}
			for k := range cell {
				if c.Match[i] {
					cell[k] &= group[k]
				} else {
					cell[k] &^= group[k]
				}
			}
		}
		n := utf8.RuneCountInString(c.Witness)
		if j := firstBit(cell); j < 0 {
			if n < utf8.RuneCountInString(w.strs[len(w.strs)-1]) {
				t.Errorf("%s: witness %q is short but brute force has no string of its class", what, c.Witness)
				return false
			}
			st.longWitnesses++
		} else if m := utf8.RuneCountInString(w.strs[j]); m != n {
			t.Errorf("%s: witness %q, but %q of the same class is shorter", what, c.Witness, w.strs[j])
			return false
		}
		for k := range cell {
			if covered[k]&cell[k] != 0 {
				t.Errorf("%s: two classes share a string", what)
				return false
			}
			covered[k] |= cell[k]
		}
	}
	for k := range covered {
		if missed := w.matches[u][k] &^ covered[k]; missed != 0 {
			j := k*64 + bits.TrailingZeros64(missed)
			t.Errorf("%s: %q of the universe is in no class", what, w.strs[j])
			return false
		}
	}
	return true
}

// checkSet runs every check on one pattern set: universe index u and
// pattern indices ps of the world.
func (w *bruteWorld) checkSet(t *testing.T, rng *rand.Rand, u int, ps []int, st *propertyStats) bool {
	t.Helper()
	universe := w.patterns[u]
	patterns := make([]Pattern, len(ps))
	singles := make([][]int, len(ps))
	for i, p := range ps {
		patterns[i] = w.patterns[p]
		singles[i] = ps[i : i+1]
	}
	classes, err := Classes(universe, patterns, 0)
	if err != nil {
		t.Errorf("Classes(%q, %q): %v", universe, patterns, err)
		return false
	}
	st.sets++
	st.classes += len(classes)
	if !w.checkPartition(t, fmt.Sprintf("Classes(%q, %q)", universe, patterns), u, singles, classes, st) {
		return false
	}

	// The same patterns in one to three groups (some possibly empty).
	groups := make([][]int, 1+rng.IntN(3))
	for _, p := range ps {
		g := rng.IntN(len(groups))
		groups[g] = append(groups[g], p)
	}
	groupPatterns := make([][]Pattern, len(groups))
	for i, g := range groups {
		for _, p := range g {
			groupPatterns[i] = append(groupPatterns[i], w.patterns[p])
		}
	}
	gclasses, err := GroupClasses(universe, groupPatterns, 0)
	if err != nil {
		t.Errorf("GroupClasses(%q, %q): %v", universe, groupPatterns, err)
		return false
	}
	st.groupClasses += len(gclasses)
	if !w.checkPartition(t, fmt.Sprintf("GroupClasses(%q, %q)", universe, groupPatterns), u, groups, gclasses, st) {
		return false
	}

	// Covers with the patterns split at random into allows and denies,
	// against brute force and against the classes.
	nAllow := rng.IntN(len(ps) + 1)
	allow, deny := patterns[:nAllow], patterns[nAllow:]
	ok, counter, err := Covers(universe, allow, deny, 0)
	if err != nil {
		t.Errorf("Covers: %v", err)
		return false
	}
	st.covers++
	viol := make([]uint64, w.words)
	for k := range viol {
		var a, d uint64
		for i, p := range ps {
			if i < nAllow {
				a |= w.matches[p][k]
			} else {
				d |= w.matches[p][k]
			}
		}
		viol[k] = w.matches[u][k] & (^a | d)
	}
	shortestViolating := -1
	for _, c := range classes {
		allowed, denied := false, false
		for i, m := range c.Match {
			if m && i < nAllow {
				allowed = true
			}
			if m && i >= nAllow {
				denied = true
			}
		}
		if (!allowed || denied) && (shortestViolating < 0 || utf8.RuneCountInString(c.Witness) < shortestViolating) {
			shortestViolating = utf8.RuneCountInString(c.Witness)
		}
	}
	j := firstBit(viol)
	switch {
	case ok && (j >= 0 || shortestViolating >= 0):
		t.Errorf("Covers(%q, %q, %q) = true, but %q is not covered", universe, allow, deny, w.strs[max(j, 0)])
		return false
	case !ok && shortestViolating < 0:
		t.Errorf("Covers(%q, %q, %q) = false, %q; the classes say it covers", universe, allow, deny, counter)
		return false
	case !ok:
		st.violations++
		n := utf8.RuneCountInString(counter)
		if n != shortestViolating || (j >= 0 && n != utf8.RuneCountInString(w.strs[j])) {
			t.Errorf("Covers(%q, %q, %q): counterexample %q is not a shortest one", universe, allow, deny, counter)
			return false
		}
		allowed, denied := false, false
		for _, p := range allow {
			allowed = allowed || p.Match(counter)
		}
		for _, p := range deny {
			denied = denied || p.Match(counter)
		}
		if !universe.Match(counter) || (allowed && !denied) {
			t.Errorf("Covers(%q, %q, %q): counterexample %q is covered", universe, allow, deny, counter)
			return false
		}
	}

	// Subset and Intersects with the first pattern, against the classes.
	sub, subW, err1 := Subset(universe, patterns[0], 0)
	inter, interW, err2 := Intersects(universe, patterns[0], 0)
	if err1 != nil || err2 != nil {
		t.Errorf("Subset/Intersects: %v %v", err1, err2)
		return false
	}
	wantSub, wantInter := true, false
	subLen, interLen := -1, -1
	for _, c := range classes {
		n := utf8.RuneCountInString(c.Witness)
		if c.Match[0] {
			wantInter = true
			if interLen < 0 || n < interLen {
				interLen = n
			}
		} else {
			wantSub = false
			if subLen < 0 || n < subLen {
				subLen = n
			}
		}
	}
	if sub != wantSub || inter != wantInter ||
		(!sub && (utf8.RuneCountInString(subW) != subLen || patterns[0].Match(subW) || !universe.Match(subW))) ||
		(inter && (utf8.RuneCountInString(interW) != interLen || !patterns[0].Match(interW) || !universe.Match(interW))) {
		t.Errorf("Subset/Intersects(%q, %q) = %v %q, %v %q; classes say %v, %v", universe, patterns[0], sub, subW, inter, interW, wantSub, wantInter)
		return false
	}
	return true
}

func runGlobSetProperty(t *testing.T, w *bruteWorld, sets int, lits, tokens []rune, maxToks int, folds []bool, seed uint64) propertyStats {
	var st propertyStats
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	ps := make([]int, 0, 6)
	for range sets {
		var u int
		u, ps = w.drawSet(rng, lits, tokens, maxToks, folds, ps)
		if !w.checkSet(t, rng, u, ps, &st) {
			return st
		}
	}
	return st
}

// globsetCount scales the number of sets: the race detector makes the
// brute force about ten times slower, so a -race run (or -short) checks a
// fortieth and `make test` runs the full count without -race as well.
func globsetCount(n int) int {
	if testing.Short() || globsetUnderRace {
		return max(n/40, 1)
	}
	return n
}

func TestGlobSetProperty(t *testing.T) {
	testrace.CollectLess(t)
	sets := globsetCount(*globsetSets)
	w := getExactWorld()
	st := runGlobSetProperty(t, w, sets, []rune{'a', 'b', '/'}, []rune{'a', 'a', 'b', '/', '/', '*', tokStar, tokStar, tokQuest, tokQuest}, 4, []bool{false}, *globsetSeed)
	logPropertyStats(t, "exact", w, st)
}

func TestGlobSetPropertyFold(t *testing.T) {
	testrace.CollectLess(t)
	sets := globsetCount(*globsetSets / 5)
	w := getFoldWorld()
	st := runGlobSetProperty(t, w, sets, []rune{'k', 'K', '\u212a', '/'}, []rune{'k', 'K', '\u212a', '/', tokStar, tokStar, tokQuest}, 3, []bool{false, true}, *globsetSeed+1)
	logPropertyStats(t, "fold", w, st)
}

// patternKey identifies a compiled pattern (tokens and fold) as bytes.
func patternKey(b []byte, p Pattern) []byte {
	if p.fold {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, t := range p.toks {
		u := uint32(t)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

func logPropertyStats(t *testing.T, name string, w *bruteWorld, st propertyStats) {
	t.Logf("%s: %d pattern sets (pool of %d patterns, %d strings): %d classes, %d group classes, %d Covers (%d not covered), %d witnesses longer than brute force reaches",
		name, st.sets, len(w.patterns), len(w.strs), st.classes, st.groupClasses, st.covers, st.violations, st.longWitnesses)
}
