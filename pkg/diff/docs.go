package diff

import (
	"fmt"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// docSet is one version of every document that decides the grant: as read,
// or with the plan's changes merged.
type docSet struct {
	key      *policy.Named // nil: no key (or none read)
	bucket   *policy.Named // nil: the bucket has no policy
	identity []identityDoc
	boundary *policy.Named
	// grants are the key's KMS grants, read-only: no plan changes one.
	grants []policy.Grant
	org    orgDocs // SCPs and RCPs that apply (org.go)
}

// identityDoc is an identity policy with where it lives.
type identityDoc struct {
	ref   DocRef
	named policy.Named
	// own marks the principal's own inline or attached policy (not a
	// group's), where the tool may put its grant.
	own bool
}

func (s docSet) identityNamed() []policy.Named {
	out := make([]policy.Named, len(s.identity))
	for i, d := range s.identity {
		out[i] = d.named
	}
	return out
}

// Names people read in reasons and blockers.
func keyPolicyName(arn string) string     { return "key policy of " + arn }
func bucketPolicyName(name string) string { return "bucket policy of " + name }
func inlineName(owner, name string) string {
	return fmt.Sprintf("inline policy %s of %s", name, owner)
}

// load parses every document of the state that decides the grant and
// records its fingerprint.
func (p *planner) load() error {
	if p.key != nil {
		ref := DocRef{Kind: DocKeyPolicy, ARN: p.key.ARN, Account: accountOf(p.key.ARN)}
		d, err := p.parse(p.key.Policy, policy.KindKeyPolicy, ref, keyPolicyName(p.key.ARN))
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("%s: the key has no key policy in the state; take the snapshot again", keyPolicyName(p.key.ARN))
		}
		p.now.key = &policy.Named{Name: keyPolicyName(p.key.ARN), Doc: d}
		p.now.grants = keyGrants(p.key)
	}
	ref := p.bucketRef()
	d, err := p.parse(p.bucket.Policy, policy.KindBucketPolicy, ref, bucketPolicyName(p.bucket.Name))
	if err != nil {
		return err
	}
	if d != nil {
		p.now.bucket = &policy.Named{Name: bucketPolicyName(p.bucket.Name), Doc: d}
	}
	pr := p.principal
	owner := p.kind + "/" + lastSegment(pr.ARN)
	for _, in := range pr.InlinePolicies {
		ref := DocRef{Kind: DocInlinePolicy, ARN: pr.ARN, Name: in.Name, Account: p.principalAccount}
		name := inlineName(owner, in.Name)
		d, err := p.parse(in.Doc, policy.KindIdentity, ref, name)
		if err != nil {
			return err
		}
		if d != nil {
			p.now.identity = append(p.now.identity, identityDoc{ref: ref, named: policy.Named{Name: name, Doc: d}, own: true})
		}
	}
	for _, m := range pr.AttachedPolicies {
		ref := DocRef{Kind: DocManagedPolicy, ARN: m.ARN, Account: accountOf(m.ARN)}
		name := "managed policy " + m.ARN
		d, err := p.parse(m.Document, policy.KindIdentity, ref, name)
		if err != nil {
			return err
		}
		if d != nil {
			p.now.identity = append(p.now.identity, identityDoc{ref: ref, named: policy.Named{Name: name, Doc: d}, own: true})
		}
	}
	for _, g := range pr.Groups {
		for _, in := range g.InlinePolicies {
			name := inlineName("group/"+g.Name, in.Name)
			d, err := p.parse(in.Doc, policy.KindIdentity, DocRef{}, name)
			if err != nil {
				return err
			}
			if d != nil {
				p.now.identity = append(p.now.identity, identityDoc{named: policy.Named{Name: name, Doc: d}})
			}
		}
		for _, m := range g.AttachedPolicies {
			name := "managed policy " + m.ARN + " (via group " + g.Name + ")"
			d, err := p.parse(m.Document, policy.KindIdentity, DocRef{}, name)
			if err != nil {
				return err
			}
			if d != nil {
				p.now.identity = append(p.now.identity, identityDoc{named: policy.Named{Name: name, Doc: d}})
			}
		}
	}
	if b := pr.PermissionsBoundary; b != nil {
		name := "permissions boundary " + b.ARN
		d, err := p.parse(b.Document, policy.KindIdentity, DocRef{}, name)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("%s: the boundary's document is missing from the state; take the snapshot again", name)
		}
		p.now.boundary = &policy.Named{Name: name, Doc: d}
	}
	if err := p.loadOrg(); err != nil {
		return err
	}
	p.now = p.markOthers(p.now)
	return nil
}

// markOthers returns the set with the statements of bucketgrant's other
// grants marked to be left out of evaluation (owned.go). The documents are
// shared, never edited: each Named is copied before it is marked.
func (p *planner) markOthers(s docSet) docSet {
	self := p.grantID()
	mark := func(n *policy.Named, kind policy.Kind, principal string) *policy.Named {
		if n == nil {
			return nil
		}
		c := *n
		markOthers(&c, kind, principal, self)
		return &c
	}
	s.key = mark(s.key, policy.KindKeyPolicy, "")
	s.bucket = mark(s.bucket, policy.KindBucketPolicy, "")
	ids := make([]identityDoc, len(s.identity))
	for i, d := range s.identity {
		ids[i] = d
		if d.own {
			ids[i].named = *mark(&d.named, policy.KindIdentity, p.principalARN)
		}
	}
	s.identity = ids
	return s
}

// takeFingerprints puts the fingerprints of the documents read into the
// plan; with Options.NoFingerprints it leaves them out instead.
func (p *planner) takeFingerprints() {
	for id, fp := range p.fingerprints {
		if p.opts.NoFingerprints {
			delete(p.plan.Fingerprints, id)
		} else {
			p.plan.Fingerprints[id] = fp()
		}
	}
}

func (p *planner) bucketRef() DocRef {
	return DocRef{Kind: DocBucketPolicy, ARN: p.bucketARN(), Account: p.bucket.Account}
}

// parse parses one document of the state. A document the tool may write is
// fingerprinted under its ref (also when absent, as ""), so apply can tell
// whether it changed since the plan.
func (p *planner) parse(doc *state.Doc, kind policy.Kind, ref DocRef, name string) (*policy.Document, error) {
	if doc == nil || len(doc.Text) == 0 || string(doc.Text) == "null" {
		if ref.Kind != "" {
			p.plan.Fingerprints[ref.ID()] = ""
			delete(p.fingerprints, ref.ID())
		}
		return nil, nil
	}
	c := parseCached(doc.Text, kind)
	if c.err != nil {
		return nil, fmt.Errorf("%s: %w", name, c.err)
	}
	if ref.Kind != "" {
		// Taken when the plan is done (takeFingerprints), unless the
		// caller needs none.
		p.plan.Fingerprints[ref.ID()] = ""
		if p.fingerprints == nil {
			p.fingerprints = map[string]func() string{}
		}
		p.fingerprints[ref.ID()] = c.fingerprint
	}
	return c.doc, nil
}

// policies assembles the evaluator's input for one need.
func (s docSet) policies(n need) policy.Policies {
	ps := policy.Policies{Identity: s.identityNamed(), Boundary: s.boundary}
	s.org.apply(&ps, n)
	if n.service == "kms" {
		ps.ResourceType = policy.ResourceKMSKey
		ps.Resource = s.key
		ps.Grants = s.grants
		return ps
	}
	ps.ResourceType = policy.ResourceS3
	ps.Resource = s.bucket
	return ps
}
