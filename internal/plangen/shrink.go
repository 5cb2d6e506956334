package plangen

import (
	"slices"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// Shrinks returns the scenarios one step smaller than s: one document,
// statement, condition or list value fewer, or a simpler grant or bucket.
// A shrinker keeps taking the first that still shows the problem until none
// does.
func (s *Scenario) Shrinks() []Scenario {
	var out []Scenario
	add := func(edit func(*Scenario) bool) {
		c := s.Clone()
		if edit(&c) {
			out = append(out, c)
		}
	}
	// Whole documents.
	if s.BucketPolicy != nil {
		add(func(c *Scenario) bool { c.BucketPolicy = nil; return true })
	}
	if s.Boundary != nil {
		add(func(c *Scenario) bool { c.Boundary = nil; return true })
	}
	for i := range s.Inline {
		add(func(c *Scenario) bool { c.Inline = slices.Delete(c.Inline, i, i+1); return true })
	}
	for i := range s.Managed {
		add(func(c *Scenario) bool { c.Managed = slices.Delete(c.Managed, i, i+1); return true })
	}
	for i := range s.Group {
		add(func(c *Scenario) bool { c.Group = slices.Delete(c.Group, i, i+1); return true })
	}
	// The organization, its policies, the grants and the tags.
	if s.Org != nil {
		add(func(c *Scenario) bool { c.Org = nil; return true })
		for i := range s.Org.Policies {
			add(func(c *Scenario) bool { c.Org.Policies = slices.Delete(c.Org.Policies, i, i+1); return true })
		}
	}
	if s.Grants != nil {
		add(func(c *Scenario) bool { c.Grants = nil; return true })
		for i := range s.Grants {
			add(func(c *Scenario) bool { c.Grants = slices.Delete(c.Grants, i, i+1); return true })
		}
	}
	if s.PrincipalTags != nil {
		add(func(c *Scenario) bool { c.PrincipalTags = nil; return true })
	}
	// Statements and their parts. A key always keeps a key policy with at
	// least one statement.
	for di, d := range s.Docs() {
		for si, st := range d.Stmts {
			stmt := func(c *Scenario) *Stmt { return &c.Docs()[di].Stmts[si] }
			if len(d.Stmts) > 1 {
				add(func(c *Scenario) bool {
					cd := c.Docs()[di]
					cd.Stmts = slices.Delete(cd.Stmts, si, si+1)
					return true
				})
			}
			if len(st.Cond) > 0 {
				add(func(c *Scenario) bool { stmt(c).Cond = nil; return true })
			}
			for ci, cond := range st.Cond {
				if len(st.Cond) > 1 {
					add(func(c *Scenario) bool { x := stmt(c); x.Cond = slices.Delete(x.Cond, ci, ci+1); return true })
				}
				for vi := range cond.Values {
					if len(cond.Values) > 1 {
						add(func(c *Scenario) bool {
							cc := &stmt(c).Cond[ci]
							cc.Values = slices.Delete(cc.Values, vi, vi+1)
							return true
						})
					}
				}
			}
			for vi := range st.Action {
				if len(st.Action) > 1 {
					add(func(c *Scenario) bool { x := stmt(c); x.Action = slices.Delete(x.Action, vi, vi+1); return true })
				}
			}
			for vi := range st.Resource {
				if len(st.Resource) > 1 {
					add(func(c *Scenario) bool { x := stmt(c); x.Resource = slices.Delete(x.Resource, vi, vi+1); return true })
				}
			}
			// A NotPrincipal keeps its values: dropping one could leave
			// part of a caller's chain, which the oracle evaluates
			// unlike AWS (see Gen.Scenario).
			for _, p := range []func(*Stmt) *Prin{func(x *Stmt) *Prin { return x.Principal }} {
				pr := p(&d.Stmts[si])
				if pr == nil {
					continue
				}
				for vi := range pr.AWS {
					if len(pr.AWS)+len(pr.Service) > 1 {
						add(func(c *Scenario) bool { x := p(stmt(c)); x.AWS = slices.Delete(x.AWS, vi, vi+1); return true })
					}
				}
			}
			if st.Sid != "" {
				add(func(c *Scenario) bool { stmt(c).Sid = ""; return true })
			}
		}
	}
	// A simpler grant and bucket.
	if s.Prefix != "" {
		add(func(c *Scenario) bool { c.Prefix = ""; return true })
	}
	if len(s.Access) != 1 {
		for _, l := range s.Levels() {
			add(func(c *Scenario) bool { c.Access = []diff.Level{l}; return true })
		}
	}
	if s.KMSThroughS3 {
		add(func(c *Scenario) bool { c.KMSThroughS3 = false; return true })
	}
	if s.KMSVia != diff.ViaAuto {
		add(func(c *Scenario) bool { c.KMSVia = diff.ViaAuto; return true })
	}
	if s.BucketKeys {
		add(func(c *Scenario) bool { c.BucketKeys = false; return true })
	}
	if s.KeyRef != "arn" {
		add(func(c *Scenario) bool { c.KeyRef = "arn"; return true })
	}
	if s.SSE != "aws:kms" {
		add(func(c *Scenario) bool { c.SSE = "aws:kms"; return true })
	}
	if s.UserPath != "" {
		add(func(c *Scenario) bool { c.UserPath = ""; return true })
	}
	return out
}
