package grantsync

import (
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// purposes are the purposes diff.SidFor derives a grant's Sids from (the
// planner's objects, list and KMS statements).
var purposes = []string{"Objects", "List", "Kms"}

// keepSids returns the Sids of every grant of the file: prune removes
// bucketgrant's statements whose Sid is not among them. A grant that is
// blocked or failed this run still counts: it is in the file. Both the ARN
// as written and as IAM stores it (with its path) are kept, because the
// planner derives Sids from the stored one.
func keepSids(st *state.State, grants []Grant) map[string]bool {
	keep := map[string]bool{}
	for _, g := range grants {
		arns := []string{g.Principal}
		if p := st.FindPrincipal(g.Principal); p != nil && p.ARN != g.Principal {
			arns = append(arns, p.ARN)
		}
		for _, arn := range arns {
			for _, purpose := range purposes {
				keep[diff.SidFor(arn, g.Bucket, g.Prefix, purpose)] = true
			}
		}
	}
	return keep
}

// prunedChange is one document prune changes in the working state.
type prunedChange struct {
	change      diff.Change
	fingerprint string // of the document before prune (as the run read it, or as the grants left it)
	principal   string
	bucket      string
}

// prune removes, from every document of st that bucketgrant may own a
// statement in, the statements whose Sid starts with diff.SidPrefix and is
// not in keep. It edits st and returns the changes. Documents it looks at:
// every bucket policy and key policy, and each principal's own
// bucketgrant-* inline policies and /bucketgrant/ managed policies (the
// tool's own, deleted when nothing is left in them, as revoke does).
// Nothing else is touched: no other statement, no other document.
func prune(st *state.State, keep map[string]bool, only func(diff.DocRef) bool) ([]prunedChange, error) {
	var out []prunedChange
	visit := func(ref diff.DocRef, doc **state.Doc, kind policy.Kind, own bool, principal, bucket string) error {
		if only != nil && !only(ref) {
			return nil
		}
		pc, after, err := pruneDoc(ref, *doc, kind, keep)
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
			form := (*doc).Form
			*doc = &state.Doc{Text: after.Bytes(), Form: form}
		}
		out = append(out, *pc)
		return nil
	}
	for i := range st.Buckets {
		b := &st.Buckets[i]
		ref := diff.DocRef{Kind: diff.DocBucketPolicy, ARN: "arn:" + partitionOfState(st) + ":s3:::" + b.Name, Account: b.Account}
		if err := visit(ref, &b.Policy, policy.KindBucketPolicy, false, "", b.Name); err != nil {
			return nil, err
		}
	}
	for i := range st.Keys {
		k := &st.Keys[i]
		ref := diff.DocRef{Kind: diff.DocKeyPolicy, ARN: k.ARN, Account: state.AccountOf(k.ARN)}
		if err := visit(ref, &k.Policy, policy.KindKeyPolicy, false, "", ""); err != nil {
			return nil, err
		}
	}
	for i := range st.Principals {
		p := &st.Principals[i]
		acct := state.AccountOf(p.ARN)
		for j := range p.InlinePolicies {
			in := &p.InlinePolicies[j]
			if !strings.HasPrefix(in.Name, diff.InlinePolicyName("")) {
				continue
			}
			ref := diff.DocRef{Kind: diff.DocInlinePolicy, ARN: p.ARN, Name: in.Name, Account: acct}
			if err := visit(ref, &in.Doc, policy.KindIdentity, true, p.ARN, ""); err != nil {
				return nil, err
			}
		}
		for j := range p.AttachedPolicies {
			mp := &p.AttachedPolicies[j]
			if !strings.Contains(mp.ARN, ":policy/bucketgrant/") {
				continue
			}
			ref := diff.DocRef{Kind: diff.DocManagedPolicy, ARN: mp.ARN, Account: state.AccountOf(mp.ARN)}
			if err := visit(ref, &mp.Document, policy.KindIdentity, true, p.ARN, ""); err != nil {
				return nil, err
			}
		}
		// Deleted documents leave the principal's lists.
		p.InlinePolicies = deleteNil(p.InlinePolicies, func(n state.NamedDoc) bool { return n.Doc == nil })
		p.AttachedPolicies = deleteNil(p.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.Document == nil })
	}
	return out, nil
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

// pruneDoc removes the stale bucketgrant statements of one document. It
// returns nil when there are none.
func pruneDoc(ref diff.DocRef, doc *state.Doc, kind policy.Kind, keep map[string]bool) (*prunedChange, *policy.Document, error) {
	if doc == nil || len(doc.Text) == 0 {
		return nil, nil, nil
	}
	before, err := policy.Parse(doc.Text, kind)
	if err != nil {
		return nil, nil, fmt.Errorf("prune: %s: %w", ref.ID(), err)
	}
	after := before.Clone()
	var stmts []diff.StatementChange
	for i := len(after.Statements()) - 1; i >= 0; i-- {
		s := after.Statements()[i]
		if !strings.HasPrefix(s.Sid, diff.SidPrefix) || keep[s.Sid] {
			continue
		}
		if err := after.RemoveStatement(i); err != nil {
			return nil, nil, fmt.Errorf("prune: removing statement %s from %s: %w", s.Sid, ref.ID(), err)
		}
		var actions []string
		if s.Action != nil {
			actions = s.Action.Values
		}
		stmts = append(stmts, diff.StatementChange{Op: diff.OpRemove, Sid: s.Sid, Index: i, Actions: actions,
			Reason: "bucketgrant's statement for a grant that is no longer in the grants file (--prune)"})
	}
	if len(stmts) == 0 {
		return nil, nil, nil
	}
	return &prunedChange{
		change:      diff.Change{Document: ref, Action: diff.ActionUpdate, Before: before.String(), After: after.String(), Statements: stmts},
		fingerprint: before.Fingerprint(),
	}, after, nil
}

// stalePrincipals lists the users and roles named by bucketgrant's stale
// statements (Sid not in keep) in the bucket and key policies of st that st
// does not hold: a principal whose grants all left the file is read for
// --prune because its old statements still name it. A principal removed
// from the file whose grants lived only in its own identity policy (same
// account, KMS via identity) leaves no such trace; see docs/grants.md.
func stalePrincipals(st *state.State, keep map[string]bool) []string {
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
			if !strings.HasPrefix(s.Sid, diff.SidPrefix) || keep[s.Sid] || s.Principal == nil {
				continue
			}
			for _, arn := range s.Principal.AWS {
				if k := state.KindOf(arn); (k == state.KindUser || k == state.KindRole) && !seen[arn] && st.FindPrincipal(arn) == nil {
					seen[arn] = true
					out = append(out, arn)
				}
			}
		}
	}
	for _, b := range st.Buckets {
		scan(b.Policy, policy.KindBucketPolicy)
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
