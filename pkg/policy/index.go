package policy

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
)

// A planner evaluates the same few actions for one caller many times over
// (every object class, every condition case, before and after a merge), on
// key and bucket policies of hundreds of statements of which a handful can
// apply. The index lets a scan visit only those: the statements whose
// Action covers the request's action and, in a resource policy, whose
// Principal may name the caller.
//
// The index only narrows: every statement it yields is still checked in
// full (action, principal, resource, conditions) by the scan, so a
// candidate too many costs time and never changes a decision, while a
// statement left out would. It therefore yields a superset of the
// statements that can match, built from the same tests the scan makes.
//
// A document's statements never change after parsing; an edit makes a new
// document (or a new typed view) and with it a new index, so nothing is
// ever invalidated. Documents are shared between plans and goroutines: the
// index is built once, on first use, and its caches are guarded.
type stmtIndex struct {
	// base, when set, indexes the first baseN statements: this document
	// was extended by AppendStatements without a parse, and the statements
	// from baseN on are always candidates (the scan checks them in full).
	base  *stmtIndex
	baseN int

	once sync.Once
	// byKey lists, per principal key (principalKeys), the statements whose
	// Principal holds a value that can match only callers with that key;
	// open lists the statements that must be checked for every caller: a
	// wildcard principal, NotPrincipal, no principal at all, or a value
	// the keys cannot stand for.
	byKey map[string][]int32
	open  []int32

	mu      sync.Mutex
	actions map[string][]uint64 // action → bit set of statements whose Action covers it
	callers map[callerKey][]int32
}

// Cache bounds: a sync run plans thousands of callers on one document, and
// a planner asks for a few tens of actions. Past the bound a cache is
// emptied and refilled, which costs one scan of the document.
const (
	maxIndexedActions = 256
	maxIndexedCallers = 1024
)

type callerKey struct{ arn, account, uniqueID string }

func newStmtIndex() *stmtIndex { return &stmtIndex{} }

// appendedIndex indexes a document extended by appended statements: the
// index of the statements it had (or the one that index extends) stands,
// and the new ones are always visited.
func appendedIndex(old *stmtIndex, oldN int) *stmtIndex {
	if old == nil {
		return nil
	}
	if old.base != nil {
		return &stmtIndex{base: old.base, baseN: old.baseN}
	}
	return &stmtIndex{base: old, baseN: oldN}
}

// build fills the principal index of stmts.
func (x *stmtIndex) build(stmts []Statement) {
	x.byKey = map[string][]int32{}
	for i := range stmts {
		s := &stmts[i]
		keys, ok := principalKeys(s.Principal)
		if !ok {
			x.open = append(x.open, int32(i))
			continue
		}
		for _, k := range keys {
			if l := x.byKey[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
				x.byKey[k] = append(l, int32(i))
			}
		}
	}
}

// principalKeys lists the keys under which a statement's Principal can
// name a caller (see caller.keys): a caller none of whose keys is listed
// gets PrincipalNoMatch from matchPrincipal. It reports false when the
// statement must be checked for every caller.
func principalKeys(p *Principal) ([]string, bool) {
	if p == nil || p.Star {
		// No Principal: NotPrincipal or none, decided by the scan.
		return nil, false
	}
	var keys []string
	for _, v := range p.AWS {
		switch {
		case allStars(v):
			return nil, false
		case isAccountPrincipal(v):
			acct, _ := accountOfPrincipal(v)
			keys = append(keys, "a:"+acct)
		case isUniqueID(v):
			keys = append(keys, "u:"+v)
		default:
			keys = append(keys, "=:"+v)
			var parts [6]string
			if splitARN(v, &parts) < 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || len(parts[5]) < len("role/") || parts[5][:len("role/")] != "role/" {
				continue
			}
			name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
			folded, ascii := asciiLower(name)
			if !ascii {
				// roleNamesSession compares with Unicode folding; such a
				// name is checked for every caller.
				return nil, false
			}
			keys = append(keys, "r:"+parts[1]+":"+parts[4]+":"+folded)
		}
	}
	// Service, Federated and CanonicalUser values name no IAM caller.
	return keys, true
}

func isAccountPrincipal(v string) bool {
	_, ok := accountOfPrincipal(v)
	return ok
}

// asciiLower lower-cases s when it is ASCII; ok is false otherwise.
func asciiLower(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", false
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}

// keys lists the principal keys of a caller: matchAWS names it only
// through a value indexed under one of them. ok is false when the caller
// cannot be looked up (a session whose role name is not ASCII).
func (c *caller) keys() (keys [4]string, n int, ok bool) {
	keys[n], n = "=:"+c.arn, n+1
	if c.account != "" {
		keys[n], n = "a:"+c.account, n+1
	}
	if c.uniqueID != "" {
		keys[n], n = "u:"+c.uniqueID, n+1
	}
	if c.kind == callerSession {
		folded, ascii := asciiLower(c.roleName)
		if !ascii {
			return keys, n, false
		}
		keys[n], n = "r:"+c.partition+":"+c.account+":"+folded, n+1
	}
	return keys, n, true
}

// actionBits returns the set of statements (of stmts, which the index
// covers) whose Action or NotAction covers action.
func (x *stmtIndex) actionBits(action string, stmts []Statement) []uint64 {
	x.mu.Lock()
	set, ok := x.actions[action]
	x.mu.Unlock()
	if ok {
		return set
	}
	set = make([]uint64, (len(stmts)+63)/64)
	for i := range stmts {
		if stmts[i].MatchesAction(action) {
			set[i/64] |= 1 << (i % 64)
		}
	}
	x.mu.Lock()
	if x.actions == nil || len(x.actions) >= maxIndexedActions {
		x.actions = map[string][]uint64{}
	}
	x.actions[action] = set
	x.mu.Unlock()
	return set
}

// callerCandidates returns, in document order, the statements whose
// Principal may name the caller (and those checked for every caller); ok
// is false when the caller cannot be looked up.
func (x *stmtIndex) callerCandidates(c *caller, stmts []Statement) ([]int32, bool) {
	x.once.Do(func() { x.build(stmts) })
	k := callerKey{c.arn, c.account, c.uniqueID}
	x.mu.Lock()
	cands, ok := x.callers[k]
	x.mu.Unlock()
	if ok {
		return cands, true
	}
	keys, n, ok := c.keys()
	if !ok {
		return nil, false
	}
	cands = slices.Clone(x.open)
	for _, key := range keys[:n] {
		cands = append(cands, x.byKey[key]...)
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	x.mu.Lock()
	if x.callers == nil || len(x.callers) >= maxIndexedCallers {
		x.callers = map[callerKey][]int32{}
	}
	x.callers[k] = cands
	x.mu.Unlock()
	return cands, true
}

// eachBit calls visit for the set bits below n, in order.
func eachBit(set []uint64, n int, visit func(i int)) {
	for w, word := range set {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			if i >= n {
				return
			}
			visit(i)
			word &= word - 1
		}
	}
}

func hasBit(set []uint64, i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

// candidates calls visit, in document order, for the statements of d that
// may apply to a request for action by c: those whose Action covers it
// and, when byPrincipal, whose Principal may name c. Without an index it
// visits every statement.
func (d *Document) candidates(action string, c *caller, byPrincipal bool, visit func(i int)) {
	stmts := d.statements
	x := d.idx
	if x == nil {
		for i := range stmts {
			visit(i)
		}
		return
	}
	n := len(stmts)
	covered := n
	if x.base != nil {
		covered = x.baseN
		x = x.base
	}
	indexed := stmts[:covered]
	set := x.actionBits(action, indexed)
	cands, ok := []int32(nil), false
	if byPrincipal {
		cands, ok = x.callerCandidates(c, indexed)
	}
	if ok {
		for _, i := range cands {
			if hasBit(set, int(i)) {
				visit(int(i))
			}
		}
	} else {
		eachBit(set, covered, visit)
	}
	for i := covered; i < n; i++ {
		visit(i)
	}
}

// StatementsFor calls visit, in document order, for each statement of n
// that is not ignored, whose Action or NotAction covers action and, when
// byPrincipal (a resource policy), that has no Principal or whose
// Principal names the caller (MatchPrincipal is not PrincipalNoMatch): what
// a scan of every statement making those tests visits, without visiting
// the others of a large document.
func (n *Named) StatementsFor(action string, c Caller, byPrincipal bool, visit func(s *Statement)) {
	if n == nil || n.Doc == nil {
		return
	}
	cc := newCaller(c)
	stmts := n.Doc.statements
	n.Doc.candidates(action, &cc, byPrincipal, func(i int) {
		s := &stmts[i]
		if n.Ignore != nil && n.Ignore[i] || !s.MatchesAction(action) {
			return
		}
		if byPrincipal && s.Principal != nil && cc.matchPrincipal(s.Principal) == PrincipalNoMatch {
			return
		}
		visit(s)
	})
}
