package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// StateStore applies a plan to a snapshot file, so the whole flow runs
// without AWS. Reads come from the file as it is on disk at that moment
// (another writer's change is seen as a stale document); writes go to a
// copy in memory, and Finish saves it atomically (a temporary file, then
// rename) unless the file changed in between. It is safe for the
// concurrent writes of Options.Parallel.
type StateStore struct {
	path     string
	original []byte
	// principalOf names the user or role a managed policy belongs to: a
	// managed policy's ARN does not say whose it is.
	principalOf func(diff.DocRef) string

	mu      sync.Mutex
	st      *state.State // the copy the writes go to
	lastRaw []byte       // the file's bytes at the last read, and their parse
	last    *state.State
}

// NewStateStore opens a snapshot file for applying a plan about one
// principal.
func NewStateStore(path, principal string) (*StateStore, error) {
	return NewStateStoreFor(path, func(diff.DocRef) string { return principal })
}

// NewStateStoreFor opens a snapshot file for a plan about many principals
// (sync); principalOf says whose each managed policy is.
func NewStateStoreFor(path string, principalOf func(diff.DocRef) string) (*StateStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	st, err := snapshot.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return &StateStore{path: path, original: data, st: st, principalOf: principalOf}, nil
}

// Describe names the file.
func (s *StateStore) Describe() string { return "state file " + s.path }

// Read returns a document as the file holds it now.
func (s *StateStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	st, err := s.current()
	if err != nil {
		return "", false, err
	}
	if err := holds(st, ref, s.principalOf(ref)); err != nil {
		return "", false, err
	}
	doc := DocIn(st, ref, s.principalOf(ref))
	if doc == nil {
		return "", false, nil
	}
	return string(doc.Text), true, nil
}

// current returns the file's state as it is on disk now, parsed again only
// when its bytes changed.
func (s *StateStore) current() (*state.State, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != nil && bytes.Equal(data, s.lastRaw) {
		return s.last, nil
	}
	st, err := snapshot.Parse(s.path, data)
	if err != nil {
		return nil, err
	}
	s.last, s.lastRaw = st, data
	return st, nil
}

// DocIn returns the document a ref names in a state, nil where it does not
// exist; principal is whose a managed policy is.
func DocIn(st *state.State, ref diff.DocRef, principal string) *state.Doc {
	switch ref.Kind {
	case diff.DocKeyPolicy:
		if k := st.FindKey(ref.ARN); k != nil {
			return k.Policy
		}
	case diff.DocBucketPolicy:
		if b := st.FindBucket(bucketOf(ref)); b != nil {
			return b.Policy
		}
	case diff.DocInlinePolicy:
		if pr := st.FindPrincipal(ref.ARN); pr != nil {
			if i := slices.IndexFunc(pr.InlinePolicies, func(n state.NamedDoc) bool { return n.Name == ref.Name }); i >= 0 {
				return pr.InlinePolicies[i].Doc
			}
		}
	case diff.DocManagedPolicy:
		if pr := st.FindPrincipal(principal); pr != nil {
			if i := slices.IndexFunc(pr.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.ARN == ref.ARN }); i >= 0 {
				return pr.AttachedPolicies[i].Document
			}
		}
	}
	return nil
}

// holds checks that the state has the key, bucket or principal a document
// belongs to: a document missing because its owner is missing is an error,
// not an absent document.
func holds(st *state.State, ref diff.DocRef, principal string) error {
	switch ref.Kind {
	case diff.DocKeyPolicy:
		if st.FindKey(ref.ARN) == nil {
			return fmt.Errorf("the key %s is not in the state", ref.ARN)
		}
	case diff.DocBucketPolicy:
		if st.FindBucket(bucketOf(ref)) == nil {
			return fmt.Errorf("the bucket %s is not in the state", bucketOf(ref))
		}
	case diff.DocInlinePolicy:
		if st.FindPrincipal(ref.ARN) == nil {
			return fmt.Errorf("%s is not in the state", ref.ARN)
		}
	case diff.DocManagedPolicy:
		if st.FindPrincipal(principal) == nil {
			return fmt.Errorf("%s is not in the state", principal)
		}
	default:
		return fmt.Errorf("unknown document kind %q", ref.Kind)
	}
	return nil
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
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &diff.Plan{Changes: []diff.Change{ch}, Subject: diff.Subject{PrincipalARN: s.principalOf(ch.Document)}}
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
		return fmt.Errorf("%s changed while the changes were applied; it was not overwritten", s.path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot.Save(s.path, s.st)
}
