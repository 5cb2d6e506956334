package limits

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// AWS's defaults (aws-facts: IAM quotas, KMS resource limits, S3 policy
// size). The key and bucket policy sizes and the policy name length are
// fixed; the IAM ones can be raised per account.
const (
	KeyPolicyBytes     = 32768
	BucketPolicyBytes  = 20480
	ManagedPolicyChars = 6144
	UserInlineChars    = 2048
	GroupInlineChars   = 5120
	RoleInlineChars    = 10240
	AttachedPerUser    = 10
	AttachedPerRole    = 10
	AttachedPerGroup   = 10
	VersionsPerPolicy  = 5
	PolicyNameChars    = 128
)

// Quotas are the limits of one account.
type Quotas struct {
	KeyPolicyBytes     int
	BucketPolicyBytes  int
	ManagedPolicyChars int
	UserInlineChars    int
	GroupInlineChars   int
	RoleInlineChars    int
	AttachedPerUser    int
	AttachedPerRole    int
	AttachedPerGroup   int
	VersionsPerPolicy  int
	PolicyNameChars    int
	// Source says where the IAM quotas come from, for messages.
	Source string
}

// Defaults are AWS's default quotas; why says why the account's own are
// not used ("a snapshot file holds no quotas").
func Defaults(why string) Quotas {
	src := "AWS's default"
	if why != "" {
		src += "; " + why
	}
	return Quotas{
		KeyPolicyBytes: KeyPolicyBytes, BucketPolicyBytes: BucketPolicyBytes, ManagedPolicyChars: ManagedPolicyChars,
		UserInlineChars: UserInlineChars, GroupInlineChars: GroupInlineChars, RoleInlineChars: RoleInlineChars,
		AttachedPerUser: AttachedPerUser, AttachedPerRole: AttachedPerRole, AttachedPerGroup: AttachedPerGroup,
		VersionsPerPolicy: VersionsPerPolicy, PolicyNameChars: PolicyNameChars, Source: src,
	}
}

// FromSummary is an account's quotas from IAM's GetAccountSummary map
// (UserPolicySizeQuota, AttachedPoliciesPerUserQuota, …); a quota the map
// does not hold, or holds as zero, keeps AWS's default.
func FromSummary(summary map[string]int32, account string) Quotas {
	q := Defaults("")
	q.Source = "read from account " + account + " with iam:GetAccountSummary"
	set := func(dst *int, key string) {
		if v, ok := summary[key]; ok && v > 0 {
			*dst = int(v)
		}
	}
	set(&q.ManagedPolicyChars, "PolicySizeQuota")
	set(&q.UserInlineChars, "UserPolicySizeQuota")
	set(&q.GroupInlineChars, "GroupPolicySizeQuota")
	set(&q.RoleInlineChars, "RolePolicySizeQuota")
	set(&q.AttachedPerUser, "AttachedPoliciesPerUserQuota")
	set(&q.AttachedPerRole, "AttachedPoliciesPerRoleQuota")
	set(&q.AttachedPerGroup, "AttachedPoliciesPerGroupQuota")
	set(&q.VersionsPerPolicy, "VersionsPerPolicyQuota")
	return q
}

// IAMChars counts a policy's characters the way IAM does for its size
// quotas: white space outside strings does not count.
func IAMChars(text []byte) int {
	n, inString, escaped := 0, false, false
	for _, r := range string(text) {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			if r == '"' {
				inString = true
			}
		}
	}
	return n
}

// Touched names what a write changes: only those are checked, so that a
// document someone else left over a limit does not stop an unrelated
// write.
type Touched struct {
	KeyPolicies    []string // key ARNs
	BucketPolicies []string // bucket names
	// Principals are the users and roles whose inline policies or attached
	// managed policies change (their totals and counts are checked).
	Principals []string
	// Managed are the managed policies written (size and name).
	Managed []string
}

// Violation is one limit a write would pass.
type Violation struct {
	// What is over: "the key policy of arn:…", "the inline policies of
	// user arn:…", …
	What string
	Got  int
	Max  int
	Unit string // bytes, characters, policies
	// Quota names the limit, and Source where its value comes from (""
	// for limits that are the same everywhere).
	Quota  string
	Source string
	Fix    string
}

func (v Violation) Error() string {
	src := ""
	if v.Source != "" {
		src = " (" + v.Source + ")"
	}
	return fmt.Sprintf("%s would be %d %s, over %s of %d%s; %s", v.What, v.Got, v.Unit, v.Quota, v.Max, src, v.Fix)
}

// Check returns every limit that the write from before to after passes for
// what it touches. quotas gives an account's IAM quotas (nil: AWS's
// defaults); it is asked only about the accounts of the principals and
// managed policies touched, since KMS's and S3's limits are fixed.
// A document or total that the write does not make larger is not a
// violation, even if it is over its limit already.
func Check(before, after *state.State, t Touched, quotas func(account string) Quotas) []Violation {
	if quotas == nil {
		quotas = func(string) Quotas { return Defaults("") }
	}
	var out []Violation
	over := func(what string, got, was, max int, unit, quota, source, fix string) {
		if got > max && got > was {
			out = append(out, Violation{What: what, Got: got, Max: max, Unit: unit, Quota: quota, Source: source, Fix: fix})
		}
	}
	docSize := func(d *state.Doc, iam bool) int {
		if d == nil {
			return 0
		}
		if iam {
			return IAMChars(d.Text)
		}
		return len(d.Text)
	}
	prune := "remove statements that are no longer needed (bucketgrant's own of grants that are gone: bucketgrant sync --prune), then run again"
	for _, arn := range dedupe(t.KeyPolicies) {
		k := after.FindKey(arn)
		if k == nil {
			continue
		}
		var was int
		if kb := before.FindKey(arn); kb != nil {
			was = docSize(kb.Policy, false)
		}
		q := Defaults("") // KMS's limit is the same everywhere
		over("the key policy of "+arn, docSize(k.Policy, false), was, q.KeyPolicyBytes, "bytes", "KMS's limit", "", "from the key policy "+prune)
	}
	for _, name := range dedupe(t.BucketPolicies) {
		b := after.FindBucket(name)
		if b == nil {
			continue
		}
		var was int
		if bb := before.FindBucket(name); bb != nil {
			was = docSize(bb.Policy, false)
		}
		q := Defaults("") // S3's limit is the same everywhere
		over("the bucket policy of "+name, docSize(b.Policy, false), was, q.BucketPolicyBytes, "bytes", "S3's limit", "", "from the bucket policy "+prune)
	}
	for _, arn := range dedupe(t.Managed) {
		doc, was := managedDoc(after, arn), managedDoc(before, arn)
		q := quotas(state.AccountOf(arn))
		over("the managed policy "+arn, docSize(doc, true), docSize(was, true), q.ManagedPolicyChars, "characters (white space not counted)",
			"IAM's limit", q.Source, "from it "+prune)
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		if doc != nil && was == nil {
			over("the name of the managed policy "+arn, len(name), 0, q.PolicyNameChars, "characters", "IAM's limit", "",
				"this is a bug in bucketgrant's naming: report it")
		}
	}
	for _, arn := range dedupe(t.Principals) {
		p := after.FindPrincipal(arn)
		if p == nil {
			continue
		}
		pb := before.FindPrincipal(arn)
		q := quotas(state.AccountOf(arn))
		kind := p.Kind
		if kind == "" {
			kind = state.KindOf(p.ARN)
		}
		limit, attached := q.UserInlineChars, q.AttachedPerUser
		if kind == state.KindRole {
			limit, attached = q.RoleInlineChars, q.AttachedPerRole
		}
		total, was := 0, 0
		for _, in := range p.InlinePolicies {
			total += docSize(in.Doc, true)
			if len(in.Name) > q.PolicyNameChars && (pb == nil || !slices.ContainsFunc(pb.InlinePolicies, func(n state.NamedDoc) bool { return n.Name == in.Name })) {
				over("the name of the inline policy "+in.Name+" of "+arn, len(in.Name), 0, q.PolicyNameChars, "characters", "IAM's limit", "",
					"this is a bug in bucketgrant's naming: report it")
			}
		}
		nb := 0
		if pb != nil {
			for _, in := range pb.InlinePolicies {
				was += docSize(in.Doc, true)
			}
			nb = len(pb.AttachedPolicies)
		}
		over(fmt.Sprintf("the inline policies of %s %s together", kind, arn), total, was, limit, "characters (white space not counted)",
			"IAM's limit per "+kind, q.Source,
			fmt.Sprintf("move some of the %s's other inline policies into managed policies (or delete those no longer needed), then run again", kind))
		over(fmt.Sprintf("the managed policies attached to %s %s", kind, arn), len(p.AttachedPolicies), nb, attached, "policies",
			"IAM's quota per "+kind, q.Source,
			fmt.Sprintf("detach a managed policy the %s no longer needs, or have the account's quota raised (Service Quotas, up to 20), then run again", kind))
	}
	return out
}

func managedDoc(st *state.State, arn string) *state.Doc {
	if st == nil {
		return nil
	}
	for _, p := range st.Principals {
		for _, m := range p.AttachedPolicies {
			if m.ARN == arn {
				return m.Document
			}
		}
	}
	return nil
}

func dedupe(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
