package grantsync

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Shard is one part of a run split over N machines: --shard K/N with K in
// 0..N-1 (as Kubernetes' JOB_COMPLETION_INDEX counts).
type Shard struct {
	K, N int
}

// ParseShard parses "K/N".
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("--shard %q: expected K/N with N ≥ 1 and K in 0..N-1 (the first of 4 shards is 0/4)", s)
	}
	return Shard{K: ki, N: ni}, nil
}

// Sharding assigns grants and documents to shards so that no two shards
// ever write the same document: grants that may write a common document
// are joined (union-find) and a whole group goes to the shard of its
// smallest document ID.
type Sharding struct {
	n     int
	owner map[string]int // document key -> shard
	of    []int          // grant index -> shard
}

// DocID is a document's one identity for sharding, whoever writes it: a
// grant through the planner, or prune. Bucket and key policies are named by
// their bucket and key. A principal's identity policies for a bucket (the
// inline bucketgrant-<bucket>, and the managed policy it falls back to,
// whose ARN is a digest) are one document for sharding, named by the
// principal (without its path: IAM names are unique per account and kind)
// and the bucket: principal is whose they are, bucket the bucket they are
// for. Two names for one document would let two shards write it.
func DocID(ref diff.DocRef, principal, bucket string) string {
	switch ref.Kind {
	case diff.DocBucketPolicy:
		return "bucket:" + bucketOfRef(ref)
	case diff.DocKeyPolicy:
		return "key:" + ref.ARN
	case diff.DocInlinePolicy, diff.DocManagedPolicy:
		if principal == "" {
			principal = ref.ARN // an inline policy's ref names its principal
		}
		return "identity:" + principalKey(principal) + ":" + bucket
	}
	return ref.ID()
}

// GrantDocs lists the DocIDs of every document a grant may write: its
// bucket's policy, the policy of the bucket's key (keyARN, "" when the
// bucket has no customer key or it is unknown), and the principal's
// identity policies for the bucket. (Config.docsIn adds, for a grant with
// drop_old_keys, the keys whose statements it drops.)
func GrantDocs(g Grant, keyARN string) []string {
	docs := []string{
		"bucket:" + g.Bucket,
		"identity:" + principalKey(g.Principal) + ":" + g.Bucket,
	}
	if keyARN != "" {
		docs = append(docs, "key:"+keyARN)
	}
	return docs
}

// principalKey names a user or role independently of its path: IAM names
// are unique per account and kind, and the file may omit the path.
func principalKey(arn string) string {
	return state.AccountOf(arn) + ":" + state.KindOf(arn) + "/" + arn[strings.LastIndexByte(arn, '/')+1:]
}

// NewSharding groups grants by the documents docs lists for each.
func NewSharding(n int, grants []Grant, docs func(Grant) []string) *Sharding {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == "" || parent[x] == x {
			parent[x] = x
			return x
		}
		r := find(parent[x])
		parent[x] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		// The smaller ID is the root, so a group's root is its minimum.
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra
	}
	gd := make([][]string, len(grants))
	for i, g := range grants {
		gd[i] = docs(g)
		for _, d := range gd[i][1:] {
			union(gd[i][0], d)
		}
		find(gd[i][0])
	}
	s := &Sharding{n: n, owner: map[string]int{}, of: make([]int, len(grants))}
	for d := range parent {
		s.owner[d] = shardOf(find(d), n)
	}
	for i := range grants {
		s.of[i] = s.owner[gd[i][0]]
	}
	return s
}

func shardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// Grant returns the shard of grant i.
func (s *Sharding) Grant(i int) int { return s.of[i] }

// Doc returns the shard that owns a document (by DocID): its group's, or,
// for a document no grant of the file may write (only prune touches it),
// one chosen by its own identity.
func (s *Sharding) Doc(id string) int {
	if sh, ok := s.owner[id]; ok {
		return sh
	}
	return shardOf(id, s.n)
}
