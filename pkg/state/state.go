package state

import (
	"bytes"
	"strings"
	"sync/atomic"
)

// Form is the shape a document was given in: a JSON object, or a JSON
// string that holds the document's text (as AWS returns it).
type Form int

const (
	// FormString is a document held in a JSON string. It is the zero value
	// because that is what AWS returns and what a fresh snapshot writes.
	FormString Form = iota
	// FormObject is a document written inline as a JSON object.
	FormObject
)

func (f Form) String() string {
	if f == FormObject {
		return "object"
	}
	return "string"
}

// Doc is one policy document: its exact JSON text and the form it was given
// in. A nil *Doc means "no document" (a bucket without a policy).
//
// Text is replaced, never edited in place: a Doc remembers what the planner
// derived from its text (Memo), and a new text, not new bytes in the old
// one, is what tells that memo apart from the document.
type Doc struct {
	Text []byte
	Form Form

	memo atomic.Pointer[docMemo]
}

// docMemo is a value derived from one text of a Doc.
type docMemo struct {
	text []byte // the Text it was derived from (the same bytes, not a copy)
	val  any
}

// Memo returns the value SetMemo stored for the document's current text
// (nil if none, or if Text has been replaced since). The planner keeps
// what it learns from a document's text here (which of its statements carry
// bucketgrant's Sids), so that it parses a document once however many
// grants ask, and forgets it when the document goes: a cache beside the
// state, keyed by text, forgot most of a large run's documents before they
// were asked about again.
func (d *Doc) Memo() any {
	if d == nil {
		return nil
	}
	m := d.memo.Load()
	if m == nil || !sameBytes(m.text, d.Text) {
		return nil
	}
	return m.val
}

// SetMemo stores v as derived from the document's current text.
func (d *Doc) SetMemo(v any) {
	if d != nil {
		d.memo.Store(&docMemo{text: d.Text, val: v})
	}
}

// sameBytes reports whether a and b are the same slice of the same array.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// NewDoc returns a string-form document holding text (the form AWS uses).
func NewDoc(text string) *Doc { return &Doc{Text: []byte(text)} }

// Equal reports whether two documents have the same text and form. Two nil
// documents are equal. It is a byte comparison; semantic comparison belongs
// to pkg/policy.
func (d *Doc) Equal(o *Doc) bool {
	if d == nil || o == nil {
		return d == nil && o == nil
	}
	return d.Form == o.Form && bytes.Equal(d.Text, o.Text)
}

// String returns the document text ("" for nil).
func (d *Doc) String() string {
	if d == nil {
		return ""
	}
	return string(d.Text)
}

// Clone returns a deep copy.
func (d *Doc) Clone() *Doc {
	if d == nil {
		return nil
	}
	return &Doc{Text: bytes.Clone(d.Text), Form: d.Form}
}

// Source is the raw JSON an object was read from (a snapshot file's bytes
// for that object). It is opaque to the planner: the snapshot writer compares
// an object with its Source to keep unknown members and untouched formatting.
// Objects read from live AWS have none. Keep it when editing an object in
// place; drop it (nil) to have the object written afresh.
type Source []byte

// State is everything the planner reads.
type State struct {
	Buckets    []Bucket
	Keys       []Key
	Principals []Principal
	// Org is the organization as read (org.go); nil when it was not read.
	Org *Organization

	Source Source
}

// Bucket is one S3 bucket.
type Bucket struct {
	Name    string
	Account string
	Region  string
	// Encryption is the default encryption rule; nil where none is configured.
	Encryption *Encryption
	// ObjectOwnership is BucketOwnerEnforced, BucketOwnerPreferred,
	// ObjectWriter, or "" where unknown / not configured.
	ObjectOwnership string
	// Policy is the bucket policy; nil where the bucket has none.
	Policy *Doc

	Source Source
}

// Encryption is a bucket's default encryption rule.
type Encryption struct {
	SSEAlgorithm string
	// KMSMasterKeyID is as S3 returns it: key ID, key ARN, alias name or
	// alias ARN; "" means the AWS managed key aws/s3 (for aws:kms).
	KMSMasterKeyID   string
	BucketKeyEnabled bool

	Source Source
}

// Key is one KMS key.
type Key struct {
	ARN        string
	KeyManager string // CUSTOMER or AWS
	KeyState   string // Enabled, Disabled, PendingDeletion, ...
	Aliases    []string
	// Region is the key's region ("" where unknown; see RegionOf).
	Region      string
	MultiRegion bool
	Policy      *Doc
	// Grants are the key's KMS grants; nil where they were not read (a
	// snapshot without them, or credentials without kms:ListGrants), empty
	// where the key has none.
	Grants []Grant

	Source Source
}

// Principal kinds.
const (
	KindUser = "user"
	KindRole = "role"
)

// Principal is an IAM user or role and every identity document that applies
// to it.
type Principal struct {
	ARN  string
	ID   string
	Kind string // KindUser or KindRole; see KindOf
	// InlinePolicies keeps the order the policies were read in.
	InlinePolicies   []NamedDoc
	AttachedPolicies []ManagedPolicy
	Groups           []Group
	// PermissionsBoundary is nil where none is set.
	PermissionsBoundary *ManagedPolicy
	// Tags are the user's or role's IAM tags (the values of
	// aws:PrincipalTag/*); nil where they were not read, empty where it has
	// none.
	Tags []Tag

	Source Source
}

// NamedDoc is an inline policy.
type NamedDoc struct {
	Name string
	Doc  *Doc
}

// ManagedPolicy is a managed policy (attached, or used as a boundary) with
// its default version's document.
type ManagedPolicy struct {
	ARN      string
	Document *Doc
	// VersionID is the default version's ID when read live ("" otherwise).
	VersionID string

	Source Source
}

// Group is an IAM group the user belongs to.
type Group struct {
	Name             string
	InlinePolicies   []NamedDoc
	AttachedPolicies []ManagedPolicy

	Source Source
}

// FindBucket returns the bucket with that name, or nil.
func (s *State) FindBucket(name string) *Bucket {
	if s == nil {
		return nil
	}
	if len(s.Buckets) > scanMax {
		if i, ok := s.lookup().bucket[name]; ok && i < len(s.Buckets) && s.Buckets[i].Name == name {
			return &s.Buckets[i]
		}
	}
	for i := range s.Buckets {
		if s.Buckets[i].Name == name {
			return &s.Buckets[i]
		}
	}
	return nil
}

// FindKey returns the key with that ARN, or nil.
func (s *State) FindKey(arn string) *Key {
	if s == nil {
		return nil
	}
	if len(s.Keys) > scanMax {
		if i, ok := s.lookup().key[arn]; ok && i < len(s.Keys) && s.Keys[i].ARN == arn {
			return &s.Keys[i]
		}
	}
	for i := range s.Keys {
		if s.Keys[i].ARN == arn {
			return &s.Keys[i]
		}
	}
	return nil
}

// FindPrincipal returns the principal with that ARN, or nil. IAM user and
// role names are unique in an account whatever their path, so a user or
// role ARN with another (or no) path finds the same principal; an
// assumed-role session ARN (arn:aws:sts::A:assumed-role/Role/session) finds
// the role named Role in account A.
func (s *State) FindPrincipal(arn string) *Principal {
	if s == nil {
		return nil
	}
	if len(s.Principals) > scanMax {
		ix := s.lookup()
		if i, ok := ix.principal[arn]; ok && i < len(s.Principals) && s.Principals[i].ARN == arn {
			return &s.Principals[i]
		}
		if k := queryNameKey(arn); k != "" {
			if i, ok := ix.byName[k]; ok && i < len(s.Principals) && nameKey(s.Principals[i].ARN) == k {
				return &s.Principals[i]
			}
		}
	}
	for i := range s.Principals {
		if s.Principals[i].ARN == arn {
			return &s.Principals[i]
		}
	}
	p, err := ParseARN(arn)
	if err != nil {
		return nil
	}
	var kind, name string
	parts := strings.Split(p.Resource, "/")
	switch {
	case p.Service == "sts" && parts[0] == "assumed-role" && len(parts) == 3:
		kind, name = "role", parts[1]
	case p.Service == "iam" && (parts[0] == "user" || parts[0] == "role") && len(parts) >= 2:
		kind, name = parts[0], parts[len(parts)-1]
	default:
		return nil
	}
	for i := range s.Principals {
		q, err := ParseARN(s.Principals[i].ARN)
		if err != nil || q.Service != "iam" || q.Account != p.Account || q.Partition != p.Partition {
			continue
		}
		if strings.HasPrefix(q.Resource, kind+"/") && lastSegment(q.Resource) == name {
			return &s.Principals[i]
		}
	}
	return nil
}

// KeyForBucket resolves the bucket's default-encryption key
// (kms_master_key_id) against the keys held. It returns nil where the bucket
// has no KMS default encryption or the key is not held.
func (s *State) KeyForBucket(b *Bucket) *Key {
	if s == nil || b == nil || b.Encryption == nil {
		return nil
	}
	id := b.Encryption.KMSMasterKeyID
	if id == "" {
		if !strings.HasPrefix(b.Encryption.SSEAlgorithm, "aws:kms") {
			return nil
		}
		id = "alias/aws/s3"
	}
	return s.ResolveKey(id, b.Account, b.Region)
}

// ResolveKey finds the key named by id, which may be a key ARN, a key ID, an
// alias name (alias/x) or an alias ARN. Key IDs and alias names are looked up
// in account and region (the bucket's); a key ID matches any held key with
// that ID when account or region is "".
func (s *State) ResolveKey(id, account, region string) *Key {
	if s == nil || id == "" {
		return nil
	}
	if a, err := ParseARN(id); err == nil {
		if a.Service != "kms" {
			return nil
		}
		switch {
		case strings.HasPrefix(a.Resource, "key/"):
			if k := s.FindKey(id); k != nil {
				return k
			}
			return s.findKeyID(strings.TrimPrefix(a.Resource, "key/"), a.Account, a.Region)
		case strings.HasPrefix(a.Resource, "alias/"):
			return s.findAlias(a.Resource, a.Account, a.Region)
		}
		return nil
	}
	if strings.HasPrefix(id, "alias/") {
		return s.findAlias(id, account, region)
	}
	return s.findKeyID(id, account, region)
}

func (s *State) findKeyID(keyID, account, region string) *Key {
	for i := range s.Keys {
		k := &s.Keys[i]
		a, err := ParseARN(k.ARN)
		if err != nil || a.Resource != "key/"+keyID {
			continue
		}
		if account != "" && a.Account != account {
			continue
		}
		if region != "" && a.Region != region {
			continue
		}
		return k
	}
	return nil
}

func (s *State) findAlias(alias, account, region string) *Key {
	for i := range s.Keys {
		k := &s.Keys[i]
		a, err := ParseARN(k.ARN)
		if err != nil {
			continue
		}
		if account != "" && a.Account != account {
			continue
		}
		if region != "" && a.Region != region {
			continue
		}
		for _, al := range k.Aliases {
			if al == alias {
				return k
			}
		}
	}
	return nil
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}
