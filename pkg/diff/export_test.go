package diff

import "github.com/bucketgrant/bucketgrant/pkg/policy"

// CachedDoc is the parse cache's entry for a text (tests only).
func CachedDoc(kind policy.Kind, text string) (*policy.Document, bool) {
	docCache.Lock()
	defer docCache.Unlock()
	c, ok := docCache.cur[docKey{kind, text}]
	if !ok {
		c, ok = docCache.old[docKey{kind, text}]
	}
	return c.doc, ok && c.err == nil
}

// Parses is how many texts the parse cache has parsed (tests only).
func Parses() int64 { return docCache.parses.Load() }
