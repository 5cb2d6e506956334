package grantsync

import (
	"context"
	"maps"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// readStore answers reads from a map by DocID, as the documents would read
// back after the writes; it is never written to.
type readStore map[string]readBack

func (s readStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	rb := s[ref.ID()]
	return rb.text, rb.exists, nil
}
func (readStore) Write(context.Context, diff.DocRef, string, bool, bool) error { return nil }
func (readStore) Delete(context.Context, diff.DocRef) error                    { return nil }
func (readStore) Describe() string                                             { return "test" }

// verifyWith plans the grants on the cross-account seed, then verifies
// them as if every document had been written and reads back as back(ch)
// says, with the verification planned ahead (spec) or not. It returns the
// statuses and whether the speculation's outcome was used.
func verifyWith(t *testing.T, spec bool, back func(ch diff.Change) readBack) (map[string]Status, bool) {
	t.Helper()
	st := crossAccount(t)
	f := file(Grant{Principal: jane, Bucket: bucket}, Grant{Principal: bob, Bucket: bucket, Access: []diff.Level{diff.Read}})
	c := Config{File: f, Parallel: 4}
	run, err := PlanAll(st, f, f.Grants, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := readStore{}
	var refs []diff.DocRef
	for _, ch := range run.Plan.Changes {
		refs = append(refs, ch.Document)
		store[ch.Document.ID()] = back(ch)
	}
	if len(refs) != 4 {
		t.Fatalf("%d documents to write, want the key and bucket policies and two inline policies", len(refs))
	}
	var s *speculation
	if spec {
		s = c.speculate(context.Background(), st, run, refs)
	}
	// Written in another order than planned, as parallel writers finish.
	res := &apply.Result{Written: []diff.DocRef{refs[3], refs[1], refs[0], refs[2]}}
	run.Plan = nil
	used := false
	if s != nil {
		got := map[string]readBack{}
		maps.Copy(got, store)
		// outcome is what verify asks; asking twice is what verify would
		// get, since the speculation has ended.
		used = s.outcome(got) != nil
	}
	if err := c.verify(context.Background(), store, st, run, refs, res, s); err != nil {
		t.Fatal(err)
	}
	out := map[string]Status{}
	for _, r := range run.Results {
		out[r.Grant.Principal] = r.Status
	}
	return out, used
}

// TestVerifyAheadIsVerification: when every document reads back as
// written, the verification planned during the writes is used, and it is
// what planning after the writes finds.
func TestVerifyAheadIsVerification(t *testing.T) {
	asWritten := func(ch diff.Change) readBack { return readBack{text: ch.After, exists: ch.Action != diff.ActionDelete} }
	ahead, used := verifyWith(t, true, asWritten)
	if !used {
		t.Error("the documents read back as written, but the speculation was not used")
	}
	after, _ := verifyWith(t, false, asWritten)
	want := map[string]Status{jane: StatusFixed, bob: StatusFixed}
	if !maps.Equal(ahead, want) || !maps.Equal(after, want) {
		t.Errorf("planned ahead %v, after the writes %v; want %v", ahead, after, want)
	}
}

// TestVerifyAheadThrownAway: another writer put the key policy back as it
// was between bucketgrant's write and the read back. The speculation is
// not used, and both grants, which need the key policy, are errors.
func TestVerifyAheadThrownAway(t *testing.T) {
	for _, spec := range []bool{true, false} {
		got, used := verifyWith(t, spec, func(ch diff.Change) readBack {
			if ch.Document.Kind == diff.DocKeyPolicy {
				return readBack{text: ch.Before, exists: true}
			}
			return readBack{text: ch.After, exists: ch.Action != diff.ActionDelete}
		})
		if used {
			t.Error("a document read back other than written, but the speculation was used")
		}
		if want := map[string]Status{jane: StatusError, bob: StatusError}; !maps.Equal(got, want) {
			t.Errorf("speculating %v: %v, want %v", spec, got, want)
		}
	}
}
