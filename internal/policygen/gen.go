package policygen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The universe.
const (
	AccountA = "111122223333" // owns b1 and keyA
	AccountB = "444455556666" // owns b2 and keyB
	AccountC = "777788889999" // never calls, never owns: only named in policies

	KeyA = "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-2222-3333-4444-555566667777"
	KeyB = "arn:aws:kms:us-east-1:444455556666:key/8888bbbb-9999-0000-1111-222233334444"

	V2012 = "2012-10-17"
	V2008 = "2008-10-17"
)

var (
	users    = []string{"Jane", "Bob"}
	roles    = []string{"Reader", "Admin"}
	sessions = []string{"s1", "s2"}
	objects  = []string{"k1", "dir/k2", "Jane/k3", "Bob/k4", "dir/a+b c.txt"}

	s3Actions  = []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetObjectVersion"}
	kmsActions = []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy"}

	actionPatterns = []string{
		"*", "s3:*", "kms:*", "s3:Get*", "s3:*Object", "s3:Put*", "s3:List*", "s3:?etObject",
		"s3:GetObject*", "kms:Generate*", "kms:*Key*", "kms:Decryp?", "kms:Put*", "kms:Encrypt",
		"s3:DeleteObject",
	}
)

func userARN(acct, name string) string { return "arn:aws:iam::" + acct + ":user/" + name }
func roleARN(acct, name string) string { return "arn:aws:iam::" + acct + ":role/" + name }
func sessionARN(acct, role, s string) string {
	return "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + s
}
func rootARN(acct string) string { return "arn:aws:iam::" + acct + ":root" }

// uniqueID makes a stable AIDA…/AROA… ID for a user or role.
func uniqueID(prefix, acct, name string) string {
	return prefix + strings.ToUpper(name) + acct[:6] + "EXAMPLE"
}

// Gen generates cases for one seed.
type Gen struct {
	Seed int64
	// Org adds service and resource control policies to every case
	// (org.go).
	Org bool
}

// New returns a generator for seed.
func New(seed int64) *Gen { return &Gen{Seed: seed} }

// Cases returns cases 0..n-1.
func (g *Gen) Cases(n int) []Case {
	out := make([]Case, n)
	for i := range out {
		out[i] = g.Case(i)
	}
	return out
}

// Case returns case i. Each case has its own random stream, so case i does
// not depend on how many cases came before it.
func (g *Gen) Case(i int) Case {
	r := rand.New(rand.NewPCG(uint64(g.Seed), uint64(i)*0x9E3779B97F4A7C15+1))
	b := &builder{r: r}
	c := b.build()
	c.Seed, c.Index = g.Seed, i
	if g.Org {
		g.addOrg(&c, i)
	}
	return c
}

type builder struct {
	r *rand.Rand
	c *Case
	// version of the document being built
	version string
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }
func (b *builder) intn(n int) int        { return b.r.IntN(n) }
func pick[T any](b *builder, xs []T) T   { return xs[b.r.IntN(len(xs))] }

func (b *builder) build() Case {
	c := &Case{Context: map[string][]string{}}
	b.c = c

	owner := AccountA
	if b.chance(0.45) {
		owner = AccountB
	}
	c.ResourceAccount = owner
	callerAcct := owner
	if b.chance(0.45) {
		callerAcct = other(owner)
	}
	if b.chance(0.6) {
		u := pick(b, users)
		if b.chance(0.3) {
			u = users[0]
		}
		c.Caller = Caller{ARN: userARN(callerAcct, u), Account: callerAcct, UniqueID: uniqueID("AIDA", callerAcct, u), User: u}
	} else {
		role := pick(b, roles)
		c.Caller = Caller{
			ARN: sessionARN(callerAcct, role, pick(b, sessions)), Account: callerAcct,
			UniqueID: uniqueID("AROA", callerAcct, role), RoleARN: roleARN(callerAcct, role),
		}
	}

	if b.chance(0.5) {
		c.ResourceType = "s3"
		c.Action = pick(b, s3Actions)
		bucket := "b1"
		if owner == AccountB {
			bucket = "b2"
		}
		if c.Action == "s3:ListBucket" {
			c.ResourceARN = "arn:aws:s3:::" + bucket
		} else {
			c.ResourceARN = "arn:aws:s3:::" + bucket + "/" + pick(b, objects)
		}
	} else {
		c.ResourceType = "kms"
		c.Action = pick(b, kmsActions)
		// Cross-account use of a key works only for cryptographic and a few
		// other operations; PutKeyPolicy must run in the key's account.
		if c.Action == "kms:PutKeyPolicy" && callerAcct != owner {
			c.Action = "kms:Decrypt"
		}
		c.ResourceARN = KeyA
		if owner == AccountB {
			c.ResourceARN = KeyB
		}
	}

	b.context()

	nIdentity := b.intn(4)
	if b.chance(0.15) {
		nIdentity = 0
	}
	for i := 0; i < nIdentity; i++ {
		d := b.doc(false)
		d.Name = fmt.Sprintf("identity%d", i)
		c.Identity = append(c.Identity, d)
	}
	if b.chance(0.3) {
		d := b.doc(false)
		d.Name = "boundary"
		// A boundary that allows nothing relevant makes every case
		// implicitly denied; lean towards broad ones.
		if b.chance(0.5) {
			d.Stmts = append(d.Stmts, Statement{Effect: "Allow", Action: &Strs{Items: []string{pick(b, []string{"*", "s3:*", "kms:*"})}, Single: true}, Resource: &Strs{Items: []string{"*"}, Single: true}})
			d.Single = false
		}
		c.Boundary = &d
	}
	if c.ResourceType == "kms" || b.chance(0.7) {
		d := b.doc(true)
		d.Name = "resource"
		c.Resource = &d
	}
	b.fixNotPrincipals()
	if !c.Valid() {
		panic(fmt.Sprintf("policygen: generated an invalid case: %+v", *c))
	}
	return *c
}

func other(acct string) string {
	if acct == AccountA {
		return AccountB
	}
	return AccountA
}

// fixNotPrincipals completes or empties each NotPrincipal's coverage of the
// caller's chain (see Case.notPrincipalAgrees).
func (b *builder) fixNotPrincipals() {
	c := b.c
	if c.Resource == nil {
		return
	}
	for i := range c.Resource.Stmts {
		np := c.Resource.Stmts[i].NotPrincipal
		if np == nil || c.notPrincipalAgrees(np) {
			continue
		}
		for ti := range np.Types {
			t := &np.Types[ti]
			if t.Name != "AWS" {
				continue
			}
			if b.chance(0.5) {
				// Complete the chain.
				for _, e := range c.Caller.Chain() {
					if !slices.ContainsFunc(t.Values.Items, func(v string) bool { return c.Caller.chainLevel(v) == c.Caller.chainLevel(e) }) {
						t.Values.Items = append(t.Values.Items, e)
					}
				}
			} else {
				// Drop every element of the chain.
				var keep []string
				for _, v := range t.Values.Items {
					if c.Caller.chainLevel(v) < 0 {
						keep = append(keep, v)
					}
				}
				if len(keep) == 0 {
					keep = []string{rootARN(AccountC)}
				}
				t.Values.Items = keep
			}
			t.Values.Single = t.Values.Single && len(t.Values.Items) == 1
			break
		}
	}
}

func (b *builder) doc(resource bool) Doc {
	d := Doc{}
	switch x := b.r.Float64(); {
	case x < 0.65:
		d.Version = V2012
	case x < 0.85:
		d.Version = V2008
	}
	b.version = d.Version
	if resource && b.chance(0.3) {
		d.ID = fmt.Sprintf("Policy%d", b.intn(1000))
	}
	n := 1 + b.intn(3)
	for i := 0; i < n; i++ {
		s := b.statement(resource)
		if b.chance(0.4) {
			if resource && b.c.ResourceType == "kms" && b.chance(0.5) {
				s.Sid = fmt.Sprintf("Key statement %d", i)
			} else {
				s.Sid = fmt.Sprintf("S%d", i)
			}
		}
		d.Stmts = append(d.Stmts, s)
	}
	d.Single = n == 1 && b.chance(0.5)
	return d
}

func (b *builder) statement(resource bool) Statement {
	s := Statement{Effect: "Allow"}
	if b.chance(0.2) {
		s.Effect = "Deny"
	}
	if resource {
		if b.chance(0.1) {
			if b.chance(0.85) {
				s.Effect = "Deny"
			}
			s.NotPrincipal = b.principalMap(false)
		} else {
			s.Principal = b.principal()
		}
	}
	acts := b.strs(1+b.intn(3), b.action)
	if b.chance(0.12) {
		s.NotAction = acts
	} else {
		s.Action = acts
	}
	var res *Strs
	if resource && b.c.ResourceType == "kms" && b.chance(0.75) {
		res = &Strs{Items: []string{"*"}, Single: b.chance(0.7)}
	} else {
		res = b.strs(1+b.intn(2), b.resource)
	}
	if b.chance(0.12) {
		s.NotResource = res
	} else {
		s.Resource = res
	}
	if pc := 0.3; (s.Effect == "Deny" && b.chance(pc+0.3)) || (s.Effect == "Allow" && b.chance(pc)) {
		s.Conds = b.conditions()
	}
	return s
}

// strs draws n distinct values.
func (b *builder) strs(n int, draw func() string) *Strs {
	var items []string
	for len(items) < n {
		v := draw()
		if slices.Contains(items, v) {
			if b.chance(0.5) {
				break
			}
			continue
		}
		items = append(items, v)
	}
	return &Strs{Items: items, Single: len(items) == 1 && b.chance(0.6)}
}

func (b *builder) action() string {
	c := b.c
	switch x := b.r.Float64(); {
	case x < 0.4:
		return c.Action
	case x < 0.5:
		// Actions compare case-insensitively.
		svc, name, _ := strings.Cut(c.Action, ":")
		if b.chance(0.5) {
			return strings.ToUpper(svc) + ":" + strings.ToLower(name)
		}
		return svc + ":" + strings.ToLower(name[:1]) + name[1:]
	case x < 0.6:
		if c.ResourceType == "s3" {
			return pick(b, s3Actions)
		}
		return pick(b, kmsActions)
	default:
		return pick(b, actionPatterns)
	}
}

func (b *builder) resource() string {
	c := b.c
	if b.chance(0.4) {
		return c.ResourceARN
	}
	if b.chance(0.1) {
		return "*"
	}
	s3 := []string{
		"arn:aws:s3:::b1/*", "arn:aws:s3:::b2/*", "arn:aws:s3:::b1", "arn:aws:s3:::b2",
		"arn:aws:s3:::b?/*", "arn:aws:s3:::b1/dir/*", "arn:aws:s3:::*/k1", "arn:aws:s3:::b*",
		"arn:aws:s3:::b1/k?", "arn:aws:s3:::b2/*/k*",
	}
	kms := []string{
		"arn:aws:kms:us-east-1:111122223333:key/*", "arn:aws:kms:*:444455556666:key/*",
		"arn:aws:kms:us-east-1:*:key/1111aaaa-*", "arn:aws:kms:*:*:key/*", KeyA, KeyB,
		"arn:aws:kms:us-west-2:111122223333:key/*", "arn:aws:kms:us-east-?:444455556666:key/8888bbbb-????-*",
	}
	if b.version == V2012 && c.Caller.User != "" && b.chance(0.15) {
		if c.ResourceType == "s3" {
			return pick(b, []string{"arn:aws:s3:::b1/${aws:username}/*", "arn:aws:s3:::b2/${aws:username}/*"})
		}
	}
	own, others := s3, kms
	if c.ResourceType == "kms" {
		own, others = kms, s3
	}
	if b.chance(0.85) {
		return pick(b, own)
	}
	return pick(b, others)
}

// principalCandidates are the AWS principal values worth naming: the
// caller's own chain most of the time, others otherwise.
func (b *builder) awsPrincipal() string {
	c := b.c.Caller
	if b.chance(0.65) {
		switch x := b.r.Float64(); {
		case x < 0.25:
			return c.Account
		case x < 0.5:
			return rootARN(c.Account)
		case x < 0.75 && c.RoleARN != "":
			return c.RoleARN
		default:
			return c.ARN
		}
	}
	acct := pick(b, []string{AccountA, AccountB, AccountC})
	switch b.intn(6) {
	case 0:
		return acct
	case 1:
		return rootARN(acct)
	case 2:
		return roleARN(acct, pick(b, roles))
	case 3:
		return sessionARN(acct, pick(b, roles), pick(b, sessions))
	default:
		return userARN(acct, pick(b, users))
	}
}

func (b *builder) principal() *Principal {
	switch x := b.r.Float64(); {
	case x < 0.12:
		return &Principal{Star: true}
	case x < 0.17:
		return &Principal{Types: []PrincipalType{{Name: "AWS", Values: Strs{Items: []string{"*"}, Single: true}}}}
	default:
		return b.principalMap(true)
	}
}

func (b *builder) principalMap(allowStar bool) *Principal {
	p := &Principal{}
	n := 1 + b.intn(3)
	aws := b.strs(n, b.awsPrincipal)
	if allowStar && b.chance(0.05) {
		aws.Items = append(aws.Items, "*")
		aws.Single = false
	}
	svc := PrincipalType{Name: "Service", Values: Strs{Items: []string{pick(b, []string{"s3.amazonaws.com", "kms.amazonaws.com"})}, Single: true}}
	if b.c.ResourceType == "s3" && b.chance(0.05) {
		// S3 also knows canonical user IDs; an IAM caller never is one.
		svc = PrincipalType{Name: "CanonicalUser", Values: Strs{Items: []string{"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, Single: true}}
	}
	switch x := b.r.Float64(); {
	case x < 0.06:
		p.Types = []PrincipalType{svc}
	case x < 0.14:
		p.Types = []PrincipalType{{Name: "AWS", Values: *aws}, svc}
	default:
		p.Types = []PrincipalType{{Name: "AWS", Values: *aws}}
	}
	return p
}
