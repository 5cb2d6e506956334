package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// palette colours text on a terminal and is a no-op elsewhere.
type palette struct{ on bool }

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) bold(s string) string   { return p.wrap("1", s) }
func (p palette) cyan(s string) string   { return p.wrap("36", s) }

// renderJSON writes a value as indented JSON, for files (a saved plan is
// read by people too).
func renderJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// renderPlan writes the plan for people: per document a header, a unified
// diff of the pretty-printed JSON and the reasons; then blockers, warnings,
// what was not evaluated, and a summary line.
func renderPlan(w io.Writer, p *diff.Plan, c palette) {
	who := p.Subject.PrincipalARN
	what := diff.Describe(p.Grant.Access)
	if p.Blocked() {
		renderBlockers(w, p, c)
		renderWarnings(w, p, c)
		return
	}
	if p.Empty() {
		fmt.Fprintf(w, "No changes. %s can already %s %s.\n", who, what, p.Grant.Bucket)
		renderWarnings(w, p, c)
		return
	}
	switch p.Operation {
	case diff.PlanRevoke:
		fmt.Fprintf(w, "bucketgrant will remove its grants for %s on %s from these documents:\n", who, p.Grant.Bucket)
	case diff.PlanRollback:
		fmt.Fprintf(w, "bucketgrant will restore these documents to their content before the apply that made the backup:\n")
	default:
		fmt.Fprintf(w, "bucketgrant will change these documents so that %s can %s %s", who, what, p.Grant.Bucket)
		if p.Grant.Prefix != "" {
			fmt.Fprintf(w, " (keys starting with %q)", p.Grant.Prefix)
		}
		fmt.Fprintln(w, ":")
	}
	for _, ch := range p.Changes {
		fmt.Fprintln(w)
		fmt.Fprintln(w, c.bold(changeHeader(ch, p.Operation)))
		fmt.Fprint(w, unifiedDiff(ch, c))
		if p.Operation == diff.PlanRollback {
			// A rollback restores whole documents: the diff above is the
			// change, and the reason says from when.
			for _, s := range ch.Statements {
				fmt.Fprintf(w, "      why: %s\n", s.Reason)
			}
			continue
		}
		for _, s := range ch.Statements {
			fmt.Fprintf(w, "  %s %s\n", statementVerb(s, c), statementLabel(s))
			fmt.Fprintf(w, "      why: %s\n", s.Reason)
		}
	}
	renderWarnings(w, p, c)
	fmt.Fprintln(w)
	fmt.Fprintln(w, c.bold(summary(p)))
}

func changeHeader(ch diff.Change, operation string) string {
	d := ch.Document
	var name string
	switch d.Kind {
	case diff.DocKeyPolicy:
		name = "key policy of " + d.ARN
	case diff.DocBucketPolicy:
		name = "bucket policy of " + d.ARN[strings.LastIndex(d.ARN, ":")+1:]
	case diff.DocInlinePolicy:
		name = fmt.Sprintf("inline policy %s of %s", d.Name, d.ARN)
	case diff.DocManagedPolicy:
		name = "managed policy " + d.ARN
	}
	verb := "will be updated"
	if operation == diff.PlanRollback {
		switch ch.Action {
		case diff.ActionCreate:
			verb = "will be created again, with its content from the backup"
			if ch.Attach {
				verb += ", and attached to the principal again"
			}
		case diff.ActionDelete:
			verb = "will be deleted (the apply created it)"
		default:
			verb = "will be restored to its content from the backup"
		}
		return fmt.Sprintf("# %s (account %s) %s", name, d.Account, verb)
	}
	switch ch.Action {
	case diff.ActionCreate:
		verb = "will be created"
		if ch.Attach {
			verb += " and attached to the principal"
		}
	case diff.ActionDelete:
		verb = "will be deleted"
	}
	return fmt.Sprintf("# %s (account %s) %s", name, d.Account, verb)
}

func statementVerb(s diff.StatementChange, c palette) string {
	switch s.Op {
	case diff.OpAdd:
		return c.green("+ adds")
	case diff.OpExtend:
		return c.yellow("~ extends")
	case diff.OpRemove:
		return c.red("- removes")
	}
	return c.yellow("~ removes principals from")
}

func statementLabel(s diff.StatementChange) string {
	label := fmt.Sprintf("statement %d", s.Index)
	if s.Sid != "" {
		label = fmt.Sprintf("statement %s", s.Sid)
	}
	switch {
	case len(s.Principals) > 0:
		return label + ": " + strings.Join(s.Principals, ", ")
	case len(s.Actions) > 0:
		return label + ": " + strings.Join(s.Actions, ", ")
	}
	return label
}

// unifiedDiff shows the change between pretty-printed documents, so the
// diff reads the same whatever layout AWS stored the document in.
func unifiedDiff(ch diff.Change, c palette) string {
	ud := difflib.UnifiedDiff{
		A: splitLines(pretty(ch.Before)), B: splitLines(pretty(ch.After)),
		FromFile: "before", ToFile: "after", Context: 3,
	}
	text, err := difflib.GetUnifiedDiffString(ud)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			b.WriteString(c.bold(strings.TrimRight(line, "\n")) + "\n")
		case strings.HasPrefix(line, "+"):
			b.WriteString(c.green(strings.TrimRight(line, "\n")) + "\n")
		case strings.HasPrefix(line, "-"):
			b.WriteString(c.red(strings.TrimRight(line, "\n")) + "\n")
		case strings.HasPrefix(line, "@@"):
			b.WriteString(c.cyan(strings.TrimRight(line, "\n")) + "\n")
		default:
			b.WriteString(line)
		}
	}
	return b.String()
}

// splitLines splits text into lines that keep their newline; "" has none
// (difflib.SplitLines would give one empty line).
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func pretty(text string) string {
	if text == "" {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(strings.TrimSpace(text)), "", "  "); err != nil {
		return text
	}
	out.WriteByte('\n')
	return out.String()
}

func renderBlockers(w io.Writer, p *diff.Plan, c palette) {
	fmt.Fprintln(w, c.red(c.bold(fmt.Sprintf("Blocked: %s cannot be given %s access to %s by adding statements. Nothing will be changed.",
		p.Subject.PrincipalARN, strings.Join(levelNames(p.Grant.Access), ","), p.Grant.Bucket))))
	for _, b := range p.Blockers {
		fmt.Fprintf(w, "  %s %s\n", c.red("x"), b.Message)
		if b.Hint != "" {
			fmt.Fprintf(w, "      fix: %s\n", b.Hint)
		}
	}
}

func renderWarnings(w io.Writer, p *diff.Plan, c palette) {
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, c.yellow("Warnings:"))
		for _, x := range p.Warnings {
			fmt.Fprintf(w, "  %s %s\n", c.yellow("!"), x.Message)
		}
	}
	renderOrg(w, p)
	if len(p.NotEvaluated) > 0 {
		fmt.Fprintf(w, "\nNot evaluated (bucketgrant cannot read them; any of them can still deny): %s.\n", strings.Join(p.NotEvaluated, ", "))
		if p.Organization == nil && p.Operation == diff.PlanGrant {
			fmt.Fprintln(w, "SCPs and RCPs are evaluated with --org-profile or --org-role-arn (credentials of the organization's management account or a delegated administrator).")
		}
	}
}

// renderOrg lists the SCPs and RCPs the decisions took into account.
func renderOrg(w io.Writer, p *diff.Plan) {
	o := p.Organization
	if o == nil {
		return
	}
	fmt.Fprintf(w, "\nOrganization %s (management account %s): evaluated", o.ID, o.ManagementAccount)
	if len(o.Evaluated) == 0 {
		fmt.Fprint(w, " no SCP or RCP")
	}
	fmt.Fprintln(w)
	for _, e := range o.Evaluated {
		name := e.PolicyID
		if e.Name != "" {
			name += " (" + e.Name + ")"
		}
		kind := map[string]string{"root": "root", "ou": "OU", "account": "account"}[e.TargetKind]
		fmt.Fprintf(w, "  %s %s at %s %s (applies to account %s)\n", e.Kind, name, kind, e.Target, e.Account)
	}
	for _, s := range o.NotApplied {
		fmt.Fprintf(w, "  not applied: %s\n", s)
	}
}

func levelNames(ls []diff.Level) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = string(l)
	}
	return out
}

// summary is the plan's last line: "Plan: 3 documents to change: …".
func summary(p *diff.Plan) string {
	var parts []string
	for _, ch := range p.Changes {
		d := ch.Document
		label := strings.ReplaceAll(d.Kind, "-", " ")
		if d.Name != "" {
			label += " " + d.Name
		}
		parts = append(parts, fmt.Sprintf("%s %s", ch.Action, label))
	}
	noun := "documents"
	if len(p.Changes) == 1 {
		noun = "document"
	}
	return fmt.Sprintf("Plan: %d %s to change: %s.", len(p.Changes), noun, strings.Join(parts, ", "))
}

// renderCheck writes the effective access per request.
func renderCheck(w io.Writer, p *diff.Plan, c palette) {
	fmt.Fprintf(w, "Access of %s to %s:\n", p.Subject.PrincipalARN, p.Grant.Bucket)
	for _, r := range p.Requests {
		mark := c.green("allowed")
		switch {
		case r.Before == policy.ExplicitlyDenied:
			mark = c.red("denied ")
		case r.Before == policy.ImplicitlyDenied:
			mark = c.yellow("missing")
		case r.Condition != "":
			mark = c.yellow("if     ")
		}
		fmt.Fprintf(w, "  %s  %-20s %-8s on %s\n", mark, r.Action, "("+string(r.Level)+")", r.Resource)
		fmt.Fprintf(w, "           %s\n", r.Why)
		if r.Condition != "" {
			fmt.Fprintf(w, "           only if %s: bucketgrant cannot read that, so it cannot say the access works\n", r.Condition)
		}
		if len(r.Undecided) > 0 {
			fmt.Fprintf(w, "           decided without %s: requests that carry them may be decided otherwise\n", strings.Join(r.Undecided, ", "))
		}
	}
	if p.Blocked() {
		fmt.Fprintln(w)
		renderBlockers(w, p, c)
	}
	renderWarnings(w, p, c)
}
