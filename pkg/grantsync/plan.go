package grantsync

import (
	"fmt"
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
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
)

// GrantResult is one grant's outcome.
type GrantResult struct {
	Grant   Grant
	Status  Status
	Reasons []string
	// Changes are the grant's own statement changes, per document.
	Changes []diff.Change
	// Plan is the grant's plan against the state as the earlier grants of
	// the run left it (nil when planning failed).
	Plan *diff.Plan
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
	// file. AllGrants is the whole file's grant list (the Sids to keep),
	// PruneDoc limits prune to the documents it returns true for (a shard's;
	// nil: every document).
	Prune     bool
	AllGrants []Grant
	PruneDoc  func(diff.DocRef) bool
	// PrincipalErrors and BucketErrors are what could not be read; the
	// grants that need them are errors.
	PrincipalErrors, BucketErrors map[string]error
	// Quotas gives an account's limits for the limits check (nil: AWS's
	// defaults).
	Quotas func(account string) limits.Quotas
}

// PlanAll plans the grants one after another on a copy of st, so that each
// sees the statements the earlier ones add (two grants on one bucket end in
// one bucket policy holding both), then merges every change to a document
// into one. A blocked grant, or one whose planning fails, is reported and
// its changes are left out. st is not modified.
func PlanAll(st *state.State, f *File, grants []Grant, o PlanOptions) (*Run, error) {
	work := CloneState(st)
	m := newMerger(st)
	run := &Run{Principals: map[string]string{}, Regions: map[string]string{}}
	for _, b := range st.Buckets {
		run.Regions[b.Name] = b.Region
	}
	for _, g := range grants {
		r := &GrantResult{Grant: g, Status: StatusInSync}
		run.Results = append(run.Results, r)
		if err := o.PrincipalErrors[g.Principal]; err != nil {
			r.Status, r.Reasons = StatusError, []string{"reading " + g.Principal + ": " + err.Error()}
			continue
		}
		if err := o.BucketErrors[g.Bucket]; err != nil {
			r.Status, r.Reasons = StatusError, []string{"reading bucket " + g.Bucket + ": " + err.Error()}
			continue
		}
		p, err := diff.Make(work, f.Options(g, o.ToolVersion))
		if err != nil {
			r.Status, r.Reasons = StatusError, []string{err.Error()}
			continue
		}
		r.Plan = p
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
		if err := apply.ToState(work, p); err != nil {
			r.Status, r.Reasons = StatusError, []string{fmt.Sprintf("merging the plan of %s: %v", g, err)}
			continue
		}
		r.Status, r.Changes = StatusDrift, p.Changes
		for _, ch := range p.Changes {
			m.add(p, ch)
			if isIdentity(ch.Document) {
				run.Principals[ch.Document.ID()] = p.Subject.PrincipalARN
			}
		}
		for _, req := range p.Requests {
			if req.Before != req.After {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s on %s is %s", req.Action, req.Resource, req.Before))
			}
		}
	}
	if o.Prune {
		pruned, err := prune(work, keepSids(work, o.AllGrants), o.PruneDoc)
		if err != nil {
			return nil, err
		}
		for _, pc := range pruned {
			m.addPruned(pc)
			if isIdentity(pc.change.Document) {
				run.Principals[pc.change.Document.ID()] = pc.principal
			}
			run.Pruned = append(run.Pruned, pc.change)
		}
	}
	run.Plan = m.plan(work, o.ToolVersion)
	return run, nil
}

func isIdentity(d diff.DocRef) bool {
	return d.Kind == diff.DocInlinePolicy || d.Kind == diff.DocManagedPolicy
}

// merger collects, per document, the text as read, its fingerprint, and
// every statement change made to it during the run.
type merger struct {
	orig  *state.State
	order []string
	docs  map[string]*mergedDoc
}

type mergedDoc struct {
	ref         diff.DocRef
	before      string
	existed     bool
	fingerprint string
	attach      bool
	principal   string // for identity documents
	bucket      string // for bucket policies
	stmts       []diff.StatementChange
}

func newMerger(orig *state.State) *merger {
	return &merger{orig: orig, docs: map[string]*mergedDoc{}}
}

// add records one grant's change. The first grant to touch a document saw
// it as read: its Before and fingerprint are the original's.
func (m *merger) add(p *diff.Plan, ch diff.Change) {
	id := ch.Document.ID()
	d, ok := m.docs[id]
	if !ok {
		d = &mergedDoc{ref: ch.Document, before: ch.Before, existed: ch.Action != diff.ActionCreate,
			fingerprint: p.Fingerprints[id], principal: p.Subject.PrincipalARN, bucket: p.Grant.Bucket}
		m.docs[id] = d
		m.order = append(m.order, id)
	}
	d.attach = d.attach || ch.Attach
	d.stmts = append(d.stmts, ch.Statements...)
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

func (m *merger) addPruned(pc prunedChange) {
	ch := pc.change
	id := ch.Document.ID()
	d, ok := m.docs[id]
	if !ok {
		d = &mergedDoc{ref: ch.Document, before: ch.Before, existed: true, fingerprint: pc.fingerprint, principal: pc.principal, bucket: pc.bucket}
		m.docs[id] = d
		m.order = append(m.order, id)
	}
	d.stmts = append(d.stmts, ch.Statements...)
}

// plan builds the combined plan: per document, Before as read and After as
// the working state holds it once every grant is merged.
func (m *merger) plan(work *state.State, toolVersion string) *diff.Plan {
	p := &diff.Plan{Format: diff.PlanFormat, ToolVersion: toolVersion, Operation: diff.PlanGrant,
		Requests: []diff.Request{}, Changes: []diff.Change{}, Blockers: []diff.Blocker{}, Warnings: []diff.Warning{},
		Fingerprints: map[string]string{}}
	for _, id := range m.order {
		d := m.docs[id]
		after := apply.DocIn(work, d.ref, d.principal)
		ch := diff.Change{Document: d.ref, Before: d.before, Statements: d.stmts}
		switch {
		case after == nil && !d.existed:
			continue // created, then pruned away again: nothing to write
		case after == nil:
			ch.Action = diff.ActionDelete
		case !d.existed:
			ch.Action, ch.After, ch.Attach = diff.ActionCreate, after.String(), d.attach
		default:
			ch.Action, ch.After = diff.ActionUpdate, after.String()
			if ch.After == ch.Before {
				continue
			}
		}
		p.Fingerprints[id] = d.fingerprint
		p.Changes = append(p.Changes, ch)
	}
	p.Seal()
	return p
}

// CloneState returns a deep copy of the documents of a state (the planner
// and ToState only replace documents, never edit their bytes, but the
// slices of inline and attached policies are appended to).
func CloneState(st *state.State) *state.State {
	out := &state.State{Source: st.Source}
	out.Buckets = slices.Clone(st.Buckets)
	for i := range out.Buckets {
		out.Buckets[i].Policy = out.Buckets[i].Policy.Clone()
	}
	out.Keys = slices.Clone(st.Keys)
	for i := range out.Keys {
		out.Keys[i].Policy = out.Keys[i].Policy.Clone()
	}
	out.Principals = slices.Clone(st.Principals)
	for i := range out.Principals {
		p := &out.Principals[i]
		p.InlinePolicies = slices.Clone(p.InlinePolicies)
		for j := range p.InlinePolicies {
			p.InlinePolicies[j].Doc = p.InlinePolicies[j].Doc.Clone()
		}
		p.AttachedPolicies = slices.Clone(p.AttachedPolicies)
		for j := range p.AttachedPolicies {
			p.AttachedPolicies[j].Document = p.AttachedPolicies[j].Document.Clone()
		}
	}
	return out
}
