package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// Exit codes (design.md, "Command line").
const (
	exitOK          = 0
	exitError       = 1
	exitPending     = 2 // changes pending (--detailed-exitcode), or check found access missing
	exitBlocked     = 3 // a blocker prevents the grant; nothing was written
	exitInterrupted = 130
)

// exitCode carries a non-error outcome's exit code (pending, blocked) up to
// run, which is the one place codes are decided.
type exitCode struct {
	code int
	msg  string
}

func (e *exitCode) Error() string { return e.msg }

// usageError is a command line the tool cannot act on.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// streams are the command's standard streams, so tests run commands in
// process.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// tty overrides the terminal check of standard input (tests).
	tty *bool
}

func newApp(s streams) *cli.App {
	return &cli.App{
		Name:    "bucketgrant",
		Usage:   "grant an IAM principal download and upload on a KMS-encrypted S3 bucket, safely",
		Version: version,
		Description: "bucketgrant reads the KMS key policy, the principal's IAM policies and the bucket policy,\n" +
			"works out exactly what is missing, shows the change as a plan, and after confirmation\n" +
			"writes the merged documents back. Without AWS credentials at hand, --state FILE runs the\n" +
			"whole job on a snapshot file.",
		Reader:                 s.in,
		Writer:                 s.out,
		ErrWriter:              s.err,
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		ExitErrHandler:         func(*cli.Context, error) {}, // run decides exit codes
		Commands: []*cli.Command{
			planCommand(s),
			checkCommand(s),
			snapshotCommand(s),
			applyCommand(s),
			revokeCommand(s),
			rollbackCommand(s),
			syncCommand(s),
		},
	}
}

// run runs the app and turns its outcome into an exit code.
func run(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	s := streams{in: in, out: out, err: errw}
	app := newApp(s)
	err := app.RunContext(ctx, flagsFirst(app, args))
	return report(s, err)
}

// flagsFirst moves a command's flags ahead of its arguments, so that
// `apply PLAN.json --yes` works as the synopsis shows: urfave/cli stops
// reading flags at the first argument. A flag's value stays with it; "--"
// ends the flags.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, rest []string
	tokens := args[2:]
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		switch {
		case t == "--":
			rest = append(rest, tokens[i:]...)
			i = len(tokens)
		case strings.HasPrefix(t, "-") && len(t) > 1:
			flags = append(flags, t)
			name := strings.TrimLeft(t, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(tokens) {
				i++
				flags = append(flags, tokens[i])
			}
		default:
			rest = append(rest, t)
		}
	}
	return append(append(append([]string{}, args[:2]...), flags...), rest...)
}

func report(s streams, err error) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCode
	if errors.As(err, &ec) {
		if ec.msg != "" {
			fmt.Fprintln(s.err, ec.msg)
		}
		return ec.code
	}
	var partial *apply.PartialError
	if errors.As(err, &partial) {
		// Its report says what was written, what not and where the backup
		// is, also when an interrupt stopped a write in flight.
		fmt.Fprintf(s.err, "bucketgrant: %s\n", describeError(err))
		if errors.Is(err, context.Canceled) {
			return exitInterrupted
		}
		return exitError
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.err, "bucketgrant: interrupted; nothing more was written")
		return exitInterrupted
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(s.err, "bucketgrant: %s\nRun 'bucketgrant --help' for usage.\n", ue.msg)
		return exitError
	}
	fmt.Fprintf(s.err, "bucketgrant: %s\n", describeError(err))
	return exitError
}

var debugEnabled = os.Getenv("BUCKETGRANT_DEBUG") != ""
