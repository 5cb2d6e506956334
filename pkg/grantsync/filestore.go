package grantsync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// fileStore applies a combined plan to a snapshot file holding many
// principals and buckets (apply.StateStore serves one principal). Reads see
// the file as it is on disk (parsed again only when its bytes changed), so
// another writer's change shows as a stale document; writes go to a copy,
// saved once by Finish unless the file changed meanwhile.
type fileStore struct {
	path     string
	original []byte
	run      *Run

	mu      sync.Mutex
	lastRaw []byte
	last    *state.State
	st      *state.State
}

func newFileStore(path string, run *Run) (*fileStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	st, err := snapshot.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return &fileStore{path: path, original: data, run: run, st: st}, nil
}

func (s *fileStore) Describe() string { return "state file " + s.path }

// Read returns a document as the file holds it now.
func (s *fileStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	st, err := s.current()
	if err != nil {
		return "", false, err
	}
	if ref.Kind == diff.DocKeyPolicy && st.FindKey(ref.ARN) == nil {
		return "", false, fmt.Errorf("the key %s is not in %s", ref.ARN, s.path)
	}
	doc := docIn(st, ref, s.run.Principals[ref.ID()], "")
	if doc == nil {
		return "", false, nil
	}
	return string(doc.Text), true, nil
}

// current returns the file's state as it is on disk now.
func (s *fileStore) current() (*state.State, error) {
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

func (s *fileStore) change(ref diff.DocRef, ch diff.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &diff.Plan{Changes: []diff.Change{ch},
		Grant:   diff.Grant{Bucket: strings.TrimPrefix(ref.ARN, "arn:aws:s3:::")},
		Subject: diff.Subject{PrincipalARN: s.run.Principals[ref.ID()]}}
	return apply.ToState(s.st, p)
}

func (s *fileStore) Write(_ context.Context, ref diff.DocRef, text string, create, _ bool) error {
	action := diff.ActionUpdate
	if create {
		action = diff.ActionCreate
	}
	return s.change(ref, diff.Change{Document: ref, Action: action, After: text})
}

func (s *fileStore) Delete(_ context.Context, ref diff.DocRef) error {
	return s.change(ref, diff.Change{Document: ref, Action: diff.ActionDelete})
}

// Finish saves the copy over the file, unless the file changed since it was
// opened.
func (s *fileStore) Finish(context.Context) error {
	now, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if !bytes.Equal(now, s.original) {
		return fmt.Errorf("%s changed while the sync was applied; it was not overwritten", s.path)
	}
	return snapshot.Save(s.path, s.st)
}
