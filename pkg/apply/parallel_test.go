package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// memStore is an in-memory store that records the order and concurrency of
// writes.
type memStore struct {
	mu       sync.Mutex
	docs     map[string]string
	inFlight int
	maxIn    int
	events   []string // "start ID" / "end ID"
	fail     string   // a document ID whose write fails
	reads    map[string]int
	// onRead, when set, runs before each read (with the lock held).
	onRead func(id string)
}

func (s *memStore) Describe() string { return "memory" }

func (s *memStore) Read(_ context.Context, ref diff.DocRef) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reads == nil {
		s.reads = map[string]int{}
	}
	s.reads[ref.ID()]++
	if s.onRead != nil {
		s.onRead(ref.ID())
	}
	t, ok := s.docs[ref.ID()]
	return t, ok, nil
}

func (s *memStore) Write(_ context.Context, ref diff.DocRef, text string, _, _ bool) error {
	s.mu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.events = append(s.events, "start "+ref.ID())
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // let writes overlap
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	s.events = append(s.events, "end "+ref.ID())
	if ref.ID() == s.fail {
		return errors.New("refused")
	}
	s.docs[ref.ID()] = text
	return nil
}

func (s *memStore) Delete(context.Context, diff.DocRef) error { return errors.New("not used") }

const (
	keyDoc    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
	bucketDoc = `{"Version":"2012-10-17","Statement":[]}`
)

// manyChanges is a plan over n documents of each kind, listed bucket
// first so that Order has to sort them.
func manyChanges(n int) (*diff.Plan, *memStore) {
	s := &memStore{docs: map[string]string{}}
	p := &diff.Plan{Fingerprints: map[string]string{}}
	add := func(ref diff.DocRef, before, after string) {
		s.docs[ref.ID()] = before
		p.Fingerprints[ref.ID()] = fingerprint(before, true)
		p.Changes = append(p.Changes, diff.Change{Document: ref, Action: diff.ActionUpdate, Before: before, After: after,
			Statements: []diff.StatementChange{{Op: diff.OpAdd, Sid: "BucketGrantX"}}})
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Sid":"BucketGrantX","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	for i := range n {
		add(diff.DocRef{Kind: diff.DocBucketPolicy, ARN: fmt.Sprintf("arn:aws:s3:::b%d", i), Account: "111122223333"}, bucketDoc,
			`{"Version":"2012-10-17","Statement":[{"Sid":"BucketGrantX","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
		add(diff.DocRef{Kind: diff.DocKeyPolicy, ARN: fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/k%d", i), Account: "111122223333"}, keyDoc, keyDoc)
		add(diff.DocRef{Kind: diff.DocInlinePolicy, ARN: fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", i), Name: "bucketgrant-b", Account: "111122223333"}, bucketDoc, grant)
	}
	return p, s
}

func rank(id string) int {
	switch {
	case len(id) > 6 && id[:6] == "inline":
		return 0
	case len(id) > 3 && id[:3] == "key":
		return 1
	}
	return 2
}

func TestApplyParallelKeepsPhases(t *testing.T) {
	p, s := manyChanges(6)
	res, err := Apply(context.Background(), s, p, Options{BackupDir: t.TempDir(), Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != len(p.Changes) {
		t.Fatalf("wrote %d documents, want %d", len(res.Written), len(p.Changes))
	}
	for _, ch := range p.Changes {
		if s.docs[ch.Document.ID()] != ch.After {
			t.Errorf("%s was not written", ch.Document.ID())
		}
	}
	if s.maxIn < 2 || s.maxIn > 4 {
		t.Errorf("at most %d writes were in flight, want 2..4", s.maxIn)
	}
	// No write of a later phase starts before every write of an earlier
	// phase ended.
	ended := map[int]int{}
	for _, e := range s.events {
		var kind, id string
		fmt.Sscan(e, &kind, &id)
		r := rank(id)
		if kind == "start" {
			for earlier := 0; earlier < r; earlier++ {
				if ended[earlier] != 6 {
					t.Fatalf("%s started before phase %d finished (%d of 6 ended)", id, earlier, ended[earlier])
				}
			}
		} else {
			ended[r]++
		}
	}
}

func TestApplyParallelStopsAfterFailure(t *testing.T) {
	p, s := manyChanges(3)
	s.fail = "key-policy:arn:aws:kms:us-east-1:111122223333:key/k1"
	res, err := Apply(context.Background(), s, p, Options{BackupDir: t.TempDir(), Parallel: 3})
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want a *PartialError", err)
	}
	if pe.Failed.ID() != s.fail {
		t.Errorf("failed %s, want %s", pe.Failed.ID(), s.fail)
	}
	if len(res.Written) != 5 || len(pe.Written) != 5 {
		t.Errorf("written %d (error says %d), want the 3 identity and 2 other key policies", len(res.Written), len(pe.Written))
	}
	if len(pe.NotWritten) != 3 {
		t.Errorf("not written %v, want the 3 bucket policies", pe.NotWritten)
	}
	for _, e := range s.events {
		var kind, id string
		fmt.Sscan(e, &kind, &id)
		if rank(id) == 2 {
			t.Fatalf("a bucket policy was written after the key phase failed: %s", e)
		}
	}
	if pe.Backup == "" {
		t.Error("no backup named")
	}
}

func TestApplyParallelRefusesStale(t *testing.T) {
	p, s := manyChanges(2)
	s.docs["key-policy:arn:aws:kms:us-east-1:111122223333:key/k0"] = `{"Version":"2012-10-17","Statement":[]}`
	_, err := Apply(context.Background(), s, p, Options{BackupDir: t.TempDir(), Parallel: 4})
	var se *StaleError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *StaleError", err)
	}
	if len(s.events) != 0 {
		t.Errorf("wrote despite a stale document: %v", s.events)
	}
}

// TestCheckAtWriteReadsOnce: with CheckAtWrite each document is read once,
// right before its own write (without it, twice), sequentially and in
// parallel, and the backup saves each document as the plan read it.
func TestCheckAtWriteReadsOnce(t *testing.T) {
	for _, parallel := range []int{1, 4} {
		for _, once := range []bool{false, true} {
			p, s := manyChanges(3)
			res, err := Apply(context.Background(), s, p, Options{BackupDir: t.TempDir(), Parallel: parallel, CheckAtWrite: once})
			if err != nil {
				t.Fatal(err)
			}
			want := 2
			if once {
				want = 1
			}
			for _, ch := range p.Changes {
				if n := s.reads[ch.Document.ID()]; n != want {
					t.Errorf("parallel %d, CheckAtWrite %v: %s read %d times, want %d", parallel, once, ch.Document.ID(), n, want)
				}
			}
			b, err := ReadBackup(res.BackupPath)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range b.Documents {
				if ch := Order(p)[i]; d.Content != ch.Before || !d.Existed || d.Written != ch.After {
					t.Errorf("backup of %s: %+v", ch.Document.ID(), d)
				}
			}
		}
	}
}

// TestCheckAtWriteRefusesStale: a document another writer changes after
// the plan is not overwritten; with CheckAtWrite the documents before it
// are written (and reported), the ones after it are not.
func TestCheckAtWriteRefusesStale(t *testing.T) {
	for _, parallel := range []int{1, 4} {
		p, s := manyChanges(2)
		stale := "key-policy:arn:aws:kms:us-east-1:111122223333:key/k0"
		theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
		s.onRead = func(id string) {
			// The other writer lands after the identity policies were
			// written, just before the key policy's check.
			if id == stale {
				s.docs[stale] = theirs
			}
		}
		res, err := Apply(context.Background(), s, p, Options{BackupDir: t.TempDir(), Parallel: parallel, CheckAtWrite: true})
		var se *StaleError
		if !errors.As(err, &se) || se.Document.ID() != stale {
			t.Fatalf("parallel %d: error %v, want the key policy stale", parallel, err)
		}
		if s.docs[stale] != theirs {
			t.Errorf("parallel %d: the other writer's key policy was overwritten", parallel)
		}
		for _, e := range s.events {
			var what, id string
			fmt.Sscan(e, &what, &id)
			if id == stale || rank(id) == 2 {
				t.Errorf("parallel %d: %s: the stale key policy, or a bucket policy after it, was written", parallel, e)
			}
		}
		// The other key policy is in the same phase: in parallel it may be
		// in flight already.
		if n := len(res.Written); n != 2 && (parallel == 1 || n != 3) || len(se.Written) != n || res.BackupPath == "" {
			t.Errorf("parallel %d: written %v (error: %v), backup %q; want the 2 identity policies", parallel, res.Written, se.Written, res.BackupPath)
		}
	}
}
