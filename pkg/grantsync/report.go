package grantsync

import (
	"fmt"
	"io"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// ReportFormat names the version of the JSON report (docs/grants.md).
const ReportFormat = "bucketgrant.sync-report/1"

// Report is a sync's outcome, for people (Text) and machines (JSON).
type Report struct {
	Format  string        `json:"format"`
	DryRun  bool          `json:"dry_run"`
	Shard   string        `json:"shard,omitempty"`
	Grants  []GrantReport `json:"grants"`
	Pruned  []ChangeInfo  `json:"pruned"`
	Summary Summary       `json:"summary"`

	results []*GrantResult
}

// GrantReport is one grant's entry.
type GrantReport struct {
	Principal string       `json:"principal"`
	Bucket    string       `json:"bucket"`
	Prefix    string       `json:"prefix,omitempty"`
	Access    []diff.Level `json:"access"`
	Line      int          `json:"line"`
	Status    Status       `json:"status"`
	Reasons   []string     `json:"reasons"`
	Changes   []ChangeInfo `json:"changes"`
	// Broader lists where bucketgrant's statements for the grant's
	// principal on its bucket allow more than the file declares (without
	// --prune, which would narrow them).
	Broader []string `json:"broader,omitempty"`
}

// ChangeInfo is one document a grant (or prune) changes.
type ChangeInfo struct {
	Document   string   `json:"document"`
	Action     string   `json:"action"`
	Statements []string `json:"statements"` // "add BucketGrantObjects…", "remove …"
}

// Summary counts the grants by status and the documents.
type Summary struct {
	Grants     int `json:"grants"`
	InSync     int `json:"in_sync"`
	Fixed      int `json:"fixed"`
	DriftFound int `json:"drift_found"`
	Blocked    int `json:"blocked"`
	Errors     int `json:"errors"`
	// Broader counts the grants whose statements allow more than declared.
	Broader   int    `json:"broader_than_declared"`
	Documents int    `json:"documents_to_write"`
	Written   int    `json:"documents_written"`
	Backup    string `json:"backup,omitempty"`
	Error     string `json:"error,omitempty"`
}

func newReport(c Config, run *Run) *Report {
	r := &Report{Format: ReportFormat, DryRun: c.DryRun, results: run.Results, Grants: []GrantReport{}, Pruned: []ChangeInfo{}}
	if c.Shard != nil {
		r.Shard = fmt.Sprintf("%d/%d", c.Shard.K, c.Shard.N)
	}
	for _, ch := range run.Pruned {
		r.Pruned = append(r.Pruned, changeInfo(ch))
	}
	r.Summary.Documents = len(run.Plan.Changes)
	return r
}

func changeInfo(ch diff.Change) ChangeInfo {
	ci := ChangeInfo{Document: ch.Document.ID(), Action: ch.Action, Statements: []string{}}
	for _, s := range ch.Statements {
		ci.Statements = append(ci.Statements, s.Op+" "+s.Sid)
	}
	return ci
}

// finish fills the grant entries and counts from the results.
func (r *Report) finish() {
	r.Grants = r.Grants[:0]
	s := &r.Summary
	s.Grants, s.InSync, s.Fixed, s.DriftFound, s.Blocked, s.Errors, s.Broader = len(r.results), 0, 0, 0, 0, 0, 0
	for _, res := range r.results {
		g := GrantReport{Principal: res.Grant.Principal, Bucket: res.Grant.Bucket, Prefix: res.Grant.Prefix, Access: res.Grant.Access,
			Line: res.Grant.Line, Status: res.Status, Reasons: res.Reasons, Changes: []ChangeInfo{}}
		if res.Access != nil {
			g.Access = res.Access
		}
		if len(res.Broader) > 0 {
			g.Broader = res.Broader
			s.Broader++
			if g.Status == StatusInSync {
				g.Status = StatusBroader
			}
		}
		if g.Reasons == nil {
			g.Reasons = []string{}
		}
		for _, ch := range res.Changes {
			g.Changes = append(g.Changes, changeInfo(ch))
		}
		r.Grants = append(r.Grants, g)
		switch g.Status {
		case StatusInSync, StatusBroader:
			s.InSync++
		case StatusFixed:
			s.Fixed++
		case StatusDrift:
			s.DriftFound++
		case StatusBlocked:
			s.Blocked++
		case StatusError:
			s.Errors++
		}
	}
}

// Exit codes of a sync (the CLI's: design.md).
const (
	ExitOK      = 0
	ExitError   = 1
	ExitPending = 2
	ExitBlocked = 3
)

// ExitCode is 1 when a grant failed, else 3 when one is blocked, else 2
// when detailed is set (dry run) and drift was found, prune would change
// something, or a grant's statements allow more than the file declares;
// else 0.
func (r *Report) ExitCode(detailed bool) int {
	s := r.Summary
	switch {
	case s.Errors > 0 || s.Error != "":
		return ExitError
	case s.Blocked > 0:
		return ExitBlocked
	case detailed && (s.DriftFound > 0 || r.DryRun && len(r.Pruned) > 0 || s.Broader > 0):
		return ExitPending
	}
	return ExitOK
}

// Text writes the summary for people: the grants that need attention first
// in detail, then one line of totals.
func (r *Report) Text(w io.Writer) {
	for _, g := range r.Grants {
		name := g.Principal + " on " + g.Bucket
		if g.Prefix != "" {
			name += "/" + g.Prefix
		}
		fmt.Fprintf(w, "%-11s %s\n", g.Status, name)
		for _, b := range g.Broader {
			fmt.Fprintf(w, "            ! %s\n", b)
		}
		if g.Status == StatusInSync || g.Status == StatusBroader || g.Status == StatusFixed && len(g.Changes) == 0 {
			continue
		}
		for _, reason := range g.Reasons {
			fmt.Fprintf(w, "            - %s\n", reason)
		}
		for _, ch := range g.Changes {
			fmt.Fprintf(w, "            %s %s: %s\n", ch.Action, ch.Document, strings.Join(ch.Statements, ", "))
		}
	}
	for _, ch := range r.Pruned {
		fmt.Fprintf(w, "%-11s %s: %s\n", "prune", ch.Document, strings.Join(ch.Statements, ", "))
	}
	s := r.Summary
	verb := "written"
	if r.DryRun {
		verb = "would be written"
	}
	n := s.Written
	if r.DryRun {
		n = s.Documents
	}
	shard := ""
	if r.Shard != "" {
		shard = " (shard " + r.Shard + ")"
	}
	broader := ""
	if s.Broader > 0 {
		broader = fmt.Sprintf(" (%d broader than declared)", s.Broader)
	}
	fmt.Fprintf(w, "\n%d grants%s: %d in sync%s, %d fixed, %d drift found, %d blocked, %d errors; %d documents %s.\n",
		s.Grants, shard, s.InSync, broader, s.Fixed, s.DriftFound, s.Blocked, s.Errors, n, verb)
	if s.Backup != "" {
		fmt.Fprintf(w, "Backup: %s\n", s.Backup)
	}
	if s.Error != "" {
		fmt.Fprintf(w, "Error: %s\n", s.Error)
	}
}
