package trust

import (
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// GoDecider decides cases with bucketgrant's own evaluator (pkg/policy),
// the way the oracle decides them. Suites that run many plans decide every
// probe with it and send the oracle the ones that matter most; the
// differential test in pkg/policy holds the two evaluators together. It
// keeps the documents it parsed, by text, so a plan's many cases parse each
// document once; it is not safe for concurrent use.
type GoDecider struct {
	docs map[policy.Kind]map[string]*policy.Document
}

// NewGoDecider returns a decider with an empty document cache.
func NewGoDecider() *GoDecider {
	return &GoDecider{docs: map[policy.Kind]map[string]*policy.Document{}}
}

// Reset forgets the parsed documents (call between plans to bound memory).
func (g *GoDecider) Reset() { clear(g.docs) }

func (g *GoDecider) parse(text []byte, kind policy.Kind) (*policy.Document, error) {
	byText := g.docs[kind]
	if byText == nil {
		byText = map[string]*policy.Document{}
		g.docs[kind] = byText
	}
	if d, ok := byText[string(text)]; ok {
		return d, nil
	}
	d, err := policy.Parse(text, kind)
	if err != nil {
		return nil, err
	}
	byText[string(text)] = d
	return d, nil
}

// Decide decides one case: "Allowed", "ImplicitlyDenied" or
// "ExplicitlyDenied", or an error for a document that does not parse.
func (g *GoDecider) Decide(c oracle.Case) (string, error) {
	var ps policy.Policies
	for _, ip := range c.Identity {
		d, err := g.parse(ip.Policy, policy.KindIdentity)
		if err != nil {
			return "", fmt.Errorf("identity policy %s: %w", ip.Name, err)
		}
		ps.Identity = append(ps.Identity, policy.Named{Name: ip.Name, Doc: d})
	}
	if c.Boundary != nil {
		d, err := g.parse(c.Boundary, policy.KindIdentity)
		if err != nil {
			return "", fmt.Errorf("boundary: %w", err)
		}
		ps.Boundary = &policy.Named{Name: "boundary", Doc: d}
	}
	kind := policy.KindBucketPolicy
	ps.ResourceType = policy.ResourceS3
	if c.ResourceType == "kms" {
		kind = policy.KindKeyPolicy
		ps.ResourceType = policy.ResourceKMSKey
	}
	if c.Resource != nil {
		d, err := g.parse(c.Resource, kind)
		if err != nil {
			return "", fmt.Errorf("resource policy: %w", err)
		}
		ps.Resource = &policy.Named{Name: "resource", Doc: d}
	}
	for _, side := range []struct {
		from []oracle.OrgLevel
		to   *[]policy.OrgLevel
	}{{c.SCP, &ps.SCP}, {c.RCP, &ps.RCP}} {
		for _, l := range side.from {
			lv := policy.OrgLevel{Target: l.Target}
			for _, np := range l.Policies {
				d, err := g.parse(np.Policy, policy.KindAny)
				if err != nil {
					return "", fmt.Errorf("organization policy %s at %s: %w", np.Name, l.Target, err)
				}
				lv.Policies = append(lv.Policies, policy.Named{Name: np.Name, Doc: d})
			}
			*side.to = append(*side.to, lv)
		}
	}
	r := policy.Evaluate(policy.Request{
		Principal: policy.Caller{ARN: c.Principal, Account: c.PrincipalAccount, UniqueID: c.PrincipalID},
		Action:    c.Action, Resource: c.ResourceARN, ResourceAccount: c.ResourceAccount, Context: c.Context,
	}, ps)
	return string(r.Decision), nil
}

// PrincipalCase is the case of the plan's principal (the user, or the
// session the plan was made for or stands for) making one request under the
// documents of st: its identity policies and boundary, and the bucket's
// policy or the plan's key's policy. Suites use it for requests of their own
// (other objects, other condition values, changed documents).
func PrincipalCase(st *state.State, p *diff.Plan, action, resource string, ctx map[string][]string) oracle.Case {
	c := &checker{before: st, after: st, plan: p}
	return c.caseFor(st, probe{who: c.principal(), action: action, resource: resource, kms: strings.HasPrefix(action, "kms:"), context: ctx})
}
