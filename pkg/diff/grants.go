package diff

import (
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// KMS grants are read, evaluated and named, never written: a grant belongs
// to whoever created it (often an AWS service acting for one of its
// resources), so bucketgrant neither creates nor retires nor revokes one.
// How a grant combines with the policies is in pkg/policy (grants.go).

// WarnGrantsNotRead says the key's grants were not read, where a grant
// might have allowed what the plan grants or check reports missing.
const WarnGrantsNotRead = "grants-not-read"

// grantName is how plans name a grant: by its ID, which ListGrants,
// RevokeGrant and CloudTrail use.
func grantName(g state.Grant, keyARN string) string {
	s := "KMS grant " + g.ID
	if g.Name != "" {
		s += fmt.Sprintf(" (%q)", g.Name)
	}
	return s + " on key " + keyARN
}

// keyGrants converts the key's grants for evaluation (nil where none were
// read).
func keyGrants(k *state.Key) []policy.Grant {
	if k == nil || len(k.Grants) == 0 {
		return nil
	}
	out := make([]policy.Grant, 0, len(k.Grants))
	for _, g := range k.Grants {
		pg := policy.Grant{Name: grantName(g, k.ARN), ID: g.ID, Grantee: g.GranteePrincipal, Operations: g.Operations}
		if c := g.Constraints; c != nil {
			pg.Subset, pg.Equals = c.EncryptionContextSubset, c.EncryptionContextEquals
		}
		out = append(out, pg)
	}
	return out
}

// noteGrantsNotRead warns, where the key's grants were not read, about the
// KMS requests nothing allows today: a grant might allow them, and the
// statement the plan adds could then be one more than needed. It is never
// a reason to report access as working.
func (p *planner) noteGrantsNotRead() {
	if p.key == nil || p.key.Grants != nil {
		return
	}
	var missing []string
	for _, r := range p.plan.Requests {
		if strings.HasPrefix(r.Action, "kms:") && r.Before != policy.Allowed && !containsString(missing, r.Action) {
			missing = append(missing, r.Action)
		}
	}
	if len(missing) == 0 {
		return
	}
	p.warn(Warning{Kind: WarnGrantsNotRead, Document: &DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)},
		Message: fmt.Sprintf("the KMS grants of %s were not read (a snapshot without them, or credentials without kms:ListGrants): a grant could already allow %s, which bucketgrant counts only from grants it has read", p.key.ARN, strings.Join(missing, ", "))})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
