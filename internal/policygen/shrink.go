package policygen

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
)

// Oracle renders the case in the form the oracle and the differential test
// take (and that a reproduction is printed in).
func (c Case) Oracle() oracle.Case {
	oc := oracle.Case{
		ID:               fmt.Sprintf("seed%d-case%d", c.Seed, c.Index),
		ResourceType:     c.ResourceType,
		Principal:        c.Caller.ARN,
		PrincipalAccount: c.Caller.Account,
		PrincipalID:      c.Caller.UniqueID,
		Action:           c.Action,
		ResourceARN:      c.ResourceARN,
		ResourceAccount:  c.ResourceAccount,
		Context:          c.Context,
	}
	for i := range c.Identity {
		oc.Identity = append(oc.Identity, oracle.NamedPolicy{Name: c.Identity[i].Name, Policy: json.RawMessage(c.Identity[i].JSON())})
	}
	if c.Boundary != nil {
		oc.Boundary = c.Boundary.JSON()
	}
	if c.Resource != nil {
		oc.Resource = c.Resource.JSON()
	}
	oc.SCP, oc.RCP = oracleLevels(c.SCP), oracleLevels(c.RCP)
	return oc
}

// Shrinks returns the valid cases one step smaller than c: one document,
// statement, element value, condition operator, key or value, or context
// key or value fewer. A shrinker keeps taking the first that still fails
// until none does.
func (c *Case) Shrinks() []Case {
	var out []Case
	add := func(edit func(*Case) bool) {
		n := c.Clone()
		if edit(&n) && n.Valid() {
			out = append(out, n)
		}
	}
	// Whole documents.
	for i := range c.Identity {
		add(func(n *Case) bool { n.Identity = slices.Delete(n.Identity, i, i+1); return true })
	}
	if c.Boundary != nil {
		add(func(n *Case) bool { n.Boundary = nil; return true })
	}
	if c.Resource != nil {
		add(func(n *Case) bool { n.Resource = nil; return true })
	}
	c.orgShrinks(add)
	// Inside documents.
	docs := func(n *Case) []*Doc {
		var ds []*Doc
		for i := range n.Identity {
			ds = append(ds, &n.Identity[i])
		}
		if n.Boundary != nil {
			ds = append(ds, n.Boundary)
		}
		if n.Resource != nil {
			ds = append(ds, n.Resource)
		}
		return ds
	}
	for di, d := range docs(c) {
		for si := range d.Stmts {
			if len(d.Stmts) > 1 {
				add(func(n *Case) bool {
					nd := docs(n)[di]
					nd.Stmts = slices.Delete(nd.Stmts, si, si+1)
					return true
				})
			}
			s := &d.Stmts[si]
			stmt := func(n *Case) *Statement { return &docs(n)[di].Stmts[si] }
			if s.Sid != "" {
				add(func(n *Case) bool { stmt(n).Sid = ""; return true })
			}
			if len(s.Conds) > 0 {
				add(func(n *Case) bool { stmt(n).Conds = nil; return true })
			}
			for ci, cond := range s.Conds {
				if len(s.Conds) > 1 {
					add(func(n *Case) bool { st := stmt(n); st.Conds = slices.Delete(st.Conds, ci, ci+1); return true })
				}
				for ki, k := range cond.Keys {
					if len(cond.Keys) > 1 {
						add(func(n *Case) bool {
							cc := &stmt(n).Conds[ci]
							cc.Keys = slices.Delete(cc.Keys, ki, ki+1)
							return true
						})
					}
					for vi := range k.Value.Items {
						if len(k.Value.Items) > 1 {
							add(func(n *Case) bool {
								v := &stmt(n).Conds[ci].Keys[ki].Value
								v.Items = slices.Delete(v.Items, vi, vi+1)
								return true
							})
						}
					}
				}
			}
			for _, el := range []func(*Statement) *Strs{
				func(s *Statement) *Strs { return s.Action },
				func(s *Statement) *Strs { return s.NotAction },
				func(s *Statement) *Strs { return s.Resource },
				func(s *Statement) *Strs { return s.NotResource },
			} {
				v := el(s)
				if v == nil || len(v.Items) < 2 {
					continue
				}
				for vi := range v.Items {
					add(func(n *Case) bool {
						nv := el(stmt(n))
						nv.Items = slices.Delete(nv.Items, vi, vi+1)
						return true
					})
				}
			}
			for _, el := range []func(*Statement) *Principal{
				func(s *Statement) *Principal { return s.Principal },
				func(s *Statement) *Principal { return s.NotPrincipal },
			} {
				p := el(s)
				if p == nil || p.Star {
					continue
				}
				for ti, t := range p.Types {
					if len(p.Types) > 1 {
						add(func(n *Case) bool { np := el(stmt(n)); np.Types = slices.Delete(np.Types, ti, ti+1); return true })
					}
					if len(t.Values.Items) < 2 {
						continue
					}
					for vi := range t.Values.Items {
						add(func(n *Case) bool {
							nv := &el(stmt(n)).Types[ti].Values
							nv.Items = slices.Delete(nv.Items, vi, vi+1)
							return true
						})
					}
				}
			}
		}
	}
	// Context.
	keys := make([]string, 0, len(c.Context))
	for k := range c.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !FromCaller(k) {
			add(func(n *Case) bool { delete(n.Context, k); return true })
		}
		if vs := c.Context[k]; len(vs) > 1 {
			for vi := range vs {
				add(func(n *Case) bool { n.Context[k] = slices.Delete(n.Context[k], vi, vi+1); return true })
			}
		}
	}
	return out
}
