package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

// Help is bucketgrant's own, not urfave/cli's templates: it shows each
// command's synopsis, examples and exit codes, marks required flags, names
// each flag's value (--out FILE), and goes to stdout only when asked for.

// placeholders name what each value flag takes.
var placeholders = map[string]string{
	"principal": "ARN", "bucket": "NAME", "access": "LEVELS", "prefix": "PREFIX", "kms-via": "WHERE",
	"from-error": "TEXT", "state": "FILE", "format": "FORMAT", "out": "FILE", "backup-dir": "DIR",
	"profile": "NAME", "principal-profile": "NAME", "resource-profile": "NAME", "principal-role-arn": "ARN", "org-profile": "NAME", "org-role-arn": "ARN",
	"resource-role-arn": "ARN", "region": "REGION", "endpoint-url": "URL", "max-attempts": "N",
	"retry-max-backoff": "DURATION", "timeout": "DURATION", "file": "FILE", "shard": "K/N", "parallel": "N",
	"log-format": "FORMAT", "output": "FILE",
}

func placeholder(name string) string {
	if p, ok := placeholders[name]; ok {
		return p
	}
	return "VALUE"
}

// awsFlagNames are listed apart, under "AWS options".
var awsFlagNames = map[string]bool{}

func init() {
	for _, f := range awsFlagsWithOrg() {
		awsFlagNames[f.Names()[0]] = true
	}
}

var exitCodesText = []exitDoc{
	{exitOK, "done, or nothing to do"},
	{exitError, "error: bad input, an AWS error, a stale plan, a failed write, or the answer was not yes"},
	{exitPending, "changes pending (plan --detailed-exitcode, sync --dry-run --detailed-exitcode) or access missing (check)"},
	{exitBlocked, "blocked: a blocker prevents the grant; nothing was written"},
	{exitInterrupted, "interrupted (Ctrl-C, SIGTERM); the report says what was written"},
}

func printRootHelp(w io.Writer, cmds []*command) error {
	fmt.Fprint(w, `bucketgrant grants an IAM user or role download and upload on an S3 bucket encrypted by default
with a KMS key. It reads the key policy, the principal's IAM policies and the bucket policy, shows
the smallest change as a plan, and writes it after confirmation.

Usage:
  bucketgrant <command> [options]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range cmds {
		if !c.Hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Usage)
		}
	}
	tw.Flush()
	fmt.Fprint(w, `
Examples:
  # The whole job offline, on the bundled example snapshot (no AWS account needed)
  bucketgrant plan --state examples/seed-cross-account.json \
      --principal arn:aws:iam::111122223333:user/Jane --bucket DOC-EXAMPLE-BUCKET

  # Against your account: plan, then apply after reviewing (only "yes" approves)
  bucketgrant plan  --principal arn:aws:iam::111122223333:user/Jane --bucket my-bucket
  bucketgrant apply --principal arn:aws:iam::111122223333:user/Jane --bucket my-bucket

Global options:
  --no-color      no colour (also NO_COLOR=1 or TERM=dumb; colour is only ever used on a terminal)
  -h, --help      show help; 'bucketgrant help COMMAND' for a command's
  -v, --version   show the version

Exit codes:
`)
	printExits(w, exitCodesText)
	fmt.Fprintln(w, "\nRun 'bucketgrant COMMAND --help' for a command's options and examples.")
	return nil
}

func printExits(w io.Writer, exits []exitDoc) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range exits {
		fmt.Fprintf(tw, "  %d\t%s\n", e.code, e.meaning)
	}
	tw.Flush()
}

func printCommandHelp(w io.Writer, c *command) error {
	fmt.Fprintf(w, "bucketgrant %s: %s\n\nUsage:\n", c.Name, c.Usage)
	for _, s := range c.synopsis {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if c.Description != "" {
		fmt.Fprintf(w, "\n%s\n", c.Description)
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for i, e := range c.examples {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if e.comment != "" {
				fmt.Fprintf(w, "  # %s\n", e.comment)
			}
			fmt.Fprintf(w, "  %s\n", e.line)
		}
	}
	var own, aws []cli.Flag
	for _, f := range c.Flags {
		switch {
		case isHidden(f):
		case awsFlagNames[f.Names()[0]]:
			aws = append(aws, f)
		default:
			own = append(own, f)
		}
	}
	if len(own) > 0 {
		fmt.Fprintln(w, "\nOptions:")
		printFlags(w, c, own)
	}
	if len(aws) > 0 {
		fmt.Fprintln(w, "\nAWS options:")
		printFlags(w, c, aws)
	}
	fmt.Fprintln(w, "\nGlobal options:\n  --no-color   no colour (also NO_COLOR=1 or TERM=dumb)\n  -h, --help   show this help")
	if len(c.exits) > 0 {
		fmt.Fprintln(w, "\nExit codes:")
		printExits(w, c.exits)
	}
	return nil
}

func printFlags(w io.Writer, c *command, flags []cli.Flag) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range flags {
		names := f.Names()
		var spelled []string
		for _, n := range names {
			spelled = append(spelled, dashed(n))
		}
		left := strings.Join(spelled, ", ")
		if _, isBool := f.(*cli.BoolFlag); !isBool {
			left += " " + placeholder(names[0])
		}
		usage := ""
		if d, ok := f.(cli.DocGenerationFlag); ok {
			usage = d.GetUsage()
			if def := defaultOf(f); def != "" {
				usage += " (default: " + def + ")"
			}
			if env := d.GetEnvVars(); len(env) > 0 {
				usage += " [$" + strings.Join(env, ", $") + "]"
			}
		}
		for _, r := range c.required {
			if r == names[0] {
				usage = "required; " + usage
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\n", left, usage)
	}
	tw.Flush()
}

func defaultOf(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.StringFlag:
		if f.DefaultText != "" {
			return f.DefaultText
		}
		return f.Value
	case *cli.IntFlag:
		if f.DefaultText != "" {
			return f.DefaultText
		}
		if f.Value != 0 {
			return fmt.Sprint(f.Value)
		}
	case *cli.DurationFlag:
		if f.DefaultText != "" {
			return f.DefaultText
		}
		if f.Value != 0 {
			return f.Value.String()
		}
	}
	return ""
}

// helpCommand is `bucketgrant help [COMMAND]`.
func helpCommand() *command {
	return &command{
		Command: &cli.Command{
			Name:  "help",
			Usage: "show help for bucketgrant or one of its commands",
			// The action is in dispatchHelp: it needs the command list.
		},
		synopsis: []string{"bucketgrant help [COMMAND]"},
		examples: []usageExample{{"", "bucketgrant help apply"}},
		exits:    []exitDoc{{exitOK, "help shown"}, {exitError, "no such command"}},
		args:     []string{"commands"},
	}
}

// versionCommand is `bucketgrant version`.
func versionCommand() *command {
	return &command{
		Command: &cli.Command{
			Name:  "version",
			Usage: "show the version",
		},
		synopsis: []string{"bucketgrant version", "bucketgrant --version"},
		exits:    []exitDoc{{exitOK, "version shown"}},
	}
}
