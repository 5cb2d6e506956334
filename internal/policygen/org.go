package policygen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
)

// Organization policies for the differential test: a case drawn with
// Gen.Org also carries the SCP levels above the caller's account and the
// RCP levels above the resource's account. They are drawn from a random
// stream of their own, after the rest of the case, so a case's identity,
// boundary and resource policies are the same with and without them.

// OrgLevel is one level of the organization (root, OU or account) with the
// SCPs or RCPs attached there.
type OrgLevel struct {
	Target string
	Docs   []Doc
}

func (b *builder) orgLevels(rcp bool) []OrgLevel {
	targets := []string{"root r-ab12", "OU ou-ab12-11111111", "OU ou-ab12-22222222", "account"}
	n := 1 + b.intn(3)
	var out []OrgLevel
	for i := 0; i < n; i++ {
		t := targets[i]
		if i == n-1 {
			t = "account"
		}
		lv := OrgLevel{Target: t}
		// The AWS managed full-access policy is attached almost
		// everywhere (RCPFullAWSAccess cannot be detached at all): without
		// it a level allows only what its own policies allow.
		if b.chance(0.8) || (!rcp && b.chance(0.5)) {
			full := Doc{Version: V2012, Stmts: []Statement{{Effect: "Allow", Action: &Strs{Items: []string{"*"}, Single: true}, Resource: &Strs{Items: []string{"*"}, Single: true}}}}
			if rcp {
				full.Stmts[0].Principal = &Principal{Star: true}
			}
			lv.Docs = append(lv.Docs, full)
		}
		for k := b.intn(4) / 2; k > 0; k-- {
			lv.Docs = append(lv.Docs, b.orgDoc(rcp))
		}
		if len(lv.Docs) == 0 {
			lv.Docs = append(lv.Docs, b.orgDoc(rcp))
		}
		kind := "scp"
		if rcp {
			kind = "rcp"
		}
		for j := range lv.Docs {
			lv.Docs[j].Name = fmt.Sprintf("%s%d-%d", kind, i, j)
		}
		out = append(out, lv)
	}
	return out
}

// orgDoc is an SCP or RCP: identity-like statements (an RCP's with
// Principal "*", as AWS requires), denies more often than elsewhere because
// that is what organizations write.
func (b *builder) orgDoc(rcp bool) Doc {
	d := Doc{Version: V2012}
	if b.chance(0.15) {
		d.Version = ""
	}
	b.version = d.Version
	for k := 1 + b.intn(2); k > 0; k-- {
		s := b.statement(false)
		if b.chance(0.1) {
			s.Effect = "Deny"
			if s.Conds == nil && b.chance(0.5) {
				s.Conds = b.conditions()
			}
		}
		if rcp {
			s.Principal = &Principal{Star: true}
		}
		if b.chance(0.3) {
			s.Sid = fmt.Sprintf("Org%d", k)
		}
		d.Stmts = append(d.Stmts, s)
	}
	d.Single = len(d.Stmts) == 1 && b.chance(0.5)
	return d
}

// addOrg draws the organization policies of case i.
func (g *Gen) addOrg(c *Case, i int) {
	r := rand.New(rand.NewPCG(uint64(g.Seed)^0x5C9A11, uint64(i)*0x9E3779B97F4A7C15+7))
	b := &builder{r: r, c: c}
	switch x := b.r.Float64(); {
	case x < 0.4:
		c.SCP = b.orgLevels(false)
	case x < 0.7:
		c.RCP = b.orgLevels(true)
	default:
		c.SCP = b.orgLevels(false)
		c.RCP = b.orgLevels(true)
	}
	if !c.Valid() {
		panic(fmt.Sprintf("policygen: generated an invalid organization case: %+v", *c))
	}
}

func cloneLevels(ls []OrgLevel) []OrgLevel {
	if ls == nil {
		return nil
	}
	out := make([]OrgLevel, len(ls))
	for i, l := range ls {
		out[i] = OrgLevel{Target: l.Target, Docs: make([]Doc, len(l.Docs))}
		for j := range l.Docs {
			out[i].Docs[j] = l.Docs[j].clone()
		}
	}
	return out
}

// orgDocs lists the organization documents of a case, for validity checks
// and shrinking.
func (c *Case) orgDocs() []*Doc {
	var ds []*Doc
	for _, ls := range [][]OrgLevel{c.SCP, c.RCP} {
		for i := range ls {
			for j := range ls[i].Docs {
				ds = append(ds, &ls[i].Docs[j])
			}
		}
	}
	return ds
}

// orgShrinks are the one-step reductions of a case's organization
// policies: a level, a document, a statement fewer.
func (c *Case) orgShrinks(add func(func(*Case) bool)) {
	for k, ls := range [][]OrgLevel{c.SCP, c.RCP} {
		get := func(n *Case) *[]OrgLevel {
			if k == 0 {
				return &n.SCP
			}
			return &n.RCP
		}
		for i := range ls {
			if len(ls) > 1 {
				add(func(n *Case) bool { l := get(n); *l = slices.Delete(*l, i, i+1); return true })
			}
			for j := range ls[i].Docs {
				if len(ls[i].Docs) > 1 {
					add(func(n *Case) bool { l := get(n); (*l)[i].Docs = slices.Delete((*l)[i].Docs, j, j+1); return true })
				}
				for s := range ls[i].Docs[j].Stmts {
					if len(ls[i].Docs[j].Stmts) > 1 {
						add(func(n *Case) bool {
							d := &(*get(n))[i].Docs[j]
							d.Stmts = slices.Delete(d.Stmts, s, s+1)
							d.Single = d.Single && len(d.Stmts) == 1
							return true
						})
					}
				}
			}
		}
		if len(ls) > 0 {
			add(func(n *Case) bool { *get(n) = nil; return true })
		}
	}
}

func oracleLevels(ls []OrgLevel) []oracle.OrgLevel {
	if ls == nil {
		return nil
	}
	out := make([]oracle.OrgLevel, len(ls))
	for i, l := range ls {
		out[i].Target = l.Target
		for j := range l.Docs {
			out[i].Policies = append(out[i].Policies, oracle.NamedPolicy{Name: l.Docs[j].Name, Policy: json.RawMessage(l.Docs[j].JSON())})
		}
	}
	return out
}
