package plangen

import (
	"math/rand/v2"
	"slices"
)

// extras layers an organization, KMS grants and principal tags on a built
// scenario. They come from a random stream of their own, so scenario i of
// a seed keeps every other part it had before they were added.
func (g *Gen) extras(s *Scenario, i int, orphans bool) {
	r := rand.New(rand.NewPCG(uint64(g.Seed)^0x0F6A11, uint64(i)*0x9E3779B97F4A7C15+13))
	b := &builder{r: r, s: s, orphans: orphans}
	if b.chance(0.15) {
		b.org()
	}
	if b.chance(0.15) {
		b.grants()
	}
	if b.chance(0.15) {
		b.tags()
	}
}

// org puts the accounts into an organization with SCPs and RCPs beside or
// instead of the AWS managed full-access ones (see org.go for its shape).
func (b *builder) org() {
	s := b.s
	s.tag("org")
	o := &Org{Management: AccountO}
	if b.chance(0.08) {
		// The management account's resources (and principals) are not
		// limited by RCPs (SCPs).
		o.Management = s.BucketAccount
		s.tag("org:management")
	}
	for n := 1 + b.intn(2); n > 0; n-- {
		p := OrgPol{Type: typeSCP}
		if b.chance(0.5) {
			p.Type = typeRCP
		}
		if p.Type == typeSCP {
			p.Target = pick(b, []string{RootID, OUPrin, AccountP})
			s.tag("org:scp")
		} else {
			p.Target = pick(b, []string{RootID, ouOf(s.BucketAccount), s.BucketAccount, s.KeyAccount})
			s.tag("org:rcp")
		}
		switch x := b.r.Float64(); {
		case x < 0.25:
			// The level allows only what this policy allows.
			p.Replace = true
			s.tag("org:replace")
			for k := 1 + b.intn(2); k > 0; k-- {
				p.Doc.Stmts = append(p.Doc.Stmts, b.orgStatement(p.Type, "Allow"))
			}
		case x < 0.45:
			p.Doc.Stmts = []Stmt{b.perimeter(p.Type)}
		default:
			for k := 1 + b.intn(2); k > 0; k-- {
				eff := "Deny"
				if b.chance(0.25) {
					eff = "Allow"
				}
				p.Doc.Stmts = append(p.Doc.Stmts, b.orgStatement(p.Type, eff))
			}
		}
		o.Policies = append(o.Policies, p)
	}
	s.Org = o
}

// orgStatement is an SCP or RCP statement: like an identity policy's (an
// RCP's with Principal "*", which AWS requires), over S3 or KMS.
func (b *builder) orgStatement(typ, effect string) Stmt {
	s := b.s
	service := "s3"
	if b.chance(0.45) {
		service = "kms"
	}
	st := Stmt{Effect: effect}
	if typ == typeRCP {
		st.Principal = &Prin{Star: true}
	}
	st.Action = b.distinct(1+b.intn(2), func() string { return b.action(service) })
	if effect == "Allow" && b.chance(0.3) {
		// A replaced level that allows both services, on some condition.
		st.Action = []string{"s3:*", "kms:*"}
	}
	if b.chance(0.05) {
		st.NotAction = true
		s.tag("notaction")
	}
	st.Resource = []string{"*"}
	if b.chance(0.3) {
		where := "bucket"
		if service == "kms" {
			where = "key"
		}
		st.Resource = b.distinct(1+b.intn(2), func() string { return b.resource(service, where) })
	}
	if effect == "Deny" && b.chance(0.7) || effect == "Allow" && b.chance(0.45) {
		c := b.condition(service, "org")
		st.Cond = append(st.Cond, c)
		s.tag("org:conditional")
	}
	if effect == "Deny" {
		s.tag("org:deny")
	}
	return st
}

// perimeter is one of the data-perimeter statements AWS publishes for
// organizations, or an Allow that needs a principal tag.
func (b *builder) perimeter(typ string) Stmt {
	s := b.s
	s.tag("org:perimeter")
	star := &Prin{Star: true}
	if typ == typeRCP {
		switch b.intn(3) {
		case 0: // only the organization's identities (AWS services exempt)
			return Stmt{Sid: "EnforceOrgIdentities", Effect: "Deny", Principal: star, Action: []string{"s3:*", "kms:*"}, Resource: []string{"*"},
				Cond: []Cond{{Op: "StringNotEqualsIfExists", Key: "aws:PrincipalOrgID", Values: []string{OrgID}}, {Op: "BoolIfExists", Key: "aws:PrincipalIsAWSService", Values: []string{"false"}}}}
		case 1:
			return Stmt{Sid: "EnforceSecureTransport", Effect: "Deny", Principal: star, Action: []string{"s3:*"}, Resource: []string{"*"},
				Cond: []Cond{{Op: "BoolIfExists", Key: "aws:SecureTransport", Values: []string{"false"}}}}
		default:
			return Stmt{Sid: "TeamOnly", Effect: "Deny", Principal: star, Action: []string{pick(b, []string{"s3:*", "kms:*", "*"})}, Resource: []string{"*"},
				Cond: []Cond{{Op: pick(b, []string{"StringNotEquals", "StringEquals"}), Key: "aws:PrincipalTag/team", Values: []string{pick(b, []string{"data", "web"})}}}}
		}
	}
	switch b.intn(3) {
	case 0: // only the organization's resources, AWS services' calls exempt
		return Stmt{Sid: "EnforceOrgResources", Effect: "Deny", Action: []string{"s3:*", "kms:*"}, Resource: []string{"*"},
			Cond: []Cond{{Op: "StringNotEqualsIfExists", Key: "aws:ResourceOrgID", Values: []string{OrgID}}, {Op: "BoolIfExists", Key: "aws:ViaAWSService", Values: []string{"false"}}}}
	case 1: // KMS only through AWS services
		return Stmt{Sid: "KMSViaServices", Effect: "Deny", Action: []string{"kms:*"}, Resource: []string{"*"},
			Cond: []Cond{{Op: "BoolIfExists", Key: "aws:ViaAWSService", Values: []string{"false"}}}}
	default: // an Allow that needs a tag: session tags decide for a role
		return Stmt{Sid: "TeamAllow", Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"},
			Cond: []Cond{{Op: "StringEquals", Key: "aws:PrincipalTag/team", Values: []string{pick(b, []string{"data", "d*"})}}}}
	}
}

// grants gives the bucket's key KMS grants: to the principal or others,
// with or without encryption-context constraints. A grantee is a user or a
// role (an account root counts for nothing, and a session ARN is left out:
// the suite's oracle translation names grantees by aws:PrincipalArn).
func (b *builder) grants() {
	s := b.s
	s.tag("grants")
	s.Grants = []Grant{}
	for n := b.intn(3); n > 0; n-- {
		g := Grant{ID: "g-" + string(rune('a'+len(s.Grants))) + "0123456789abcdef"}
		g.Grantee = pick(b, []string{s.PrincipalARN(), s.PrincipalARN(), s.PrincipalARN(), Bob, rootOf(AccountP), Admin})
		if g.Grantee == s.PrincipalARN() {
			s.tag("grants:principal")
		}
		all := []string{"Decrypt", "GenerateDataKey", "Encrypt", "GenerateDataKeyWithoutPlaintext"}
		for _, op := range all {
			if b.chance(0.55) {
				g.Ops = append(g.Ops, op)
			}
		}
		if len(g.Ops) == 0 {
			g.Ops = []string{pick(b, all[:2])}
		}
		switch x := b.r.Float64(); {
		case x < 0.2:
			g.Subset = map[string]string{"aws:s3:arn": pick(b, []string{BucketARN(), BucketARN() + "/top.txt", BucketARN() + "/" + s.Prefix + "x"})}
			s.tag("grants:subset")
		case x < 0.3:
			g.Equals = map[string]string{"aws:s3:arn": pick(b, []string{BucketARN(), BucketARN() + "/top.txt"})}
			s.tag("grants:equals")
		}
		s.Grants = append(s.Grants, g)
	}
}

// tags gives the principal IAM tags as read: facts for a user, the role's
// own for a role (a session tag may replace them).
func (b *builder) tags() {
	s := b.s
	s.tag("tags")
	s.PrincipalTags = []Tag{}
	for _, t := range []Tag{{"team", "data"}, {"team", "web"}, {"dept", "x"}} {
		if b.chance(0.4) && !slices.ContainsFunc(s.PrincipalTags, func(x Tag) bool { return x.Key == t.Key }) {
			s.PrincipalTags = append(s.PrincipalTags, t)
		}
	}
}
