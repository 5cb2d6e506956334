package state

import (
	"fmt"
	"sync"
	"testing"
)

// TestIndexFollowsTheSlices: lookups stay right when the slices grow,
// shrink or are replaced after a lookup built the index, and under
// concurrent use (go test -race).
func TestIndexFollowsTheSlices(t *testing.T) {
	s := &State{}
	for i := range 3 * scanMax {
		s.Principals = append(s.Principals, Principal{ARN: fmt.Sprintf("arn:aws:iam::111122223333:user/team/u%d", i)})
		s.Buckets = append(s.Buckets, Bucket{Name: fmt.Sprintf("b%d", i)})
		s.Keys = append(s.Keys, Key{ARN: fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/k%d", i)})
	}
	check := func(what string) {
		t.Helper()
		for i := range s.Principals {
			arn := s.Principals[i].ARN
			if p := s.FindPrincipal(arn); p != &s.Principals[i] {
				t.Fatalf("%s: FindPrincipal(%s) = %v", what, arn, p)
			}
		}
		for i := range s.Buckets {
			if b := s.FindBucket(s.Buckets[i].Name); b != &s.Buckets[i] {
				t.Fatalf("%s: FindBucket(%s) = %v", what, s.Buckets[i].Name, b)
			}
		}
		for i := range s.Keys {
			if k := s.FindKey(s.Keys[i].ARN); k != &s.Keys[i] {
				t.Fatalf("%s: FindKey(%s) = %v", what, s.Keys[i].ARN, k)
			}
		}
	}
	check("first")
	// Without the path, and as a session (a role's).
	if p := s.FindPrincipal("arn:aws:iam::111122223333:user/u7"); p == nil || p.ARN != "arn:aws:iam::111122223333:user/team/u7" {
		t.Errorf("path-less lookup: %v", p)
	}
	if p := s.FindPrincipal("arn:aws:iam::999999999999:user/u7"); p != nil {
		t.Errorf("another account's u7 found %s", p.ARN)
	}
	s.Principals = append(s.Principals, Principal{ARN: "arn:aws:iam::111122223333:role/r"})
	check("after an append")
	if p := s.FindPrincipal("arn:aws:sts::111122223333:assumed-role/r/session"); p == nil || p.ARN != "arn:aws:iam::111122223333:role/r" {
		t.Errorf("session lookup: %v", p)
	}
	if p := s.FindPrincipal("arn:aws:iam::111122223333:user/r"); p != nil {
		t.Errorf("user/r found the role: %v", p)
	}
	s.Buckets = s.Buckets[10:]
	s.Principals = append([]Principal(nil), s.Principals[:20]...)
	check("after a shrink and a copy")
	if s.FindBucket("b3") != nil || s.FindPrincipal("arn:aws:iam::111122223333:role/r") != nil {
		t.Error("found an entry no longer there")
	}
	// An entry replaced in place is found, and its old name is not.
	s.Keys[3] = Key{ARN: "arn:aws:kms:us-east-1:111122223333:key/new"}
	if k := s.FindKey("arn:aws:kms:us-east-1:111122223333:key/new"); k != &s.Keys[3] {
		t.Errorf("replaced key: %v", k)
	}
	if k := s.FindKey("arn:aws:kms:us-east-1:111122223333:key/k3"); k != nil {
		t.Errorf("the replaced key's old ARN found %v", k)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range s.Buckets {
				_ = s.FindBucket(s.Buckets[i].Name)
			}
		}()
	}
	wg.Wait()
}

// TestIndexOfACopy: a State copied by value has an index of its own;
// lookups in both stay right as either changes.
func TestIndexOfACopy(t *testing.T) {
	s := &State{Buckets: []Bucket{{Name: "a"}, {Name: "b"}}}
	for i := range 2 * scanMax {
		s.Buckets = append(s.Buckets, Bucket{Name: fmt.Sprintf("x%d", i)})
	}
	if s.FindBucket("b") == nil {
		t.Fatal("b not found")
	}
	cp := *s
	cp.Buckets = append([]Bucket{{Name: "c"}}, cp.Buckets...)
	for _, tc := range []struct {
		st   *State
		name string
		want bool
	}{{s, "b", true}, {s, "c", false}, {&cp, "c", true}, {&cp, "b", true}, {s, "a", true}} {
		if got := tc.st.FindBucket(tc.name); (got != nil) != tc.want || got != nil && got.Name != tc.name {
			t.Errorf("FindBucket(%s) = %v, want found=%v", tc.name, got, tc.want)
		}
	}
}
