package lifeseq

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// The accounts and region of every world.
const (
	AccountA = "111111111111"
	AccountB = "222222222222"
	Region   = "us-east-1"
)

// World is the fixed part of a sequence: who and what exists at the start.
type World struct {
	Principals []PrincipalSpec `json:"principals"`
	Buckets    []BucketSpec    `json:"buckets"`
	Keys       []KeySpec       `json:"keys"`
	// Claimed is a grant whose objects Sid someone else's statement in the
	// bucket policy carries, allowing more than the grant (another
	// principal too): bucketgrant must neither extend nor remove it.
	Claimed *GrantSpec `json:"claimed,omitempty"`
}

// PrincipalSpec is a user or role.
type PrincipalSpec struct {
	ARN string `json:"arn"`
	// Padding is the length of a pre-existing inline policy (not
	// bucketgrant's) that fills most of IAM's inline aggregate, so
	// bucketgrant's inline policy no longer fits and a managed policy is
	// used; 0: none.
	Padding int `json:"padding,omitempty"`
}

// BucketSpec is a bucket, its key and the foreign statements of its policy.
type BucketSpec struct {
	Name    string `json:"name"`
	Account string `json:"account"`
	Key     string `json:"key"`
	// DenyHTTP adds a deny of requests without TLS; Reader an Allow of
	// s3:GetObject for a role of the bucket's account.
	DenyHTTP bool `json:"deny_http,omitempty"`
	Reader   bool `json:"reader,omitempty"`
	// Enforced sets Object Ownership to BucketOwnerEnforced (no ACLs).
	Enforced   bool `json:"enforced,omitempty"`
	BucketKeys bool `json:"bucket_keys,omitempty"`
}

// KeySpec is a customer managed key.
type KeySpec struct {
	ARN string `json:"arn"`
	// Delegates: the key policy lets the account's IAM policies grant the
	// key (the AWS default statement for the account root).
	Delegates bool `json:"delegates,omitempty"`
}

// GrantSpec is one grant as an operator gives it.
type GrantSpec struct {
	Principal string       `json:"principal"`
	Bucket    string       `json:"bucket"`
	Prefix    string       `json:"prefix,omitempty"`
	Access    []diff.Level `json:"access,omitempty"` // nil: the planner's default
	KMSVia    string       `json:"kms_via,omitempty"`
	// DropOldKeys: --drop-old-keys (drop_old_keys in a grants file).
	DropOldKeys bool `json:"drop_old_keys,omitempty"`
}

// ID is the grant's identity: principal, bucket, prefix.
func (g GrantSpec) ID() diff.GrantID {
	return diff.GrantID{Principal: g.Principal, Bucket: g.Bucket, Prefix: g.Prefix}
}

func (g GrantSpec) String() string {
	s := g.Principal + " on " + g.Bucket
	if g.Prefix != "" {
		s += "/" + g.Prefix
	}
	if g.Access != nil {
		s += fmt.Sprintf(" %v", g.Access)
	}
	if g.KMSVia != "" && g.KMSVia != diff.ViaAuto {
		s += " via " + g.KMSVia
	}
	if g.DropOldKeys {
		s += " --drop-old-keys"
	}
	return s
}

// Operations of a step.
const (
	OpApply    = "apply"
	OpRevoke   = "revoke"
	OpRollback = "rollback"
	OpSync     = "sync"
	OpRekey    = "rekey"
)

// Step is one operation.
type Step struct {
	Op string `json:"op"`
	// Grant: apply's grant, revoke's principal, bucket and prefix.
	Grant *GrantSpec `json:"grant,omitempty"`
	// Target: the earlier step whose backup a rollback restores.
	Target int `json:"target,omitempty"`
	// File and Prune: a sync's grants file and --prune.
	File  []GrantSpec `json:"file,omitempty"`
	Prune bool        `json:"prune,omitempty"`
	// Bucket and Key: a re-keying sets the bucket's default key.
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
}

func (s Step) String() string {
	switch s.Op {
	case OpApply, OpRevoke:
		return s.Op + " " + s.Grant.String()
	case OpRollback:
		return fmt.Sprintf("rollback the backup of step %d", s.Target)
	case OpSync:
		parts := make([]string, len(s.File))
		for i, g := range s.File {
			parts[i] = g.String()
		}
		p := ""
		if s.Prune {
			p = " --prune"
		}
		return "sync" + p + " [" + strings.Join(parts, "; ") + "]"
	case OpRekey:
		return "re-key " + s.Bucket + " to " + s.Key
	}
	return s.Op
}

// Sequence is a world and the steps run on it.
type Sequence struct {
	Seed  int64  `json:"seed"`
	Index int    `json:"index"`
	World World  `json:"world"`
	Steps []Step `json:"steps"`
}

// String prints the sequence for people, one step a line.
func (s Sequence) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sequence %d of seed %d\n", s.Index, s.Seed)
	for _, p := range s.World.Principals {
		fmt.Fprintf(&b, "  principal %s", p.ARN)
		if p.Padding > 0 {
			fmt.Fprintf(&b, " (a %d-character inline policy of its own)", p.Padding)
		}
		b.WriteString("\n")
	}
	for _, k := range s.World.Keys {
		fmt.Fprintf(&b, "  key %s (delegates to IAM: %v)\n", k.ARN, k.Delegates)
	}
	for _, bk := range s.World.Buckets {
		fmt.Fprintf(&b, "  bucket %s in %s, key %s, deny-http %v, reader %v, enforced %v\n", bk.Name, bk.Account, bk.Key, bk.DenyHTTP, bk.Reader, bk.Enforced)
	}
	if c := s.World.Claimed; c != nil {
		fmt.Fprintf(&b, "  someone else's statement carries the objects Sid of %s\n", c)
	}
	for i, st := range s.Steps {
		fmt.Fprintf(&b, "  step %d: %s\n", i, st)
	}
	return b.String()
}

// JSON is the sequence as one line, to replay it (-lifeseq.replay).
func (s Sequence) JSON() string {
	b, _ := json.Marshal(s) // plain data
	return string(b)
}

// Generate returns sequence i of seed: the same on every run and machine.
func Generate(seed int64, i int) Sequence {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	w := genWorld(r)
	seq := Sequence{Seed: seed, Index: i, World: w}
	pool := genPool(r, w)
	if r.IntN(6) == 0 {
		g := pool[r.IntN(len(pool))]
		seq.World.Claimed = &GrantSpec{Principal: g.Principal, Bucket: g.Bucket, Prefix: g.Prefix}
		w = seq.World
	}
	n := 3 + r.IntN(3)
	if r.IntN(4) == 0 {
		// A grant's life across a re-keying: granted, its bucket moves to
		// another key, granted again (keeping the old key, or dropping it).
		g := pool[r.IntN(len(pool))]
		g.Access = []diff.Level{diff.Read, diff.Write}
		seq.Steps = append(seq.Steps, Step{Op: OpApply, Grant: &g})
		seq.Steps = append(seq.Steps, genRekey(r, w, pool, seq.Steps, g.Bucket))
		again := g
		again.DropOldKeys = r.IntN(3) == 0
		seq.Steps = append(seq.Steps, Step{Op: OpApply, Grant: &again})
	}
	for len(seq.Steps) < n {
		st := genStep(r, w, pool, seq.Steps)
		seq.Steps = append(seq.Steps, st)
		if st.Op != OpRekey || len(seq.Steps) >= n || r.IntN(2) == 0 {
			continue
		}
		// Half the time a re-keying is followed by planning a grant on
		// that bucket again, which keeps the old key granted (or drops it).
		var on []GrantSpec
		for _, g := range pool {
			if g.Bucket == st.Bucket {
				on = append(on, g)
			}
		}
		if len(on) > 0 {
			g := on[r.IntN(len(on))]
			g.DropOldKeys = r.IntN(3) == 0
			seq.Steps = append(seq.Steps, Step{Op: OpApply, Grant: &g})
		}
	}
	return seq
}

func genWorld(r *rand.Rand) World {
	var w World
	two := r.IntN(2) == 0
	acct := func() string {
		if two && r.IntN(2) == 0 {
			return AccountB
		}
		return AccountA
	}
	// Keys: two per account that holds buckets, so a bucket can be
	// re-keyed within its account.
	bucketAccounts := []string{AccountA}
	if two {
		bucketAccounts = append(bucketAccounts, AccountB)
	}
	for _, a := range bucketAccounts {
		for k := 0; k < 2; k++ {
			w.Keys = append(w.Keys, KeySpec{ARN: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s000000-0000-4000-8000-00000000000%d", Region, a, a[:1], k+1), Delegates: r.IntN(2) == 0})
		}
	}
	keysOf := func(a string) []string {
		var out []string
		for _, k := range w.Keys {
			if strings.Contains(k.ARN, ":"+a+":") {
				out = append(out, k.ARN)
			}
		}
		return out
	}
	names := []string{"alpha", "beta", "gamma"}
	nb := 2 + r.IntN(2)
	for i := 0; i < nb; i++ {
		a := bucketAccounts[r.IntN(len(bucketAccounts))]
		ks := keysOf(a)
		// The first key of the account most of the time: buckets share it.
		key := ks[0]
		if r.IntN(4) == 0 {
			key = ks[1]
		}
		if two && r.IntN(6) == 0 {
			// A key of the other account: bucket and key in two accounts.
			other := AccountA
			if a == AccountA {
				other = AccountB
			}
			key = keysOf(other)[0]
		}
		w.Buckets = append(w.Buckets, BucketSpec{Name: names[i], Account: a, Key: key,
			DenyHTTP: r.IntN(3) == 0, Reader: r.IntN(3) == 0, Enforced: r.IntN(4) != 0, BucketKeys: r.IntN(2) == 0})
	}
	templates := []string{"user/jane", "user/eng/bob", "role/app"}
	r.Shuffle(len(templates), func(i, j int) { templates[i], templates[j] = templates[j], templates[i] })
	np := 2 + r.IntN(2)
	for i := 0; i < np; i++ {
		p := PrincipalSpec{ARN: "arn:aws:iam::" + acct() + ":" + templates[i]}
		if r.IntN(4) == 0 {
			// Close under IAM's aggregate: bucketgrant's inline policy
			// does not fit beside it.
			if strings.Contains(p.ARN, ":user/") {
				p.Padding = 1500 + r.IntN(450)
			} else {
				p.Padding = 9300 + r.IntN(800)
			}
		}
		w.Principals = append(w.Principals, p)
	}
	return w
}

var prefixes = []string{"", "", "reports/", "logs/"}

// genPool picks the few grants a sequence works on, so its steps meet.
func genPool(r *rand.Rand, w World) []GrantSpec {
	n := 2 + r.IntN(3)
	var pool []GrantSpec
	for len(pool) < n {
		g := GrantSpec{
			Principal: w.Principals[r.IntN(len(w.Principals))].ARN,
			Bucket:    w.Buckets[r.IntN(len(w.Buckets))].Name,
			Prefix:    prefixes[r.IntN(len(prefixes))],
			Access:    genAccess(r),
		}
		switch r.IntN(6) {
		case 0:
			g.KMSVia = diff.ViaKeyPolicy
		case 1:
			g.KMSVia = diff.ViaIdentity
		}
		if !slices.ContainsFunc(pool, func(h GrantSpec) bool { return h.ID() == g.ID() }) {
			pool = append(pool, g)
		}
	}
	return pool
}

func genAccess(r *rand.Rand) []diff.Level {
	if r.IntN(6) == 0 {
		return nil
	}
	all := []diff.Level{diff.Read, diff.Write, diff.List}
	if r.IntN(5) == 0 {
		all = append(all, diff.Versions)
	}
	var out []diff.Level
	for len(out) == 0 {
		for _, l := range all {
			if r.IntN(2) == 0 {
				out = append(out, l)
			}
		}
	}
	return out
}

// narrower returns access levels that are a part of g's (or g's own).
func narrower(r *rand.Rand, a []diff.Level) []diff.Level {
	if a == nil || r.IntN(2) == 0 {
		return a
	}
	var out []diff.Level
	for _, l := range a {
		if r.IntN(2) == 0 {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return a[:1]
	}
	return out
}

// respell names a principal with a path without it, now and then: a path
// is not part of who a user or role is, and the operator may leave it out.
func respell(r *rand.Rand, arn string) string {
	i := strings.Index(arn, ":user/")
	if i < 0 || strings.Count(arn[i:], "/") < 2 || r.IntN(3) != 0 {
		return arn
	}
	return arn[:i] + ":user/" + arn[strings.LastIndexByte(arn, '/')+1:]
}

func genStep(r *rand.Rand, w World, pool []GrantSpec, done []Step) Step {
	// Once a bucket was re-keyed, some grants drop the old keys.
	rekeyed := slices.ContainsFunc(done, func(s Step) bool { return s.Op == OpRekey })
	drop := func() bool { return rekeyed && r.IntN(3) == 0 }
	for {
		switch n := r.IntN(20); {
		case n < 7:
			g := pool[r.IntN(len(pool))]
			// After a re-keying, the grants on that bucket are planned
			// again more often than the rest.
			var onRekeyed []GrantSpec
			for _, h := range pool {
				if slices.ContainsFunc(done, func(d Step) bool { return d.Op == OpRekey && d.Bucket == h.Bucket }) {
					onRekeyed = append(onRekeyed, h)
				}
			}
			if len(onRekeyed) > 0 && r.IntN(2) == 0 {
				g = onRekeyed[r.IntN(len(onRekeyed))]
			}
			g.DropOldKeys = drop()
			g.Principal = respell(r, g.Principal)
			return Step{Op: OpApply, Grant: &g}
		case n < 10:
			g := pool[r.IntN(len(pool))]
			return Step{Op: OpRevoke, Grant: &GrantSpec{Principal: respell(r, g.Principal), Bucket: g.Bucket, Prefix: g.Prefix}}
		case n < 13:
			var targets []int
			for i, s := range done {
				if s.Op != OpRekey {
					targets = append(targets, i)
				}
			}
			if len(targets) == 0 {
				continue
			}
			return Step{Op: OpRollback, Target: targets[r.IntN(len(targets))]}
		case n < 18:
			s := Step{Op: OpSync, Prune: r.IntN(2) == 0}
			for _, g := range pool {
				if r.IntN(2) == 0 {
					g.Access = narrower(r, g.Access)
					g.DropOldKeys = drop()
					s.File = append(s.File, g)
				}
			}
			if len(s.File) == 0 {
				s.File = append(s.File, pool[r.IntN(len(pool))])
			}
			return s
		default:
			return genRekey(r, w, pool, done, "")
		}
	}
}

// genRekey moves a bucket (the one named, else one the steps granted on,
// mostly) to the other key of its account than its key now.
func genRekey(r *rand.Rand, w World, pool []GrantSpec, done []Step, bucket string) Step {
	b := w.Buckets[r.IntN(len(w.Buckets))]
	if bucket != "" {
		b = w.Buckets[slices.IndexFunc(w.Buckets, func(c BucketSpec) bool { return c.Name == bucket })]
	}
	// Mostly a bucket an earlier step granted on, else one the
	// sequence grants on.
	var granted []string
	for _, d := range done {
		if d.Op == OpApply {
			granted = append(granted, d.Grant.Bucket)
		}
		for _, g := range d.File {
			granted = append(granted, g.Bucket)
		}
	}
	if bucket == "" && r.IntN(4) != 0 {
		name := pool[r.IntN(len(pool))].Bucket
		if len(granted) > 0 {
			name = granted[r.IntN(len(granted))]
		}
		b = w.Buckets[slices.IndexFunc(w.Buckets, func(c BucketSpec) bool { return c.Name == name })]
	}
	var others []string
	for _, k := range w.Keys {
		if k.ARN != b.Key && strings.Contains(k.ARN, ":"+b.Account+":") {
			others = append(others, k.ARN)
		}
	}
	// Re-key to the other key of the account than its key now.
	cur := b.Key
	for _, d := range done {
		if d.Op == OpRekey && d.Bucket == b.Name {
			cur = d.Key
		}
	}
	key := others[0]
	if cur != b.Key {
		key = b.Key
	}
	return Step{Op: OpRekey, Bucket: b.Name, Key: key}
}
