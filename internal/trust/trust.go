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
	c := &checker{o: o, before: before, after: after, plan: p}
	if err := c.required(); err != nil {
		return err
	}
	if err := c.nothingNew(); err != nil {
		return err
	}
	return c.statementsKept()
}

type checker struct {
	o             *oracle.Oracle
	before, after *state.State
	plan          *diff.Plan
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
	}
	var id string
	if pr := c.before.FindPrincipal(s.PrincipalARN); pr != nil {
		id = pr.ID
	}
	return caller{arn: arn, account: s.PrincipalAccount, id: id, identity: func(st *state.State) ([]oracle.NamedPolicy, json.RawMessage) {
		return identityOf(st.FindPrincipal(s.PrincipalARN))
	}}
}

// others are principals the grant must not reach: another user of the
// principal's account and one of the bucket's account. Each gets an
// identity policy allowing everything, so only the resource policies
// decide, and a grant that leaked to them shows.
func (c *checker) others() []caller {
	s := c.plan.Subject
	everything := func(*state.State) ([]oracle.NamedPolicy, json.RawMessage) {
		return []oracle.NamedPolicy{{Name: "allow-all", Policy: allowAllIdentity}}, nil
	}
	iam := "arn:" + partition(s.PrincipalARN) + ":iam::"
	out := []caller{{arn: iam + s.PrincipalAccount + ":user/bucketgrant-other", account: s.PrincipalAccount, identity: everything}}
	if s.BucketAccount != s.PrincipalAccount {
		out = append(out, caller{arn: iam + s.BucketAccount + ":user/bucketgrant-other", account: s.BucketAccount, identity: everything})
	}
	return out
}

func identityOf(pr *state.Principal) ([]oracle.NamedPolicy, json.RawMessage) {
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
	return cs
}

func (c *checker) decide(st *state.State, probes []probe) ([]string, error) {
	cases := make([]oracle.Case, len(probes))
	for i, pr := range probes {
		cases[i] = c.caseFor(st, pr)
	}
	res, err := c.o.SimulateBatch(cases)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res))
	for i, r := range res {
		if r.Error != "" {
			b, _ := json.Marshal(cases[i])
			return nil, fmt.Errorf("oracle failed on %s: %s", b, r.Error)
		}
		out[i] = r.Decision
	}
	return out, nil
}

// required checks that every request of the plan is allowed after it.
func (c *checker) required() error {
	if c.plan.Blocked() {
		return nil
	}
	me := c.principal()
	var probes []probe
	for _, r := range c.plan.Requests {
		probes = append(probes, probe{who: me, action: r.Action, resource: r.Probe, kms: strings.HasPrefix(r.Action, "kms:"), context: r.Context})
	}
	got, err := c.decide(c.after, probes)
	if err != nil {
		return err
	}
	var bad []string
	for i, d := range got {
		if d != oracle.Allowed {
			bad = append(bad, fmt.Sprintf("%s on %s is %s", probes[i].action, probes[i].resource, d))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the oracle does not allow what the plan grants: %s", strings.Join(bad, "; "))
	}
	return nil
}

// nothingNew checks that no probe is allowed after the plan that was not
// allowed before, except the requests the plan grants.
func (c *checker) nothingNew() error {
	s := c.plan.Subject
	bucket := s.BucketARN
	other := "arn:" + partition(bucket) + ":s3:::bucketgrant-other-bucket"
	objects := []string{bucket + "/" + c.plan.Grant.Prefix + "bucketgrant-probe/any-object", bucket + "/outside-the-prefix/object", other + "/object"}
	buckets := []string{bucket, other}
	var keys []string
	if s.KeyARN != "" {
		keys = []string{s.KeyARN, s.KeyARN[:strings.LastIndexByte(s.KeyARN, '/')+1] + "00000000-0000-0000-0000-000000000000"}
	}
	s3Ctx, kmsCtx := c.contexts()
	var probes []probe
	for _, who := range append([]caller{c.principal()}, c.others()...) {
		for _, a := range s3Actions {
			for _, r := range append(slices.Clone(objects), buckets...) {
				probes = append(probes, probe{who: who, action: a, resource: r, context: withPrincipal(s3Ctx, who)})
			}
		}
		for _, a := range kmsActions {
			for _, k := range keys {
				probes = append(probes, probe{who: who, action: a, resource: k, kms: true, context: withPrincipal(kmsCtx, who)})
			}
		}
	}
	was, err := c.decide(c.before, probes)
	if err != nil {
		return err
	}
	now, err := c.decide(c.after, probes)
	if err != nil {
		return err
	}
	var bad []string
	for i, pr := range probes {
		if now[i] == oracle.Allowed && was[i] != oracle.Allowed && !c.granted(pr) {
			bad = append(bad, fmt.Sprintf("%s may now %s on %s", pr.who.arn, pr.action, pr.resource))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the plan allows more than it should: %s", strings.Join(bad, "; "))
	}
	return nil
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
	out := map[string][]string{}
	for k, v := range ctx {
		out[k] = v
	}
	out["aws:PrincipalArn"] = []string{who.arn}
	out["aws:PrincipalAccount"] = []string{who.account}
	if strings.Contains(who.arn, ":user/") {
		out["aws:username"] = []string{who.arn[strings.LastIndexByte(who.arn, '/')+1:]}
	}
	if who.id == "" {
		delete(out, "aws:userid")
	}
	if _, ok := out["kms:CallerAccount"]; ok {
		out["kms:CallerAccount"] = []string{who.account}
	}
	return out
}

// statementsKept checks that every statement of every document before the
// plan is still in it afterwards, byte for byte or (where a document was
// re-laid out) with the same meaning. Statements the plan says it removes
// (orphaned principals, revoke) are exempt.
func (c *checker) statementsKept() error {
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
		extended := map[string]bool{}
		for _, s := range ch.Statements {
			switch s.Op {
			case diff.OpRemove, diff.OpRemovePrincipals:
				removed[s.Index] = true
			case diff.OpExtend, diff.OpRewrite:
				extended[s.Sid] = true
			}
		}
		kind := docKind(ch.Document.Kind)
		grant := diff.GrantID{Principal: c.plan.Subject.PrincipalARN, Bucket: c.plan.Grant.Bucket, Prefix: c.plan.Grant.Prefix}
		for i, st := range before.Statements() {
			if removed[i] {
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
