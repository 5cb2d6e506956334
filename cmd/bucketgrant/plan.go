package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

func planCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what must change for a principal to download from and upload to a bucket",
		Description: "Reads the key policy, the principal's IAM policies and the bucket policy, and shows the\n" +
			"smallest change that grants the access, with the reason for each statement.\n" +
			"Nothing is written. Exit codes: 0 done, 1 error, 2 changes pending (with\n" +
			"--detailed-exitcode), 3 blocked.",
		Flags: append(append(selectionFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
			&cli.StringFlag{Name: "out", Usage: "save the plan to this file, for `bucketgrant apply FILE`"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when there are changes to make"},
		), awsFlags()...),
		Action: func(c *cli.Context) error {
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
	}
}

type planOptions struct {
	format   string
	out      string
	detailed bool
}

func (o planOptions) validate() error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: use text or json", o.format)
	}
	return nil
}

// makePlan reads the state and plans the selection.
func makePlan(ctx context.Context, sel *selection) (*diff.Plan, error) {
	st, err := loadState(ctx, sel)
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

func runPlan(ctx context.Context, sel *selection, o planOptions, s streams) error {
	p, err := makePlan(ctx, sel)
	if err != nil {
		return err
	}
	if o.format == "json" {
		if err := renderJSON(s.out, p); err != nil {
			return err
		}
	} else {
		renderPlan(s.out, p, colorFor(s.out))
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
