package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

func checkCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:        "check",
		Usage:       "show a principal's effective access to a bucket, with the statements that decide it",
		Description: "Exit codes: 0 all requested access is allowed, 1 error, 2 some is missing, 3 blocked.",
		Flags: append(append(selectionFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		), awsFlags()...),
		Action: func(c *cli.Context) error {
			sel, err := readSelection(c, s)
			if err != nil {
				return err
			}
			o := planOptions{format: c.String("format")}
			if err := o.validate(); err != nil {
				return err
			}
			p, err := makePlan(c.Context, sel)
			if err != nil {
				return withDebug(sel.debug, err)
			}
			if o.format == "json" {
				if err := renderJSON(s.out, checkReport(p)); err != nil {
					return err
				}
			} else {
				renderCheck(s.out, p, colorFor(s.out))
			}
			return checkExit(p)
		},
	}
}

// checkResult is check's JSON output: the plan's subject and requests.
type checkResult struct {
	Subject  diff.Subject   `json:"subject"`
	Access   []diff.Level   `json:"access"`
	Allowed  bool           `json:"allowed"`
	Requests []diff.Request `json:"requests"`
	Blockers []diff.Blocker `json:"blockers"`
	Warnings []diff.Warning `json:"warnings"`
}

func checkReport(p *diff.Plan) checkResult {
	return checkResult{Subject: p.Subject, Access: p.Grant.Access, Allowed: allAllowed(p), Requests: p.Requests, Blockers: p.Blockers, Warnings: p.Warnings}
}

func allAllowed(p *diff.Plan) bool {
	if p.Blocked() && len(p.Requests) == 0 {
		return false
	}
	for _, r := range p.Requests {
		if r.Before != "Allowed" {
			return false
		}
	}
	return true
}

func checkExit(p *diff.Plan) error {
	switch {
	case allAllowed(p):
		return nil
	case p.Blocked():
		return &exitCode{code: exitBlocked}
	}
	return &exitCode{code: exitPending}
}
