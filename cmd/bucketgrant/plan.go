package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

const (
	exampleJane   = "arn:aws:iam::111122223333:user/Jane"
	exampleOnDisk = "--state examples/seed-cross-account.json"
)

func planCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "plan",
			Usage: "show what must change for a principal to download from and upload to a bucket",
			Description: "Reads the key policy, the principal's IAM policies and the bucket policy (from AWS, or from\n" +
				"--state FILE), and shows the smallest change that grants the access, per document, with the\n" +
				"reason for each statement. Nothing is written. --out saves the plan for 'bucketgrant apply FILE'.",
			Flags: append(append(selectionFlags(), dropOldKeysFlag(),
				&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, or json (the plan as data: docs/plan-schema.md)"},
				&cli.StringFlag{Name: "out", Usage: "also save the plan to this file (mode 0600), to apply it later with: bucketgrant apply FILE"},
				&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes to make"},
			), awsFlagsWithOrg()...),
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				sel, err := readSelection(c, s)
				if err != nil {
					return err
				}
				o := planOptions{format: c.String("format"), out: c.String("out"), detailed: c.Bool("detailed-exitcode")}
				if err := o.validate(); err != nil {
					return err
				}
				return withDebug(sel.debug, runPlan(c.Context, sel, o, s))
			},
		},
		synopsis: []string{"bucketgrant plan --principal ARN --bucket NAME [--access LEVELS] [--prefix P] [--state FILE] [--format text|json] [--out FILE]"},
		required: []string{"principal", "bucket"},
		examples: []usageExample{
			{"Offline, on the bundled example snapshot", "bucketgrant plan " + exampleOnDisk + " --principal " + exampleJane + " --bucket DOC-EXAMPLE-BUCKET"},
			{"Live, read access only, saved for review and a later apply", "bucketgrant plan --principal " + exampleJane + " --bucket my-bucket --access read --out plan.json"},
			{"From a pasted AccessDenied message", "bucketgrant plan --from-error 'User: arn:aws:iam::111122223333:user/Jane is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::my-bucket/x\"'"},
			{"In CI: exit 2 when a change is pending", "bucketgrant plan --principal " + exampleJane + " --bucket my-bucket --detailed-exitcode"},
		},
		exits: []exitDoc{
			{exitOK, "planned (with or without changes)"},
			{exitError, "error: bad input, an AWS error, a principal, bucket or key that does not exist"},
			{exitPending, "changes pending (with --detailed-exitcode)"},
			{exitBlocked, "blocked: a blocker prevents the grant"},
			{exitInterrupted, "interrupted"},
		},
	}
}

type planOptions struct {
	format   string
	out      string
	detailed bool
}

func (o planOptions) validate() error {
	return checkFormat(o.format, "text", "json")
}

// makePlan reads the state and plans the selection.
func makePlan(ctx context.Context, sel *selection) (*diff.Plan, error) {
	st, err := loadState(ctx, sel, true)
	if err != nil {
		return nil, err
	}
	p, err := diff.Make(st, sel.Options)
	if err != nil {
		return nil, err
	}
	p.Seal()
	return p, nil
}

func runPlan(ctx context.Context, sel *selection, o planOptions, s *streams) error {
	p, err := makePlan(ctx, sel)
	if err != nil {
		return err
	}
	if o.format == "json" {
		if err := writeJSON(s.out, p); err != nil {
			return err
		}
	} else {
		renderPlan(s.out, p, s.colorFor(s.out))
	}
	if o.out != "" {
		var buf jsonBuffer
		if err := renderJSON(&buf, p); err != nil {
			return err
		}
		if err := writeFile(o.out, buf.Bytes()); err != nil {
			return fmt.Errorf("saving the plan: %w", err)
		}
		fmt.Fprintf(s.err, "Saved the plan to %s; apply it with: bucketgrant apply %s\n", o.out, o.out)
	}
	return planExit(p, o.detailed)
}

// planExit maps a plan to the exit code of plan: 3 blocked, 2 pending with
// --detailed-exitcode.
func planExit(p *diff.Plan, detailed bool) error {
	switch {
	case p.Blocked():
		return &exitCode{code: exitBlocked}
	case detailed && !p.Empty():
		return &exitCode{code: exitPending}
	}
	return nil
}
