package grantsync

import (
	"fmt"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Status is a grant's outcome in a run.
type Status string

const (
	StatusInSync  Status = "in sync"     // nothing missing
	StatusDrift   Status = "drift found" // changes pending (dry run, or not yet applied)
	StatusFixed   Status = "fixed"       // applied and verified
	StatusBlocked Status = "blocked"     // a blocker stops it; nothing of it is written
	StatusError   Status = "error"       // it could not be read, planned or written
	// StatusBroader is a grant that lacks nothing but whose statements
	// allow more than the file declares (without --prune).
	StatusBroader Status = "broader than declared"
)

// GrantResult is one grant's outcome.
type GrantResult struct {
	Grant   Grant
	Status  Status
	Reasons []string
	// Access is the levels granted (the file's, or the planner's default).
	Access []diff.Level
	// Changes are the grant's own statement changes, per document (Before
	// and After are left out: the run's Plan holds each document once).
	Changes []diff.Change
	// Broader says where bucketgrant's statements for the grant's principal
	// on its bucket allow more than the file declares (only without
	// --prune, which narrows them).
	Broader []string
}

// Run is one sync's plan: every grant's outcome and the one combined plan
// that writes each document at most once.
type Run struct {
	Results []*GrantResult
	// Plan holds one change per document: Before as read, After with every
	// grant's (and prune's) changes merged, the fingerprints of the reads.
	Plan *diff.Plan
	// Pruned are the statement removals of --prune, per document.
	Pruned []diff.Change
	// Principals maps each written identity document to the user or role
	// it belongs to (a managed policy's ARN does not say).
	Principals map[string]string
	// Regions maps each bucket to its region, for the writer.
	Regions map[string]string
}

// PlanOptions tune PlanAll.
type PlanOptions struct {
	ToolVersion string
	// Prune removes bucketgrant's statements of grants no longer in the
	// file and narrows those the file now declares narrower, on the buckets
	// the file names (scope). AllGrants is the whole file's grant list.
	Prune     bool
	AllGrants []Grant
	// OwnsDoc, in a shard, says whether a document (by DocID) is the
	// shard's: prune touches only those, and a grant that would write
	// another shard's document is an error instead (nil: every document).
	OwnsDoc func(docID string) bool
	// PrincipalErrors and BucketErrors are what could not be read; the
	// grants that need them are errors.
	PrincipalErrors, BucketErrors map[string]error
	// Quotas gives an account's limits for the limits check (nil: AWS's
	// defaults).
	Quotas func(account string) limits.Quotas
}

// PlanAll plans the grants on a copy of st. Prune comes first, so every
// grant is planned on the state as it will be once pruned: no grant kept
// relies on a statement prune removes. Then the grants, one after another,
// each seeing the statements the earlier ones add (two grants on one
// bucket end in one bucket policy holding both). Every change to a document
// is merged into one. A blocked grant, or one whose planning fails, is
// reported and its changes are left out. st is not modified.
func PlanAll(st *state.State, f *File, grants []Grant, o PlanOptions) (*Run, error) {
	if o.AllGrants == nil {
		o.AllGrants = grants
	}
	work := CloneState(st)
	m := newMerger()
	run := &Run{Principals: map[string]string{}, Regions: map[string]string{}}
	for _, b := range st.Buckets {
		run.Regions[b.Name] = b.Region
	}
	sc := newScope(work, f, o.AllGrants, o.OwnsDoc)
	narrowed := map[string][]diff.Change{} // grant key -> prune's narrowing of its statements
	var broader map[string][]string
	if o.Prune {
		pruned, err := prune(work, sc)
		if err != nil {
			return nil, err
		}
		for _, pc := range pruned {
			m.touch(pc.change.Document, pc.principal, false, pc.change.Statements)
			if isIdentity(pc.change.Document) {
				run.Principals[pc.change.Document.ID()] = pc.principal
			}
			run.Pruned = append(run.Pruned, pc.change)
			for _, gi := range pc.grants {
				k := o.AllGrants[gi].Key()
				narrowed[k] = append(narrowed[k], diff.Change{Document: pc.change.Document, Action: pc.change.Action,
					Statements: slices.DeleteFunc(slices.Clone(pc.change.Statements), func(s diff.StatementChange) bool {
						ow, ok := sc.attr[diff.BaseSid(s.Sid)]
						return !ok || ow.id.key() != o.AllGrants[gi].id().key()
					})})
			}
		}
	} else {
		broader = sc.broader(work, o.AllGrants)
	}
	for _, g := range grants {
		r := &GrantResult{Grant: g, Status: StatusInSync, Access: g.Access, Broader: broader[g.Key()]}
		run.Results = append(run.Results, r)
		if err := o.PrincipalErrors[g.Principal]; err != nil {
			r.Status, r.Reasons = StatusError, []string{"reading " + g.Principal + ": " + err.Error()}
			continue
		}
		if err := o.BucketErrors[g.Bucket]; err != nil {
			r.Status, r.Reasons = StatusError, []string{"reading bucket " + g.Bucket + ": " + err.Error()}
			continue
		}
		opts := f.Options(g, o.ToolVersion)
		opts.NoFingerprints = true // the combined plan takes its own (merger.plan)
		p, err := diff.Make(work, opts)
		if err != nil {
			r.Status, r.Reasons = StatusError, []string{err.Error()}
			continue
		}
		r.Access = p.Grant.Access
		if p.Blocked() {
			r.Status = StatusBlocked
			for _, b := range p.Blockers {
				msg := b.Message
				if b.Hint != "" {
					msg += " (" + b.Hint + ")"
				}
				r.Reasons = append(r.Reasons, msg)
			}
			continue
		}
		if n := narrowed[g.Key()]; len(n) > 0 {
			r.Status, r.Changes = StatusDrift, append(r.Changes, n...)
			r.Reasons = append(r.Reasons, "bucketgrant's statements allowed more than the grants file declares; --prune narrows them")
		}
		if p.Empty() {
			continue
		}
		if other := m.sharedManaged(p); other != "" {
			// Managed policies are per principal (diff.ManagedPolicyARN);
			// this guards that invariant, since merging two principals'
			// grants into one policy would hand each the other's.
			r.Status, r.Reasons = StatusError, []string{other}
			continue
		}
		if v, err := overLimits(work, p, o.Quotas); err != nil || len(v) > 0 {
			r.Status, r.Reasons = StatusBlocked, nil
			if err != nil {
				r.Status, r.Reasons = StatusError, []string{fmt.Sprintf("checking the limits of %s: %v", g, err)}
			}
			for _, x := range v {
				r.Reasons = append(r.Reasons, x.Error())
			}
			continue
		}
		if o.OwnsDoc != nil {
			if ref, ok := foreignDoc(p, o.OwnsDoc); !ok {
				r.Status, r.Reasons = StatusError, []string{fmt.Sprintf("the plan writes the %s, which belongs to another shard; run without --shard, or with fewer shards", ref.ID())}
				continue
			}
		}
		if err := apply.ToState(work, p); err != nil {
			r.Status, r.Reasons = StatusError, []string{fmt.Sprintf("merging the plan of %s: %v", g, err)}
			continue
		}
		diff.Replaced(p)
		r.Status = StatusDrift
		for _, ch := range p.Changes {
			stmts := brief(ch.Statements)
			m.touch(ch.Document, p.Subject.PrincipalARN, ch.Attach, stmts)
			if isIdentity(ch.Document) {
				run.Principals[ch.Document.ID()] = p.Subject.PrincipalARN
			}
			r.Changes = append(r.Changes, diff.Change{Document: ch.Document, Action: ch.Action, Attach: ch.Attach, Statements: stmts})
		}
		for _, req := range p.Requests {
			if req.Before != req.After {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s on %s is %s", req.Action, req.Resource, req.Before))
			}
		}
	}
	plan, err := m.plan(st, work, o.ToolVersion)
	if err != nil {
		return nil, err
	}
	run.Plan = plan
	return run, nil
}

// brief is a grant's statement changes without their reasons: the run
// keeps every grant's changes until the end, the report names only the
// operation and the Sid, and the reasons, written per grant, are most of
// their bytes (a quarter of the memory of a 10,000-grant run).
func brief(stmts []diff.StatementChange) []diff.StatementChange {
	out := make([]diff.StatementChange, len(stmts))
	for i, s := range stmts {
		s.Reason = ""
		out[i] = s
	}
	return out
}

// foreignDoc returns a document the plan writes that OwnsDoc says is not
// the shard's. Sharding groups grants by the documents they may write
// (GrantDocs); this guards that a plan never writes beyond them.
func foreignDoc(p *diff.Plan, owns func(string) bool) (diff.DocRef, bool) {
	for _, ch := range p.Changes {
		if !owns(DocID(ch.Document, p.Subject.PrincipalARN, p.Grant.Bucket)) {
			return ch.Document, false
		}
	}
	return diff.DocRef{}, true
}

func isIdentity(d diff.DocRef) bool {
	return d.Kind == diff.DocInlinePolicy || d.Kind == diff.DocManagedPolicy
}

// merger collects, per document, every statement change made to it during
// the run. The combined change is built at the end from the document as
// read and as the working state holds it.
type merger struct {
	order []string
	docs  map[string]*mergedDoc
}

type mergedDoc struct {
	ref       diff.DocRef
	attach    bool
	principal string // for identity documents
	stmts     []diff.StatementChange
}

func newMerger() *merger {
	return &merger{docs: map[string]*mergedDoc{}}
}

// touch records statement changes to a document.
func (m *merger) touch(ref diff.DocRef, principal string, attach bool, stmts []diff.StatementChange) {
	id := ref.ID()
	d, ok := m.docs[id]
	if !ok {
		d = &mergedDoc{ref: ref, principal: principal}
		m.docs[id] = d
		m.order = append(m.order, id)
	}
	d.attach = d.attach || attach
	d.stmts = append(d.stmts, stmts...)
}

// sharedManaged reports a managed policy the plan writes that an earlier
// grant of the run writes for another principal.
func (m *merger) sharedManaged(p *diff.Plan) string {
	for _, ch := range p.Changes {
		if d, ok := m.docs[ch.Document.ID()]; ok && ch.Document.Kind == diff.DocManagedPolicy && d.principal != p.Subject.PrincipalARN {
			return fmt.Sprintf("the managed policy %s would also hold the grants of %s, written in this run; bucketgrant keeps one principal per managed policy: give this grant to a role, or shorten the user's inline policies", ch.Document.ARN, d.principal)
		}
	}
	return ""
}

// plan builds the combined plan: per document, Before and its fingerprint
// as read (orig), After as the working state holds it once prune and every
// grant are merged.
func (m *merger) plan(orig, work *state.State, toolVersion string) (*diff.Plan, error) {
	p := &diff.Plan{Format: diff.PlanFormat, ToolVersion: toolVersion, Operation: diff.PlanGrant,
		Requests: []diff.Request{}, Changes: []diff.Change{}, Blockers: []diff.Blocker{}, Warnings: []diff.Warning{},
		Fingerprints: map[string]string{}}
	for _, id := range m.order {
		d := m.docs[id]
		before, after := present(apply.DocIn(orig, d.ref, d.principal)), present(apply.DocIn(work, d.ref, d.principal))
		ch := diff.Change{Document: d.ref, Statements: d.stmts}
		switch {
		case after == nil && before == nil:
			continue // created, then pruned away again: nothing to write
		case after == nil:
			ch.Action, ch.Before = diff.ActionDelete, before.String()
		case before == nil:
			ch.Action, ch.After, ch.Attach = diff.ActionCreate, after.String(), d.attach
		default:
			ch.Action, ch.Before, ch.After = diff.ActionUpdate, before.String(), after.String()
			if ch.After == ch.Before {
				continue
			}
		}
		fp := ""
		if before != nil {
			doc, err := policy.Parse(before.Text, policy.KindAny)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d.ref.ID(), err)
			}
			fp = doc.Fingerprint()
		}
		p.Fingerprints[id] = fp
		p.Changes = append(p.Changes, ch)
	}
	// Not sealed: the combined plan is applied in the same run and never
	// saved, and its checksum would marshal every document of the run into
	// one buffer (tens of MB for ten thousand grants) for nothing.
	return p, nil
}

// present is doc, or nil where the state holds no document (the planner
// reads "null" as none too).
func present(doc *state.Doc) *state.Doc {
	if doc == nil || len(doc.Text) == 0 || string(doc.Text) == "null" {
		return nil
	}
	return doc
}

// CloneState returns a copy of a state that a plan can be merged into
// without touching the original: its slices are copied, down to each
// principal's lists of policies. The documents themselves are shared: the
// planner, ToState and prune only ever replace a *state.Doc, never edit its
// bytes, and copying every document's text for each copy doubled the
// memory of a large run.
func CloneState(st *state.State) *state.State {
	// The organization is read-only: shared.
	out := &state.State{Source: st.Source, Org: st.Org}
	out.Buckets = slices.Clone(st.Buckets)
	out.Keys = slices.Clone(st.Keys)
	out.Principals = slices.Clone(st.Principals)
	for i := range out.Principals {
		p := &out.Principals[i]
		p.InlinePolicies = slices.Clone(p.InlinePolicies)
		p.AttachedPolicies = slices.Clone(p.AttachedPolicies)
	}
	return out
}
