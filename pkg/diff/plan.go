package diff

import "github.com/bucketgrant/bucketgrant/pkg/policy"

// PlanFormat names the version of the Plan's JSON schema (docs/plan-schema.md).
const PlanFormat = "bucketgrant.plan/1"

// Plan is what must change for a principal to get the requested access to a
// bucket, and why. It is plain data: rendered as text or JSON by the CLI,
// saved to a file, applied later by pkg/apply.
type Plan struct {
	Format      string `json:"format"`
	ToolVersion string `json:"tool_version"`
	// Operation is what the plan does: PlanGrant, PlanRevoke or
	// PlanRollback.
	Operation string  `json:"operation"`
	Grant     Grant   `json:"grant"`
	Subject   Subject `json:"subject"`
	// Requests are the requests the principal needs, each with today's
	// verdict and the verdict after the changes.
	Requests []Request `json:"requests"`
	Changes  []Change  `json:"changes"`
	Blockers []Blocker `json:"blockers"`
	Warnings []Warning `json:"warnings"`
	// NotEvaluated lists the policy types that also decide access but that
	// the tool cannot read (SCPs, RCPs, VPC endpoint and session policies).
	NotEvaluated []string `json:"not_evaluated"`
	// Organization lists the SCPs and RCPs evaluated (org.go); nil when
	// the organization was not read.
	Organization *Organization `json:"organization,omitempty"`
	// Fingerprints of every document the plan was made from, by document
	// ID ("" for a document that did not exist), for stale-plan detection.
	Fingerprints map[string]string `json:"fingerprints"`
	// Checksum covers everything above; a plan whose checksum does not match
	// was edited after it was made and is refused.
	Checksum string `json:"checksum,omitempty"`
}

// Plan operations.
const (
	PlanGrant    = "grant"
	PlanRevoke   = "revoke"
	PlanRollback = "rollback"
)

// Grant is what was asked for.
type Grant struct {
	Principal                string  `json:"principal"`
	Bucket                   string  `json:"bucket"`
	Access                   []Level `json:"access"`
	Prefix                   string  `json:"prefix,omitempty"`
	KMSVia                   string  `json:"kms_via"`
	KMSThroughS3             bool    `json:"kms_through_s3,omitempty"`
	RemoveOrphanedPrincipals bool    `json:"remove_orphaned_principals,omitempty"`
	DropOldKeys              bool    `json:"drop_old_keys,omitempty"`
}

// Subject is what the plan found the grant to be about.
type Subject struct {
	PrincipalARN     string `json:"principal_arn"`
	PrincipalKind    string `json:"principal_kind"` // user or role
	PrincipalAccount string `json:"principal_account"`
	BucketARN        string `json:"bucket_arn"`
	BucketAccount    string `json:"bucket_account"`
	BucketRegion     string `json:"bucket_region"`
	CrossAccount     bool   `json:"cross_account"`
	KeyARN           string `json:"key_arn,omitempty"`
	// KeyAccount is the key's account: it may differ from the bucket's,
	// and each is compared with the principal's on its own.
	KeyAccount string `json:"key_account,omitempty"`
	Encryption string `json:"encryption"` // aws:kms, aws:kms:dsse, AES256 or none
}

// Request is one API request the principal needs.
type Request struct {
	Level    Level           `json:"level"`
	Action   string          `json:"action"`
	Resource string          `json:"resource"`
	Before   policy.Decision `json:"before"`
	After    policy.Decision `json:"after"`
	// Why explains today's verdict: the statements that allow or deny it,
	// or the documents that do not grant it.
	Why string `json:"why"`
	// Probe is the concrete ARN evaluated for Resource (an object under
	// the prefix stands for every object), and Context the request's
	// condition keys: the facts about the principal and what requests must
	// carry to avoid conditional denies.
	Probe   string              `json:"probe"`
	Context map[string][]string `json:"context"`
	// Undecided lists condition keys that statements about this request
	// test but the request was evaluated without: requests that carry them
	// may be decided otherwise ("allowed only if it comes through vpce-…").
	Undecided []string `json:"undecided,omitempty"`
	// Condition, when set, is what the verdict needs of the keys
	// bucketgrant cannot know ("aws:PrincipalOrgID = o-1"): the request
	// is allowed only if it holds.
	Condition string `json:"condition,omitempty"`
}

// Allowed reports whether the request is allowed once the plan is applied.
func (r Request) Allowed() bool { return r.After == policy.Allowed }

// Document kinds.
const (
	DocKeyPolicy     = "key-policy"
	DocBucketPolicy  = "bucket-policy"
	DocInlinePolicy  = "inline-policy"
	DocManagedPolicy = "managed-policy"
)

// DocRef names one document AWS stores.
type DocRef struct {
	Kind string `json:"kind"`
	// ARN is the key, the bucket, the managed policy, or for an inline
	// policy the user or role that holds it.
	ARN     string `json:"arn"`
	Name    string `json:"name,omitempty"` // inline policy name
	Account string `json:"account"`
}

// PolicyKind is how the document is parsed and judged: a key policy, a
// bucket policy, or (inline or managed) an identity policy.
func (d DocRef) PolicyKind() policy.Kind {
	switch d.Kind {
	case DocKeyPolicy:
		return policy.KindKeyPolicy
	case DocBucketPolicy:
		return policy.KindBucketPolicy
	}
	return policy.KindIdentity
}

// ID is the document's stable identifier, used as the key of fingerprints.
func (d DocRef) ID() string {
	if d.Name != "" {
		return d.Kind + ":" + d.ARN + ":" + d.Name
	}
	return d.Kind + ":" + d.ARN
}

// Change actions.
const (
	ActionCreate = "create" // the document does not exist yet
	ActionUpdate = "update"
	ActionDelete = "delete" // revoke removes the tool's own policy
)

// Change is one document to write.
type Change struct {
	Document DocRef `json:"document"`
	Action   string `json:"action"`
	// Before is the document's text as read ("" for create); After the text
	// to write ("" for delete).
	Before string `json:"before"`
	After  string `json:"after"`
	// Attach is set when a created managed policy must be attached to the
	// principal.
	Attach     bool              `json:"attach,omitempty"`
	Statements []StatementChange `json:"statements"`
}

// Statement change operations.
const (
	OpAdd    = "add"
	OpExtend = "extend"
	OpRemove = "remove"
	// OpRewrite brings bucketgrant's own statement up to date without
	// adding actions (a new key, changed encryption settings).
	OpRewrite = "rewrite"
	// OpRemovePrincipals removes orphaned unique IDs from someone else's
	// statement (only with --remove-orphaned-principals).
	OpRemovePrincipals = "remove-principals"
)

// StatementChange is one statement added, extended or removed, and why.
type StatementChange struct {
	Op      string   `json:"op"`
	Sid     string   `json:"sid,omitempty"`
	Index   int      `json:"index"`
	Actions []string `json:"actions,omitempty"`
	// Principals lists the principal entries removed (remove-principals).
	Principals []string `json:"principals,omitempty"`
	Reason     string   `json:"reason"`
}

// Blocker kinds.
const (
	BlockExplicitDeny       = "explicit-deny"
	BlockBoundary           = "permissions-boundary"
	BlockAWSManagedKey      = "aws-managed-key"
	BlockKeyState           = "key-state"
	BlockKeyRegion          = "key-region"
	BlockAliasCrossAccount  = "alias-cross-account"
	BlockSizeLimit          = "size-limit"
	BlockMissingPrincipal   = "missing-principal"
	BlockOrphanedPrincipals = "orphaned-principals"
	BlockKeyNotDelegated    = "key-not-delegated"
	BlockMissingKey         = "missing-key"
	BlockKeyLockout         = "key-lockout"
	BlockForeignSid         = "foreign-sid"
	BlockOrphanDeny         = "orphan-deny"
	BlockUndecidable        = "undecidable"
	// BlockOrgPolicy: an SCP or RCP denies the request, or a level of the
	// organization allows nothing for it (org.go).
	BlockOrgPolicy = "organization-policy"
)

// Blocker is a reason the grant cannot be made by adding statements.
// Nothing is applied while a plan has blockers.
type Blocker struct {
	Kind      string      `json:"kind"`
	Message   string      `json:"message"`
	Hint      string      `json:"hint,omitempty"`
	Document  *DocRef     `json:"document,omitempty"`
	Statement *policy.Ref `json:"statement,omitempty"`
	// OrgPolicy names the SCP or RCP and its level for an
	// organization-policy blocker.
	OrgPolicy *OrgPolicyRef `json:"org_policy,omitempty"`
}

// Warning kinds.
const (
	WarnNoKMS           = "no-kms-encryption"
	WarnConditionalDeny = "conditional-deny"
	// WarnConditionalAllow: the request is allowed only for some values of
	// keys bucketgrant cannot read, because the allows it needs hold only
	// for those (no deny is involved), and no grant bucketgrant may add
	// works for the others.
	WarnConditionalAllow = "conditional-allow"
	WarnACLDisabled      = "acl-disabled"
	WarnPartialDeny      = "partial-deny"
	WarnForeignSid       = "foreign-sid"
	WarnSession          = "role-session"
	WarnOldKey           = "old-key"
)

// Warning is something the operator should know that does not stop the
// grant.
type Warning struct {
	Kind      string      `json:"kind"`
	Message   string      `json:"message"`
	Document  *DocRef     `json:"document,omitempty"`
	Statement *policy.Ref `json:"statement,omitempty"`
}

// Blocked reports whether the plan has blockers.
func (p *Plan) Blocked() bool { return len(p.Blockers) > 0 }

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }
