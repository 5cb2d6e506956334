package state

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"weak"
)

// index maps names to positions in a State's slices, so that FindBucket,
// FindKey and FindPrincipal cost the same for ten thousand entries as for
// ten. Without it a sync planned every grant with linear scans: quadratic
// in the size of the organisation.
//
// It is built on first use and rebuilt when a slice it indexes has another
// length or was reallocated. A hit is checked against the entry itself,
// and a miss falls back to the scan, so an index that somehow went stale
// can slow a lookup down, never change its answer.
type index struct {
	nb, nk, np int
	b0         *Bucket
	k0         *Key
	p0         *Principal
	bucket     map[string]int
	key        map[string]int
	principal  map[string]int
	byName     map[string]int // account|kind|name -> principal
}

// scanMax is the length up to which a scan is cheaper than the index (a
// scan of a few entries takes nanoseconds; the index's lookup, through a
// weak pointer and a sync.Map, about half a microsecond).
const scanMax = 64

// stateIndex holds a State's index. It lives beside the State, in a table
// keyed by a weak pointer to it, not in a field: a State stays a plain value
// that go-cmp and == compare by its exported content, and an entry goes
// away with its State.
type stateIndex struct{ p atomic.Pointer[index] }

var indexes sync.Map // weak.Pointer[State] -> *stateIndex

func (s *State) lookup() *index {
	k := weak.Make(s)
	v, ok := indexes.Load(k)
	if !ok {
		var loaded bool
		v, loaded = indexes.LoadOrStore(k, &stateIndex{})
		if !loaded {
			runtime.AddCleanup(s, func(k weak.Pointer[State]) { indexes.Delete(k) }, k)
		}
	}
	si := v.(*stateIndex)
	ix := si.p.Load()
	if ix != nil && ix.nb == len(s.Buckets) && ix.nk == len(s.Keys) && ix.np == len(s.Principals) &&
		ix.b0 == first(s.Buckets) && ix.k0 == first(s.Keys) && ix.p0 == first(s.Principals) {
		return ix
	}
	ix = &index{nb: len(s.Buckets), nk: len(s.Keys), np: len(s.Principals),
		b0: first(s.Buckets), k0: first(s.Keys), p0: first(s.Principals),
		bucket: make(map[string]int, len(s.Buckets)), key: make(map[string]int, len(s.Keys)),
		principal: make(map[string]int, len(s.Principals)), byName: make(map[string]int, len(s.Principals))}
	// The first of duplicates wins, as the scans find it.
	for i := len(s.Buckets) - 1; i >= 0; i-- {
		ix.bucket[s.Buckets[i].Name] = i
	}
	for i := len(s.Keys) - 1; i >= 0; i-- {
		ix.key[s.Keys[i].ARN] = i
	}
	for i := len(s.Principals) - 1; i >= 0; i-- {
		arn := s.Principals[i].ARN
		ix.principal[arn] = i
		if k := nameKey(arn); k != "" {
			ix.byName[k] = i
		}
	}
	si.p.Store(ix)
	return ix
}

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// nameKey is a user or role ARN's identity without its path (IAM names
// are unique per account and kind), "" for anything else.
func nameKey(arn string) string {
	a, err := ParseARN(arn)
	if err != nil || a.Service != "iam" {
		return ""
	}
	parts := strings.Split(a.Resource, "/")
	if (parts[0] != "user" && parts[0] != "role") || len(parts) < 2 {
		return ""
	}
	return a.Partition + "|" + a.Account + "|" + parts[0] + "|" + parts[len(parts)-1]
}

// queryNameKey is nameKey for what FindPrincipal is asked: a user or role
// ARN with any path, or an assumed-role session ARN (its role).
func queryNameKey(arn string) string {
	a, err := ParseARN(arn)
	if err != nil {
		return ""
	}
	parts := strings.Split(a.Resource, "/")
	if a.Service == "sts" && parts[0] == "assumed-role" && len(parts) == 3 {
		return a.Partition + "|" + a.Account + "|role|" + parts[1]
	}
	return nameKey(arn)
}
