package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// BackupFormat names the version of the backup file format.
const BackupFormat = "bucketgrant.backup/1"

// Backup is what a backup file holds: every document an apply was about to
// overwrite, as it was, and what the apply meant to write over it, so that
// rollback can restore it and tell whether someone changed it since.
type Backup struct {
	Format       string  `json:"format"`
	Created      string  `json:"created"`
	ToolVersion  string  `json:"tool_version"`
	Store        string  `json:"store"`
	PlanChecksum string  `json:"plan_checksum"`
	Principal    string  `json:"principal"`
	Bucket       string  `json:"bucket"`
	Documents    []saved `json:"documents"`
}

// saved is one backed-up document.
type saved struct {
	Document    diff.DocRef `json:"document"`
	Existed     bool        `json:"existed"`
	Fingerprint string      `json:"fingerprint"`
	Content     string      `json:"content"`
	// Written is what the apply wrote over it ("" for a deletion), with its
	// fingerprint, the state rollback expects to find.
	Written            string `json:"written"`
	WrittenFingerprint string `json:"written_fingerprint"`
	// Attached records that the apply created and attached a managed
	// policy, which rollback detaches before deleting.
	Attached bool `json:"attached,omitempty"`
	// Principal is the user or role an identity document belongs to (a
	// managed policy's ARN does not say), and Region a bucket policy's
	// bucket region: a backup of a sync spans many of each, and rollback
	// needs both to restore a document the way it was written.
	Principal string `json:"principal,omitempty"`
	Region    string `json:"region,omitempty"`
}

// DefaultBackupDir is $XDG_STATE_HOME/bucketgrant/backups, else
// ~/.local/state/bucketgrant/backups.
func DefaultBackupDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "bucketgrant", "backups"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding a directory for backups: %w (use --backup-dir)", err)
	}
	return filepath.Join(home, ".local", "state", "bucketgrant", "backups"), nil
}

func writeBackup(p *diff.Plan, store Store, changes []diff.Change, current []saved, o Options) (string, error) {
	dir := o.BackupDir
	if dir == "" {
		var err error
		if dir, err = DefaultBackupDir(); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the backup directory: %w; nothing was written", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now().UTC()
	b := Backup{Format: BackupFormat, Created: t.Format(time.RFC3339), ToolVersion: p.ToolVersion, Store: store.Describe(),
		PlanChecksum: p.Checksum, Principal: p.Subject.PrincipalARN, Bucket: p.Grant.Bucket}
	for i, ch := range changes {
		s := current[i]
		if ch.Action != diff.ActionDelete {
			s.Written, s.WrittenFingerprint = ch.After, fingerprint(ch.After, true)
		}
		s.Attached = ch.Attach
		s.Principal, s.Region = o.owner(p, ch.Document)
		b.Documents = append(b.Documents, s)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "bucketgrant-"+t.Format("20060102T150405Z")+"-*.json")
	if err != nil {
		return "", fmt.Errorf("creating the backup file: %w; nothing was written", err)
	}
	// CreateTemp makes the file 0600: backups hold policies, which name
	// accounts and principals.
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("writing the backup file: %w; nothing was written", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("writing the backup file: %w; nothing was written", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing the backup file: %w; nothing was written", err)
	}
	return f.Name(), nil
}

// ReadBackup reads a backup file.
func ReadBackup(path string) (*Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the backup: %w", err)
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("backup %s is not a bucketgrant backup: %w", path, err)
	}
	if b.Format != BackupFormat {
		return nil, fmt.Errorf("backup %s: format %q is not %q", path, b.Format, BackupFormat)
	}
	if len(b.Documents) == 0 {
		return nil, fmt.Errorf("backup %s holds no documents", path)
	}
	for i, d := range b.Documents {
		if d.Document.Kind == "" || d.Document.ARN == "" {
			return nil, fmt.Errorf("backup %s: document %d has no kind or ARN", path, i)
		}
		switch d.Document.Kind {
		case diff.DocKeyPolicy, diff.DocBucketPolicy, diff.DocInlinePolicy, diff.DocManagedPolicy:
		default:
			return nil, fmt.Errorf("backup %s: document %d has kind %q, which bucketgrant never writes; the file was changed", path, i, d.Document.Kind)
		}
		if d.Existed && fingerprint(d.Content, true) != d.Fingerprint {
			return nil, fmt.Errorf("backup %s: the content of the %s does not match its fingerprint; the file was changed", path, describe(d.Document))
		}
	}
	return &b, nil
}

// PrincipalOf is the user or role a document of the backup belongs to: the
// one recorded with it, else (backups of one grant, and backups made before
// documents recorded it) the principal of the apply; "" when the backup
// does not say (a sync's backup made by an older bucketgrant).
func (b *Backup) PrincipalOf(ref diff.DocRef) string {
	for _, d := range b.Documents {
		if d.Document.ID() == ref.ID() && d.Principal != "" {
			return d.Principal
		}
	}
	if ref.Kind == diff.DocInlinePolicy {
		return ref.ARN
	}
	return b.Principal
}

// RegionOf is the region of a bucket whose policy the backup holds, ""
// where it does not say.
func (b *Backup) RegionOf(bucket string) string {
	for _, d := range b.Documents {
		if d.Document.Kind == diff.DocBucketPolicy && bucketOf(d.Document) == bucket && d.Region != "" {
			return d.Region
		}
	}
	return ""
}

// UnknownOwners lists the managed policies whose rollback must attach or
// detach them but whose user or role the backup does not say. A snapshot
// file can still tell (StateStore looks the attachment up); AWS cannot be
// asked cheaply, so rollback on AWS refuses such a backup before writing.
func (b *Backup) UnknownOwners() []string {
	var out []string
	for _, d := range b.Documents {
		if d.Document.Kind == diff.DocManagedPolicy && d.Existed != (d.Written != "") && b.PrincipalOf(d.Document) == "" {
			out = append(out, d.Document.ARN)
		}
	}
	return out
}

// Accounts lists the accounts whose identity documents (IAM) and resource
// documents (key and bucket policies) the backup holds, for checking that
// the credentials of a rollback reach them.
func (b *Backup) Accounts() (identity, resource []string) {
	for _, d := range b.Documents {
		list := &resource
		if d.Document.Kind == diff.DocInlinePolicy || d.Document.Kind == diff.DocManagedPolicy {
			list = &identity
		}
		if !slices.Contains(*list, d.Document.Account) {
			*list = append(*list, d.Document.Account)
		}
	}
	return identity, resource
}

// RollbackPlan is the plan that restores a backup: each document goes back
// to its saved content (or is deleted if it did not exist), and the plan is
// stale unless each still holds what the apply wrote.
func RollbackPlan(b *Backup, toolVersion string) (*diff.Plan, error) {
	if b == nil {
		return nil, errors.New("no backup")
	}
	p := &diff.Plan{Format: diff.PlanFormat, ToolVersion: toolVersion, Operation: diff.PlanRollback,
		Grant:   diff.Grant{Principal: b.Principal, Bucket: b.Bucket},
		Subject: diff.Subject{PrincipalARN: b.Principal},
		Changes: []diff.Change{}, Blockers: []diff.Blocker{}, Warnings: []diff.Warning{}, Requests: []diff.Request{},
		Fingerprints: map[string]string{}}
	for _, d := range b.Documents {
		ch := diff.Change{Document: d.Document, Before: d.Written}
		p.Fingerprints[d.Document.ID()] = d.WrittenFingerprint
		reason := "restore the content saved at " + b.Created
		switch {
		case !d.Existed && d.Written == "":
			continue // the apply deleted what did not exist: nothing to do
		case !d.Existed:
			ch.Action = diff.ActionDelete
			reason = "remove what the apply created at " + b.Created
		case d.Written == "":
			ch.Action, ch.After = diff.ActionCreate, d.Content
			ch.Attach = d.Document.Kind == diff.DocManagedPolicy
		default:
			ch.Action, ch.After = diff.ActionUpdate, d.Content
		}
		// Restoring takes back what the apply did: written in removal
		// order, resource side first.
		ch.Statements = []diff.StatementChange{{Op: diff.OpRemove, Reason: reason}}
		p.Changes = append(p.Changes, ch)
	}
	p.Seal()
	return p, nil
}
