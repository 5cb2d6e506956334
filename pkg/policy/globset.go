package policy

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Sets of strings described by glob patterns.
//
// A grant covers a set of strings (every object key under a prefix, every
// s3:prefix value starting with P), and each Resource, NotResource or
// StringLike/ArnLike value covers a set too. Whether "every object of the
// grant is allowed" is a question about sets; one probe key cannot answer
// it. The functions here answer such questions exactly, with the matcher of
// match.go (glob, globTokens) as the definition of what a pattern matches.
//
// # Semantics
//
// A string is a sequence of characters (Unicode code points). glob and
// globTokens read a byte that is not valid UTF-8 as U+FFFD, one character,
// so a string with invalid bytes matches exactly what the same string with
// each such byte replaced by U+FFFD matches; every answer here holds for all
// byte strings in that sense. A pattern is a sequence of tokens: a literal
// character, any-one (?, exactly one character) or any-run (*, any number of
// characters including none and including "/"). A pattern is exact or folded
// (fold=true): a folded literal matches every character in its
// unicode.SimpleFold orbit ("k", "K" and the Kelvin sign U+212A), as foldEq
// does; an exact literal matches only itself. AWS compares S3 object keys,
// ARN resource parts and StringLike/ArnLike values exactly; folding is for
// the ARN's partition, service, region and account and for action names.
// Both kinds may be mixed in one question.
//
// # Method, and why one witness per class is complete
//
// Each pattern is a nondeterministic automaton whose states are token
// positions; reading a character moves position i to i+1 when token i is ?
// or a literal matching the character, keeps i when token i is *, and the
// state after a * also holds the position after it (the * matched nothing).
// The product of the patterns' subset automata, the universe's included, is
// explored breadth first over a finite alphabet, one character per "atom":
//
//   - each character that is an exact literal of some pattern,
//   - for each fold orbit holding a folded literal, one member of the orbit
//     that is not an exact literal of any pattern (if there is one),
//   - one fresh character that is in no pattern's literal sets.
//
// Completeness of the alphabet: whether a token accepts a character c
// depends only on which literal sets contain c (? and * accept every
// character). Those sets are the singletons {r} of exact literals and the
// orbits of folded literals, and the atoms are exactly the nonempty cells
// of the partition they generate: a character in no set behaves like the
// fresh one; a character in an orbit used by a folded literal but not
// itself an exact literal behaves like the orbit's chosen member; an exact
// literal is a cell of its own. Two characters of one cell take the same
// transitions in every automaton at once, so replacing each character of
// any string by its cell's representative keeps every pattern's answer and
// the string's length: the product states reachable over all of Unicode
// are exactly those reachable over the atoms, and every match vector some
// string of the universe has is the acceptance vector of a reachable
// state. Case folding is covered because a folded literal's orbit is
// enumerated in full (an exact "k" in one pattern and a folded "k" in
// another leave {"K", U+212A} as a cell of its own, told apart from "k");
// ? is covered because it accepts every cell alike. Literals at positions
// an automaton can no longer reach are left out of the partition: they
// take part in no transition of the search.
//
// Exhaustiveness and shortest witnesses: the search visits every reachable
// product state in which the universe is still alive (a dead universe has
// no extension in the universe), so no class is missed, and breadth-first
// order yields for each class a shortest witness, the most readable among
// the shortest (below). Three reductions keep it exact:
//
//   - The universe's literal head H (its exact literals before the first
//     wildcard) begins every string of the universe; every automaton reads
//     H before the search starts, and witnesses are H followed by the path.
//   - In each product state only the fresh atom and the atoms the live
//     literals accept are tried: on any other atom every automaton moves as
//     on the fresh atom, which is tried first, so no state is skipped.
//   - A pattern whose state holds its final * matches every extension, so
//     its groups are true for good: the product state records those groups
//     and drops the patterns all of whose groups are settled. The state's
//     group vector, and that of every extension, is unchanged, and the
//     transition stays a function of the reduced state, so the reduced
//     search reaches the same vectors by the same strings.
//
// Readability: the fresh character is "x" when no pattern mentions x (then
// y, z, other letters, digits, "-", "_"); an orbit cell is shown by its
// ASCII member when it has one; atoms are tried fresh character first,
// then letters, digits, other printable ASCII, other printable characters,
// and control characters last.
//
// # Cost
//
// Before the search, patterns that cannot meet the universe (their literal
// heads or tails disagree with the universe's, or they die on its head)
// and patterns that hold the whole universe (a prefix of it followed by a
// final *, the universe itself token by token, or a final * reached on the
// head) are settled without it, and identical patterns are merged. Each
// remaining pattern's subset automaton is built lazily, its transitions
// kept per relevant atom; a product state is the sorted list of (pattern,
// local state) pairs of the live patterns plus its settled groups,
// interned in an open-addressing table. Searches are pooled. The explicit
// limit bounds the product states and, separately, the local states;
// exceeding either returns an error wrapping ErrStateLimit, on which the
// caller must report "cannot decide" rather than guess.
//
// The number of classes can grow as the product of independent patterns
// (every folder prefix with every suffix pattern). Covers and Intersects
// ask about two groups, which settle early, and stop at the first
// counterexample; Classes must reach every class.
// Callers ask about the statements that can apply to a request, grouped
// by statement, not about every pattern of a document.

// GlobAnyRun and GlobAnyOne are the wildcard tokens of a pattern given as
// tokens (CompileTokens); every other token is a literal character. They
// are the values policy-variable substitution produces for * and ? outside
// variables, so text substituted from ${*}, ${?} or a variable stays
// literal.
const (
	GlobAnyRun rune = tokStar
	GlobAnyOne rune = tokQuest
)

// DefaultStateLimit is the state bound used when a caller passes a limit of
// zero or less. Realistic policies need a few hundred states.
const DefaultStateLimit = 1 << 14

// ErrStateLimit is wrapped by every error that reports a question too large
// to decide within the state limit.
var ErrStateLimit = errors.New("too many automaton states to decide")

// Pattern is a compiled glob: tokens with consecutive * merged, and whether
// literals fold case. The zero Pattern matches only the empty string.
type Pattern struct {
	toks []rune
	fold bool
}

// CompileGlob compiles a pattern written as text: * and ? are wildcards,
// every other character is literal (no policy variables; see
// CompileWithVariables). Invalid UTF-8 bytes are read as U+FFFD, as glob
// reads them.
func CompileGlob(pattern string, fold bool) Pattern {
	toks := make([]rune, 0, len(pattern))
	for i := 0; i < len(pattern); {
		switch pattern[i] {
		case '*':
			toks = appendTok(toks, tokStar)
			i++
		case '?':
			toks = append(toks, tokQuest)
			i++
		default:
			r, w := utf8.DecodeRuneInString(pattern[i:])
			toks = append(toks, r)
			i += w
		}
	}
	return newPattern(toks, fold)
}

// CompileTokens compiles a pattern given as tokens: GlobAnyRun, GlobAnyOne,
// or a literal character. A token that is neither a wildcard nor a valid
// Unicode scalar value (negative, a surrogate, above U+10FFFF) is refused:
// no string can contain it, and accepting it would yield witnesses that
// cannot be written.
func CompileTokens(toks []rune, fold bool) (Pattern, error) {
	out := make([]rune, 0, len(toks))
	for i, t := range toks {
		switch {
		case t == tokStar:
			out = appendTok(out, tokStar)
		case t == tokQuest || utf8.ValidRune(t):
			out = append(out, t)
		default:
			return Pattern{}, fmt.Errorf("glob token %d (%d) is neither a wildcard nor a character", i, t)
		}
	}
	return newPattern(out, fold), nil
}

// CompileWithVariables compiles a Resource or StringLike value of a
// document whose Version enables policy variables, substituting them from
// ctx as the evaluator does: substituted text, and ${*}, ${?}, ${$}, is
// literal. ok is false when a variable has no value and no default; the
// evaluator then treats the value as matching nothing (and a NotResource
// holding it as not applying), which the caller must mirror.
func CompileWithVariables(pattern string, ctx map[string][]string, fold bool) (p Pattern, ok bool) {
	if !strings.Contains(pattern, "${") {
		return CompileGlob(pattern, fold), true
	}
	toks, ok := (&varSource{ctx: ctx}).resolve(pattern, true)
	if !ok {
		return Pattern{}, false
	}
	p, err := CompileTokens(toks, fold)
	// resolve yields runes decoded from strings, which are always valid.
	return p, err == nil
}

func appendTok(toks []rune, t rune) []rune {
	if t == tokStar && len(toks) > 0 && toks[len(toks)-1] == tokStar {
		return toks
	}
	return append(toks, t)
}

// newPattern drops the fold flag when no literal has another case: the
// pattern then matches the same strings either way, and identical patterns
// are merged more often.
func newPattern(toks []rune, fold bool) Pattern {
	if fold {
		fold = false
		for _, t := range toks {
			if t >= 0 && unicode.SimpleFold(t) != t {
				fold = true
				break
			}
		}
	}
	return Pattern{toks: toks, fold: fold}
}

// Match reports whether s is in the pattern's set; it is globTokens.
func (p Pattern) Match(s string) bool { return globTokens(p.toks, s, p.fold) }

// Fold reports whether the pattern's literals fold case.
func (p Pattern) Fold() bool { return p.fold }

// Tokens returns a copy of the pattern's tokens (GlobAnyRun, GlobAnyOne or
// literal characters).
func (p Pattern) Tokens() []rune { return slices.Clone(p.toks) }

// String writes the pattern in policy syntax: wildcards as * and ?, literal
// *, ? and "${" as ${*}, ${?} and ${$}{ (valid where policy variables are,
// Version 2012-10-17).
func (p Pattern) String() string {
	var b strings.Builder
	for i, t := range p.toks {
		switch {
		case t == tokStar:
			b.WriteByte('*')
		case t == tokQuest:
			b.WriteByte('?')
		case t == '*':
			b.WriteString("${*}")
		case t == '?':
			b.WriteString("${?}")
		case t == '$' && i+1 < len(p.toks) && p.toks[i+1] == '{':
			b.WriteString("${$}")
		default:
			b.WriteRune(t)
		}
	}
	return b.String()
}

// Class is one cell of the partition Classes computes: Match[i] tells
// whether patterns[i] (for GroupClasses: some pattern of groups[i])
// matches every string of the class, and so Witness; no pattern matches
// only part of a class.
type Class struct {
	Witness string
	Match   []bool
}

// Classes partitions the strings of universe by which patterns match them
// and returns one class per match vector that some string of the universe
// has, each with a shortest witness in the universe. Every string of the
// universe has the match vector of exactly one returned class. Classes come
// in breadth-first order (shortest witness first). limit bounds the
// automaton states (DefaultStateLimit when ≤ 0); beyond it the error wraps
// ErrStateLimit.
//
// The number of classes can grow with the product of independent patterns
// (every prefix pattern combined with every suffix pattern); ask about the
// statements that can apply to the request, grouped with GroupClasses,
// rather than about every pattern of a document.
func Classes(universe Pattern, patterns []Pattern, limit int) ([]Class, error) {
	groups := make([][]Pattern, len(patterns))
	for i := range patterns {
		groups[i] = patterns[i : i+1 : i+1]
	}
	return GroupClasses(universe, groups, limit)
}

// GroupClasses is Classes over unions: Match[i] of a class tells whether
// some pattern of groups[i] matches its strings (a statement's Resource
// list is one group; a NotResource list is one group, negated by the
// caller). An empty group matches nothing.
func GroupClasses(universe Pattern, groups [][]Pattern, limit int) ([]Class, error) {
	s := newGlobSearch(universe, groups, limit)
	defer s.release()
	if s.classIndex == nil {
		s.classIndex = map[string]int32{}
	}
	var witnesses []int32
	err := s.run(func(st int32) bool {
		if !s.universeAccepts(st) {
			return false
		}
		key := s.keybuf[:0]
		for _, g := range s.trueGroups(st) {
			key = append(key, byte(g), byte(g>>8), byte(g>>16), byte(g>>24))
		}
		s.keybuf = key
		if _, ok := s.classIndex[string(key)]; !ok {
			s.classIndex[string(key)] = int32(len(witnesses))
			witnesses = append(witnesses, st)
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	out := make([]Class, len(witnesses))
	match := make([]bool, len(witnesses)*len(groups))
	for i, st := range witnesses {
		m := match[i*len(groups) : (i+1)*len(groups) : (i+1)*len(groups)]
		copy(m, s.always)
		for _, g := range s.trueGroups(st) {
			m[g] = true
		}
		out[i] = Class{Witness: s.witness(st), Match: m}
	}
	return out, nil
}

// Covers reports whether every string of universe matches some allow
// pattern and no deny pattern: universe ⊆ (A1 ∪ A2 …) \ (D1 ∪ D2 …). When
// it does not, counterexample is a shortest string of the universe that is
// either matched by no allow pattern or matched by a deny pattern.
func Covers(universe Pattern, allow, deny []Pattern, limit int) (ok bool, counterexample string, err error) {
	groups := [2][]Pattern{allow, deny}
	s := newGlobSearch(universe, groups[:], limit)
	defer s.release()
	found := int32(-1)
	err = s.run(func(st int32) bool {
		if !s.universeAccepts(st) {
			return false
		}
		allowed, denied := s.always[0], s.always[1]
		for _, g := range s.trueGroups(st) {
			allowed = allowed || g == 0
			denied = denied || g == 1
		}
		if !allowed || denied {
			found = st
			return true
		}
		return false
	})
	if err != nil {
		return false, "", err
	}
	if found >= 0 {
		return false, s.witness(found), nil
	}
	return true, "", nil
}

// Subset reports whether every string of a matches b; when not,
// counterexample is a shortest string of a that b does not match.
func Subset(a, b Pattern, limit int) (ok bool, counterexample string, err error) {
	return Covers(a, []Pattern{b}, nil, limit)
}

// Intersects reports whether some string matches both a and b, and gives a
// shortest such string.
func Intersects(a, b Pattern, limit int) (ok bool, witness string, err error) {
	groups := [1][]Pattern{{b}}
	s := newGlobSearch(a, groups[:], limit)
	defer s.release()
	if !s.always[0] && len(s.dfas) == 1 {
		return false, "", nil // b cannot meet a
	}
	found := int32(-1)
	err = s.run(func(st int32) bool {
		if s.universeAccepts(st) && (s.always[0] || len(s.trueGroups(st)) > 0) {
			found = st
			return true
		}
		return false
	})
	if err != nil || found < 0 {
		return false, "", err
	}
	return true, s.witness(found), nil
}

// globSearch is one breadth-first exploration of the product automaton.
// Searches are pooled: the planner asks many small questions per plan, and
// reusing the slices and tables keeps each question free of allocations
// beyond its answer.
//
// A product state holds the universe's local state, the local state of
// each pattern still undecided, and the groups already decided true: once
// a pattern has read its way onto its final * (a "sticky" state) it
// matches every extension, so its groups are true for good and neither it
// nor the other patterns of those groups need to be followed further.
// This keeps the product small when many prefix patterns are involved.
type globSearch struct {
	limit    int
	universe Pattern
	dfas     []*globDFA // [0] is the universe
	spare    []*globDFA // automata kept for reuse, dfas[i] == spare[i]
	atoms    []rune     // one representative character per atom, in search order
	locals   int        // local states created, all automata together
	npats    int        // the caller's patterns, all groups together

	// Groups: always[g] when a pattern of g holds the whole universe (g is
	// then left out of the product); product pattern p belongs to the
	// groups groupOf[gstart[p]:gstart[p+1]].
	ngroups int
	always  []bool
	groupOf []int32
	gstart  []int32
	pairs   []uint64

	// Product states: state i's entries are arena[starts[i]:starts[i+1]]:
	// first pattern<<32 | local state for the live patterns, sorted by
	// pattern, universe (0) first; then (len(dfas)+g)<<32 for each sticky
	// group g, ascending.
	arena   []uint64
	starts  []int32
	parent  []int32
	via     []int32
	table   []int32 // open addressing: state index + 1, 0 empty
	scratch []uint64
	sticky  []uint64 // scratch bitset of sticky groups
	words   []uint64 // scratch for local transitions
	keybuf  []byte
	head    []rune   // the universe's literal head, read before the search
	groups  []int32  // scratch for trueGroups
	cand    []int32  // scratch for relevantAtoms
	mark    []uint32 // relevantAtoms: atom seen in this state when == stamp
	stamp   uint32
	seen    map[uint64]int32 // token hash → automaton, to merge identical patterns
	lits    []litRune        // the characters patterns name, ascending
	other   []litRune        // scratch for atomsOf
	// asciiAtom[r] is the atom of ASCII character r, or -1 when no pattern
	// names it.
	asciiAtom [128]int32
	// classIndex maps an acceptance vector to its class (Classes only).
	classIndex map[string]int32
}

var searchPool = sync.Pool{New: func() any { return new(globSearch) }}

func newGlobSearch(universe Pattern, groups [][]Pattern, limit int) *globSearch {
	if limit <= 0 {
		limit = DefaultStateLimit
	}
	s := searchPool.Get().(*globSearch)
	s.limit, s.universe, s.locals, s.npats = limit, universe, 0, 0
	s.ngroups = len(groups)
	s.always = slices.Grow(s.always[:0], len(groups))[:len(groups)]
	clear(s.always)
	// Every string of the universe starts with its literal head: the
	// automata read it once here, not state by state in the search.
	s.head = s.head[:0]
	for _, t := range universe.toks {
		if t < 0 || (universe.fold && unicode.SimpleFold(t) != t) {
			break
		}
		s.head = append(s.head, t)
	}
	s.dfas = s.dfas[:0]
	s.addDFA(universe)
	if s.seen == nil {
		s.seen = map[uint64]int32{}
	}
	pairs := s.pairs[:0]
	for g, list := range groups {
		s.npats += len(list)
		start := len(pairs)
		for i := range list {
			p := &list[i]
			if disjointQuick(universe, *p) {
				continue
			}
			if containsQuick(*p, universe) {
				s.always[g] = true
				break
			}
			h := hashTokens(p)
			r, ok := s.seen[h]
			if !ok || s.dfas[r].fold != p.fold || !slices.Equal(s.dfas[r].toks, p.toks) {
				r = int32(len(s.dfas))
				live := s.addDFA(*p)
				d := s.dfas[r]
				switch {
				case !live:
					// Dies on the head: meets no string of the universe.
					s.dfas = s.dfas[:r]
					continue
				case d.sticky[1]:
					// Matches every extension of the head.
					s.dfas = s.dfas[:r]
					s.always[g] = true
				default:
					s.seen[h] = r
				}
			}
			if s.always[g] {
				break
			}
			pairs = append(pairs, uint64(r)<<32|uint64(g))
		}
		if s.always[g] {
			// The group is true throughout; its patterns need no
			// following (an automaton added for them stays idle).
			pairs = pairs[:start]
		}
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	s.pairs = pairs
	s.gstart = slices.Grow(s.gstart[:0], len(s.dfas)+1)[:len(s.dfas)+1]
	s.groupOf = s.groupOf[:0]
	for p, i := 0, 0; p < len(s.dfas); p++ {
		s.gstart[p] = int32(len(s.groupOf))
		for ; i < len(pairs) && int(pairs[i]>>32) == p; i++ {
			s.groupOf = append(s.groupOf, int32(uint32(pairs[i])))
		}
	}
	s.gstart[len(s.dfas)] = int32(len(s.groupOf))
	s.atoms = s.atomsOf(s.atoms[:0])
	for _, d := range s.dfas {
		d.prepare(s)
	}
	s.sticky = slices.Grow(s.sticky[:0], (s.ngroups+63)/64)[:(s.ngroups+63)/64]
	return s
}

// release returns the search to the pool, dropping references to the
// caller's patterns.
func (s *globSearch) release() {
	for _, d := range s.dfas {
		d.toks = nil
	}
	s.universe = Pattern{}
	clear(s.seen)
	clear(s.classIndex)
	clear(s.table)
	s.arena, s.starts, s.parent, s.via = s.arena[:0], s.starts[:0], s.parent[:0], s.via[:0]
	if cap(s.arena) > 1<<16 {
		// A search near the limit would otherwise pin its memory.
		s.arena, s.table, s.parent, s.via, s.starts = nil, nil, nil, nil, nil
	}
	searchPool.Put(s)
}

func hashTokens(p *Pattern) uint64 {
	h := uint64(len(p.toks))
	if p.fold {
		h = ^h
	}
	for _, t := range p.toks {
		h = (h ^ uint64(uint32(t))) * 0x9E3779B97F4A7C15
		h ^= h >> 29
	}
	return h
}

// addDFA adds p's automaton and reports whether it survives the head.
func (s *globSearch) addDFA(p Pattern) bool {
	i := len(s.dfas)
	if i == len(s.spare) {
		s.spare = append(s.spare, new(globDFA))
	}
	d := s.spare[i]
	s.dfas = append(s.dfas, d)
	s.locals += 2
	return d.reset(p, s.head)
}

func (s *globSearch) entries(st int32) []uint64 {
	return s.arena[s.starts[st]:s.starts[st+1]]
}

func (s *globSearch) universeAccepts(st int32) bool {
	e := s.arena[s.starts[st]]
	return s.dfas[0].accept[int32(uint32(e))]
}

// trueGroups lists, ascending, the groups of the product that match the
// strings of state st (groups in always are not listed).
func (s *globSearch) trueGroups(st int32) []int32 {
	gs := s.groups[:0]
	sorted := true
	base := uint64(len(s.dfas))
	for _, e := range s.entries(st)[1:] {
		p := e >> 32
		if p >= base {
			g := int32(p - base)
			sorted = sorted && (len(gs) == 0 || gs[len(gs)-1] < g)
			gs = append(gs, g)
			continue
		}
		if s.dfas[p].accept[int32(uint32(e))] {
			for _, g := range s.groupOf[s.gstart[p]:s.gstart[p+1]] {
				sorted = sorted && (len(gs) == 0 || gs[len(gs)-1] < g)
				gs = append(gs, g)
			}
		}
	}
	if !sorted {
		slices.Sort(gs)
		gs = slices.Compact(gs)
	}
	s.groups = gs
	return gs
}

// run explores the product breadth first, calling visit on each new state
// (the empty string's state first) until visit returns true or no state is
// left. States where the universe has died are not kept: no extension of
// their strings is in the universe.
func (s *globSearch) run(visit func(st int32) bool) error {
	s.scratch = s.scratch[:0]
	clear(s.sticky)
	newSticky := false
	for p, d := range s.dfas {
		switch {
		case p > 0 && s.gstart[p] == s.gstart[p+1]:
			// Only in groups that are always true.
		case p > 0 && d.sticky[1]:
			for _, g := range s.groupOf[s.gstart[p]:s.gstart[p+1]] {
				s.sticky[g>>6] |= 1 << (g & 63)
			}
			newSticky = true
		default:
			s.scratch = append(s.scratch, uint64(p)<<32|1)
		}
	}
	s.scratch = s.canonical(s.scratch, newSticky)
	s.starts = append(s.starts[:0], 0)
	st0, _, err := s.intern(-1, -1)
	if err != nil {
		return err
	}
	if visit(st0) {
		return nil
	}
	base := uint64(len(s.dfas))
	s.mark = slices.Grow(s.mark[:0], len(s.atoms))[:len(s.atoms)]
	clear(s.mark)
	for st := int32(0); int(st) < len(s.parent); st++ {
	atoms:
		for _, a := range s.relevantAtoms(st) {
			s.scratch = s.scratch[:0]
			clear(s.sticky)
			newSticky := false
			for _, e := range s.arena[s.starts[st]:s.starts[st+1]] {
				p := e >> 32
				if p >= base {
					g := p - base
					s.sticky[g>>6] |= 1 << (g & 63)
					continue
				}
				d := s.dfas[p]
				n, err := s.step(d, int32(uint32(e)), a)
				if err != nil {
					return err
				}
				switch {
				case n == 0 && p == 0:
					continue atoms
				case n == 0:
					continue
				case p > 0 && d.sticky[n]:
					for _, g := range s.groupOf[s.gstart[p]:s.gstart[p+1]] {
						s.sticky[g>>6] |= 1 << (g & 63)
					}
					newSticky = true
					continue
				}
				s.scratch = append(s.scratch, p<<32|uint64(n))
			}
			s.scratch = s.canonical(s.scratch, newSticky)
			id, isNew, err := s.intern(st, a)
			if err != nil {
				return err
			}
			if isNew && visit(id) {
				return nil
			}
		}
	}
	return nil
}

// relevantAtoms lists, in search order, the fresh character's atom and
// the atoms some live automaton of state st accepts by a literal: on any
// other atom every automaton moves as on the fresh character, so it would
// reach the state the fresh character reaches, which comes first.
func (s *globSearch) relevantAtoms(st int32) []int32 {
	s.stamp++
	if s.stamp == 0 {
		clear(s.mark)
		s.stamp = 1
	}
	as := append(s.cand[:0], 0)
	base := uint64(len(s.dfas))
	for _, e := range s.entries(st) {
		p := e >> 32
		if p >= base {
			break
		}
		d, ls := s.dfas[p], int32(uint32(e))
		for _, a := range d.rel[d.relStart[ls]:d.relStart[ls+1]] {
			if s.mark[a] != s.stamp {
				s.mark[a] = s.stamp
				as = append(as, a)
			}
		}
	}
	slices.Sort(as[1:])
	s.cand = as
	return as
}

// canonical drops, when groups have become sticky, the patterns all of
// whose groups are sticky, and appends the sticky groups' entries.
func (s *globSearch) canonical(es []uint64, newSticky bool) []uint64 {
	if newSticky {
		kept := es[:1]
		for _, e := range es[1:] {
			p := e >> 32
			for _, g := range s.groupOf[s.gstart[p]:s.gstart[p+1]] {
				if s.sticky[g>>6]&(1<<(g&63)) == 0 {
					kept = append(kept, e)
					break
				}
			}
		}
		es = kept
	}
	base := uint64(len(s.dfas))
	for wi, w := range s.sticky {
		for w != 0 {
			g := uint64(wi*64 + bits.TrailingZeros64(w))
			w &= w - 1
			es = append(es, (base+g)<<32)
		}
	}
	return es
}

func hashEntries(es []uint64) uint64 {
	h := uint64(len(es))
	for _, e := range es {
		h = (h ^ e) * 0x9E3779B97F4A7C15
		h ^= h >> 31
	}
	return h
}

// intern finds or adds the product state held in s.scratch.
func (s *globSearch) intern(parent, via int32) (int32, bool, error) {
	if 2*(len(s.parent)+1) > len(s.table) {
		s.grow()
	}
	mask := uint64(len(s.table) - 1)
	for i := hashEntries(s.scratch) & mask; ; i = (i + 1) & mask {
		v := s.table[i]
		if v == 0 {
			if len(s.parent) >= s.limit {
				return 0, false, s.limitError("product")
			}
			id := int32(len(s.parent))
			s.table[i] = id + 1
			s.arena = append(s.arena, s.scratch...)
			s.starts = append(s.starts, int32(len(s.arena)))
			s.parent = append(s.parent, parent)
			s.via = append(s.via, via)
			return id, true, nil
		}
		if slices.Equal(s.entries(v-1), s.scratch) {
			return v - 1, false, nil
		}
	}
}

func (s *globSearch) grow() {
	n := 64
	for n < 4*(len(s.parent)+1) {
		n *= 2
	}
	if cap(s.table) >= n {
		s.table = s.table[:n]
		clear(s.table)
	} else {
		s.table = make([]int32, n)
	}
	mask := uint64(n - 1)
	for id := range s.parent {
		i := hashEntries(s.entries(int32(id))) & mask
		for s.table[i] != 0 {
			i = (i + 1) & mask
		}
		s.table[i] = int32(id) + 1
	}
}

func (s *globSearch) limitError(what string) error {
	return fmt.Errorf("%w: comparing %d patterns within %q needs more than %d %s states; narrow the patterns or raise the limit",
		ErrStateLimit, s.npats, s.universe.String(), s.limit, what)
}

// witness spells the shortest string leading to state st: the universe's
// literal head, then the atoms of the path.
func (s *globSearch) witness(st int32) string {
	n := 0
	for _, r := range s.head {
		n += utf8.RuneLen(r)
	}
	for x := st; s.parent[x] >= 0; x = s.parent[x] {
		n += utf8.RuneLen(s.atoms[s.via[x]])
	}
	b := make([]byte, n)
	i := 0
	for _, r := range s.head {
		i += utf8.EncodeRune(b[i:], r)
	}
	for ; s.parent[st] >= 0; st = s.parent[st] {
		r := s.atoms[s.via[st]]
		n -= utf8.RuneLen(r)
		utf8.EncodeRune(b[n:], r)
	}
	return string(b)
}

// globDFA is one pattern's subset automaton, built as the search asks for
// transitions. State 0 is the empty set (the pattern can no longer match),
// state 1 the start: the positions reached after the universe's head.
type globDFA struct {
	toks  []rune
	fold  bool
	words int     // uint64 words per position set (positions 0..len(toks))
	stars []int32 // positions holding *
	from  int     // no position below it is ever active again
	sets  []uint64
	// accept[i]: state i's positions (sets[i*words:(i+1)*words]) hold
	// the end; sticky[i]: they hold the final * of a pattern ending in *,
	// so every extension matches.
	accept []bool
	sticky []bool
	// rel[relStart[i]:relStart[i+1]] lists the atoms on which state i
	// moves differently from the fresh character: those its active
	// literals accept. On every other atom it moves as on the fresh one.
	rel      []int32
	relStart []int32
	// trans[relStart[i]+i] is state i's move on the fresh character, the
	// next len(rel of i) entries its moves on its rel atoms; -1 not yet
	// known. Transitions are kept per state and per relevant atom, not
	// per atom, so a state costs a few entries however many atoms there
	// are.
	trans []int32
	// index finds a state by its positions once there are too many states
	// to scan.
	index map[string]int32
	tmp   []uint64
}

// linearStates is how many states a pattern's automaton may have before
// lookups go through a map instead of a scan; most patterns have a handful.
const linearStates = 32

// reset prepares the automaton of p, its start state at the positions
// reached after reading head. It reports whether any position is left.
func (d *globDFA) reset(p Pattern, head []rune) bool {
	d.toks, d.fold = p.toks, p.fold
	d.words = (len(p.toks) + 64) / 64
	d.stars, d.sets, d.accept, d.sticky = d.stars[:0], d.sets[:0], d.accept[:0], d.sticky[:0]
	d.rel, d.relStart, d.trans = d.rel[:0], d.relStart[:0], d.trans[:0]
	switch {
	case len(d.index) > 1024:
		d.index = nil // a big map from an earlier search costs a clear each time
	case len(d.index) > 0:
		clear(d.index)
	}
	for i, t := range p.toks {
		if t == tokStar {
			d.stars = append(d.stars, int32(i))
		}
	}
	d.sets = slices.Grow(d.sets, 2*d.words)[:2*d.words]
	clear(d.sets)
	start := d.sets[d.words:]
	switch {
	case len(head) <= len(d.toks) && slices.Equal(d.toks[:len(head)], head):
		// The usual case: the pattern spells the head out.
		start[len(head)>>6] = 1 << (len(head) & 63)
		d.closure(start)
	default:
		start[0] = 1
		d.closure(start)
		d.tmp = slices.Grow(d.tmp[:0], d.words)[:d.words]
		for _, c := range head {
			d.move(start, d.tmp, c)
			copy(start, d.tmp)
		}
	}
	d.from = len(d.toks)
	for wi, w := range start {
		if w != 0 {
			d.from = wi*64 + bits.TrailingZeros64(w)
			break
		}
	}
	d.accept = append(d.accept, false, d.accepting(start))
	d.sticky = append(d.sticky, false, d.isSticky(start))
	return !isZero(start)
}

// move puts into next the positions reached from cur by reading c.
func (d *globDFA) move(cur, next []uint64, c rune) {
	clear(next)
	n := len(d.toks)
	for wi, word := range cur {
		for word != 0 {
			i := wi*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if i >= n {
				continue
			}
			switch t := d.toks[i]; {
			case t == tokStar:
				next[i>>6] |= 1 << (i & 63)
			case t == tokQuest || t == c || (d.fold && foldEq(t, c)):
				j := i + 1
				next[j>>6] |= 1 << (j & 63)
			}
		}
	}
	d.closure(next)
}

func (d *globDFA) accepting(w []uint64) bool {
	n := len(d.toks)
	return w[n>>6]&(1<<(n&63)) != 0
}

func (d *globDFA) isSticky(w []uint64) bool {
	n := len(d.toks) - 1
	return n >= 0 && d.toks[n] == tokStar && w[n>>6]&(1<<(n&63)) != 0
}

// prepare adds the relevant atoms and transition slots of the dead and
// start states, once the search's atoms are known.
func (d *globDFA) prepare(s *globSearch) {
	d.relStart = append(d.relStart, 0, 0) // state 0: dead, no atoms
	d.trans = append(d.trans, 0)          // and it stays dead
	d.addRel(d.sets[d.words:2*d.words], s)
}

// closure adds the position after each active * (the * matching nothing).
// Stars are never adjacent, so one ascending pass is enough.
func (d *globDFA) closure(w []uint64) {
	for _, i := range d.stars {
		if w[i>>6]&(1<<(i&63)) != 0 {
			j := i + 1
			w[j>>6] |= 1 << (j & 63)
		}
	}
}

// find returns the state whose positions are w, or -1.
func (d *globDFA) find(w []uint64, key []byte) int32 {
	n := len(d.accept)
	if n <= linearStates {
		for i := 1; i < n; i++ {
			if slices.Equal(d.sets[i*d.words:(i+1)*d.words], w) {
				return int32(i)
			}
		}
		return -1
	}
	if len(d.index) == 0 {
		if d.index == nil {
			d.index = map[string]int32{}
		}
		for i := 1; i < n; i++ {
			d.index[string(wordBytes(key[:0], d.sets[i*d.words:(i+1)*d.words]))] = int32(i)
		}
	}
	if id, ok := d.index[string(wordBytes(key[:0], w))]; ok {
		return id
	}
	return -1
}

// addRel appends the relevant atoms and the transition slots of a new
// state with positions w.
func (d *globDFA) addRel(w []uint64, s *globSearch) {
	start := len(d.rel)
	n := len(d.toks)
	for wi, word := range w {
		for word != 0 {
			i := wi*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if i >= n || d.toks[i] < 0 {
				continue
			}
			t := d.toks[i]
			for r := t; ; {
				if a := s.atomOf(r); a >= 0 && !slices.Contains(d.rel[start:], a) {
					d.rel = append(d.rel, a)
				}
				if !d.fold {
					break
				}
				if r = unicode.SimpleFold(r); r == t {
					break
				}
			}
		}
	}
	d.relStart = append(d.relStart, int32(len(d.rel)))
	for range 1 + len(d.rel) - start {
		d.trans = append(d.trans, -1)
	}
}

func (d *globDFA) add(w []uint64, key []byte) int32 {
	id := int32(len(d.accept))
	d.sets = append(d.sets, w...)
	d.accept = append(d.accept, d.accepting(w))
	d.sticky = append(d.sticky, d.isSticky(w))
	if len(d.index) > 0 {
		d.index[string(wordBytes(key[:0], w))] = id
	}
	return id
}

func wordBytes(b []byte, w []uint64) []byte {
	for _, x := range w {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24), byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56))
	}
	return b
}

// step returns the local state after reading atom a in state ls.
func (s *globSearch) step(d *globDFA, ls int32, a int32) (int32, error) {
	lo, hi := d.relStart[ls], d.relStart[ls+1]
	slot := lo + ls // the fresh character's move
	for k, x := range d.rel[lo:hi] {
		if x == a {
			slot += 1 + int32(k)
			break
		}
	}
	if n := d.trans[slot]; n >= 0 {
		return n, nil
	}
	c := s.atoms[0]
	if slot != lo+ls {
		c = s.atoms[a]
	}
	s.words = slices.Grow(s.words[:0], d.words)[:d.words]
	next := s.words
	d.move(d.sets[int(ls)*d.words:int(ls+1)*d.words], next, c)
	id := int32(0)
	if !isZero(next) {
		if id = d.find(next, s.keybuf); id < 0 {
			if s.locals >= s.limit {
				return 0, s.limitError("pattern")
			}
			s.locals++
			id = d.add(next, s.keybuf)
			d.addRel(next, s)
		}
	}
	d.trans[slot] = id
	return id, nil
}

func isZero(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return false
		}
	}
	return true
}

// litRune is a character some pattern names: exactly (a literal of an
// exact pattern), or through its fold orbit (orbit is the orbit's least
// member).
type litRune struct {
	r     rune
	orbit rune
	exact bool
	atom  int32 // the atom the character belongs to
}

// atomsOf appends one representative character per atom (see the package
// comment on completeness) to out, in search order.
func (s *globSearch) atomsOf(out []rune) []rune {
	// ASCII characters are collected in a table, the rest sorted: a policy
	// names thousands of literal characters, nearly all of them ASCII.
	var ascii [128]uint8 // 1: an exact literal, 2: in a folded literal's orbit
	var asciiOrbit [128]rune
	other := s.other[:0]
	for _, d := range s.dfas {
		for _, t := range d.toks[d.from:] {
			switch {
			case t < 0:
			case !d.fold && t < 128:
				ascii[t] |= 1
			case !d.fold:
				other = append(other, litRune{r: t, exact: true})
			default:
				o := orbitMin(t)
				for r := t; ; {
					if r < 128 {
						ascii[r] |= 2
						asciiOrbit[r] = o
					} else {
						other = append(other, litRune{r: r, orbit: o})
					}
					if r = unicode.SimpleFold(r); r == t {
						break
					}
				}
			}
		}
	}
	// Sort by character, exact first, and keep one entry per character.
	slices.SortFunc(other, func(a, b litRune) int {
		if a.r != b.r {
			return int(a.r - b.r)
		}
		if a.exact != b.exact {
			if a.exact {
				return -1
			}
			return 1
		}
		return 0
	})
	other = slices.CompactFunc(other, func(a, b litRune) bool { return a.r == b.r })
	s.other = other
	lits := s.lits[:0]
	for r, f := range ascii {
		if f != 0 {
			lits = append(lits, litRune{r: rune(r), exact: f&1 != 0, orbit: asciiOrbit[r]})
		}
	}
	lits = append(lits, other...)
	s.lits = lits
	out = append(out, freshRune(func(r rune) bool { return s.litIndex(r) >= 0 }))
	first := len(out)
	for _, l := range lits {
		if l.exact {
			out = append(out, l.r)
		}
	}
	// One member per orbit among the members that are no exact literal:
	// the most readable one.
	orbits := len(out)
	for _, l := range lits {
		if l.exact {
			continue
		}
		if i := slices.IndexFunc(out[orbits:], func(r rune) bool { return orbitMin(r) == l.orbit }); i >= 0 {
			if lessReadable(l.r, out[orbits+i]) {
				out[orbits+i] = l.r
			}
			continue
		}
		out = append(out, l.r)
	}
	slices.SortFunc(out[first:], func(a, b rune) int {
		if lessReadable(a, b) {
			return -1
		}
		if lessReadable(b, a) {
			return 1
		}
		return 0
	})
	// Record each named character's atom: its own, or its orbit's.
	for i := range s.asciiAtom {
		s.asciiAtom[i] = -1
	}
	defer func() {
		for _, l := range s.lits {
			if l.r >= 128 {
				break
			}
			s.asciiAtom[l.r] = l.atom
		}
	}()
	for i := first; i < len(out); i++ {
		j := s.litIndex(out[i])
		if lits[j].exact {
			lits[j].atom = int32(i - first + 1)
			continue
		}
		for k := range lits {
			if !lits[k].exact && lits[k].orbit == lits[j].orbit {
				lits[k].atom = int32(i - first + 1)
			}
		}
	}
	return out
}

// atomOf returns the atom of a character some pattern names, or -1.
func (s *globSearch) atomOf(r rune) int32 {
	if r >= 0 && r < 128 {
		return s.asciiAtom[r]
	}
	if j := s.litIndex(r); j >= 0 {
		return s.lits[j].atom
	}
	return -1
}

// litIndex finds a named character in s.lits, or returns -1.
func (s *globSearch) litIndex(r rune) int {
	j, found := slices.BinarySearchFunc(s.lits, r, func(l litRune, r rune) int { return int(l.r - r) })
	if !found {
		return -1
	}
	return j
}

func orbitMin(r rune) rune {
	m := r
	for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
		m = min(m, x)
	}
	return m
}

// readability ranks characters for witnesses: letters, digits, other
// printable ASCII, other printable characters, then everything else.
func readability(r rune) int {
	switch {
	case 'a' <= r && r <= 'z':
		return 0
	case '0' <= r && r <= '9':
		return 1
	case 'A' <= r && r <= 'Z':
		return 2
	case r > ' ' && r < 0x7f:
		return 3
	case r == ' ':
		return 4
	case unicode.IsPrint(r):
		return 5
	}
	return 6
}

func lessReadable(a, b rune) bool {
	ra, rb := readability(a), readability(b)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

// freshRune picks a readable character that no pattern mentions.
func freshRune(used func(rune) bool) rune {
	for _, r := range "xyzwvuqjkabcdefghilmnoprstXYZWVUQJKABCDEFGHILMNOPRST0123456789-_" {
		if !used(r) {
			return r
		}
	}
	for r := rune(0xC0); r <= unicode.MaxRune; r++ {
		if unicode.IsPrint(r) && !used(r) {
			return r
		}
	}
	panic("unreachable: patterns mention every printable character")
}

// tokIntersects reports whether literal-or-? tokens a (of a pattern with
// fold af) and b can accept a common character.
func tokIntersects(a rune, af bool, b rune, bf bool) bool {
	if a == tokQuest || b == tokQuest || a == b {
		return true
	}
	return (af || bf) && foldEq(a, b)
}

// tokSubset reports whether every character token u accepts, token p
// accepts too (neither is *).
func tokSubset(u rune, uf bool, p rune, pf bool) bool {
	switch {
	case p == tokQuest:
		return true
	case u == tokQuest:
		return false
	case pf:
		return foldEq(u, p)
	}
	return u == p && (!uf || unicode.SimpleFold(u) == u)
}

// disjointQuick reports true only when p and u share no string, judging
// from the tokens before the first * and after the last *: there the
// strings' characters are aligned with the tokens.
func disjointQuick(u, p Pattern) bool {
	ut, pt := u.toks, p.toks
	i := 0
	for i < len(ut) && i < len(pt) && ut[i] == pt[i] && ut[i] >= 0 {
		i++ // equal literals: the common case, a shared prefix
	}
	for ; i < len(ut) && i < len(pt) && ut[i] != tokStar && pt[i] != tokStar; i++ {
		if !tokIntersects(ut[i], u.fold, pt[i], p.fold) {
			return true
		}
	}
	switch {
	case i == len(ut) && i == len(pt):
		return false
	case i == len(ut):
		// u's strings end here; p needs more than stars.
		return slices.ContainsFunc(pt[i:], func(t rune) bool { return t != tokStar })
	case i == len(pt):
		return slices.ContainsFunc(ut[i:], func(t rune) bool { return t != tokStar })
	}
	for j := 1; j <= len(ut) && j <= len(pt); j++ {
		a, b := ut[len(ut)-j], pt[len(pt)-j]
		if a == tokStar || b == tokStar {
			return false
		}
		if !tokIntersects(a, u.fold, b, p.fold) {
			return true
		}
	}
	return false
}

// containsQuick reports true only when p matches every string of u: token
// by token, each u token is within the p token, and a final * of p absorbs
// whatever remains of u.
func containsQuick(p, u Pattern) bool {
	pt, ut := p.toks, u.toks
	i := 0
	if !u.fold {
		for i < len(ut) && i < len(pt) && ut[i] == pt[i] && ut[i] >= 0 {
			i++ // an exact literal is within an equal literal
		}
	}
	for ; ; i++ {
		switch {
		case i == len(pt):
			return i == len(ut)
		case pt[i] == tokStar && i == len(pt)-1:
			return true
		case i == len(ut):
			return false
		case pt[i] == tokStar || ut[i] == tokStar:
			if pt[i] != ut[i] {
				return false
			}
		case !tokSubset(ut[i], u.fold, pt[i], p.fold):
			return false
		}
	}
}
