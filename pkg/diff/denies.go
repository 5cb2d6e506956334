package diff

import (
	"fmt"
	"net/netip"
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

// maxComplyRounds bounds the search for a request shape that avoids every
// conditional deny (one round per deny statement is enough in practice).
const maxComplyRounds = 8

// comply evaluates a need today. It returns the context of the request
// shape that avoids the conditional denies, the verdict for it, and false
// when an explicit deny blocks the request whatever its shape.
func (p *planner) comply(n need, caller policy.Caller) (map[string][]string, policy.Result, bool) {
	ctx := cloneContext(n.context)
	var res policy.Result
	for range maxComplyRounds {
		res = policy.Evaluate(n.request(caller, ctx), p.now.policies(n))
		if res.Decision != policy.ExplicitlyDenied {
			return ctx, res, true
		}
		progressed := false
		for _, ref := range res.Denies {
			doc, st := p.statement(ref)
			if st == nil {
				continue
			}
			c, value, ok := falsifiable(st, n.context, ctx)
			if !ok {
				p.block(Blocker{Kind: BlockExplicitDeny, Document: doc, Statement: &ref,
					Message: fmt.Sprintf("%s on %s is explicitly denied by %s, whatever the request looks like", n.action, n.resource, refString(ref)),
					Hint:    "an explicit deny overrides every allow; ask the document's owner to exempt " + p.principalARN + " (bucketgrant never removes denies)"})
				continue
			}
			if ok := p.demandKey(n, c, value, doc, ref); !ok {
				continue
			}
			setKey(ctx, c.Key, value)
			progressed = true
		}
		if !progressed {
			return ctx, res, false
		}
	}
	return ctx, res, res.Decision != policy.ExplicitlyDenied
}

// demandKey records what a conditional deny demands of requests, and blocks
// when the demand contradicts the grant (a different KMS key).
func (p *planner) demandKey(n need, c policy.Condition, value string, doc *DocRef, ref policy.Ref) bool {
	key := strings.ToLower(c.Key)
	if key == "s3:x-amz-server-side-encryption-aws-kms-key-id" && p.key != nil && value != p.key.ARN {
		p.block(Blocker{Kind: BlockExplicitDeny, Document: doc, Statement: &ref,
			Message: fmt.Sprintf("%s denies uploads that do not use the key %s, but the bucket's default encryption uses %s", refString(ref), value, p.key.ARN),
			Hint:    "make the bucket policy and the default encryption name the same key"})
		return false
	}
	p.warn(Warning{Kind: WarnConditionalDeny, Document: doc, Statement: &ref,
		Message: fmt.Sprintf("%s denies %s unless %s: %s", refString(ref), n.action, demand(c, value), demandConsequence(key))})
	return true
}

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
	return nil, nil
}

// falsifiable finds a condition of a deny statement that the request's
// shape decides (its key is not a fact the planner supplied) and a value of
// that key that makes the condition false, so the deny does not apply.
func falsifiable(st *policy.Statement, facts, ctx map[string][]string) (policy.Condition, string, bool) {
	for _, c := range st.Conditions {
		if hasKey(facts, c.Key) || hasKey(ctx, c.Key) || len(c.Values) == 0 {
			continue
		}
		op := c.Op
		switch {
		case op.Base == "Null":
			if strings.EqualFold(c.Values[0], "true") {
				return c, sampleFor(c.Key, ""), true
			}
		case op.Negated():
			return c, sampleFor(c.Key, c.Values[0]), true
		}
	}
	return policy.Condition{}, "", false
}

// sampleFor turns a condition value (possibly a pattern or a CIDR) into a
// concrete value of the key that matches it.
func sampleFor(key, v string) string {
	switch strings.ToLower(key) {
	case "s3:x-amz-server-side-encryption":
		if v == "" {
			return "aws:kms"
		}
	}
	if pfx, err := netip.ParsePrefix(v); err == nil {
		return pfx.Addr().String()
	}
	if v == "" {
		return "present"
	}
	return strings.NewReplacer("*", "", "?", "x").Replace(v)
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

func hasKey(ctx map[string][]string, key string) bool {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func setKey(ctx map[string][]string, key, value string) {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			delete(ctx, k)
		}
	}
	ctx[key] = []string{value}
}

// partialDenies warns about explicit denies that cover part of the objects
// a grant allows: the planner evaluates one object standing for "any
// object", which such a deny does not match, so the keys it names stay
// denied after the grant (bucket/secret/* under a grant of bucket/*).
func (p *planner) partialDenies(needs []need, caller policy.Caller) {
	docs := []*policy.Named{p.now.bucket, p.now.boundary}
	refs := []*DocRef{nil, nil}
	if p.now.bucket != nil {
		r := p.bucketRef()
		refs[0] = &r
	}
	for i := range p.now.identity {
		docs = append(docs, &p.now.identity[i].named)
		refs = append(refs, nil)
	}
	for _, n := range needs {
		if n.service != "s3" || n.level == List {
			continue
		}
		granted := strings.TrimSuffix(n.resource, "*")
		for di, named := range docs {
			if named == nil {
				continue
			}
			for _, s := range named.Doc.Statements() {
				if s.Effect != policy.Deny || s.Resource == nil || !s.MatchesAction(n.action) {
					continue
				}
				if s.Principal != nil && policy.MatchPrincipal(s.Principal, caller) == policy.PrincipalNoMatch {
					continue
				}
				for _, pattern := range s.Resource.Values {
					if policy.MatchResource(pattern, n.probe) || !overlaps(pattern, granted) {
						continue
					}
					ref := policy.Ref{Document: named.Name, Index: s.Index, Sid: s.Sid}
					when := ""
					if len(s.Conditions) > 0 {
						when = " (when its conditions hold)"
					}
					p.warn(Warning{Kind: WarnPartialDeny, Document: refs[di], Statement: &ref,
						Message: fmt.Sprintf("%s denies %s on %s%s, part of the objects granted (%s): those keys stay denied", refString(ref), n.action, pattern, when, n.resource)})
				}
			}
		}
	}
}

// overlaps reports whether a resource pattern can match an ARN that starts
// with prefix: their literal parts, up to the first wildcard, agree.
func overlaps(pattern, prefix string) bool {
	i := strings.IndexAny(pattern, "*?$")
	if i < 0 {
		// An exact ARN: one object under the prefix, or nothing of it
		// (the bucket's own ARN names no object).
		return strings.HasPrefix(pattern, prefix)
	}
	literal := pattern[:i]
	return strings.HasPrefix(literal, prefix) || strings.HasPrefix(prefix, literal)
}
