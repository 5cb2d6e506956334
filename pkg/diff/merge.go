package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// SidPrefix starts the Sid of every statement bucketgrant writes. The rest
// of the Sid is a purpose and a digest of principal, bucket, prefix and
// purpose, so the same grant always lands in the same statement and revoke
// finds exactly its own. Letters and digits only: IAM accepts nothing else.
const SidPrefix = "BucketGrant"

// Size limits AWS enforces on writes (pkg/limits holds them, and the one
// check every write path makes).
const (
	KeyPolicyLimit     = limits.KeyPolicyBytes     // bytes
	BucketPolicyLimit  = limits.BucketPolicyBytes  // bytes
	ManagedPolicyLimit = limits.ManagedPolicyChars // characters, white space not counted
	UserInlineLimit    = limits.UserInlineChars    // all of a user's inline policies together
	RoleInlineLimit    = limits.RoleInlineChars    // all of a role's inline policies together
	maxSidDigest       = 10
	inlinePolicyPrefix = "bucketgrant-"
	managedPolicyPath  = "/bucketgrant/"
	purposeObjects     = "Objects"
	purposeList        = "List"
	purposeKMS         = "Kms"
)

// SidFor returns the Sid of bucketgrant's statement for one purpose of one
// grant.
func SidFor(principalARN, bucket, prefix, purpose string) string {
	sum := sha256.Sum256([]byte(principalARN + "\n" + bucket + "\n" + prefix + "\n" + purpose))
	return SidPrefix + purpose + hex.EncodeToString(sum[:])[:maxSidDigest]
}

// InlinePolicyName is the inline policy that holds a principal's grants on
// a bucket: bucketgrant-<bucket>. A legacy bucket name can run to 255
// characters and IAM's policy names stop at 128, so a longer name keeps its
// first characters and ends in a digest of the whole bucket name: stable,
// and distinct for two buckets that share the first characters.
func InlinePolicyName(bucket string) string {
	name := inlinePolicyPrefix + bucket
	if len(name) <= maxPolicyName {
		return name
	}
	sum := sha256.Sum256([]byte(bucket))
	digest := hex.EncodeToString(sum[:])[:maxSidDigest]
	return name[:maxPolicyName-1-len(digest)] + "-" + digest
}

// maxPolicyName is IAM's limit on a policy name.
const maxPolicyName = limits.PolicyNameChars

// ManagedPolicyARN is the customer managed policy that holds a principal's
// grants on a bucket when its inline policies are full. A managed policy
// belongs to the account, not the principal, so its name carries a digest
// of the principal's ARN: two principals granted on one bucket never share
// (and so never receive each other's) grants.
func ManagedPolicyARN(principalARN, bucket string) string {
	sum := sha256.Sum256([]byte(principalARN))
	digest := hex.EncodeToString(sum[:])[:maxSidDigest]
	name := inlinePolicyPrefix + bucket + "-" + digest
	if len(name) > maxPolicyName {
		// Legacy bucket names can be long; the digest then names both.
		sum = sha256.Sum256([]byte(principalARN + "\n" + bucket))
		name = inlinePolicyPrefix + hex.EncodeToString(sum[:])[:32]
	}
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", partitionOf(principalARN), accountOf(principalARN), managedPolicyPath, name)
}

// target is one document the plan may change.
type target struct {
	ref    DocRef
	kind   policy.Kind
	before *policy.Document // nil: the document does not exist yet
	after  *policy.Document
	stmts  []StatementChange
	attach bool
	// grants collects the actions per purpose before they are merged.
	grants map[string]*grant
	order  []string
	// pending holds the statements to append, added in one edit.
	pending [][]byte
}

type grant struct {
	actions []string
	reasons []string
}

func (t *target) add(purpose, action, reason string) {
	if t.grants == nil {
		t.grants = map[string]*grant{}
	}
	g := t.grants[purpose]
	if g == nil {
		g = &grant{}
		t.grants[purpose] = g
		t.order = append(t.order, purpose)
	}
	if !slices.Contains(g.actions, action) {
		g.actions = append(g.actions, action)
		g.reasons = append(g.reasons, reason)
	}
}

// reason says why the grant's actions are needed, grouping actions refused
// for the same reason: "s3:GetObject, s3:PutObject: the bucket policy …".
func (g *grant) reason() string {
	var order []string
	by := map[string][]string{}
	for i, r := range g.reasons {
		if by[r] == nil {
			order = append(order, r)
		}
		by[r] = append(by[r], g.actions[i])
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = strings.Join(by[r], ", ") + ": " + r
	}
	return strings.Join(parts, "; ")
}

type merge struct {
	p                     *planner
	key, bucket, identity *target
}

func newMerge(p *planner) *merge {
	m := &merge{p: p}
	if p.now.key != nil {
		m.key = &target{ref: DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)}, kind: policy.KindKeyPolicy, before: p.now.key.Doc}
	}
	m.bucket = &target{ref: p.bucketRef(), kind: policy.KindBucketPolicy}
	if p.now.bucket != nil {
		m.bucket.before = p.now.bucket.Doc
	}
	m.identity = p.identityTarget()
	return m
}

// identityTarget picks the document for identity-side grants: the
// principal's own managed policy for the bucket if one is attached (an
// earlier run fell back to it), else the inline policy bucketgrant-<bucket>.
func (p *planner) identityTarget() *target {
	name := InlinePolicyName(p.bucket.Name)
	managed := ManagedPolicyARN(p.principalARN, p.bucket.Name)
	for _, d := range p.now.identity {
		if d.own && d.ref.Kind == DocManagedPolicy && d.ref.ARN == managed {
			return &target{ref: d.ref, kind: policy.KindIdentity, before: d.named.Doc}
		}
	}
	t := &target{ref: DocRef{Kind: DocInlinePolicy, ARN: p.principalARN, Name: name, Account: p.principalAccount}, kind: policy.KindIdentity}
	for _, d := range p.now.identity {
		if d.own && d.ref == t.ref {
			t.before = d.named.Doc
		}
	}
	return t
}

func (m *merge) add(n need, pl placement) {
	purpose := purposeObjects
	switch {
	case n.service == "kms":
		purpose = purposeKMS
	case n.level == List:
		purpose = purposeList
	}
	if pl.key {
		m.key.add(purpose, n.action, pl.keyWhy)
	}
	if pl.bucket {
		m.bucket.add(purpose, n.action, pl.bucketWhy)
	}
	if pl.identity {
		m.identity.add(purpose, n.action, pl.identityWhy)
	}
}

// finish merges the collected grants into copies of the documents and
// checks what AWS would refuse to save.
func (m *merge) finish() error {
	p := m.p
	for _, t := range []*target{m.key, m.bucket, m.identity} {
		if t == nil || len(t.grants) == 0 {
			continue
		}
		if err := m.apply(t); err != nil {
			return err
		}
	}
	if m.identity.ref.Kind == DocInlinePolicy && len(m.identity.grants) > 0 && m.inlineTooLarge() {
		if err := m.moveToManaged(); err != nil {
			return err
		}
	}
	for _, t := range []*target{m.key, m.bucket} {
		if t != nil && len(t.stmts) > 0 {
			if err := m.orphans(t); err != nil {
				return err
			}
		}
	}
	m.checkSizes()
	if p.plan.Blocked() {
		return nil
	}
	return nil
}

// apply merges a target's grants into a copy of its document.
func (m *merge) apply(t *target) error {
	if t.before != nil {
		t.after = t.before.Clone()
	} else {
		t.after = policy.New(t.kind)
	}
	t.pending = nil
	for _, purpose := range t.order {
		g := t.grants[purpose]
		if err := m.upsert(t, purpose, g); err != nil {
			return fmt.Errorf("merging into %s: %w", t.ref.ID(), err)
		}
	}
	// New statements go in with one edit: a document is parsed again once
	// per edit, and key policies are large.
	if err := t.after.AppendStatements(t.pending...); err != nil {
		return fmt.Errorf("merging into %s: %w", t.ref.ID(), err)
	}
	return nil
}

// upsert adds bucketgrant's statement for a purpose, or extends (or
// rewrites whole) the statement an earlier run left there. Only a statement
// bucketgrant owns is touched (owned.go): one that carries the grant's Sid
// but allows more is someone else's, and the grant's statement goes beside
// it under the next free Sid.
func (m *merge) upsert(t *target, purpose string, g *grant) error {
	p := m.p
	id := p.grantID()
	base := baseSid(id, purpose)
	reason := g.reason()
	// Which of the grant's Sids are taken, without a set of every Sid of
	// a policy of hundreds of statements.
	var used [maxSidVariants + 1]bool
	var foreign []policy.Statement
	var owned []int
	for i, s := range t.after.Statements() {
		k := sidVariantOf(s.Sid, base)
		if k == 0 {
			continue
		}
		used[k] = true
		if !ownedContent(s, t.kind, id, purpose) {
			foreign = append(foreign, s)
			continue
		}
		if !m.keepsOldKeys(t, purpose) {
			return m.rewrite(t, i, s, purpose, g, reason)
		}
		owned = append(owned, i)
	}
	if len(owned) > 0 {
		i, err := m.ownedForCurrentKey(t, owned, g, reason)
		if err != nil {
			return err
		}
		if i >= 0 {
			return m.rewrite(t, i, t.after.Statements()[i], purpose, g, reason)
		}
		// A statement of its own for the current key, below.
	}
	sid := ""
	for k := 1; k <= maxSidVariants; k++ {
		if !used[k] {
			sid = sidVariant(base, k)
			break
		}
	}
	if sid == "" {
		ref := t.ref
		p.block(Blocker{Kind: BlockForeignSid, Document: &ref,
			Message: fmt.Sprintf("every Sid bucketgrant could use for %s's %s statement in %s is taken by statements it does not own", p.principalARN, strings.ToLower(purpose), t.ref.ID()),
			Hint:    "rename the statements whose Sid starts with " + base + " (they allow more than bucketgrant's grant)"})
		return nil
	}
	for _, f := range foreign {
		ref := t.ref
		st := policy.Ref{Document: t.ref.ID(), Index: f.Index, Sid: f.Sid}
		p.warn(Warning{Kind: WarnForeignSid, Document: &ref, Statement: &st,
			Message: fmt.Sprintf("statement %d of %s carries bucketgrant's Sid %s but allows more than the grant (another principal, other resources, other actions or conditions): it is left as it is, and bucketgrant writes its own statement %s beside it", f.Index, t.ref.ID(), f.Sid, sid)})
	}
	actions := sortActions(g.actions)
	raw, err := json.Marshal(m.statement(t, sid, purpose, actions, nil))
	if err != nil {
		return err
	}
	t.pending = append(t.pending, raw)
	t.stmts = append(t.stmts, StatementChange{Op: OpAdd, Sid: sid, Index: len(t.after.Statements()) + len(t.pending) - 1, Actions: actions, Reason: reason})
	return nil
}

// keepsOldKeys says whether the target's statement for a purpose is the
// identity KMS statement, which names the keys the bucket used before
// beside its key now.
func (m *merge) keepsOldKeys(t *target, purpose string) bool {
	return purpose == purposeKMS && t.kind == policy.KindIdentity && m.p.key != nil
}

// ownedForCurrentKey picks, among the grant's own identity KMS statements
// (owned, by index), the one to bring up to date, or -1 for a new statement
// for the bucket's key now. The keys in one statement share its actions,
// so the keys the bucket used before keep the actions they were granted
// (objects written under them are read, never written again) and the key
// now gets those the grant needs: a statement that names old keys is
// given the key now only when its actions are exactly the grant's.
// Otherwise the key now gets a statement of its own, and leaves the old
// statement if it was there. Found by the life-sequence test: a read
// grant made write after re-keying let the role generate data keys under
// the old key (sequence 2763), and a write grant narrowed to read after
// re-keying gave the new key the old statement's write actions (11145).
func (m *merge) ownedForCurrentKey(t *target, owned []int, g *grant, reason string) (int, error) {
	stmts := t.after.Statements()
	cur := m.p.key.ARN
	covers := func(s policy.Statement) bool {
		return !slices.ContainsFunc(g.actions, func(a string) bool { return !containsFold(valuesOf(s.Action), a) })
	}
	oldKeys := func(s policy.Statement) []string {
		return slices.DeleteFunc(slices.Clone(valuesOf(s.Resource)), func(k string) bool { return k == cur })
	}
	for _, i := range owned {
		s := stmts[i]
		if !slices.Contains(valuesOf(s.Resource), cur) {
			continue
		}
		olds := oldKeys(s)
		if covers(s) || len(olds) == 0 {
			return i, nil
		}
		// The old keys stay as they were; the key now moves to the new
		// statement, with the actions it had and the grant's.
		for _, a := range valuesOf(s.Action) {
			if !containsFold(g.actions, a) {
				g.actions = append(slices.Clip(g.actions), a)
			}
		}
		raw, _ := json.Marshal(olds)
		if len(olds) == 1 {
			raw, _ = json.Marshal(olds[0])
		}
		if err := t.after.SetStatementMember(i, "Resource", raw); err != nil {
			return -1, err
		}
		m.warnOldKeys(t, s.Sid, olds)
		t.stmts = append(t.stmts, StatementChange{Op: OpRewrite, Sid: s.Sid, Index: i,
			Reason: reason + fmt.Sprintf(" (%s moves to a statement of its own: the keys the bucket used before keep only the actions they had)", cur)})
		return -1, nil
	}
	same := func(s policy.Statement) bool {
		have := valuesOf(s.Action)
		return covers(s) && !slices.ContainsFunc(have, func(a string) bool { return !containsFold(g.actions, a) })
	}
	for _, i := range owned {
		if same(stmts[i]) {
			return i, nil
		}
	}
	for _, i := range owned {
		m.warnOldKeys(t, stmts[i].Sid, oldKeys(stmts[i]))
	}
	return -1, nil
}

// warnOldKeys says that the grant's KMS statement still names keys the
// bucket used before.
func (m *merge) warnOldKeys(t *target, sid string, old []string) {
	if len(old) == 0 {
		return
	}
	ref := t.ref
	m.p.warn(Warning{Kind: WarnOldKey, Document: &ref,
		Message: fmt.Sprintf("bucketgrant's KMS statement %s also names %s, which the bucket used before %s: objects written under it still need it, so it stays granted; plan with --drop-old-keys to remove it once no object uses it", sid, strings.Join(old, ", "), m.p.key.ARN)})
}

// rewrite brings bucketgrant's own statement i up to what the grant needs:
// the actions it lacks, the bucket's current key besides the keys it names
// (objects written under an earlier key still need that one), and the
// conditions bucketgrant writes today. Members that already hold what is
// needed keep their bytes.
func (m *merge) rewrite(t *target, i int, s policy.Statement, purpose string, g *grant, reason string) error {
	have := valuesOf(s.Action)
	actions := slices.Clone(have)
	var added []string
	for _, a := range g.actions {
		if !containsFold(actions, a) {
			actions = append(actions, a)
			added = append(added, a)
		}
	}
	var keys []string
	if purpose == purposeKMS && t.kind == policy.KindIdentity {
		keys = slices.Clone(valuesOf(s.Resource))
		if !slices.Contains(keys, m.p.key.ARN) {
			keys = append(keys, m.p.key.ARN)
		}
	}
	m.warnOldKeys(t, s.Sid, slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == m.p.key.ARN }))
	want := m.statement(t, s.Sid, purpose, actions, keys)
	wantDoc, err := policy.Parse(statementDoc(want), t.kind)
	if err != nil {
		return fmt.Errorf("bucketgrant's statement %s: %w", s.Sid, err)
	}
	w := wantDoc.Statements()[0]
	changed := false
	if len(added) > 0 {
		raw, _ := json.Marshal(actions)
		if err := t.after.SetStatementMember(i, "Action", raw); err != nil {
			return err
		}
		changed = true
	}
	if !slices.Equal(valuesOf(s.Resource), valuesOf(w.Resource)) {
		raw, _ := json.Marshal(want.Resource)
		if err := t.after.SetStatementMember(i, "Resource", raw); err != nil {
			return err
		}
		changed = true
	}
	if !sameConditions(s.Conditions, w.Conditions) {
		if want.Condition == nil {
			if err := t.after.RemoveStatementMember(i, "Condition"); err != nil {
				return err
			}
		} else {
			raw, _ := json.Marshal(want.Condition)
			if err := t.after.SetStatementMember(i, "Condition", raw); err != nil {
				return err
			}
		}
		changed = true
	}
	if !changed {
		return nil
	}
	op := OpExtend
	if len(added) == 0 {
		op = OpRewrite
		reason += " (bucketgrant's own statement is brought up to date: the bucket's key or encryption settings changed)"
	}
	t.stmts = append(t.stmts, StatementChange{Op: op, Sid: s.Sid, Index: i, Actions: added, Reason: reason})
	return nil
}

// statementDoc renders one statement as a one-statement policy document.
func statementDoc(st stmtJSON) []byte {
	b, _ := json.Marshal(map[string]any{"Version": policy.Version2012, "Statement": []stmtJSON{st}}) // plain data
	return b
}

// sameConditions compares condition blocks regardless of their order.
func sameConditions(a, b []policy.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(c policy.Condition) string {
		return c.Operator + "\x00" + strings.ToLower(c.Key) + "\x00" + strings.Join(c.Values, "\x00")
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// grantID names the grant being planned.
func (p *planner) grantID() GrantID {
	return GrantID{Principal: p.principalARN, Bucket: p.bucket.Name, Prefix: p.opts.Prefix}
}

// stmtJSON is a statement bucketgrant writes, members in the order people
// expect to read them.
type stmtJSON struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal *principalJSON            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

type principalJSON struct {
	AWS string `json:"AWS"`
}

// statement is bucketgrant's statement for a purpose. keys, for a KMS
// statement in an identity policy, lists the key ARNs it names (nil: the
// bucket's key).
func (m *merge) statement(t *target, sid, purpose string, actions []string, keys []string) stmtJSON {
	p := m.p
	bucketARN := p.bucketARN()
	s := stmtJSON{Sid: sid, Effect: "Allow", Action: actions}
	if t.kind != policy.KindIdentity {
		s.Principal = &principalJSON{AWS: p.principalARN}
	}
	switch purpose {
	case purposeObjects:
		s.Resource = bucketARN + "/" + p.opts.Prefix + "*"
	case purposeList:
		s.Resource = bucketARN
		if p.opts.Prefix != "" {
			s.Condition = map[string]map[string]any{"StringLike": {"s3:prefix": []string{p.opts.Prefix + "*"}}}
		}
	case purposeKMS:
		s.Resource = p.key.ARN
		if len(keys) > 1 {
			s.Resource = keys
		}
		if t.kind == policy.KindKeyPolicy {
			// In a key policy "*" means this key (aws-facts.md §3).
			s.Resource = "*"
		}
		if p.opts.KMSThroughS3 {
			s.Condition = m.kmsThroughS3()
		}
	}
	return s
}

// kmsThroughS3 limits a KMS grant to use by S3 in the bucket's region and to
// this bucket's objects (or the bucket, where S3 Bucket Keys are on, since
// S3 then sends the bucket ARN as encryption context; aws-facts.md §1).
func (m *merge) kmsThroughS3() map[string]map[string]any {
	p := m.p
	bucketARN := p.bucketARN()
	c := map[string]map[string]any{
		"StringEquals": {"kms:ViaService": p.s3Endpoint()},
	}
	if p.bucket.Encryption != nil && p.bucket.Encryption.BucketKeyEnabled {
		c["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] = bucketARN
	} else {
		c["StringLike"] = map[string]any{"kms:EncryptionContext:aws:s3:arn": bucketARN + "/" + p.opts.Prefix + "*"}
	}
	return c
}

// inlineTooLarge reports whether the principal's inline policies together,
// with the merged one, pass IAM's aggregate limit.
func (m *merge) inlineTooLarge() bool {
	p := m.p
	total := IAMSize(m.identity.after.Bytes())
	for _, in := range p.principal.InlinePolicies {
		if in.Name != m.identity.ref.Name && in.Doc != nil {
			total += IAMSize(in.Doc.Text)
		}
	}
	return total > m.inlineLimit()
}

func (m *merge) inlineLimit() int {
	if m.p.kind == state.KindRole {
		return RoleInlineLimit
	}
	return UserInlineLimit
}

// moveToManaged puts the identity grants into a new customer managed policy
// attached to the principal, because the inline policies would pass their
// aggregate limit.
func (m *merge) moveToManaged() error {
	p := m.p
	arn := ManagedPolicyARN(p.principalARN, p.bucket.Name)
	old := m.identity
	t := &target{ref: DocRef{Kind: DocManagedPolicy, ARN: arn, Account: p.principalAccount}, kind: policy.KindIdentity,
		attach: true, grants: old.grants, order: old.order}
	p.plan.Fingerprints[t.ref.ID()] = ""
	delete(p.fingerprints, t.ref.ID()) // this, not a read's (takeFingerprints)
	if err := m.apply(t); err != nil {
		return err
	}
	for i := range t.stmts {
		t.stmts[i].Reason += fmt.Sprintf(" (in a managed policy: the inline policies of %s would pass IAM's %d-character limit)", p.principalARN, m.inlineLimit())
	}
	m.identity = t
	return nil
}

// checkSizes blocks documents AWS would refuse for their size.
func (m *merge) checkSizes() {
	p := m.p
	check := func(t *target, size, limit int, unit string) {
		if t == nil || t.after == nil || len(t.stmts) == 0 || size <= limit {
			return
		}
		ref := t.ref
		p.block(Blocker{Kind: BlockSizeLimit, Document: &ref,
			Message: fmt.Sprintf("the merged %s of %s would be %d %s, over AWS's limit of %d", strings.ReplaceAll(t.ref.Kind, "-", " "), t.ref.ARN, size, unit, limit),
			Hint:    "remove statements that are no longer needed from the document, then plan again"})
	}
	if m.key != nil && m.key.after != nil {
		check(m.key, m.key.after.Len(), KeyPolicyLimit, "bytes")
	}
	if m.bucket.after != nil {
		check(m.bucket, m.bucket.after.Len(), BucketPolicyLimit, "bytes")
	}
	if t := m.identity; t.after != nil && t.ref.Kind == DocManagedPolicy {
		check(t, IAMSize(t.after.Bytes()), ManagedPolicyLimit, "characters")
	}
}

// IAMSize counts a document's characters the way IAM does for its size
// limits: white space outside strings does not count.
func IAMSize(text []byte) int { return limits.IAMChars(text) }

// docSet returns the documents with the merged changes.
func (m *merge) docSet() docSet {
	s := m.p.now
	if m.key != nil && m.key.after != nil {
		s.key = &policy.Named{Name: s.key.Name, Doc: m.key.after}
	}
	if m.bucket.after != nil {
		s.bucket = &policy.Named{Name: bucketPolicyName(m.p.bucket.Name), Doc: m.bucket.after}
	}
	if t := m.identity; t.after != nil {
		s.identity = slices.Clone(s.identity)
		named := policy.Named{Name: identityName(m.p, t.ref), Doc: t.after}
		replaced := false
		for i, d := range s.identity {
			if d.ref == t.ref {
				s.identity[i].named = named
				replaced = true
			}
		}
		if !replaced {
			s.identity = append(s.identity, identityDoc{ref: t.ref, named: named, own: true})
		}
	}
	return m.p.markOthers(s)
}

func identityName(p *planner, ref DocRef) string {
	if ref.Kind == DocInlinePolicy {
		return inlineName(p.kind+"/"+lastSegment(p.principalARN), ref.Name)
	}
	return "managed policy " + ref.ARN
}

// changes lists the documents to write, in the order apply writes them.
func (m *merge) changes() []Change {
	var out []Change
	for _, t := range []*target{m.identity, m.key, m.bucket} {
		if t == nil || t.after == nil || len(t.stmts) == 0 {
			continue
		}
		c := Change{Document: t.ref, Action: ActionUpdate, After: t.after.String(), Attach: t.attach, Statements: t.stmts}
		if t.before != nil {
			c.Before = t.before.String()
		} else {
			c.Action = ActionCreate
			// Created documents must still not exist at apply time.
			if _, ok := m.p.plan.Fingerprints[t.ref.ID()]; !ok {
				m.p.plan.Fingerprints[t.ref.ID()] = ""
			}
		}
		remember(t.kind, c.After, t.after.Clone())
		out = append(out, c)
	}
	return out
}

func valuesOf(s *policy.Strings) []string {
	if s == nil {
		return nil
	}
	return s.Values
}

func containsFold(list []string, v string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
}

// sortActions orders actions as the levels and KMS rules list them.
func sortActions(actions []string) []string {
	rank := map[string]int{}
	for i, l := range allLevels {
		rank[l.s3Action()] = i
	}
	rank["kms:Decrypt"], rank["kms:GenerateDataKey"] = 10, 11
	out := slices.Clone(actions)
	slices.SortStableFunc(out, func(a, b string) int { return rank[a] - rank[b] })
	return out
}
