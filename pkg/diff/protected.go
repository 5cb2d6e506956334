package diff

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Roles bucketgrant must not edit. IAM Identity Center creates a role per
// permission set and account, under the path /aws-reserved/sso.amazonaws.com/
// with a name AWSReservedSSO_<permission set>_<suffix>, and owns its
// policies: they are set from the permission set, and changes made in IAM
// are overwritten or refused (IAM Identity Center User Guide, "Using
// IAM roles created by IAM Identity Center"). A service-linked role (path
// /aws-service-role/) belongs to its service, which alone defines its
// permissions; IAM refuses edits to it (IAM User Guide, service-linked
// roles). bucketgrant never writes their identity policies. It grants
// through the bucket policy and the key policy where that is enough: in one
// account, a resource policy that names the role's ARN allows without any
// identity policy (IAM User Guide, policy evaluation logic: same account,
// an allow in either suffices; KMS Developer Guide: a key policy naming a
// principal of its account is enough). Across accounts the principal's own
// policies must allow too, which bucketgrant cannot write: the plan is
// blocked, with the statement to add to the permission set.

// BlockProtectedRole is a grant that needs an identity policy of a role
// bucketgrant must not edit.
const BlockProtectedRole = "protected-role"

// Protected role kinds.
const (
	ProtectedIdentityCenter = "identity-center"
	ProtectedServiceLinked  = "service-linked"
)

// ssoSuffix is the hash Identity Center appends to a permission set's name.
var ssoSuffix = regexp.MustCompile(`_[0-9a-fA-F]{16}$`)

// ProtectedRole says whether the role ARN names a role whose identity
// policies belong to AWS (Identity Center or a service), and which: ""
// for users and every other role.
func ProtectedRole(arn string) string {
	a, err := state.ParseARN(arn)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ""
	}
	path := a.Resource[len("role"):] // "/path/…/name"
	name := lastSegment(path)
	switch {
	case strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || strings.HasPrefix(name, "AWSReservedSSO_"):
		return ProtectedIdentityCenter
	case strings.HasPrefix(path, "/aws-service-role/"):
		return ProtectedServiceLinked
	}
	return ""
}

// permissionSetName is the permission set an Identity Center role comes
// from: its name without the AWSReservedSSO_ prefix and the suffix.
func permissionSetName(roleARN string) string {
	name := strings.TrimPrefix(lastSegment(roleARN), "AWSReservedSSO_")
	return ssoSuffix.ReplaceAllString(name, "")
}

// protected is the planner's record of a protected principal: which kind,
// and the identity-side permissions a grant needs that only the role's
// owner can add.
type protected struct {
	kind    string
	blocker int // index of its blocker in the plan, -1 before the first
	needs   []need
}

// placeProtected decides where a missing permission of a protected role
// goes. ok is false for any other principal (place decides then).
func (p *planner) placeProtected(v verdict) (pl placement, why string, ok bool) {
	if p.prot == nil {
		return placement{}, "", false
	}
	n := v.n
	cross := p.cross
	if n.service == "kms" {
		cross = p.crossKey
	}
	resName, _ := p.sideNames(n)
	who := p.protectedWho()
	if !p.boundaryAllows(v) {
		// A resource policy naming a role is limited by the role's
		// boundary (IAM User Guide, policy evaluation logic).
		p.block(Blocker{Kind: BlockBoundary,
			Message: fmt.Sprintf("the %s does not allow %s on %s, and a boundary limits grants to a role in its resource policies too", p.now.boundary.Name, n.action, n.resource),
			Hint:    "ask the boundary's owner to allow " + n.action + "; bucketgrant does not change boundaries"})
		return placement{}, "refused by the permissions boundary", true
	}
	if !cross {
		if n.service == "kms" {
			if p.key.KeyManager == "AWS" {
				p.block(Blocker{Kind: BlockAWSManagedKey, Document: &DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)},
					Message: fmt.Sprintf("the key %s is an AWS managed key whose key policy cannot be changed, and %s's identity policies are not bucketgrant's to write", p.key.ARN, who),
					Hint:    "use a customer managed key for the bucket, or grant through the role's owner"})
				return placement{}, "the key is AWS managed", true
			}
			if p.opts.KMSVia == ViaIdentity {
				p.blockProtected(n, "--kms-via identity asks for an identity-policy grant")
				return placement{}, "the role's identity policies are not bucketgrant's to write", true
			}
			why = fmt.Sprintf("the %s does not allow it for %s; %s, and in one account a key-policy statement naming the role is enough", resName, p.principalARN, who)
			return placement{key: true, keyWhy: why}, why, true
		}
		why = fmt.Sprintf("neither the role's policies nor the %s allows it; %s, and in one account a bucket-policy statement naming the role is enough", resName, who)
		return placement{bucket: true, bucketWhy: why}, why, true
	}
	// Across accounts both sides must allow: the resource side can be
	// written, the role's own side cannot.
	ps := p.now.policies(n)
	ps.Identity, ps.Boundary = []policy.Named{allowAll}, nil
	if !p.allows(v, ps) {
		w := fmt.Sprintf("the %s does not allow it for %s, and across accounts the resource's policy must", resName, p.principalARN)
		if n.service == "kms" {
			pl.key, pl.keyWhy = true, w
		} else {
			pl.bucket, pl.bucketWhy = true, w
		}
	}
	ps = p.now.policies(n)
	ps.Resource = delegateAll(p.principalAccount)
	if !p.allows(v, ps) {
		p.blockProtected(n, "across accounts the principal's own policies must allow too")
		return pl, "the role's own policies do not allow it, and they are not bucketgrant's to write", true
	}
	return pl, pl.keyWhy + pl.bucketWhy, true
}

func (p *planner) protectedWho() string {
	if p.prot.kind == ProtectedServiceLinked {
		return p.principalARN + " is a service-linked role whose policies only its service defines"
	}
	return fmt.Sprintf("%s is an IAM Identity Center role whose policies come from the permission set %s", p.principalARN, permissionSetName(p.principalARN))
}

// blockProtected records a need only the role's owner can grant, under one
// blocker for the plan; finishProtected writes the statement into it.
func (p *planner) blockProtected(n need, reason string) {
	p.prot.needs = append(p.prot.needs, n)
	if p.prot.blocker >= 0 {
		return
	}
	p.prot.blocker = len(p.plan.Blockers)
	p.block(Blocker{Kind: BlockProtectedRole,
		Message: fmt.Sprintf("%s; bucketgrant never writes its policies, and %s", p.protectedWho(), reason)})
}

// finishProtected completes the protected-role blocker with the statement
// the role's owner must add, and refuses, whatever placed it, any change
// to the role's own policies.
func (p *planner) finishProtected() {
	if p.prot == nil {
		return
	}
	for _, c := range p.plan.Changes {
		// Every identity-side change of a plan is to the principal's own
		// policies: its inline policies, or managed policies attached to
		// it (which, for an Identity Center role, a permission set may
		// reference).
		if c.Attach || c.Document.Kind == DocManagedPolicy || c.Document.Kind == DocInlinePolicy && c.Document.ARN == p.principalARN {
			p.plan.Changes = []Change{}
			p.block(Blocker{Kind: BlockProtectedRole, Message: fmt.Sprintf("%s: the plan would change its identity policies, which bucketgrant never does", p.protectedWho())})
			break
		}
	}
	if p.prot.blocker < 0 {
		return
	}
	stmt := p.identityStatement(p.prot.needs)
	b := &p.plan.Blockers[p.prot.blocker]
	if p.prot.kind == ProtectedServiceLinked {
		b.Hint = "a service-linked role cannot be given more permissions; use a role of your own for this access. The role would need: " + stmt
		return
	}
	b.Hint = fmt.Sprintf("add this statement to the permission set %s (IAM Identity Center, permission sets, inline policy), then run bucketgrant again for the resource side: %s", permissionSetName(p.principalARN), stmt)
}

// identityStatement is the identity-policy document that grants the needs:
// one statement per resource, with the prefix condition for listing.
func (p *planner) identityStatement(needs []need) string {
	type stmt struct {
		Effect    string                       `json:"Effect"`
		Action    []string                     `json:"Action"`
		Resource  string                       `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition,omitempty"`
	}
	var out []stmt
	for _, n := range needs {
		i := slices.IndexFunc(out, func(s stmt) bool { return s.Resource == n.resource })
		if i < 0 {
			s := stmt{Effect: "Allow", Resource: n.resource}
			if n.level == List && p.opts.Prefix != "" {
				s.Condition = map[string]map[string]string{"StringLike": {"s3:prefix": p.opts.Prefix + "*"}}
			}
			out = append(out, s)
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Action, n.action) {
			out[i].Action = append(out[i].Action, n.action)
		}
	}
	b, _ := json.Marshal(struct {
		Version   string
		Statement []stmt
	}{"2012-10-17", out})
	return string(b)
}
