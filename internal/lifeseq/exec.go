package lifeseq

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Properties a step can violate.
const (
	PropOutcome  = "outcome"     // an operation ended otherwise than the model expects
	PropAgain    = "again"       // planning a standing grant again is not a no-op
	PropStanding = "standing"    // a request a standing grant needs is not allowed
	PropNew      = "nothing-new" // a request nobody's standing grant explains is allowed
	PropBytes    = "bytes-kept"  // a statement that is not bucketgrant's changed
)

// Decider decides a case (the Go evaluator, trust.GoDecider).
type Decider interface {
	Decide(c oracle.Case) (string, error)
}

// Point is one request checked after a step: its cases (the request now,
// or at the start and now), their decisions by the Go evaluator and by
// the oracle, and what is wrong given decisions.
type Point struct {
	Prop  string
	Step  int
	Cases []oracle.Case
	GoDec []string
	OrDec []string
	// Must: the oracle decides it whatever the sampling.
	Must  bool
	check func(dec []string) string
}

// Check says what is wrong given decisions ("" if nothing).
func (p *Point) Check(dec []string) string { return p.check(dec) }

// Found is one violation.
type Found struct {
	Prop string
	Step int
	Msg  string
}

// Run is one sequence run: what each step did and what is checked.
type Run struct {
	Seq     Sequence
	Results []StepResult
	// Found are the violations seen without evaluating requests; Points
	// the requests to decide.
	Found  []Found
	Points []*Point
	// Oracle are the points the oracle decides.
	Oracle []*Point
	// Violations and Disagreements are set by Judge.
	Violations    []Found
	Disagreements []string
	// Plans counts the plans made to check.
	Plans int
	// Seen counts the steps after which the state held what the
	// sequences are meant to reach (a managed policy, an old key still
	// granted, a grant across accounts), to show they do.
	Seen map[string]int
}

// Execute runs a sequence on the runner's files and checks every step.
// sample is how many of each step's passing requests of each property the
// oracle decides besides every failing one.
func Execute(ctx context.Context, seq Sequence, r *Runner, dec Decider, sample int) (*Run, error) {
	run := &Run{Seq: seq, Seen: map[string]int{}}
	w := seq.World
	data, err := r.Start(w)
	if err != nil {
		return nil, err
	}
	st0, err := snapshot.Parse(r.StatePath, data)
	if err != nil {
		return nil, err
	}
	foreign := foreignStatements(st0)
	probes := w.probes()
	base := make([]oracle.Case, len(probes))
	baseDec := make([]string, len(probes))
	keys := make([]uint64, len(probes))
	nowDec := make([]string, len(probes))
	fp := fingerprints(st0)
	// The context of an S3 request depends on the world alone; a KMS
	// request's names a bucket the key encrypts, which re-keying changes.
	ctxs := make([]map[string][]string, len(probes))
	for i, p := range probes {
		ctxs[i] = w.context(st0, p)
		base[i] = w.caseFor(st0, p, ctxs[i])
		d, err := dec.Decide(base[i])
		if err != nil {
			return nil, fmt.Errorf("deciding %s: %w", p, err)
		}
		baseDec[i], nowDec[i], keys[i] = d, d, fp.of(p)
	}
	rng := rand.New(rand.NewPCG(uint64(seq.Seed), uint64(seq.Index)^0x5eed))
	model := NewModel(w)
	history := []*Model{model}
	prevData, before := data, st0
	checked := map[diff.GrantID]uint64{}
	for i, s := range seq.Steps {
		res := r.Run(ctx, s, run.Results)
		run.Results = append(run.Results, res)
		next, bad := model.After(s, res, history)
		for _, b := range bad {
			run.Found = append(run.Found, Found{Prop: PropOutcome, Step: i, Msg: b})
		}
		model = next
		history = append(history, model)
		nowData, err := os.ReadFile(r.StatePath)
		if err != nil {
			return nil, err
		}
		if res.Outcome != Applied && res.Outcome != Rekeyed && !bytes.Equal(nowData, prevData) {
			run.Found = append(run.Found, Found{Prop: PropOutcome, Step: i, Msg: fmt.Sprintf("%s ended %q but changed the snapshot file", s.Op, res.Outcome)})
		}
		if res.Outcome == Failed {
			// What a failed write left is not the model's to say.
			break
		}
		st := before
		if !bytes.Equal(nowData, prevData) {
			if st, err = snapshot.Parse(r.StatePath, nowData); err != nil {
				return nil, err
			}
		}
		prevData, before = nowData, st
		run.see(model, st)
		for _, msg := range foreign.lost(st) {
			run.Found = append(run.Found, Found{Prop: PropBytes, Step: i, Msg: msg})
		}
		var required, unexplained []*Point
		fp := fingerprints(st)
		seen := map[diff.GrantID]uint64{}
		for _, id := range sortedIDs(model.Grants) {
			s := model.Grants[id]
			// A grant whose documents and standing did not change since
			// the last step plans the same: its check holds as it did.
			k := fp.ofGrant(st, s, model.BucketKey[id.Bucket])
			seen[id] = k
			if prev, ok := checked[id]; ok && prev == k {
				continue
			}
			pts, found := checkStanding(w, model, s, st, i, dec)
			run.Plans++
			run.Found = append(run.Found, found...)
			required = append(required, pts...)
		}
		checked = seen
		for j, p := range probes {
			var c oracle.Case
			changed := false
			ctx := ctxs[j]
			if p.kind == kindKey {
				ctx = nil
			}
			if k := fp.of(p); k != keys[j] {
				c = w.caseFor(st, p, ctx)
				d, err := dec.Decide(c)
				if err != nil {
					return nil, fmt.Errorf("deciding %s: %w", p, err)
				}
				keys[j], nowDec[j], changed = k, d, true
			}
			if model.explains(p) || baseDec[j] == oracle.Allowed || !changed && nowDec[j] != oracle.Allowed {
				// Explained, allowed from the start (so nothing it does
				// now is new), or denied as it was at the last step.
				continue
			}
			if !changed {
				c = w.caseFor(st, p, ctx)
			}
			step, p := i, p
			msg := func() string {
				return fmt.Sprintf("after step %d, %s is allowed: no standing grant explains it and it was not allowed at the start", step, p)
			}
			// A request the Go evaluator allows is decided at the start
			// too; one it denies (a sample) needs only now's decision.
			pt := &Point{Prop: PropNew, Step: i, Cases: []oracle.Case{c}, GoDec: []string{nowDec[j]},
				check: func(d []string) string {
					if d[0] == oracle.Allowed {
						return msg()
					}
					return ""
				}}
			if nowDec[j] == oracle.Allowed {
				pt.Must = true
				pt.Cases, pt.GoDec = []oracle.Case{base[j], c}, []string{baseDec[j], nowDec[j]}
				pt.check = func(d []string) string {
					if d[1] == oracle.Allowed && d[0] != oracle.Allowed {
						return msg()
					}
					return ""
				}
			}
			unexplained = append(unexplained, pt)
		}
		run.Points = append(run.Points, required...)
		run.Points = append(run.Points, unexplained...)
		run.Oracle = append(run.Oracle, pick(rng, required, sample)...)
		run.Oracle = append(run.Oracle, pick(rng, unexplained, sample)...)
	}
	return run, nil
}

// pick returns every point the Go evaluator finds wrong and n more at
// random.
func pick(rng *rand.Rand, pts []*Point, n int) []*Point {
	var out, rest []*Point
	for _, p := range pts {
		if p.Must {
			out = append(out, p)
		} else {
			rest = append(rest, p)
		}
	}
	rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	if n < 0 || n > len(rest) {
		n = len(rest)
	}
	return append(out, rest[:n]...)
}

func sortedIDs(m map[diff.GrantID]Standing) []diff.GrantID {
	ids := make([]diff.GrantID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		return a.Principal+"\n"+a.Bucket+"\n"+a.Prefix < b.Principal+"\n"+b.Bucket+"\n"+b.Prefix
	})
	return ids
}

// checkStanding plans a standing grant again (it must change nothing)
// and lists the requests its access needs: each object action on an
// object right under the prefix and one deeper, the list, and the KMS
// actions on the bucket's key and on every earlier key it keeps. A grant
// whose bucket was re-keyed since it was planned needs planning again: it
// must not be blocked for that.
func checkStanding(w World, m *Model, s Standing, st *state.State, step int, dec Decider) ([]*Point, []Found) {
	g := s.Spec
	g.Access, g.DropOldKeys = s.Levels, false
	p, err := diff.Make(st, Options(g))
	if err != nil {
		return nil, []Found{{Prop: PropAgain, Step: step, Msg: fmt.Sprintf("planning %s again: %v", g, err)}}
	}
	if p.Blocked() {
		var msgs []string
		for _, b := range p.Blockers {
			msgs = append(msgs, b.Kind+": "+b.Message)
		}
		if m.Stale(s) {
			kinds := make([]string, len(p.Blockers))
			for i, b := range p.Blockers {
				kinds[i] = b.Kind
			}
			if m.unexpectedBlockers(g, kinds) == "" {
				return nil, nil
			}
			return nil, []Found{{Prop: PropAgain, Step: step, Msg: fmt.Sprintf("%s, re-keyed since it was planned, is blocked: %s", g, strings.Join(msgs, "; "))}}
		}
		return nil, []Found{{Prop: PropAgain, Step: step, Msg: fmt.Sprintf("planning the standing grant %s again is blocked: %s", g, strings.Join(msgs, "; "))}}
	}
	if m.Stale(s) {
		return nil, nil
	}
	var found []Found
	if !p.Empty() {
		var chs []string
		for _, c := range p.Changes {
			for _, sc := range c.Statements {
				chs = append(chs, fmt.Sprintf("%s %s %s %v in %s", sc.Op, sc.Sid, strings.Join(sc.Actions, ","), sc.Reason, c.Document.ID()))
			}
		}
		found = append(found, Found{Prop: PropAgain, Step: step, Msg: fmt.Sprintf("planning the standing grant %s again changes: %s", g, strings.Join(chs, "; "))})
	}
	ctxOf := map[string]map[string][]string{}
	for _, r := range p.Requests {
		ctxOf[r.Action] = r.Context
	}
	me := caller{arn: callerARN(g.Principal), principal: g.Principal, account: state.AccountOf(g.Principal)}
	if pr := st.FindPrincipal(g.Principal); pr != nil {
		me.id = pr.ID
		if pr.Kind == state.KindRole {
			me.id += ":lifeseq"
		}
	}
	var reqs []probe
	for _, a := range s3Actions(s.Levels) {
		for _, o := range []string{"q1.csv", "2026/deep/q2.csv"} {
			reqs = append(reqs, probe{who: me, kind: kindObject, action: a, bucket: g.Bucket, object: g.Prefix + o})
		}
	}
	if slices.Contains(s.Levels, diff.List) {
		reqs = append(reqs, probe{who: me, kind: kindList, action: "s3:ListBucket", bucket: g.Bucket, listPrefix: g.Prefix, hasPrefix: g.Prefix != ""})
	}
	for _, k := range sortedKeys(s.Keys) {
		for _, a := range s.Keys[k] {
			if k != m.BucketKey[g.Bucket] && a != "kms:Decrypt" {
				continue // an earlier key only decrypts what was written under it
			}
			reqs = append(reqs, probe{who: me, kind: kindKey, action: a, key: k})
		}
	}
	var pts []*Point
	for _, r := range reqs {
		ctx := w.context(st, r)
		if pc := ctxOf[r.action]; pc != nil {
			// The context the plan names, for this request's resource.
			ctx = maps2(pc)
			if r.kind == kindList && !r.hasPrefix {
				delete(ctx, "s3:prefix")
			}
		}
		if r.kind == kindKey && r.key != m.BucketKey[g.Bucket] {
			ctx["kms:EncryptionContext:aws:s3:arn"] = []string{"arn:aws:s3:::" + g.Bucket}
		}
		c := w.caseFor(st, r, ctx)
		d, err := dec.Decide(c)
		if err != nil {
			found = append(found, Found{Prop: PropStanding, Step: step, Msg: err.Error()})
			continue
		}
		r := r
		pt := &Point{Prop: PropStanding, Step: step, Cases: []oracle.Case{c}, GoDec: []string{d},
			check: func(d []string) string {
				if d[0] != oracle.Allowed {
					return fmt.Sprintf("after step %d, the standing grant %s does not give %s: %s", step, g, r, d[0])
				}
				return ""
			}}
		pt.Must = pt.check(pt.GoDec) != ""
		pts = append(pts, pt)
	}
	return pts, found
}

func maps2(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// Judge turns the decisions into violations: a point is wrong when the
// oracle's decisions make it wrong; the Go evaluator and the oracle must
// agree.
func (run *Run) Judge() {
	run.Violations = append(run.Violations[:0], run.Found...)
	for _, p := range run.Oracle {
		if p.OrDec == nil {
			continue
		}
		if !slices.Equal(p.OrDec, p.GoDec) {
			run.Disagreements = append(run.Disagreements, fmt.Sprintf("sequence %d step %d, %s: Go %v, oracle %v: %s", run.Seq.Index, p.Step, p.Prop, p.GoDec, p.OrDec, p.Cases[len(p.Cases)-1].Action+" "+p.Cases[len(p.Cases)-1].ResourceARN))
		}
		if msg := p.check(p.OrDec); msg != "" {
			run.Violations = append(run.Violations, Found{Prop: p.Prop, Step: p.Step, Msg: msg})
		}
	}
}

// foreignDocs records, per document, the statements that are not
// bucketgrant's (their exact bytes), and the documents that are not
// bucketgrant's at all.
type foreignDocs struct {
	stmts map[string][][]byte
}

func docsOf(st *state.State) map[string][]byte {
	out := map[string][]byte{}
	for _, k := range st.Keys {
		if k.Policy != nil {
			out["key-policy:"+k.ARN] = k.Policy.Text
		}
	}
	for _, b := range st.Buckets {
		if b.Policy != nil {
			out["bucket-policy:"+b.Name] = b.Policy.Text
		}
	}
	for _, p := range st.Principals {
		for _, in := range p.InlinePolicies {
			if in.Doc != nil {
				out["inline-policy:"+p.ARN+":"+in.Name] = in.Doc.Text
			}
		}
		for _, m := range p.AttachedPolicies {
			if m.Document != nil {
				out["managed-policy:"+p.ARN+":"+m.ARN] = m.Document.Text
			}
		}
	}
	return out
}

func foreignStatements(st *state.State) foreignDocs {
	f := foreignDocs{stmts: map[string][][]byte{}}
	for id, text := range docsOf(st) {
		d, err := policy.Parse(text, policy.KindAny)
		if err != nil {
			continue
		}
		// Before the first step every statement is someone else's, those
		// carrying bucketgrant's Sids included.
		for i := range d.Statements() {
			f.stmts[id] = append(f.stmts[id], bytes.Clone(d.StatementText(i)))
		}
	}
	return f
}

// lost lists the foreign statements st no longer holds byte for byte.
func (f foreignDocs) lost(st *state.State) []string {
	now := docsOf(st)
	var out []string
	for _, id := range sortedKeys(f.stmts) {
		text, ok := now[id]
		if !ok {
			out = append(out, id+" is gone, and it held statements that are not bucketgrant's")
			continue
		}
		for _, s := range f.stmts[id] {
			if !bytes.Contains(text, s) {
				out = append(out, fmt.Sprintf("%s lost (or changed) the statement %s", id, s))
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// see counts what the state and the model hold after a step.
func (run *Run) see(m *Model, st *state.State) {
	for _, p := range st.Principals {
		for _, a := range p.AttachedPolicies {
			if strings.Contains(a.ARN, ":policy/bucketgrant/") {
				run.Seen["managed policy"]++
				break
			}
		}
	}
	for id, s := range m.Grants {
		b := m.bucket(id.Bucket)
		if state.AccountOf(id.Principal) != b.Account {
			run.Seen["grant across accounts"]++
		}
		if state.AccountOf(m.BucketKey[id.Bucket]) != b.Account {
			run.Seen["key in another account than its bucket"]++
		}
		if len(s.Keys) > 1 || (len(s.Keys) == 1 && s.Keys[m.BucketKey[id.Bucket]] == nil) {
			run.Seen["old key still granted"]++
		}
		if m.Stale(s) {
			run.Seen["grant to plan again after re-keying"]++
		}
		if id.Prefix != "" {
			run.Seen["prefix grant"]++
		}
	}
	if len(m.Grants) > 1 {
		run.Seen["two or more grants standing"]++
	}
}
