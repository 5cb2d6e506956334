package diff_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/plangen"
	"github.com/bucketgrant/bucketgrant/internal/shrink"
	"github.com/bucketgrant/bucketgrant/internal/testrace"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

var (
	planCount   = flag.Int("plangen.plans", int(envInt("BUCKETGRANT_PLANS", int64(defaultPlans))), "number of generated plans in TestGeneratedPlans")
	planSeed    = flag.Int64("plangen.seed", envInt("BUCKETGRANT_PLAN_SEED", 1), "seed of TestGeneratedPlans")
	planFirst   = flag.Int("plangen.first", 0, "index of the first generated scenario (to rerun one: -plangen.first=N -plangen.plans=1)")
	planOracle  = flag.String("plangen.oracle", "sample", "which of a plan's checked requests the oracle decides besides the required ones and every one the Go evaluator finds wrong: sample or all")
	planSample  = flag.Int("plangen.sample", 3, "with -plangen.oracle=sample, how many more of each plan's checked requests the oracle decides")
	planList    = flag.Bool("plangen.list", false, "log every violation, not only the first of each property")
	planShrink  = flag.Bool("plangen.shrink", true, "shrink the first violation of each property")
	planShow    = flag.Bool("plangen.show", false, "log each scenario and its plan (with -plangen.first=N -plangen.plans=1)")
	planOracles = flag.Int("plangen.oracles", 0, "oracle processes deciding batches side by side (0: one per CPU, at most 4)")
)

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestGeneratedPlans plans random grants on random states built around the
// seed snapshots (internal/plangen: wildcards anywhere in resources and
// NotResource, conditions over facts, client keys, network keys, keys
// bucketgrant cannot read and keys only AWS services carry, with IfExists,
// Null, negated and set operators, in Allows and Denies; S3's KMS requests
// with and without Bucket Keys; keys in the bucket's, the principal's or a
// third account; statements carrying bucketgrant's Sids with its own content
// or more; orphaned IDs in Allows and Denies; prefixes, access levels,
// users, roles and sessions, same and cross account) and checks every plan:
//
//   - required: once applied, every request the plan names is allowed for
//     the principal, with the plan's probe object and the context the plan
//     names (Request.Probe, Request.Context);
//   - objects: the same for every object of the grant the scenario knows
//     (object keys with and without slashes, under and outside each
//     pattern; for S3's KMS requests, as encryption context); an object an
//     explicit deny keeps is fine only where the plan warns of a deny on
//     part of the objects for that request;
//   - unknown values: a request the plan says works without a condition
//     (Request.Condition empty) works for every value of every key
//     bucketgrant cannot read (tags, organization, undocumented keys);
//   - contexts: every context a plan names is one a client can send: facts
//     as AWS sets them, no header the action cannot carry, the client's
//     choices inside what keeps the bucket's key;
//   - nothing new: no request of the principal or of anyone else (another
//     user of each account involved, every principal the documents name) is
//     allowed afterwards that was not before, except the requests granted
//     (trust.Probes, compact set);
//   - bytes kept: every statement that is not bucketgrant's keeps its bytes
//     (orphaned IDs removed only with --remove-orphaned-principals), and
//     only the key policy, the bucket policy and bucketgrant's own identity
//     policy are written;
//   - again: planning on the applied state changes nothing;
//   - blocked: for a plan with a blocker about the policies (explicit deny,
//     boundary, key not delegated, orphans), a bounded search over
//     bucketgrant's own statement shapes finds no change that gives the
//     principal every request of the grant. The search adds, at once, an
//     Allow for the principal with all the grant's object and list actions
//     on bucket/prefix* and the bucket in the bucket policy, one with the
//     KMS actions in the key policy, and the same three in a new identity
//     policy, leaving out documents AWS would refuse to save (orphaned IDs
//     without --remove-orphaned-principals, an AWS managed key) and the
//     side --kms-via excludes. Adding Allow statements never removes access,
//     so any subset of these statements, and any subset of the grant's
//     actions, grants no more: trying the union is trying every subset. It
//     then tries every request of the grant, for each object the scenario
//     knows under the prefix, under every assignment of the condition keys
//     the facts do not fix (each key's absent value, every value a
//     condition names, one value none names): at most 256 contexts per
//     request and object (a plan with more is counted as not searched),
//     at most 12 objects, 7 requests. A plan is wrong if, for every
//     request of the grant, every object is allowed in some context or
//     explicitly denied in every context (a deny that keeps part of the
//     objects is a warning, not a blocker), and some object is allowed.
//     A blocker refuted only by requests sent some special way that no
//     deny asks for (an MFA session, a header) is reported apart, as
//     blocked-shape: the planner asks the client for a special shape to
//     avoid a deny, and for an allow only where no grant it may add works
//     for requests sent the default way (solve.go, shaped), so such a
//     blocker is wrong too. Plans blocked by
//     facts of the key (disabled, AWS managed across accounts,
//     named by an alias across accounts) are checked against those facts
//     instead.
//
// Every check is decided by the Go evaluator; the oracle
// (@cloud-copilot/iam-simulate through internal/oracle, batched across
// plans) decides the required requests of every plan, every request the Go
// evaluator finds wrong (a violation is reported only when the oracle
// agrees), and -plangen.sample more of each plan's requests chosen at
// random (-plangen.oracle=all sends every one). A request the two
// evaluators decide differently is reported too.
//
// Flags: -plangen.plans, -plangen.seed, -plangen.first, -plangen.oracle,
// -plangen.sample, -plangen.list, -plangen.shrink, -plangen.show (or
// BUCKETGRANT_PLANS and BUCKETGRANT_PLAN_SEED). The first violation of
// each property is shrunk to a minimal scenario and printed as the plan's
// options and a snapshot file. `make test` runs 5,000 plans (25 more under
// the race detector); `make test-long` runs PLANS (100,000).
func TestGeneratedPlans(t *testing.T) {
	testrace.CollectLess(t)
	o := startOracle(t)
	n := *planCount
	gen := plangen.New(*planSeed)
	mode := *planOracle
	if mode != "sample" && mode != "all" {
		t.Fatalf("-plangen.oracle=%q: use sample or all", mode)
	}
	if *planShow {
		for i := *planFirst; i < *planFirst+n; i++ {
			sc := gen.Scenario(i)
			p, err := diff.Make(sc.State(), sc.Options())
			b, _ := json.MarshalIndent(p, "", "  ")
			t.Logf("scenario %d [%s]\n%s\nplan (error %v):\n%s", i, strings.Join(sc.Tags, " "), describeScenario(sc), err, b)
		}
	}
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan int)
	results := make(chan *scenarioRun, 16)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := trust.NewGoDecider()
			for i := range jobs {
				results <- runScenario(gen.Scenario(i), g, mode, *planSample)
			}
		}()
	}
	go func() {
		for i := *planFirst; i < *planFirst+n; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	// Batches of runs go to the oracles from their own goroutines, so the
	// workers keep planning while the oracles decide. The oracle is one
	// single-threaded Node.js process, the larger part of the suite's
	// cost: several decide batches side by side. Which oracle decides a
	// batch changes nothing: every run is judged on its own, and the
	// summary is made order-independent (lowest scenario first).
	oracles := []*oracle.Oracle{o}
	want := *planOracles
	if want <= 0 {
		want = min(runtime.GOMAXPROCS(0), 4)
	}
	for len(oracles) < want {
		extra, err := oracle.Start()
		if err != nil {
			t.Fatalf("starting oracle %d: %v", len(oracles)+1, err)
		}
		t.Cleanup(func() { extra.Close() })
		oracles = append(oracles, extra)
	}
	st := newPlanStats()
	var mu sync.Mutex // st, oracleTime, oracleErr
	var oracleTime time.Duration
	var oracleErr error
	batches := make(chan []*scenarioRun, len(oracles))
	var judging sync.WaitGroup
	for _, or := range oracles {
		judging.Add(1)
		go func() {
			defer judging.Done()
			for batch := range batches {
				t0 := time.Now()
				err := decideWithOracle(or, batch)
				d := time.Since(t0)
				mu.Lock()
				if err != nil && oracleErr == nil {
					oracleErr = err
				}
				oracleTime += d
				for _, r := range batch {
					st.add(r)
					if *planList {
						for _, v := range r.violations {
							t.Logf("scenario %d [%s]: %s: %s", v.index, strings.Join(r.sc.Tags, " "), v.prop, v.msg)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	var batch []*scenarioRun
	for r := range results {
		batch = append(batch, r)
		if len(batch) >= oracleBatch {
			batches <- batch
			batch = nil
		}
	}
	batches <- batch
	close(batches)
	judging.Wait()
	if oracleErr != nil {
		t.Fatal(oracleErr)
	}
	st.sortDisagreements()
	elapsed := time.Since(start)
	st.report(t, n, elapsed, oracleTime, len(oracles))
	for _, prop := range st.violatedProps() {
		first := st.first[prop]
		t.Errorf("%s: %d violations; first in scenario %d (seed %d): %s", prop, st.violations[prop], first.index, *planSeed, first.msg)
		if *planShrink {
			shrunk, msg := shrinkScenario(o, gen.Scenario(first.index), prop)
			t.Errorf("%s, shrunk: %s\n%s", prop, msg, describeScenario(shrunk))
		}
	}
	if len(st.disagreements) > 0 {
		t.Errorf("the Go evaluator and the oracle disagree on %d requests; first:\n%s", len(st.disagreements), st.disagreements[0])
	}
}

// scenarioRun is one scenario's plan and the requests that check it.
type scenarioRun struct {
	sc       plangen.Scenario
	mode     string
	sample   int
	outcome  string // "blocked", "unchanged", "changed" or "failed"
	blockers []string
	// goViolations are the properties checked without evaluating requests.
	goViolations []found
	points       []*point
	search       *search
	// searched counts the requests the search evaluated; unsearched is set
	// when the search's bound was reached.
	searched   int
	unsearched bool
	// selected are the points the oracle decides (oraclePoints), and
	// goCases counts the cases the Go evaluator decided.
	selected []*point
	goCases  int
	// oracleCases counts the cases the oracle decided, by property.
	oracleCases map[string]int
	// violations are the final ones, after the oracle.
	violations    []found
	disagreements []string
}

type found struct {
	prop, msg string
	index     int
}

// point is one check: its cases (one request, or the same request before
// and after), their decisions by each evaluator, and what is wrong given
// decisions ("" if nothing).
type point struct {
	prop  string
	cases []oracle.Case
	goDec []string
	orDec []string
	check func(decisions []string) string
	// must: the oracle decides it whatever the sampling.
	must bool
	// dflt marks a request of the search sent the way a client does by
	// default (plangen.Scenario.DefaultShape); unknown names its values of
	// the keys bucketgrant cannot read.
	dflt    bool
	unknown string
}

// search is the bounded search of a blocked plan: for each request of the
// grant and each object, the requests (one per context) under the changed
// documents.
type search struct {
	needs [][][]*point // need, object, context
}

// outcome of one object of one request of the search.
const (
	objGap     = iota // not allowed in any context, and not kept by a deny in every one
	objAllowed        // allowed in some context
	objDenied         // explicitly denied in every context: a deny keeps it
)

// objectOutcome judges one object from the decisions known (nil: not
// decided); with dflt, only requests sent the default way count as
// allowing it.
func objectOutcome(points []*point, decision func(*point) []string, dflt bool) int {
	denied := true
	allowed := false
	for _, p := range points {
		d := decision(p)
		if d == nil {
			denied = false
			continue
		}
		if d[0] == oracle.Allowed && (p.dflt || !dflt) {
			allowed = true
		}
		if d[0] != oracle.ExplicitlyDenied {
			denied = false
		}
	}
	switch {
	case allowed:
		return objAllowed
	case denied:
		return objDenied
	}
	return objGap
}

// refuted reports whether the decisions show the blocker wrong: for every
// request of the grant, every object is allowed in some context or kept by
// a deny in every one (which is a partial deny, not a blocker), and some
// object is allowed. With dflt only requests sent the default way count
// as allowed. It returns, for each request, an allowed request.
func (s *search) refuted(decision func(*point) []string, dflt bool) ([]*point, bool) {
	var shown []*point
	for _, need := range s.needs {
		var first *point
		for _, obj := range need {
			switch objectOutcome(obj, decision, dflt) {
			case objGap:
				return nil, false
			case objAllowed:
				if first == nil {
					first = firstAllowed(obj, decision, dflt)
				}
			}
		}
		if first == nil {
			return nil, false
		}
		shown = append(shown, first)
	}
	return shown, len(s.needs) > 0
}

// firstAllowed is the first allowed request of an object, one sent the
// default way if there is one.
func firstAllowed(obj []*point, decision func(*point) []string, dflt bool) *point {
	var any *point
	for _, p := range obj {
		if d := decision(p); d != nil && d[0] == oracle.Allowed {
			if p.dflt {
				return p
			}
			if any == nil && !dflt {
				any = p
			}
		}
	}
	return any
}

// avoidsDeny reports whether some of the allowed requests (sent some
// special way) avoid a deny that the same object meets when sent the
// default way with the same values of the keys bucketgrant cannot read:
// then a shape avoids a deny, which the planner must find.
// The Go evaluator's decisions label it.
func (s *search) avoidsDeny(allowed []*point) bool {
	for _, need := range s.needs {
		for _, obj := range need {
			if !slices.ContainsFunc(obj, func(p *point) bool { return slices.Contains(allowed, p) }) {
				continue
			}
			for _, a := range obj {
				if !slices.Contains(allowed, a) {
					continue
				}
				for _, p := range obj {
					if p.dflt && p.unknown == a.unknown && p.goDec[0] == oracle.ExplicitlyDenied {
						return true
					}
				}
			}
		}
	}
	return false
}

func goDecision(p *point) []string { return p.goDec }
func orDecision(p *point) []string { return p.orDec }

func (r *scenarioRun) fail(prop, format string, args ...any) {
	r.goViolations = append(r.goViolations, found{prop: prop, msg: fmt.Sprintf(format, args...), index: r.sc.Index})
}

// decideWithOracle sends the oracle the cases of a batch of runs that it
// must or may decide, then judges every run.
func decideWithOracle(o *oracle.Oracle, runs []*scenarioRun) error {
	var cases []oracle.Case
	var owners []*point
	for _, r := range runs {
		for _, p := range r.selected {
			cases = append(cases, p.cases...)
			owners = append(owners, p)
			if r.oracleCases == nil {
				r.oracleCases = map[string]int{}
			}
			r.oracleCases[p.prop] += len(p.cases)
		}
	}
	res, err := o.SimulateBatch(cases)
	if err != nil {
		return err
	}
	i := 0
	for _, p := range owners {
		p.orDec = make([]string, len(p.cases))
		for j := range p.cases {
			if res[i].Error != "" {
				return fmt.Errorf("oracle failed on %s: %s", mustCaseJSON(p.cases[j]), res[i].Error)
			}
			p.orDec[j] = res[i].Decision
			i++
		}
	}
	for _, r := range runs {
		r.judge()
	}
	return nil
}

// selected marks the points the oracle decides.
func (r *scenarioRun) oraclePoints() []*point {
	var out, rest []*point
	for _, p := range r.allPoints() {
		if p.must || p.check(p.goDec) != "" || r.mode == "all" {
			out = append(out, p)
		} else {
			rest = append(rest, p)
		}
	}
	if r.search != nil {
		if _, ok := r.search.refuted(goDecision, false); ok {
			// The Go evaluator refutes the blocker: the oracle decides,
			// for every object of every request, the first request the Go
			// evaluator allows (one sent the default way if any), or all
			// of them where a deny keeps it.
			for _, need := range r.search.needs {
				for _, obj := range need {
					if objectOutcome(obj, goDecision, false) == objDenied {
						out = appendNew(out, obj...)
					} else if p := firstAllowed(obj, goDecision, false); p != nil {
						out = appendNew(out, p)
					}
				}
			}
		}
	}
	if r.mode != "all" && len(rest) > 0 {
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(r.sc.Index)))
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		out = appendNew(out, rest[:min(r.sample, len(rest))]...)
	}
	return out
}

// appendNew appends the points not in list yet.
func appendNew(list []*point, ps ...*point) []*point {
	for _, p := range ps {
		if !slices.Contains(list, p) {
			list = append(list, p)
		}
	}
	return list
}

func (r *scenarioRun) allPoints() []*point {
	out := slices.Clone(r.points)
	if r.search != nil {
		for _, need := range r.search.needs {
			for _, obj := range need {
				out = append(out, obj...)
			}
		}
	}
	return out
}

// judge turns the decisions into violations: a point is wrong when the
// oracle's decisions make it wrong; a blocker is wrong when the oracle's
// decisions refute it (search.refuted).
func (r *scenarioRun) judge() {
	r.violations = append(r.violations, r.goViolations...)
	for _, p := range r.allPoints() {
		if p.orDec == nil {
			continue
		}
		if !slices.Equal(p.orDec, p.goDec) && !slices.ContainsFunc(p.cases, partialNotPrincipal) {
			r.disagreements = append(r.disagreements, fmt.Sprintf("scenario %d, %s: Go %v, oracle %v:\n%s", r.sc.Index, p.prop, p.goDec, p.orDec, casesJSON(p.cases)))
		}
	}
	for _, p := range r.points {
		if p.orDec == nil {
			continue
		}
		if msg := p.check(p.orDec); msg != "" {
			r.violations = append(r.violations, found{prop: p.prop, msg: msg, index: r.sc.Index})
		}
	}
	if r.search != nil {
		if allowed, ok := r.search.refuted(orDecision, false); ok {
			prop, how := "blocked", ""
			if dflt, ok := r.search.refuted(orDecision, true); ok {
				allowed = dflt
			} else if !r.search.avoidsDeny(allowed) {
				// Only a request sent some special way (an MFA session,
				// a header) is allowed, and not to avoid a deny: the
				// planner asks for such a shape only to avoid one, so
				// this is reported apart.
				prop, how = "blocked-shape", ", sent in a shape no deny asks for,"
			}
			var shown []string
			for _, p := range allowed {
				c := p.cases[0]
				shown = append(shown, fmt.Sprintf("%s on %s with %s", c.Action, c.ResourceARN, contextString(c.Context)))
			}
			r.violations = append(r.violations, found{prop: prop, index: r.sc.Index,
				msg: fmt.Sprintf("blocked (%s), but with bucketgrant's own statements every request of the grant is allowed%s for every object no deny keeps: %s", strings.Join(r.blockers, ", "), how, strings.Join(shown, "; "))})
		}
	}
}

// planStats sums up a run.
type planStats struct {
	outcomes      map[string]int
	blockers      map[string]int
	tags          map[string]int
	violations    map[string]int
	splitViol     map[string]int // of violations, in scenarios whose patterns split the grant's objects
	first         map[string]found
	disagreements []string
	goPoints      int
	oracleCases   map[string]int
	searched      int
	maxSearched   int
	searchPlans   int
	unsearched    int
}

func newPlanStats() *planStats {
	return &planStats{outcomes: map[string]int{}, blockers: map[string]int{}, tags: map[string]int{},
		violations: map[string]int{}, splitViol: map[string]int{}, first: map[string]found{}, oracleCases: map[string]int{}}
}

func (s *planStats) add(r *scenarioRun) {
	s.outcomes[r.outcome]++
	for _, b := range r.blockers {
		s.blockers[b]++
	}
	for _, t := range r.sc.Tags {
		s.tags[t]++
	}
	s.goPoints += r.goCases
	for k, v := range r.oracleCases {
		s.oracleCases[k] += v
	}
	if r.unsearched {
		s.unsearched++
	}
	if r.search != nil {
		s.searchPlans++
		s.searched += r.searched
		s.maxSearched = max(s.maxSearched, r.searched)
	}
	for _, v := range r.violations {
		// The lowest scenario index, whatever order the workers finish in.
		if f, ok := s.first[v.prop]; !ok || v.index < f.index {
			s.first[v.prop] = v
		}
		s.violations[v.prop]++
		if slices.Contains(r.sc.Tags, "objects:split") {
			s.splitViol[v.prop]++
		}
	}
	s.disagreements = append(s.disagreements, r.disagreements...)
}

func (s *planStats) violatedProps() []string {
	var out []string
	for p := range s.violations {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// sortDisagreements orders the disagreements by scenario, whatever order
// the oracles finished in.
func (s *planStats) sortDisagreements() {
	sort.SliceStable(s.disagreements, func(i, j int) bool {
		return disagreementIndex(s.disagreements[i]) < disagreementIndex(s.disagreements[j])
	})
}

func disagreementIndex(d string) int {
	var i int
	fmt.Sscanf(d, "scenario %d", &i)
	return i
}

func (s *planStats) report(t *testing.T, n int, elapsed, oracleTime time.Duration, oracles int) {
	oracleCases := 0
	for _, v := range s.oracleCases {
		oracleCases += v
	}
	t.Logf("%d plans (seed %d) in %v (%.0f plans/s); %d oracle processes busy %v in all for %d cases (%.0f cases/s each; %s); the Go evaluator decided %d cases",
		n, *planSeed, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), oracles, oracleTime.Round(time.Millisecond), oracleCases,
		float64(oracleCases)/max(oracleTime.Seconds(), 1e-9), countsString(s.oracleCases), s.goPoints)
	t.Logf("outcomes: %s", countsString(s.outcomes))
	t.Logf("blockers: %s", countsString(s.blockers))
	t.Logf("blocked plans searched: %d, requests evaluated %d (at most %d in one plan); beyond the search's bound: %d", s.searchPlans, s.searched, s.maxSearched, s.unsearched)
	t.Logf("rule families (plans): %s", countsString(s.tags))
	total := 0
	for _, v := range s.violations {
		total += v
	}
	t.Logf("violations: %d %s (in scenarios whose patterns split the grant's objects: %s); evaluator disagreements: %d",
		total, countsString(s.violations), countsString(s.splitViol), len(s.disagreements))
}

func countsString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// shrinkScenario makes a violating scenario smaller while the property
// still fails (every request decided by the oracle).
func shrinkScenario(o *oracle.Oracle, sc plangen.Scenario, prop string) (plangen.Scenario, string) {
	g := trust.NewGoDecider()
	fails := func(c plangen.Scenario) string {
		r := runScenario(c, g, "all", 0)
		if err := decideWithOracle(o, []*scenarioRun{r}); err != nil {
			return ""
		}
		for _, v := range r.violations {
			if v.prop == prop {
				return v.msg
			}
		}
		return ""
	}
	msg := fails(sc)
	if msg == "" {
		return sc, "(the violation does not reproduce with every request decided by the oracle)"
	}
	return shrink.Greedy(sc, msg, fails, func(s plangen.Scenario) []plangen.Scenario { return s.Shrinks() }, 500)
}

// describeScenario prints a scenario as the options of the plan and the
// snapshot it is made on.
func describeScenario(sc plangen.Scenario) string {
	o := sc.Options()
	data, err := snapshot.Marshal(sc.State())
	if err != nil {
		data = []byte(err.Error())
	}
	return fmt.Sprintf("bucketgrant plan --principal %s --bucket %s --access %v --prefix %q --kms-via %s --kms-through-s3=%v --remove-orphaned-principals=%v (now %s)\n%s",
		o.Principal, o.Bucket, sc.Levels(), o.Prefix, o.KMSVia, o.KMSThroughS3, o.RemoveOrphanedPrincipals, plangen.Now, data)
}

// partialNotPrincipal reports whether a case's resource policy has a
// NotPrincipal naming part of the caller's chain (its account but not the
// caller, or the reverse): the oracle exempts such a caller, AWS does not
// (pkg/policy/differential_test.go lists this difference). The generator
// writes "deny everyone but the principal" with the principal's whole
// chain, which is part of the chain of the other users of its account that
// the trust check probes; both evaluators agree on the principal itself,
// and the probes compare the oracle with itself before and after.
func partialNotPrincipal(c oracle.Case) bool {
	if c.Resource == nil {
		return false
	}
	d, err := policy.Parse(c.Resource, policy.KindAny)
	if err != nil {
		return false
	}
	// The caller's chain, level by level: its account (by ID or root
	// ARN), its role for a session, and itself.
	levels := [][]string{{c.PrincipalAccount, "arn:aws:iam::" + c.PrincipalAccount + ":root"}}
	if i := strings.Index(c.Principal, ":assumed-role/"); i >= 0 {
		role := strings.Split(c.Principal[i+len(":assumed-role/"):], "/")[0]
		levels = append(levels, []string{"arn:aws:iam::" + c.PrincipalAccount + ":role/" + role})
	}
	levels = append(levels, []string{c.Principal})
	for _, st := range d.Statements() {
		if st.NotPrincipal == nil {
			continue
		}
		listed := 0
		for _, level := range levels {
			if slices.ContainsFunc(st.NotPrincipal.AWS, func(v string) bool { return slices.Contains(level, v) }) {
				listed++
			}
		}
		if listed > 0 && listed < len(levels) {
			return true
		}
	}
	return false
}

// oracleBatch is how many runs go to an oracle at once: enough cases per
// round trip to keep it busy, few enough that the runs waiting for an
// oracle do not hold hundreds of MB.
const oracleBatch = 50
