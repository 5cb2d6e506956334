package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Service control policies (SCPs) and resource control policies (RCPs).
//
// Which apply to a request (AWS Organizations User Guide, "Service control
// policies" and "Resource control policies", and the KMS Developer Guide,
// "Resource control policies in AWS KMS"):
//
//   - SCPs limit the principals of member accounts: every request the
//     principal makes, the S3 request and also the KMS request S3 makes for
//     it. That KMS request is a forward access session that KMS authorizes
//     with the principal's own permissions (IAM User Guide, "Forward access
//     sessions"), which is why data-perimeter SCPs exempt it with
//     aws:ViaAWSService. SCPs do not limit the management account or
//     service-linked roles.
//   - RCPs limit requests to the resources of member accounts, whoever
//     makes them (also principals of other accounts): the bucket's RCPs for
//     the S3 request, the key's for the KMS request. S3's KMS request is
//     made with the principal's identity, not by an AWS service principal
//     (the requests RCPs exempt), so the key's RCPs apply to it; that is
//     why AWS's RCP examples for KMS exempt services with
//     aws:PrincipalIsAWSService and not forward access sessions. They do not
//     apply to the management account's resources, to AWS managed keys
//     (KMS Developer Guide, "Resource control policies in AWS KMS"), or to
//     service-linked roles' requests (Organizations User Guide, "Resources
//     and entities not restricted by RCPs").
//   - A policy type that is not enabled in the organization limits nothing.
//
// bucketgrant reads them and never writes them: a request they refuse is a
// blocker naming the policy and the level.

// Org policy kinds in a plan.
const (
	OrgSCP = "SCP"
	OrgRCP = "RCP"
)

// Organization is what a plan says about the organization's policies.
type Organization struct {
	ID                string `json:"id"`
	ManagementAccount string `json:"management_account"`
	// Evaluated lists every SCP and RCP the plan's decisions took into
	// account, level by level from the root.
	Evaluated []OrgPolicyRef `json:"evaluated"`
	// NotApplied says which kinds did not apply to which account, and why
	// (the management account, a type not enabled, an AWS managed key).
	NotApplied []string `json:"not_applied,omitempty"`
}

// OrgPolicyRef names one SCP or RCP where it is attached.
type OrgPolicyRef struct {
	Kind     string `json:"kind"` // SCP or RCP
	PolicyID string `json:"policy_id"`
	Name     string `json:"name"`
	// Target is the root (r-…), OU (ou-…) or account ID it is attached to;
	// Account the account whose path holds that level.
	Target     string `json:"target"`
	TargetKind string `json:"target_kind"` // root, ou or account
	Account    string `json:"account"`
}

// orgDocs are the organization levels that apply to a grant's requests.
type orgDocs struct {
	scp    []policy.OrgLevel // the principal's account (nil: none apply)
	rcpS3  []policy.OrgLevel // the bucket's account
	rcpKMS []policy.OrgLevel // the key's account
	// byName finds what an organization document's Named.Name refers to.
	byName map[string]orgDocInfo
}

type orgDocInfo struct {
	ref   OrgPolicyRef
	named policy.Named
}

// apply adds the levels that apply to the need's request.
func (o orgDocs) apply(ps *policy.Policies, n need) {
	ps.SCP = o.scp
	if n.service == "kms" {
		ps.RCP = o.rcpKMS
	} else {
		ps.RCP = o.rcpS3
	}
}

// notEvaluatedOrg is what a plan says when the organization was not read
// (no --org-profile, --org-role-arn or credentials.org).
var notEvaluatedOrg = []string{"service control policies (SCPs; no organization credentials)", "resource control policies (RCPs; no organization credentials)"}

// loadOrg finds the SCPs and RCPs that apply to the grant, parses them and
// says in the plan which were evaluated.
func (p *planner) loadOrg() error {
	org := p.st.Org
	if org == nil {
		return nil
	}
	p.plan.NotEvaluated = slices.DeleteFunc(p.plan.NotEvaluated, func(s string) bool { return slices.Contains(notEvaluatedOrg, s) })
	rep := &Organization{ID: org.ID, ManagementAccount: org.ManagementAccount, Evaluated: []OrgPolicyRef{}}
	p.plan.Organization = rep
	p.now.org.byName = map[string]orgDocInfo{}
	var err error
	if p.now.org.scp, err = p.orgLevels(state.SCPType, p.principalAccount, p.scpExempt()); err != nil {
		return err
	}
	if p.now.org.rcpS3, err = p.orgLevels(state.RCPType, p.bucket.Account, p.rcpExempt(p.bucket.Account, false)); err != nil {
		return err
	}
	if p.key != nil {
		ka := accountOf(p.key.ARN)
		if p.now.org.rcpKMS, err = p.orgLevels(state.RCPType, ka, p.rcpExempt(ka, true)); err != nil {
			return err
		}
	}
	return nil
}

// scpExempt says why SCPs do not limit the principal ("" when they do).
func (p *planner) scpExempt() string {
	org := p.st.Org
	switch {
	case p.principalAccount == org.ManagementAccount:
		return "SCPs do not limit the management account " + p.principalAccount
	case isServiceLinkedRole(p.principalARN):
		return "SCPs do not limit service-linked roles such as " + p.principalARN
	}
	return ""
}

// rcpExempt says why RCPs do not limit requests to a resource of account
// ("" when they do).
func (p *planner) rcpExempt(account string, key bool) string {
	org := p.st.Org
	switch {
	case account == org.ManagementAccount:
		return "RCPs do not limit the resources of the management account " + account
	case key && p.key.KeyManager == "AWS":
		return "RCPs do not apply to AWS managed keys such as " + p.key.ARN
	case isServiceLinkedRole(p.principalARN):
		return "RCPs do not limit requests of service-linked roles such as " + p.principalARN
	}
	return ""
}

// isServiceLinkedRole: service-linked roles live under the path
// /aws-service-role/ (IAM User Guide, service-linked roles).
func isServiceLinkedRole(arn string) bool {
	return strings.Contains(arn, ":role/aws-service-role/")
}

// orgLevels returns the levels of one policy type above account, or nil
// when none apply. An account whose place in the organization is not known
// leaves that type not evaluated for it, and the plan says so.
func (p *planner) orgLevels(typ, account, exempt string) ([]policy.OrgLevel, error) {
	org := p.st.Org
	kind := OrgSCP
	if typ == state.RCPType {
		kind = OrgRCP
	}
	note := func(s string) {
		if !slices.Contains(p.plan.Organization.NotApplied, s) {
			p.plan.Organization.NotApplied = append(p.plan.Organization.NotApplied, s)
		}
	}
	if exempt != "" {
		note(exempt)
		return nil, nil
	}
	if !org.Enabled(typ) {
		note(fmt.Sprintf("%ss are not enabled in organization %s", kind, org.ID))
		return nil, nil
	}
	if org.IsOutside(account) {
		// Another organization's policies may still apply; these
		// credentials cannot read them.
		s := fmt.Sprintf("%ss of account %s (not in organization %s)", kind, account, org.ID)
		if !slices.Contains(p.plan.NotEvaluated, s) {
			p.plan.NotEvaluated = append(p.plan.NotEvaluated, s)
		}
		return nil, nil
	}
	path := org.Path(account)
	if path == nil {
		s := fmt.Sprintf("%ss of account %s (its place in organization %s was not read)", kind, account, org.ID)
		if !slices.Contains(p.plan.NotEvaluated, s) {
			p.plan.NotEvaluated = append(p.plan.NotEvaluated, s)
		}
		return nil, nil
	}
	levels := make([]policy.OrgLevel, 0, len(path))
	for _, t := range path {
		tk := targetKind(t.ID, org.RootID)
		lv := policy.OrgLevel{Target: targetName(t, tk)}
		ids := t.SCPs
		if typ == state.RCPType {
			ids = t.RCPs
		}
		for _, id := range ids {
			pol := org.Policy(id)
			if pol == nil {
				return nil, fmt.Errorf("%s %s attached to %s: the policy's document is not in the state; take the snapshot again", kind, id, lv.Target)
			}
			name := fmt.Sprintf("%s %s (%s) at %s", kind, pol.ID, pol.Name, lv.Target)
			if pol.Name == "" {
				name = fmt.Sprintf("%s %s at %s", kind, pol.ID, lv.Target)
			}
			if pol.Document == nil || len(pol.Document.Text) == 0 {
				return nil, fmt.Errorf("%s: the policy has no document in the state; take the snapshot again", name)
			}
			d, err := policy.Parse(pol.Document.Text, policy.KindAny)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			named := policy.Named{Name: name, Doc: d}
			lv.Policies = append(lv.Policies, named)
			ref := OrgPolicyRef{Kind: kind, PolicyID: pol.ID, Name: pol.Name, Target: t.ID, TargetKind: tk, Account: account}
			p.now.org.byName[name] = orgDocInfo{ref: ref, named: named}
			if !slices.Contains(p.plan.Organization.Evaluated, ref) {
				p.plan.Organization.Evaluated = append(p.plan.Organization.Evaluated, ref)
			}
		}
		levels = append(levels, lv)
	}
	return levels, nil
}

func targetKind(id, root string) string {
	switch {
	case id == root || strings.HasPrefix(id, "r-"):
		return "root"
	case strings.HasPrefix(id, "ou-"):
		return "ou"
	}
	return "account"
}

func targetName(t *state.OrgTarget, kind string) string {
	s := map[string]string{"root": "root", "ou": "OU", "account": "account"}[kind] + " " + t.ID
	if t.Name != "" {
		s += " (" + t.Name + ")"
	}
	return s
}

// orgStatement finds the statement of an organization policy a Ref names.
func (p *planner) orgStatement(r policy.Ref) *policy.Statement {
	info, ok := p.now.org.byName[r.Document]
	if !ok {
		return nil
	}
	ss := info.named.Doc.Statements()
	if r.Index < 0 || r.Index >= len(ss) {
		return nil
	}
	return &ss[r.Index]
}

// orgBlockDeny reports an explicit deny of an organization policy as a
// blocker naming the policy and its level; false for other denies.
func (p *planner) orgBlockDeny(action, on string, ref policy.Ref, why string) bool {
	info, ok := p.now.org.byName[ref.Document]
	if !ok {
		return false
	}
	r := info.ref
	owner := "the organization's management account (or its delegated administrator for " + r.Kind + "s)"
	p.block(Blocker{Kind: BlockOrgPolicy, Statement: &ref, OrgPolicy: &r,
		Message: fmt.Sprintf("%s on %s is explicitly denied by %s, %s", action, on, refString(ref), why),
		Hint:    "an explicit deny in an " + r.Kind + " overrides every allow; ask " + owner + " to exempt " + p.principalARN + " (bucketgrant never changes organization policies)"})
	return true
}

// orgBlockLimit reports a request that an organization level does not
// allow: no SCP (or RCP) attached there has an Allow for it, so nothing
// bucketgrant can write would let it through. It returns the request's Why.
func (p *planner) orgBlockLimit(action, on string, l *policy.Limit) string {
	var first *OrgPolicyRef
	var attached []string
	for _, name := range l.Policies {
		info, ok := p.now.org.byName[name]
		if !ok {
			attached = append(attached, name)
			continue
		}
		r := info.ref
		if first == nil {
			first = &r
		}
		if r.Name != "" {
			attached = append(attached, r.PolicyID+" ("+r.Name+")")
		} else {
			attached = append(attached, r.PolicyID)
		}
	}
	names := "none is attached there"
	if len(attached) > 0 {
		names = "attached there: " + strings.Join(attached, ", ")
	}
	what := "principals of the account"
	if l.Kind == OrgRCP {
		what = "requests to the account's resources"
	}
	p.block(Blocker{Kind: BlockOrgPolicy, OrgPolicy: first,
		Message: fmt.Sprintf("%s on %s is not allowed by any %s attached to %s (%s): an %s limits %s, and every level from the root to the account must allow the request", action, on, l.Kind, l.Target, names, l.Kind, what),
		Hint:    fmt.Sprintf("ask the organization's administrators to allow %s at %s (for example by attaching the AWS managed full-access policy); bucketgrant never changes organization policies", action, l.Target)})
	return fmt.Sprintf("not allowed by the %ss at %s", l.Kind, l.Target)
}

// orgRefs reports whether any of the refs is an organization policy's.
func (p *planner) orgRefs(refs []policy.Ref) bool {
	for _, r := range refs {
		if _, ok := p.now.org.byName[r.Document]; ok {
			return true
		}
	}
	return false
}

// orgContext adds the organization facts of the principal's account:
// aws:PrincipalOrgID and aws:PrincipalOrgPaths are known once the
// organization has been read and the account is a member (IAM User Guide,
// global condition keys). Outside it they stay unknown: the account may be
// in an organization bucketgrant cannot read.
func (p *planner) orgContext(ctx map[string][]string) {
	org := p.st.Org
	if org == nil {
		return
	}
	if path := org.PathString(p.principalAccount); path != "" {
		ctx["aws:PrincipalOrgID"] = []string{org.ID}
		ctx["aws:PrincipalOrgPaths"] = []string{path}
	}
}

// orgResourceContext adds aws:ResourceOrgID and aws:ResourceOrgPaths for a
// resource in a member account.
func (p *planner) orgResourceContext(ctx map[string][]string, account string) {
	org := p.st.Org
	if org == nil {
		return
	}
	if path := org.PathString(account); path != "" {
		ctx["aws:ResourceOrgID"] = []string{org.ID}
		ctx["aws:ResourceOrgPaths"] = []string{path}
	}
}

// forOrgDocs calls f with every organization document of the policies.
func forOrgDocs(ps policy.Policies, f func(*policy.Named)) {
	for _, ls := range [][]policy.OrgLevel{ps.SCP, ps.RCP} {
		for i := range ls {
			for j := range ls[i].Policies {
				f(&ls[i].Policies[j])
			}
		}
	}
}

// orgOrigin narrows the organization keys of a principal whose account is
// known not to be in the organization read: it may be in no organization
// (the keys are absent) or in another one, never in this one.
func (p *planner) orgOrigin(key string) (keyOrigin, bool) {
	org := p.st.Org
	if org == nil || !org.IsOutside(p.principalAccount) {
		return keyOrigin{}, false
	}
	switch key {
	case "aws:principalorgid":
		return keyOrigin{kind: originUnknown, domain: [][]string{nil, {otherOrgID}}}, true
	case "aws:principalorgpaths":
		return keyOrigin{kind: originUnknown, domain: [][]string{nil, {otherOrgID + "/r-other/"}}}, true
	}
	return keyOrigin{}, false
}

// otherOrgID stands for every organization other than the one read.
const otherOrgID = "o-anotherorganization"

// An SCP or RCP whose Allow holds only for some values of a key bucketgrant
// cannot read (a role's aws:PrincipalTag, which session tags replace; a key
// it has no rule for) limits the request in those cases only. AWS allows a
// request at a level when some policy attached there allows it under the
// request's context (Organizations User Guide, SCP and RCP evaluation), so
// the verdict is "allowed if" the key has the values that Allow needs, as
// for a boundary or a key policy whose allow is conditional; nothing
// bucketgrant writes changes the other cases. A Deny on such a key is an
// explicit deny like any other and is handled by decide (the cases it
// applies in are dead).

// orgNarrow drops from a verdict's live cases those in which an
// organization level allows nothing, when it leaves some: the cases no
// grant can reach join the dead ones, so the verdict and its placement are
// about the others and condition() names what they need. A verdict limited
// in every case (or in none) is returned as it is.
func (p *planner) orgNarrow(v verdict) verdict {
	// One live case, or all of them allowed: nothing to narrow.
	if v.undecided || len(v.live) < 2 || p.st.Org == nil || v.decision == policy.Allowed {
		return v
	}
	ps := p.now.policies(v.n)
	if ps.SCP == nil && ps.RCP == nil {
		return v
	}
	keep := make([]bool, len(v.live))
	kept := 0
	for i, u := range v.live {
		ctx := v.context(v.chosen, u)
		keep[i] = true
		for _, obj := range v.objects {
			if policy.Evaluate(v.n.requestFor(p.caller(), ctx, obj), ps).Limit != nil {
				keep[i] = false
				break
			}
		}
		if keep[i] {
			kept++
		}
	}
	if kept == 0 || kept == len(v.live) {
		return v
	}
	nv := v.restrict(keep)
	nv.decision, nv.res, nv.witness = p.over(nv, ps)
	return nv
}

// placeOrgLimited handles a need an organization level refuses in every
// live case of the verdict: requests sent some other way the client may
// choose may pass it (planner.shaped); otherwise it is a blocker naming the
// level and its policies.
func (p *planner) placeOrgLimited(v verdict) (placement, string, verdict) {
	if pl, why, nv, ok := p.shaped(v); ok {
		return pl, why, nv
	}
	return placement{}, p.orgBlockLimit(v.n.action, v.n.resource, v.res.Limit), v
}

// appendLimit adds l to ls unless a limit of the same kind at the same
// level is there.
func appendLimit(ls []*policy.Limit, l *policy.Limit) []*policy.Limit {
	for _, x := range ls {
		if x.Kind == l.Kind && x.Target == l.Target {
			return ls
		}
	}
	return append(ls, l)
}

// orgWarnLimits warns, once per organization level, that a verdict holds
// only if cond because the SCPs (or RCPs) attached there allow the request
// only then.
func (p *planner) orgWarnLimits(v verdict, cond string, limits []*policy.Limit) {
	for _, l := range limits {
		var names []string
		for _, name := range l.Policies {
			info, ok := p.now.org.byName[name]
			if !ok {
				names = append(names, name)
				continue
			}
			r := info.ref
			if r.Name != "" {
				names = append(names, r.PolicyID+" ("+r.Name+")")
			} else {
				names = append(names, r.PolicyID)
			}
		}
		what := "an SCP limits the principals of its account"
		if l.Kind == OrgRCP {
			what = "an RCP limits requests to its account's resources"
		}
		p.warn(Warning{Kind: WarnConditionalAllow,
			Message: fmt.Sprintf("%s on %s is allowed only if %s: the %ss attached to %s (%s) allow it only then, and %s at every level from the root to the account; bucketgrant cannot read %s and never changes organization policies",
				v.n.action, v.n.resource, cond, l.Kind, l.Target, strings.Join(names, ", "), what, strings.Join(v.undecidedKeys(), ", "))})
	}
}
