package apply

import (
	"fmt"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// ToState writes a plan's changes into a state, as `apply --state` does to
// a snapshot: key and bucket policies replaced, the principal's inline
// policy added or replaced (in place, keeping the order of the others), a
// managed policy added to its attached policies or replaced. A document
// keeps the form (JSON string or object) it had; a new one is a string, as
// AWS returns it.
func ToState(st *state.State, p *diff.Plan) error {
	for _, ch := range p.Changes {
		if err := applyChange(st, p, ch); err != nil {
			return fmt.Errorf("%s: %w", ch.Document.ID(), err)
		}
	}
	return nil
}

func applyChange(st *state.State, p *diff.Plan, ch diff.Change) error {
	d := ch.Document
	newDoc := func(old *state.Doc) *state.Doc {
		if ch.Action == diff.ActionDelete {
			return nil
		}
		doc := &state.Doc{Text: []byte(ch.After)}
		if old != nil {
			doc.Form = old.Form
		}
		return doc
	}
	switch d.Kind {
	case diff.DocKeyPolicy:
		k := st.FindKey(d.ARN)
		if k == nil {
			return fmt.Errorf("the key is not in the state")
		}
		k.Policy = newDoc(k.Policy)
	case diff.DocBucketPolicy:
		b := st.FindBucket(p.Grant.Bucket)
		if b == nil || bucketOf(d) != b.Name {
			return fmt.Errorf("the bucket is not in the state")
		}
		b.Policy = newDoc(b.Policy)
	case diff.DocInlinePolicy:
		pr := st.FindPrincipal(d.ARN)
		if pr == nil {
			return fmt.Errorf("the principal is not in the state")
		}
		i := slices.IndexFunc(pr.InlinePolicies, func(n state.NamedDoc) bool { return n.Name == d.Name })
		switch {
		case ch.Action == diff.ActionDelete && i >= 0:
			pr.InlinePolicies = slices.Delete(pr.InlinePolicies, i, i+1)
		case i >= 0:
			pr.InlinePolicies[i].Doc = newDoc(pr.InlinePolicies[i].Doc)
		case ch.Action != diff.ActionDelete:
			pr.InlinePolicies = append(pr.InlinePolicies, state.NamedDoc{Name: d.Name, Doc: newDoc(nil)})
		}
	case diff.DocManagedPolicy:
		pr := st.FindPrincipal(p.Subject.PrincipalARN)
		if pr == nil {
			return fmt.Errorf("the principal is not in the state")
		}
		i := slices.IndexFunc(pr.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.ARN == d.ARN })
		switch {
		case ch.Action == diff.ActionDelete && i >= 0:
			pr.AttachedPolicies = slices.Delete(pr.AttachedPolicies, i, i+1)
		case i >= 0:
			pr.AttachedPolicies[i].Document = newDoc(pr.AttachedPolicies[i].Document)
		case ch.Action != diff.ActionDelete:
			pr.AttachedPolicies = append(pr.AttachedPolicies, state.ManagedPolicy{ARN: d.ARN, Document: newDoc(nil)})
		}
	default:
		return fmt.Errorf("unknown document kind %q", d.Kind)
	}
	return nil
}
