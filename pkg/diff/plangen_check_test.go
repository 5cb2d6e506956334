package diff_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/plangen"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// searchContexts bounds the contexts the search tries per request and
// object.
const searchContexts = 256

// runScenario plans one scenario and lists what checks the plan.
func runScenario(sc plangen.Scenario, g *trust.GoDecider, mode string, sample int) (r *scenarioRun) {
	r = &scenarioRun{sc: sc, mode: mode, sample: sample}
	g.Reset()
	defer func() {
		if x := recover(); x != nil {
			r.outcome = "failed"
			r.fail("panic", "%v", x)
		}
	}()
	st := sc.State()
	opts := sc.Options()
	p, err := diff.Make(st, opts)
	if err != nil {
		r.outcome = "failed"
		r.fail("plan-error", "%v", err)
		return r
	}
	for _, b := range p.Blockers {
		if !slices.Contains(r.blockers, b.Kind) {
			r.blockers = append(r.blockers, b.Kind)
		}
	}
	checkRequests(r, p)
	checkKeyFacts(r, p)
	if p.Blocked() {
		r.outcome = "blocked"
		blockedSearch(r, p)
		decideGo(r, g)
		return r
	}
	after := sc.State()
	if err := apply.ToState(after, p); err != nil {
		r.outcome = "failed"
		r.fail("apply", "%v", err)
		return r
	}
	r.outcome = "changed"
	if p.Empty() {
		r.outcome = "unchanged"
	}
	checkDocuments(r, p)
	if err := trust.StatementsKept(p); err != nil {
		r.fail("bytes-kept", "%v", err)
	}
	again, err := diff.Make(after, opts)
	switch {
	case err != nil:
		r.fail("again", "planning on the applied state: %v", err)
	case !again.Empty() || again.Blocked():
		r.fail("again", "planning on the applied state is not a no-op: %d changes %v, blockers %v", len(again.Changes), changedDocs(again), blockerMessages(again))
	}
	checkContexts(r, p)
	for _, pr := range trust.Probes(st, after, p, trust.Options{Compact: true, Callers: sc.NamedPrincipals(), Objects: sc.Objects()}) {
		prop := "nothing-new"
		if pr.Required {
			prop = "required"
		}
		r.points = append(r.points, &point{prop: prop, cases: pr.Cases(), check: pr.Violation, must: pr.Required})
	}
	objectPoints(r, p, after)
	unknownPoints(r, p, after)
	decideGo(r, g)
	return r
}

// decideGo decides every point with the Go evaluator, then picks the
// points the oracle decides (in the worker, beside the planning, not on
// the oracles' path) and lets go of the cases of the search's other
// points: only their Go decisions are read from then on, and a blocked
// plan's search holds most of a run's cases.
func decideGo(r *scenarioRun, g *trust.GoDecider) {
	defer func() {
		r.selected = r.oraclePoints()
		if r.search == nil {
			return
		}
		selected := make(map[*point]bool, len(r.selected))
		for _, p := range r.selected {
			selected[p] = true
		}
		for _, need := range r.search.needs {
			for _, obj := range need {
				for _, p := range obj {
					if !selected[p] {
						p.cases = nil
					}
				}
			}
		}
	}()
	for _, p := range r.allPoints() {
		r.goCases += len(p.cases)
		p.goDec = make([]string, len(p.cases))
		for i, c := range p.cases {
			d, err := g.Decide(c)
			if err != nil {
				r.fail("go-evaluator", "%v", err)
				d = "error"
			}
			p.goDec[i] = d
		}
	}
	if r.search != nil {
		for _, need := range r.search.needs {
			for _, obj := range need {
				r.searched += len(obj)
			}
		}
	}
}

// modelRequest finds the scenario's request for a plan's request.
func modelRequest(sc *plangen.Scenario, action string) (plangen.RequestAction, bool) {
	for _, m := range sc.Requests() {
		if m.Action == action {
			return m, true
		}
	}
	return plangen.RequestAction{}, false
}

// checkRequests compares the plan's requests with the requests the levels
// need.
func checkRequests(r *scenarioRun, p *diff.Plan) {
	var got, want []string
	for _, q := range p.Requests {
		got = append(got, q.Action)
	}
	for _, m := range r.sc.Requests() {
		want = append(want, m.Action)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(p.Requests) > 0 && !slices.Equal(got, want) {
		r.fail("requests", "the plan's requests are %v, the levels %v need %v", got, r.sc.Levels(), want)
	}
}

// checkKeyFacts checks the blockers that facts about the key decide.
func checkKeyFacts(r *scenarioRun, p *diff.Plan) {
	sc := &r.sc
	has := func(kind string) bool { return slices.Contains(r.blockers, kind) }
	crossKey := sc.KeyAccount != plangen.AccountP
	writes := slices.Contains(sc.Levels(), diff.Write)
	expect := []struct {
		kind string
		when bool
	}{
		{diff.BlockKeyState, sc.KeyState != "Enabled"},
		{diff.BlockAliasCrossAccount, sc.KeyRef == "alias" && sc.Cross() && writes},
	}
	for _, e := range expect {
		if e.when && !has(e.kind) {
			r.fail("key-facts", "expected a %s blocker", e.kind)
		}
		if !e.when && has(e.kind) {
			r.fail("key-facts", "unexpected %s blocker: %s", e.kind, blockerMessages(p))
		}
	}
	if sc.KeyManager == "AWS" && crossKey && !has(diff.BlockAWSManagedKey) {
		r.fail("key-facts", "an AWS managed key shared across accounts is not blocked")
	}
	if sc.KeyManager != "AWS" && has(diff.BlockAWSManagedKey) {
		r.fail("key-facts", "a customer managed key is called AWS managed")
	}
	for _, k := range []string{diff.BlockKeyRegion, diff.BlockMissingKey, diff.BlockMissingPrincipal} {
		if has(k) {
			r.fail("key-facts", "unexpected %s blocker: %s", k, blockerMessages(p))
		}
	}
}

// checkDocuments checks which documents the plan writes and that every
// statement that is not bucketgrant's keeps its bytes.
func checkDocuments(r *scenarioRun, p *diff.Plan) {
	sc := &r.sc
	grant := sc.Grant()
	for _, ch := range p.Changes {
		d := ch.Document
		var kind policy.Kind
		var doc *plangen.Doc
		switch d.Kind {
		case diff.DocKeyPolicy:
			kind, doc = policy.KindKeyPolicy, &sc.KeyPolicy
		case diff.DocBucketPolicy:
			kind, doc = policy.KindBucketPolicy, sc.BucketPolicy
		case diff.DocInlinePolicy:
			kind = policy.KindIdentity
			if d.Name != diff.InlinePolicyName(plangen.Bucket) || d.ARN != sc.PrincipalARN() {
				r.fail("bytes-kept", "the plan writes %s, which is not bucketgrant's", d.ID())
				continue
			}
			for i := range sc.Inline {
				if sc.Inline[i].Name == d.Name {
					doc = &sc.Inline[i].Doc
				}
			}
		case diff.DocManagedPolicy:
			kind = policy.KindIdentity
			if d.ARN != diff.ManagedPolicyARN(sc.PrincipalARN(), plangen.Bucket) {
				r.fail("bytes-kept", "the plan writes %s, which is not bucketgrant's", d.ID())
				continue
			}
		default:
			r.fail("bytes-kept", "the plan writes a %s", d.Kind)
			continue
		}
		if doc == nil {
			if ch.Before != "" {
				r.fail("bytes-kept", "%s: the plan's before text is not the state's document", d.ID())
			}
			continue
		}
		if ch.Before != doc.JSON() {
			r.fail("bytes-kept", "%s: the plan's before text is not the state's document", d.ID())
			continue
		}
		for _, st := range doc.Stmts {
			text := st.JSON()
			parsed, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+text+`]}`), kind)
			if err != nil {
				r.fail("bytes-kept", "statement %s does not parse: %v", text, err)
				continue
			}
			if _, own := diff.OwnedPurpose(parsed.Statements()[0], kind, grant); own {
				continue // bucketgrant's own: it may rewrite it
			}
			if strings.Contains(ch.After, text) {
				continue
			}
			if sc.RemoveOrphans && namesOrphan(st) {
				if st.Effect == "Allow" && st.Principal != nil && onlyOrphans(st.Principal) {
					continue // it allowed nobody; it goes
				}
				if keptWithoutOrphans(st, ch.After, kind) {
					continue
				}
			}
			r.fail("bytes-kept", "%s lost or changed a statement that is not bucketgrant's: %s", d.ID(), text)
		}
	}
}

func isOrphan(v string) bool { return v == plangen.OrphanUser || v == plangen.OrphanRole }

func namesOrphan(st plangen.Stmt) bool {
	for _, p := range []*plangen.Prin{st.Principal, st.NotPrincipal} {
		if p != nil && slices.ContainsFunc(p.AWS, isOrphan) {
			return true
		}
	}
	return false
}

func onlyOrphans(p *plangen.Prin) bool {
	return !p.Star && len(p.Service) == 0 && !slices.ContainsFunc(p.AWS, func(v string) bool { return !isOrphan(v) })
}

// keptWithoutOrphans reports whether after holds the statement with only
// its orphaned IDs taken out of its principals.
func keptWithoutOrphans(st plangen.Stmt, after string, kind policy.Kind) bool {
	want := st
	for _, p := range []**plangen.Prin{&want.Principal, &want.NotPrincipal} {
		if *p != nil {
			c := **p
			c.AWS = slices.DeleteFunc(slices.Clone(c.AWS), isOrphan)
			*p = &c
		}
	}
	w, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+want.JSON()+`]}`), kind)
	if err != nil {
		return false
	}
	doc, err := policy.Parse([]byte(after), kind)
	if err != nil {
		return false
	}
	for i := range doc.Statements() {
		one, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+string(doc.StatementText(i))+`]}`), kind)
		if err == nil && policy.Equal(one, w) {
			return true
		}
	}
	return false
}

// checkContexts checks that every context the plan names is one a client
// can send for that request.
func checkContexts(r *scenarioRun, p *diff.Plan) {
	sc := &r.sc
	tested := map[string]bool{}
	for _, k := range sc.ConditionKeys() {
		tested[strings.ToLower(k)] = true
	}
	for _, q := range p.Requests {
		m, ok := modelRequest(sc, q.Action)
		if !ok {
			continue
		}
		object := ""
		if sc.ObjectRequest(m) {
			object = objectOf(q, sc)
		}
		facts := sc.Facts(m, object)
		free := map[string]plangen.FreeKey{}
		for _, f := range sc.Free(m) {
			free[strings.ToLower(f.Key)] = f
		}
		seen := map[string]bool{}
		for k, v := range q.Context {
			lk := strings.ToLower(k)
			seen[lk] = true
			switch sc.Classify(k, m.Action, m.KMS) {
			case plangen.Fact:
				if want, ok := lookupFold(facts, k); !ok {
					if tested[lk] {
						r.fail("contexts", "%s: the plan's context sets %s = %v, which AWS does not set on this request", q.Action, k, v)
					}
				} else if !slices.Equal(want, v) && k != "kms:EncryptionContext:aws:s3:arn" {
					r.fail("contexts", "%s: the plan's context sets %s = %v, AWS sets %v", q.Action, k, v, want)
				}
			case plangen.Absent:
				r.fail("contexts", "%s: the plan's context sets %s = %v, which this request cannot carry", q.Action, k, v)
			case plangen.Client:
				f, ok := free[lk]
				if ok && !slices.ContainsFunc(f.Values, func(x []string) bool { return x != nil && slices.Equal(x, v) }) {
					r.fail("contexts", "%s: the plan's context sets %s = %v, not a value a client sends with the bucket's key (%v)", q.Action, k, v, f.Values)
				}
			}
		}
		for k, v := range facts {
			if lk := strings.ToLower(k); tested[lk] && !seen[lk] {
				r.fail("contexts", "%s: the plan's context lacks %s (AWS sets %v), which a condition tests", q.Action, k, v)
			}
		}
	}
}

func lookupFold(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// objectOf is the object key the plan's request is about.
func objectOf(q diff.Request, sc *plangen.Scenario) string {
	prefix := plangen.BucketARN() + "/"
	if strings.HasPrefix(q.Action, "kms:") {
		if v, ok := lookupFold(q.Context, "kms:EncryptionContext:aws:s3:arn"); ok && len(v) == 1 {
			return strings.TrimPrefix(v[0], prefix)
		}
		return ""
	}
	return strings.TrimPrefix(q.Probe, prefix)
}

// objectPoints asks, for every object of the grant the scenario knows,
// whether the plan's requests are allowed afterwards.
func objectPoints(r *scenarioRun, p *diff.Plan, after *state.State) {
	sc := &r.sc
	warned := map[string]bool{}
	for _, w := range p.Warnings {
		if w.Kind == diff.WarnPartialDeny {
			for _, q := range p.Requests {
				if strings.Contains(w.Message+" ", " "+q.Action+" ") {
					warned[q.Action] = true
				}
			}
		}
	}
	for _, q := range p.Requests {
		m, ok := modelRequest(sc, q.Action)
		if !ok || !sc.ObjectRequest(m) {
			continue
		}
		for _, obj := range sc.GrantObjects() {
			if obj == objectOf(q, sc) {
				continue
			}
			ctx := cloneCtx(q.Context)
			resource := q.Probe
			if m.KMS {
				setFold(ctx, "kms:EncryptionContext:aws:s3:arn", []string{plangen.BucketARN() + "/" + obj})
			} else {
				resource = plangen.BucketARN() + "/" + obj
			}
			c := trust.PrincipalCase(after, p, q.Action, resource, ctx)
			allowed := allowedCheck(c, "the plan grants "+q.Resource+" and warns of no deny that covers it")
			warnedDeny := warned[q.Action]
			r.points = append(r.points, &point{prop: "objects", cases: []oracle.Case{c}, check: func(d []string) string {
				if d[0] == oracle.ExplicitlyDenied && warnedDeny {
					return "" // the plan warns that a deny keeps part of the objects
				}
				return allowed(d)
			}})
		}
	}
}

// unknownPoints asks, for a request the plan says works without a
// condition, whether it works for every value of the keys bucketgrant
// cannot read.
func unknownPoints(r *scenarioRun, p *diff.Plan, after *state.State) {
	sc := &r.sc
	for _, q := range p.Requests {
		if q.Condition != "" {
			continue
		}
		m, ok := modelRequest(sc, q.Action)
		if !ok {
			continue
		}
		for _, f := range sc.Free(m) {
			if f.Class != plangen.Unknown {
				continue
			}
			for _, v := range f.Values {
				ctx := cloneCtx(q.Context)
				deleteFold(ctx, f.Key)
				if v != nil {
					ctx[f.Key] = v
				}
				c := trust.PrincipalCase(after, p, q.Action, q.Probe, ctx)
				r.points = append(r.points, &point{prop: "unknown-values", cases: []oracle.Case{c},
					check: allowedCheck(c, fmt.Sprintf("the plan says it works whatever %s is", f.Key))})
			}
		}
	}
}

func allowedCheck(c oracle.Case, why string) func([]string) string {
	return func(d []string) string {
		if d[0] == oracle.Allowed {
			return ""
		}
		return fmt.Sprintf("%s on %s with %s is %s; %s", c.Action, c.ResourceARN, contextString(c.Context), d[0], why)
	}
}

// policyBlockers are the blockers the bounded search can refute: about what
// the policies allow, not about facts of the key.
var policyBlockers = []string{diff.BlockExplicitDeny, diff.BlockBoundary, diff.BlockKeyNotDelegated, diff.BlockOrphanDeny,
	diff.BlockOrphanedPrincipals, diff.BlockForeignSid, diff.BlockSizeLimit, diff.BlockOrgPolicy}

// blockedSearch builds the bounded search of a blocked plan (see
// TestGeneratedPlans).
func blockedSearch(r *scenarioRun, p *diff.Plan) {
	for _, b := range r.blockers {
		if !slices.Contains(policyBlockers, b) {
			return // facts of the key, or undecidable: nothing to search
		}
	}
	sc := &r.sc
	changed := searchChange(sc)
	st := changed.State()
	s := &search{}
	for _, m := range sc.Requests() {
		frees := sc.Free(m)
		objects := []string{""}
		if sc.ObjectRequest(m) {
			objects = sc.GrantObjects()
		}
		var need [][]*point
		for _, obj := range objects {
			ctxs := sc.Contexts(m, obj, searchContexts)
			if ctxs == nil {
				// Too many condition values to try: the plan is counted
				// as not searched.
				r.unsearched = true
				return
			}
			var points []*point
			for _, ctx := range ctxs {
				c := trust.PrincipalCase(st, p, m.Action, sc.Resource(m, obj), ctx)
				points = append(points, &point{prop: "blocked", cases: []oracle.Case{c}, check: func([]string) string { return "" },
					dflt: sc.DefaultShapeOf(frees, ctx), unknown: unknownValues(frees, ctx)})
			}
			need = append(need, points)
		}
		s.needs = append(s.needs, need)
	}
	r.search = s
}

// unknownValues names the values a context gives the keys bucketgrant
// cannot read.
func unknownValues(frees []plangen.FreeKey, ctx map[string][]string) string {
	var parts []string
	for _, f := range frees {
		if f.Class == plangen.Unknown {
			v, _ := lookupFold(ctx, f.Key)
			parts = append(parts, f.Key+"="+strings.Join(v, "|"))
		}
	}
	return strings.Join(parts, " ")
}

// searchChange adds bucketgrant's own statements for the grant wherever a
// change could go (see TestGeneratedPlans).
//
// The statements of bucketgrant's other grants are left out first: every
// grant stands on its own statements, so that revoking one never takes
// access from another (docs/lifecycle.md), and a change that works only
// with another grant's statement is not one bucketgrant may make.
func searchChange(sc *plangen.Scenario) plangen.Scenario {
	c := sc.Clone()
	withoutOtherGrants(&c)
	bk := plangen.BucketARN()
	var objectActions []string
	list := false
	for _, l := range sc.Levels() {
		switch l {
		case diff.Read:
			objectActions = append(objectActions, "s3:GetObject")
		case diff.Write:
			objectActions = append(objectActions, "s3:PutObject")
		case diff.Versions:
			objectActions = append(objectActions, "s3:GetObjectVersion")
		case diff.ACL:
			objectActions = append(objectActions, "s3:PutObjectAcl")
		case diff.List:
			list = true
		}
	}
	me := &plangen.Prin{AWS: []string{sc.PrincipalARN()}}
	var s3 []plangen.Stmt
	if len(objectActions) > 0 {
		s3 = append(s3, plangen.Stmt{Sid: "SearchObjects", Effect: "Allow", Action: objectActions, Resource: []string{bk + "/" + sc.Prefix + "*"}})
	}
	if list {
		st := plangen.Stmt{Sid: "SearchList", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bk}}
		if sc.Prefix != "" {
			st.Cond = []plangen.Cond{{Op: "StringLike", Key: "s3:prefix", Values: []string{sc.Prefix + "*"}}}
		}
		s3 = append(s3, st)
	}
	kms := plangen.Stmt{Sid: "SearchKms", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{sc.KeyARNOf()}}
	sameKey := sc.KeyAccount == plangen.AccountP
	identity := plangen.Doc{}
	identity.Stmts = append(identity.Stmts, s3...)
	if !(sameKey && sc.KMSVia == diff.ViaKeyPolicy) {
		identity.Stmts = append(identity.Stmts, kms)
	}
	c.Inline = append(c.Inline, plangen.Named{Name: "bucketgrant-search", Doc: identity})
	if saveable(sc.BucketPolicy, sc.RemoveOrphans) {
		if c.BucketPolicy == nil {
			c.BucketPolicy = &plangen.Doc{}
		}
		for _, st := range s3 {
			st.Principal = me
			c.BucketPolicy.Stmts = append(c.BucketPolicy.Stmts, st)
		}
	}
	if sc.KeyManager != "AWS" && saveable(&sc.KeyPolicy, sc.RemoveOrphans) && !(sameKey && sc.KMSVia == diff.ViaIdentity) {
		st := kms
		st.Principal, st.Resource = me, []string{"*"}
		c.KeyPolicy.Stmts = append(c.KeyPolicy.Stmts, st)
	}
	return c
}

// withoutOtherGrants removes from the documents the planner may count the
// statements that are bucketgrant's for another grant of the principal:
// the generator writes them only for the grant on the prefix elsewhere/
// (plangen's ownSids).
func withoutOtherGrants(sc *plangen.Scenario) {
	other := sc.Grant()
	other.Prefix = "elsewhere/"
	if sc.Prefix == other.Prefix {
		return
	}
	drop := func(d *plangen.Doc, kind policy.Kind) {
		if d == nil {
			return
		}
		d.Stmts = slices.DeleteFunc(slices.Clone(d.Stmts), func(st plangen.Stmt) bool {
			parsed, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+st.JSON()+`]}`), kind)
			if err != nil {
				return false
			}
			_, own := diff.OwnedPurpose(parsed.Statements()[0], kind, other)
			return own
		})
	}
	drop(&sc.KeyPolicy, policy.KindKeyPolicy)
	drop(sc.BucketPolicy, policy.KindBucketPolicy)
	for _, named := range [][]plangen.Named{sc.Inline, sc.Managed} {
		for i := range named {
			drop(&named[i].Doc, policy.KindIdentity)
		}
	}
}

// saveable reports whether AWS would save the document with a statement
// added: it names no orphaned ID, or only ones that
// --remove-orphaned-principals may take out.
func saveable(d *plangen.Doc, removeOrphans bool) bool {
	if d == nil {
		return true
	}
	for _, st := range d.Stmts {
		if !namesOrphan(st) {
			continue
		}
		if !removeOrphans {
			return false
		}
		allowPrincipal := st.Effect == "Allow" && st.Principal != nil
		if !allowPrincipal && (onlyOrphans(orEmpty(st.Principal)) && st.Principal != nil || st.NotPrincipal != nil && onlyOrphans(st.NotPrincipal)) {
			return false
		}
	}
	return true
}

func orEmpty(p *plangen.Prin) *plangen.Prin {
	if p == nil {
		return &plangen.Prin{}
	}
	return p
}

func cloneCtx(ctx map[string][]string) map[string][]string {
	out := make(map[string][]string, len(ctx)+1)
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

func deleteFold(ctx map[string][]string, key string) {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			delete(ctx, k)
		}
	}
}

func setFold(ctx map[string][]string, key string, v []string) {
	deleteFold(ctx, key)
	ctx[key] = v
}

// routineKeys are the facts every request of a scenario carries; messages
// leave them out.
var routineKeys = []string{"aws:currenttime", "aws:epochtime", "aws:principalaccount", "aws:principalarn", "aws:principalisawsservice",
	"aws:principaltype", "aws:requestedregion", "aws:resourceaccount", "aws:securetransport", "aws:userid", "aws:username",
	"aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:viaawsservice", "kms:calleraccount", "kms:encryptionalgorithm",
	"kms:encryptioncontextkeys", "kms:resourcealiases", "kms:viaservice"}

// contextString shows a context's keys other than the routine facts.
func contextString(ctx map[string][]string) string {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		if !slices.Contains(routineKeys, strings.ToLower(k)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.Join(ctx[k], "|")
	}
	return "the facts and {" + strings.Join(parts, " ") + "}"
}

func changedDocs(p *diff.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Document.ID())
	}
	return out
}

func blockerMessages(p *diff.Plan) string {
	var out []string
	for _, b := range p.Blockers {
		out = append(out, b.Kind+": "+b.Message)
	}
	return strings.Join(out, "; ")
}

func mustCaseJSON(c oracle.Case) string {
	b, _ := json.Marshal(c)
	return string(b)
}

func casesJSON(cs []oracle.Case) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, mustCaseJSON(c))
	}
	return strings.Join(parts, "\n")
}
