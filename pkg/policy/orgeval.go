package policy

// Organization policies: service control policies (SCPs) and resource
// control policies (RCPs). Neither grants anything; both limit.
//
// AWS Organizations User Guide, "SCP evaluation" and "RCP evaluation": a
// policy of either kind may be attached to the root, to each OU and to the
// account. For a request to be allowed, at EVERY level from the root down to
// the account some attached policy of that kind must allow it, and a Deny
// in any policy at any level denies it. SCPs limit the principals of member
// accounts (not the management account, not service-linked roles); RCPs
// limit requests to the resources of member accounts (not the management
// account's resources, not AWS managed KMS keys), whoever makes them. IAM
// User Guide, "Policy evaluation logic": an explicit deny in any policy
// wins; then the request must pass the RCPs, then the SCPs, and only then
// do resource, identity and boundary policies decide.
//
// Which levels apply to a request is the caller's business (pkg/diff knows
// the accounts); Evaluate only applies what it is given.

// OrgLevel is one level of the hierarchy above an account (the root, an OU,
// or the account itself) with the policies of one kind attached there.
type OrgLevel struct {
	// Target names the level for people: "root r-ab12", "OU ou-ab12-…
	// (Finance)", "account 111122223333".
	Target   string
	Policies []Named
}

// Org policy kinds, as Limit.Kind spells them.
const (
	KindSCP = "SCP"
	KindRCP = "RCP"
)

// Limit is an organization level that allows nothing for the request: no
// SCP (or RCP) attached there has an Allow that applies, so the request is
// implicitly denied whatever the other policies say.
type Limit struct {
	Kind   string // KindSCP or KindRCP
	Target string // the level, as OrgLevel.Target
	// Policies names the policies attached at that level.
	Policies []string
}

// scanOrg records the Deny statements of the levels' policies that apply
// to the request and returns the first level (from the root) at which no
// Allow applies, nil when every level allows.
func (e *evaluator) scanOrg(levels []OrgLevel, src source) *Limit {
	var limit *Limit
	for li := range levels {
		lv := &levels[li]
		allowed := false
		for pi := range lv.Policies {
			n := &lv.Policies[pi]
			if n.Doc == nil {
				continue
			}
			vars := e.varsFor(n.Doc)
			stmts := n.Doc.Statements()
			n.Doc.candidates(e.req.Action, &e.c, false, func(i int) {
				s := &stmts[i]
				// An RCP's Principal must be "*" (Organizations User
				// Guide, RCP syntax): it names everyone, so it is not
				// matched. SCPs have no Principal.
				if !e.actionOf(s) || !e.resourceAndConditions(s, src == srcRCP, vars) {
					return
				}
				if s.Effect == Deny {
					e.denies.add(hit{ref: Ref{Document: n.Name, Index: s.Index, Sid: s.Sid}, src: src})
				} else {
					allowed = true
				}
			})
		}
		if !allowed && limit == nil {
			limit = &Limit{Kind: KindSCP, Target: lv.Target}
			if src == srcRCP {
				limit.Kind = KindRCP
			}
			for _, n := range lv.Policies {
				limit.Policies = append(limit.Policies, n.Name)
			}
		}
	}
	return limit
}
