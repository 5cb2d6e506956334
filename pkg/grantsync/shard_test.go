package grantsync

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// TestShardsNeverShareADocument is a property over random grant sets: every
// document some grant may write belongs to exactly one shard, and every
// grant to exactly one shard, for any shard count.
func TestShardsNeverShareADocument(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		accounts := []string{"111111111111", "222222222222", "333333333333"}
		nb, nk, np := 1+r.IntN(12), 1+r.IntN(5), 1+r.IntN(15)
		keyOf := map[string]string{}
		for b := range nb {
			if r.IntN(4) > 0 { // some buckets have no customer key
				keyOf[fmt.Sprintf("bucket-%d", b)] = fmt.Sprintf("arn:aws:kms:us-east-1:%s:key/k%d", accounts[0], r.IntN(nk))
			}
		}
		seen := map[string]bool{}
		var grants []Grant
		for range 1 + r.IntN(40) {
			g := Grant{
				Principal: fmt.Sprintf("arn:aws:iam::%s:user/u%d", accounts[r.IntN(len(accounts))], r.IntN(np)),
				Bucket:    fmt.Sprintf("bucket-%d", r.IntN(nb)),
			}
			if r.IntN(3) == 0 {
				g.Prefix = fmt.Sprintf("p%d/", r.IntN(3))
			}
			if !seen[g.Key()] {
				seen[g.Key()] = true
				grants = append(grants, g)
			}
		}
		docs := func(g Grant) []string { return GrantDocs(g, keyOf[g.Bucket]) }
		n := 1 + r.IntN(6)
		sh := NewSharding(n, grants, docs)
		owner := map[string]int{}
		count := make([]int, n)
		for i, g := range grants {
			k := sh.Grant(i)
			if k < 0 || k >= n {
				t.Fatalf("seed %d: grant %s in shard %d of %d", seed, g, k, n)
			}
			count[k]++
			for _, d := range docs(g) {
				if o, ok := owner[d]; ok && o != k {
					t.Fatalf("seed %d: %s is written by shard %d and shard %d", seed, d, o, k)
				}
				owner[d] = k
			}
			ref := diff.DocRef{Kind: diff.DocBucketPolicy, ARN: "arn:aws:s3:::" + g.Bucket}
			if id := DocID(ref, "", g.Bucket); sh.Doc(id) != k {
				t.Fatalf("seed %d: Doc(%s) = %d, but its grant is in shard %d", seed, g.Bucket, sh.Doc(id), k)
			}
		}
		total := 0
		for _, c := range count {
			total += c
		}
		if total != len(grants) {
			t.Fatalf("seed %d: %d grants in shards, want %d", seed, total, len(grants))
		}
	}
}

func TestShardSpreads(t *testing.T) {
	// Grants sharing nothing spread over the shards (not all in one).
	var grants []Grant
	for i := range 100 {
		grants = append(grants, Grant{Principal: fmt.Sprintf("arn:aws:iam::111111111111:user/u%d", i), Bucket: fmt.Sprintf("bucket-%d", i)})
	}
	sh := NewSharding(4, grants, func(g Grant) []string { return GrantDocs(g, "") })
	count := make([]int, 4)
	for i := range grants {
		count[sh.Grant(i)]++
	}
	for k, c := range count {
		if c == 0 {
			t.Errorf("shard %d got no grant: %v", k, count)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, ok := range []string{"0/1", "0/4", "3/4"} {
		if _, err := ParseShard(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "4/4", "-1/4", "1/0", "a/b", "1"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
