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

// Exit codes (docs/cli.md): one contract for every command, offline and
// live.
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

// usageError is a command line the tool cannot act on. It is reported in
// one or two lines on stderr, with the command's help to read, never the
// help itself.
type usageError struct {
	msg  string
	cmd  string // the command whose help to point at ("" for the current one)
	root bool   // point at the tool's help, not the command's
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// streams are the command's standard streams, so tests run commands in
// process.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// tty overrides the terminal check of standard input (tests).
	tty *bool
	// noColor is --no-color.
	noColor bool
}

// command is one subcommand: the urfave command that parses its flags and
// runs it, and what its help shows besides the flags.
type command struct {
	*cli.Command
	synopsis []string
	examples []usageExample
	exits    []exitDoc
	// required flags are marked in the help; the action checks them,
	// because some have alternatives (--from-error, a plan file).
	required []string
	// args completes positional arguments: "files" or a fixed list.
	args []string
}

type usageExample struct{ comment, line string }

type exitDoc struct {
	code    int
	meaning string
}

// commands returns every command, in the order help lists them.
func commands(s *streams) []*command {
	cmds := []*command{
		planCommand(s), applyCommand(s), checkCommand(s), revokeCommand(s), rollbackCommand(s),
		snapshotCommand(s), syncCommand(s),
		helpCommand(), versionCommand(), completionCommand(),
	}
	findCommand(cmds, "help").Action = func(c *cli.Context) error {
		switch c.Args().Len() {
		case 0:
			return printRootHelp(s.out, cmds)
		case 1:
			t := findCommand(cmds, c.Args().First())
			if t == nil {
				return unknownCommand(c.Args().First(), cmds)
			}
			return printCommandHelp(s.out, t)
		}
		return usagef("help takes one command name")
	}
	findCommand(cmds, "version").Action = func(c *cli.Context) error {
		if err := noArgs(c); err != nil {
			return err
		}
		fmt.Fprintln(s.out, versionLine())
		return nil
	}
	findCommand(cmds, "completion").Action = completionAction(s)
	return cmds
}

func unknownCommand(name string, cmds []*command) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if sug := suggest(name, visibleCommandNames(cmds)); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	}
	return &usageError{msg: msg, root: true}
}

func findCommand(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// run runs one command line and turns its outcome into an exit code.
func run(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	s := &streams{in: in, out: out, err: errw}
	return runStreams(ctx, s, args)
}

func runStreams(ctx context.Context, s *streams, args []string) int {
	name, err := dispatch(ctx, s, args[1:])
	return report(s, name, err)
}

// dispatch reads the global options and the command name, answers help,
// version and completion itself, checks the command's flags for what the
// flag package lets through (repeats), and runs the command. It returns the
// command's name for the report.
func dispatch(ctx context.Context, s *streams, args []string) (string, error) {
	cmds := commands(s)
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		switch args[0] {
		case "--no-color":
			s.noColor = true
		case "-h", "--help":
			return "", printRootHelp(s.out, cmds)
		case "-v", "--version":
			fmt.Fprintln(s.out, versionLine())
			return "", nil
		default:
			return "", unknownFlag(args[0], nil, globalFlagNames())
		}
		args = args[1:]
	}
	if len(args) == 0 {
		// Like gh and terraform: the bare command shows what there is.
		return "", printRootHelp(s.out, cmds)
	}
	if args[0] == "__complete" {
		complete(s.out, cmds, args[1:])
		return "", nil
	}
	c := findCommand(cmds, args[0])
	if c == nil {
		return "", unknownCommand(args[0], cmds)
	}
	rest, help, err := scanCommandArgs(s, c, args[1:])
	if err != nil {
		return c.Name, err
	}
	if help {
		return c.Name, printCommandHelp(s.out, c)
	}
	app := &cli.App{
		Name:            "bucketgrant",
		Reader:          s.in,
		Writer:          s.out,
		ErrWriter:       s.err,
		HideHelp:        true,
		HideHelpCommand: true,
		HideVersion:     true,
		ExitErrHandler:  func(*cli.Context, error) {}, // report decides exit codes
		Commands:        []*cli.Command{c.Command},
	}
	c.HideHelp = true
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return flagError(c, err) }
	err = app.RunContext(ctx, append([]string{"bucketgrant", c.Name}, rest...))
	return c.Name, err
}

// noArgs refuses positional arguments a command does not take: a stray
// word is most often a flag's value cut off by the shell, and ignoring it
// would plan something else than what was asked.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q (%s takes no arguments; quote values that hold spaces)", c.Args().First(), c.Command.Name)
	}
	return nil
}

// report prints the outcome of a run and returns its exit code.
func report(s *streams, cmd string, err error) int {
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
	var ue *usageError
	if errors.As(err, &ue) {
		where := "bucketgrant"
		if c := first(ue.cmd, cmd); c != "" && !ue.root {
			where += " " + c
		}
		fmt.Fprintf(s.err, "%s: %s\nRun '%s --help' for usage.\n", where, ue.msg, where)
		return exitError
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
		var ie *interruptError
		if errors.As(err, &ie) {
			fmt.Fprintf(s.err, "bucketgrant: %s\n", ie.msg)
		} else {
			fmt.Fprintln(s.err, "bucketgrant: interrupted; nothing was written")
		}
		return exitInterrupted
	}
	fmt.Fprintf(s.err, "bucketgrant: %s\n", describeError(err))
	return exitError
}

// interruptError is an interrupt with a report of its own (what had been
// written when it came).
type interruptError struct{ msg string }

func (e *interruptError) Error() string { return e.msg }
func (e *interruptError) Unwrap() error { return context.Canceled }

var debugEnabled = os.Getenv("BUCKETGRANT_DEBUG") != ""
