package grantsync

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// scope is what prune may touch, and what the grants of the file declare.
//
// The grants file is the truth for the buckets it names, and only for them:
// a statement is pruned only when the grant it belongs to is on a bucket
// the file names (by any grant, in any shard, or under buckets:) and is no
// longer in the file, and bucketgrant owns it (owns). A statement of a grant still in the file is
// narrowed to the actions the file now declares. A statement on a bucket
// the file does not name, or one whose grant cannot be told (attribution),
// is left as it is: another grants file, or `bucketgrant apply`, may have
// written it.
type scope struct {
	named  map[string]bool      // buckets the file names
	inFile map[string]fileGrant // grantID.key() -> the grant as declared
	// byPair lists the file's grants per principal and bucket (any
	// prefix), for "broader than declared".
	byPair map[string][]int
	attr   attribution
	// only limits prune to a shard's documents (nil: every document).
	only func(docID string) bool
}

// fileGrant is one grant of the file with the levels it declares, as the
// planner will grant them.
type fileGrant struct {
	index  int // in the file's grant list
	levels []diff.Level
}

// newScope builds prune's scope for the file's grants on st.
func newScope(st *state.State, f *File, all []Grant, only func(string) bool) *scope {
	sc := &scope{named: map[string]bool{}, inFile: map[string]fileGrant{}, byPair: map[string][]int{}, only: only}
	// A bucket listed under buckets: is named too, grants or not: a file
	// can so say that a bucket has no grants any more.
	for name := range f.Buckets {
		sc.named[name] = true
	}
	for i, g := range all {
		sc.named[g.Bucket] = true
		fg := fileGrant{index: i, levels: g.Access}
		if b := st.FindBucket(g.Bucket); b != nil {
			cross := state.AccountOf(g.Principal) != b.Account
			fg.levels = diff.GrantLevels(g.Access, cross, b.ObjectOwnership)
		}
		sc.inFile[g.id().key()] = fg
		sc.byPair[g.id().pairKey()] = append(sc.byPair[g.id().pairKey()], i)
	}
	sc.attr = attribute(st, all)
	return sc
}

// verdict is what prune does with one of bucketgrant's statements.
type verdict struct {
	owner  sidOwner
	remove bool     // the grant left the file
	excess []string // actions the grant, still in the file, no longer declares
}

// judge decides about statement s of a document. ok is false for a
// statement prune leaves alone.
func (sc *scope) judge(s policy.Statement, doc diff.DocRef) (verdict, bool) {
	owner, ok := sc.attr[diff.BaseSid(s.Sid)]
	if !ok || !sc.named[owner.id.bucket] || !owns(s, doc, owner.id, owner.purpose) {
		return verdict{}, false
	}
	fg, kept := sc.inFile[owner.id.key()]
	if !kept {
		return verdict{owner: owner, remove: true}, true
	}
	allowed := diff.PurposeActions(fg.levels, owner.purpose)
	var excess []string
	if s.Action != nil {
		for _, a := range s.Action.Values {
			if !slices.ContainsFunc(allowed, func(b string) bool { return strings.EqualFold(a, b) }) {
				excess = append(excess, a)
			}
		}
	}
	if len(excess) == 0 {
		return verdict{}, false
	}
	return verdict{owner: owner, excess: excess}, true
}

// prunedChange is one document prune changes in the working state.
type prunedChange struct {
	change    diff.Change
	principal string // whose identity policy it is
	bucket    string // the bucket an identity policy is for, or the bucket policy's
	// grants are the indexes (in the file) of the grants whose statements
	// were narrowed here.
	grants []int
}

// ownDocs calls fn for every document prune looks at: the bucket policies
// of the buckets the file names, every key policy, and the principals'
// own bucketgrant policies (inline, or the managed one with the
// principal's digest) for those buckets. fn may replace *doc.
func ownDocs(st *state.State, named map[string]bool, fn func(ref diff.DocRef, doc **state.Doc, kind policy.Kind, own bool, principal, bucket string) error) error {
	partition := partitionOfState(st)
	for i := range st.Buckets {
		b := &st.Buckets[i]
		if !named[b.Name] {
			continue
		}
		ref := diff.DocRef{Kind: diff.DocBucketPolicy, ARN: "arn:" + partition + ":s3:::" + b.Name, Account: b.Account}
		if err := fn(ref, &b.Policy, policy.KindBucketPolicy, false, "", b.Name); err != nil {
			return err
		}
	}
	for i := range st.Keys {
		k := &st.Keys[i]
		ref := diff.DocRef{Kind: diff.DocKeyPolicy, ARN: k.ARN, Account: state.AccountOf(k.ARN)}
		if err := fn(ref, &k.Policy, policy.KindKeyPolicy, false, "", ""); err != nil {
			return err
		}
	}
	inlineBucket := map[string]string{}
	var long []string // names whose managed policy is named by a digest alone
	for b := range named {
		inlineBucket[diff.InlinePolicyName(b)] = b
		if len(b) > 64 {
			long = append(long, b)
		}
	}
	for i := range st.Principals {
		p := &st.Principals[i]
		acct := state.AccountOf(p.ARN)
		for j := range p.InlinePolicies {
			in := &p.InlinePolicies[j]
			// Only bucketgrant's own policy for a bucket the file names.
			bucket, ok := inlineBucket[in.Name]
			if !ok {
				continue
			}
			ref := diff.DocRef{Kind: diff.DocInlinePolicy, ARN: p.ARN, Name: in.Name, Account: acct}
			if err := fn(ref, &in.Doc, policy.KindIdentity, true, p.ARN, bucket); err != nil {
				return err
			}
		}
		for j := range p.AttachedPolicies {
			mp := &p.AttachedPolicies[j]
			// Only the principal's own managed policy (its ARN carries a
			// digest of the principal's) for a bucket the file names.
			bucket := managedBucket(mp.ARN, p.ARN, named, long)
			if bucket == "" {
				continue
			}
			ref := diff.DocRef{Kind: diff.DocManagedPolicy, ARN: mp.ARN, Account: state.AccountOf(mp.ARN)}
			if err := fn(ref, &mp.Document, policy.KindIdentity, true, p.ARN, bucket); err != nil {
				return err
			}
		}
	}
	return nil
}

// prune removes from st the statements of grants that left the file and
// narrows those of grants the file now declares narrower, on the buckets
// the file names; see scope. It edits st and returns the changes. A
// bucketgrant inline or managed policy left empty is deleted, as revoke
// does; so is a bucket policy that held only bucketgrant's statements. A
// key policy is never left empty.
func prune(st *state.State, sc *scope) ([]prunedChange, error) {
	var out []prunedChange
	err := ownDocs(st, sc.named, func(ref diff.DocRef, doc **state.Doc, kind policy.Kind, own bool, principal, bucket string) error {
		if sc.only != nil && !sc.only(DocID(ref, principal, bucket)) {
			return nil
		}
		pc, after, err := pruneDoc(ref, *doc, kind, sc)
		if err != nil || pc == nil {
			return err
		}
		if after != nil && len(after.Statements()) == 0 {
			switch {
			case ref.Kind == diff.DocKeyPolicy:
				// An empty key policy would lock everyone out; leave it.
				return nil
			case own || ref.Kind == diff.DocBucketPolicy:
				// AWS refuses a policy without statements: the tool's own
				// policy, or a bucket policy that held only the tool's
				// statements, goes away.
				pc.change.Action, pc.change.After = diff.ActionDelete, ""
				after = nil
			}
		}
		pc.principal, pc.bucket = principal, bucket
		if after == nil {
			*doc = nil
		} else {
			*doc = &state.Doc{Text: after.Bytes(), Form: (*doc).Form}
		}
		out = append(out, *pc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Deleted documents leave the principals' lists.
	for i := range st.Principals {
		p := &st.Principals[i]
		p.InlinePolicies = deleteNil(p.InlinePolicies, func(n state.NamedDoc) bool { return n.Doc == nil })
		p.AttachedPolicies = deleteNil(p.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.Document == nil })
	}
	return out, nil
}

// broader says, per grant of the file (by Key), where bucketgrant's own
// statements for its principal on its bucket allow more than the file
// declares: a statement of the grant with actions it no longer declares,
// or a statement of a grant of the same principal and bucket that left the
// file (a narrowed prefix). Without --prune nothing removes them, and the
// report says so.
func (sc *scope) broader(st *state.State, all []Grant) map[string][]string {
	out := map[string][]string{}
	_ = ownDocs(st, sc.named, func(ref diff.DocRef, doc **state.Doc, kind policy.Kind, _ bool, _, _ string) error {
		if *doc == nil || len((*doc).Text) == 0 {
			return nil
		}
		d, err := policy.Parse((*doc).Text, kind)
		if err != nil {
			return nil // planning the grant reports it
		}
		for _, s := range d.Statements() {
			if diff.PurposeOfSid(s.Sid) == "" {
				continue
			}
			v, ok := sc.judge(s, ref)
			if !ok {
				continue
			}
			var targets []int
			var msg string
			if v.remove {
				targets = sc.byPair[v.owner.id.pairKey()]
				what := "the whole bucket"
				if v.owner.id.prefix != "" {
					what = "prefix " + v.owner.id.prefix
				}
				msg = fmt.Sprintf("%s in %s (bucketgrant's, for %s on %s, a grant no longer in the file) still allows %s; --prune removes it",
					s.Sid, ref.ID(), v.owner.id.principal, what, strings.Join(actionsOfStmt(s), ", "))
			} else {
				targets = []int{sc.inFile[v.owner.id.key()].index}
				msg = fmt.Sprintf("%s in %s allows %s beyond the access the file declares; --prune narrows it", s.Sid, ref.ID(), strings.Join(v.excess, ", "))
			}
			for _, gi := range targets {
				out[all[gi].Key()] = append(out[all[gi].Key()], msg)
			}
		}
		return nil
	})
	return out
}

func actionsOfStmt(s policy.Statement) []string {
	if s.Action == nil {
		return nil
	}
	return s.Action.Values
}

// managedBucket returns the bucket of the file for which arn is principal's
// own managed policy (diff.ManagedPolicyARN), "" when it is none of them.
func managedBucket(arn, principal string, named map[string]bool, long []string) string {
	if !isOwnManaged(arn) {
		return ""
	}
	// bucketgrant-<bucket>-<digest>: the name says the bucket; the digest
	// says whose.
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	if rest, ok := strings.CutPrefix(name, diff.InlinePolicyName("")); ok {
		if i := strings.LastIndexByte(rest, '-'); i > 0 && named[rest[:i]] && diff.ManagedPolicyARN(principal, rest[:i]) == arn {
			return rest[:i]
		}
	}
	// A long bucket name gives a name made of a digest alone.
	for _, b := range long {
		if diff.ManagedPolicyARN(principal, b) == arn {
			return b
		}
	}
	return ""
}

func deleteNil[T any](s []T, gone func(T) bool) []T {
	out := s[:0]
	for _, v := range s {
		if !gone(v) {
			out = append(out, v)
		}
	}
	return out
}

// pruneDoc removes and narrows the statements of one document prune may
// change. It returns nil when there are none.
func pruneDoc(ref diff.DocRef, doc *state.Doc, kind policy.Kind, sc *scope) (*prunedChange, *policy.Document, error) {
	if doc == nil || len(doc.Text) == 0 {
		return nil, nil, nil
	}
	before, err := policy.Parse(doc.Text, kind)
	if err != nil {
		return nil, nil, fmt.Errorf("prune: %s: %w", ref.ID(), err)
	}
	type todo struct {
		i int
		v verdict
		s policy.Statement
	}
	var work []todo
	for i, s := range before.Statements() {
		if diff.PurposeOfSid(s.Sid) == "" {
			continue
		}
		if v, ok := sc.judge(s, ref); ok {
			work = append(work, todo{i, v, s})
		}
	}
	if len(work) == 0 {
		return nil, nil, nil
	}
	after := before.Clone()
	pc := &prunedChange{change: diff.Change{Document: ref, Action: diff.ActionUpdate, Before: before.String()}}
	// From the last statement back, so that earlier indexes stay valid.
	for _, w := range slices.Backward(work) {
		s, v := w.s, w.v
		if v.remove || len(v.excess) == len(s.Action.Values) {
			if err := after.RemoveStatement(w.i); err != nil {
				return nil, nil, fmt.Errorf("prune: removing statement %s from %s: %w", s.Sid, ref.ID(), err)
			}
			reason := "bucketgrant's statement for a grant that is no longer in the grants file (--prune)"
			if !v.remove {
				reason = "bucketgrant's statement, none of whose actions the grants file declares now (--prune)"
				pc.grants = append(pc.grants, sc.inFile[v.owner.id.key()].index)
			}
			var actions []string
			if s.Action != nil {
				actions = s.Action.Values
			}
			pc.change.Statements = append(pc.change.Statements, diff.StatementChange{Op: diff.OpRemove, Sid: s.Sid, Index: w.i, Actions: actions, Reason: reason})
			continue
		}
		keep := slices.DeleteFunc(slices.Clone(s.Action.Values), func(a string) bool { return slices.Contains(v.excess, a) })
		raw, err := json.Marshal(keep)
		if err != nil {
			return nil, nil, err
		}
		if err := after.SetStatementMember(w.i, "Action", raw); err != nil {
			return nil, nil, fmt.Errorf("prune: narrowing statement %s of %s: %w", s.Sid, ref.ID(), err)
		}
		pc.grants = append(pc.grants, sc.inFile[v.owner.id.key()].index)
		pc.change.Statements = append(pc.change.Statements, diff.StatementChange{Op: diff.OpNarrow, Sid: s.Sid, Index: w.i, Actions: v.excess,
			Reason: "the grants file no longer declares these actions for this grant (--prune)"})
	}
	// Statement changes read in document order.
	slices.Reverse(pc.change.Statements)
	pc.change.After = after.String()
	return pc, after, nil
}

// stalePrincipals lists the users and roles that bucketgrant's statements
// in st's bucket and key policies name, that st does not hold, and whose
// statement prune may remove (a grant on a bucket the file names that is
// no longer in the file, or a statement it cannot attribute yet): a principal whose grants all left the file is
// read for --prune because its old statements still name it, so that its
// own bucketgrant policies go too. A principal removed from the file whose
// grants lived only in its own identity policy (same account, KMS via
// identity) leaves no such trace; see docs/grants.md.
func stalePrincipals(st *state.State, sc *scope) []string {
	seen := map[string]bool{}
	var out []string
	scan := func(doc *state.Doc, kind policy.Kind) {
		if doc == nil || len(doc.Text) == 0 {
			return
		}
		d, err := policy.Parse(doc.Text, kind)
		if err != nil {
			return // prune reports the document when it gets to it
		}
		for _, s := range d.Statements() {
			if diff.PurposeOfSid(s.Sid) == "" {
				continue
			}
			// A statement of a grant that left the file, or one not yet
			// attributed: reading its principal's own policies may tell
			// its prefix and so its grant.
			if owner, ok := sc.attr[diff.BaseSid(s.Sid)]; ok {
				if _, kept := sc.inFile[owner.id.key()]; kept || !sc.named[owner.id.bucket] {
					continue
				}
			}
			for _, arn := range principalsOf(s) {
				if !seen[arn] && st.FindPrincipal(arn) == nil {
					seen[arn] = true
					out = append(out, arn)
				}
			}
		}
	}
	for _, b := range st.Buckets {
		if sc.named[b.Name] {
			scan(b.Policy, policy.KindBucketPolicy)
		}
	}
	for _, k := range st.Keys {
		scan(k.Policy, policy.KindKeyPolicy)
	}
	return out
}

// partitionOfState is the partition the state's ARNs are in (a state never
// spans two), for naming buckets, whose ARNs the state does not hold.
func partitionOfState(st *state.State) string {
	for _, p := range st.Principals {
		if a, err := state.ParseARN(p.ARN); err == nil {
			return a.Partition
		}
	}
	for _, k := range st.Keys {
		if a, err := state.ParseARN(k.ARN); err == nil {
			return a.Partition
		}
	}
	return "aws"
}
