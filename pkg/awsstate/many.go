package awsstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Target is one principal and bucket whose documents ReadMany reads. An
// empty Principal reads only the bucket (and its key).
type Target struct {
	Principal     string
	Bucket        string
	BucketAccount string // the account whose credentials read the bucket
	// OldKeys also reads the keys the bucket used before that name the
	// principal (Options.OldKeys), for a grant with drop_old_keys; it needs
	// both Principal and Bucket.
	OldKeys bool
}

// MultiReader reads many targets across accounts, each bucket, key and
// principal once however many targets name it. Every account has its own
// credentials: For returns a Reader whose clients (IAM, S3, KMS, STS) all
// act as that account (its ResourceSTS is ignored).
type MultiReader struct {
	For func(ctx context.Context, account string) (*Reader, error)
	// Parallel bounds the AWS calls in flight across all accounts
	// (default 8).
	Parallel int
	Logf     func(format string, args ...any)
	// Progress, when set, is told each time a principal or bucket is read.
	Progress func(done, total int)
}

// ManyResult is what ReadMany found. A principal or bucket that could not
// be read is left out of State and its error recorded, so the targets that
// do not need it go on.
type ManyResult struct {
	State *state.State
	// PrincipalErrors and BucketErrors are keyed by principal ARN and
	// bucket name. A principal that does not exist is not an error: it is
	// absent from State (the planner reports it as a blocker).
	PrincipalErrors map[string]error
	BucketErrors    map[string]error
	// Identities are the credentials used, by account.
	Identities map[string]Identity
}

// ReadMany reads every target's principal and bucket.
func (m *MultiReader) ReadMany(ctx context.Context, targets []Target) (*ManyResult, error) {
	n := m.Parallel
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	res := &ManyResult{State: &state.State{}, PrincipalErrors: map[string]error{}, BucketErrors: map[string]error{}, Identities: map[string]Identity{}}

	principals, buckets := map[string]bool{}, map[string]string{}
	accounts := map[string]bool{}
	for _, t := range targets {
		if t.Principal != "" && !principals[t.Principal] {
			principals[t.Principal] = true
			accounts[state.AccountOf(t.Principal)] = true
		}
		if t.Bucket != "" {
			if _, ok := buckets[t.Bucket]; !ok {
				buckets[t.Bucket] = t.BucketAccount
				accounts[t.BucketAccount] = true
			}
		}
	}

	// One run per account: its identity is asked once, and its caches
	// (managed policies, keys) serve every principal and bucket in it.
	runs := map[string]*run{}
	runErrs := map[string]error{}
	var mu sync.Mutex
	g := newGroup(ctx)
	for acct := range accounts {
		g.Go(func(ctx context.Context) error {
			ru, err := m.account(ctx, acct, sem)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				runErrs[acct] = err
				return nil
			}
			runs[acct] = ru
			res.Identities[acct] = Identity{Account: ru.pid.account, ARN: ru.pid.arn, Label: ru.pid.label}
			return nil
		})
	}
	_ = g.Wait() // errors are per account, recorded above
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var ps []state.Principal
	var bs []state.Bucket
	keys := map[string]state.Key{}
	bucketKeys := map[string]*state.Key{}
	principalOf := map[string]state.Principal{} // by the ARN the target names
	done, total := 0, len(principals)+len(buckets)
	// tick counts one finished principal or bucket; mu is held.
	tick := func() {
		done++
		if m.Progress != nil {
			m.Progress(done, total)
		}
	}
	g = newGroup(ctx)
	for arn := range principals {
		acct := state.AccountOf(arn)
		if err := runErrs[acct]; err != nil {
			res.PrincipalErrors[arn] = err
			continue
		}
		g.Go(func(ctx context.Context) error {
			pr, err := parsePrincipal(arn)
			if err == nil {
				var p state.Principal
				p, err = runs[acct].principal(ctx, pr)
				if err == nil {
					mu.Lock()
					ps = append(ps, p)
					principalOf[arn] = p
					tick()
					mu.Unlock()
					return nil
				}
			}
			mu.Lock()
			defer mu.Unlock()
			tick()
			if missingPrincipal(err) {
				m.logf("%s does not exist", arn)
				return nil
			}
			res.PrincipalErrors[arn] = err
			return nil
		})
	}
	for name, acct := range buckets {
		if err := runErrs[acct]; err != nil {
			res.BucketErrors[name] = err
			continue
		}
		g.Go(func(ctx context.Context) error {
			b, key, err := runs[acct].bucket(ctx, name)
			mu.Lock()
			defer mu.Unlock()
			tick()
			if err != nil {
				res.BucketErrors[name] = err
				return nil
			}
			bs = append(bs, b)
			if key != nil {
				keys[key.ARN] = *key
				bucketKeys[name] = key
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.readOldKeys(ctx, targets, runs, principalOf, bs, bucketKeys, keys, res)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A stable order, so snapshots and reports do not depend on timing.
	slices.SortFunc(ps, func(a, b state.Principal) int { return strings.Compare(a.ARN, b.ARN) })
	slices.SortFunc(bs, func(a, b state.Bucket) int { return strings.Compare(a.Name, b.Name) })
	res.State.Principals, res.State.Buckets = ps, bs
	for _, arn := range slices.Sorted(mapKeys(keys)) {
		res.State.Keys = append(res.State.Keys, keys[arn])
	}
	return res, nil
}

// readOldKeys reads, for each target that asks (Target.OldKeys) and whose
// principal and bucket were read, the keys its bucket used before that
// name the principal, into keys. A failure is the bucket's error: its
// grants are not planned on a state that may lack a key they write.
func (m *MultiReader) readOldKeys(ctx context.Context, targets []Target, runs map[string]*run, principalOf map[string]state.Principal, bs []state.Bucket, bucketKeys map[string]*state.Key, keys map[string]state.Key, res *ManyResult) {
	var mu sync.Mutex
	g := newGroup(ctx)
	asked := map[Target]bool{}
	for _, t := range targets {
		if !t.OldKeys || t.Principal == "" || t.Bucket == "" || asked[t] {
			continue
		}
		asked[t] = true
		p, ok := principalOf[t.Principal]
		bi := slices.IndexFunc(bs, func(b state.Bucket) bool { return b.Name == t.Bucket })
		key, ru := bucketKeys[t.Bucket], runs[t.BucketAccount]
		if !ok || bi < 0 || key == nil || ru == nil {
			continue // unread (its error is recorded) or no key of its own
		}
		g.Go(func(ctx context.Context) error {
			old, err := ru.oldKeys(ctx, bs[bi], key, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.BucketErrors[t.Bucket] = err
				return nil
			}
			for _, k := range old {
				keys[k.ARN] = k
			}
			return nil
		})
	}
	_ = g.Wait()
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// account builds the run for one account and checks that its credentials
// belong to it.
func (m *MultiReader) account(ctx context.Context, acct string, sem chan struct{}) (*run, error) {
	r, err := m.For(ctx, acct)
	if err != nil {
		return nil, err
	}
	// Share the bound on calls in flight across every account's reader.
	r.semOnce.Do(func() { r.sem = sem })
	if r.Logf == nil {
		r.Logf = m.Logf
	}
	r.ResourceSTS = nil
	ru := &run{r: r, managed: map[string]*managedEntry{}, regionAliases: map[string]*aliasEntry{}}
	if err := ru.identities(ctx); err != nil {
		return nil, err
	}
	if ru.pid.account != acct {
		return nil, &Error{
			Kind: KindWrongAccount,
			Op:   fmt.Sprintf("the credentials for account %s (%s) belong to account %s", acct, ru.pid, ru.pid.account),
			Hint: "fix credentials.accounts." + acct + " (or credentials.default) in the grants file",
		}
	}
	return ru, nil
}

// missingPrincipal tells a principal that does not exist (GetUser or
// GetRole found nothing) from any other missing entity.
func missingPrincipal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindNoSuchEntity && (e.Op == "iam:GetUser" || e.Op == "iam:GetRole")
}

func (m *MultiReader) logf(format string, args ...any) {
	if m.Logf != nil {
		m.Logf(format, args...)
	}
}
