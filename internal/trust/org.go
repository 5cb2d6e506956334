package trust

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Organizations and KMS grants in the oracle's cases.
//
// SCPs and RCPs: iam-simulate evaluates them when given the levels (root
// first). Which apply is the caller's choice, made here from AWS's rules
// (Organizations User Guide, SCP and RCP evaluation; KMS Developer Guide,
// RCPs): the SCPs above the caller's account unless it is the management
// account or the caller a service-linked role; the RCPs above the
// resource's account unless it is the management account or the resource
// an AWS managed key. A type the organization has not enabled limits
// nothing, and an account outside the organization read is not limited by
// anything the state holds.
//
// KMS grants: iam-simulate has no grants. A grant to a user or role allows
// its operations to that principal on the key, after every explicit deny
// and within a permissions boundary, in one account and across accounts
// (KMS Developer Guide, "Grants in AWS KMS" and the authorization
// flowchart in "Troubleshooting key access"); its constraints require the
// encryption context to hold (subset) or to be (equals) its pairs. The
// same access is expressed in policies the oracle evaluates: a key-policy
// statement naming the grantee's account, limited to the grantee by
// aws:PrincipalArn, and an identity-policy statement for the grantee, both
// with the operations and the constraints as conditions. Delegation to the
// account makes the pair need the identity statement, so a boundary limits
// it as it limits a grant. A grantee that is an account root or a session
// is left out (bucketgrant counts neither; see pkg/policy/grants.go).

// orgLevels is the levels of one policy type above account, nil when none
// apply.
func orgLevels(org *state.Organization, typ, account string) []oracle.OrgLevel {
	if org == nil || !org.Enabled(typ) || account == org.ManagementAccount || org.IsOutside(account) {
		return nil
	}
	path := org.Path(account)
	if path == nil {
		return nil
	}
	out := make([]oracle.OrgLevel, 0, len(path))
	for _, t := range path {
		ids := t.SCPs
		if typ == state.RCPType {
			ids = t.RCPs
		}
		lv := oracle.OrgLevel{Target: t.ID, Policies: []oracle.NamedPolicy{}}
		for _, id := range ids {
			if p := org.Policy(id); p != nil && p.Document != nil {
				lv.Policies = append(lv.Policies, oracle.NamedPolicy{Name: id, Policy: json.RawMessage(p.Document.Text)})
			}
		}
		out = append(out, lv)
	}
	return out
}

// addOrg sets the SCP and RCP levels of a case.
func (c *checker) addOrg(st *state.State, cs *oracle.Case, who caller, kms bool) {
	org := st.Org
	if org == nil {
		return
	}
	if !strings.Contains(who.arn, ":role/aws-service-role/") && !strings.Contains(who.arn, ":assumed-role/AWSServiceRole") {
		cs.SCP = orgLevels(org, state.SCPType, who.account)
	}
	if kms && cs.ResourceARN == c.plan.Subject.KeyARN {
		if k := st.FindKey(cs.ResourceARN); k != nil && k.KeyManager == "AWS" {
			return
		}
	}
	cs.RCP = orgLevels(org, state.RCPType, cs.ResourceAccount)
}

// grantPolicies expresses the grants of the plan's key as a key-policy
// addition and, for a caller that is a grantee, an identity policy.
func grantPolicies(st *state.State, keyARN, callerPrincipalArn string) (keyStmts []map[string]any, identity []map[string]any) {
	k := st.FindKey(keyARN)
	if k == nil {
		return nil, nil
	}
	for _, g := range k.Grants {
		gp := g.GranteePrincipal
		if !strings.HasPrefix(gp, "arn:") || !(strings.Contains(gp, ":user/") || strings.Contains(gp, ":role/")) || !strings.Contains(gp, ":iam::") {
			continue
		}
		var actions []string
		for _, op := range g.Operations {
			actions = append(actions, "kms:"+op)
		}
		sort.Strings(actions)
		cond := map[string]map[string]any{}
		if c := g.Constraints; c != nil {
			eq := map[string]any{}
			for k, v := range c.EncryptionContextSubset {
				eq["kms:EncryptionContext:"+k] = v
			}
			if c.EncryptionContextEquals != nil {
				keys := []string{}
				for k, v := range c.EncryptionContextEquals {
					eq["kms:EncryptionContext:"+k] = v
					keys = append(keys, k)
				}
				sort.Strings(keys)
				cond["ForAllValues:StringEquals"] = map[string]any{"kms:EncryptionContextKeys": keys}
			}
			if len(eq) > 0 {
				cond["StringEquals"] = eq
			}
		}
		keyCond := map[string]map[string]any{"ArnEquals": {"aws:PrincipalArn": gp}}
		for op, kv := range cond {
			keyCond[op] = kv
		}
		acct := strings.SplitN(gp, ":", 6)[4]
		keyStmts = append(keyStmts, map[string]any{"Sid": "KMSGrant" + sanitize(g.ID), "Effect": "Allow",
			"Principal": map[string]any{"AWS": "arn:" + strings.SplitN(gp, ":", 3)[1] + ":iam::" + acct + ":root"},
			"Action":    actions, "Resource": "*", "Condition": keyCond})
		if gp == callerPrincipalArn {
			st := map[string]any{"Sid": "KMSGrant" + sanitize(g.ID), "Effect": "Allow", "Action": actions, "Resource": keyARN}
			if len(cond) > 0 {
				st["Condition"] = cond
			}
			identity = append(identity, st)
		}
	}
	return keyStmts, identity
}

func sanitize(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// withStatements appends statements to a policy document's text (a new
// document when there is none).
func withStatements(doc json.RawMessage, stmts []map[string]any) json.RawMessage {
	if len(stmts) == 0 {
		return doc
	}
	d := map[string]any{"Version": "2012-10-17"}
	if len(doc) > 0 {
		if err := json.Unmarshal(doc, &d); err != nil {
			return doc
		}
	}
	var list []any
	switch s := d["Statement"].(type) {
	case []any:
		list = s
	case map[string]any:
		list = []any{s}
	}
	for _, st := range stmts {
		list = append(list, st)
	}
	d["Statement"] = list
	out, err := json.Marshal(d)
	if err != nil {
		return doc
	}
	return out
}

// addGrants expresses the plan's key's grants in a KMS case on that key.
func (c *checker) addGrants(st *state.State, cs *oracle.Case, who caller) {
	if cs.ResourceARN != c.plan.Subject.KeyARN {
		return
	}
	keyStmts, identity := grantPolicies(st, cs.ResourceARN, principalArnOf(who))
	if len(keyStmts) == 0 {
		return
	}
	cs.Resource = c.withGrants(cs.Resource, keyStmts)
	if len(identity) > 0 {
		raw, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": identity})
		cs.Identity = append(cs.Identity, oracle.NamedPolicy{Name: "kms-grants", Policy: raw})
	}
}

// principalArnOf is the caller's aws:PrincipalArn: a session's is its
// role's ARN.
func principalArnOf(who caller) string {
	arn := who.arn
	if i := strings.Index(arn, ":assumed-role/"); i >= 0 {
		parts := strings.Split(arn[i+len(":assumed-role/"):], "/")
		return "arn:" + partition(arn) + ":iam::" + who.account + ":role/" + parts[0]
	}
	return arn
}

// withGrants is withStatements, remembered per key policy text: a plan's
// probes ask about the same key policy many times.
func (c *checker) withGrants(doc json.RawMessage, stmts []map[string]any) json.RawMessage {
	key := string(doc)
	if out, ok := c.grantDocs[key]; ok {
		return out
	}
	out := withStatements(doc, stmts)
	if c.grantDocs == nil {
		c.grantDocs = map[string]json.RawMessage{}
	}
	c.grantDocs[key] = out
	return out
}
