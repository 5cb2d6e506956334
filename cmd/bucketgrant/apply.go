package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"io"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

func writeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "write without asking (for scripts and schedulers)"},
		&cli.StringFlag{Name: "backup-dir", Usage: "save backups here (default: $XDG_STATE_HOME/bucketgrant/backups)", EnvVars: []string{"BUCKETGRANT_BACKUP_DIR"}},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, or json (the result: docs/schemas/apply-result.schema.json; the plan and prompt then go to stderr)"},
	}
}

var writeExits = []exitDoc{
	{exitOK, "written and verified, or no changes"},
	{exitError, "error: bad input, an AWS error, a stale plan, a failed write, or the answer was not yes"},
	{exitBlocked, "blocked: nothing was written"},
	{exitInterrupted, "interrupted: at the prompt nothing was written; during writes the report says what was"},
}

func applyCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "apply",
			Usage: "plan, confirm and write the change, then verify the principal's access",
			Description: "Without PLAN.json, apply plans like plan, shows the plan and asks; only 'yes' approves, and\n" +
				"without a terminal it needs --yes. With PLAN.json it applies that saved plan exactly, and refuses\n" +
				"it if any document changed since. Every document is backed up before the first write;\n" +
				"'bucketgrant rollback BACKUP' restores them. With nothing to change it says so and exits 0.",
			Flags: append(append(append(selectionFlags(), dropOldKeysFlag()), writeFlags()...), awsFlagsWithOrg()...),
			Action: func(c *cli.Context) error {
				if c.Args().Len() > 1 {
					return usagef("apply takes at most one plan file, got %d arguments", c.Args().Len())
				}
				w, err := newWriteRun(c, s)
				if err != nil {
					return err
				}
				defer w.unlock()
				var p *diff.Plan
				if path := c.Args().First(); path != "" {
					if p, err = readPlanFile(path); err != nil {
						return err
					}
					w.fromFile = true
					w.sel.Principal, w.sel.Bucket = p.Grant.Principal, p.Grant.Bucket
					w.sel.Options = optionsOf(p)
					if err := checkPlanOrg(p, w.sel); err != nil {
						return err
					}
				} else {
					if err := w.needSelection(c); err != nil {
						return err
					}
					if p, err = makePlan(c.Context, w.sel); err != nil {
						return withDebug(w.sel.debug, err)
					}
				}
				return withDebug(w.sel.debug, w.apply(c.Context, p, verifyGrant))
			},
		},
		synopsis: []string{
			"bucketgrant apply --principal ARN --bucket NAME [--access LEVELS] [--prefix P] [--state FILE] [--yes]",
			"bucketgrant apply PLAN.json [--yes]",
		},
		required: []string{"principal", "bucket"},
		examples: []usageExample{
			{"Plan, review and confirm in a terminal", "bucketgrant apply --principal " + exampleJane + " --bucket my-bucket"},
			{"Apply a plan saved and reviewed earlier (refused if anything changed since)", "bucketgrant apply plan.json --yes"},
			{"Offline: write the change into a copy of the example snapshot", "cp examples/seed-cross-account.json state.json\n  bucketgrant apply --state state.json --principal " + exampleJane + " --bucket DOC-EXAMPLE-BUCKET --yes"},
		},
		exits: writeExits,
	}
}

func revokeCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "revoke",
			Usage: "remove bucketgrant's statements for a principal and bucket, and nothing else",
			Description: "Removes only the statements bucketgrant wrote (recognised by their Sid) and bucketgrant's own\n" +
				"inline or managed policy, through the same plan, confirmation, backup and stale checks as apply.\n" +
				"Give the same --prefix as the grant. It works for a principal that no longer exists too.",
			Flags: append(append(selectionFlags(), writeFlags()...), awsFlags()...),
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				w, err := newWriteRun(c, s)
				if err != nil {
					return err
				}
				defer w.unlock()
				if err := w.needSelection(c); err != nil {
					return err
				}
				st, err := loadState(c.Context, w.sel, false)
				if err != nil {
					return withDebug(w.sel.debug, err)
				}
				p, err := diff.Revoke(st, w.sel.Options)
				if err != nil {
					return err
				}
				p.Seal()
				return withDebug(w.sel.debug, w.apply(c.Context, p, verifyRevoke))
			},
		},
		synopsis: []string{"bucketgrant revoke --principal ARN --bucket NAME [--prefix P] [--state FILE] [--yes]"},
		required: []string{"principal", "bucket"},
		examples: []usageExample{
			{"Take back what bucketgrant granted Jane", "bucketgrant revoke --principal " + exampleJane + " --bucket my-bucket"},
		},
		exits: writeExits,
	}
}

func rollbackCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "rollback",
			Usage: "restore the documents saved in a backup",
			Description: "Restores every document of the backup to its content before the apply that made it (a document\n" +
				"the apply created is deleted, one it deleted is created again), refusing any document that\n" +
				"changed since that apply wrote it. Backups are in --backup-dir (default\n" +
				"$XDG_STATE_HOME/bucketgrant/backups); apply prints the path of the one it made.",
			Flags: append(append([]cli.Flag{
				&cli.StringFlag{Name: "state", Usage: "the backup was made by apply --state on this snapshot file"},
				&cli.StringFlag{Name: "grants-file", Aliases: []string{"f"}, Usage: "take each account's credentials from this grants file's credentials section (for a sync's backup whose documents span accounts)", TakesFile: true},
			}, writeFlags()...), awsFlags()...),
			Action: func(c *cli.Context) error {
				if c.Args().Len() != 1 {
					return usagef("rollback takes one backup file, got %d arguments", c.Args().Len())
				}
				w, err := newWriteRun(c, s)
				if err != nil {
					return err
				}
				defer w.unlock()
				b, err := apply.ReadBackup(c.Args().First())
				if err != nil {
					return err
				}
				if strings.HasPrefix(b.Store, "state file") && w.sel.statePath == "" {
					return usagef("the backup was made on a %s; give it with --state", b.Store)
				}
				if path := c.String("grants-file"); path != "" {
					if w.sel.statePath != "" {
						return usagef("--grants-file gives credentials for AWS; a rollback with --state needs none")
					}
					if err := w.useGrantsFile(c, path); err != nil {
						return err
					}
				}
				p, err := apply.RollbackPlan(b, versionString())
				if err != nil {
					return err
				}
				w.sel.Principal, w.sel.Bucket, w.backup = b.Principal, b.Bucket, b
				return withDebug(w.sel.debug, w.apply(c.Context, p, nil))
			},
		},
		synopsis: []string{"bucketgrant rollback BACKUP [--state FILE] [--yes]"},
		args:     []string{"files"},
		examples: []usageExample{
			{"Undo an apply, with the backup path it printed", "bucketgrant rollback ~/.local/state/bucketgrant/backups/2025-01-31T10-00-00Z-….json"},
		},
		exits: writeExits,
	}
}

// writeRun is one apply, revoke or rollback.
type writeRun struct {
	s         *streams
	name      string
	sel       *selection
	yes       bool
	backupDir string
	format    string
	// lock is the snapshot's lock, held from the first read to the last
	// write when nobody is asked to confirm (--yes): a second writer then
	// waits and plans on what the first one wrote, instead of being
	// refused as stale.
	lock *apply.StateLock
	// backup is the backup a rollback restores: it says whose each
	// identity document is and where each bucket is.
	backup *apply.Backup
	// accounts, when set (rollback --grants-file), reach each document
	// with its own account's credentials instead of --principal-* and
	// --resource-*.
	accounts *grantsync.Accounts
	// callerFor names who writes each key policy, with accounts.
	callerFor func(key diff.DocRef) *policy.Caller
	// fromFile: the plan was read from a file (apply PLAN.json), so it
	// may be hours old.
	fromFile bool
}

// useGrantsFile makes the run reach every account with the credentials of
// a grants file, as sync does.
func (w *writeRun) useGrantsFile(c *cli.Context, path string) error {
	f, err := grantsync.LoadFile(path)
	if err != nil {
		return err
	}
	o := w.sel.aws
	w.accounts = &grantsync.Accounts{Creds: f.Credentials, EndpointURL: o.EndpointURL, Region: o.Region,
		MaxAttempts: o.MaxAttempts, MaxBackoff: o.MaxBackoff, Timeout: o.Timeout}
	// AWS_PROFILE (which also sets --profile) is the default chain's, which
	// a grants file's entries may use; only flags given on the command line
	// contradict it.
	for _, name := range []string{"profile", "principal-profile", "resource-profile", "principal-role-arn", "resource-role-arn"} {
		if c.IsSet(name) && flagOnCommandLine(name) {
			return usagef("--%s and --grants-file both say which credentials to use; give one", name)
		}
	}
	return nil
}

// flagOnCommandLine says whether --name (or -name, --name=...) is among the
// process's arguments, as opposed to set from its environment variable.
func flagOnCommandLine(name string) bool {
	for _, a := range os.Args[1:] {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func (w *writeRun) unlock() { _ = w.lock.Unlock() }

func newWriteRun(c *cli.Context, s *streams) (*writeRun, error) {
	sel := &selection{statePath: c.String("state"), debug: c.Bool("debug") || debugEnabled}
	sel.aws = awsOptions(c, s, sel.debug)
	orgOptions(c, &sel.aws)
	sel.ToolVersion = versionString()
	w := &writeRun{s: s, name: c.Command.Name, sel: sel, yes: c.Bool("yes"), backupDir: c.String("backup-dir"), format: c.String("format")}
	if err := checkFormat(w.format, "text", "json"); err != nil {
		return nil, err
	}
	if w.yes && sel.statePath != "" {
		// Without --yes the lock is taken only for the write (by
		// apply.Apply): a person deciding must not hold other writers up.
		l, err := apply.LockStateFile(c.Context, sel.statePath, -1)
		if err != nil {
			return nil, err
		}
		w.lock = l
	}
	return w, nil
}

// needSelection reads the selection flags, for a run without a plan file.
func (w *writeRun) needSelection(c *cli.Context) error {
	sel, err := readSelection(c, w.s)
	if err != nil {
		return err
	}
	w.sel = sel
	return nil
}

func readPlanFile(path string) (*diff.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	return diff.ReadPlan(path, data)
}

// optionsOf recovers the planning options a plan was made with, for the
// verification after applying it.
func optionsOf(p *diff.Plan) diff.Options {
	g := p.Grant
	return diff.Options{Principal: g.Principal, Bucket: g.Bucket, Access: g.Access, Prefix: g.Prefix, KMSVia: g.KMSVia,
		KMSThroughS3: g.KMSThroughS3, RemoveOrphanedPrincipals: g.RemoveOrphanedPrincipals, DropOldKeys: g.DropOldKeys, ToolVersion: versionString()}
}

// verifier checks the result of a write run and says what it found; nil
// skips the check.
type verifier func(ctx context.Context, w *writeRun, p *diff.Plan) (string, error)

// The statuses of an apply result (docs/schemas/apply-result.schema.json).
const (
	statusApplied     = "applied"
	statusNoChanges   = "no-changes"
	statusBlocked     = "blocked"
	statusDeclined    = "declined"
	statusNeedsYes    = "needs-confirmation"
	statusInterrupted = "interrupted"
	statusFailed      = "failed"
)

// applyResult is the JSON output of apply, revoke and rollback: the plan,
// what became of it, and where the backup is.
type applyResult struct {
	Format       string        `json:"format"`
	ToolVersion  string        `json:"tool_version"`
	Operation    string        `json:"operation"`
	Status       string        `json:"status"`
	Written      []diff.DocRef `json:"written"`
	NotWritten   []diff.DocRef `json:"not_written"`
	MaybeWritten []diff.DocRef `json:"maybe_written"`
	Backup       string        `json:"backup,omitempty"`
	Verified     bool          `json:"verified"`
	Verification string        `json:"verification,omitempty"`
	Error        string        `json:"error,omitempty"`
	Plan         *diff.Plan    `json:"plan"`
}

func (w *writeRun) apply(ctx context.Context, p *diff.Plan, verify verifier) error {
	res := &applyResult{Format: formatResult, ToolVersion: versionString(), Operation: p.Operation, Plan: p,
		Written: []diff.DocRef{}, NotWritten: []diff.DocRef{}, MaybeWritten: []diff.DocRef{}}
	for _, ch := range p.Changes {
		res.NotWritten = append(res.NotWritten, ch.Document)
	}
	err := w.applyPlan(ctx, p, verify, res)
	if w.format == "json" && res.Status != "" {
		if err != nil && res.Error == "" {
			res.Error = err.Error()
		}
		if jerr := writeJSON(w.s.out, res); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

func (w *writeRun) applyPlan(ctx context.Context, p *diff.Plan, verify verifier, res *applyResult) error {
	text := w.format == "text"
	// The plan for people: stdout in text mode; in JSON mode stdout is for
	// the result only, so a plan shown before the prompt goes to stderr.
	show := func(to io.Writer) { renderPlan(to, p, w.s.colorFor(to)) }
	if p.Blocked() {
		if text {
			show(w.s.out)
		}
		res.Status = statusBlocked
		return &exitCode{code: exitBlocked}
	}
	if p.Empty() {
		if text {
			if len(p.Requests) > 0 {
				show(w.s.out)
			} else {
				fmt.Fprintln(w.s.out, "No changes.")
			}
		}
		res.Status = statusNoChanges
		return nil
	}
	if !w.yes {
		if !canPrompt(w.s) {
			if text {
				show(w.s.out)
			}
			res.Status = statusNeedsYes
			return usagef("%s would write %d document(s) and needs confirmation: run it in a terminal, or pass --yes", w.name, len(p.Changes))
		}
		if text {
			show(w.s.out)
		} else {
			show(w.s.err)
		}
		ok, err := confirm(ctx, w.s)
		if err != nil {
			res.Status = statusInterrupted
			return &interruptError{msg: "interrupted at the confirmation prompt; nothing was written"}
		}
		if !ok {
			res.Status = statusDeclined
			return &exitCode{code: exitError, msg: "Not applied: only 'yes' approves. Nothing was written."}
		}
	} else if text {
		show(w.s.out)
	}
	if ctx.Err() != nil {
		res.Status = statusInterrupted
		return &interruptError{msg: "interrupted before the first write; nothing was written"}
	}
	store, caller, err := w.store(ctx, p)
	if err != nil {
		res.Status = statusFailed
		return err
	}
	opts := apply.Options{
		BackupDir: w.backupDir, KeyPolicyCaller: caller, KeyPolicyCallerFor: w.callerFor,
		Logf: func(format string, args ...any) { fmt.Fprintf(w.s.err, format+"\n", args...) },
		// A saved plan, or one a person took time to confirm: the SCPs,
		// RCPs and KMS grants its verdicts rest on are read again too
		// (inputs.go). Planned and written at once (--yes), they are not:
		// the verification after the write reads them anyway.
		CheckInputs: w.fromFile || !w.yes,
	}
	if w.backup != nil {
		// A rollback's own backup records whose each identity document is
		// and where each bucket is, as the backup it restores did, so that
		// it can be rolled back too (a sync's plan has no one subject).
		opts.PrincipalOf, opts.RegionOf = w.backup.PrincipalOf, w.backup.RegionOf
	}
	r, err := apply.Apply(ctx, store, p, opts)
	if r != nil {
		res.Written, res.Backup = nonNil(r.Written), r.BackupPath
	}
	var over *apply.LimitError
	if errors.As(err, &over) {
		// A limit is a blocker found at write time: exit 3, nothing written.
		res.Status = statusBlocked
		return &exitCode{code: exitBlocked, msg: "bucketgrant: " + err.Error()}
	}
	if err != nil {
		res.Status = statusFailed
		if errors.Is(err, context.Canceled) {
			res.Status = statusInterrupted
		}
		var partial *apply.PartialError
		var stale *apply.StaleError
		switch {
		case errors.As(err, &partial):
			res.Written, res.Backup = nonNil(partial.Written), partial.Backup
			res.NotWritten = nonNil(partial.NotWritten)
			if errors.Is(err, context.Canceled) {
				res.MaybeWritten = []diff.DocRef{partial.Failed}
			} else {
				res.NotWritten = append([]diff.DocRef{partial.Failed}, res.NotWritten...)
			}
		case errors.As(err, &stale):
			res.Written, res.Backup = nonNil(stale.Written), first(stale.Backup, res.Backup)
			res.NotWritten = notIn(res.NotWritten, res.Written)
		default:
			res.NotWritten = notIn(res.NotWritten, res.Written)
		}
		return err
	}
	res.Status, res.NotWritten = statusApplied, []diff.DocRef{}
	if text {
		fmt.Fprintf(w.s.out, "\nWrote %d document(s). Backup: %s\n", len(r.Written), r.BackupPath)
	} else {
		fmt.Fprintf(w.s.err, "Wrote %d document(s). Backup: %s\n", len(r.Written), r.BackupPath)
	}
	if verify == nil {
		return nil
	}
	msg, err := verify(ctx, w, p)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &interruptError{msg: fmt.Sprintf("interrupted after the write: %d document(s) were written (backup: %s); the verification did not run: run bucketgrant check", len(r.Written), r.BackupPath)}
		}
		return err
	}
	res.Verified, res.Verification = true, msg
	if text {
		fmt.Fprintln(w.s.out, msg)
	}
	return nil
}

// notIn returns the documents of all that are not in done.
func notIn(all, done []diff.DocRef) []diff.DocRef {
	out := []diff.DocRef{}
	for _, d := range all {
		found := false
		for _, x := range done {
			found = found || x.ID() == d.ID()
		}
		if !found {
			out = append(out, d)
		}
	}
	return out
}

// store builds where the plan is written, and the identity that will write
// the key policy (for the lockout check).
func (w *writeRun) store(ctx context.Context, p *diff.Plan) (apply.Store, *policy.Caller, error) {
	if w.sel.statePath != "" {
		principalOf := func(diff.DocRef) string { return p.Subject.PrincipalARN }
		if w.backup != nil {
			principalOf = w.backup.PrincipalOf
		}
		st, err := apply.NewStateStoreFor(w.sel.statePath, principalOf)
		if err != nil {
			return nil, nil, err
		}
		if w.lock != nil {
			st.UnderLock(w.lock)
		}
		return st, nil, nil
	}
	if w.accounts != nil {
		return w.multiAccountStore(ctx, p)
	}
	cl, err := awsstate.LoadClients(ctx, w.sel.aws)
	if err != nil {
		return nil, nil, err
	}
	if w.backup != nil {
		if err := checkRollbackReach(ctx, cl, w.backup); err != nil {
			return nil, nil, err
		}
	}
	var mu sync.Mutex
	kmsc, s3c := map[string]*kms.Client{}, map[string]*s3.Client{}
	store := &apply.AWSStore{
		IAM:       iam.NewFromConfig(cl.Principal),
		Principal: p.Subject.PrincipalARN, BucketRegion: p.Subject.BucketRegion,
		PrincipalLabel: cl.PrincipalLabel, ResourceLabel: cl.ResourceLabel,
		KMS: func(region string) apply.KMSAPI {
			mu.Lock()
			defer mu.Unlock()
			if kmsc[region] == nil {
				kmsc[region] = kms.NewFromConfig(cl.Resource, func(o *kms.Options) { o.Region = first(region, o.Region) })
			}
			return kmsc[region]
		},
		S3: func(region string) apply.S3API {
			mu.Lock()
			defer mu.Unlock()
			if s3c[region] == nil {
				s3c[region] = s3.NewFromConfig(cl.Resource, func(o *s3.Options) {
					o.Region = first(region, o.Region)
					o.UsePathStyle = o.UsePathStyle || cl.PathStyle
				})
			}
			return s3c[region]
		},
	}
	if w.backup != nil {
		store.PrincipalOf, store.RegionOf = w.backup.PrincipalOf, w.backup.RegionOf
	}
	var caller *policy.Caller
	for _, ch := range p.Changes {
		if ch.Document.Kind == diff.DocKeyPolicy {
			id, err := sts.NewFromConfig(cl.Resource).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return nil, nil, awsstate.Classify(err, "sts:GetCallerIdentity", "", cl.ResourceLabel)
			}
			caller = &policy.Caller{ARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account)}
			break
		}
	}
	grants := func(region string) awsstate.GrantsAPI {
		g, _ := store.KMS(region).(awsstate.GrantsAPI) // a *kms.Client
		return g
	}
	return &inputStore{AWSStore: store, opts: w.sel.aws, grants: grants, label: cl.ResourceLabel}, caller, nil
}

// verifyGrant reads every document again and evaluates the grant: the
// access must now be allowed.
func verifyGrant(ctx context.Context, w *writeRun, p *diff.Plan) (string, error) {
	sel := *w.sel
	sel.Options = optionsOf(p)
	again, err := makePlan(ctx, &sel)
	if err != nil {
		return "", fmt.Errorf("verifying after the write: %w", err)
	}
	var missing []string
	for _, r := range again.Requests {
		if r.Before != policy.Allowed {
			missing = append(missing, fmt.Sprintf("%s on %s (%s)", r.Action, r.Resource, r.Why))
		}
	}
	if len(missing) > 0 || again.Blocked() {
		return "", &exitCode{code: exitError, msg: "bucketgrant: the documents were written, but the access is still not allowed:\n  " + strings.Join(missing, "\n  ")}
	}
	var conds []string
	for _, r := range again.Requests {
		if r.Condition != "" && !slices.Contains(conds, r.Condition) {
			conds = append(conds, r.Condition)
		}
	}
	if len(conds) > 0 {
		return fmt.Sprintf("%s can now %s %s, but only if %s (bucketgrant cannot read that).", p.Subject.PrincipalARN, diff.Describe(again.Grant.Access), p.Grant.Bucket, strings.Join(conds, "; ")), nil
	}
	return fmt.Sprintf("%s can now %s %s.", p.Subject.PrincipalARN, diff.Describe(again.Grant.Access), p.Grant.Bucket), nil
}

// verifyRevoke checks that none of bucketgrant's statements are left.
func verifyRevoke(ctx context.Context, w *writeRun, p *diff.Plan) (string, error) {
	st, err := loadState(ctx, w.sel, false)
	if err != nil {
		return "", fmt.Errorf("verifying after the write: %w", err)
	}
	again, err := diff.Revoke(st, w.sel.Options)
	if err != nil {
		return "", fmt.Errorf("verifying after the write: %w", err)
	}
	if !again.Empty() {
		return "", &exitCode{code: exitError, msg: "bucketgrant: some of bucketgrant's statements are still there; run revoke again"}
	}
	return fmt.Sprintf("bucketgrant's grants for %s on %s are removed.", p.Subject.PrincipalARN, p.Grant.Bucket), nil
}

// canPrompt reports whether a person can answer a prompt: standard input
// is a terminal.
func canPrompt(s *streams) bool {
	if s.tty != nil {
		return *s.tty
	}
	f, ok := s.in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks for approval; only "yes" approves. An interrupt answers at
// once, whatever the terminal is doing, with ctx's error; end of input
// (Ctrl-D) is a no, said on a fresh line because the terminal echoes no
// newline for it.
func confirm(ctx context.Context, s *streams) (bool, error) {
	fmt.Fprint(s.err, "\nDo you want to write these changes? Only 'yes' will be accepted.\n  Enter a value: ")
	type answer struct {
		line string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		// Left blocked in the read if an interrupt comes first: the
		// process is about to exit, and nothing reads the answer.
		line, err := bufio.NewReader(s.in).ReadString('\n')
		answers <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(s.err)
		return false, ctx.Err()
	case a := <-answers:
		if a.err != nil {
			// No complete line: Ctrl-D, or input that ended.
			fmt.Fprintln(s.err)
			return false, nil
		}
		return strings.TrimSpace(a.line) == "yes", nil
	}
}
