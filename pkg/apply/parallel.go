package apply

import (
	"context"
	"errors"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// applyParallel is Apply's write loop with up to o.Parallel documents read
// or written at once, after precheck and the backup. The guarantees are
// Apply's: each document is read again right before its own write and
// written only if it is as the plan read it, and the phases (identity,
// key, bucket policies) follow each other, so every intermediate state
// still lies between the start and the end. A failure stops the run after
// the writes already in flight, which are reported as written.
func applyParallel(ctx context.Context, store Store, p *diff.Plan, changes []diff.Change, res *Result, o Options) (*Result, error) {
	rollback := p.Operation == diff.PlanRollback
	path := res.BackupPath

	var mu sync.Mutex
	done := make([]bool, len(changes))
	for _, phase := range phases(changes) {
		var failure error
		ferr := forEach(ctx, len(phase), o.Parallel, func(ctx context.Context, j int) error {
			i := phase[j]
			ch := changes[i]
			text, exists, err := store.Read(ctx, ch.Document)
			if err != nil {
				return &PartialError{Failed: ch.Document, Err: err, Backup: path}
			}
			if !fresh(p, ch.Document, text, exists) {
				return &StaleError{Document: ch.Document, Backup: path, Rollback: rollback}
			}
			if err := write(ctx, store, ch); err != nil {
				return &PartialError{Failed: ch.Document, Err: err, Backup: path}
			}
			mu.Lock()
			done[i] = true
			res.Written = append(res.Written, ch.Document)
			mu.Unlock()
			if ch.Action == diff.ActionDelete {
				logf(o, "Deleted the %s", describe(ch.Document))
			} else {
				logf(o, "Wrote the %s", describe(ch.Document))
			}
			return nil
		})
		failure = ferr
		if failure != nil {
			// Fill in what the concurrent writers could not know: everything
			// written by the others, and what is left.
			var notWritten []diff.DocRef
			var failed diff.DocRef
			var pe *PartialError
			var se *StaleError
			switch {
			case errors.As(failure, &pe):
				failed = pe.Failed
			case errors.As(failure, &se):
				failed = se.Document
			}
			for i, ch := range changes {
				if !done[i] && ch.Document != failed {
					notWritten = append(notWritten, ch.Document)
				}
			}
			switch {
			case pe != nil:
				pe.Written, pe.NotWritten = res.Written, notWritten
			case se != nil:
				se.Written = res.Written
			}
			return res, finish(ctx, store, res, failure)
		}
	}
	return res, finish(ctx, store, res, nil)
}

// phases splits ordered changes into runs of the same write rank.
func phases(changes []diff.Change) [][]int {
	rank := map[string]int{diff.DocInlinePolicy: 0, diff.DocManagedPolicy: 0, diff.DocKeyPolicy: 1, diff.DocBucketPolicy: 2}
	var out [][]int
	for i, ch := range changes {
		if i == 0 || rank[ch.Document.Kind] != rank[changes[i-1].Document.Kind] {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], i)
	}
	return out
}

// forEach runs fn for 0..n-1 with at most limit at once. The first error
// stops new work; work already started finishes with the caller's context
// (a write cut off half-way would leave its outcome unknown).
func forEach(ctx context.Context, n, limit int, fn func(context.Context, int) error) error {
	if limit < 1 {
		limit = 1
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	sem := make(chan struct{}, limit)
	for i := 0; i < n && !failed(); i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || failed() {
			if ctx.Err() == nil {
				<-sem
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		return ctx.Err()
	}
	return first
}
