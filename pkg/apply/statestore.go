package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// StateStore applies a plan to a snapshot file, so the whole flow runs
// without AWS. Apply takes the file's lock (Lock) for its read-compare-write:
// under it the copy the writes go to is loaded again, every document is
// compared with the plan, and Finish saves the copy atomically (a temporary
// file, then rename). Two writers therefore never save copies of the same
// file: the second waits, then sees the first one's changes, and is refused
// as stale only if they touch a document of its own plan. It is safe for
// the concurrent writes of Options.Parallel.
type StateStore struct {
	path     string
	original []byte
	// principalOf names the user or role a managed policy belongs to: a
	// managed policy's ARN does not say whose it is.
	principalOf func(diff.DocRef) string
	// LockWait bounds the wait for another writer's lock; negative (as
	// NewStateStoreFor sets it) means DefaultLockWait, zero not at all.
	LockWait time.Duration

	mu       sync.Mutex
	st       *state.State      // the copy the writes go to
	written  bool              // a write went to st since it was parsed
	lastSum  [sha256.Size]byte // the file's digest at the last read, and its parse
	last     *state.State
	lastStat os.FileInfo // the file's size, time and identity at that read

	held *StateLock // a lock the caller holds for its whole run (UnderLock)
	lock *StateLock // the lock Lock took
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
	return &StateStore{path: path, original: data, st: st, principalOf: principalOf, LockWait: -1}, nil
}

// UnderLock tells the store that the caller already holds the file's lock
// for a longer stretch (a whole sync, or apply --yes from reading to
// writing): Lock then only loads the copy again, and Unlock leaves the lock
// to the caller.
func (s *StateStore) UnderLock(l *StateLock) { s.held = l }

// Lock takes the file's lock, waiting for another writer at most LockWait,
// and loads the copy the writes go to from the file as it is now, so that
// nothing another writer saved before is lost.
func (s *StateStore) Lock(ctx context.Context) error {
	if s.held != nil {
		if s.held.Path() != filepath.Clean(s.path) {
			return fmt.Errorf("the lock held is on %s, not on %s; nothing was written", s.held.Path(), s.path)
		}
	} else {
		l, err := LockStateFile(ctx, s.path, s.LockWait)
		if err != nil {
			return err
		}
		s.lock = l
	}
	if err := s.reload(); err != nil {
		s.Unlock()
		return err
	}
	return nil
}

// Unlock releases the lock Lock took (not a lock given to UnderLock).
func (s *StateStore) Unlock() {
	if s.lock != nil {
		_ = s.lock.Unlock()
		s.lock = nil
	}
}

func (s *StateStore) reload() error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("reading the state file: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.written && bytes.Equal(data, s.original) {
		// The copy was parsed from these very bytes and nothing was
		// written to it yet: parsing them again gives the same copy.
		return nil
	}
	st, err := snapshot.Parse(s.path, data)
	if err != nil {
		return err
	}
	s.original, s.st, s.written = data, st, false
	return nil
}

// Describe names the file.
func (s *StateStore) Describe() string { return "state file " + s.path }

// Read returns a document as the file holds it now.
func (s *StateStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	st, err := s.current()
	if err != nil {
		return "", false, err
	}
	owner := s.ownerIn(st, ref)
	if err := holds(st, ref, owner); err != nil {
		return "", false, err
	}
	doc := DocIn(st, ref, owner)
	if doc == nil {
		return "", false, nil
	}
	return string(doc.Text), true, nil
}

// ownerIn is whose an identity document is: principalOf's answer, else for
// a managed policy the user or role it is attached to in st (a sync's
// backup made before backups recorded owners does not say).
func (s *StateStore) ownerIn(st *state.State, ref diff.DocRef) string {
	owner := s.principalOf(ref)
	if owner != "" || ref.Kind != diff.DocManagedPolicy {
		return owner
	}
	for _, pr := range st.Principals {
		for _, m := range pr.AttachedPolicies {
			if m.ARN == ref.ARN {
				return pr.ARN
			}
		}
	}
	return ""
}

// current returns the file's state as it is on disk now, read and parsed
// again only when the file changed. Reading the whole file for every
// document made a run that writes n documents of an n-grant file cost n
// times the file (quadratic: 152 GB read for 10,000 grants). A change is
// seen by the file's size, modification time or identity (a writer that
// replaces the file, as bucketgrant does, makes a new one); a change none
// of them shows is still caught by Finish, which compares the whole file
// with what was opened before saving over it.
func (s *StateStore) current() (*state.State, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != nil && s.lastStat != nil && sameFile(fi, s.lastStat) {
		return s.last, nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	// A digest, not the bytes: the whole file need not stay in memory.
	sum := sha256.Sum256(data)
	if s.last != nil && sum == s.lastSum {
		s.lastStat = fi
		return s.last, nil
	}
	st, err := snapshot.Parse(s.path, data)
	if err != nil {
		return nil, err
	}
	s.last, s.lastSum, s.lastStat = st, sum, fi
	return st, nil
}

func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
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
		if principal == "" {
			return fmt.Errorf("no user or role in the state has the managed policy %s attached, and what it belongs to is not known (a backup of a sync made by an older bucketgrant does not say)", ref.ARN)
		}
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
	s.written = true
	p := &diff.Plan{Changes: []diff.Change{ch}, Subject: diff.Subject{PrincipalARN: s.ownerIn(s.st, ch.Document)}}
	if ch.Document.Kind == diff.DocBucketPolicy {
		p.Grant.Bucket = bucketOf(ch.Document)
	}
	return ToState(s.st, p)
}

// Finish saves the copy over the file, unless the file changed since it was
// loaded: under the lock only a writer that does not take it (an editor, an
// older bucketgrant) can have changed it.
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
