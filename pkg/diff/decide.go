package diff

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/sar"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Deciding over sets (design principle 8). A verdict about a need is a
// statement about every request the principal may send for it: every object
// of the grant, every value of a condition key bucketgrant cannot know, and
// the request shape the client chooses. decide evaluates exactly those
// cases:
//
//   - objects: one witness per class of object keys that the policies'
//     patterns treat alike (objects.go), so "every object is allowed" is
//     decided for every key, not for one probe;
//   - condition keys by where their value comes from (origins.go): facts
//     are in the need's context; keys the request cannot carry stay absent;
//     keys the client chooses form the request shape, of which the plan
//     names one that avoids every deny at once and passes every allow; keys
//     bucketgrant cannot know are enumerated over every value class the
//     policies distinguish, and a verdict that hangs on them says "allowed
//     if …".
//
// The cases are bounded (maxCases); beyond the bound the verdict is
// "undecided", never "works".

// maxCases bounds the evaluations of one need for one request shape.
const maxCases = 4096

// maxShapes bounds the request shapes tried for one need.
const maxShapes = 256

// freeKey is a condition key whose value the planner does not fix.
type freeKey struct {
	key    string     // canonical lower case
	name   string     // as the policies spell it, for people
	values [][]string // candidate values; nil means absent
	client bool       // chosen by the client (else: unknown, every value counts)
	// dflt is the index of the value a request carries when the client
	// does nothing special.
	dflt int
	// exact: every condition on the key compares whole values exactly, so
	// each named value stands for itself alone (not for a pattern's or a
	// range's class).
	exact bool
}

// assignment is one value per free key (an index into values).
type assignment []int

// verdict is what decide found for one need.
type verdict struct {
	n      need
	ctx    map[string][]string // the chosen shape: facts plus the client's choices
	shape  []string            // the client keys the shape sets away from their default, described
	frees  []freeKey
	chosen assignment // the client part of the chosen shape
	// ctxs caches the context of each assignment.
	ctxs map[string]map[string][]string

	// shapes and unknowns are every client shape and every assignment of
	// the unknown keys decide enumerated.
	shapes, unknowns []assignment
	// forAllow: the chosen shape departs from the default for an allow
	// (nothing bucketgrant may add works for the default shape), not to
	// avoid a deny.
	forAllow bool

	objects []string // object witnesses that are not denied whatever the shape
	denied  []objDenied
	// live lists the unknown-key assignments under which no explicit deny
	// applies with the chosen shape; dead those under which one does.
	live, dead []assignment
	undecided  bool // too many cases to decide

	decision policy.Decision // over every live case
	res      policy.Result   // a representative result (a failing one if any)
	witness  string          // the object of res
	blocked  []policy.Result // explicit denies whatever the shape (all objects)
}

type objDenied struct {
	object string
	res    policy.Result
	// inShape: denied to requests of the chosen shape whatever the
	// unknowns, though the shape reach describes reaches it.
	inShape bool
	reach   []string
}

// decide evaluates need n against docs over every case.
func (p *planner) decide(n need, docs docSet) verdict {
	v := verdict{n: n, ctxs: map[string]map[string][]string{}}
	ps := docs.policies(n)
	objs, err := p.objectWitnesses(n, docs)
	if err != nil {
		// Too many classes of objects to decide each: never a guess.
		v.undecided = true
		v.ctx = cloneContext(n.context)
		v.objects = []string{n.object}
		v.live = []assignment{{}}
		v.res = policy.Evaluate(n.requestFor(p.caller(), v.ctx, n.object), ps)
		v.decision = policy.ImplicitlyDenied
		return v
	}
	v.frees = p.freeKeys(n, ps, objs)
	var clientIdx, unknownIdx []int
	for i, f := range v.frees {
		if f.client {
			clientIdx = append(clientIdx, i)
		} else {
			unknownIdx = append(unknownIdx, i)
		}
	}
	shapes := enumerate(v.frees, clientIdx, maxShapes)
	unknowns := enumerate(v.frees, unknownIdx, maxCases)
	if shapes == nil || unknowns == nil || len(unknowns)*len(objs) > maxCases {
		v.undecided = true
		v.ctx = cloneContext(n.context)
		v.objects = objs
		v.live = []assignment{make(assignment, len(v.frees))}
		for i, f := range v.frees {
			v.live[0][i] = f.dflt
		}
		v.res = policy.Evaluate(n.requestFor(p.caller(), v.ctx, objs[0]), ps)
		v.decision = policy.ImplicitlyDenied
		return v
	}
	v.shapes, v.unknowns = shapes, unknowns
	// Objects denied whatever the shape and whatever the unknowns are
	// outside the grant's reach: a partial deny (or a blocker, if that is
	// every object).
	type outcome struct{ explicit, allowed bool }
	eval := func(shape, unk assignment, obj string) policy.Result {
		ctx := v.context(shape, unk)
		return policy.Evaluate(n.requestFor(p.caller(), ctx, obj), ps)
	}
	alive := make([]bool, len(objs))
	for oi, obj := range objs {
		var last policy.Result
	search:
		for _, sh := range shapes {
			for _, u := range unknowns {
				r := eval(sh, u, obj)
				last = r
				if r.Decision != policy.ExplicitlyDenied {
					alive[oi] = true
					break search
				}
			}
		}
		if !alive[oi] {
			v.denied = append(v.denied, objDenied{object: obj, res: last})
		}
	}
	for oi, obj := range objs {
		if alive[oi] {
			v.objects = append(v.objects, obj)
		}
	}
	if len(v.objects) == 0 {
		for _, d := range v.denied {
			v.blocked = append(v.blocked, d.res)
		}
		v.ctx = v.context(shapes[0], unknowns[0])
		v.res, v.witness, v.decision = v.denied[0].res, v.denied[0].object, policy.ExplicitlyDenied
		return v
	}
	// The shape: the first (fewest departures from what a client sends by
	// default) under which the most unknown assignments escape every deny
	// for every live object. A departure is asked of the client only to
	// avoid a deny; an allow that holds only for requests sent some special
	// way is not the grant's access, and the planner grants what the
	// default request needs instead.
	best, bestLive := -1, -1
	for si, sh := range shapes {
		liveCount := 0
		for _, u := range unknowns {
			if !v.deniedForSome(func(obj string) bool { return eval(sh, u, obj).Decision == policy.ExplicitlyDenied }) {
				liveCount++
			}
		}
		if liveCount > bestLive {
			best, bestLive = si, liveCount
		}
		if liveCount == len(unknowns) {
			break
		}
	}
	if bestLive == 0 {
		// No one shape lets every object that some shape reaches escape
		// every deny (uploads to reports/* only through a VPC endpoint,
		// the rest only from elsewhere): the plan names the shape that
		// reaches the most objects, and the objects it leaves denied
		// whatever the unknowns are a partial deny of that shape.
		if sh, kept, ok := p.splitByShape(v, shapes, unknowns); ok {
			best = sh
			var objects []string
			for oi, obj := range v.objects {
				if kept[oi] == nil {
					objects = append(objects, obj)
					continue
				}
				v.denied = append(v.denied, objDenied{object: obj, res: *kept[oi], inShape: true, reach: v.reaching(p, shapes, unknowns, obj)})
			}
			v.objects = objects
		}
	}
	v.chosen = shapes[best]
	v.sortUnknowns(unknowns, func(u assignment) func(string) bool {
		return func(obj string) bool { return eval(v.chosen, u, obj).Decision == policy.ExplicitlyDenied }
	})
	if len(v.live) == 0 {
		// Every unknown assignment meets a deny for some object: the
		// grant cannot work for every object at once; the objects are
		// what the witnesses show.
		r := eval(v.chosen, v.dead[0], v.objects[0])
		for _, obj := range v.objects {
			if x := eval(v.chosen, v.dead[0], obj); x.Decision == policy.ExplicitlyDenied {
				r = x
				v.witness = obj
				break
			}
		}
		v.blocked = append(v.blocked, r)
		v.ctx = v.context(v.chosen, v.dead[0])
		v.res, v.decision = r, policy.ExplicitlyDenied
		return v
	}
	v.ctx = v.context(v.chosen, v.live[0])
	v.shape = v.describeShape()
	v.decision, v.res, v.witness = p.over(v, ps)
	return v
}

// splitByShape finds, when no one shape lets every reachable object escape
// the denies, the shape that does so for the most objects once the objects
// it denies whatever the unknowns are left out: the objects it keeps (a
// result for each, nil for the objects it reaches), and the index of the
// shape. Ties go to the shape with more unknown cases live, then to the one
// with fewer departures from the default. It reports false when no shape
// reaches an object in some unknown case with all the others it reaches.
func (p *planner) splitByShape(v verdict, shapes, unknowns []assignment) (int, []*policy.Result, bool) {
	ps := p.now.policies(v.n)
	eval := func(sh, u assignment, obj string) policy.Result {
		return policy.Evaluate(v.n.requestFor(p.caller(), v.context(sh, u), obj), ps)
	}
	best, bestReached, bestLive := -1, 0, 0
	var bestKept []*policy.Result
	for si, sh := range shapes {
		kept := make([]*policy.Result, len(v.objects))
		reached := 0
		for oi, obj := range v.objects {
			var last policy.Result
			denied := true
			for _, u := range unknowns {
				last = eval(sh, u, obj)
				if last.Decision != policy.ExplicitlyDenied {
					denied = false
					break
				}
			}
			if denied {
				kept[oi] = &last
			} else {
				reached++
			}
		}
		if reached == 0 || reached < bestReached {
			continue
		}
		live := 0
		for _, u := range unknowns {
			ok := true
			for oi, obj := range v.objects {
				if kept[oi] == nil && eval(sh, u, obj).Decision == policy.ExplicitlyDenied {
					ok = false
					break
				}
			}
			if ok {
				live++
			}
		}
		if live == 0 || reached == bestReached && live <= bestLive {
			continue
		}
		best, bestReached, bestLive, bestKept = si, reached, live, kept
	}
	return best, bestKept, best >= 0
}

// reaching describes the first shape whose requests escape every deny on
// obj in some unknown case (nil: the default shape).
func (v *verdict) reaching(p *planner, shapes, unknowns []assignment, obj string) []string {
	ps := p.now.policies(v.n)
	for _, sh := range shapes {
		for _, u := range unknowns {
			if policy.Evaluate(v.n.requestFor(p.caller(), v.context(sh, u), obj), ps).Decision != policy.ExplicitlyDenied {
				var out []string
				for i, f := range v.frees {
					if f.client && sh[i] != f.dflt {
						out = append(out, describeValue(f.name, f.values[sh[i]]))
					}
				}
				return out
			}
		}
	}
	return nil
}

// reshape is the verdict for requests sent in the client shape sh: live
// are the unknown assignments under which no deny applies to any object in
// that shape. It reports false when there is none.
func (p *planner) reshape(v verdict, sh assignment) (verdict, bool) {
	if v.undecided || len(v.unknowns) == 0 || len(v.objects) == 0 {
		return v, false
	}
	ps := p.now.policies(v.n)
	nv := v
	nv.chosen, nv.live, nv.dead = sh, nil, nil
	nv.sortUnknowns(v.unknowns, func(u assignment) func(string) bool {
		ctx := nv.context(sh, u)
		return func(obj string) bool {
			return policy.Evaluate(v.n.requestFor(p.caller(), ctx, obj), ps).Decision == policy.ExplicitlyDenied
		}
	})
	if len(nv.live) == 0 {
		return v, false
	}
	nv.ctx = nv.context(sh, nv.live[0])
	nv.shape = nv.describeShape()
	nv.forAllow = true
	nv.decision, nv.res, nv.witness = p.over(nv, ps)
	return nv, true
}

// over evaluates every live case of a verdict against ps: Allowed when all
// are, else the first case that is not.
func (p *planner) over(v verdict, ps policy.Policies) (policy.Decision, policy.Result, string) {
	var first policy.Result
	for i, u := range v.live {
		ctx := v.context(v.chosen, u)
		for j, obj := range v.objects {
			r := policy.Evaluate(v.n.requestFor(p.caller(), ctx, obj), ps)
			if i == 0 && j == 0 {
				first = r
			}
			if r.Decision != policy.Allowed {
				return r.Decision, r, obj
			}
		}
	}
	return policy.Allowed, first, v.objects[0]
}

// allowsCase reports whether ps allow the verdict's request for every
// object in the case of the unknown assignment u.
func (p *planner) allowsCase(v verdict, u assignment, ps policy.Policies) bool {
	ctx := v.context(v.chosen, u)
	for _, obj := range v.objects {
		if policy.Evaluate(v.n.requestFor(p.caller(), ctx, obj), ps).Decision != policy.Allowed {
			return false
		}
	}
	return true
}

// restrict is the verdict for the live cases keep marks; the others join
// the dead, so that condition() names what the verdict needs.
func (v verdict) restrict(keep []bool) verdict {
	nv := v
	nv.live, nv.dead = nil, slices.Clone(v.dead)
	for i, u := range v.live {
		if keep[i] {
			nv.live = append(nv.live, u)
		} else {
			nv.dead = append(nv.dead, u)
		}
	}
	nv.ctx = nv.context(nv.chosen, nv.live[0])
	return nv
}

// allows reports whether ps allow every live case of the verdict.
func (p *planner) allows(v verdict, ps policy.Policies) bool {
	if v.undecided {
		return false
	}
	d, _, _ := p.over(v, ps)
	return d == policy.Allowed
}

// context is the request context for a client shape and an unknown
// assignment: the need's facts, then each free key's value. Contexts are
// only read by evaluation, so one per assignment serves every evaluation.
func (v *verdict) context(shape, unk assignment) map[string][]string {
	if len(v.frees) == 0 {
		return v.n.context
	}
	key := assignmentKey(shape, unk)
	if v.ctxs != nil {
		if ctx, ok := v.ctxs[key]; ok {
			return ctx
		}
	}
	ctx := cloneContext(v.n.context)
	defer func() {
		if v.ctxs != nil {
			v.ctxs[key] = ctx
		}
	}()
	for i, f := range v.frees {
		idx := f.dflt
		switch {
		case f.client && shape != nil:
			idx = shape[i]
		case !f.client && unk != nil:
			idx = unk[i]
		}
		deleteKey(ctx, f.key)
		if val := f.values[idx]; val != nil {
			ctx[f.key] = val
		}
	}
	return ctx
}

func assignmentKey(shape, unk assignment) string {
	b := make([]byte, 0, 2*(len(shape)+len(unk))+2)
	for _, i := range shape {
		b = append(b, byte(i>>8), byte(i))
	}
	b = append(b, 0xff, 0xff)
	for _, i := range unk {
		b = append(b, byte(i>>8), byte(i))
	}
	return string(b)
}

// describeShape says what the chosen shape asks of the client.
func (v *verdict) describeShape() []string {
	var out []string
	for i, f := range v.frees {
		if !f.client || v.chosen[i] == f.dflt {
			continue
		}
		out = append(out, describeValue(f.key, f.values[v.chosen[i]]))
	}
	return out
}

// condition says in words which unknown values the verdict holds for, ""
// when it holds for all of them. When the live assignments are a product
// of per-key choices it names the values of each key that work; when they
// are not (a deny that needs two unknown keys at once), it names the
// combinations that are denied.
func (v *verdict) condition() string {
	if len(v.dead) == 0 || v.undecided {
		return ""
	}
	var unknown []int
	for i, f := range v.frees {
		if !f.client {
			unknown = append(unknown, i)
		}
	}
	// The projection of the live set on each key, and whether the live
	// set is their product.
	proj := make([][]int, len(v.frees))
	product := 1
	for _, i := range unknown {
		for _, u := range v.live {
			if !slices.Contains(proj[i], u[i]) {
				proj[i] = append(proj[i], u[i])
			}
		}
		product *= len(proj[i])
	}
	if product == len(v.live) {
		var parts []string
		for _, i := range unknown {
			if len(proj[i]) == len(v.frees[i].values) {
				continue
			}
			parts = append(parts, describeValues(v.frees[i], proj[i]))
		}
		if len(parts) > 0 {
			return strings.Join(parts, ", and ")
		}
	}
	const maxCombos = 3
	var combos []string
	for _, u := range v.dead {
		if len(combos) == maxCombos {
			combos = append(combos, "…")
			break
		}
		var c []string
		for _, i := range unknown {
			c = append(c, describeValue(v.frees[i].name, v.frees[i].values[u[i]]))
		}
		combos = appendNew(combos, strings.Join(c, " and "))
	}
	return "not (" + strings.Join(combos, ") and not (") + ")"
}

// freeKeyNames lists every key the verdict was decided over without a
// fixed value: requests that carry other values may be decided otherwise.
func (v *verdict) freeKeyNames() []string {
	var out []string
	for _, f := range v.frees {
		out = append(out, sar.Spelling(f.key))
	}
	return out
}

// undecidedKeys lists the keys bucketgrant could not know that the verdict
// was decided over, as the policies spell them.
func (v *verdict) undecidedKeys() []string {
	var out []string
	for _, f := range v.frees {
		if !f.client {
			out = append(out, f.name)
		}
	}
	return out
}

func describeValue(key string, val []string) string {
	key = sar.Spelling(key)
	if val == nil {
		return key + " is absent"
	}
	if len(val) == 0 {
		return key + " is empty"
	}
	if len(val) == 1 && val[0] == otherValue {
		return key + " has a value no policy names"
	}
	return key + " = " + strings.Join(val, ", ")
}

// describeValues says which values of f the indices ok are. When they are
// every value but some named ones (absent and any other value included),
// it names the exceptions: "aws:SomeNewKey is not x".
func describeValues(f freeKey, ok []int) string {
	var bad []string
	complement := f.exact
	for j, val := range f.values {
		if slices.Contains(ok, j) {
			continue
		}
		if len(val) != 1 || val[0] == otherValue {
			complement = false
			break
		}
		bad = append(bad, val[0])
	}
	if complement && len(bad) > 0 {
		if len(bad) == 1 {
			return f.name + " is not " + bad[0]
		}
		return f.name + " is none of " + strings.Join(bad, ", ")
	}
	var out []string
	for _, j := range ok {
		out = appendNew(out, describeValue(f.name, f.values[j]))
	}
	return strings.Join(out, " or ")
}

// enumerate lists the assignments of the free keys at idx (the others at
// their default), ordered by the number of departures from the defaults.
// It returns nil when there are more than limit.
func enumerate(frees []freeKey, idx []int, limit int) []assignment {
	total := 1
	for _, i := range idx {
		total *= len(frees[i].values)
		if total > limit {
			return nil
		}
	}
	base := make(assignment, len(frees))
	for i, f := range frees {
		base[i] = f.dflt
	}
	out := []assignment{slices.Clone(base)}
	var rec func(k int, cur assignment)
	all := []assignment{}
	rec = func(k int, cur assignment) {
		if k == len(idx) {
			all = append(all, slices.Clone(cur))
			return
		}
		i := idx[k]
		for j := range frees[i].values {
			cur[i] = j
			rec(k+1, cur)
		}
		cur[i] = frees[i].dflt
	}
	rec(0, slices.Clone(base))
	departures := func(a assignment) int {
		n := 0
		for i, f := range frees {
			if a[i] != f.dflt {
				n++
			}
		}
		return n
	}
	sort.SliceStable(all, func(a, b int) bool { return departures(all[a]) < departures(all[b]) })
	for _, a := range all {
		if !slices.Equal(a, base) {
			out = append(out, a)
		}
	}
	return out
}

// freeKeys finds the condition keys that the statements about this need
// test but its facts do not fix, with the values worth trying for each.
func (p *planner) freeKeys(n need, ps policy.Policies, objs []string) []freeKey {
	seen := map[string]bool{}
	var keys []string
	for _, obj := range objs {
		r := policy.Evaluate(n.requestFor(p.caller(), n.context, obj), ps)
		for _, k := range r.MissingKeys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	var out []freeKey
	for _, k := range keys {
		o := p.origin(k, n)
		switch o.kind {
		case originAbsent, originFact:
			continue
		}
		f := freeKey{key: k, name: k, client: o.kind == originClient}
		cs := conditionsOn(ps, k)
		if len(cs) > 0 {
			f.name = cs[0].Key
		}
		f.exact = o.domain == nil && !slices.ContainsFunc(cs, func(c policy.Condition) bool {
			return c.Op.Base != "StringEquals" && c.Op.Base != "StringNotEquals" && c.Op.Base != "Null" ||
				slices.ContainsFunc(c.Values, func(v string) bool { return strings.Contains(v, "${") })
		})
		if k == "aws:sourceip" && o.kind == originClient {
			// The operator's own address is unknown: by default a
			// request comes from an address no condition names.
			o.dflt = []string{outsideIP(conditionsOn(ps, k))}
		}
		if o.domain != nil {
			f.values = o.domain
		} else {
			f.values = candidates(k, conditionsOn(ps, k))
		}
		f.dflt = -1
		for i, val := range f.values {
			if slices.Equal(val, o.dflt) && (val == nil) == (o.dflt == nil) {
				f.dflt = i
			}
		}
		if f.dflt < 0 {
			// What a request carries by default is always a case.
			f.values = append(f.values, o.dflt)
			f.dflt = len(f.values) - 1
		}
		out = append(out, f)
	}
	return out
}

// conditionsOn collects every condition on key in the policies.
func conditionsOn(ps policy.Policies, key string) []policy.Condition {
	var out []policy.Condition
	add := func(named *policy.Named) {
		if named == nil || named.Doc == nil {
			return
		}
		for _, s := range named.Doc.Statements() {
			for _, c := range s.Conditions {
				if strings.EqualFold(c.Key, key) {
					out = append(out, c)
				}
			}
		}
	}
	for i := range ps.Identity {
		add(&ps.Identity[i])
	}
	add(ps.Boundary)
	add(ps.Resource)
	forOrgDocs(ps, add)
	return out
}

// otherValue stands for every value no condition names.
const otherValue = "bucketgrant-other-value"

// candidates are the values of key that every condition on it tells apart:
// absent, each value a condition names (patterns made concrete), and one
// value none names. Each operator family is handled so that both outcomes
// of every condition are reached.
func candidates(key string, cs []policy.Condition) [][]string {
	out := [][]string{nil}
	add := func(v string) {
		if !slices.ContainsFunc(out, func(x []string) bool { return len(x) == 1 && x[0] == v }) {
			out = append(out, []string{v})
		}
	}
	multi := false
	for _, c := range cs {
		if c.Op.Qualifier != policy.NoQualifier {
			multi = true
		}
		for _, val := range c.Values {
			switch {
			case c.Op.Base == "Null":
				add(otherValue)
			case c.Op.Base == "Bool":
				add("true")
				add("false")
			case strings.HasSuffix(c.Op.Base, "IpAddress"):
				if pfx, err := netip.ParsePrefix(val); err == nil {
					add(pfx.Masked().Addr().String())
				} else if a, err := netip.ParseAddr(val); err == nil {
					add(a.String())
				}
			case strings.HasPrefix(c.Op.Base, "Numeric"):
				if f, err := strconv.ParseFloat(val, 64); err == nil {
					add(strconv.FormatFloat(f-1, 'f', -1, 64))
					add(val)
					add(strconv.FormatFloat(f+1, 'f', -1, 64))
				}
			default:
				add(concrete(val))
			}
		}
	}
	if strings.HasSuffix(strings.ToLower(key), "ip") || slices.ContainsFunc(cs, func(c policy.Condition) bool { return strings.HasSuffix(c.Op.Base, "IpAddress") }) {
		add(outsideIP(cs))
	} else {
		add(otherValue)
	}
	if multi {
		out = append(out, []string{})
	}
	return out
}

// concrete turns a pattern into a value it matches.
func concrete(v string) string {
	return strings.NewReplacer("*", "", "?", "x").Replace(v)
}

// outsideIP finds an address that none of the IP conditions' ranges holds.
func outsideIP(cs []policy.Condition) string {
	for _, cand := range []string{"203.0.113.77", "198.51.100.77", "192.0.2.77", "100.64.0.77", "2001:db8::77"} {
		a := netip.MustParseAddr(cand)
		inside := false
		for _, c := range cs {
			for _, v := range c.Values {
				if pfx, err := netip.ParsePrefix(v); err == nil && pfx.Contains(a) {
					inside = true
				}
			}
		}
		if !inside {
			return cand
		}
	}
	return "203.0.113.77"
}

// spelled is ctx with its keys as AWS spells them (aws:SourceIp, not
// aws:sourceip), for the plan people read; keys match case-insensitively
// everywhere, so the request is the same.
func spelled(ctx map[string][]string) map[string][]string {
	if ctx == nil {
		return nil
	}
	out := make(map[string][]string, len(ctx))
	for k, v := range ctx {
		out[sar.Spelling(k)] = v
	}
	return out
}

func deleteKey(ctx map[string][]string, key string) {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			delete(ctx, k)
		}
	}
}

// requestFor is the need's request for one object witness: the resource
// for S3 object requests, the encryption context for S3's KMS requests, the
// s3:prefix for listing under a prefix.
func (n need) requestFor(c policy.Caller, ctx map[string][]string, obj string) policy.Request {
	r := policy.Request{Principal: c, Action: n.action, Resource: n.probe, ResourceAccount: n.account, Context: ctx}
	if obj == "" {
		return r
	}
	switch n.objectAt {
	case objectResource:
		r.Resource = obj
	case objectEncryptionContext:
		ctx = cloneContext(ctx)
		ctx["kms:EncryptionContext:aws:s3:arn"] = []string{obj}
		r.Context = ctx
	case objectPrefix:
		ctx = cloneContext(ctx)
		ctx["s3:prefix"] = []string{obj}
		r.Context = ctx
	}
	return r
}

func (v verdict) String() string {
	return fmt.Sprintf("%s %s: %s over %d objects, %d live / %d dead", v.n.action, v.n.resource, v.decision, len(v.objects), len(v.live), len(v.dead))
}

// deniedForSome reports whether denied holds for some object of the verdict.
func (v *verdict) deniedForSome(denied func(obj string) bool) bool {
	return slices.ContainsFunc(v.objects, denied)
}

// sortUnknowns appends each unknown assignment u to dead when deniedFor(u)
// holds for some object of the verdict, else to live.
func (v *verdict) sortUnknowns(unknowns []assignment, deniedFor func(u assignment) func(obj string) bool) {
	for _, u := range unknowns {
		if v.deniedForSome(deniedFor(u)) {
			v.dead = append(v.dead, u)
		} else {
			v.live = append(v.live, u)
		}
	}
}
