package main

import (
	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

func checkCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "check",
			Usage: "show a principal's effective access to a bucket, with the statements that decide it",
			Description: "Evaluates every request the access levels need (S3 and, for a KMS-encrypted bucket, KMS) against\n" +
				"today's documents, and shows per request whether it is allowed and which statements decide it.\n" +
				"Nothing is written.",
			Flags: append(append(selectionFlags(),
				&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, or json (docs/schemas/check.schema.json)"},
			), awsFlagsWithOrg()...),
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				sel, err := readSelection(c, s)
				if err != nil {
					return err
				}
				format := c.String("format")
				if err := checkFormat(format, "text", "json"); err != nil {
					return err
				}
				p, err := makePlan(c.Context, sel)
				if err != nil {
					return withDebug(sel.debug, err)
				}
				if format == "json" {
					if err := writeJSON(s.out, checkReport(p)); err != nil {
						return err
					}
				} else {
					renderCheck(s.out, p, s.colorFor(s.out))
				}
				return checkExit(p)
			},
		},
		synopsis: []string{"bucketgrant check --principal ARN --bucket NAME [--access LEVELS] [--prefix P] [--state FILE] [--format text|json]"},
		required: []string{"principal", "bucket"},
		examples: []usageExample{
			{"Offline, on the bundled example snapshot", "bucketgrant check " + exampleOnDisk + " --principal " + exampleJane + " --bucket DOC-EXAMPLE-BUCKET"},
			{"Live, as data", "bucketgrant check --principal " + exampleJane + " --bucket my-bucket --format json | jq '.requests[] | select(.before != \"Allowed\")'"},
		},
		exits: []exitDoc{
			{exitOK, "every requested access is allowed"},
			{exitError, "error: bad input, an AWS error, a principal, bucket or key that does not exist"},
			{exitPending, "some access is missing (bucketgrant apply would add it), or allowed only if a condition bucketgrant cannot check holds"},
			{exitBlocked, "blocked: a blocker prevents the grant"},
			{exitInterrupted, "interrupted"},
		},
	}
}

// checkResult is check's JSON output (docs/schemas/check.schema.json).
type checkResult struct {
	Format       string         `json:"format"`
	ToolVersion  string         `json:"tool_version"`
	Subject      diff.Subject   `json:"subject"`
	Access       []diff.Level   `json:"access"`
	Allowed      bool           `json:"allowed"`
	Blocked      bool           `json:"blocked"`
	Requests     []diff.Request `json:"requests"`
	Blockers     []diff.Blocker `json:"blockers"`
	Warnings     []diff.Warning `json:"warnings"`
	NotEvaluated []string       `json:"not_evaluated"`
	// Organization lists the SCPs and RCPs evaluated, when read.
	Organization *diff.Organization `json:"organization,omitempty"`
}

func checkReport(p *diff.Plan) checkResult {
	return checkResult{Format: formatCheck, ToolVersion: versionString(), Subject: p.Subject, Access: p.Grant.Access,
		Allowed: allAllowed(p), Blocked: p.Blocked(), Requests: nonNil(p.Requests), Blockers: nonNil(p.Blockers),
		Warnings: nonNil(p.Warnings), NotEvaluated: nonNil(p.NotEvaluated), Organization: p.Organization}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func allAllowed(p *diff.Plan) bool {
	if p.Blocked() && len(p.Requests) == 0 {
		return false
	}
	for _, r := range p.Requests {
		// "Allowed if aws:PrincipalTag/team = data" is not access
		// bucketgrant can vouch for.
		if r.Before != policy.Allowed || r.Condition != "" {
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
