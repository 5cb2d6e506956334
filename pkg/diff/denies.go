package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// An explicit deny is never removed. When it depends only on facts about
// the principal (its ARN, account, the key in use) it blocks the grant.
// When it depends on how the request is made (TLS, encryption headers, the
// network path, the principal's organization), the grant can still work for
// requests made that way: the planner finds the request shape that avoids
// the deny, plans for requests of that shape, and tells the operator what
// it demands.

// statement finds the document and statement a Ref names.
func (p *planner) statement(r policy.Ref) (*DocRef, *policy.Statement) {
	find := func(named *policy.Named, ref DocRef) (*DocRef, *policy.Statement) {
		if named == nil || named.Name != r.Document {
			return nil, nil
		}
		ss := named.Doc.Statements()
		if r.Index < 0 || r.Index >= len(ss) {
			return nil, nil
		}
		return &ref, &ss[r.Index]
	}
	if d, s := find(p.now.key, DocRef{Kind: DocKeyPolicy, ARN: p.plan.Subject.KeyARN, Account: accountOf(p.plan.Subject.KeyARN)}); s != nil {
		return d, s
	}
	if d, s := find(p.now.bucket, p.bucketRef()); s != nil {
		return d, s
	}
	if _, s := find(p.now.boundary, DocRef{}); s != nil {
		return nil, s
	}
	for _, id := range p.now.identity {
		if d, s := find(&id.named, id.ref); s != nil {
			if d.Kind == "" {
				d = nil
			}
			return d, s
		}
	}
	return nil, p.orgStatement(r)
}

// demand says in words what a request must do to avoid the deny.
func demand(c policy.Condition, value string) string {
	switch key := strings.ToLower(c.Key); key {
	case "s3:x-amz-server-side-encryption":
		return "uploads send x-amz-server-side-encryption: " + value
	case "s3:x-amz-server-side-encryption-aws-kms-key-id":
		return "uploads send x-amz-server-side-encryption-aws-kms-key-id: " + value
	case "aws:sourcevpce":
		return "requests come through " + strings.Join(c.Values, " or ")
	case "aws:sourcevpc":
		return "requests come from VPC " + strings.Join(c.Values, " or ")
	case "aws:principalorgid":
		return "the principal is in organization " + strings.Join(c.Values, " or ")
	case "aws:sourceip":
		return "requests come from " + strings.Join(c.Values, " or ")
	case "aws:principalorgpaths":
		return "the principal's account is under organization path " + strings.Join(c.Values, " or ")
	case "aws:multifactorauthpresent", "aws:multifactorauthage":
		if key == "aws:multifactorauthpresent" && value == "false" {
			// A session made without MFA (GetSessionToken or AssumeRole
			// without a code) carries false; long-term keys carry none.
			return "requests are made with temporary credentials obtained without MFA (aws:MultiFactorAuthPresent = false)"
		}
		return "requests are made with an MFA session (aws:MultiFactorAuthPresent = true)"
	}
	if c.Op.Base == "Null" {
		return "requests carry " + c.Key
	}
	return fmt.Sprintf("requests carry %s = %s", c.Key, strings.Join(c.Values, " or "))
}

func demandConsequence(key string) string {
	switch key {
	case "aws:principalorgid", "aws:principalorgpaths":
		return "bucketgrant cannot read the principal's organization; the grant works only if it is"
	case "aws:sourcevpce", "aws:sourcevpc", "aws:sourceip":
		return "requests from elsewhere, including the console, stay denied"
	}
	return "requests made otherwise stay denied"
}

// blockDenied reports the explicit denies that refuse a need whatever the
// client does, and returns the request's Why.
func (p *planner) blockDenied(n need, v verdict) string {
	var refs []policy.Ref
	for _, r := range v.blocked {
		for _, ref := range r.Denies {
			if !slices.Contains(refs, ref) {
				refs = append(refs, ref)
			}
		}
	}
	on := n.resource
	if len(v.objects) > 0 && v.witness != "" && n.objectAt == objectResource {
		on = fmt.Sprintf("%s (for example %s)", n.resource, v.witness)
	}
	for _, ref := range refs {
		doc, st := p.statement(ref)
		if st != nil && p.otherKeyDeny(n, doc, ref, st) {
			continue
		}
		why := "whatever the request looks like"
		if len(v.undecidedKeys()) > 0 {
			why = "whatever the request looks like and whatever " + strings.Join(v.undecidedKeys(), ", ") + " turn out to be"
		}
		if p.orgBlockDeny(n.action, on, ref, why) {
			continue
		}
		p.block(Blocker{Kind: BlockExplicitDeny, Document: doc, Statement: &ref,
			Message: fmt.Sprintf("%s on %s is explicitly denied by %s, %s", n.action, on, refString(ref), why),
			Hint:    "an explicit deny overrides every allow; ask the document's owner to exempt " + p.principalARN + " (bucketgrant never removes denies)"})
	}
	return "explicitly denied by " + p.refs(refs)
}

// otherKeyDeny explains a deny that requires uploads to name another KMS
// key than the bucket's default: no request can satisfy both.
func (p *planner) otherKeyDeny(n need, doc *DocRef, ref policy.Ref, st *policy.Statement) bool {
	if p.key == nil {
		return false
	}
	for _, c := range st.Conditions {
		if !strings.EqualFold(c.Key, "s3:x-amz-server-side-encryption-aws-kms-key-id") || c.Op.Base == "Null" {
			continue
		}
		if len(c.Values) > 0 && !slices.Contains(c.Values, p.key.ARN) {
			p.block(Blocker{Kind: BlockExplicitDeny, Document: doc, Statement: &ref,
				Message: fmt.Sprintf("%s denies uploads that do not use the key %s, but the bucket's default encryption uses %s", refString(ref), strings.Join(c.Values, " or "), p.key.ARN),
				Hint:    "make the bucket policy and the default encryption name the same key"})
			return true
		}
	}
	return false
}

// explain turns what decide found into warnings: objects a deny keeps out
// of the grant, what the chosen request shape demands of the client, and
// the values of keys bucketgrant cannot know that the verdict needs.
func (p *planner) explain(v verdict) {
	n := v.n
	if len(v.objects) > 0 {
		for _, d := range v.denied {
			for _, ref := range d.res.Denies {
				doc, _ := p.statement(ref)
				msg := fmt.Sprintf("%s denies %s on part of the objects granted (%s), for example %s: those keys stay denied", refString(ref), n.action, n.resource, d.object)
				if d.inShape {
					// Another request shape reaches these keys, but then
					// a deny keeps others: no one shape reaches them all.
					other := "requests sent the default way"
					if len(d.reach) > 0 {
						other = "requests made so that " + strings.Join(d.reach, " and ")
					}
					msg = fmt.Sprintf("%s denies %s on part of the objects granted (%s), for example %s, to requests made as this plan says: those keys stay denied to them (%s reach them, but are denied other keys of the grant: no one way of sending requests reaches every key)", refString(ref), n.action, n.resource, d.object, other)
				}
				p.warn(Warning{Kind: WarnPartialDeny, Document: doc, Statement: &ref, Message: msg})
			}
		}
	}
	if len(v.live) == 0 || v.undecided {
		return
	}
	// Denies that a request sent the default way meets, and the chosen
	// shape avoids: the client must send requests that way.
	if len(v.shape) > 0 {
		dflt := make(assignment, len(v.frees))
		for i, f := range v.frees {
			dflt[i] = f.dflt
		}
		ps := p.now.policies(n)
		chosen := map[policy.Ref]bool{}
		for _, obj := range v.objects {
			for _, ref := range policy.Evaluate(n.requestFor(p.caller(), v.context(v.chosen, v.live[0]), obj), ps).Denies {
				chosen[ref] = true
			}
		}
		for _, obj := range v.objects {
			r := policy.Evaluate(n.requestFor(p.caller(), v.context(dflt, v.live[0]), obj), ps)
			for _, ref := range r.Denies {
				if chosen[ref] {
					continue
				}
				doc, st := p.statement(ref)
				p.warn(Warning{Kind: WarnConditionalDeny, Document: doc, Statement: &ref,
					Message: fmt.Sprintf("%s denies %s unless %s: %s", refString(ref), n.action, v.demands(st), v.consequence(st))})
			}
		}
	}
	p.explainCondition(v)
}

// explainShape warns of a request shape chosen for an allow (see
// planner.shaped): requests sent the default way are not allowed.
func (p *planner) explainShape(v verdict) {
	if !v.forAllow || len(v.shape) == 0 {
		return
	}
	p.warn(Warning{Kind: WarnConditionalAllow,
		Message: fmt.Sprintf("%s on %s is allowed only for requests made so that %s: the policies that must allow it do so only for those, and no statement bucketgrant may add allows it otherwise; requests made otherwise stay refused",
			v.n.action, v.n.resource, strings.Join(v.shapeDemands(), " and "))})
}

// shapeDemands says in words what the chosen shape asks of the client.
func (v *verdict) shapeDemands() []string {
	var out []string
	for i, f := range v.frees {
		if !f.client || v.chosen[i] == f.dflt {
			continue
		}
		val := f.values[v.chosen[i]]
		if val == nil {
			out = appendNew(out, "requests do not carry "+f.name)
			continue
		}
		value := ""
		if len(val) > 0 {
			value = val[0]
		}
		out = appendNew(out, demand(policy.Condition{Key: f.name, Values: val}, value))
	}
	return out
}

// explainCondition warns of what a verdict that holds only for some values
// of the keys bucketgrant cannot read needs: each deny that applies in the
// other cases, and, where no deny does, that the allows hold only then (a
// boundary, a key policy or an allow conditional on such a key).
func (p *planner) explainCondition(v verdict) {
	cond := v.condition()
	if cond == "" {
		return
	}
	n := v.n
	ps := p.now.policies(n)
	seen := map[policy.Ref]bool{}
	allowOnly := false
	var limits []*policy.Limit
	for _, u := range v.dead {
		denied, limited := false, false
		for _, obj := range v.objects {
			r := policy.Evaluate(n.requestFor(p.caller(), v.context(v.chosen, u), obj), ps)
			if r.Limit != nil {
				// An organization level that allows nothing then: said
				// once per level by orgWarnLimits.
				limited = true
				limits = appendLimit(limits, r.Limit)
			}
			for _, ref := range r.Denies {
				denied = true
				if seen[ref] {
					continue
				}
				seen[ref] = true
				doc, st := p.statement(ref)
				p.warn(Warning{Kind: WarnConditionalDeny, Document: doc, Statement: &ref,
					Message: fmt.Sprintf("%s denies %s unless %s: %s", refString(ref), n.action, v.unknownDemands(st, cond), "bucketgrant cannot read "+strings.Join(v.undecidedKeys(), ", ")+"; the grant works only if that holds")})
			}
		}
		allowOnly = allowOnly || !denied && !limited
	}
	p.orgWarnLimits(v, cond, limits)
	if allowOnly {
		p.warn(Warning{Kind: WarnConditionalAllow,
			Message: fmt.Sprintf("%s on %s is allowed only if %s: the policies that must allow it (a permissions boundary, the key policy's delegation, or an allow bucketgrant does not own) do so only then, bucketgrant cannot read %s, and no grant it may add works otherwise",
				n.action, n.resource, cond, strings.Join(v.undecidedKeys(), ", "))})
	}
}

// demands says what the chosen shape asks, in the words of the deny's
// conditions on the keys it sets.
func (v *verdict) demands(st *policy.Statement) string {
	var out []string
	for i, f := range v.frees {
		if !f.client || v.chosen[i] == f.dflt {
			continue
		}
		val := f.values[v.chosen[i]]
		said := false
		if st != nil {
			for _, c := range st.Conditions {
				if strings.EqualFold(c.Key, f.key) {
					value := ""
					if len(val) > 0 {
						value = val[0]
					}
					out = appendNew(out, demand(c, value))
					said = true
					break
				}
			}
		}
		if !said {
			out = appendNew(out, describeValue(f.key, val))
		}
	}
	if len(out) == 0 {
		return strings.Join(v.shape, " and ")
	}
	return strings.Join(out, " and ")
}

// consequence says what happens to requests made otherwise.
func (v *verdict) consequence(st *policy.Statement) string {
	if st != nil {
		for _, c := range st.Conditions {
			if s := demandConsequence(strings.ToLower(c.Key)); s != "requests made otherwise stay denied" {
				return s
			}
		}
	}
	return "requests made otherwise stay denied"
}

// unknownDemands says which values of the keys bucketgrant cannot know
// the deny needs, in the deny's words where it has them.
func (v *verdict) unknownDemands(st *policy.Statement, cond string) string {
	if st == nil {
		return cond
	}
	var out []string
	for _, f := range v.frees {
		if f.client {
			continue
		}
		for _, c := range st.Conditions {
			if !strings.EqualFold(c.Key, f.key) || len(c.Values) == 0 {
				continue
			}
			// demand words what a request must carry to escape the
			// deny, which is the condition's own value only for a
			// negated operator (StringNotEquals: carry one of these) or
			// Null true (carry the key); a deny on StringEquals team =
			// web is escaped by any other value, which cond says.
			if !c.Op.Negated() && !(c.Op.Base == "Null" && strings.EqualFold(c.Values[0], "true")) {
				return cond
			}
			out = appendNew(out, demand(c, c.Values[0]))
		}
	}
	if len(out) == 0 {
		return cond
	}
	return strings.Join(out, " and ")
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
