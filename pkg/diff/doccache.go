package diff

import (
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Parsed documents are shared between plans. A sync run plans hundreds of
// grants on the same key and bucket policies, and parsing a 32 KB key
// policy costs more than planning one grant on it; a plan never changes a
// document it read (merges and revokes edit clones), so one parse per text
// serves every plan. The cache is bounded: when full it starts over.
var docCache = struct {
	sync.Mutex
	m map[docKey]parsedDoc
}{m: map[docKey]parsedDoc{}}

const maxCachedDocs = 4096

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
	c, ok := docCache.m[docKey{kind, string(text)}]
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
	if len(docCache.m) >= maxCachedDocs {
		clear(docCache.m)
	}
	docCache.m[docKey{kind, string(text)}] = c
	docCache.Unlock()
	return c
}
