package diff

import (
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Parsed documents are shared between plans. A sync run plans hundreds of
// grants on the same key and bucket policies, and parsing a 32 KB key
// policy costs more than planning one grant on it; a plan never changes a
// document it read (merges and revokes edit clones), so one parse per text
// serves every plan.
//
// One question is asked of every key policy of the state for every grant
// planned: does it hold the grant's KMS statement (an old key of a
// re-keyed bucket)? Its answer hangs on the Sids of bucketgrant's form in
// the document: each document keeps them for its text (sidHashes), and an
// index of the state's keys by them (keysHolding) finds the keys that hold
// a grant's Sid without a look at the others.
//
// The cache is bounded by the bytes of text it holds, in two generations:
// a text found in the older one moves to the newer, and when the newer is
// full the older is dropped. So what plans keep asking for stays, however
// long the run, and the memory is that of two generations.
var docCache = &parseCache{cur: map[docKey]parsedDoc{}, old: map[docKey]parsedDoc{}}

type parseCache struct {
	parses atomic.Int64 // texts parsed (tests ask)
	sync.Mutex
	cur, old map[docKey]parsedDoc
	bytes    int // of the texts in cur
}

// put adds to the newer generation, starting a new one when it is full;
// the lock is held.
func (c *parseCache) put(k docKey, d parsedDoc) {
	if _, ok := c.cur[k]; ok {
		return
	}
	if d.cost == 0 {
		d.cost = len(k.text)
	}
	if c.bytes+d.cost > maxCachedBytes && len(c.cur) > 0 {
		c.old, c.cur, c.bytes = c.cur, map[docKey]parsedDoc{}, 0
	}
	c.cur[k] = d
	c.bytes += d.cost
}

// drop removes an entry; the lock is held.
func (c *parseCache) drop(k docKey) {
	if d, ok := c.cur[k]; ok {
		delete(c.cur, k)
		c.bytes -= d.cost
	}
	delete(c.old, k)
}

// maxCachedBytes bounds the text of one generation (parsedDoc.cost).
const maxCachedBytes = 1 << 20

type docKey struct {
	kind policy.Kind
	text string
}

type parsedDoc struct {
	doc *policy.Document
	// fingerprint is doc's Fingerprint, made on the first call: a sync
	// run's plans never ask for it (the run's combined plan takes its
	// own), and it was 40% of the cost of a parse.
	fingerprint func() string
	err         error
	// cost is what the entry counts against maxCachedBytes: the length of
	// its text, twice that for a document a plan made (remember).
	cost int
	// sids holds the Sids of the document's statements that have
	// bucketgrant's form, and for a variant (base+"v2" … base+"v9") its
	// base too: a document whose sids lack a grant's base Sid holds no
	// statement of that grant (holdsOwned), which is known without
	// looking at its statements.
	sids map[string]struct{}
}

// sidsMemo is what a state.Doc remembers: the hashes (sidHash) of the
// bucketgrant Sids of its text parsed as one kind (ok false: it does not
// parse). Hashes, because keysHolding indexes keys by them: a collision
// only costs a look at the statements.
type sidsMemo struct {
	kind   policy.Kind
	ok     bool
	hashes []uint64
}

var sidSeed = maphash.MakeSeed()

func sidHash(sid string) uint64 { return maphash.String(sidSeed, sid) }

// sidHashes returns the sidHash values of doc's bucketgrant Sids as a
// document of kind, and whether it parses. The answer is kept on the
// document (state.Doc.Memo), so a document is parsed for it once per text.
// Only the hashes are kept, not the parse: a parse kept on every document
// of a 10,000-grant run's state came to over 100 MB.
func sidHashes(doc *state.Doc, kind policy.Kind) ([]uint64, bool) {
	if m, ok := doc.Memo().(*sidsMemo); ok && m.kind == kind {
		return m.hashes, m.ok
	}
	c := parseCached(doc.Text, kind)
	m := &sidsMemo{kind: kind, ok: c.err == nil}
	for sid := range c.sids {
		m.hashes = append(m.hashes, sidHash(sid))
	}
	doc.SetMemo(m)
	return m.hashes, m.ok
}

// keySids indexes the key policies of one state by the hashes of their
// bucketgrant Sids. Every grant planned asks which keys other than its
// bucket's hold its KMS statement (oldKeyARNs); parsing every key again
// for each grant made planning quadratic in the size of the organisation
// (60% of a 10,000-grant sync's time), and even a look at every key's
// remembered Sids was a quarter of it. The index answers from the keys
// that hold the grant's Sid; it is brought up to date with each question
// by comparing each key's policy with the one it indexed (pointers, in
// the state's own slice), since a sync's working state takes every
// grant's changes as new documents.
type keySids struct {
	mu     sync.Mutex
	first  *state.Key
	docs   []*state.Doc // per key: the policy indexed
	hashes [][]uint64   // per key: that policy's sidHashes
	by     map[uint64][]int
}

// keySidIndexes holds a keySids per state, beside it (as pkg/state's
// index does): an entry goes away with its state.
var keySidIndexes sync.Map // weak.Pointer[state.State] -> *keySids

// keysHolding returns the indexes, in st.Keys order, of the keys whose
// policy parses and holds a bucketgrant Sid among bases (sidHash values).
// A hash collision may add a key that holds none: the caller looks at
// the statements anyway.
func keysHolding(st *state.State, bases []uint64) []int {
	wk := weak.Make(st)
	v, ok := keySidIndexes.Load(wk)
	if !ok {
		var loaded bool
		v, loaded = keySidIndexes.LoadOrStore(wk, &keySids{})
		if !loaded {
			runtime.AddCleanup(st, func(k weak.Pointer[state.State]) { keySidIndexes.Delete(k) }, wk)
		}
	}
	ix := v.(*keySids)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var first *state.Key
	if len(st.Keys) > 0 {
		first = &st.Keys[0]
	}
	if ix.first != first || len(ix.docs) != len(st.Keys) {
		ix.first, ix.docs, ix.hashes, ix.by = first, make([]*state.Doc, len(st.Keys)), make([][]uint64, len(st.Keys)), map[uint64][]int{}
	}
	for i := range st.Keys {
		doc := st.Keys[i].Policy
		if doc == ix.docs[i] && (doc != nil || ix.hashes[i] != nil) {
			continue
		}
		var hs []uint64
		if doc != nil {
			if h, ok := sidHashes(doc, policy.KindKeyPolicy); ok {
				hs = h
			}
		}
		// Only the hashes new to the key are added; one the key no longer
		// holds stays listed and is checked against ix.hashes below.
		for _, h := range hs {
			if !slices.Contains(ix.hashes[i], h) {
				ix.by[h] = append(ix.by[h], i)
			}
		}
		if hs == nil {
			hs = []uint64{}
		}
		ix.docs[i], ix.hashes[i] = doc, hs
	}
	var out []int
	for _, h := range bases {
		for _, i := range ix.by[h] {
			if slices.Contains(ix.hashes[i], h) && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

// parseCached parses text as a document of kind, once per text.
func parseCached(text []byte, kind policy.Kind) parsedDoc {
	docCache.Lock()
	c, ok := docCache.cur[docKey{kind, string(text)}]
	if !ok {
		if c, ok = docCache.old[docKey{kind, string(text)}]; ok {
			docCache.put(docKey{kind, string(text)}, c)
		}
	}
	docCache.Unlock()
	if ok {
		return c
	}
	docCache.parses.Add(1)
	d, err := policy.Parse(text, kind)
	c = parsedDoc{err: err}
	if err == nil {
		c = parsedOK(d)
	}
	docCache.Lock()
	docCache.put(docKey{kind, string(text)}, c)
	docCache.Unlock()
	return c
}

func parsedOK(d *policy.Document) parsedDoc {
	return parsedDoc{doc: d, fingerprint: sync.OnceValue(d.Fingerprint), sids: bucketgrantSids(d)}
}

// remember puts a document a plan made into the cache under its text, as
// if it had been parsed: the next plan on a state holding the plan's
// changes (a sync plans one grant after another on one working state)
// finds the document there instead of parsing it, and so does the index of
// key policies by Sid (keysHolding), which looks at every key policy a
// plan changed before the next plan starts. A document read back from
// the text is the same: AppendStatements keeps text and typed view
// together, and an edit of a shared document copies what it changes. d
// must not be edited afterwards (pass a Clone).
//
// Such a document counts twice its text against the cache's bound: it
// holds, besides its own, parts of the document it was made from (the
// tree it extended, that document's statement index), and at the end of a
// 10,000-grant sync a cache of them held 51 MB where one of parses held
// 35 MB.
func remember(kind policy.Kind, text string, d *policy.Document) {
	docCache.Lock()
	defer docCache.Unlock()
	k := docKey{kind, text}
	if _, ok := docCache.cur[k]; !ok {
		c := parsedOK(d)
		c.cost = 2 * len(text)
		docCache.put(k, c)
	}
}

// Replaced tells the parse cache that a state the plan was made on now
// holds its changes, as a sync's working state does once each grant's plan
// is merged into it: no later plan on that state asks for the texts the
// changes replaced, and their entries go, to leave room for what those
// plans do ask for (in a sync, about half of what the cache held were such
// texts). A plan made again on the state as it was only parses them again.
func Replaced(p *Plan) {
	docCache.Lock()
	defer docCache.Unlock()
	for _, ch := range p.Changes {
		if ch.Before == "" {
			continue
		}
		docCache.drop(docKey{ch.Document.PolicyKind(), ch.Before})
	}
}

// bucketgrantSids is parsedDoc.sids of d (nil when it has none).
func bucketgrantSids(d *policy.Document) map[string]struct{} {
	var out map[string]struct{}
	for _, s := range d.Statements() {
		if !strings.HasPrefix(s.Sid, SidPrefix) {
			continue
		}
		if out == nil {
			out = map[string]struct{}{}
		}
		out[s.Sid] = struct{}{}
		if n := len(s.Sid); n > 2 && s.Sid[n-2] == 'v' && s.Sid[n-1] >= '2' && s.Sid[n-1] <= '0'+maxSidVariants {
			out[s.Sid[:n-2]] = struct{}{}
		}
	}
	return out
}
