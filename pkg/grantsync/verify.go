package grantsync

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Verifying is reading every written document back and planning every
// grant again on the state as read back. Planning again is CPU (about as
// long as planning) and, done after the writes, nothing else happens
// meanwhile. Against AWS the writes are mostly waiting on the network, so
// sync plans again while it writes, on the documents as it is writing them
// (speculate): if every document reads back byte for byte as written, the
// state planned on is the very state verification would build, and the
// early outcome is the verification's; if any differs (another writer, a
// service that rewrites what it is given), it is thrown away and every
// grant is planned again on what was read back.

// readBack is a document as read back after the writes.
type readBack struct {
	text   string
	exists bool
}

// recheck is what planning a grant again found: nothing to change (ok),
// or the reason it is an error.
type recheck struct {
	ok     bool
	reason string
}

// stateAfter is st with each written document as read back (got, by
// DocID), put in in the order of refs, which is the plan's: the state
// verification plans on.
func stateAfter(st *state.State, run *Run, refs []diff.DocRef, got map[string]readBack) (*state.State, error) {
	after := CloneState(st)
	for _, ref := range refs {
		rb, ok := got[ref.ID()]
		if !ok {
			continue // not written
		}
		ch := diff.Change{Document: ref, Action: diff.ActionDelete}
		if rb.exists {
			ch.Action, ch.After = diff.ActionUpdate, rb.text
			if apply.DocIn(after, ref, run.Principals[ref.ID()]) == nil {
				ch.Action = diff.ActionCreate
			}
		}
		p := &diff.Plan{Changes: []diff.Change{ch}, Grant: diff.Grant{Bucket: bucketOfRef(ref)}, Subject: diff.Subject{PrincipalARN: run.Principals[ref.ID()]}}
		if err := apply.ToState(after, p); err != nil {
			return nil, fmt.Errorf("verifying: %w", err)
		}
	}
	return after, nil
}

// replan plans every grant that was in sync or had drift again on after,
// on every core (but one, beside the writes), a group of grants at a time: the grants of a group share
// their bucket's and key's policies, so the planner's cache of parsed
// documents finds them while the group is planned. The verdicts are by
// index in run.Results; the results themselves are not touched. beside
// says the writes are still going on: planning then leaves them a core
// and yields after each grant, since a goroutine that reads a write's
// answer waits for a free core, and with every core planning that wait
// (up to Go's 10 ms time slice) was added to each 20 ms call of the
// benchmark, slowing the writes by half.
func (c *Config) replan(ctx context.Context, after *state.State, run *Run, beside bool) ([]recheck, error) {
	groups := map[string][]int{}
	var order []string
	for i, r := range run.Results {
		if r.Status != StatusDrift && r.Status != StatusInSync {
			continue
		}
		g := "bucket:" + r.Grant.Bucket
		if k := after.KeyForBucket(after.FindBucket(r.Grant.Bucket)); k != nil {
			g = "key:" + k.ARN
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	out := make([]recheck, len(run.Results))
	work := make(chan []int)
	planners := max(1, runtime.GOMAXPROCS(0))
	if beside {
		planners = max(1, planners-1)
	}
	var wg sync.WaitGroup
	for range planners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for group := range work {
				for _, i := range group {
					r := run.Results[i]
					opts := c.File.Options(r.Grant, c.ToolVersion)
					opts.NoFingerprints = true // only whether it is empty counts
					p, err := diff.Make(after, opts)
					switch {
					case err != nil:
						out[i].reason = "verifying after the write: " + err.Error()
					case p.Blocked() || !p.Empty():
						out[i].reason = "the documents were written, but planning again still finds changes; run sync again, or look for another writer"
					default:
						out[i].ok = true
					}
					if beside {
						runtime.Gosched()
					}
				}
			}
		}()
	}
	var err error
	for _, g := range order {
		if err = ctx.Err(); err != nil {
			break
		}
		work <- groups[g]
	}
	close(work)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// settle puts the verdicts into the results: a grant with drift that plans
// empty again is fixed; one that does not is an error.
func settle(run *Run, verdicts []recheck) {
	for i, r := range run.Results {
		if r.Status != StatusDrift && r.Status != StatusInSync {
			continue
		}
		switch v := verdicts[i]; {
		case !v.ok:
			r.Status, r.Reasons = StatusError, append(r.Reasons, v.reason)
		case r.Status == StatusDrift:
			r.Status = StatusFixed
		}
	}
}

// speculation is verification planned ahead on the documents as written.
type speculation struct {
	written  map[string]readBack // by DocID: what each write puts there
	cancel   context.CancelFunc
	done     chan struct{}
	verdicts []recheck
	err      error
	waited   time.Duration // for it to end, once the documents were read back
}

// speculate starts planning every grant again on st with the plan's
// documents as it writes them. The plan must be the run's combined plan,
// before it is applied.
func (c *Config) speculate(ctx context.Context, st *state.State, run *Run, refs []diff.DocRef) *speculation {
	ctx, cancel := context.WithCancel(ctx)
	s := &speculation{written: make(map[string]readBack, len(run.Plan.Changes)), cancel: cancel, done: make(chan struct{})}
	for _, ch := range run.Plan.Changes {
		rb := readBack{exists: ch.Action != diff.ActionDelete}
		if rb.exists {
			rb.text = ch.After
		}
		s.written[ch.Document.ID()] = rb
	}
	go func() {
		defer close(s.done)
		after, err := stateAfter(st, run, refs, s.written)
		if err != nil {
			s.err = err
			return
		}
		s.verdicts, s.err = c.replan(ctx, after, run, true)
	}()
	return s
}

// stop abandons the speculation and waits for it to end. Safe on nil.
func (s *speculation) stop() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// outcome returns the speculation's verdicts if they are the
// verification's: every document of the plan was written and reads back
// exactly as written. Otherwise it stops the speculation and returns nil.
func (s *speculation) outcome(got map[string]readBack) []recheck {
	if s == nil {
		return nil
	}
	same := len(got) == len(s.written)
	for id, rb := range got {
		if w, ok := s.written[id]; !ok || w != rb {
			same = false
			break
		}
	}
	if !same {
		s.stop()
		return nil
	}
	t := time.Now()
	<-s.done
	s.waited = time.Since(t)
	s.cancel()
	if s.err != nil {
		return nil
	}
	return s.verdicts
}

// verify reads every written document back and plans every grant again on
// the state as it now is: a grant whose plan is not empty was not fixed.
// refs are the plan's documents in its order; spec, if not nil, is the
// verification planned while writing.
func (c *Config) verify(ctx context.Context, store apply.Store, st *state.State, run *Run, refs []diff.DocRef, res *apply.Result, spec *speculation) error {
	c.progress("verifying", 0, len(res.Written))
	// Read back concurrently: the reads are independent.
	type result struct {
		readBack
		err error
	}
	read := make([]result, len(res.Written))
	sem := make(chan struct{}, c.Parallel)
	var wg sync.WaitGroup
	for i, ref := range res.Written {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			text, exists, err := store.Read(ctx, ref)
			read[i] = result{readBack{text, exists}, err}
		}()
	}
	wg.Wait()
	got := make(map[string]readBack, len(res.Written))
	for i, ref := range res.Written {
		if err := read[i].err; err != nil {
			spec.stop()
			return fmt.Errorf("verifying: reading back the %s: %w", ref.ID(), err)
		}
		got[ref.ID()] = read[i].readBack
	}
	verdicts := spec.outcome(got)
	log := c.log()
	if spec != nil {
		log.Info("verifying", "documents", len(res.Written), "planned_while_writing", verdicts != nil, "waited", spec.waited.Round(time.Millisecond))
	}
	if verdicts == nil {
		after, err := stateAfter(st, run, refs, got)
		if err != nil {
			return err
		}
		if verdicts, err = c.replan(ctx, after, run, false); err != nil {
			return err
		}
	}
	settle(run, verdicts)
	c.progress("verifying", len(res.Written), len(res.Written))
	return nil
}

func bucketOfRef(ref diff.DocRef) string {
	if ref.Kind != diff.DocBucketPolicy {
		return ""
	}
	return ref.ARN[strings.LastIndex(ref.ARN, ":")+1:]
}
