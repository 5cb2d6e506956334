package policy

import (
	"strings"
)

// Grant is a KMS grant as evaluation needs it. KMS grants are the second
// resource-based mechanism of a key beside its key policy (KMS Developer
// Guide, "Grants in AWS KMS"): each allows its grantee principal the listed
// operations on the one key it belongs to, when its constraints hold. A
// grant can allow, never deny.
//
// How a grant combines with the other policies, and what bucketgrant does
// where AWS leaves it open:
//
//   - An explicit Deny in the key policy or an IAM policy still wins: the
//     KMS Developer Guide's authorization flowchart ("Troubleshooting key
//     access") checks explicit denies before any allow, grants included.
//   - A grant is enough on its own, in one account and across accounts: the
//     grantee needs no IAM policy (KMS Developer Guide, "Allowing users in
//     other accounts to use a KMS key", step 2: external users and roles
//     cannot use the key "until you attach IAM policies that delegate those
//     permissions, or use grants"; and "Troubleshooting key access": a grant
//     in the caller's account's favour is what lets it trust a key of
//     another account).
//   - A grant whose grantee is an account (arn:…:root) is not counted: the
//     guide allows such grantees but does not say whether they delegate to
//     the account's IAM policies, as a key policy naming the account does,
//     or reach no one. Not counting it can only make bucketgrant add a
//     statement that was not needed, never report access that is not there.
//   - A permissions boundary: the guide does not say whether it limits a
//     grant. IAM's rule for resource policies lets one naming a user pass
//     an implicit deny of the boundary, but not one naming a role; for
//     grants that is unconfirmed, so a grant counts for a principal with a
//     boundary only where the boundary allows the operation too.
//   - A grant to a role applies to its sessions, as a key policy naming the
//     role does; one to an assumed-role session applies to that session
//     only.
//   - Constraints (KMS API Reference, GrantConstraints): with
//     EncryptionContextSubset the request's encryption context must contain
//     every pair of the constraint, with EncryptionContextEquals it must be
//     exactly the constraint's pairs; keys and values compare exactly, case
//     included.
type Grant struct {
	// Name is how people know it, e.g. "KMS grant 0c1d… on key arn:…".
	Name       string
	ID         string
	Grantee    string
	Operations []string // KMS operation names: Decrypt, GenerateDataKey, …
	// Subset and Equals are the encryption-context constraints; nil when
	// not set.
	Subset, Equals map[string]string
}

// grantsAllow returns the grants that allow the request to the caller:
// grants apply only to a KMS key's requests.
func (e *evaluator) grantsAllow(p Policies) []Ref {
	if p.ResourceType != ResourceKMSKey || len(p.Grants) == 0 {
		return nil
	}
	op, ok := strings.CutPrefix(strings.ToLower(e.req.Action), "kms:")
	if !ok {
		return nil
	}
	var out []Ref
	for i := range p.Grants {
		g := &p.Grants[i]
		if !g.allowsOperation(op) || !g.namesCaller(&e.c) || !g.constraintsHold(e.req.Context) {
			continue
		}
		out = append(out, Ref{Document: g.Name, Index: -1})
	}
	return out
}

func (g *Grant) allowsOperation(op string) bool {
	for _, o := range g.Operations {
		// IAM action names compare without regard to case; a grant lists
		// KMS's own operation names.
		if strings.EqualFold(o, op) {
			return true
		}
	}
	return false
}

// namesCaller reports whether the grant's grantee is the caller itself or,
// for a session, its role. An account grantee is not counted (see Grant).
func (g *Grant) namesCaller(c *caller) bool {
	switch c.matchAWS(g.Grantee) {
	case PrincipalDirect, PrincipalRole:
		return true
	}
	return false
}

// encryptionContext is the request's encryption context: every
// kms:EncryptionContext:<key> the context holds, by <key> as spelled.
func encryptionContext(ctx map[string][]string) map[string]string {
	const prefix = "kms:encryptioncontext:"
	out := map[string]string{}
	for k, v := range ctx {
		if len(k) <= len(prefix) || !strings.EqualFold(k[:len(prefix)], prefix) || len(v) != 1 {
			continue
		}
		out[k[len(prefix):]] = v[0]
	}
	return out
}

func (g *Grant) constraintsHold(ctx map[string][]string) bool {
	if g.Subset == nil && g.Equals == nil {
		return true
	}
	ec := encryptionContext(ctx)
	for k, v := range g.Subset {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	if g.Equals != nil {
		if len(ec) != len(g.Equals) {
			return false
		}
		for k, v := range g.Equals {
			if got, ok := ec[k]; !ok || got != v {
				return false
			}
		}
	}
	return true
}
