package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

func writeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "apply without asking (for scripts and schedulers)"},
		&cli.StringFlag{Name: "backup-dir", Usage: "save backups here (default: $XDG_STATE_HOME/bucketgrant/backups)", EnvVars: []string{"BUCKETGRANT_BACKUP_DIR"}},
	}
}

func applyCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "plan, confirm and write the change, then verify the principal's access",
		ArgsUsage: "[PLAN.json]",
		Description: "Without PLAN.json, apply plans like `plan`, shows the plan and asks; only `yes` approves.\n" +
			"With PLAN.json it applies that saved plan exactly, and refuses it if any document changed since.\n" +
			"Every document is backed up before the first write; `bucketgrant rollback BACKUP` restores them.",
		Flags: append(append(selectionFlags(), writeFlags()...), awsFlags()...),
		Action: func(c *cli.Context) error {
			w, err := newWriteRun(c, s)
			if err != nil {
				return err
			}
			var p *diff.Plan
			if c.Args().Len() > 1 {
				return usagef("apply takes at most one plan file")
			}
			if path := c.Args().First(); path != "" {
				if p, err = readPlanFile(path); err != nil {
					return err
				}
				w.sel.Principal, w.sel.Bucket = p.Grant.Principal, p.Grant.Bucket
				w.sel.Options = optionsOf(p)
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
	}
}

func revokeCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "revoke",
		Usage: "remove bucketgrant's statements for a principal and bucket, and nothing else",
		Description: "Removes only the statements bucketgrant wrote (recognised by their Sid) and bucketgrant's own\n" +
			"inline or managed policy, through the same plan, confirmation, backup and stale checks as apply.\n" +
			"Give the same --prefix as the grant.",
		Flags: append(append(selectionFlags(), writeFlags()...), awsFlags()...),
		Action: func(c *cli.Context) error {
			w, err := newWriteRun(c, s)
			if err != nil {
				return err
			}
			if err := w.needSelection(c); err != nil {
				return err
			}
			st, err := loadState(c.Context, w.sel)
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
	}
}

func rollbackCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "restore the documents saved in a backup",
		ArgsUsage: "BACKUP",
		Description: "Restores every document of the backup to its content before the apply that made it, refusing\n" +
			"any document that changed since that apply wrote it.",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "state", Usage: "the backup was made by apply --state on this snapshot file"},
		}, writeFlags()...), awsFlags()...),
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("rollback takes one backup file")
			}
			w, err := newWriteRun(c, s)
			if err != nil {
				return err
			}
			b, err := apply.ReadBackup(c.Args().First())
			if err != nil {
				return err
			}
			if strings.HasPrefix(b.Store, "state file") && w.sel.statePath == "" {
				return usagef("the backup was made on a %s; give it with --state", b.Store)
			}
			p, err := apply.RollbackPlan(b, version)
			if err != nil {
				return err
			}
			w.sel.Principal, w.sel.Bucket = b.Principal, b.Bucket
			return withDebug(w.sel.debug, w.apply(c.Context, p, nil))
		},
	}
}

// writeRun is one apply, revoke or rollback.
type writeRun struct {
	s         streams
	sel       *selection
	yes       bool
	backupDir string
}

func newWriteRun(c *cli.Context, s streams) (*writeRun, error) {
	sel := &selection{statePath: c.String("state"), debug: c.Bool("debug") || debugEnabled}
	sel.aws = awsOptions(c, s, sel.debug)
	sel.ToolVersion = version
	w := &writeRun{s: s, sel: sel, yes: c.Bool("yes"), backupDir: c.String("backup-dir")}
	if !w.yes && !canPrompt(s) {
		return nil, usagef("%s writes policies and needs confirmation: run it in a terminal, or pass --yes", c.Command.Name)
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
		KMSThroughS3: g.KMSThroughS3, RemoveOrphanedPrincipals: g.RemoveOrphanedPrincipals, ToolVersion: version}
}

// verifier checks the result of a write run; nil skips the check.
type verifier func(ctx context.Context, w *writeRun, p *diff.Plan) error

func (w *writeRun) apply(ctx context.Context, p *diff.Plan, verify verifier) error {
	out := w.s.out
	c := colorFor(out)
	if p.Blocked() {
		renderPlan(out, p, c)
		return &exitCode{code: exitBlocked}
	}
	if p.Empty() {
		if len(p.Requests) > 0 {
			renderPlan(out, p, c)
		} else {
			fmt.Fprintln(out, "No changes.")
		}
		return nil
	}
	renderPlan(out, p, c)
	if !w.yes {
		ok, err := confirm(w.s)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(w.s.err, "Not applied: only 'yes' approves. Nothing was written.")
			return &exitCode{code: exitError}
		}
	}
	store, caller, err := w.store(ctx, p)
	if err != nil {
		return err
	}
	res, err := apply.Apply(ctx, store, p, apply.Options{
		BackupDir: w.backupDir, KeyPolicyCaller: caller,
		Logf: func(format string, args ...any) { fmt.Fprintf(w.s.err, format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nWrote %d document(s). Backup: %s\n", len(res.Written), res.BackupPath)
	if verify == nil {
		return nil
	}
	return verify(ctx, w, p)
}

// store builds where the plan is written, and the identity that will write
// the key policy (for the lockout check).
func (w *writeRun) store(ctx context.Context, p *diff.Plan) (apply.Store, *policy.Caller, error) {
	if w.sel.statePath != "" {
		st, err := apply.NewStateStore(w.sel.statePath, p.Subject.PrincipalARN)
		return st, nil, err
	}
	cl, err := awsstate.LoadClients(ctx, w.sel.aws)
	if err != nil {
		return nil, nil, err
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
	return store, caller, nil
}

// verifyGrant reads every document again and evaluates the grant: the
// access must now be allowed.
func verifyGrant(ctx context.Context, w *writeRun, p *diff.Plan) error {
	sel := *w.sel
	sel.Options = optionsOf(p)
	again, err := makePlan(ctx, &sel)
	if err != nil {
		return fmt.Errorf("verifying after the write: %w", err)
	}
	var missing []string
	for _, r := range again.Requests {
		if r.Before != policy.Allowed {
			missing = append(missing, fmt.Sprintf("%s on %s (%s)", r.Action, r.Resource, r.Why))
		}
	}
	if len(missing) > 0 || again.Blocked() {
		return &exitCode{code: exitError, msg: "bucketgrant: the documents were written, but the access is still not allowed:\n  " + strings.Join(missing, "\n  ")}
	}
	fmt.Fprintf(w.s.out, "%s can now %s %s.\n", p.Subject.PrincipalARN, diff.Describe(again.Grant.Access), p.Grant.Bucket)
	return nil
}

// verifyRevoke checks that none of bucketgrant's statements are left.
func verifyRevoke(ctx context.Context, w *writeRun, p *diff.Plan) error {
	st, err := loadState(ctx, w.sel)
	if err != nil {
		return fmt.Errorf("verifying after the write: %w", err)
	}
	again, err := diff.Revoke(st, w.sel.Options)
	if err != nil {
		return fmt.Errorf("verifying after the write: %w", err)
	}
	if !again.Empty() {
		return &exitCode{code: exitError, msg: "bucketgrant: some of bucketgrant's statements are still there; run revoke again"}
	}
	fmt.Fprintf(w.s.out, "bucketgrant's grants for %s on %s are removed.\n", p.Subject.PrincipalARN, p.Grant.Bucket)
	return nil
}

// canPrompt reports whether a person can answer a prompt: standard input
// is a terminal.
func canPrompt(s streams) bool {
	if s.tty != nil {
		return *s.tty
	}
	f, ok := s.in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks for approval; only "yes" approves.
func confirm(s streams) (bool, error) {
	fmt.Fprint(s.err, "\nDo you want to write these changes? Only 'yes' will be accepted.\n  Enter a value: ")
	line, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && !errors.Is(err, os.ErrClosed) && line == "" {
		return false, nil
	}
	return strings.TrimSpace(line) == "yes", nil
}
