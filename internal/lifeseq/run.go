package lifeseq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
)

// ToolVersion is what the sequences' plans and backups record.
const ToolVersion = "lifeseq"

// Outcomes of a step.
const (
	Applied   = "applied"    // documents written
	NoChanges = "no changes" // nothing to write
	Blocked   = "blocked"    // a blocker (at planning or at write time); nothing written
	Stale     = "stale"      // a rollback refused: a document changed since its apply
	Nothing   = "nothing"    // a rollback of a step that made no backup
	Failed    = "failed"     // an error: always a finding
	Rekeyed   = "re-keyed"
)

// StepResult is what one step did.
type StepResult struct {
	Outcome string
	// Detail says why (the blockers, the error, a sync's statuses).
	Detail string
	// Backup is the backup the step's write made ("" if none).
	Backup string
	// Sync is a sync's report.
	Sync *grantsync.Report
	// Blockers are the kinds of the plan's blockers.
	Blockers []string
}

// Runner runs steps on one snapshot file, through the code the binary
// runs for `--state FILE --yes`.
type Runner struct {
	Dir                  string
	StatePath, BackupDir string
	world                World
	seq                  int
}

// NewRunner prepares a directory for a sequence's files.
func NewRunner(dir string) (*Runner, error) {
	r := &Runner{Dir: dir, StatePath: filepath.Join(dir, "state.json"), BackupDir: filepath.Join(dir, "backups")}
	return r, os.MkdirAll(r.BackupDir, 0o700)
}

// Start writes the world's snapshot file and removes earlier backups.
func (r *Runner) Start(w World) ([]byte, error) {
	r.world = w
	if err := os.RemoveAll(r.BackupDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.BackupDir, 0o700); err != nil {
		return nil, err
	}
	data, err := snapshot.Marshal(w.State())
	if err != nil {
		return nil, err
	}
	return data, os.WriteFile(r.StatePath, data, 0o600)
}

// Run runs one step; results holds the earlier steps' results (for
// rollback).
func (r *Runner) Run(ctx context.Context, s Step, results []StepResult) StepResult {
	switch s.Op {
	case OpApply:
		return r.write(ctx, func() (*diff.Plan, error) {
			st, err := snapshot.Load(r.StatePath)
			if err != nil {
				return nil, err
			}
			return diff.Make(st, Options(*s.Grant))
		}, nil)
	case OpRevoke:
		return r.write(ctx, func() (*diff.Plan, error) {
			st, err := snapshot.Load(r.StatePath)
			if err != nil {
				return nil, err
			}
			return diff.Revoke(st, Options(*s.Grant))
		}, nil)
	case OpRollback:
		if s.Target < 0 || s.Target >= len(results) || results[s.Target].Backup == "" {
			return StepResult{Outcome: Nothing}
		}
		b, err := apply.ReadBackup(results[s.Target].Backup)
		if err != nil {
			return StepResult{Outcome: Failed, Detail: err.Error()}
		}
		return r.write(ctx, func() (*diff.Plan, error) { return apply.RollbackPlan(b, ToolVersion) }, b)
	case OpSync:
		return r.sync(ctx, s)
	case OpRekey:
		st, err := snapshot.Load(r.StatePath)
		if err != nil {
			return StepResult{Outcome: Failed, Detail: err.Error()}
		}
		b := st.FindBucket(s.Bucket)
		if b == nil {
			return StepResult{Outcome: Failed, Detail: "no bucket " + s.Bucket}
		}
		enc := *b.Encryption
		enc.KMSMasterKeyID = s.Key
		b.Encryption = &enc
		if err := snapshot.Save(r.StatePath, st); err != nil {
			return StepResult{Outcome: Failed, Detail: err.Error()}
		}
		return StepResult{Outcome: Rekeyed}
	}
	return StepResult{Outcome: Failed, Detail: "unknown operation " + s.Op}
}

// Options are the planner's options for a grant, as the command line
// gives them.
func Options(g GrantSpec) diff.Options {
	return diff.Options{Principal: g.Principal, Bucket: g.Bucket, Access: g.Access, Prefix: g.Prefix, KMSVia: g.KMSVia,
		DropOldKeys: g.DropOldKeys, ToolVersion: ToolVersion}
}

// write is apply, revoke and rollback with --state and --yes
// (cmd/bucketgrant writeRun): the file's lock from the first read to the
// save, the plan sealed, then apply.Apply on a StateStore under that lock.
func (r *Runner) write(ctx context.Context, plan func() (*diff.Plan, error), b *apply.Backup) StepResult {
	lock, err := apply.LockStateFile(ctx, r.StatePath, -1)
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	defer lock.Unlock()
	p, err := plan()
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	if p.Operation != diff.PlanRollback {
		p.Seal()
	}
	if p.Blocked() {
		var kinds, msgs []string
		for _, bl := range p.Blockers {
			kinds = append(kinds, bl.Kind)
			msgs = append(msgs, bl.Message)
		}
		return StepResult{Outcome: Blocked, Blockers: kinds, Detail: strings.Join(msgs, "; ")}
	}
	if p.Empty() {
		return StepResult{Outcome: NoChanges}
	}
	principalOf := func(diff.DocRef) string { return p.Subject.PrincipalARN }
	if b != nil {
		principalOf = b.PrincipalOf
	}
	store, err := apply.NewStateStoreFor(r.StatePath, principalOf)
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	store.UnderLock(lock)
	opts := apply.Options{BackupDir: r.BackupDir}
	if b != nil {
		opts.PrincipalOf, opts.RegionOf = b.PrincipalOf, b.RegionOf
	}
	res, err := apply.Apply(ctx, store, p, opts)
	var over *apply.LimitError
	var stale *apply.StaleError
	switch {
	case errors.As(err, &over):
		return StepResult{Outcome: Blocked, Blockers: []string{diff.BlockSizeLimit}, Detail: err.Error()}
	case errors.As(err, &stale) && b != nil && len(stale.Written) == 0:
		return StepResult{Outcome: Stale, Detail: err.Error()}
	case err != nil:
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	return StepResult{Outcome: Applied, Backup: res.BackupPath}
}

// sync is `bucketgrant sync -f FILE --state STATE --yes [--prune]`.
func (r *Runner) sync(ctx context.Context, s Step) StepResult {
	r.seq++
	path := filepath.Join(r.Dir, fmt.Sprintf("grants-%d.yaml", r.seq))
	if err := os.WriteFile(path, []byte(GrantsFile(s.File, r.world.bucketAccounts(s.File))), 0o600); err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	f, err := grantsync.LoadFile(path)
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	rep, err := grantsync.Sync(ctx, grantsync.Config{File: f, StatePath: r.StatePath, Prune: s.Prune, Parallel: 8,
		BackupDir: r.BackupDir, ToolVersion: ToolVersion, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error()}
	}
	res := StepResult{Outcome: NoChanges, Sync: rep, Backup: rep.Summary.Backup}
	if rep.Summary.Written > 0 {
		res.Outcome = Applied
	}
	var parts []string
	for _, g := range rep.Grants {
		parts = append(parts, fmt.Sprintf("%s on %s/%s: %s %s", g.Principal, g.Bucket, g.Prefix, g.Status, strings.Join(g.Reasons, ", ")))
	}
	if rep.Summary.Error != "" {
		res.Outcome = Failed
		parts = append(parts, rep.Summary.Error)
	}
	res.Detail = strings.Join(parts, "; ")
	return res
}

// GrantsFile writes grants as a grants file; buckets names the account
// of each bucket.
func GrantsFile(grants []GrantSpec, buckets map[string]string) string {
	var b strings.Builder
	b.WriteString("version: 1\n")
	if len(buckets) > 0 {
		b.WriteString("buckets:\n")
		names := slices.Sorted(maps.Keys(buckets))
		for _, name := range names {
			fmt.Fprintf(&b, "  %s: {account: %q}\n", name, buckets[name])
		}
	}
	b.WriteString("grants:\n")
	for _, g := range grants {
		fmt.Fprintf(&b, "  - principal: %s\n    bucket: %s\n", g.Principal, g.Bucket)
		if g.Prefix != "" {
			fmt.Fprintf(&b, "    prefix: %s\n", g.Prefix)
		}
		if g.Access != nil {
			parts := make([]string, len(g.Access))
			for i, l := range g.Access {
				parts[i] = string(l)
			}
			fmt.Fprintf(&b, "    access: [%s]\n", strings.Join(parts, ", "))
		}
		if g.KMSVia != "" {
			fmt.Fprintf(&b, "    kms_via: %s\n", g.KMSVia)
		}
		if g.DropOldKeys {
			b.WriteString("    drop_old_keys: true\n")
		}
	}
	return b.String()
}

// bucketAccounts says the account of each bucket the grants name (a bucket
// under buckets: is named by the file, for --prune, grants or not).
func (w World) bucketAccounts(grants []GrantSpec) map[string]string {
	out := map[string]string{}
	for _, b := range w.Buckets {
		if slices.ContainsFunc(grants, func(g GrantSpec) bool { return g.Bucket == b.Name }) {
			out[b.Name] = b.Account
		}
	}
	return out
}
