package policy

import (
	"slices"
	"strings"
)

// Evaluate decides one request under the principal's identity policies, its
// permissions boundary and one resource policy (bucket policy or key
// policy), following the IAM policy evaluation logic:
//
//  1. An explicit Deny that applies in any of them wins (ExplicitlyDenied).
//  2. Identity allows count only where the boundary, when there is one, also
//     allows (the boundary is an intersection).
//  3. S3, same account: an effective identity allow or a bucket-policy allow
//     naming the caller (or "*") suffices. A bucket-policy statement that
//     names only the account grants nothing itself: it delegates to the
//     account's IAM policies, which same-account principals use anyway.
//     A boundary that does not allow blocks every path except a
//     bucket-policy allow naming the user, the session, or "*": the IAM
//     User Guide says a resource policy naming the user or session ARN is
//     not limited by an implicit deny in the boundary, and one naming the
//     role ARN is.
//  4. KMS: the key policy is authoritative. A same-account caller is
//     allowed if the key policy names it (or "*"), or if a key-policy allow
//     for this action names its account (delegation to IAM) and an
//     effective identity allow exists. Without a key policy nothing is
//     allowed.
//  5. Cross-account (the caller's account differs from ResourceAccount, or
//     is unknown): the identity side (within the boundary) and the resource
//     policy must both allow; there a resource-policy allow naming only the
//     caller's account suffices.
//  6. KMS grants (Policies.Grants) allow on their own, after every explicit
//     deny, for the grantee and within a boundary (grants.go).
//
// Only Request.Context supplies condition keys (see condition.go). Policy
// variables are substituted only in documents whose Version is 2012-10-17.
// Evaluate never panics: nil documents are empty, malformed ARNs and
// patterns match nothing.
func Evaluate(req Request, p Policies) Result {
	e := evaluator{
		req:         req,
		c:           newCaller(req.Principal),
		hasBoundary: p.Boundary != nil,
	}
	for i := range p.Identity {
		e.scan(&p.Identity[i], srcIdentity)
	}
	if p.Boundary != nil {
		e.scan(p.Boundary, srcBoundary)
	}
	if p.Resource != nil {
		e.scan(p.Resource, srcResource)
	}
	if p.RCP != nil || p.SCP != nil {
		// RCPs before SCPs, as AWS evaluates them.
		if e.limit = e.scanOrg(p.RCP, srcRCP); e.limit == nil {
			e.limit = e.scanOrg(p.SCP, srcSCP)
		} else {
			e.scanOrg(p.SCP, srcSCP)
		}
	}
	return e.decide(p)
}

type source int

const (
	srcIdentity source = iota
	srcBoundary
	srcResource
	srcSCP
	srcRCP
)

// hit is a statement that applied to the request.
type hit struct {
	ref Ref
	src source
	pm  PrincipalMatch // resource policies only
}

type evaluator struct {
	req         Request
	c           caller
	hasBoundary bool
	allows      hitList
	denies      hitList
	missing     []string
	limit       *Limit // an organization level that allows nothing
}

// hitList keeps the usual handful of hits inline, so that a typical
// evaluation allocates only its Result. (A slice pointing into the
// evaluator itself would send the whole evaluator to the heap.)
type hitList struct {
	n    int
	buf  [6]hit
	more []hit
}

func (l *hitList) add(h hit) {
	if l.n < len(l.buf) {
		l.buf[l.n] = h
	} else {
		l.more = append(l.more, h)
	}
	l.n++
}

func (l *hitList) at(i int) *hit {
	if i < len(l.buf) {
		return &l.buf[i]
	}
	return &l.more[i-len(l.buf)]
}

func (e *evaluator) scan(n *Named, src source) {
	if n == nil || n.Doc == nil {
		return
	}
	vars := e.varsFor(n.Doc)
	stmts := n.Doc.Statements()
	// Only the statements that can apply are visited (index.go); each is
	// still checked in full.
	n.Doc.candidates(e.req.Action, &e.c, src == srcResource, func(i int) {
		s := &stmts[i]
		if n.Ignore != nil && n.Ignore[i] {
			return
		}
		if !e.actionOf(s) {
			return
		}
		pm := PrincipalWildcard
		if src == srcResource {
			if pm = e.principalMatch(s); pm == PrincipalNoMatch {
				return
			}
		}
		if !e.resourceAndConditions(s, src == srcResource, vars) {
			return
		}
		h := hit{ref: Ref{Document: n.Name, Index: s.Index, Sid: s.Sid}, src: src, pm: pm}
		if s.Effect == Deny {
			e.denies.add(h)
		} else {
			e.allows.add(h)
		}
	})
}

// varsFor is where a document's policy variables come from: the request's
// context, or nowhere for documents older than version 2012-10-17 (which
// have none).
func (e *evaluator) varsFor(d *Document) *varSource {
	if d.Version() == Version2012 {
		return &varSource{ctx: e.req.Context}
	}
	return nil
}

// actionOf reports whether s is an Allow or Deny that covers the request's
// action.
func (e *evaluator) actionOf(s *Statement) bool {
	return (s.Effect == Allow || s.Effect == Deny) && s.MatchesAction(e.req.Action)
}

// resourceAndConditions reports whether s, whose action and principal
// apply, covers the request's resource and its conditions hold; the keys
// its conditions miss are noted on the way.
func (e *evaluator) resourceAndConditions(s *Statement, resourcePolicy bool, vars *varSource) bool {
	if !s.matchesResource(e.req.Resource, resourcePolicy, vars) {
		return false
	}
	e.noteMissing(s, vars)
	return e.conditionsHold(s, vars)
}

// principalMatch decides how a resource-policy statement names the caller.
// Identity-policy statements have no principal: they name their holder.
func (e *evaluator) principalMatch(s *Statement) PrincipalMatch {
	switch {
	case s.Principal != nil:
		return e.c.matchPrincipal(s.Principal)
	case s.NotPrincipal != nil && s.Effect == Deny:
		// IAM User Guide, permissions boundaries: a Deny with NotPrincipal
		// always denies a principal that has a boundary attached.
		if e.hasBoundary || !e.c.exemptedByNotPrincipal(s.NotPrincipal) {
			return PrincipalWildcard
		}
		return PrincipalNoMatch
	case s.NotPrincipal != nil:
		return e.c.notPrincipalAllowMatch(s.NotPrincipal)
	}
	// A resource-policy statement without a principal applies to no one.
	return PrincipalNoMatch
}

func (e *evaluator) conditionsHold(s *Statement, vars *varSource) bool {
	for i := range s.Conditions {
		if !conditionHolds(&s.Conditions[i], e.req.Context, vars) {
			return false
		}
	}
	return true
}

// noteMissing records the condition keys (and variables in condition
// values) of a statement that matched in principal, action and resource
// but that the request context does not supply.
func (e *evaluator) noteMissing(s *Statement, vars *varSource) {
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if _, ok := lookupKey(e.req.Context, c.Key); !ok && c.Key != "" {
			e.addMissing(c.Key)
		}
		if vars == nil {
			continue
		}
		for _, v := range c.Values {
			if strings.Contains(v, "${") {
				variableKeys(v, func(k string) {
					if _, ok := lookupKey(e.req.Context, k); !ok {
						e.addMissing(k)
					}
				})
			}
		}
	}
}

func (e *evaluator) addMissing(key string) {
	k := strings.ToLower(key)
	if !slices.Contains(e.missing, k) {
		e.missing = append(e.missing, k)
	}
}

func (e *evaluator) decide(p Policies) Result {
	var r Result
	if len(e.missing) > 0 {
		slices.Sort(e.missing)
		r.MissingKeys = e.missing
	}
	if e.denies.n > 0 {
		r.Decision = ExplicitlyDenied
		r.Denies = make([]Ref, e.denies.n)
		for i := range r.Denies {
			r.Denies[i] = e.denies.at(i).ref
		}
		return r
	}
	if e.limit != nil {
		r.Decision = ImplicitlyDenied
		r.Limit = e.limit
		return r
	}

	var identity, boundary, direct, account, bypass bool
	for i := 0; i < e.allows.n; i++ {
		h := e.allows.at(i)
		switch h.src {
		case srcIdentity:
			identity = true
		case srcBoundary:
			boundary = true
		case srcResource:
			switch h.pm {
			case PrincipalAccount:
				account = true
			case PrincipalRole, PrincipalDirect, PrincipalWildcard:
				direct = true
			}
			if bypassesBoundary(h.pm, e.c.kind == callerRole) {
				bypass = true
			}
		}
	}
	boundaryOK := !e.hasBoundary || boundary
	identityOK := identity && boundaryOK
	same := e.c.account != "" && e.c.account == e.req.ResourceAccount

	// The path says how the request is allowed, and so which allows made
	// the decision.
	path := pathNone
	delegated := false
	switch {
	case !same:
		if identityOK && (direct || account) {
			path = pathCrossAccount
		}
	case e.hasBoundary && !boundary:
		if bypass {
			path = pathBypass
		}
	case p.ResourceType == ResourceKMSKey:
		delegated = identityOK && account
		if direct || delegated {
			path = pathKey
		}
	default:
		if identityOK || direct {
			path = pathSameAccount
		}
	}
	if path == pathNone {
		// A KMS grant is an allow of its own, on either side of an
		// account boundary, checked after every explicit deny (grants.go).
		if gs := e.grantsAllow(p); len(gs) > 0 && boundaryOK {
			r.Decision, r.Allows = Allowed, gs
			return r
		}
		r.Decision = ImplicitlyDenied
		return r
	}
	r.Decision = Allowed
	roleCaller := e.c.kind == callerRole
	n := 0
	for i := 0; i < e.allows.n; i++ {
		if path.uses(e.allows.at(i), roleCaller, identityOK, delegated) {
			n++
		}
	}
	r.Allows = make([]Ref, 0, n)
	for i := 0; i < e.allows.n; i++ {
		if h := e.allows.at(i); path.uses(h, roleCaller, identityOK, delegated) {
			r.Allows = append(r.Allows, h.ref)
		}
	}
	return r
}

type allowPath int

const (
	pathNone         allowPath = iota
	pathCrossAccount           // identity (within the boundary) and resource policy
	pathBypass                 // same account, a resource policy naming the caller past the boundary
	pathKey                    // same account KMS: key policy directly, or delegated to IAM
	pathSameAccount            // same account S3: identity or resource policy
)

// uses reports whether an allow took part in a decision made on path p.
func (p allowPath) uses(h *hit, roleCaller, identityOK, delegated bool) bool {
	switch p {
	case pathCrossAccount:
		return true
	case pathBypass:
		return h.src == srcResource && bypassesBoundary(h.pm, roleCaller)
	case pathKey:
		if h.src == srcResource {
			return h.pm != PrincipalAccount || delegated
		}
		return delegated
	case pathSameAccount:
		if h.src == srcResource {
			return h.pm != PrincipalAccount
		}
		return identityOK
	}
	return false
}

// bypassesBoundary reports whether a same-account resource-policy allow
// reaches the caller past a boundary that does not allow: it must name the
// user or the session itself, or everyone. Naming the role (for a session)
// or the account does not (IAM User Guide, policy evaluation logic,
// "Evaluating identity-based policies with resource-based policies").
func bypassesBoundary(pm PrincipalMatch, roleCaller bool) bool {
	switch pm {
	case PrincipalWildcard:
		return true
	case PrincipalDirect:
		return !roleCaller
	}
	return false
}
