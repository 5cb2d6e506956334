package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Options tune one apply.
type Options struct {
	// BackupDir receives the backup file (DefaultBackupDir when "").
	BackupDir string
	// KeyPolicyCaller is the identity that will call kms:PutKeyPolicy; the
	// merged key policy must keep allowing it (the lockout rule). Required
	// when the plan writes a key policy.
	KeyPolicyCaller *policy.Caller
	// Logf narrates progress (may be nil).
	Logf func(format string, args ...any)
	// Now is the clock for backup names (time.Now when nil).
	Now func() time.Time
	// KeyPolicyCallerFor, when set, names the identity that will write a
	// given key policy, for plans whose keys live in several accounts
	// (sync); it is checked in addition to KeyPolicyCaller.
	KeyPolicyCallerFor func(key diff.DocRef) *policy.Caller
	// Parallel bounds the documents read or written at once. Writes keep
	// their order between phases (every identity policy, then every key
	// policy, then every bucket policy; reversed for removals) and run
	// concurrently only within a phase, where no write depends on another.
	// Zero or one: one document at a time.
	Parallel int
	// PrincipalOf names the user or role each identity document belongs
	// to, and RegionOf each bucket's region, for plans over many
	// principals and buckets (sync). The backup records both, so that
	// rollback can restore any document. Nil: the plan's subject.
	PrincipalOf func(diff.DocRef) string
	RegionOf    func(bucket string) string
	// CheckAtWrite makes the read right before each document's own write
	// the only stale check: one read per document instead of two. Without
	// it every document is also read and checked before the first write,
	// so a plan found stale there writes nothing at all; with it a
	// document found stale stops the apply after the documents written
	// before it (each write only moves toward the plan's end state, so
	// they are a state between start and end, and a re-run plans the
	// rest). The protection against other writers is the same: it is the
	// read right before a write that decides whether that write may
	// overwrite (docs/stale-check.md). For runs that write many documents
	// (sync), where the calls are the cost. The backup then saves each
	// document as the plan read it, which is what the document holds when
	// it is written.
	CheckAtWrite bool
	// CheckInputs makes Apply read again, before anything is written, the
	// inputs besides documents that the plan's verdicts depend on (the
	// SCPs and RCPs of the accounts involved, the KMS grants naming the
	// principal; diff.InputFingerprints) and refuse the plan if any
	// changed. For a plan saved and applied later or confirmed at a
	// prompt, where hours may pass; the store must be an InputReader. Off
	// for runs that write right after planning (sync), where the reads
	// would be the cost and the verification after the write reads them
	// again anyway.
	CheckInputs bool
}

// owner is whose an identity document is and, for a bucket policy, where
// its bucket is.
func (o Options) owner(p *diff.Plan, ref diff.DocRef) (principal, region string) {
	switch ref.Kind {
	case diff.DocInlinePolicy:
		principal = ref.ARN
	case diff.DocManagedPolicy:
		principal = p.Subject.PrincipalARN
		if o.PrincipalOf != nil {
			principal = o.PrincipalOf(ref)
		}
	case diff.DocBucketPolicy:
		region = p.Subject.BucketRegion
		if o.RegionOf != nil {
			region = o.RegionOf(bucketOf(ref))
		}
	}
	return principal, region
}

// Result says what an apply did.
type Result struct {
	Written    []diff.DocRef
	BackupPath string
}

// StaleError is a document that changed since the plan was made. Nothing
// was written to it; Written lists what was written before it was found.
type StaleError struct {
	Document diff.DocRef
	// Input, when set, is the input besides documents that changed (an
	// ID of diff.InputIDs); Document is then unset.
	Input   string
	Written []diff.DocRef
	Backup  string
	// Rollback marks a rollback, whose reference is what the rolled-back
	// apply wrote, not a plan.
	Rollback bool
}

func (e *StaleError) Error() string {
	since, todo := "the plan was made", "Make the plan again, review it, and apply that"
	if e.Rollback {
		since = "the apply being rolled back wrote it"
		todo = "Rollback does not overwrite changes made since; compare the document with the backup and restore what is needed by hand"
	}
	msg := fmt.Sprintf("the %s changed since %s; it was not overwritten", describe(e.Document), since)
	if e.Input != "" {
		// bucketgrant never writes these: what changed is what the
		// plan's verdicts rest on.
		msg = fmt.Sprintf("%s changed since %s, and the plan's verdicts depend on them", diff.DescribeInput(e.Input), since)
	}
	if len(e.Written) > 0 {
		msg += fmt.Sprintf(" (already written: %s; backup: %s)", names(e.Written), e.Backup)
	} else {
		msg += "; nothing was written"
	}
	return msg + ". " + todo
}

// PartialError is a write that failed after earlier writes succeeded.
type PartialError struct {
	Failed     diff.DocRef
	Err        error
	Written    []diff.DocRef
	NotWritten []diff.DocRef
	Backup     string
}

func (e *PartialError) Error() string {
	var b strings.Builder
	if errors.Is(e.Err, context.Canceled) {
		// The request may have reached AWS before the interrupt.
		fmt.Fprintf(&b, "interrupted while writing the %s; that write may have been carried out\n", describe(e.Failed))
	} else {
		fmt.Fprintf(&b, "writing the %s failed: %v\n", describe(e.Failed), e.Err)
	}
	if len(e.Written) > 0 {
		fmt.Fprintf(&b, "written: %s\n", names(e.Written))
	} else {
		b.WriteString("nothing was written\n")
	}
	if errors.Is(e.Err, context.Canceled) {
		fmt.Fprintf(&b, "perhaps written: %s\n", describe(e.Failed))
		if len(e.NotWritten) > 0 {
			fmt.Fprintf(&b, "not written: %s\n", names(e.NotWritten))
		}
	} else {
		fmt.Fprintf(&b, "not written: %s\n", names(append([]diff.DocRef{e.Failed}, e.NotWritten...)))
	}
	if e.Backup != "" {
		fmt.Fprintf(&b, "backup of everything before the apply: %s\n", e.Backup)
	}
	b.WriteString("run the same command again: it plans only what is still missing (or `bucketgrant rollback BACKUP` to undo)")
	return b.String()
}

func (e *PartialError) Unwrap() error { return e.Err }

// Apply writes exactly the plan's changes through the store.
//
// Order: for a grant, the principal's identity policy first, then the key
// policy, then the bucket policy; for a removal the reverse. Every step only
// adds access that the final state has (or only removes access the final
// state lacks), so every intermediate state lies between the start and the
// end, and a re-run after a failure plans exactly the remaining documents.
// The resource side, which is what opens a bucket or key to another
// account, is written last.
//
// Before the first write every document is read again and compared with
// the fingerprint the plan was made from, then backed up (unless
// o.CheckAtWrite); each document is read once more right before its own
// write, so another writer's change between plan and apply, or during it,
// stops the apply instead of being overwritten.
func Apply(ctx context.Context, store Store, p *diff.Plan, o Options) (*Result, error) {
	if p.Blocked() {
		return nil, errors.New("the plan is blocked; nothing can be applied (see its blockers)")
	}
	res := &Result{}
	if p.Empty() {
		return res, nil
	}
	// A snapshot file is locked from the first read to the save, so the
	// fresh checks below are made under the lock and no other writer's
	// save can fall between them and ours.
	if l, ok := asStore[Locker](store); ok {
		if err := l.Lock(ctx); err != nil {
			return nil, err
		}
		defer l.Unlock()
	}
	if o.CheckInputs {
		if err := checkInputs(ctx, store, p); err != nil {
			return nil, err
		}
	}
	changes := Order(p)
	current, err := precheck(ctx, store, p, changes, o)
	if err != nil {
		return nil, err
	}
	if err := checkLimits(ctx, store, p, changes, current, o); err != nil {
		return nil, err
	}
	path, err := writeBackup(p, store, changes, current, o)
	if err != nil {
		return nil, err
	}
	res.BackupPath = path
	logf(o, "Backed up %d documents to %s", len(changes), path)
	if o.Parallel > 1 {
		return applyParallel(ctx, store, p, changes, res, o)
	}
	for i, ch := range changes {
		text, exists, err := store.Read(ctx, ch.Document)
		if err != nil {
			return res, finish(ctx, store, res, &PartialError{Failed: ch.Document, Err: err, Written: res.Written, NotWritten: refs(changes[i+1:]), Backup: path})
		}
		if !fresh(p, ch.Document, text, exists) {
			return res, finish(ctx, store, res, &StaleError{Document: ch.Document, Written: res.Written, Backup: path, Rollback: p.Operation == diff.PlanRollback})
		}
		if err := write(ctx, store, ch); err != nil {
			return res, finish(ctx, store, res, &PartialError{Failed: ch.Document, Err: err, Written: res.Written, NotWritten: refs(changes[i+1:]), Backup: path})
		}
		res.Written = append(res.Written, ch.Document)
		if ch.Action == diff.ActionDelete {
			logf(o, "Deleted the %s", describe(ch.Document))
		} else {
			logf(o, "Wrote the %s", describe(ch.Document))
		}
	}
	return res, finish(ctx, store, res, nil)
}

// precheck refuses what must not be written (check) and, unless
// o.CheckAtWrite, reads every document and refuses a stale plan before
// anything is written, up to o.Parallel reads at once. It returns what the
// backup saves of each document: as read now, or with CheckAtWrite as the
// plan read it (a document is written only after the read right before
// its write finds that same fingerprint).
func precheck(ctx context.Context, store Store, p *diff.Plan, changes []diff.Change, o Options) ([]saved, error) {
	current := make([]saved, len(changes))
	if o.CheckAtWrite {
		for i, ch := range changes {
			if err := check(ch, o); err != nil {
				return nil, err
			}
			exists := ch.Action != diff.ActionCreate
			text := ""
			if exists {
				text = ch.Before
			}
			current[i] = saved{Document: ch.Document, Existed: exists, Content: text, Fingerprint: fingerprint(text, exists)}
		}
		return current, nil
	}
	rollback := p.Operation == diff.PlanRollback
	err := forEach(ctx, len(changes), max(o.Parallel, 1), func(ctx context.Context, i int) error {
		ch := changes[i]
		text, exists, err := store.Read(ctx, ch.Document)
		if err != nil {
			return fmt.Errorf("reading the %s before writing: %w", describe(ch.Document), err)
		}
		if !fresh(p, ch.Document, text, exists) {
			return &StaleError{Document: ch.Document, Rollback: rollback}
		}
		current[i] = saved{Document: ch.Document, Existed: exists, Content: text, Fingerprint: fingerprint(text, exists)}
		return check(ch, o)
	})
	if err != nil {
		return nil, err
	}
	return current, nil
}

// finish saves a store that saves at the end, also after a failure, so that
// what the report calls written is written, as it would be in AWS.
func finish(ctx context.Context, store Store, res *Result, failure error) error {
	f, ok := store.(Finisher)
	if !ok || (failure != nil && len(res.Written) == 0) {
		return failure
	}
	if err := f.Finish(ctx); err != nil {
		res.Written = nil
		return errors.Join(failure, fmt.Errorf("saving %s: %w; nothing was saved", store.Describe(), err))
	}
	return failure
}

func write(ctx context.Context, store Store, ch diff.Change) error {
	if ch.Action == diff.ActionDelete {
		return store.Delete(ctx, ch.Document)
	}
	return store.Write(ctx, ch.Document, ch.After, ch.Action == diff.ActionCreate, ch.Attach)
}

// Order returns the plan's changes in the order Apply writes them.
func Order(p *diff.Plan) []diff.Change {
	removing := true
	for _, ch := range p.Changes {
		for _, s := range ch.Statements {
			if s.Op == diff.OpAdd || s.Op == diff.OpExtend {
				removing = false
			}
		}
	}
	rank := map[string]int{diff.DocInlinePolicy: 0, diff.DocManagedPolicy: 0, diff.DocKeyPolicy: 1, diff.DocBucketPolicy: 2}
	out := slices.Clone(p.Changes)
	slices.SortStableFunc(out, func(a, b diff.Change) int {
		d := rank[a.Document.Kind] - rank[b.Document.Kind]
		if removing {
			return -d
		}
		return d
	})
	return out
}

// fresh reports whether a document is as the plan saw it.
func fresh(p *diff.Plan, ref diff.DocRef, text string, exists bool) bool {
	want, ok := p.Fingerprints[ref.ID()]
	if !ok {
		return false
	}
	return fingerprint(text, exists) == want
}

// fingerprint is the planner's fingerprint of a document: its meaning, so
// a document AWS only re-laid out is not stale. Text that does not parse
// gets a digest of its bytes, which matches no plan.
func fingerprint(text string, exists bool) string {
	if !exists {
		return ""
	}
	d, err := policy.Parse([]byte(text), policy.KindAny)
	if err != nil {
		sum := sha256.Sum256([]byte(text))
		return "unparsed:" + hex.EncodeToString(sum[:])
	}
	return d.Fingerprint()
}

// check refuses what would harm the key: a key policy that no longer lets
// the caller manage it. Sizes and counts are checkLimits' (every write
// path's one limits check).
func check(ch diff.Change, o Options) error {
	if ch.Action == diff.ActionDelete || ch.Document.Kind != diff.DocKeyPolicy {
		return nil
	}
	return checkLockout(ch, o)
}

// checkLockout enforces the rule behind PutKeyPolicy's safety check, before
// AWS does and without ever bypassing it: the new key policy must still let
// the caller call kms:PutKeyPolicy (directly or through its account's IAM
// policies), and everyone the old policy let manage the key keeps that.
func checkLockout(ch diff.Change, o Options) error {
	after, err := policy.Parse([]byte(ch.After), policy.KindKeyPolicy)
	if err != nil {
		return fmt.Errorf("the merged %s does not parse: %w", describe(ch.Document), err)
	}
	var callers []policy.Caller
	if o.KeyPolicyCaller != nil {
		callers = append(callers, *o.KeyPolicyCaller)
	}
	if o.KeyPolicyCallerFor != nil {
		if c := o.KeyPolicyCallerFor(ch.Document); c != nil {
			callers = append(callers, *c)
		}
	}
	if before, err := policy.Parse([]byte(ch.Before), policy.KindKeyPolicy); err == nil {
		for _, c := range managers(before) {
			if mayManage(before, ch.Document, c) {
				callers = append(callers, c)
			}
		}
	}
	for _, c := range callers {
		if !mayManage(after, ch.Document, c) {
			msg := fmt.Sprintf("refusing to write the %s: the merged policy would not let %s call kms:PutKeyPolicy again, locking it out of the key (KMS's own lockout check refuses such a write too); nothing was written", describe(ch.Document), c.ARN)
			var admins []string
			for _, m := range managers(after) {
				if mayManage(after, ch.Document, m) {
					admins = append(admins, m.ARN)
				}
			}
			if len(admins) > 0 {
				msg += fmt.Sprintf(". The key policy lets %s manage the key: run with their credentials (--resource-profile or --resource-role-arn)", strings.Join(admins, ", "))
			}
			return errors.New(msg)
		}
	}
	return nil
}

var allowAll = policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.KindIdentity)

// mayManage reports whether a key policy lets a caller, whose own IAM
// policies allow it, call kms:PutKeyPolicy.
func mayManage(doc *policy.Document, key diff.DocRef, c policy.Caller) bool {
	req := policy.Request{Principal: c, Action: "kms:PutKeyPolicy", Resource: key.ARN, ResourceAccount: key.Account,
		Context: map[string][]string{"aws:PrincipalArn": {principalARNOf(c.ARN)}, "aws:PrincipalAccount": {c.Account}, "aws:SecureTransport": {"true"}}}
	res := policy.Evaluate(req, policy.Policies{
		Identity:     []policy.Named{{Name: "caller's identity policies", Doc: allowAll}},
		Resource:     &policy.Named{Name: "key policy", Doc: doc},
		ResourceType: policy.ResourceKMSKey,
	})
	return res.Decision == policy.Allowed
}

// partitionOf is the partition of a key policy's own ARNs, for naming the
// root of an account it names by ID ("aws" when it names none).
func partitionOf(doc *policy.Document) string {
	for _, s := range doc.Statements() {
		if s.Principal == nil {
			continue
		}
		for _, v := range s.Principal.AWS {
			if parts := strings.SplitN(v, ":", 3); len(parts) == 3 && parts[0] == "arn" {
				return parts[1]
			}
		}
	}
	return "aws"
}

// managers lists the IAM principals a key policy names, as callers.
func managers(doc *policy.Document) []policy.Caller {
	var out []policy.Caller
	for _, s := range doc.Statements() {
		if s.Principal == nil {
			continue
		}
		for _, v := range s.Principal.AWS {
			switch {
			case len(v) == 12 && strings.Trim(v, "0123456789") == "":
				out = append(out, policy.Caller{ARN: "arn:" + partitionOf(doc) + ":iam::" + v + ":root", Account: v})
			case strings.HasPrefix(v, "arn:") && !strings.Contains(v, "*"):
				parts := strings.SplitN(v, ":", 6)
				if len(parts) == 6 {
					out = append(out, policy.Caller{ARN: v, Account: parts[4]})
				}
			}
		}
	}
	return out
}

// principalARNOf is what aws:PrincipalArn holds for a caller: a role
// session's role ARN.
func principalARNOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		role := strings.Split(parts[5], "/")[1]
		return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
	}
	return arn
}

func refs(cs []diff.Change) []diff.DocRef {
	out := make([]diff.DocRef, len(cs))
	for i, c := range cs {
		out[i] = c.Document
	}
	return out
}

// describe names a document for people.
func describe(d diff.DocRef) string {
	switch d.Kind {
	case diff.DocKeyPolicy:
		return "key policy of " + d.ARN
	case diff.DocBucketPolicy:
		return "bucket policy of " + bucketOf(d)
	case diff.DocInlinePolicy:
		return fmt.Sprintf("inline policy %s of %s", d.Name, d.ARN)
	case diff.DocManagedPolicy:
		return "managed policy " + d.ARN
	}
	return d.ID()
}

func names(ds []diff.DocRef) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = describe(d)
	}
	return strings.Join(out, "; ")
}

func logf(o Options, format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
