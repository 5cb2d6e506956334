package apply

import (
	"context"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// Store reads and writes the documents a plan changes: live AWS through the
// SDK (AWSStore), or a snapshot file (StateStore).
type Store interface {
	// Read returns a document's current text; exists is false when the
	// document does not exist (no bucket policy, no such inline policy).
	Read(ctx context.Context, ref diff.DocRef) (text string, exists bool, err error)
	// Write replaces or creates a document. attach asks that a created
	// managed policy be attached to the principal.
	Write(ctx context.Context, ref diff.DocRef, text string, create, attach bool) error
	// Delete removes a document (revoke and rollback of a created one).
	Delete(ctx context.Context, ref diff.DocRef) error
	// Describe names where the store writes, for messages ("AWS", a file).
	Describe() string
}

// Finisher is a Store that must finish after the last write (a snapshot
// file is saved once, atomically).
type Finisher interface {
	Finish(ctx context.Context) error
}

// Locker is a Store that must be locked for the read-compare-write of one
// apply (a snapshot file): Apply locks it before its first read and
// unlocks it after the last write is saved.
type Locker interface {
	Lock(ctx context.Context) error
	Unlock()
}

// Wrapper is a Store that passes its documents through to another (a
// store that counts writes, for progress); Apply looks through it for
// Locker.
type Wrapper interface {
	Unwrap() Store
}

// asStore finds a T in a store or the stores it wraps.
func asStore[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}
