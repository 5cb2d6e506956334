package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
)

func syncCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "sync",
			Usage: "put back every grant of a grants file that drifted (for schedulers)",
			Description: "Reads each document the grants need once, plans every grant, merges all changes to a document\n" +
				"into one write, and with --yes writes them (--dry-run only shows them), then verifies.\n" +
				"A blocked or failing grant is reported and does not stop the others. sync never prompts.\n" +
				"The grants file's format is in docs/grants.md.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the grants file (YAML)", EnvVars: []string{"BUCKETGRANT_GRANTS"}},
				&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "write the changes"},
				&cli.BoolFlag{Name: "dry-run", Usage: "show what would change; write nothing"},
				&cli.BoolFlag{Name: "detailed-exitcode", Usage: "with --dry-run: exit 2 when drift is found, something is to prune, or a grant is broader than declared"},
				&cli.BoolFlag{Name: "prune", Usage: "make the file the truth for the buckets it names: remove bucketgrant's statements of grants no longer in it, narrow those it declares narrower"},
				&cli.BoolFlag{Name: "drop-old-keys", Usage: "for every grant: stop granting the keys its bucket used before its default key now (a grant's drop_old_keys does it for one)"},
				&cli.StringFlag{Name: "shard", Usage: "do only shard K (0..N-1) of N; no two shards write the same document", EnvVars: []string{"BUCKETGRANT_SHARD"}},
				&cli.IntFlag{Name: "parallel", Value: 8, Usage: "AWS calls in flight at most"},
				&cli.StringFlag{Name: "state", Usage: "run on this snapshot file instead of AWS"},
				&cli.StringFlag{Name: "format", Value: "text", Usage: "report on stdout: text, json (one object on one line) or jsonl (one line per grant, then a summary line)"},
				&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format on stderr: text or json", EnvVars: []string{"BUCKETGRANT_LOG_FORMAT"}},
				&cli.StringFlag{Name: "backup-dir", Usage: "save backups here (default: $XDG_STATE_HOME/bucketgrant/backups)", EnvVars: []string{"BUCKETGRANT_BACKUP_DIR"}},
				&cli.StringFlag{Name: "region", Usage: "region for IAM, STS and the first S3 call", EnvVars: []string{"AWS_REGION"}},
				&cli.StringFlag{Name: "endpoint-url", Usage: "send every AWS call to this compatible endpoint", EnvVars: []string{"AWS_ENDPOINT_URL"}},
				&cli.BoolFlag{Name: "debug", Usage: "log every document read and written, and every AWS call", EnvVars: []string{"BUCKETGRANT_DEBUG"}},
				&cli.IntFlag{Name: "max-attempts", Usage: "tries of each AWS call, retries included", DefaultText: "the profile's max_attempts or AWS_MAX_ATTEMPTS, else 3"},
				&cli.DurationFlag{Name: "retry-max-backoff", Usage: "longest wait between two tries of an AWS call", DefaultText: "20s"},
				&cli.DurationFlag{Name: "timeout", Value: awsstate.DefaultTimeout, Usage: "time each try of an AWS call may take before it is abandoned (and retried)"},
				&cli.StringFlag{Name: "rate-limit", Usage: "AWS calls per second per account, KEY=N,... over the defaults (KEY: iam, iam:write, kms, kms:PutKeyPolicy, s3, s3:write, ...; 0 no limit; none lifts all)", DefaultText: awsstate.DefaultRateLimits().String(), EnvVars: []string{"BUCKETGRANT_RATE_LIMIT"}},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				o := syncOptions{
					file: c.String("file"), yes: c.Bool("yes"), dryRun: c.Bool("dry-run"), detailed: c.Bool("detailed-exitcode"),
					prune: c.Bool("prune"), dropOldKeys: c.Bool("drop-old-keys"), shard: c.String("shard"), parallel: c.Int("parallel"), statePath: c.String("state"),
					format: c.String("format"), logFormat: c.String("log-format"), backupDir: c.String("backup-dir"),
					region: c.String("region"), endpoint: c.String("endpoint-url"), debug: c.Bool("debug") || debugEnabled,
					maxAttempts: c.Int("max-attempts"), maxBackoff: c.Duration("retry-max-backoff"), timeout: c.Duration("timeout"),
					rateLimit: c.String("rate-limit"),
				}
				if err := o.validate(); err != nil {
					return err
				}
				return runSync(c.Context, o, s)
			},
		},
		synopsis: []string{
			"bucketgrant sync -f GRANTS.yaml --dry-run [--detailed-exitcode] [--format text|json|jsonl]",
			"bucketgrant sync -f GRANTS.yaml --yes [--prune] [--shard K/N] [--format text|json|jsonl]",
		},
		required: []string{"file"},
		examples: []usageExample{
			{"What drifted, offline on a snapshot", "bucketgrant sync -f examples/grants.yaml --state examples/seed-cross-account.json --dry-run"},
			{"From cron: fix drift, one JSON line per grant for the log collector", "bucketgrant sync -f /etc/bucketgrant/grants.yaml --yes --format jsonl --log-format json"},
		},
		exits: []exitDoc{
			{exitOK, "every grant in sync or fixed"},
			{exitError, "a grant failed, or bad input"},
			{exitPending, "drift found, something to prune, or a grant broader than declared (with --dry-run --detailed-exitcode)"},
			{exitBlocked, "a grant is blocked (the others were still done)"},
			{exitInterrupted, "interrupted; the report says what was written"},
		},
	}
}

type syncOptions struct {
	file                  string
	yes, dryRun, detailed bool
	prune, dropOldKeys    bool
	shard                 string
	parallel              int
	statePath             string
	format, logFormat     string
	backupDir             string
	region, endpoint      string
	debug                 bool
	maxAttempts           int
	maxBackoff, timeout   time.Duration
	rateLimit             string
}

func (o syncOptions) validate() error {
	switch {
	case o.file == "":
		return usagef("sync needs -f GRANTS.yaml")
	case o.yes && o.dryRun:
		return usagef("--yes and --dry-run together: --yes writes the changes, --dry-run only shows them; give one")
	case !o.yes && !o.dryRun:
		return usagef("sync needs either --yes (write the changes) or --dry-run (only show them); it never prompts")
	case o.detailed && !o.dryRun:
		return usagef("--detailed-exitcode goes with --dry-run")
	case checkFormat(o.format, "text", "json", "jsonl") != nil:
		return checkFormat(o.format, "text", "json", "jsonl")
	case o.logFormat != "text" && o.logFormat != "json":
		return usagef("--log-format %q: use text or json", o.logFormat)
	case o.parallel < 1:
		return usagef("--parallel %d: give at least 1", o.parallel)
	}
	return nil
}

func runSync(ctx context.Context, o syncOptions, s *streams) error {
	// A sync holds a whole organisation's documents at once: collecting
	// garbage sooner than Go's default (100) keeps a 10,000-grant run
	// under 300 MB (about 255 MB instead of 300-370) for some more CPU.
	// GOGC, when set, decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(60)
	}
	f, err := grantsync.LoadFile(o.file)
	if err != nil {
		return err
	}
	if o.dropOldKeys {
		for i := range f.Grants {
			f.Grants[i].DropOldKeys = true
		}
	}
	cfg := grantsync.Config{File: f, StatePath: o.statePath, Prune: o.prune, DryRun: o.dryRun, Parallel: o.parallel,
		BackupDir: o.backupDir, ToolVersion: versionString(), Log: newLogger(s.err, o.logFormat, o.debug)}
	if o.shard != "" {
		sh, err := grantsync.ParseShard(o.shard)
		if err != nil {
			return usagef("%v", err)
		}
		cfg.Shard = &sh
	}
	limits, err := awsstate.ParseRateLimits(o.rateLimit)
	if err != nil {
		return usagef("%v", err)
	}
	if o.statePath == "" {
		cfg.Accounts = &grantsync.Accounts{Creds: f.Credentials, EndpointURL: o.endpoint, Region: o.region,
			MaxAttempts: o.maxAttempts, MaxBackoff: o.maxBackoff, Timeout: o.timeout, RateLimits: limits}
		if o.debug {
			// The call log: the same configuration LoadClients makes for
			// sync, with the debug log attached.
			a := cfg.Accounts
			cfg.Accounts.Load = func(ctx context.Context, account string, creds grantsync.Account) (aws.Config, string, error) {
				cl, err := awsstate.LoadClients(ctx, awsstate.Options{
					PrincipalProfile: creds.Profile, ResourceProfile: creds.Profile,
					PrincipalRoleARN: creds.Role, ResourceRoleARN: creds.Role,
					EndpointURL: a.EndpointURL, Region: a.Region,
					MaxAttempts: a.MaxAttempts, MaxBackoff: a.MaxBackoff, Timeout: a.Timeout, AdaptiveRetry: true,
					Logf: func(format string, args ...any) { fmt.Fprintf(s.err, "debug: "+format+"\n", args...) },
				})
				if err != nil {
					return aws.Config{}, "", err
				}
				return cl.Principal, cl.PrincipalLabel, nil
			}
		}
	}
	if p := newProgress(s.err); p != nil {
		cfg.Progress = p.update
		defer p.done()
	}
	rep, err := grantsync.Sync(ctx, cfg)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		if err := writeJSON(s.out, rep); err != nil {
			return err
		}
	case "jsonl":
		if err := writeSyncLines(s.out, rep); err != nil {
			return err
		}
	default:
		rep.Text(s.out)
	}
	if code := rep.ExitCode(o.detailed); code != exitOK {
		return &exitCode{code: code}
	}
	return nil
}

// newLogger logs to stderr: text for people, JSON for log collectors.
func newLogger(w io.Writer, format string, debug bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// progress redraws one status line on a terminal. It exists only when
// stderr is a terminal: in a log file a redrawn line is noise.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w}
}

func (p *progress) update(phase string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// At most ten redraws a second, and always the last of a phase.
	if done != total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s %d/%d", phase, done, total)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K")
}

// syncLine is one line of sync --format jsonl: a grant, a pruned
// document, or the summary that ends the report. Each line carries the
// format, so a log collector can route lines it has never seen.
type syncLine struct {
	Format string `json:"format"`
	Type   string `json:"type"` // grant, prune or summary
	*grantsync.GrantReport
	*grantsync.ChangeInfo
	*syncSummary
}

type syncSummary struct {
	DryRun bool   `json:"dry_run"`
	Shard  string `json:"shard,omitempty"`
	grantsync.Summary
}

// writeSyncLines writes the report as JSON lines, never indented.
func writeSyncLines(w io.Writer, rep *grantsync.Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range rep.Grants {
		if err := enc.Encode(syncLine{Format: formatSyncLine, Type: "grant", GrantReport: &rep.Grants[i]}); err != nil {
			return err
		}
	}
	for i := range rep.Pruned {
		if err := enc.Encode(syncLine{Format: formatSyncLine, Type: "prune", ChangeInfo: &rep.Pruned[i]}); err != nil {
			return err
		}
	}
	return enc.Encode(syncLine{Format: formatSyncLine, Type: "summary", syncSummary: &syncSummary{DryRun: rep.DryRun, Shard: rep.Shard, Summary: rep.Summary}})
}
