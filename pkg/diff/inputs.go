package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Inputs a plan's verdicts depend on besides the documents it writes: the
// SCPs and RCPs of the accounts involved, and the KMS grants that name the
// principal. bucketgrant never writes them, but someone else may change
// them between the plan and its apply (a plan saved and reviewed for
// hours, or a person at the confirmation prompt): an RCP that now denies,
// or the grant the plan counted on retired, would leave the applied plan
// short of what it says. Their fingerprints sit in Plan.Fingerprints beside
// the documents', under IDs IsInput recognises, so the applier can refuse a
// stale plan for them as for a document (pkg/apply, docs/stale-check.md).
//
// Only what the verdicts depend on is fingerprinted, so that checking it
// costs reads only where it matters: the organization's levels when the
// organization was read, and the key's grants only when one names the
// principal (a grant to someone else cannot change the principal's
// access; a grant to the principal created after the plan only makes a
// statement of the plan redundant, never wrong).

// Prefixes of the input IDs in Plan.Fingerprints.
const (
	inputSCP    = "scp:"        // scp:<account>: the SCPs limiting the principal's account
	inputRCP    = "rcp:"        // rcp:<account>: the RCPs limiting the resources of an account
	inputGrants = "kms-grants:" // kms-grants:<key ARN>: the key's grants naming the principal
)

// IsInput reports whether a fingerprint ID names an input that is not a
// document (an organization level set or a key's grants).
func IsInput(id string) bool {
	return strings.HasPrefix(id, inputSCP) || strings.HasPrefix(id, inputRCP) || strings.HasPrefix(id, inputGrants)
}

// InputIDs lists the plan's input IDs, sorted.
func InputIDs(p *Plan) []string {
	var out []string
	for id := range p.Fingerprints {
		if IsInput(id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// InputNeeds says what must be read to fingerprint a plan's inputs again:
// the organization (for which accounts) and which key's grants.
func InputNeeds(p *Plan) (orgAccounts []string, grantKeys []string) {
	for _, id := range InputIDs(p) {
		switch {
		case strings.HasPrefix(id, inputSCP):
			orgAccounts = appendNew(orgAccounts, strings.TrimPrefix(id, inputSCP))
		case strings.HasPrefix(id, inputRCP):
			orgAccounts = appendNew(orgAccounts, strings.TrimPrefix(id, inputRCP))
		case strings.HasPrefix(id, inputGrants):
			grantKeys = appendNew(grantKeys, strings.TrimPrefix(id, inputGrants))
		}
	}
	return orgAccounts, grantKeys
}

// DescribeInput names an input ID for people.
func DescribeInput(id string) string {
	switch {
	case strings.HasPrefix(id, inputSCP):
		return "the SCPs that apply to account " + strings.TrimPrefix(id, inputSCP) + " (attachments from the root to the account, and their documents)"
	case strings.HasPrefix(id, inputRCP):
		return "the RCPs that apply to the resources of account " + strings.TrimPrefix(id, inputRCP) + " (attachments from the root to the account, and their documents)"
	case strings.HasPrefix(id, inputGrants):
		return "the KMS grants of " + strings.TrimPrefix(id, inputGrants) + " that name the principal"
	}
	return id
}

// InputFingerprints computes the fingerprints of the inputs of a plan
// about subject s on state st: an entry per organization level set when
// the organization was read, and one for the key's grants when any names
// the principal.
func InputFingerprints(st *state.State, s Subject) map[string]string {
	out := map[string]string{}
	if st == nil {
		return out
	}
	if org := st.Org; org != nil {
		out[inputSCP+s.PrincipalAccount] = orgFingerprint(org, state.SCPType, s.PrincipalAccount)
		for _, a := range []string{s.BucketAccount, s.KeyAccount} {
			if a != "" {
				out[inputRCP+a] = orgFingerprint(org, state.RCPType, a)
			}
		}
	}
	if k := st.FindKey(s.KeyARN); k != nil && k.Grants != nil {
		if fp, ok := grantsFingerprint(k.Grants, s.PrincipalARN); ok {
			out[inputGrants+k.ARN] = fp
		}
	}
	return out
}

// orgFingerprint covers what decides which policies of one type limit an
// account and what they say: whether the type is enabled, who the
// management account is, whether the account is in the organization, and
// level by level from the root each target, the policies attached there
// and each policy's meaning.
func orgFingerprint(org *state.Organization, typ, account string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|enabled=%v|outside=%v\n", org.ID, org.ManagementAccount, typ, org.Enabled(typ), org.IsOutside(account))
	for _, t := range org.Path(account) {
		ids := t.SCPs
		if typ == state.RCPType {
			ids = t.RCPs
		}
		fmt.Fprintf(&b, "%s:", t.ID)
		for _, id := range ids {
			fmt.Fprintf(&b, " %s=%s", id, orgPolicyFingerprint(org.Policy(id)))
		}
		b.WriteByte('\n')
	}
	return digest(b.String())
}

func orgPolicyFingerprint(p *state.OrgPolicy) string {
	if p == nil || p.Document == nil {
		return "missing"
	}
	d, err := policy.Parse(p.Document.Text, policy.KindAny)
	if err != nil {
		return "unparsed:" + digest(string(p.Document.Text))
	}
	return d.Fingerprint()
}

// grantsFingerprint covers the grants whose grantee is the principal or a
// session of it (a grant to a role applies to its sessions); false when
// there is none.
func grantsFingerprint(gs []state.Grant, principal string) (string, bool) {
	var lines []string
	for _, g := range gs {
		if !namesPrincipal(g.GranteePrincipal, principal) {
			continue
		}
		ops := slices.Clone(g.Operations)
		sort.Strings(ops)
		line := g.ID + "|" + g.GranteePrincipal + "|" + strings.Join(ops, ",")
		if c := g.Constraints; c != nil {
			line += "|subset=" + pairs(c.EncryptionContextSubset) + "|equals=" + pairs(c.EncryptionContextEquals)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "", false
	}
	sort.Strings(lines)
	return digest(strings.Join(lines, "\n")), true
}

// namesPrincipal reports whether a grantee is the principal (a user or
// role ARN) or an assumed-role session of that role.
func namesPrincipal(grantee, principal string) bool {
	if grantee == principal {
		return true
	}
	i := strings.Index(principal, ":role/")
	if i < 0 {
		return false
	}
	name := principal[strings.LastIndexByte(principal, '/')+1:]
	prefix := strings.Replace(principal[:i], ":iam::", ":sts::", 1) + ":assumed-role/" + name + "/"
	return strings.HasPrefix(grantee, prefix)
}

func pairs(m map[string]string) string {
	if m == nil {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q;", k, m[k])
	}
	return b.String()
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// addInputFingerprints records the inputs of a grant plan that has
// something to apply (only an apply reads them again; a plan with no
// change or a blocker is never applied, and sync plans many of those).
func (p *planner) addInputFingerprints() {
	if len(p.plan.Changes) == 0 || p.plan.Blocked() {
		return
	}
	for id, fp := range InputFingerprints(p.st, p.plan.Subject) {
		p.plan.Fingerprints[id] = fp
	}
}
