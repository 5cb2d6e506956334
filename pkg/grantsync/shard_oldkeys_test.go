package grantsync

import (
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// A grant with drop_old_keys writes the policy of the key its bucket used
// before. When that key is now another bucket's key, the two grants write
// one document and must be in one shard: otherwise the shard of the first
// refused its plan ("belongs to another shard") or, worse, two shards
// wrote the key policy at once.
func TestShardsKeepOldKeysWithTheGrant(t *testing.T) {
	st := crossAccount(t)
	first := file(Grant{Principal: jane, Bucket: bucket})
	run, err := PlanAll(st, first, first.Grants, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st = written(t, st, run)
	// Re-key the bucket; its old key now encrypts another bucket.
	old := st.Keys[0]
	k := old
	k.ARN = old.ARN[:strings.LastIndexByte(old.ARN, '/')+1] + "222bb3cc-444d-4e55-6666-b222cc3d44ee"
	k.Aliases, k.Source = []string{}, nil
	st.Keys = append(st.Keys, k)
	b := st.Buckets[0]
	other := b
	other.Name, other.Policy, other.Source = "other-bucket", nil, nil
	enc := *b.Encryption
	enc.KMSMasterKeyID, enc.Source = k.ARN, nil
	st.Buckets[0].Encryption = &enc
	st.Buckets = append(st.Buckets, other)
	if got := st.KeyForBucket(st.FindBucket("other-bucket")); got == nil || got.ARN != old.ARN {
		t.Fatalf("other-bucket's key: %v, want the old key", got)
	}

	f := file(Grant{Principal: jane, Bucket: bucket, DropOldKeys: true}, Grant{Principal: bob, Bucket: "other-bucket"})
	f.Buckets["other-bucket"] = f.Buckets[bucket]
	oldKeyDoc := "key:" + old.ARN
	docs := (&Config{File: f}).docsIn(st)
	if !strings.Contains(strings.Join(docs(f.Grants[0]), " "), oldKeyDoc) {
		t.Fatalf("the documents of %s leave out the old key it drops: %v", f.Grants[0], docs(f.Grants[0]))
	}
	for n := 1; n <= 6; n++ {
		sh := NewSharding(n, f.Grants, docs)
		if sh.Grant(0) != sh.Grant(1) {
			t.Errorf("%d shards: the grants writing the old key's policy are in shards %d and %d", n, sh.Grant(0), sh.Grant(1))
		}
		dropped := false
		for s := range n {
			var mine []Grant
			for i, g := range f.Grants {
				if sh.Grant(i) == s {
					mine = append(mine, g)
				}
			}
			run, err := PlanAll(st, f, mine, PlanOptions{AllGrants: f.Grants, OwnsDoc: func(id string) bool { return sh.Doc(id) == s }})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.Results {
				if r.Status != StatusDrift {
					t.Errorf("%d shards, shard %d: %s: %s %v", n, s, r.Grant, r.Status, r.Reasons)
				}
			}
			for _, ch := range run.Plan.Changes {
				if ch.Document.Kind == diff.DocKeyPolicy && ch.Document.ARN == old.ARN &&
					strings.Contains(ch.Before, "Kms") && slicesHasRemove(ch.Statements) {
					dropped = true
				}
			}
		}
		if !dropped {
			t.Errorf("%d shards: no shard dropped Jane's statement from the old key", n)
		}
	}
}

func slicesHasRemove(stmts []diff.StatementChange) bool {
	for _, s := range stmts {
		if s.Op == diff.OpRemove {
			return true
		}
	}
	return false
}
