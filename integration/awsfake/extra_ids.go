package awsfake

import (
	"fmt"
	"regexp"
)

// This file lets a fixture keep the identifiers of a recorded state
// (a snapshot's key ARNs and principals' unique IDs), which the SDK cannot
// choose: AWS assigns them. With them kept, documents that name a key by
// ARN or a principal by unique ID read back byte for byte.

var (
	extraUniqueIDRe = regexp.MustCompile(`^[A-Z0-9]{4}[A-Z0-9]{5,124}$`)
	extraKeyIDRe    = regexp.MustCompile(`^(mrk-)?[a-zA-Z0-9-]{1,100}$`)
)

// SetUniqueID replaces the unique ID of a user, role or group (kind "user",
// "role" or "group"). It fails if another entity already has the ID.
func (s *Server) SetUniqueID(account, kind, name, id string) error {
	if !extraUniqueIDRe.MatchString(id) {
		return fmt.Errorf("awsfake: %q is not a unique ID", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entityByKind(account, kind, name)
	if err != nil {
		return err
	}
	for _, a := range s.accounts {
		for _, m := range a.entities {
			for _, o := range m {
				if o != e && o.id == id {
					return fmt.Errorf("awsfake: unique ID %s is taken by %s", id, o.arn)
				}
			}
		}
	}
	e.id = id
	return nil
}

// SetKeyID gives the key with ARN keyARN the key ID id (its ARN changes
// accordingly; aliases follow) and returns the new ARN.
func (s *Server) SetKeyID(oldARN, id string) (string, error) {
	if !extraKeyIDRe.MatchString(id) {
		return "", fmt.Errorf("awsfake: %q is not a key ID", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[oldARN]
	if k == nil {
		return "", fmt.Errorf("awsfake: no key %q", oldARN)
	}
	newARN := keyARN(k.account, k.region, id)
	if newARN == oldARN {
		return newARN, nil
	}
	if s.keys[newARN] != nil {
		return "", fmt.Errorf("awsfake: key %s exists", newARN)
	}
	if a := s.accounts[k.account]; a != nil {
		for _, al := range a.aliases[k.region] {
			if al.target == k.id {
				al.target = id
			}
		}
	}
	delete(s.keys, oldARN)
	k.id, k.arn = id, newARN
	s.keys[newARN] = k
	return newARN, nil
}
