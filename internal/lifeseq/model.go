package lifeseq

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Standing is a grant the model says stands: what it allows.
type Standing struct {
	Spec   GrantSpec    // as last applied (access as given)
	Levels []diff.Level // the levels it grants, resolved
	// Keys are the KMS actions it is granted on each key: on the
	// bucket's key, those of the levels each plan asked for; an earlier
	// key stays granted (objects written under it need it) until the grant
	// is revoked or pruned, or the old keys are dropped.
	Keys map[string][]string
}

func (s Standing) equal(o Standing) bool {
	return slices.Equal(s.Levels, o.Levels) && maps.EqualFunc(s.Keys, o.Keys, slices.Equal)
}

// Model is which grants stand after a step, by the documentation's rules.
type Model struct {
	World     World
	Grants    map[diff.GrantID]Standing
	BucketKey map[string]string // each bucket's default key now
	// Residue is what a grant's statements may still allow after a
	// rollback restored an earlier step's documents while a later step had
	// written others for the same grant: rollback restores exactly the
	// documents of the backup, so the later ones stay. It explains
	// requests, it is not required; revoke and prune end it.
	Residue map[diff.GrantID]Standing
}

// NewModel is the model of a world before any step: no grant stands.
func NewModel(w World) *Model {
	m := &Model{World: w, Grants: map[diff.GrantID]Standing{}, BucketKey: map[string]string{}, Residue: map[diff.GrantID]Standing{}}
	for _, b := range w.Buckets {
		m.BucketKey[b.Name] = b.Key
	}
	return m
}

func (m *Model) clone() *Model {
	return &Model{World: m.World, Grants: maps.Clone(m.Grants), BucketKey: maps.Clone(m.BucketKey), Residue: maps.Clone(m.Residue)}
}

func (m *Model) bucket(name string) BucketSpec {
	for _, b := range m.World.Buckets {
		if b.Name == name {
			return b
		}
	}
	return BucketSpec{}
}

// canon is the world's ARN of a principal given with or without its
// path: IAM names are unique in an account, the path is not part of them.
func (m *Model) canon(arn string) string {
	name := func(a string) string {
		return state.AccountOf(a) + "/" + state.KindOf(a) + "/" + a[strings.LastIndexByte(a, '/')+1:]
	}
	for _, p := range m.World.Principals {
		if name(p.ARN) == name(arn) {
			return p.ARN
		}
	}
	return arn
}

func (m *Model) delegates(key string) bool {
	for _, k := range m.World.Keys {
		if k.ARN == key {
			return k.Delegates
		}
	}
	return false
}

func (m *Model) padded(principal string) bool {
	for _, p := range m.World.Principals {
		if p.ARN == principal {
			return p.Padding > 0
		}
	}
	return false
}

// Levels resolves a grant's access: the planner's documented default when
// none is given, and no acl where ACLs are disabled.
func (m *Model) Levels(g GrantSpec) []diff.Level {
	b := m.bucket(g.Bucket)
	own := ""
	if b.Enforced {
		own = "BucketOwnerEnforced"
	}
	ls := g.Access
	if ls == nil {
		ls = diff.DefaultLevels(state.AccountOf(g.Principal) != b.Account, own)
	}
	out := slices.Clone(ls)
	if b.Enforced {
		out = slices.DeleteFunc(out, func(l diff.Level) bool { return l == diff.ACL })
	}
	return sortLevels(out)
}

var levelOrder = []diff.Level{diff.Read, diff.Write, diff.List, diff.Versions, diff.ACL}

func sortLevels(ls []diff.Level) []diff.Level {
	slices.SortFunc(ls, func(a, b diff.Level) int { return slices.Index(levelOrder, a) - slices.Index(levelOrder, b) })
	return slices.Compact(ls)
}

func union(a, b []diff.Level) []diff.Level {
	return sortLevels(append(slices.Clone(a), b...))
}

// Stale reports whether a standing grant lacks some KMS action of its
// levels on its bucket's key now (the bucket was re-keyed since those
// levels were planned): it must be planned again for them.
func (m *Model) Stale(s Standing) bool {
	have := s.Keys[m.BucketKey[s.Spec.Bucket]]
	for _, a := range kmsActions(s.Levels) {
		if !slices.Contains(have, a) {
			return true
		}
	}
	return false
}

func kmsLevels(ls []diff.Level) bool {
	return slices.ContainsFunc(ls, func(l diff.Level) bool { return l == diff.Read || l == diff.Write || l == diff.Versions })
}

// grant records g as planned and written (or found in place): its levels
// grow by g's (exact: become g's, as --prune narrows), and the KMS actions
// of g's levels are granted on the bucket's key now.
func (m *Model) grant(g GrantSpec, levels []diff.Level, exact bool) {
	s, ok := m.Grants[g.ID()]
	if !ok || exact {
		s.Levels = nil
	}
	s.Spec, s.Levels = g, union(s.Levels, levels)
	keys := map[string][]string{}
	for k, as := range s.Keys {
		if exact {
			// Prune narrows the grant's statements on every key.
			as = slices.DeleteFunc(slices.Clone(as), func(a string) bool { return !slices.Contains(kmsActions(levels), a) })
		}
		if g.DropOldKeys && k != m.BucketKey[g.Bucket] {
			continue // the grant's statements name the bucket's key now only
		}
		if len(as) > 0 {
			keys[k] = as
		}
	}
	if add := kmsActions(levels); len(add) > 0 {
		k := m.BucketKey[g.Bucket]
		as := append(slices.Clone(keys[k]), add...)
		slices.Sort(as)
		keys[k] = slices.Compact(as)
	}
	s.Keys = keys
	m.Grants[g.ID()] = s
}

// narrow takes out of a standing grant what levels do not hold, as prune
// does to the grant's statements; a grant left with nothing goes.
func (m *Model) narrow(id diff.GrantID, levels []diff.Level) {
	s, ok := m.Grants[id]
	if !ok {
		return
	}
	s.Levels = slices.DeleteFunc(slices.Clone(s.Levels), func(l diff.Level) bool { return !slices.Contains(levels, l) })
	keys := map[string][]string{}
	for k, as := range s.Keys {
		as = slices.DeleteFunc(slices.Clone(as), func(a string) bool { return !slices.Contains(kmsActions(levels), a) })
		if len(as) > 0 {
			keys[k] = as
		}
	}
	s.Keys = keys
	if len(s.Levels) == 0 {
		delete(m.Grants, id)
		return
	}
	m.Grants[id] = s
}

// covers reports whether g's own standing statements already give every
// request of g's levels on the bucket's key now, or, for downloads, the
// statement someone else wrote that carries g's Sid (World.Claimed): then
// "no changes" or "in sync" is right for g.
func (m *Model) covers(g GrantSpec, levels []diff.Level) bool {
	s, ok := m.Grants[g.ID()]
	for _, a := range s3Actions(levels) {
		if !(ok && slices.Contains(s3Actions(s.Levels), a)) && !(a == "s3:GetObject" && m.claimedGives(g)) {
			return false
		}
	}
	if slices.Contains(levels, diff.List) && !(ok && slices.Contains(s.Levels, diff.List)) {
		return false
	}
	for _, a := range kmsActions(levels) {
		if !ok || !slices.Contains(s.Keys[m.BucketKey[g.Bucket]], a) {
			return false
		}
	}
	return true
}

// claimedGives reports whether the foreign statement of World.Claimed lets
// g's principal download every object of g.
func (m *Model) claimedGives(g GrantSpec) bool {
	c := m.World.Claimed
	return c != nil && c.Principal == g.Principal && c.Bucket == g.Bucket && strings.HasPrefix(g.Prefix, c.Prefix)
}

// After is the model after step s, given what the step did; history holds
// the models before each earlier step (history[j] before step j) and the
// one before this step last. It returns the model and what about the
// step's outcome is wrong.
func (m *Model) After(s Step, res StepResult, history []*Model) (*Model, []string) {
	next := m.clone()
	var bad []string
	if s.Grant != nil {
		// The model knows a principal by the ARN the world gives it.
		g := *s.Grant
		g.Principal = m.canon(g.Principal)
		s.Grant = &g
	}
	switch s.Op {
	case OpApply:
		levels := m.Levels(*s.Grant)
		switch res.Outcome {
		case Applied:
			next.grant(*s.Grant, levels, false)
		case NoChanges:
			if !m.covers(*s.Grant, levels) {
				bad = append(bad, fmt.Sprintf("apply %s found nothing to change, but no standing grant of its own gives it (it relies on statements that are not its own)", s.Grant))
			}
			next.grant(*s.Grant, levels, false)
		case Blocked:
			if b := m.unexpectedBlockers(*s.Grant, res.Blockers); b != "" {
				bad = append(bad, fmt.Sprintf("apply %s is blocked (%s): %s", s.Grant, b, res.Detail))
			}
		default:
			bad = append(bad, fmt.Sprintf("apply %s: %s: %s", s.Grant, res.Outcome, res.Detail))
		}
	case OpRevoke:
		switch res.Outcome {
		case Applied, NoChanges:
			delete(next.Grants, s.Grant.ID())
			delete(next.Residue, s.Grant.ID())
		default:
			bad = append(bad, fmt.Sprintf("revoke %s: %s: %s", s.Grant, res.Outcome, res.Detail))
		}
	case OpRollback:
		switch res.Outcome {
		case Applied:
			// The documents are back as before the target step, so is
			// every grant that step changed.
			was, now := history[s.Target], history[s.Target+1]
			for id := range keysOf(was.Grants, now.Grants) {
				a, inA := was.Grants[id]
				b, inB := now.Grants[id]
				if inA == inB && (!inA || a.equal(b)) {
					continue
				}
				if c, inC := m.Grants[id]; inC && (!inB || !c.equal(b)) {
					// A later step wrote more for this grant, in
					// documents the backup does not hold: they stay.
					next.Residue[id] = widen(next.Residue[id], c)
				}
				if inA {
					next.Grants[id] = a
				} else {
					delete(next.Grants, id)
				}
			}
		case Nothing, Stale, NoChanges:
		case Blocked:
			// Restoring a document may pass a limit that later steps
			// brought close (a user's inline policies together): the
			// limits check refuses it before anything is written.
			if !slices.Equal(res.Blockers, []string{diff.BlockSizeLimit}) {
				bad = append(bad, fmt.Sprintf("rollback of step %d is blocked: %s", s.Target, res.Detail))
			}
		default:
			bad = append(bad, fmt.Sprintf("rollback of step %d: %s: %s", s.Target, res.Outcome, res.Detail))
		}
	case OpSync:
		bad = append(bad, syncModel(next, m, s, res)...)
	case OpRekey:
		next.BucketKey[s.Bucket] = s.Key
		if res.Outcome != Rekeyed {
			bad = append(bad, fmt.Sprintf("re-keying %s: %s", s.Bucket, res.Detail))
		}
	}
	return next, bad
}

// widen is a standing that allows what a and b allow.
func widen(a, b Standing) Standing {
	keys := maps.Clone(a.Keys)
	if keys == nil {
		keys = map[string][]string{}
	}
	for k, as := range b.Keys {
		all := append(slices.Clone(keys[k]), as...)
		slices.Sort(all)
		keys[k] = slices.Compact(all)
	}
	return Standing{Spec: b.Spec, Levels: union(a.Levels, b.Levels), Keys: keys}
}

func keysOf[V any](ms ...map[diff.GrantID]V) map[diff.GrantID]bool {
	out := map[diff.GrantID]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

// unexpectedBlockers names the blockers the world cannot explain: a size
// limit for a principal whose own inline policy fills IAM's aggregate (the
// managed policy it falls back to may be refused too), and a key that does
// not delegate to IAM for a grant that asks for --kms-via identity.
func (m *Model) unexpectedBlockers(g GrantSpec, kinds []string) string {
	var out []string
	for _, k := range kinds {
		if k == diff.BlockSizeLimit && m.padded(g.Principal) {
			continue
		}
		if k == diff.BlockKeyNotDelegated && g.KMSVia == diff.ViaIdentity && !m.delegates(m.BucketKey[g.Bucket]) {
			continue
		}
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}

// syncModel updates next (a clone of m) for a sync: with --prune, the
// grants on the file's buckets that left the file go and the declared ones
// become exactly what the file says; without it the declared ones grow to
// it. On a snapshot file prune reads every principal, so none of their
// grants is out of its sight (on AWS it sees the principals the file and
// the resource policies name: docs/grants.md).
func syncModel(next, m *Model, s Step, res StepResult) []string {
	var bad []string
	if res.Outcome == Failed && res.Sync == nil {
		return []string{"sync: " + res.Detail}
	}
	if res.Sync.Summary.Error != "" {
		bad = append(bad, "sync: "+res.Sync.Summary.Error)
	}
	status := map[diff.GrantID]grantsync.GrantReport{}
	for _, g := range res.Sync.Grants {
		status[diff.GrantID{Principal: g.Principal, Bucket: g.Bucket, Prefix: g.Prefix}] = g
	}
	if s.Prune {
		named := map[string]bool{}
		declared := map[diff.GrantID]bool{}
		for _, g := range s.File {
			named[g.Bucket], declared[g.ID()] = true, true
		}
		for id := range m.Grants {
			if named[id.Bucket] && !declared[id] {
				delete(next.Grants, id)
			}
		}
		for id := range m.Residue {
			if named[id.Bucket] && !declared[id] {
				delete(next.Residue, id)
			}
		}
	}
	for _, g := range s.File {
		levels := m.Levels(g)
		r, ok := status[g.ID()]
		if !ok {
			bad = append(bad, fmt.Sprintf("sync did not report %s", g))
			continue
		}
		switch r.Status {
		case grantsync.StatusFixed:
			next.grant(g, levels, s.Prune)
		case grantsync.StatusInSync, grantsync.StatusBroader:
			if !m.covers(g, levels) {
				bad = append(bad, fmt.Sprintf("sync says %s is %s, but no standing grant of its own gives it (it relies on statements that are not its own)", g, r.Status))
			}
			next.grant(g, levels, s.Prune)
		case grantsync.StatusBlocked:
			if b := m.unexpectedBlockers(g, blockerKinds(r.Reasons)); b != "" {
				bad = append(bad, fmt.Sprintf("sync: %s is blocked: %s", g, strings.Join(r.Reasons, "; ")))
			}
			if s.Prune {
				// Prune narrows what the file no longer declares before
				// any grant is planned, blocked or not.
				next.narrow(g.ID(), levels)
			}
		default:
			bad = append(bad, fmt.Sprintf("sync: %s is %s: %s", g, r.Status, strings.Join(r.Reasons, "; ")))
		}
	}
	return bad
}

// blockerKinds tells blocker kinds from a sync report's reasons (the
// blockers' messages): only the expected ones are told apart.
func blockerKinds(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		l := strings.ToLower(r)
		switch {
		case strings.Contains(l, "limit") || strings.Contains(l, "characters") || strings.Contains(l, "quota"):
			out = append(out, diff.BlockSizeLimit)
		case strings.Contains(l, "iam policies grant"):
			out = append(out, diff.BlockKeyNotDelegated)
		default:
			out = append(out, r)
		}
	}
	return out
}
