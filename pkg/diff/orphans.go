package diff

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// A principal ARN in a key or bucket policy is stored as the entity's unique
// ID; once the user or role is deleted, AWS shows the bare ID (AIDA…,
// AROA…) and refuses to save any document that still holds it
// (aws-facts.md §6, §7). So a document the plan writes must lose its
// orphans first, which only the operator may approve.

var orphanPattern = regexp.MustCompile(`^A(IDA|ROA)[A-Z0-9]{12,}$`)

// orphans blocks, or with --remove-orphaned-principals removes, orphaned
// unique IDs from a document the plan writes.
func (m *merge) orphans(t *target) error {
	p := m.p
	type found struct {
		index int
		field string
		ids   []string
	}
	var all []found
	for i, s := range t.after.Statements() {
		// An array, not a map: one per statement of a large policy would
		// cost more than the search.
		for _, fp := range [...]struct {
			field string
			pr    *policy.Principal
		}{{"Principal", s.Principal}, {"NotPrincipal", s.NotPrincipal}} {
			field, pr := fp.field, fp.pr
			if pr == nil {
				continue
			}
			var ids []string
			for _, v := range pr.AWS {
				// The prefix orphanPattern needs first, without a match per
				// principal of a large policy.
				if (strings.HasPrefix(v, "AIDA") || strings.HasPrefix(v, "AROA")) && orphanPattern.MatchString(v) {
					ids = append(ids, v)
				}
			}
			if len(ids) > 0 {
				all = append(all, found{i, field, ids})
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortFunc(all, func(a, b found) int { return b.index - a.index })
	// Removing an ID from a statement that names other principals too
	// changes nobody's access: a deleted principal's ID matches no one. But
	// a statement left with no principal would have to go, and a Deny (or
	// an Allow with NotPrincipal) never goes: a Deny whose NotPrincipal
	// names only deleted principals denies everyone today, and deleting it
	// would lift that deny.
	stuck := false
	for _, f := range all {
		s := t.after.Statements()[f.index]
		pr := s.Principal
		if f.field == "NotPrincipal" {
			pr = s.NotPrincipal
		}
		if (s.Effect == policy.Allow && f.field == "Principal") || remaining(pr, f.ids) > 0 {
			continue
		}
		stuck = true
		ref := t.ref
		st := policy.Ref{Document: t.ref.ID(), Index: f.index, Sid: s.Sid}
		msg := fmt.Sprintf("statement %d of the %s of %s is a %s whose %s names only deleted principals (%s)", f.index, strings.ReplaceAll(t.ref.Kind, "-", " "), t.ref.ARN, s.Effect, f.field, strings.Join(f.ids, ", "))
		switch {
		case s.Effect == policy.Deny && f.field == "NotPrincipal":
			msg += ": it denies everyone today, and AWS refuses to save the document while it names them"
		case s.Effect == policy.Deny:
			msg += ": it denies no one today, but AWS refuses to save the document while it names them"
		default:
			msg += ": it allows everyone today, and AWS refuses to save the document while it names them"
		}
		p.block(Blocker{Kind: BlockOrphanDeny, Document: &ref, Statement: &st, Message: msg,
			Hint: "bucketgrant never removes or rewrites such a statement; its owner must decide what it should name now, then plan again"})
	}
	if stuck {
		return nil
	}
	if !p.opts.RemoveOrphanedPrincipals {
		var parts []string
		for _, f := range slices.Backward(all) {
			parts = append(parts, fmt.Sprintf("statement %d: %s", f.index, strings.Join(f.ids, ", ")))
		}
		ref := t.ref
		p.block(Blocker{Kind: BlockOrphanedPrincipals, Document: &ref,
			Message: fmt.Sprintf("the %s of %s names deleted principals by their unique IDs (%s); AWS refuses to save a document that does", strings.ReplaceAll(t.ref.Kind, "-", " "), t.ref.ARN, strings.Join(parts, "; ")),
			Hint:    "run again with --remove-orphaned-principals to remove exactly those entries"})
		return nil
	}
	for _, f := range all {
		s := t.after.Statements()[f.index]
		pr := s.Principal
		if f.field == "NotPrincipal" {
			pr = s.NotPrincipal
		}
		keep := slices.DeleteFunc(slices.Clone(pr.AWS), func(v string) bool { return slices.Contains(f.ids, v) })
		change := StatementChange{Op: OpRemovePrincipals, Sid: s.Sid, Index: f.index, Principals: f.ids,
			Reason: "orphaned unique IDs of deleted principals; AWS refuses to save a document that holds them (--remove-orphaned-principals)"}
		if remaining(pr, f.ids) == 0 {
			// An Allow that named only deleted principals grants nobody,
			// and without a principal AWS would refuse it.
			if err := t.after.RemoveStatement(f.index); err != nil {
				return err
			}
			change.Op = OpRemove
			change.Reason = "named only deleted principals (orphaned unique IDs); AWS refuses to save a document that holds them (--remove-orphaned-principals)"
			t.stmts = append(t.stmts, change)
			continue
		}
		raw, err := json.Marshal(principalValue(pr, keep))
		if err != nil {
			return err
		}
		if err := t.after.SetStatementMember(f.index, f.field, raw); err != nil {
			return err
		}
		t.stmts = append(t.stmts, change)
	}
	return nil
}

// remaining counts the principals a Principal or NotPrincipal value names
// besides the given IDs.
func remaining(pr *policy.Principal, ids []string) int {
	n := len(pr.Service) + len(pr.Federated) + len(pr.CanonicalUser)
	if pr.Star {
		n++
	}
	for _, v := range pr.AWS {
		if !slices.Contains(ids, v) {
			n++
		}
	}
	return n
}

// principalValue rebuilds a Principal object with new AWS values, keeping
// a single value as a string as AWS does.
func principalValue(pr *policy.Principal, aws []string) map[string]any {
	out := map[string]any{}
	put := func(k string, vs []string) {
		switch len(vs) {
		case 0:
		case 1:
			out[k] = vs[0]
		default:
			out[k] = vs
		}
	}
	put("AWS", aws)
	put("Service", pr.Service)
	put("Federated", pr.Federated)
	put("CanonicalUser", pr.CanonicalUser)
	return out
}
