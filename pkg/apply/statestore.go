package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// StateStore applies a plan to a snapshot file, so the whole flow runs
// without AWS. Reads come from the file as it is on disk at that moment
// (another writer's change is seen as a stale document); writes go to a
// copy in memory, and Finish saves it atomically (a temporary file, then
// rename) unless the file changed in between.
type StateStore struct {
	path     string
	original []byte
	st       *state.State
	// principal is the user or role a created managed policy is attached to.
	principal string
}

// NewStateStore opens a snapshot file for applying a plan about principal.
func NewStateStore(path, principal string) (*StateStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	st, err := snapshot.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return &StateStore{path: path, original: data, st: st, principal: principal}, nil
}

// Describe names the file.
func (s *StateStore) Describe() string { return "state file " + s.path }

// Read returns a document as the file holds it now.
func (s *StateStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	st, err := snapshot.Load(s.path)
	if err != nil {
		return "", false, err
	}
	doc, err := find(st, ref, s.principal)
	if err != nil || doc == nil {
		return "", false, err
	}
	return string(doc.Text), true, nil
}

// find returns the document a ref names in a state (nil: it does not exist).
func find(st *state.State, ref diff.DocRef, principal string) (*state.Doc, error) {
	switch ref.Kind {
	case diff.DocKeyPolicy:
		k := st.FindKey(ref.ARN)
		if k == nil {
			return nil, fmt.Errorf("the key %s is not in the state", ref.ARN)
		}
		return k.Policy, nil
	case diff.DocBucketPolicy:
		b := st.FindBucket(bucketOf(ref))
		if b == nil {
			return nil, fmt.Errorf("the bucket %s is not in the state", bucketOf(ref))
		}
		return b.Policy, nil
	case diff.DocInlinePolicy:
		pr := st.FindPrincipal(ref.ARN)
		if pr == nil {
			return nil, fmt.Errorf("%s is not in the state", ref.ARN)
		}
		if i := slices.IndexFunc(pr.InlinePolicies, func(n state.NamedDoc) bool { return n.Name == ref.Name }); i >= 0 {
			return pr.InlinePolicies[i].Doc, nil
		}
		return nil, nil
	case diff.DocManagedPolicy:
		pr := st.FindPrincipal(principal)
		if pr == nil {
			return nil, fmt.Errorf("%s is not in the state", principal)
		}
		if i := slices.IndexFunc(pr.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.ARN == ref.ARN }); i >= 0 {
			return pr.AttachedPolicies[i].Document, nil
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown document kind %q", ref.Kind)
}

// Write replaces or creates a document in the copy.
func (s *StateStore) Write(_ context.Context, ref diff.DocRef, text string, create, attach bool) error {
	action := diff.ActionUpdate
	if create {
		action = diff.ActionCreate
	}
	return s.change(diff.Change{Document: ref, Action: action, After: text, Attach: attach})
}

// Delete removes a document from the copy.
func (s *StateStore) Delete(_ context.Context, ref diff.DocRef) error {
	return s.change(diff.Change{Document: ref, Action: diff.ActionDelete})
}

func (s *StateStore) change(ch diff.Change) error {
	p := &diff.Plan{Changes: []diff.Change{ch}, Subject: diff.Subject{PrincipalARN: s.principal}}
	if ch.Document.Kind == diff.DocBucketPolicy {
		p.Grant.Bucket = bucketOf(ch.Document)
	}
	return ToState(s.st, p)
}

// Finish saves the copy over the file, unless the file changed since it was
// opened.
func (s *StateStore) Finish(context.Context) error {
	now, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if !bytes.Equal(now, s.original) {
		return fmt.Errorf("%s changed while the plan was applied; it was not overwritten", s.path)
	}
	return snapshot.Save(s.path, s.st)
}
