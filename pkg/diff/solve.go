package diff

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Documents that stand for "the other side allows everything", so that one
// side of a cross-account or KMS decision can be asked about alone.
var allowAll = policy.Named{Name: "(any identity policy)", Doc: policy.MustParse(
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.KindIdentity)}

// delegateAll is a resource policy that delegates everything to account,
// so that a decision rests on the account's identity policies alone.
func delegateAll(account string) *policy.Named {
	// Planning asks for it many times per grant: parsed once per account
	// (documents are never edited in place, so one serves every plan).
	if n, ok := delegations.Load(account); ok {
		return n.(*policy.Named)
	}
	// A bare account ID means the account's root in every partition.
	n := &policy.Named{Name: "(a resource policy delegating to " + account + ")", Doc: policy.MustParse(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+account+`"},"Action":"*","Resource":"*"}]}`,
		policy.KindAny)}
	delegations.Store(account, n)
	return n
}

var delegations sync.Map // account → *policy.Named

// placement says where the missing permission for one need goes, with
// the reason each side must change.
type placement struct {
	key, bucket, identity bool
	keyWhy, bucketWhy     string
	identityWhy           string
}

func (pl placement) any() bool { return pl.key || pl.bucket || pl.identity }

// solve evaluates every need over all its cases (decide.go), decides
// where the missing ones are granted, merges the grants into the documents
// and checks the result over the same cases.
func (p *planner) solve() error {
	p.plan.Grant.Access = p.levels
	needs := p.needs()
	places := make([]placement, len(needs))
	verdicts := make([]verdict, len(needs))
	for i := range needs {
		n := &needs[i]
		v := p.orgNarrow(p.decide(*n, p.now))
		var why string
		switch {
		case v.undecided:
			p.block(Blocker{Kind: BlockUndecidable,
				Message: fmt.Sprintf("%s on %s: the policies test too many combinations of condition values (%d keys) for bucketgrant to decide every case", n.action, n.resource, len(v.frees)),
				Hint:    "run `bucketgrant check` to see the statements involved; bucketgrant never reports a verdict it could not decide"})
			why = "not decided: too many cases"
		case len(v.blocked) > 0:
			why = p.blockDenied(*n, v)
		case v.decision == policy.Allowed:
			why = "allowed by " + p.refs(v.res.Allows)
		case v.res.Limit != nil:
			// Nothing bucketgrant writes gets past an organization level
			// that allows nothing (org.go).
			places[i], why, v = p.placeOrgLimited(v)
		default:
			places[i], why, v = p.placeNarrowing(v)
		}
		verdicts[i] = v
		n.context = v.ctx
		req := p.request(*n, v)
		req.Why = why
		p.explain(v)
		p.plan.Requests = append(p.plan.Requests, req)
	}
	if p.plan.Blocked() {
		return nil
	}
	// Merge, then check every need over its cases with the merged
	// documents. A need the merged documents allow only in some of its
	// cases is allowed if those hold (narrowed to them); a grant that adds
	// no case to those allowed today is dropped, and the merge made again
	// without it.
	//
	// A document AWS would refuse to save with the grants in it (orphaned
	// IDs, every Sid taken, over the size limit) takes no grant: the
	// grants into it are dropped and the merge made again, and a need that
	// then works only in some cases is allowed if those hold; one that
	// works in none is blocked by that document's blocker.
	warnings, blockers := len(p.plan.Warnings), len(p.plan.Blockers)
	reshaped := make([]bool, len(needs))
	needBlockers := make([][]Blocker, len(needs))
	var m *merge
	for {
		p.plan.Warnings = p.plan.Warnings[:warnings]
		m = newMerge(p)
		for i, n := range needs {
			if places[i].any() {
				m.add(n, places[i])
			}
		}
		if p.plan.Blocked() {
			return nil
		}
		if err := m.finish(); err != nil {
			return err
		}
		if p.plan.Blocked() {
			sides := unsaved(p.plan.Blockers[blockers:])
			dropped := false
			if p.unsaveable == nil {
				p.unsaveable = map[string]bool{}
			}
			for _, side := range []string{sideKey, sideBucket, sideIdentity} {
				if len(sides[side]) > 0 {
					p.unsaveable[side] = true
				}
			}
			for i := range places {
				for _, side := range []string{sideKey, sideBucket, sideIdentity} {
					if bs := sides[side]; len(bs) > 0 && places[i].drop(side) {
						needBlockers[i] = append(needBlockers[i], bs...)
						dropped = true
					}
				}
			}
			if !dropped {
				return nil
			}
			p.plan.Blockers = p.plan.Blockers[:blockers]
			continue
		}
		after := m.docSet()
		again := false
		for i, n := range needs {
			v := verdicts[i]
			ps := after.policies(n)
			d, res, obj := p.over(v, ps)
			if d != policy.Allowed {
				nv, useless, ok := p.narrowAfter(v, ps)
				if !ok && !reshaped[i] {
					// No case works with the grant: requests sent some
					// other way may (an MFA session under a boundary that
					// allows only those); the merge is made again.
					reshaped[i] = true
					if pl, why, nv, ok := p.replaced(v, places[i], len(needBlockers[i]) > 0); ok {
						places[i], verdicts[i] = pl, nv
						p.plan.Requests[i] = p.request(n, nv)
						p.plan.Requests[i].Why = why
						again = true
						continue
					}
					if pl, why, nv, ok := p.shaped(v); ok {
						places[i], verdicts[i] = pl, nv
						p.plan.Requests[i] = p.request(n, nv)
						p.plan.Requests[i].Why = why
						again = true
						continue
					}
				}
				if !ok {
					p.plan.Requests[i].After = d
					if len(needBlockers[i]) > 0 {
						note := p.othersOnly(v, after)
						for _, b := range needBlockers[i] {
							b.Message += note
							if !slices.ContainsFunc(p.plan.Blockers, func(x Blocker) bool { return x.Kind == b.Kind && x.Message == b.Message }) {
								p.block(b)
							}
						}
					} else {
						p.blockAfter(n, res, obj)
					}
					continue
				}
				verdicts[i] = nv
				why := p.plan.Requests[i].Why
				if useless {
					// Today's allows alone give these cases.
					why = "allowed by " + p.refs(nv.res.Allows) + " if " + nv.condition()
					if places[i].any() {
						places[i] = placement{}
						again = true
					}
				}
				p.plan.Requests[i] = p.request(n, nv)
				p.plan.Requests[i].Why = why
				d = policy.Allowed
			}
			p.plan.Requests[i].After = d
		}
		if p.plan.Blocked() || !again {
			break
		}
	}
	if p.plan.Blocked() {
		return nil
	}
	for i, v := range verdicts {
		p.explainCondition(v)
		p.explainShape(v)
		for _, b := range needBlockers[i] {
			p.warn(Warning{Kind: WarnConditionalAllow, Document: b.Document,
				Message: fmt.Sprintf("bucketgrant adds nothing to grant %s on %s there: %s (%s)", v.n.action, v.n.resource, b.Message, b.Hint)})
		}
	}
	p.plan.Changes = m.changes()
	return nil
}

// othersOnly explains a need that a document AWS would refuse to save
// keeps from its own grant while bucketgrant's statement of another grant
// allows it today: every grant stands on its own statements, so that
// revoking one never takes access from another (docs/lifecycle.md), and
// the plan does not lean on that statement. It returns "" otherwise.
func (p *planner) othersOnly(v verdict, after docSet) string {
	if v.undecided || len(v.live) == 0 {
		return ""
	}
	d, res, _ := p.over(v, withOthers(after).policies(v.n))
	if d != policy.Allowed {
		return ""
	}
	var others []policy.Ref
	for _, r := range res.Allows {
		if after.ignored(r) {
			others = append(others, r)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return fmt.Sprintf("; today %s is allowed by %s, bucketgrant's statement for another grant, but each grant needs its own statement so that revoking one never takes access from another", v.n.action, p.refs(others))
}

// ignored reports whether r names a statement markOthers left out.
func (s docSet) ignored(r policy.Ref) bool {
	is := func(n *policy.Named) bool {
		return n != nil && n.Name == r.Document && r.Index >= 0 && r.Index < len(n.Ignore) && n.Ignore[r.Index]
	}
	if is(s.key) || is(s.bucket) {
		return true
	}
	for i := range s.identity {
		if is(&s.identity[i].named) {
			return true
		}
	}
	return false
}

// withOthers is the set with the statements of bucketgrant's other grants
// counted again (markOthers left them out).
func withOthers(s docSet) docSet {
	unmark := func(n *policy.Named) *policy.Named {
		if n == nil || n.Ignore == nil {
			return n
		}
		c := *n
		c.Ignore = nil
		return &c
	}
	s.key, s.bucket = unmark(s.key), unmark(s.bucket)
	ids := make([]identityDoc, len(s.identity))
	for i, d := range s.identity {
		ids[i] = d
		ids[i].named = *unmark(&d.named)
	}
	s.identity = ids
	return s
}

// unsaved maps the blockers of a merge that are about a document AWS would
// refuse to save to the placement side that writes it; nil when some
// blocker is not of that kind (the plan stays blocked).
func unsaved(bs []Blocker) map[string][]Blocker {
	out := map[string][]Blocker{}
	for _, b := range bs {
		switch b.Kind {
		case BlockOrphanedPrincipals, BlockOrphanDeny, BlockForeignSid, BlockSizeLimit:
		default:
			return nil
		}
		if b.Document == nil {
			return nil
		}
		side := sideIdentity
		switch b.Document.Kind {
		case DocKeyPolicy:
			side = sideKey
		case DocBucketPolicy:
			side = sideBucket
		}
		out[side] = append(out[side], b)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Placement sides, by the document they write.
const (
	sideKey      = "key"
	sideBucket   = "bucket"
	sideIdentity = "identity"
)

// drop takes a side out of the placement, reporting whether it was in.
func (pl *placement) drop(side string) bool {
	switch side {
	case sideKey:
		had := pl.key
		pl.key = false
		return had
	case sideBucket:
		had := pl.bucket
		pl.bucket = false
		return had
	}
	had := pl.identity
	pl.identity = false
	return had
}

// narrowAfter narrows a verdict to the cases the merged documents ps
// allow; useless says that today's documents allow each of them already
// (the need's grant adds nothing). It reports false when ps allow no case.
func (p *planner) narrowAfter(v verdict, ps policy.Policies) (nv verdict, useless, ok bool) {
	if v.undecided {
		return v, false, false
	}
	now := p.now.policies(v.n)
	keep := make([]bool, len(v.live))
	kept := 0
	useless = true
	for i, u := range v.live {
		if keep[i] = p.allowsCase(v, u, ps); keep[i] {
			kept++
			if !p.allowsCase(v, u, now) {
				useless = false
			}
		}
	}
	if kept == 0 {
		return v, false, false
	}
	nv = v.restrict(keep)
	nv.decision, nv.res, nv.witness = p.over(nv, now)
	return nv, useless, true
}

// request is the plan's record of a need and its verdict. The request the
// plan names is about the witness object: for S3 as the resource, for S3's
// KMS requests as the encryption context (the probe object may be one a
// deny keeps).
func (p *planner) request(n need, v verdict) Request {
	probe, ctx := n.probe, v.ctx
	if v.witness != "" {
		switch n.objectAt {
		case objectResource:
			probe = v.witness
		case objectEncryptionContext:
			ctx = cloneContext(v.ctx)
			deleteKey(ctx, "kms:EncryptionContext:aws:s3:arn")
			ctx["kms:EncryptionContext:aws:s3:arn"] = []string{v.witness}
		}
	}
	return Request{Level: n.level, Action: n.action, Resource: n.resource, Before: v.decision, After: v.decision,
		Probe: probe, Context: spelled(ctx), Undecided: v.freeKeyNames(), Condition: v.condition()}
}

// placeNarrowing places the grant for a need nothing allows in every case
// today, and reports the blocker when no placement stands (tryPlace, then
// the other request shapes). It returns the verdict the plan states.
func (p *planner) placeNarrowing(v verdict) (placement, string, verdict) {
	pl, why, nv, blk := p.tryPlace(v)
	if blk == nil {
		return pl, why, nv
	}
	if pl, why, nv, ok := p.shaped(v); ok {
		return pl, why, nv
	}
	p.block(*blk)
	return pl, why, v
}

// tryPlace places the grant for a verdict. When a placement is refused for
// a reason that holds only for some values of the keys bucketgrant cannot
// read (a boundary or a key policy whose allow is conditional on one, or
// an allow today that holds only for some), the exact verdict is "allowed
// if" those values hold, not "blocked": the verdict is narrowed to the
// cases where the grant can work and placed again, until a placement
// stands or no case is left (then the blocker is returned).
func (p *planner) tryPlace(v verdict) (placement, string, verdict, *Blocker) {
	pl, why, blk := p.place(v)
	for blk != nil {
		nv, ok := p.narrow(v, *blk)
		if !ok {
			return pl, why, v, blk
		}
		v = nv
		if v.decision == policy.Allowed {
			return placement{}, "allowed by " + p.refs(v.res.Allows) + " if " + v.condition(), v, nil
		}
		pl, why, blk = p.place(v)
	}
	return pl, why, v, nil
}

// shaped tries the request shapes the client may choose besides the
// verdict's (fewest departures from the default first) when no grant
// bucketgrant may add works for the verdict's shape: an allow that holds
// only for requests sent some special way (an MFA session) is then the
// grant's access for requests sent that way, and the plan says so, rather
// than "blocked".
func (p *planner) shaped(v verdict) (placement, string, verdict, bool) {
	fallback := shapedPlacement{v: v}
	for _, sh := range v.shapes {
		if slices.Equal(sh, v.chosen) {
			continue
		}
		nv, ok := p.reshape(v, sh)
		if !ok {
			continue
		}
		if nv = p.orgNarrow(nv); nv.res.Limit != nil {
			// An organization level refuses requests of this shape
			// whatever bucketgrant writes (org.go).
			continue
		}
		if nv.decision == policy.Allowed {
			why := "allowed by " + p.refs(nv.res.Allows) + " for requests made so that " + strings.Join(nv.shapeDemands(), " and ")
			if c := nv.condition(); c != "" {
				why += ", if " + c
			}
			return placement{}, why, nv, true
		}
		pl, why, nv, blk := p.tryPlace(nv)
		if blk != nil {
			continue
		}
		if !p.needsUnsaveable(pl) {
			return pl, why, nv, true
		}
		if !fallback.ok {
			fallback = shapedPlacement{pl, why, nv, true}
		}
	}
	// Every shape that works puts a grant into a document AWS would refuse
	// to save: take the first, as before that was known. The merge drops
	// the grant there again, and the plan says what the shape still
	// allows without it (an allow today may already cover the shape's
	// requests; scenario 76326 of the 100,000-plan run).
	return fallback.pl, fallback.why, fallback.v, fallback.ok
}

// shapedPlacement is a shape's placement that shaped keeps in reserve.
type shapedPlacement struct {
	pl  placement
	why string
	v   verdict
	ok  bool
}

// replaced places a need again, in the same request shape, once the merge
// has dropped its grant from a document AWS would refuse to save (dropped):
// a same-account KMS grant that --kms-via auto put into such a key policy
// goes to the identity side, where it works in the cases the key policy
// delegates (an "allowed if" verdict when that is only some).
func (p *planner) replaced(v verdict, had placement, dropped bool) (placement, string, verdict, bool) {
	if !dropped {
		return had, "", v, false
	}
	pl, why, nv, blk := p.tryPlace(v)
	if blk != nil || p.needsUnsaveable(pl) || pl == had {
		return had, "", v, false
	}
	return pl, why, nv, true
}

// needsUnsaveable reports whether a placement puts a grant into a document
// the merge found AWS would refuse to save: a shape that needs one is no
// way out (a key policy naming a deleted user's ID takes no grant, so a
// shape that works only with a key-policy grant does not work).
func (p *planner) needsUnsaveable(pl placement) bool {
	return pl.key && p.unsaveable[sideKey] || pl.bucket && p.unsaveable[sideBucket] || pl.identity && p.unsaveable[sideIdentity]
}

// todo is the verdict restricted to the cases today's documents do not
// allow (the verdict itself when they allow none).
func (p *planner) todo(v verdict) verdict {
	if v.undecided {
		return v
	}
	now := p.now.policies(v.n)
	keep := make([]bool, len(v.live))
	some := false
	for i, u := range v.live {
		keep[i] = !p.allowsCase(v, u, now)
		some = some || keep[i]
	}
	if !some {
		return v
	}
	return v.restrict(keep)
}

// narrow keeps the cases of a verdict in which the grant can work despite
// blocker b: those allowed today, and those in which b does not hold (the
// boundary allows, or the key policy delegates to the principal's
// account). It reports false when that is no case or every case: then
// nothing is narrowed and b stands.
func (p *planner) narrow(v verdict, b Blocker) (verdict, bool) {
	if v.undecided {
		return v, false
	}
	now := p.now.policies(v.n)
	var side policy.Policies
	has := false
	switch b.Kind {
	case BlockKeyNotDelegated:
		side, has = now, true
		side.Identity, side.Boundary = []policy.Named{allowAll}, nil
	case BlockBoundary:
		side, has = p.boundaryPolicies(v.n), true
	}
	keep := make([]bool, len(v.live))
	kept := 0
	for i, u := range v.live {
		keep[i] = p.allowsCase(v, u, now) || has && p.allowsCase(v, u, side)
		if keep[i] {
			kept++
		}
	}
	if kept == 0 || kept == len(v.live) {
		return v, false
	}
	nv := v.restrict(keep)
	nv.decision, nv.res, nv.witness = p.over(nv, now)
	return nv, true
}

// place decides where a request that nothing allows today gets its grant,
// and says why it is refused today. Each side is asked about every case of
// the verdict. A placement refused returns the blocker, for the caller to
// narrow the verdict or report it.
func (p *planner) place(v verdict) (placement, string, *Blocker) {
	if pl, why, ok := p.placeProtected(v); ok {
		return pl, why, nil // a role bucketgrant must not edit (protected.go)
	}
	// Only the cases nothing allows today need the grant: each side is
	// asked about those.
	v = p.todo(v)
	n := v.n
	resourceSide := func() bool {
		ps := p.now.policies(n)
		ps.Identity, ps.Boundary = []policy.Named{allowAll}, nil
		return p.allows(v, ps)
	}
	identitySide := func() bool {
		ps := p.now.policies(n)
		ps.Resource = delegateAll(p.principalAccount)
		return p.allows(v, ps)
	}
	// A permissions boundary limits every identity-policy grant; it matters
	// wherever the grant must (or would) go to the identity side.
	bounded := !p.boundaryAllows(v)
	blockBoundary := func() (placement, string, *Blocker) {
		return placement{}, "refused by the permissions boundary", &Blocker{Kind: BlockBoundary,
			Message: fmt.Sprintf("the %s does not allow %s on %s, and a boundary limits every identity-policy grant", p.now.boundary.Name, n.action, n.resource),
			Hint:    "ask the boundary's owner to allow " + n.action + "; bucketgrant does not change boundaries"}
	}
	resName, idName := p.sideNames(n)
	cross := p.cross
	if n.service == "kms" {
		cross = p.crossKey
	}
	if n.service == "s3" && !cross {
		if bounded {
			if p.kind != "user" {
				return blockBoundary()
			}
			// In one account a bucket-policy statement that names a user
			// is not limited by the user's permissions boundary (IAM User
			// Guide, policy evaluation logic; aws-facts.md §3), so the
			// grant goes there instead of into a policy the boundary cuts.
			why := fmt.Sprintf("the %s does not allow it, and in one account a bucket-policy statement naming %s is not limited by the boundary", p.now.boundary.Name, p.principalARN)
			return placement{bucket: true, bucketWhy: why}, why, nil
		}
		why := fmt.Sprintf("neither %s nor the %s allows it", idName, resName)
		return placement{identity: true, identityWhy: why}, why, nil
	}
	if cross {
		if bounded {
			return blockBoundary()
		}
		// Across accounts the principal's account and the resource's
		// account must both allow (aws-facts.md §3).
		var pl placement
		var why []string
		if !resourceSide() {
			w := fmt.Sprintf("the %s does not allow it for %s, and across accounts the resource's policy must", resName, p.principalARN)
			if n.service == "kms" {
				pl.key, pl.keyWhy = true, w
			} else {
				pl.bucket, pl.bucketWhy = true, w
			}
			why = append(why, w)
		}
		if !identitySide() {
			w := idName + " do not allow it, and across accounts the principal's own policies must"
			pl.identity, pl.identityWhy = true, w
			why = append(why, w)
		}
		return pl, strings.Join(why, "; "), nil
	}
	delegates := p.keyDelegates(v)
	via := p.opts.KMSVia
	if via == ViaAuto {
		// The identity policy when the key delegates to the account and no
		// boundary stands in the way; else the key policy, whose grant to
		// the principal itself a boundary does not limit.
		via = ViaKeyPolicy
		if (delegates || p.unsaveable[sideKey]) && !bounded {
			// A key policy AWS would refuse to save takes no grant: the
			// identity side is asked, in the cases the key delegates.
			via = ViaIdentity
		}
	}
	if via == ViaIdentity {
		if bounded {
			return blockBoundary()
		}
		if !delegates {
			return placement{}, "the key policy does not delegate to the account", &Blocker{Kind: BlockKeyNotDelegated, Document: &DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)},
				Message: fmt.Sprintf("the %s does not let account %s's IAM policies grant %s, so an identity-policy grant would not work", resName, p.principalAccount, n.action),
				Hint:    "use --kms-via key-policy (or auto)"}
		}
		why := fmt.Sprintf("the %s delegates %s to account %s's IAM policies, but %s do not allow it", resName, n.action, p.principalAccount, idName)
		return placement{identity: true, identityWhy: why}, why, nil
	}
	if p.key.KeyManager == "AWS" {
		return placement{}, "the key is AWS managed", &Blocker{Kind: BlockAWSManagedKey, Document: &DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)},
			Message: fmt.Sprintf("the key %s is an AWS managed key and its key policy cannot be changed", p.key.ARN),
			Hint:    "grant through the identity policy (--kms-via identity) if the key policy delegates, or use a customer managed key"}
	}
	why := fmt.Sprintf("the %s does not allow it for %s, and KMS honours only what the key policy allows", resName, p.principalARN)
	return placement{key: true, keyWhy: why}, why, nil
}

func (p *planner) sideNames(n need) (resource, identity string) {
	identity = "the identity policies of " + p.principalARN
	if n.service == "kms" {
		return keyPolicyName(p.key.ARN), identity
	}
	return bucketPolicyName(p.bucket.Name), identity
}

// keyDelegates reports whether the key policy lets the principal's account
// grant the action through IAM for this principal: with an identity policy
// that allows everything and no boundary, the key policy allows the
// principal in every case of the verdict. The principal itself is asked,
// not a stand-in of its account: a key-policy deny that exempts the
// principal alone (NotPrincipal, or a condition on aws:PrincipalArn) would
// hit a stand-in and hide a delegation the principal gets.
func (p *planner) keyDelegates(v verdict) bool {
	ps := p.now.policies(v.n)
	ps.Identity, ps.Boundary = []policy.Named{allowAll}, nil
	return p.allows(v, ps)
}

// boundaryAllows reports whether the principal's permissions boundary, if
// any, lets an identity-policy grant take effect in every case.
func (p *planner) boundaryAllows(v verdict) bool {
	if p.now.boundary == nil {
		return true
	}
	return p.allows(v, p.boundaryPolicies(v.n))
}

// boundaryPolicies stand for an identity-policy grant under the
// principal's boundary: everything is allowed but what the boundary cuts.
func (p *planner) boundaryPolicies(n need) policy.Policies {
	ps := policy.Policies{Identity: []policy.Named{allowAll}, Boundary: p.now.boundary, Resource: delegateAll(p.principalAccount)}
	if n.service == "kms" {
		ps.ResourceType = policy.ResourceKMSKey
	}
	return ps
}

// blockAfter explains a request the merged documents still refuse.
func (p *planner) blockAfter(n need, res policy.Result, obj string) {
	on := n.resource
	if obj != "" && n.objectAt == objectResource && obj != n.object {
		on = obj
	}
	if res.Limit != nil {
		p.orgBlockLimit(n.action, on, res.Limit)
		return
	}
	if res.Decision == policy.ExplicitlyDenied && p.orgRefs(res.Denies) {
		for _, ref := range res.Denies {
			if !p.orgBlockDeny(n.action, on, ref, "even with the changes") {
				p.block(Blocker{Kind: BlockExplicitDeny, Statement: &ref, Message: fmt.Sprintf("%s on %s is denied by %s", n.action, on, refString(ref))})
			}
		}
		return
	}
	if res.Decision == policy.ExplicitlyDenied {
		p.block(Blocker{Kind: BlockExplicitDeny, Message: fmt.Sprintf("%s on %s is denied by %s", n.action, on, p.refs(res.Denies))})
		return
	}
	p.block(Blocker{Kind: BlockBoundary,
		Message: fmt.Sprintf("even with the changes, %s on %s would not be allowed", n.action, on),
		Hint:    "a policy the tool does not edit limits it (a permissions boundary, or a condition the request cannot meet); run `bucketgrant check` for the deciding statements"})
}

// refs names statements for people: "key policy of arn:… statement 1 (Sid X)".
func (p *planner) refs(rs []policy.Ref) string {
	if len(rs) == 0 {
		return "no statement"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = refString(r)
	}
	return strings.Join(parts, ", ")
}

func refString(r policy.Ref) string {
	if r.Index < 0 {
		return r.Document // a KMS grant: no statement to count
	}
	s := fmt.Sprintf("%s statement %d", r.Document, r.Index)
	if r.Sid != "" {
		s += fmt.Sprintf(" (Sid %q)", r.Sid)
	}
	return s
}

func (p *planner) denyWhy(res policy.Result) string {
	return "explicitly denied by " + p.refs(res.Denies)
}
