package diff

import (
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Parsed documents are shared between plans. A sync run plans hundreds of
// grants on the same key and bucket policies, and parsing a 32 KB key
// policy costs more than planning one grant on it; a plan never changes a
// document it read (merges and revokes edit clones), so one parse per text
// serves every plan.
//
// The cache is bounded by the bytes of text it holds, in two generations:
// a text found in the older one moves to the newer, and when the newer is
// full the older is dropped. So what plans keep asking for stays, however
// long the run, and the memory is that of two generations: a bound by
// count, emptied when full, held thousands of parsed documents (a third of
// the memory of a 10,000-grant sync) and dropped the working set with them
// every time it filled up.
var docCache = &parseCache{cur: map[docKey]parsedDoc{}, old: map[docKey]parsedDoc{}}

type parseCache struct {
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
	if c.bytes+len(k.text) > maxCachedBytes && len(c.cur) > 0 {
		c.old, c.cur, c.bytes = c.cur, map[docKey]parsedDoc{}, 0
	}
	c.cur[k] = d
	c.bytes += len(k.text)
}

// maxCachedBytes bounds the text of one generation.
const maxCachedBytes = 1 << 20

type docKey struct {
	kind policy.Kind
	text string
}

type parsedDoc struct {
	doc         *policy.Document
	fingerprint string
	err         error
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
	d, err := policy.Parse(text, kind)
	c = parsedDoc{doc: d, err: err}
	if err == nil {
		c.fingerprint = d.Fingerprint()
	}
	docCache.Lock()
	docCache.put(docKey{kind, string(text)}, c)
	docCache.Unlock()
	return c
}
