package diff

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Options select the grant to plan.
type Options struct {
	Principal string  // user or role ARN, or an assumed-role session ARN
	Bucket    string  // bucket name
	Access    []Level // nil: DefaultLevels
	Prefix    string  // narrows object access to keys starting with it
	// KMSVia chooses where a same-account KMS grant goes: "auto" (the
	// identity policy when the key policy delegates to the account, else the
	// key policy), "key-policy" or "identity".
	KMSVia                   string
	KMSThroughS3             bool
	RemoveOrphanedPrincipals bool
	// DropOldKeys removes from the grant's statements the keys the
	// bucket's default encryption used before its key now (rekey.go).
	DropOldKeys bool
	ToolVersion string
	// Now is the time requests are judged at (aws:CurrentTime); zero
	// means the time of planning.
	Now time.Time
	// NoFingerprints leaves the fingerprints of the documents read out of
	// the plan (Plan.Fingerprints keeps those of absent documents and of
	// the other inputs). For a plan that is merged into a larger one which
	// takes its own, as sync's are: such a plan cannot be applied alone.
	NoFingerprints bool
}

// KMS placement choices.
const (
	ViaAuto      = "auto"
	ViaKeyPolicy = "key-policy"
	ViaIdentity  = "identity"
)

func (o *Options) validate() error {
	switch o.KMSVia {
	case "":
		o.KMSVia = ViaAuto
	case ViaAuto, ViaKeyPolicy, ViaIdentity:
	default:
		return fmt.Errorf("--kms-via %q: use auto, key-policy or identity", o.KMSVia)
	}
	if o.Bucket == "" {
		return errors.New("no bucket given")
	}
	if o.Principal == "" {
		return errors.New("no principal given")
	}
	if strings.ContainsAny(o.Prefix, "*?$") {
		return fmt.Errorf("--prefix %q: a prefix is literal text; it must not contain *, ? or $", o.Prefix)
	}
	// A control character would go into the policies' Resource and
	// s3:prefix values, which AWS refuses or nobody can read back.
	if strings.ContainsFunc(o.Prefix, isControl) {
		return fmt.Errorf("--prefix %q: a prefix must not contain control characters", o.Prefix)
	}
	return nil
}

// planner holds one planning run.
type planner struct {
	st   *state.State
	opts Options
	plan *Plan

	bucket    *state.Bucket
	key       *state.Key
	principal *state.Principal
	levels    []Level

	principalARN     string // user or role ARN (a session resolves to its role)
	principalAccount string
	kind             string // user or role
	// cross: the bucket is in another account than the principal;
	// crossKey: the key is. Each side is placed by its own account, so a
	// key in a third account is handled like any cross-account key.
	cross, crossKey bool
	// session is the session name when --principal is an assumed-role
	// session ARN: that session is what is evaluated.
	session string
	// prot is set for a role whose identity policies belong to AWS
	// (protected.go).
	prot *protected

	now docSet // documents as read
	// fingerprints of the documents read, by document ID, made when the
	// plan is done (takeFingerprints).
	fingerprints map[string]func() string
	// unsaveable marks the placement sides whose document AWS would
	// refuse to save with a grant in it (solve.go).
	unsaveable map[string]bool
}

// Make plans the grant described by opts against the state. It returns an
// error for input it cannot plan with (an unknown bucket, a malformed
// document); everything AWS would refuse or that the tool must not do is a
// Blocker in the plan.
func Make(st *state.State, opts Options) (*Plan, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p := &planner{st: st, opts: opts}
	return p.done(p.make())
}

// done ends a plan that planned without error: its fingerprints are taken.
func (p *planner) done(plan *Plan, err error) (*Plan, error) {
	if err != nil {
		return nil, err
	}
	p.takeFingerprints()
	return plan, nil
}

func (p *planner) make() (*Plan, error) {
	opts := p.opts
	p.plan = &Plan{
		Format: PlanFormat, ToolVersion: opts.ToolVersion, Operation: PlanGrant,
		Grant: Grant{
			Principal: opts.Principal, Bucket: opts.Bucket, Prefix: opts.Prefix, KMSVia: opts.KMSVia,
			KMSThroughS3: opts.KMSThroughS3, RemoveOrphanedPrincipals: opts.RemoveOrphanedPrincipals, DropOldKeys: opts.DropOldKeys,
		},
		Requests: []Request{}, Changes: []Change{}, Blockers: []Blocker{}, Warnings: []Warning{},
		NotEvaluated: append(slices.Clone(notEvaluatedOrg), "VPC endpoint policies", "session policies"),
		Fingerprints: map[string]string{},
	}
	if err := p.locate(); err != nil {
		return nil, err
	}
	if p.principal == nil {
		p.plan.Grant.Access = p.levels
		return p.plan, nil
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	p.checkKey()
	if p.plan.Blocked() {
		return p.plan, nil
	}
	if err := p.solve(); err != nil {
		return nil, err
	}
	if err := p.oldKeys(); err != nil {
		return nil, err
	}
	p.finishProtected()
	p.noteGrantsNotRead()
	p.noteSessionTags()
	p.addInputFingerprints() // inputs.go
	return p.plan, nil
}

// locate finds the bucket, the principal and the key, and fills Subject.
func (p *planner) locate() error {
	p.bucket = p.st.FindBucket(p.opts.Bucket)
	if p.bucket == nil {
		return fmt.Errorf("bucket %q is not in the state: take a snapshot that includes it, or check the name", p.opts.Bucket)
	}
	arn, err := parsePrincipalARN(p.opts.Principal)
	if err != nil {
		return err
	}
	p.principal = p.st.FindPrincipal(arn)
	p.principalARN, p.principalAccount, p.kind = arn, accountOf(arn), state.KindOf(arn)
	if p.principal != nil {
		// A session resolves to its role, whose full ARN (with path) is
		// what policies name.
		p.principalARN, p.kind = p.principal.ARN, state.KindOf(p.principal.ARN)
	}
	p.cross = p.principalAccount != p.bucket.Account
	if k := ProtectedRole(p.principalARN); k != "" && p.kind == state.KindRole {
		p.prot = &protected{kind: k, blocker: -1}
	}
	if strings.Contains(arn, ":assumed-role/") {
		p.session = lastSegment(arn)
		if p.principal != nil {
			p.warn(Warning{Kind: WarnSession, Message: fmt.Sprintf("evaluated for the session %s of %s; grants name the role, and other sessions of it may be decided differently where a policy tests the session (aws:userid, the session ARN, session tags or session policies)", p.session, p.principalARN)})
		}
	}
	s := &p.plan.Subject
	*s = Subject{
		PrincipalARN: p.principalARN, PrincipalKind: p.kind, PrincipalAccount: p.principalAccount,
		BucketARN: p.bucketARN(), BucketAccount: p.bucket.Account, BucketRegion: p.bucket.Region,
		CrossAccount: p.cross, Encryption: "none",
	}
	p.levels = p.opts.Access
	if len(p.levels) == 0 {
		p.levels = DefaultLevels(p.cross, p.bucket.ObjectOwnership)
	} else if p.bucket.ObjectOwnership == "BucketOwnerEnforced" && slices.Contains(p.levels, ACL) {
		p.levels = slices.DeleteFunc(slices.Clone(p.levels), func(l Level) bool { return l == ACL })
		p.warn(Warning{Kind: WarnACLDisabled, Message: fmt.Sprintf("ACLs are disabled on %s (Object Ownership is BucketOwnerEnforced): s3:PutObjectAcl requests fail there whatever the policies say, so acl is not granted", p.bucket.Name)})
	}
	p.levels = sortLevels(slices.Clone(p.levels))
	if p.principal == nil {
		p.block(Blocker{Kind: BlockMissingPrincipal,
			Message: fmt.Sprintf("%s does not exist (or is not in the state)", arn),
			Hint:    "create the user or role first, or check the ARN; policies cannot name a principal that does not exist"})
	}
	if enc := p.bucket.Encryption; enc != nil && enc.SSEAlgorithm != "" {
		s.Encryption = enc.SSEAlgorithm
	}
	if !strings.HasPrefix(s.Encryption, "aws:kms") {
		p.warn(Warning{Kind: WarnNoKMS, Message: fmt.Sprintf("%s has no KMS default encryption (%s): only S3 permissions are granted, no key is involved", p.bucket.Name, s.Encryption)})
		return nil
	}
	p.key = p.st.KeyForBucket(p.bucket)
	if p.key == nil {
		id := p.bucket.Encryption.KMSMasterKeyID
		if id == "" {
			id = "alias/aws/s3"
		}
		p.block(Blocker{Kind: BlockMissingKey,
			Message: fmt.Sprintf("the key %s named by %s's default encryption was not found", id, p.bucket.Name),
			Hint:    "check the bucket's default encryption; the key may have been deleted, or belong to an account the snapshot does not cover"})
		return nil
	}
	s.KeyARN, s.KeyAccount = p.key.ARN, accountOf(p.key.ARN)
	p.crossKey = s.KeyAccount != p.principalAccount
	return nil
}

// parsePrincipalARN checks the principal ARN given on the command line.
func parsePrincipalARN(s string) (string, error) {
	kind := state.KindOf(s)
	if kind == "" {
		return "", fmt.Errorf("--principal %q: expected an IAM user or role ARN (arn:aws:iam::111122223333:user/Jane) or an assumed-role session ARN", s)
	}
	if a := accountOf(s); len(a) != 12 || strings.Trim(a, "0123456789") != "" {
		return "", fmt.Errorf("--principal %q: the account must be 12 digits", s)
	}
	// A wildcard would grant every matching principal, and policies name
	// one principal only by its exact ARN.
	if strings.ContainsAny(s, "*?") || strings.ContainsFunc(s, isControl) {
		return "", fmt.Errorf("--principal %q: the ARN of one user or role, without wildcards or control characters", s)
	}
	return s, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkKey reports what about the key itself stops the grant.
func (p *planner) checkKey() {
	k := p.key
	if k == nil {
		return
	}
	keyRef := &DocRef{Kind: DocKeyPolicy, ARN: k.ARN, Account: accountOf(k.ARN)}
	if k.KeyState != "" && k.KeyState != "Enabled" {
		p.block(Blocker{Kind: BlockKeyState, Document: keyRef,
			Message: fmt.Sprintf("the key %s is %s: S3 cannot encrypt or decrypt with it, whatever the policies say", k.ARN, k.KeyState),
			Hint:    "enable the key (or cancel its deletion) first"})
	}
	if r := regionOf(k.ARN); r != "" && p.bucket.Region != "" && r != p.bucket.Region {
		p.block(Blocker{Kind: BlockKeyRegion, Document: keyRef,
			Message: fmt.Sprintf("the key %s is in %s but the bucket %s is in %s: S3 can use only a key in the bucket's region", k.ARN, r, p.bucket.Name, p.bucket.Region),
			Hint:    "set the bucket's default encryption to a key in " + p.bucket.Region})
	}
	if p.crossKey && k.KeyManager == "AWS" {
		p.block(Blocker{Kind: BlockAWSManagedKey, Document: keyRef,
			Message: fmt.Sprintf("the key %s is an AWS managed key: its key policy cannot be changed, so it cannot be shared with account %s", k.ARN, p.principalAccount),
			Hint:    "encrypt the bucket with a customer managed key instead"})
	}
	if id := p.bucket.Encryption.KMSMasterKeyID; p.cross && isAlias(id) && slices.Contains(p.levels, Write) {
		p.block(Blocker{Kind: BlockAliasCrossAccount, Document: keyRef,
			Message: fmt.Sprintf("%s's default encryption names its key by alias (%s): uploads from account %s resolve the alias in their own account, not in %s", p.bucket.Name, id, p.principalAccount, p.bucket.Account),
			Hint:    "set the bucket's default encryption to the full key ARN " + k.ARN})
	}
}

func isAlias(id string) bool {
	return strings.HasPrefix(id, "alias/") || strings.Contains(id, ":alias/")
}

func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

func (p *planner) block(b Blocker) { p.plan.Blockers = append(p.plan.Blockers, b) }

func (p *planner) warn(w Warning) {
	for _, have := range p.plan.Warnings {
		if have.Message == w.Message {
			return
		}
	}
	p.plan.Warnings = append(p.plan.Warnings, w)
}
