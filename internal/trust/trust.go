// Package trust checks the trust property of a plan against the
// independent oracle (@cloud-copilot/iam-simulate, through internal/oracle):
// once the plan is applied, every request the grant needs is allowed,
// nothing is allowed that was not allowed before (other actions, other
// buckets and keys, other principals), and every statement that was in a
// document before is still there. Tests of the planner and the applier run
// it on every plan and every written state.
package trust

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Probed actions: the grant's own and the dangerous neighbours a careless
// merge would open (deleting objects, changing policies, other key uses).
var (
	s3Actions = []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetObjectVersion", "s3:PutObjectAcl",
		"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
		"s3:DeleteBucketPolicy", "s3:DeleteBucket", "s3:PutBucketAcl"}
	kmsActions = []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		"kms:GenerateDataKeyWithoutPlaintext", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:ScheduleKeyDeletion",
		"kms:DisableKey", "kms:CreateGrant", "kms:DescribeKey"}
)

// Check runs the trust property for a plan made from before, whose changes
// give after. It returns every violation found, as one error.
func Check(o *oracle.Oracle, before, after *state.State, p *diff.Plan) error {
	probes := Probes(before, after, p, Options{})
	var cases []oracle.Case
	for _, pr := range probes {
		cases = append(cases, pr.Cases()...)
	}
	res, err := o.SimulateBatch(cases)
	if err != nil {
		return err
	}
	decisions := make([]string, len(res))
	for i, r := range res {
		if r.Error != "" {
			b, _ := json.Marshal(cases[i])
			return fmt.Errorf("oracle failed on %s: %s", b, r.Error)
		}
		decisions[i] = r.Decision
	}
	var required, leaks []string
	for _, pr := range probes {
		n := len(pr.Cases())
		if v := pr.Violation(decisions[:n]); v != "" {
			if pr.Required {
				required = append(required, v)
			} else {
				leaks = append(leaks, v)
			}
		}
		decisions = decisions[n:]
	}
	if len(required) > 0 {
		return fmt.Errorf("the oracle does not allow what the plan grants: %s", strings.Join(required, "; "))
	}
	if len(leaks) > 0 {
		return fmt.Errorf("the plan allows more than it should: %s", strings.Join(leaks, "; "))
	}
	return StatementsKept(p)
}

// Options widen the probes of a check beyond its defaults.
type Options struct {
	// Callers are more principals whose access must not grow (users, roles
	// probed as a session of theirs, or sessions), for example the ones the
	// documents name.
	Callers []string
	// Objects are more object keys, relative to the bucket, to probe.
	Objects []string
	// Compact pairs object actions with objects, bucket actions with
	// buckets and key actions with keys only (the requests AWS authorizes),
	// and probes fewer neighbouring actions: for suites that run many
	// plans.
	Compact bool
}

// Probe is one request the trust property constrains: a request the plan
// grants, which must be allowed afterwards (Required), or a request that
// must not become allowed unless the plan grants it.
type Probe struct {
	Required bool
	// Before and After are the request under the documents before and
	// after the plan (Before is unset for a required probe).
	Before, After oracle.Case
	// Granted marks a request the plan grants: it may become allowed.
	Granted bool
}

// Cases are the cases to decide for the probe: After, or Before and After.
func (pr Probe) Cases() []oracle.Case {
	if pr.Required {
		return []oracle.Case{pr.After}
	}
	return []oracle.Case{pr.Before, pr.After}
}

// Violation says what is wrong given the decisions of Cases, "" if nothing.
func (pr Probe) Violation(decisions []string) string {
	c := pr.After
	if pr.Required {
		if decisions[0] != oracle.Allowed {
			return fmt.Sprintf("%s on %s is %s", c.Action, c.ResourceARN, decisions[0])
		}
		return ""
	}
	if decisions[1] == oracle.Allowed && decisions[0] != oracle.Allowed && !pr.Granted {
		return fmt.Sprintf("%s may now %s on %s", c.Principal, c.Action, c.ResourceARN)
	}
	return ""
}

// Probes lists the probes of the trust property for a plan made from
// before, whose changes give after. A request whose case is the same
// before and after (no document it reads changed) cannot change its
// decision and is left out.
func Probes(before, after *state.State, p *diff.Plan, opt Options) []Probe {
	c := &checker{before: before, after: after, plan: p, opt: opt}
	return append(c.required(), c.nothingNew()...)
}

type checker struct {
	before, after *state.State
	plan          *diff.Plan
	opt           Options
	// grantDocs caches key policies with the grants expressed (org.go),
	// by the key policy's text: the grants are the same before and after.
	grantDocs map[string]json.RawMessage
}

// caller is someone whose access is probed, with the identity policies
// that apply to them.
type caller struct {
	arn, account, id string
	identity         func(st *state.State) ([]oracle.NamedPolicy, json.RawMessage)
}

var allowAllIdentity = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

func (c *checker) principal() caller {
	s := c.plan.Subject
	arn := s.PrincipalARN
	if s.PrincipalKind == "role" {
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		arn = "arn:" + partition(arn) + ":sts::" + s.PrincipalAccount + ":assumed-role/" + name + "/bucketgrant"
		if g := c.plan.Grant.Principal; strings.Contains(g, ":assumed-role/") {
			// The plan was made for this session: it is what is probed.
			arn = g
		}
	}
	var id string
	if pr := c.before.FindPrincipal(s.PrincipalARN); pr != nil {
		id = pr.ID
	}
	return caller{arn: arn, account: s.PrincipalAccount, id: id, identity: func(st *state.State) ([]oracle.NamedPolicy, json.RawMessage) {
		return IdentityOf(st.FindPrincipal(s.PrincipalARN))
	}}
}

// others are principals the grant must not reach: another user of the
// principal's account, of the bucket's and of the key's, and the callers
// the options add. Each gets an identity policy allowing everything, so
// only the resource policies decide, and a grant that leaked to them shows.
func (c *checker) others() []caller {
	s := c.plan.Subject
	everything := func(*state.State) ([]oracle.NamedPolicy, json.RawMessage) {
		return []oracle.NamedPolicy{{Name: "allow-all", Policy: allowAllIdentity}}, nil
	}
	iam := "arn:" + partition(s.PrincipalARN) + ":iam::"
	var out []caller
	seen := map[string]bool{c.principal().arn: true}
	add := func(arn, account string) {
		if !seen[arn] && account != "" {
			seen[arn] = true
			out = append(out, caller{arn: arn, account: account, identity: everything})
		}
	}
	for _, acct := range []string{s.PrincipalAccount, s.BucketAccount, s.KeyAccount} {
		add(iam+acct+":user/bucketgrant-other", acct)
	}
	for _, arn := range c.opt.Callers {
		if strings.Contains(arn, ":role/") {
			// A role calls through a session of it.
			arn = "arn:" + partition(arn) + ":sts::" + accountOf(arn) + ":assumed-role/" + arn[strings.LastIndexByte(arn, '/')+1:] + "/probe"
		}
		add(arn, accountOf(arn))
	}
	return out
}

// IdentityOf is a principal's identity policies (inline, attached, its
// groups') and its permissions boundary, as the oracle takes them.
func IdentityOf(pr *state.Principal) ([]oracle.NamedPolicy, json.RawMessage) {
	if pr == nil {
		return nil, nil
	}
	var out []oracle.NamedPolicy
	add := func(name string, d *state.Doc) {
		if d != nil && len(d.Text) > 0 {
			out = append(out, oracle.NamedPolicy{Name: name, Policy: json.RawMessage(d.Text)})
		}
	}
	for _, in := range pr.InlinePolicies {
		add("inline:"+in.Name, in.Doc)
	}
	for _, m := range pr.AttachedPolicies {
		add(m.ARN, m.Document)
	}
	for _, g := range pr.Groups {
		for _, in := range g.InlinePolicies {
			add("group:"+g.Name+":"+in.Name, in.Doc)
		}
		for _, m := range g.AttachedPolicies {
			add("group:"+g.Name+":"+m.ARN, m.Document)
		}
	}
	var boundary json.RawMessage
	if b := pr.PermissionsBoundary; b != nil && b.Document != nil {
		boundary = json.RawMessage(b.Document.Text)
	}
	return out, boundary
}

// probe is one request to decide before and after.
type probe struct {
	who      caller
	action   string
	resource string
	kms      bool
	context  map[string][]string
}

func (c *checker) resourcePolicy(st *state.State, kms bool, resource string) json.RawMessage {
	if kms {
		if resource != c.plan.Subject.KeyARN {
			// Another key of the account, with the AWS default key policy:
			// only identity policies decide, so an identity grant that
			// names more than the one key shows.
			return json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + accountOf(resource) + `"},"Action":"kms:*","Resource":"*"}]}`)
		}
		if k := st.FindKey(c.plan.Subject.KeyARN); k != nil && k.Policy != nil {
			return json.RawMessage(k.Policy.Text)
		}
		return nil
	}
	if b := st.FindBucket(c.plan.Grant.Bucket); b != nil && b.Policy != nil {
		return json.RawMessage(b.Policy.Text)
	}
	return nil
}

func (c *checker) caseFor(st *state.State, pr probe) oracle.Case {
	identity, boundary := pr.who.identity(st)
	cs := oracle.Case{
		ResourceType: "s3", Identity: identity, Boundary: boundary, Resource: c.resourcePolicy(st, pr.kms, pr.resource),
		Principal: pr.who.arn, PrincipalAccount: pr.who.account, PrincipalID: pr.who.id,
		Action: pr.action, ResourceARN: pr.resource, ResourceAccount: c.plan.Subject.BucketAccount, Context: pr.context,
	}
	if pr.kms {
		cs.ResourceType = "kms"
		cs.ResourceAccount = accountOf(pr.resource)
	}
	if len(cs.Resource) == 0 || string(cs.Resource) == "null" {
		cs.Resource = nil
	}
	c.addOrg(st, &cs, pr.who, pr.kms) // org.go
	if pr.kms {
		c.addGrants(st, &cs, pr.who)
	}
	return cs
}

// required lists every request of the plan, which must be allowed after
// it (nothing, for a blocked plan).
func (c *checker) required() []Probe {
	if c.plan.Blocked() {
		return nil
	}
	me := c.principal()
	var out []Probe
	for _, r := range c.plan.Requests {
		pr := probe{who: me, action: r.Action, resource: r.Probe, kms: strings.HasPrefix(r.Action, "kms:"), context: r.Context}
		out = append(out, Probe{Required: true, After: c.caseFor(c.after, pr)})
	}
	return out
}

// nothingNew lists the requests that must not be allowed after the plan
// unless they were before or the plan grants them: the grant's neighbours
// (other objects, buckets, keys and actions) for the principal and for
// other principals.
func (c *checker) nothingNew() []Probe {
	s := c.plan.Subject
	bucket := s.BucketARN
	other := "arn:" + partition(bucket) + ":s3:::bucketgrant-other-bucket"
	objects := []string{bucket + "/" + c.plan.Grant.Prefix + "bucketgrant-probe/any-object", bucket + "/outside-the-prefix/object", other + "/object"}
	for _, o := range c.opt.Objects {
		if arn := bucket + "/" + o; !slices.Contains(objects, arn) {
			objects = append(objects, arn)
		}
	}
	buckets := []string{bucket, other}
	var keys []string
	if s.KeyARN != "" {
		keys = []string{s.KeyARN, s.KeyARN[:strings.LastIndexByte(s.KeyARN, '/')+1] + "00000000-0000-0000-0000-000000000000"}
	}
	s3Ctx, kmsCtx := c.contexts()
	type req struct {
		action, resource string
		kms              bool
	}
	var reqs []req
	if c.opt.Compact {
		for _, a := range compactObjectActions {
			for _, r := range objects {
				reqs = append(reqs, req{a, r, false})
			}
		}
		for _, a := range compactBucketActions {
			for _, r := range buckets {
				reqs = append(reqs, req{a, r, false})
			}
		}
		for _, a := range compactKMSActions {
			for _, k := range keys {
				reqs = append(reqs, req{a, k, true})
			}
		}
	} else {
		for _, a := range s3Actions {
			for _, r := range append(slices.Clone(objects), buckets...) {
				reqs = append(reqs, req{a, r, false})
			}
		}
		for _, a := range kmsActions {
			for _, k := range keys {
				reqs = append(reqs, req{a, k, true})
			}
		}
	}
	var out []Probe
	for _, who := range append([]caller{c.principal()}, c.others()...) {
		for _, r := range reqs {
			ctx := s3Ctx
			if r.kms {
				ctx = kmsCtx
			}
			pr := probe{who: who, action: r.action, resource: r.resource, kms: r.kms, context: withPrincipal(ctx, who)}
			was, now := c.caseFor(c.before, pr), c.caseFor(c.after, pr)
			if sameCase(was, now) {
				continue
			}
			out = append(out, Probe{Before: was, After: now, Granted: c.granted(pr)})
		}
	}
	return out
}

// The compact probe set: the grant's actions and the most dangerous
// neighbour of each kind.
var (
	compactObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectAcl", "s3:DeleteObject"}
	compactBucketActions = []string{"s3:ListBucket", "s3:PutBucketPolicy"}
	compactKMSActions    = []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:PutKeyPolicy"}
)

// sameCase reports whether two cases are the same request under the same
// documents: their decisions are then equal.
func sameCase(a, b oracle.Case) bool {
	if len(a.SCP) != len(b.SCP) || len(a.RCP) != len(b.RCP) {
		return false
	}
	if a.ResourceType != b.ResourceType || a.Principal != b.Principal || a.PrincipalAccount != b.PrincipalAccount ||
		a.PrincipalID != b.PrincipalID || a.Action != b.Action || a.ResourceARN != b.ResourceARN || a.ResourceAccount != b.ResourceAccount ||
		!bytes.Equal(a.Boundary, b.Boundary) || !bytes.Equal(a.Resource, b.Resource) || len(a.Identity) != len(b.Identity) ||
		!maps.EqualFunc(a.Context, b.Context, slices.Equal) {
		return false
	}
	for i := range a.Identity {
		if a.Identity[i].Name != b.Identity[i].Name || !bytes.Equal(a.Identity[i].Policy, b.Identity[i].Policy) {
			return false
		}
	}
	return true
}

// granted reports whether a probe is one of the plan's own requests: the
// principal, a requested action, on the bucket's objects under the prefix,
// the bucket, or the key.
func (c *checker) granted(pr probe) bool {
	if pr.who.arn != c.principal().arn {
		return false
	}
	for _, r := range c.plan.Requests {
		if !strings.EqualFold(r.Action, pr.action) {
			continue
		}
		if r.Probe == pr.resource || covers(r.Resource, pr.resource) {
			return true
		}
	}
	return false
}

// contexts returns the request contexts the plan evaluated S3 and KMS
// requests with.
func (c *checker) contexts() (s3, kms map[string][]string) {
	for _, r := range c.plan.Requests {
		if strings.HasPrefix(r.Action, "kms:") {
			kms = r.Context
		} else if s3 == nil || r.Action != "s3:ListBucket" {
			s3 = r.Context
		}
	}
	return s3, kms
}

// covers reports whether a granted resource (an ARN, or a pattern ending in
// one "*" such as bucket/prefix*) includes arn.
func covers(granted, arn string) bool {
	if p, ok := strings.CutSuffix(granted, "*"); ok && !strings.ContainsAny(p, "*?") {
		return strings.HasPrefix(arn, p)
	}
	return granted == arn
}

func withPrincipal(ctx map[string][]string, who caller) map[string][]string {
	out := make(map[string][]string, len(ctx)+4)
	for k, v := range ctx {
		out[k] = v
	}
	// The facts about the caller, as AWS sets them: a session's
	// aws:PrincipalArn is its role's ARN.
	arn, typ := who.arn, "User"
	if i := strings.Index(arn, ":assumed-role/"); i >= 0 {
		parts := strings.Split(arn[i+len(":assumed-role/"):], "/")
		arn = "arn:" + partition(arn) + ":iam::" + who.account + ":role/" + parts[0]
		typ = "AssumedRole"
	}
	out["aws:PrincipalArn"] = []string{arn}
	out["aws:PrincipalAccount"] = []string{who.account}
	delete(out, "aws:username")
	if strings.Contains(who.arn, ":user/") {
		out["aws:username"] = []string{who.arn[strings.LastIndexByte(who.arn, '/')+1:]}
	}
	if _, ok := out["aws:PrincipalType"]; ok {
		out["aws:PrincipalType"] = []string{typ}
	}
	if who.id == "" {
		delete(out, "aws:userid")
	}
	if _, ok := out["kms:CallerAccount"]; ok {
		out["kms:CallerAccount"] = []string{who.account}
	}
	return out
}

// StatementsKept checks that every statement of every document before the
// plan is still in it afterwards, byte for byte or (where a document was
// re-laid out) with the same meaning. Statements the plan says it removes
// (orphaned principals, revoke) are exempt.
func StatementsKept(p *diff.Plan) error {
	c := &checker{plan: p}
	var bad []string
	for _, ch := range c.plan.Changes {
		if ch.Before == "" {
			continue
		}
		before, err := policy.Parse([]byte(ch.Before), policy.KindAny)
		if err != nil {
			return fmt.Errorf("%s: before: %w", ch.Document.ID(), err)
		}
		if ch.Action == diff.ActionDelete {
			continue
		}
		after, err := policy.Parse([]byte(ch.After), policy.KindAny)
		if err != nil {
			return fmt.Errorf("%s: after: %w", ch.Document.ID(), err)
		}
		removed := map[int]bool{}
		extended, narrowed := map[string]bool{}, map[string]bool{}
		for _, s := range ch.Statements {
			switch s.Op {
			case diff.OpRemove, diff.OpRemovePrincipals:
				removed[s.Index] = true
			case diff.OpExtend, diff.OpRewrite:
				extended[s.Sid] = true
			case diff.OpNarrow:
				narrowed[s.Sid] = true
			}
		}
		kind := docKind(ch.Document.Kind)
		grant := diff.GrantID{Principal: c.plan.Subject.PrincipalARN, Bucket: c.plan.Grant.Bucket, Prefix: c.plan.Grant.Prefix}
		for i, st := range before.Statements() {
			if removed[i] {
				continue
			}
			if narrowed[st.Sid] {
				// Only bucketgrant's own statement may be narrowed.
				if _, owned := diff.OwnedPurpose(st, kind, grant); !owned {
					bad = append(bad, fmt.Sprintf("%s: statement %d (Sid %s) is not bucketgrant's, yet it was narrowed", ch.Document.ID(), i, st.Sid))
				}
				continue
			}
			if extended[st.Sid] {
				// Only bucketgrant's own statement may change, and only by
				// gaining actions or keys.
				if _, owned := diff.OwnedPurpose(st, kind, grant); !owned {
					bad = append(bad, fmt.Sprintf("%s: statement %d (Sid %s) is not bucketgrant's, yet it was changed", ch.Document.ID(), i, st.Sid))
				}
				if !extends(after, st) {
					bad = append(bad, fmt.Sprintf("%s: statement %s lost actions or resources when extended", ch.Document.ID(), st.Sid))
				}
				continue
			}
			if !contains(after, before, i) {
				bad = append(bad, fmt.Sprintf("%s lost statement %d", ch.Document.ID(), i))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("statements were lost: %s", strings.Join(bad, "; "))
	}
	return nil
}

// extends reports whether after holds a statement with old's Sid whose
// actions include all of old's.
func extends(after *policy.Document, old policy.Statement) bool {
	for _, s := range after.Statements() {
		if s.Sid != old.Sid || s.Action == nil || old.Action == nil {
			continue
		}
		for _, a := range old.Action.Values {
			if !slices.Contains(s.Action.Values, a) {
				return false
			}
		}
		if old.Resource != nil {
			if s.Resource == nil {
				return false
			}
			for _, r := range old.Resource.Values {
				if !slices.Contains(s.Resource.Values, r) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// docKind is the policy kind of a plan's document kind.
func docKind(kind string) policy.Kind {
	switch kind {
	case diff.DocKeyPolicy:
		return policy.KindKeyPolicy
	case diff.DocBucketPolicy:
		return policy.KindBucketPolicy
	}
	return policy.KindIdentity
}

func contains(after, before *policy.Document, i int) bool {
	text := before.StatementText(i)
	if bytes.Contains(after.Bytes(), text) {
		return true
	}
	want := single(before.Version(), text)
	for j := range after.Statements() {
		if want != nil && policy.Equal(want, single(after.Version(), after.StatementText(j))) {
			return true
		}
	}
	return false
}

func single(version string, stmt []byte) *policy.Document {
	head := "{"
	if version != "" {
		v, _ := json.Marshal(version)
		head = `{"Version":` + string(v) + ","
	}
	d, err := policy.Parse([]byte(head+`"Statement":[`+string(stmt)+`]}`), policy.KindAny)
	if err != nil {
		return nil
	}
	return d
}

func partition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 {
		return "aws"
	}
	return parts[1]
}

func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
