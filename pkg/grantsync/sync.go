package grantsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Config is one sync.
type Config struct {
	File *File
	// StatePath runs on a snapshot file instead of AWS; else Accounts
	// reaches each account.
	StatePath string
	Accounts  *Accounts
	Shard     *Shard // nil: the whole file
	Prune     bool
	DryRun    bool
	Parallel  int // AWS calls (and documents written) in flight; default 8
	BackupDir string
	// ToolVersion is recorded in plans and backups.
	ToolVersion string
	Log         *slog.Logger
	// Progress, when set, is told how far each phase is.
	Progress func(phase string, done, total int)

	// lock is the snapshot file's lock, held from the read to the last
	// write so that no other writer's change falls in between.
	lock *apply.StateLock
}

func (c *Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Config) progress(phase string, done, total int) {
	if c.Progress != nil {
		c.Progress(phase, done, total)
	}
}

// Sync reads every document the file's grants (or the shard's) need once,
// plans every grant, merges the changes per document, and unless DryRun
// writes each changed document once, then reads them back and plans every
// grant again to verify. The report says what happened to each grant; the
// error is for a run that could not start (a file it cannot read, a
// cancelled context).
func Sync(ctx context.Context, c Config) (*Report, error) {
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
	if c.Accounts != nil {
		c.Accounts.inFlight(c.Parallel)
	}
	log := c.log()
	grants := c.File.Grants
	if c.StatePath != "" && !c.DryRun {
		l, err := apply.LockStateFile(ctx, c.StatePath, -1)
		if err != nil {
			return nil, err
		}
		defer l.Unlock()
		c.lock = l
	}
	st, readErrs, sharding, idents, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	if sharding != nil {
		var mine []Grant
		for i, g := range grants {
			if sharding.Grant(i) == c.Shard.K {
				mine = append(mine, g)
			}
		}
		log.Info("shard", "shard", fmt.Sprintf("%d/%d", c.Shard.K, c.Shard.N), "grants", len(mine), "of", len(grants))
		grants = mine
	}
	po := PlanOptions{ToolVersion: c.ToolVersion, Prune: c.Prune, AllGrants: c.File.Grants,
		PrincipalErrors: readErrs.principals, BucketErrors: readErrs.buckets, Quotas: c.quotasOf(ctx)}
	if sharding != nil {
		k := c.Shard.K
		po.OwnsDoc = func(id string) bool { return sharding.Doc(id) == k }
	}
	c.progress("planning", 0, len(grants))
	run, err := PlanAll(st, c.File, grants, po)
	if err != nil {
		return nil, err
	}
	c.progress("planning", len(grants), len(grants))
	rep := newReport(c, run)
	for _, r := range run.Results {
		log.Debug("planned", "grant", r.Grant.String(), "status", string(r.Status))
	}
	if c.DryRun || run.Plan.Empty() {
		return c.finish(rep), nil
	}

	store, err := c.store(run)
	if err != nil {
		return nil, err
	}
	refs := make([]diff.DocRef, len(run.Plan.Changes))
	for i, ch := range run.Plan.Changes {
		refs[i] = ch.Document
	}
	// Against AWS, verification is planned while the writes wait on the
	// network (verify.go). A snapshot file is written in memory: there is
	// nothing to wait on, and the run's memory would hold a second state.
	var spec *speculation
	if c.StatePath == "" {
		spec = c.speculate(ctx, st, run, refs)
	}
	var written atomic.Int64
	total := len(run.Plan.Changes)
	counting := &countingStore{Store: store, onWrite: func() { c.progress("writing", int(written.Add(1)), total) }}
	log.Info("writing", "documents", total)
	res, err := apply.Apply(ctx, counting, run.Plan, apply.Options{
		BackupDir: c.BackupDir, Parallel: c.Parallel, CheckAtWrite: true,
		KeyPolicyCallerFor: func(key diff.DocRef) *policy.Caller {
			if id, ok := idents[key.Account]; ok && id.ARN != "" {
				return &policy.Caller{ARN: id.ARN, Account: id.Account}
			}
			return nil
		},
		Logf: func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
		// Recorded in the backup, so that rollback can restore every
		// principal's managed policy, in every bucket's region.
		PrincipalOf: func(ref diff.DocRef) string { return run.Principals[ref.ID()] },
		RegionOf:    func(bucket string) string { return run.Regions[bucket] },
	})
	if res != nil {
		rep.Summary.Written, rep.Summary.Backup = len(res.Written), res.BackupPath
	}
	if err != nil {
		spec.stop()
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		rep.Summary.Error = err.Error()
		for _, r := range rep.results {
			if r.Status == StatusDrift {
				r.Status, r.Reasons = StatusError, append(r.Reasons, "not fixed: "+err.Error())
			}
		}
		return c.finish(rep), nil
	}
	// The combined plan holds every written document twice (before and
	// after); verifying needs neither, so it is let go before verifying
	// reads everything back.
	run.Plan = nil
	if err := c.verify(ctx, store, st, run, refs, res, spec); err != nil {
		return nil, err
	}
	return c.finish(rep), nil
}

// finish completes the report and logs the outcome: a record per grant
// that needs a person (blocked, error) and one summary.
func (c *Config) finish(rep *Report) *Report {
	rep.finish()
	log := c.log()
	for _, g := range rep.Grants {
		if g.Status == StatusBlocked || g.Status == StatusError {
			log.Warn("grant "+string(g.Status), "principal", g.Principal, "bucket", g.Bucket, "prefix", g.Prefix, "line", g.Line, "reasons", g.Reasons)
		}
	}
	s := rep.Summary
	log.Info("sync done", "dry_run", rep.DryRun, "grants", s.Grants, "in_sync", s.InSync, "fixed", s.Fixed, "drift_found", s.DriftFound,
		"blocked", s.Blocked, "errors", s.Errors, "documents_to_write", s.Documents, "documents_written", s.Written)
	return rep
}

type readErrors struct{ principals, buckets map[string]error }

// read gathers the state, and in shard mode the sharding.
func (c *Config) read(ctx context.Context) (*state.State, readErrors, *Sharding, map[string]awsstate.Identity, error) {
	log := c.log()
	grants := c.File.Grants
	errs := readErrors{principals: map[string]error{}, buckets: map[string]error{}}
	if c.StatePath != "" {
		st, err := snapshot.Load(c.StatePath)
		if err != nil {
			return nil, errs, nil, nil, err
		}
		var sh *Sharding
		if c.Shard != nil {
			sh = NewSharding(c.Shard.N, grants, c.docsIn(st))
		}
		return st, errs, sh, nil, nil
	}
	mr := &awsstate.MultiReader{For: c.Accounts.Reader, Parallel: c.Parallel,
		Logf:     func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
		Progress: func(done, total int) { c.progress("reading", done, total) }}
	var targets []awsstate.Target
	idents := map[string]awsstate.Identity{}
	read := func(ts []awsstate.Target) (*awsstate.ManyResult, error) {
		res, err := mr.ReadMany(ctx, ts)
		if err != nil {
			return nil, err
		}
		for k, v := range res.PrincipalErrors {
			errs.principals[k] = v
		}
		for k, v := range res.BucketErrors {
			errs.buckets[k] = v
		}
		for k, v := range res.Identities {
			idents[k] = v
		}
		return res, nil
	}
	if c.Shard == nil {
		for _, g := range grants {
			// With drop_old_keys, the keys the bucket used before too:
			// nothing else the run reads may name them.
			targets = append(targets, awsstate.Target{Principal: g.Principal, Bucket: g.Bucket, BucketAccount: c.File.BucketAccount(g), OldKeys: g.DropOldKeys})
		}
		targets = append(targets, c.listedBuckets()...)
		res, err := read(targets)
		if err != nil {
			return nil, errs, nil, nil, err
		}
		if err := c.readStale(res.State, read); err != nil {
			return nil, errs, nil, nil, err
		}
		if err := c.readOrg(ctx, res.State); err != nil {
			return nil, errs, nil, nil, err
		}
		return res.State, errs, nil, idents, nil
	}
	// Shards are decided by the documents grants may write, and a bucket's
	// key is known only once its encryption is read: every shard reads every
	// bucket (and key) of the file first, cheaply, so all shards agree on
	// the grouping; then only its own principals (all of them with --prune,
	// which may find stale statements of any principal).
	for _, g := range grants {
		targets = append(targets, awsstate.Target{Bucket: g.Bucket, BucketAccount: c.File.BucketAccount(g)})
	}
	targets = append(targets, c.listedBuckets()...)
	bres, err := read(targets)
	if err != nil {
		return nil, errs, nil, nil, err
	}
	sh := NewSharding(c.Shard.N, grants, c.docsIn(bres.State))
	targets = nil
	for i, g := range grants {
		switch {
		case sh.Grant(i) == c.Shard.K && g.DropOldKeys:
			// The bucket again, for the keys it used before (read once the
			// principal is known). Sharding could not see such a key
			// unless a bucket of the file uses it now (docsIn).
			targets = append(targets, awsstate.Target{Principal: g.Principal, Bucket: g.Bucket, BucketAccount: c.File.BucketAccount(g), OldKeys: true})
		case c.Prune || sh.Grant(i) == c.Shard.K:
			targets = append(targets, awsstate.Target{Principal: g.Principal})
		}
	}
	pres, err := read(targets)
	if err != nil {
		return nil, errs, nil, nil, err
	}
	st := bres.State
	st.Principals = pres.State.Principals
	for _, k := range pres.State.Keys {
		if st.FindKey(k.ARN) == nil {
			st.Keys = append(st.Keys, k)
		}
	}
	if err := c.readStale(st, read); err != nil {
		return nil, errs, nil, nil, err
	}
	if err := c.readOrg(ctx, st); err != nil {
		return nil, errs, nil, nil, err
	}
	return st, errs, sh, idents, nil
}

// listedBuckets are, for --prune, the buckets the file lists under buckets:
// without a grant on them: the file names them, so prune reads them to
// remove what is left of their grants.
func (c *Config) listedBuckets() []awsstate.Target {
	if !c.Prune {
		return nil
	}
	granted := map[string]bool{}
	for _, g := range c.File.Grants {
		granted[g.Bucket] = true
	}
	var out []awsstate.Target
	for _, name := range slices.Sorted(maps.Keys(c.File.Buckets)) {
		if !granted[name] {
			out = append(out, awsstate.Target{Bucket: name, BucketAccount: c.File.Buckets[name].Account})
		}
	}
	return out
}

// readStale adds to st, for --prune, the principals that bucketgrant's
// stale statements name but the file no longer does.
func (c *Config) readStale(st *state.State, read func([]awsstate.Target) (*awsstate.ManyResult, error)) error {
	if !c.Prune {
		return nil
	}
	var ts []awsstate.Target
	for _, arn := range stalePrincipals(st, newScope(st, c.File, c.File.Grants, nil)) {
		ts = append(ts, awsstate.Target{Principal: arn})
	}
	if len(ts) == 0 {
		return nil
	}
	c.log().Info("reading principals of stale statements", "principals", len(ts))
	res, err := read(ts)
	if err != nil {
		return err
	}
	st.Principals = append(st.Principals, res.State.Principals...)
	return nil
}

// docsIn lists a grant's documents with its bucket's key as st knows it,
// and for a grant with drop_old_keys the keys it drops (diff.OldKeys): the
// policy of such a key is written too, and when it is another bucket's key
// now, that bucket's grants write it as well.
func (c *Config) docsIn(st *state.State) func(Grant) []string {
	return func(g Grant) []string {
		key := ""
		if k := st.KeyForBucket(st.FindBucket(g.Bucket)); k != nil {
			key = k.ARN
		}
		docs := GrantDocs(g, key)
		if g.DropOldKeys {
			// An error here is the grant's plan's too, and reported there.
			olds, _ := diff.OldKeys(st, c.File.Options(g, c.ToolVersion))
			for _, arn := range olds {
				docs = append(docs, "key:"+arn)
			}
		}
		return docs
	}
}

func (c *Config) store(run *Run) (apply.Store, error) {
	if c.StatePath != "" {
		st, err := apply.NewStateStoreFor(c.StatePath, func(ref diff.DocRef) string { return run.Principals[ref.ID()] })
		if err != nil {
			return nil, err
		}
		if c.lock != nil {
			st.UnderLock(c.lock)
		}
		return st, nil
	}
	return c.Accounts.Store(func(ref diff.DocRef) string { return run.Principals[ref.ID()] },
		func(bucket string) string { return run.Regions[bucket] }), nil
}

// countingStore reports each write, for the progress display.
type countingStore struct {
	apply.Store
	onWrite func()
}

func (s *countingStore) Write(ctx context.Context, ref diff.DocRef, text string, create, attach bool) error {
	err := s.Store.Write(ctx, ref, text, create, attach)
	if err == nil {
		s.onWrite()
	}
	return err
}

func (s *countingStore) Delete(ctx context.Context, ref diff.DocRef) error {
	err := s.Store.Delete(ctx, ref)
	if err == nil {
		s.onWrite()
	}
	return err
}

// Unwrap lets apply find the store's lock.
func (s *countingStore) Unwrap() apply.Store { return s.Store }

// Finish passes a snapshot file's save through.
func (s *countingStore) Finish(ctx context.Context) error {
	if f, ok := s.Store.(apply.Finisher); ok {
		return f.Finish(ctx)
	}
	return nil
}
