package grantsync

import (
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// grantID names the statements of one grant: bucketgrant derives their
// Sids from the principal's ARN (as policies name it), the bucket and the
// prefix (diff.SidFor).
type grantID struct {
	principal, bucket, prefix string
}

// key identifies the grant whatever the principal's path: IAM names are
// unique per account and kind, so a file that names a user without its path
// means the same grant.
func (g grantID) key() string { return principalKey(g.principal) + "|" + g.bucket + "|" + g.prefix }

// pairKey identifies a principal on a bucket, any prefix.
func (g grantID) pairKey() string { return principalKey(g.principal) + "|" + g.bucket }

func (g Grant) id() grantID {
	return grantID{principal: g.Principal, bucket: g.Bucket, prefix: g.Prefix}
}

// sidOwner is the grant and purpose a bucketgrant Sid was derived from.
type sidOwner struct {
	id      grantID
	purpose string
}

// attribution tells, for each of bucketgrant's Sids found in a state, which
// grant and purpose it was derived from. A Sid is a digest, so it cannot be
// read back: attribution derives the Sids of every grant the state and the
// file point at (the file's grants; every principal, bucket and prefix that
// bucketgrant's statements name, and the bucket an identity policy's name
// or a key's buckets give) and looks each statement's Sid up. A Sid it
// cannot attribute belongs to a grant it cannot name, and prune leaves it:
// not knowing its bucket, it cannot know the file is the truth for it.
type attribution map[string]sidOwner

func (a attribution) add(id grantID) {
	for _, p := range diff.Purposes {
		a[diff.SidFor(id.principal, id.bucket, id.prefix, p)] = sidOwner{id: id, purpose: p}
	}
}

// attribute builds the attribution for st and the file's grants.
func attribute(st *state.State, grants []Grant) attribution {
	// pairs holds, per principal (as policies name it) and bucket, the
	// prefixes seen for them; "" is always tried.
	type pair struct{ principal, bucket string }
	prefixes := map[pair]map[string]bool{}
	var order []pair
	note := func(principal, bucket, prefix string) {
		pr := pair{principal, bucket}
		set, ok := prefixes[pr]
		if !ok {
			set = map[string]bool{"": true}
			prefixes[pr] = set
			order = append(order, pr)
		}
		set[prefix] = true
	}
	for _, g := range grants {
		note(g.Principal, g.Bucket, g.Prefix)
		if p := st.FindPrincipal(g.Principal); p != nil && p.ARN != g.Principal {
			note(p.ARN, g.Bucket, g.Prefix)
		}
	}
	bucketsOfKey := map[string][]string{}
	for i := range st.Buckets {
		b := &st.Buckets[i]
		if k := st.KeyForBucket(b); k != nil {
			bucketsOfKey[k.ARN] = append(bucketsOfKey[k.ARN], b.Name)
		}
	}
	// kmsPairs are principal and key pairs of KMS statements, resolved to
	// buckets once every prefix is known.
	type kmsPair struct{ principal, key string }
	var kms []kmsPair
	ownStatements := func(doc *state.Doc, kind policy.Kind, visit func(policy.Statement, string)) {
		if doc == nil || len(doc.Text) == 0 {
			return
		}
		d, err := policy.Parse(doc.Text, kind)
		if err != nil {
			return // prune reports the document when it gets to it
		}
		for _, s := range d.Statements() {
			if p := diff.PurposeOfSid(s.Sid); p != "" {
				visit(s, p)
			}
		}
	}
	for i := range st.Buckets {
		b := &st.Buckets[i]
		ownStatements(b.Policy, policy.KindBucketPolicy, func(s policy.Statement, _ string) {
			for _, arn := range principalsOf(s) {
				for _, r := range resourcesOf(s) {
					if bucket, prefix, ok := s3Resource(r, s); ok && bucket == b.Name {
						note(arn, bucket, prefix)
					}
				}
			}
		})
	}
	for i := range st.Keys {
		k := &st.Keys[i]
		ownStatements(k.Policy, policy.KindKeyPolicy, func(s policy.Statement, _ string) {
			for _, arn := range principalsOf(s) {
				kms = append(kms, kmsPair{arn, k.ARN})
			}
		})
	}
	for i := range st.Principals {
		p := &st.Principals[i]
		visit := func(s policy.Statement, purpose string) {
			for _, r := range resourcesOf(s) {
				if purpose == diff.PurposeKMS {
					kms = append(kms, kmsPair{p.ARN, r})
					continue
				}
				if bucket, prefix, ok := s3Resource(r, s); ok {
					note(p.ARN, bucket, prefix)
				}
			}
		}
		for _, in := range p.InlinePolicies {
			if strings.HasPrefix(in.Name, diff.InlinePolicyName("")) {
				ownStatements(in.Doc, policy.KindIdentity, visit)
			}
		}
		for _, mp := range p.AttachedPolicies {
			if isOwnManaged(mp.ARN) {
				ownStatements(mp.Document, policy.KindIdentity, visit)
			}
		}
	}
	// A KMS statement says nothing of its bucket: it is tried against
	// every bucket its key encrypts, with every prefix known for the
	// principal there.
	for _, kp := range kms {
		for _, b := range bucketsOfKey[kp.key] {
			note(kp.principal, b, "")
		}
	}
	a := attribution{}
	for _, pr := range order {
		for prefix := range prefixes[pr] {
			a.add(grantID{principal: pr.principal, bucket: pr.bucket, prefix: prefix})
		}
	}
	return a
}

// principalsOf lists the users and roles a statement's Principal names.
func principalsOf(s policy.Statement) []string {
	if s.Principal == nil {
		return nil
	}
	var out []string
	for _, arn := range s.Principal.AWS {
		if k := state.KindOf(arn); k == state.KindUser || k == state.KindRole {
			out = append(out, arn)
		}
	}
	return out
}

func resourcesOf(s policy.Statement) []string {
	if s.Resource == nil {
		return nil
	}
	return s.Resource.Values
}

// s3Resource reads the bucket and prefix of an S3 resource bucketgrant
// writes: arn:P:s3:::bucket/prefix* for objects, arn:P:s3:::bucket for
// listing (the prefix then in a StringLike s3:prefix condition, prefix*).
func s3Resource(r string, s policy.Statement) (bucket, prefix string, ok bool) {
	a, err := state.ParseARN(r)
	if err != nil || a.Service != "s3" {
		return "", "", false
	}
	bucket, rest, objects := strings.Cut(a.Resource, "/")
	if objects {
		return bucket, strings.TrimSuffix(rest, "*"), true
	}
	for _, c := range s.Conditions {
		if strings.EqualFold(c.Key, "s3:prefix") {
			for _, v := range c.Values {
				return bucket, strings.TrimSuffix(v, "*"), true
			}
		}
	}
	return bucket, "", true
}

// isOwnManaged reports whether a managed policy is one bucketgrant makes
// (diff.ManagedPolicyARN: path /bucketgrant/).
func isOwnManaged(arn string) bool { return strings.Contains(arn, ":policy/bucketgrant/") }

// owns decides whether a statement that carries one of the Sids
// bucketgrant derives for grant id and purpose is bucketgrant's own: prune
// removes (or, for a grant still in the file, narrows) only such
// statements. Every ownership decision of prune goes through here, and
// here through diff.Owned, the planner's rule (design principle 2): the
// Sid is the grant's and the statement allows nothing bucketgrant would
// not write for it (an Allow for the grant's principal alone, actions of
// the purpose, on the grant's bucket and prefix or on KMS keys, no
// condition bucketgrant does not write). A statement with the Sid but more
// content is someone else's and stays. doc is where the statement is.
func owns(s policy.Statement, doc diff.DocRef, id grantID, purpose string) bool {
	return diff.Owned(s, doc.PolicyKind(), diff.GrantID{Principal: id.principal, Bucket: id.bucket, Prefix: id.prefix}, purpose)
}
