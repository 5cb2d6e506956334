package awsfake

import "sync"

// This file simulates IAM's eventual consistency as KMS and S3 see it: a
// principal that IAM already shows can, for a while after its creation, be
// unknown to the policy checks of PutKeyPolicy and PutBucketPolicy, which
// then refuse the policy for an invalid principal.

// PropagatePrincipalAfter makes the next n calls of op (e.g.
// "kms:PutKeyPolicy") see the user or role principalARN as not existing
// yet, so a policy naming it is refused as it would be by AWS moments after
// the principal was created. IAM calls between those calls see the
// principal as usual. It returns a function that removes the simulation.
func (s *Server) PropagatePrincipalAfter(op, principalARN string, n int) (remove func()) {
	var mu sync.Mutex
	left := n
	var hidden *entity
	rb := s.Before(op, func(Call) {
		mu.Lock()
		defer mu.Unlock()
		if left <= 0 {
			return
		}
		left--
		s.mu.Lock()
		defer s.mu.Unlock()
		m := iamPrincipalRe.FindStringSubmatch(principalARN)
		if m == nil || s.accounts[m[1]] == nil {
			return
		}
		if e := s.accounts[m[1]].entityByARN(principalARN); e != nil {
			hidden = e
			e.arn += "#not-yet-propagated"
		}
	})
	ra := s.After(op, func(Call) {
		mu.Lock()
		defer mu.Unlock()
		if hidden == nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		hidden.arn = principalARN
		hidden = nil
	})
	return func() { rb(); ra() }
}
