package grantsync

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// randomOrg builds an organisation over two or three accounts: keys that
// delegate to their account, buckets sharing them (some cross-account from
// their principals), users and roles (some with paths, some users with
// inline policies so full that bucketgrant falls back to managed
// policies), and a history of grants already applied through sync, so
// that every kind of document holds bucketgrant's statements.
func randomOrg(r *rand.Rand) (*state.State, []Grant) {
	accounts := []string{"111111111111", "222222222222", "333333333333"}[:2+r.IntN(2)]
	st := &state.State{}
	for i := range 1 + r.IntN(3) {
		acct := accounts[r.IntN(len(accounts))]
		st.Keys = append(st.Keys, state.Key{
			ARN:        fmt.Sprintf("arn:aws:kms:us-east-1:%s:key/00000000-0000-4000-8000-%012d", acct, i),
			KeyManager: "CUSTOMER", KeyState: "Enabled", Region: "us-east-1", Aliases: []string{},
			Policy: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`),
		})
	}
	for i := range 2 + r.IntN(5) {
		k := st.Keys[r.IntN(len(st.Keys))]
		b := state.Bucket{Name: fmt.Sprintf("bucket-%d", i), Account: state.AccountOf(k.ARN), Region: "us-east-1", ObjectOwnership: "BucketOwnerEnforced",
			Encryption: &state.Encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: k.ARN}}
		if r.IntN(5) == 0 {
			b.Encryption = nil // no KMS: S3 statements only
		}
		st.Buckets = append(st.Buckets, b)
	}
	filler := `{"Version":"2012-10-17","Statement":[{"Sid":"Filler","Effect":"Allow","Action":"sqs:GetQueueUrl","Resource":"arn:aws:sqs:us-east-1:111111111111:` + strings.Repeat("q", 1700) + `"}]}`
	for i := range 2 + r.IntN(5) {
		acct := accounts[r.IntN(len(accounts))]
		kind, path := "user", ""
		if r.IntN(2) == 0 {
			kind = "role"
		}
		if r.IntN(3) == 0 {
			path = "team/"
		}
		p := state.Principal{ARN: fmt.Sprintf("arn:aws:iam::%s:%s/%sp%d", acct, kind, path, i), Kind: kind}
		if kind == "user" && r.IntN(3) == 0 {
			p.InlinePolicies = []state.NamedDoc{{Name: "filler", Doc: state.NewDoc(filler)}}
		}
		st.Principals = append(st.Principals, p)
	}
	var history []Grant
	for range 2 + r.IntN(8) {
		history = append(history, randomGrant(r, st))
	}
	return st, dedupe(history)
}

func randomGrant(r *rand.Rand, st *state.State) Grant {
	p := st.Principals[r.IntN(len(st.Principals))]
	arn := p.ARN
	if r.IntN(3) == 0 {
		// The file may name a user or role without its path.
		arn = arn[:strings.Index(arn, ":"+p.Kind+"/")+len(p.Kind)+2] + arn[strings.LastIndexByte(arn, '/')+1:]
	}
	g := Grant{Principal: arn, Bucket: st.Buckets[r.IntN(len(st.Buckets))].Name}
	if r.IntN(3) == 0 {
		g.Prefix = []string{"a/", "b/"}[r.IntN(2)]
	}
	switch r.IntN(3) {
	case 0:
		g.Access = []diff.Level{diff.Read}
	case 1:
		g.Access = []diff.Level{diff.Read, diff.Write, diff.List}
	}
	return g
}

func dedupe(gs []Grant) []Grant {
	seen := map[string]bool{}
	var out []Grant
	for _, g := range gs {
		k := principalKey(g.Principal) + "|" + g.Bucket + "|" + g.Prefix
		if !seen[k] {
			seen[k] = true
			out = append(out, g)
		}
	}
	return out
}

// TestShardsNeverWriteOneDocument is the property of issue 14's shards, on
// PlanAll's real plans: on random organisations with bucketgrant's
// statements in every kind of document (inline and managed policies among
// them), a random new grants file (grants kept, narrowed, dropped, added)
// split into 1 to 5 shards never has two shards write one document, with
// or without --prune; every grant is in exactly one shard, and no plan had
// to be refused for writing another shard's document.
func TestShardsNeverWriteOneDocument(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 20
	}
	managed, prunedDocs := 0, 0
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 14))
		st, history := randomOrg(r)
		past := &File{Name: "past.yaml", Grants: history, Buckets: bucketsOf(st)}
		run, err := PlanAll(st, past, history, PlanOptions{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		st = written(t, st, run)
		drift(r, st)
		var grants []Grant
		for _, g := range history {
			switch r.IntN(4) {
			case 0: // dropped
			case 1:
				g.Access = []diff.Level{diff.Read} // narrowed
				grants = append(grants, g)
			default:
				grants = append(grants, g)
			}
		}
		for range r.IntN(4) {
			grants = append(grants, randomGrant(r, st))
		}
		grants = dedupe(grants)
		f := &File{Name: "now.yaml", Grants: grants, Buckets: bucketsOf(st)}
		managed += len(allManaged(st))
		for _, prune := range []bool{false, true} {
			n := 1 + r.IntN(5)
			sh := NewSharding(n, grants, (&Config{File: f}).docsIn(st))
			writer := map[string]int{}
			planned := 0
			for k := range n {
				var mine []Grant
				for i, g := range grants {
					if sh.Grant(i) == k {
						mine = append(mine, g)
					}
				}
				planned += len(mine)
				run, err := PlanAll(st, f, mine, PlanOptions{Prune: prune, AllGrants: grants, OwnsDoc: func(id string) bool { return sh.Doc(id) == k }})
				if err != nil {
					t.Fatalf("seed %d shard %d/%d: %v", seed, k, n, err)
				}
				for _, res := range run.Results {
					for _, reason := range res.Reasons {
						if strings.Contains(reason, "another shard") {
							t.Fatalf("seed %d shard %d/%d prune=%v: %s: %s", seed, k, n, prune, res.Grant, reason)
						}
					}
				}
				for _, ch := range run.Plan.Changes {
					id := ch.Document.ID()
					if other, ok := writer[id]; ok && other != k {
						t.Fatalf("seed %d, %d shards, prune=%v: %s is written by shard %d and shard %d", seed, n, prune, id, other, k)
					}
					writer[id] = k
				}
				prunedDocs += len(run.Pruned)
			}
			if planned != len(grants) {
				t.Fatalf("seed %d: %d grants planned over the shards, want %d", seed, planned, len(grants))
			}
		}
	}
	// The generator must reach what the property is about.
	if managed == 0 || prunedDocs == 0 {
		t.Fatalf("the random organisations never had a managed policy (%d) or a pruned document (%d)", managed, prunedDocs)
	}
}

// drift removes, here and there, one of bucketgrant's statements from a
// principal's own policy, as someone editing by hand would: the grant then
// writes that policy again in the same run that prunes others from it.
func drift(r *rand.Rand, st *state.State) {
	for i := range st.Principals {
		p := &st.Principals[i]
		docs := []**state.Doc{}
		for j := range p.InlinePolicies {
			if strings.HasPrefix(p.InlinePolicies[j].Name, diff.InlinePolicyName("")) {
				docs = append(docs, &p.InlinePolicies[j].Doc)
			}
		}
		for j := range p.AttachedPolicies {
			docs = append(docs, &p.AttachedPolicies[j].Document)
		}
		for _, d := range docs {
			if r.IntN(2) == 0 {
				continue
			}
			doc := policy.MustParse((*d).String(), policy.KindIdentity)
			if n := len(doc.Statements()); n > 1 {
				if err := doc.RemoveStatement(r.IntN(n)); err == nil {
					*d = state.NewDoc(doc.String())
				}
			}
		}
	}
}

func bucketsOf(st *state.State) map[string]BucketInfo {
	out := map[string]BucketInfo{}
	for _, b := range st.Buckets {
		out[b.Name] = BucketInfo{Account: b.Account}
	}
	return out
}

func allManaged(st *state.State) []string {
	var out []string
	for _, p := range st.Principals {
		for _, mp := range p.AttachedPolicies {
			if isOwnManaged(mp.ARN) && !slices.Contains(out, mp.ARN) {
				out = append(out, mp.ARN)
			}
		}
	}
	return out
}
