package plangen

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// Gen generates the scenarios of one seed.
type Gen struct {
	Seed int64
}

// New returns a generator for seed.
func New(seed int64) *Gen { return &Gen{Seed: seed} }

// Scenario returns scenario i. Each scenario has its own random stream, so
// scenario i does not depend on how many came before it.
//
// What is generated, and what is left out because the oracle
// (@cloud-copilot/iam-simulate 0.1.173) evaluates it differently from AWS
// (pkg/policy/differential_test.go lists these differences):
//
//   - A Deny's NotPrincipal names the whole chain of a caller (account and
//     user, or account, role and session) or none of any probed caller's:
//     the oracle exempts a caller when any one level is listed, AWS only
//     when every level is. So "deny everyone but the principal" is
//     generated for users and sessions only (a role's planned session has no
//     name a policy could list), and NotPrincipal otherwise names orphaned
//     IDs or a principal of an account no probe comes from.
//   - Policy variables appear only in Jane's own identity policies (she is
//     a user, so ${aws:username} always has a value) and never under Arn*
//     operators.
//   - Set qualifiers (ForAnyValue:, ForAllValues:) appear only on
//     multi-valued keys (aws:CalledVia, kms:EncryptionContextKeys,
//     aws:PrincipalOrgPaths) and never with IfExists; those keys appear
//     only with set qualifiers.
//   - Dates are ISO 8601, IP ranges are never /0, no numbers.
//   - Names differ by more than case, and ARNs are never case-varied.
//   - Wildcards in KMS ARNs appear only after "key/".
func (g *Gen) Scenario(i int) Scenario {
	r := rand.New(rand.NewPCG(uint64(g.Seed), uint64(i)*0x9E3779B97F4A7C15+7))
	b := &builder{r: r, s: &Scenario{Seed: g.Seed, Index: i}}
	b.build()
	g.extras(b.s, i, b.orphans) // genorg.go
	return *b.s
}

type builder struct {
	r *rand.Rand
	s *Scenario
	// orphans, when set, lets principal lists name orphaned IDs.
	orphans bool
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }
func (b *builder) intn(n int) int        { return b.r.IntN(n) }
func pick[T any](b *builder, xs []T) T   { return xs[b.r.IntN(len(xs))] }

func (b *builder) build() {
	s := b.s
	switch x := b.r.Float64(); {
	case x < 0.55:
		s.Kind = "user"
		if b.chance(0.1) {
			s.UserPath = "team/"
			s.tag("principal:user-path")
		}
	case x < 0.8:
		s.Kind = "role"
	default:
		s.Kind = "session"
	}
	s.tag("principal:" + s.Kind)
	s.BucketAccount = AccountP
	if b.chance(0.5) {
		s.BucketAccount = AccountB
		s.tag("cross-account")
	}
	s.KeyAccount = s.BucketAccount
	switch x := b.r.Float64(); {
	case x < 0.15:
		s.KeyAccount = AccountK
		s.tag("key:third-account")
	case x < 0.3:
		if s.BucketAccount == AccountP {
			s.KeyAccount = AccountB
		} else {
			s.KeyAccount = AccountP
		}
		s.tag("key:other-account")
	}
	s.SSE = "aws:kms"
	if b.chance(0.1) {
		s.SSE = "aws:kms:dsse"
		s.tag("sse:dsse")
	} else if b.chance(0.45) {
		s.BucketKeys = true
		s.tag("bucket-keys")
	}
	s.KeyRef = "arn"
	if s.KeyAccount == s.BucketAccount {
		switch x := b.r.Float64(); {
		case x < 0.08:
			s.KeyRef = "id"
		case x < 0.16:
			s.KeyRef = "alias"
			s.tag("key:alias")
		}
	}
	s.Ownership = pick(b, []string{"BucketOwnerEnforced", "BucketOwnerEnforced", "BucketOwnerPreferred", "BucketOwnerPreferred", ""})
	s.KeyManager, s.KeyState = "CUSTOMER", "Enabled"
	if s.KeyAccount == s.BucketAccount && b.chance(0.03) {
		s.KeyManager = "AWS"
		s.tag("key:aws-managed")
	}
	if b.chance(0.02) {
		s.KeyState = "Disabled"
		s.tag("key:disabled")
	}
	if b.chance(0.55) {
		all := []diff.Level{diff.Read, diff.Write, diff.List, diff.Versions, diff.ACL}
		for _, l := range all {
			if b.chance(0.45) {
				s.Access = append(s.Access, l)
			}
		}
		if len(s.Access) == 0 {
			s.Access = []diff.Level{pick(b, all)}
		}
		s.tag("levels:chosen")
	}
	s.Prefix = pick(b, prefixes)
	if s.Prefix != "" {
		s.tag("prefix")
	}
	s.KMSVia = pick(b, []string{diff.ViaAuto, diff.ViaAuto, diff.ViaAuto, diff.ViaAuto, diff.ViaAuto, diff.ViaAuto, diff.ViaKeyPolicy, diff.ViaIdentity})
	s.KMSThroughS3 = b.chance(0.1)
	b.orphans = b.chance(0.15)
	if b.orphans {
		s.RemoveOrphans = b.chance(0.5)
	}

	b.keyPolicy()
	b.bucketPolicy()
	b.identity()
	if b.chance(0.15) {
		b.boundary()
	}
	if b.chance(0.2) {
		b.ownSids()
	}
	if b.chance(0.15) {
		b.published()
	}
	b.sids()
}

// sids makes the Sids of every identity policy unique (IAM refuses
// repeated ones); bucket and key policies may keep a repeated Sid, which S3
// and KMS have been seen to store.
func (b *builder) sids() {
	s := b.s
	unique := func(d *Doc) {
		seen := map[string]bool{}
		for i := range d.Stmts {
			for d.Stmts[i].Sid != "" && seen[d.Stmts[i].Sid] {
				d.Stmts[i].Sid += "b"
			}
			seen[d.Stmts[i].Sid] = true
		}
	}
	for i := range s.Inline {
		unique(&s.Inline[i].Doc)
	}
	for i := range s.Managed {
		unique(&s.Managed[i].Doc)
	}
	for i := range s.Group {
		unique(&s.Group[i].Doc)
	}
	if s.Boundary != nil {
		unique(&s.Boundary.Doc)
	}
	for _, d := range []*Doc{s.BucketPolicy, &s.KeyPolicy} {
		if d == nil {
			continue
		}
		seen := map[string]bool{}
		for _, st := range d.Stmts {
			if st.Sid != "" && seen[st.Sid] {
				s.tag("sid:repeated")
			}
			seen[st.Sid] = true
		}
	}
}

// keyPolicy starts from one of the key policies AWS writes (the default,
// which delegates to the key's account, or the console's, which names key
// administrators) and adds statements.
func (b *builder) keyPolicy() {
	s := b.s
	root := Stmt{Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: &Prin{AWS: []string{rootOf(s.KeyAccount)}}, Action: []string{"kms:*"}, Resource: []string{"*"}}
	admin := Stmt{Sid: "Allow access for Key Administrators", Effect: "Allow", Principal: &Prin{AWS: []string{iam(s.KeyAccount, "role/KeyAdmin")}},
		Action:   []string{"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"},
		Resource: []string{"*"}}
	switch x := b.r.Float64(); {
	case x < 0.55:
		s.KeyPolicy = Doc{ID: "key-default-1", Stmts: []Stmt{root}}
	case x < 0.8:
		s.KeyPolicy = Doc{ID: "key-consolepolicy-3", Stmts: []Stmt{admin}}
		s.tag("key-policy:no-delegation")
	default:
		s.KeyPolicy = Doc{ID: "key-consolepolicy-3", Stmts: []Stmt{root, admin}}
	}
	for n := b.intn(4); n > 0; n-- {
		s.KeyPolicy.Stmts = append(s.KeyPolicy.Stmts, b.statement("key"))
	}
}

func (b *builder) bucketPolicy() {
	if b.chance(0.3) {
		return
	}
	d := Doc{}
	for n := 1 + b.intn(4); n > 0; n-- {
		d.Stmts = append(d.Stmts, b.statement("bucket"))
	}
	b.s.BucketPolicy = &d
}

func (b *builder) identity() {
	s := b.s
	for i, n := 0, b.intn(3); i < n; i++ {
		d := Doc{}
		for m := 1 + b.intn(3); m > 0; m-- {
			d.Stmts = append(d.Stmts, b.statement("identity"))
		}
		s.Inline = append(s.Inline, Named{Name: "policy-" + string(rune('a'+i)), Doc: d})
	}
	if b.chance(0.1) {
		d := Doc{Stmts: []Stmt{b.statement("identity"), b.statement("identity")}}
		s.Managed = append(s.Managed, Named{Name: iam(AccountP, "policy/team-access"), Doc: d})
		s.tag("identity:managed")
	}
	if s.Kind == "user" && b.chance(0.1) {
		s.Group = append(s.Group, Named{Name: "group-policy", Doc: Doc{Stmts: []Stmt{b.statement("identity")}}})
		s.tag("identity:group")
	}
}

// boundary sets a permissions boundary: broad, or without S3 or KMS (a
// same-account user then gets the S3 grant in the bucket policy), or narrow.
func (b *builder) boundary() {
	s := b.s
	s.tag("boundary")
	var st []Stmt
	switch b.intn(5) {
	case 0:
		st = []Stmt{{Effect: "Allow", Action: []string{"s3:*", "kms:*"}, Resource: []string{"*"}}}
	case 1:
		st = []Stmt{{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}}}
		s.tag("boundary:no-s3")
	case 2:
		st = []Stmt{{Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"*"}}}
		s.tag("boundary:no-kms")
	case 3:
		st = []Stmt{{Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket", "kms:Decrypt"}, Resource: []string{"*"}}}
	default:
		st = []Stmt{{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}, b.statement("identity")}
	}
	s.Boundary = &Named{Name: iam(AccountP, "policy/boundary"), Doc: Doc{Stmts: st}}
}

// statement draws one statement for a document: "bucket", "key" or
// "identity".
func (b *builder) statement(where string) Stmt {
	s := b.s
	st := Stmt{Effect: "Allow"}
	if b.chance(0.28) {
		st.Effect = "Deny"
	}
	if b.chance(0.3) {
		st.Sid = "Stmt" + string(rune('A'+b.intn(26))) + string(rune('0'+b.intn(10)))
	}
	service := "s3"
	switch where {
	case "key":
		service = "kms"
	case "identity":
		if b.chance(0.4) {
			service = "kms"
		}
	}
	if where != "identity" {
		if st.Effect == "Deny" && b.chance(0.12) {
			st.NotPrincipal = b.notPrincipal()
		} else {
			st.Principal = b.principal()
		}
	}
	st.Action = b.distinct(1+b.intn(2), func() string { return b.action(service) })
	if b.chance(0.08) {
		st.NotAction = true
		s.tag("notaction")
	}
	if where == "key" && b.chance(0.85) {
		st.Resource = []string{"*"}
	} else {
		st.Resource = b.distinct(1+b.intn(2), func() string { return b.resource(service, where) })
	}
	if b.chance(0.08) {
		st.NotResource = true
		s.tag("notresource")
	}
	if (st.Effect == "Deny" && b.chance(0.75)) || (st.Effect == "Allow" && b.chance(0.3)) {
		for n := 1 + b.intn(2); n > 0; n-- {
			c := b.condition(service, where)
			if !slices.ContainsFunc(st.Cond, func(x Cond) bool { return x.Op == c.Op && strings.EqualFold(x.Key, c.Key) }) {
				st.Cond = append(st.Cond, c)
			}
		}
		s.tag(strings.ToLower(st.Effect) + ":conditional")
	}
	return st
}

func (b *builder) distinct(n int, draw func() string) []string {
	var out []string
	for tries := 0; len(out) < n && tries < 4*n; tries++ {
		if v := draw(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) action(service string) string {
	if service == "kms" {
		return pick(b, []string{"kms:Decrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKey", "kms:*", "kms:Generate*",
			"kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncrypt*", "kms:Decryp?", "*"})
	}
	return pick(b, []string{"s3:GetObject", "s3:GetObject", "s3:PutObject", "s3:PutObject", "s3:ListBucket", "s3:GetObjectVersion",
		"s3:PutObjectAcl", "s3:*", "s3:Get*", "s3:*Object", "s3:Put*", "s3:List*", "s3:GetObject*", "s3:?etObject", "*",
		"s3:DeleteObject", "s3:GetBucketPolicy"})
}

func (b *builder) resource(service, where string) string {
	s := b.s
	if service == "kms" {
		k := s.KeyARNOf()
		v := pick(b, []string{k, k, k, "arn:aws:kms:" + Region + ":" + s.KeyAccount + ":key/*", "*", OtherKeyARN(s.KeyAccount),
			"arn:aws:kms:" + Region + ":" + s.KeyAccount + ":key/111aa2bb-*", k[:len(k)-1] + "?", KeyARN(AccountO)})
		if strings.ContainsAny(strings.TrimSuffix(v[strings.LastIndexByte(v, '/')+1:], "*"), "*?") {
			s.tag("resource:wildcard-middle")
		}
		return v
	}
	bk := BucketARN()
	pool := []string{bk, bk + "/*", bk + "/*", bk + "/*/*", bk + "/reports/*", bk + "/reports/b*", bk + "/?*", bk + "/*.txt",
		bk + "/top.txt", bk + "*", bk + "/r?ports/*", bk + "/*/deep.txt", "arn:aws:s3:::*", "*", "arn:aws:s3:::" + OtherBucket + "/*"}
	if s.Prefix != "" {
		pool = append(pool, bk+"/"+s.Prefix+"*", bk+"/"+s.Prefix+"*")
	}
	if where == "identity" && s.Kind == "user" {
		pool = append(pool, bk+"/home/${aws:username}/*")
	}
	v := pick(b, pool)
	if i := strings.IndexAny(v, "*?"); i >= 0 && i < len(v)-1 {
		s.tag("resource:wildcard-middle")
	}
	if splits(v, s.Prefix) {
		s.tag("objects:split")
	}
	if strings.Contains(v, "${") {
		s.tag("resource:variable")
	}
	return v
}

// principal draws a Principal for a resource-policy statement.
func (b *builder) principal() *Prin {
	s := b.s
	me := s.PrincipalARN()
	switch x := b.r.Float64(); {
	case x < 0.18:
		return &Prin{Star: true}
	case x < 0.22:
		return &Prin{AWS: []string{"*"}}
	case x < 0.5:
		if s.Kind == "session" && b.chance(0.4) {
			return &Prin{AWS: []string{s.Argument()}}
		}
		return &Prin{AWS: []string{me}}
	case x < 0.62:
		return &Prin{AWS: []string{pick(b, []string{AccountP, rootOf(AccountP)})}}
	case x < 0.7:
		return &Prin{AWS: []string{pick(b, []string{Bob, Admin, Ops, rootOf(AccountO), rootOf(s.BucketAccount)})}}
	case x < 0.8:
		return &Prin{AWS: []string{me, pick(b, []string{Bob, Admin, Ops})}}
	case x < 0.83:
		return &Prin{Service: []string{"logging.s3.amazonaws.com"}}
	}
	if b.orphans {
		s.tag("orphan:principal")
		if b.chance(0.5) {
			return &Prin{AWS: []string{pick(b, []string{OrphanUser, OrphanRole})}}
		}
		return &Prin{AWS: []string{me, OrphanUser}}
	}
	return &Prin{AWS: []string{me}}
}

// notPrincipal draws a NotPrincipal for a Deny: a whole caller chain, or
// names no probed caller (see Scenario's doc comment).
func (b *builder) notPrincipal() *Prin {
	s := b.s
	s.tag("notprincipal")
	if b.orphans && b.chance(0.5) {
		s.tag("orphan:notprincipal")
		return &Prin{AWS: []string{OrphanUser}}
	}
	switch {
	case s.Kind == "user" && b.chance(0.6):
		return &Prin{AWS: []string{rootOf(AccountP), s.PrincipalARN()}}
	case s.Kind == "session" && b.chance(0.6):
		return &Prin{AWS: []string{rootOf(AccountP), s.PrincipalARN(), s.Argument()}}
	}
	return &Prin{AWS: []string{rootOf(AccountO), Ops}}
}

// condition draws one condition, tagged by where its key's value comes
// from and by its operator.
func (b *builder) condition(service, where string) Cond {
	s := b.s
	bk := BucketARN()
	var c Cond
	global := []func() Cond{
		func() Cond {
			return Cond{Op: pick(b, []string{"DateGreaterThan", "DateLessThan"}), Key: "aws:CurrentTime", Values: []string{pick(b, []string{"2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "aws:RequestedRegion", Values: []string{pick(b, []string{Region, "eu-west-1"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "aws:ResourceAccount", Values: []string{pick(b, []string{AccountP, s.BucketAccount, s.KeyAccount, AccountO})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"ArnLike", "ArnNotLike", "ArnEquals", "StringLike", "StringNotLike"}), Key: "aws:PrincipalArn",
				Values: []string{pick(b, []string{s.PrincipalARN(), iam(AccountP, "user/*"), iam(AccountP, "role/Reader"), Bob})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "aws:PrincipalAccount", Values: []string{pick(b, []string{AccountP, AccountO})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringLike", "StringNotLike"}), Key: "aws:userid", Values: []string{pick(b, []string{JaneID, ReaderID + ":*", "*:" + SessionName})}}
		},
		func() Cond {
			return Cond{Op: "StringEquals", Key: "aws:PrincipalType", Values: []string{pick(b, []string{"User", "AssumedRole"})}}
		},
		func() Cond {
			return Cond{Op: "Bool", Key: pick(b, []string{"aws:ViaAWSService", "aws:PrincipalIsAWSService"}), Values: []string{pick(b, []string{"true", "false"})}}
		},
	}
	kms := []func() Cond{
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringLike", "StringNotEquals"}), Key: "kms:ViaService",
				Values: []string{pick(b, []string{"s3." + Region + ".amazonaws.com", "s3.*.amazonaws.com", "ec2." + Region + ".amazonaws.com"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "kms:CallerAccount", Values: []string{pick(b, []string{AccountP, AccountO})}}
		},
		func() Cond {
			vals := []string{bk + "/*", bk, bk + "/reports/*", "arn:aws:s3:::" + OtherBucket + "/*"}
			if s.Prefix != "" {
				vals = append(vals, bk+"/"+s.Prefix+"*")
			}
			return Cond{Op: pick(b, []string{"StringLike", "StringEquals", "StringNotLike", "ArnLike"}), Key: "kms:EncryptionContext:aws:s3:arn", Values: []string{pick(b, vals)}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"ForAnyValue:StringEquals", "ForAllValues:StringEquals"}), Key: "aws:CalledVia", Values: []string{pick(b, []string{"s3.amazonaws.com", "athena.amazonaws.com"})}}
		},
		func() Cond {
			return Cond{Op: "ForAnyValue:StringEquals", Key: "kms:EncryptionContextKeys", Values: []string{pick(b, []string{"aws:s3:arn", "team"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "kms:RequestAlias", Values: []string{Alias}}
		},
	}
	s3 := []func() Cond{
		func() Cond {
			vals := []string{"reports/*", "home/*"}
			if s.Prefix != "" {
				vals = append(vals, s.Prefix+"*")
			}
			return Cond{Op: pick(b, []string{"StringLike", "StringNotLike"}), Key: "s3:prefix", Values: []string{pick(b, vals)}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringNotEquals", "StringEquals", "StringNotEqualsIfExists"}), Key: "s3:x-amz-server-side-encryption",
				Values: pick(b, [][]string{{"aws:kms"}, {"aws:kms"}, {"AES256"}, {"AES256", "aws:kms"}, {"aws:kms:dsse"}})}
		},
		func() Cond {
			return Cond{Op: "Null", Key: pick(b, []string{"s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"}), Values: []string{pick(b, []string{"true", "false"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringNotEquals", "ArnNotEqualsIfExists", "StringNotEqualsIfExists", "StringEquals"}), Key: "s3:x-amz-server-side-encryption-aws-kms-key-id",
				Values: []string{pick(b, []string{s.KeyARNOf(), s.KeyARNOf(), OtherKeyARN(s.KeyAccount)})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "s3:x-amz-acl", Values: []string{"bucket-owner-full-control"}}
		},
	}
	client := []func() Cond{
		func() Cond {
			return Cond{Op: "Bool", Key: "aws:SecureTransport", Values: []string{pick(b, []string{"false", "true"})}}
		},
		func() Cond {
			return pick(b, []Cond{
				{Op: "BoolIfExists", Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}},
				{Op: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{pick(b, []string{"true", "false"})}},
				{Op: "Null", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}},
			})
		},
	}
	network := []func() Cond{
		func() Cond {
			return Cond{Op: pick(b, []string{"IpAddress", "NotIpAddress"}), Key: "aws:SourceIp", Values: pick(b, [][]string{{"192.0.2.0/24"}, {"192.0.2.0/24", "203.0.113.0/24"}})}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals", "StringNotEqualsIfExists"}), Key: "aws:SourceVpce", Values: []string{"vpce-1a2b3c4d"}}
		},
		func() Cond {
			return Cond{Op: "StringNotEquals", Key: "aws:SourceVpc", Values: []string{"vpc-111bbb22"}}
		},
	}
	unknown := []func() Cond{
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals", "StringLike"}), Key: "aws:PrincipalTag/team", Values: []string{pick(b, []string{"data", "d*"})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "aws:PrincipalOrgID", Values: []string{"o-a1b2c3d4e5"}}
		},
		func() Cond {
			return Cond{Op: "ForAnyValue:StringLike", Key: "aws:PrincipalOrgPaths", Values: []string{"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}
		},
		func() Cond { return Cond{Op: "StringNotEquals", Key: "aws:SomeNewKey", Values: []string{"x"}} },
	}
	serviceOnly := []func() Cond{
		func() Cond {
			return Cond{Op: pick(b, []string{"StringEquals", "StringNotEquals"}), Key: "aws:SourceAccount", Values: []string{pick(b, []string{AccountP, s.BucketAccount})}}
		},
		func() Cond {
			return Cond{Op: pick(b, []string{"ArnLike", "ArnNotLike"}), Key: "aws:SourceArn", Values: []string{bk}}
		},
		func() Cond {
			return Cond{Op: "StringEquals", Key: "aws:PrincipalServiceName", Values: []string{"logging.s3.amazonaws.com"}}
		},
	}
	own := s3
	if service == "kms" {
		own = kms
	}
	var family string
	switch x := b.r.Float64(); {
	case x < 0.25:
		c, family = pick(b, global)(), "cond:fact"
	case x < 0.5:
		c = pick(b, own)()
		family = "cond:fact"
		if Classify(c.Key, "s3:PutObject", false) == Client {
			family = "cond:client"
		}
	case x < 0.62:
		c, family = pick(b, client)(), "cond:client"
	case x < 0.75:
		c, family = pick(b, network)(), "cond:network"
	case x < 0.9:
		c, family = pick(b, unknown)(), "cond:unknown"
	default:
		c, family = pick(b, serviceOnly)(), "cond:service-only"
	}
	if c.Key == "kms:EncryptionContext:aws:s3:arn" {
		s.tag("kms:encryption-context")
		if splits(c.Values[0], s.Prefix) {
			s.tag("objects:split")
		}
	}
	if c.Key == "kms:ViaService" {
		s.tag("kms:via-service")
	}
	// IfExists on operators that take it, now and then.
	if !strings.Contains(c.Op, ":") && c.Op != "Null" && !strings.HasSuffix(c.Op, "IfExists") && b.chance(0.15) {
		c.Op += "IfExists"
	}
	s.tag(family)
	switch {
	case strings.HasSuffix(c.Op, "IfExists"):
		s.tag("op:IfExists")
	case c.Op == "Null":
		s.tag("op:Null")
	case strings.Contains(c.Op, ":"):
		s.tag("op:" + c.Op[:strings.IndexByte(c.Op, ':')])
	}
	if strings.Contains(c.Op, "Not") {
		s.tag("op:negated")
	}
	return c
}

// ownSids adds statements carrying the grant's Sids (diff.SidsOf): some
// with exactly the content bucketgrant writes (bucketgrant's own, which it
// may extend or rewrite), some with more (someone else's, never touched),
// some under another grant's Sid.
func (b *builder) ownSids() {
	s := b.s
	g := s.Grant()
	purpose := pick(b, diff.Purposes)
	sid := diff.SidsOf(g, purpose)[0]
	if b.chance(0.2) {
		sid = diff.SidsOf(g, purpose)[1]
	}
	if b.chance(0.1) {
		other := g
		other.Prefix = "elsewhere/"
		sid = diff.SidsOf(other, purpose)[0]
		s.tag("sid:other-grant")
	}
	where := pick(b, []string{"bucket", "identity"})
	if purpose == "Kms" {
		where = pick(b, []string{"key", "identity"})
	}
	bk := BucketARN()
	st := Stmt{Sid: sid, Effect: "Allow"}
	switch purpose {
	case "Objects":
		st.Action = b.distinct(1+b.intn(3), func() string {
			return pick(b, []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectAcl"})
		})
		st.Resource = []string{bk + "/" + s.Prefix + "*"}
	case "List":
		st.Action = []string{"s3:ListBucket"}
		st.Resource = []string{bk}
		if s.Prefix != "" {
			st.Cond = []Cond{{Op: "StringLike", Key: "s3:prefix", Values: []string{s.Prefix + "*"}}}
		}
	default:
		st.Action = b.distinct(1+b.intn(2), func() string { return pick(b, []string{"kms:Decrypt", "kms:GenerateDataKey"}) })
		st.Resource = []string{s.KeyARNOf()}
		if where == "key" {
			st.Resource = []string{"*"}
		}
	}
	if where != "identity" {
		st.Principal = &Prin{AWS: []string{s.PrincipalARN()}}
	}
	if b.chance(0.5) {
		s.tag("sid:foreign")
		switch b.intn(5) {
		case 0:
			if st.Principal != nil {
				st.Principal.AWS = append(st.Principal.AWS, Bob)
			} else {
				st.Action = append(st.Action, "s3:DeleteObject")
			}
		case 1:
			if purpose == "Kms" {
				st.Action = append(st.Action, "kms:Encrypt")
			} else {
				st.Action = append(st.Action, "s3:DeleteObject")
			}
		case 2:
			if purpose == "Kms" {
				st.Resource = []string{"*"}
				if where == "key" {
					st.Resource = []string{OtherKeyARN(s.KeyAccount)}
				}
			} else {
				st.Resource = append(st.Resource, "arn:aws:s3:::"+OtherBucket+"/*")
			}
		case 3:
			st.Cond = append(st.Cond, Cond{Op: "IpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}})
		default:
			st.Effect = "Deny"
		}
	} else {
		s.tag("sid:owned")
	}
	switch where {
	case "bucket":
		if s.BucketPolicy == nil {
			s.BucketPolicy = &Doc{}
		}
		s.BucketPolicy.Stmts = append(s.BucketPolicy.Stmts, st)
	case "key":
		s.KeyPolicy.Stmts = append(s.KeyPolicy.Stmts, st)
	default:
		name := diff.InlinePolicyName(Bucket)
		i := slices.IndexFunc(s.Inline, func(n Named) bool { return n.Name == name })
		if i < 0 {
			s.Inline = append(s.Inline, Named{Name: name})
			i = len(s.Inline) - 1
		}
		s.Inline[i].Doc.Stmts = append(s.Inline[i].Doc.Stmts, st)
	}
}

// published adds one of the statements AWS's guides and open-source
// modules publish, which tripped the planner before.
func (b *builder) published() {
	s := b.s
	bk := BucketARN()
	objs := []string{bk + "/*"}
	both := []string{bk, bk + "/*"}
	addBucket := func(sts ...Stmt) {
		if s.BucketPolicy == nil {
			s.BucketPolicy = &Doc{}
		}
		s.BucketPolicy.Stmts = append(s.BucketPolicy.Stmts, sts...)
	}
	star := &Prin{Star: true}
	switch b.intn(7) {
	case 0: // require SSE-KMS on uploads: the Null and StringNotEquals pair
		s.tag("published:sse-pair")
		addBucket(
			Stmt{Sid: "DenyIncorrectEncryptionHeader", Effect: "Deny", Principal: star, Action: []string{"s3:PutObject"}, Resource: objs,
				Cond: []Cond{{Op: "StringNotEquals", Key: "s3:x-amz-server-side-encryption", Values: []string{"aws:kms"}}}},
			Stmt{Sid: "DenyUnEncryptedObjectUploads", Effect: "Deny", Principal: star, Action: []string{"s3:PutObject"}, Resource: objs,
				Cond: []Cond{{Op: "Null", Key: "s3:x-amz-server-side-encryption", Values: []string{"true"}}}})
	case 1: // AWS's force-MFA identity policy
		s.tag("published:force-mfa")
		s.Inline = append(s.Inline, Named{Name: "force-mfa", Doc: Doc{Stmts: []Stmt{{Sid: "DenyAllExceptListedIfNoMFA", Effect: "Deny",
			Action: []string{"iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices", "sts:GetSessionToken"}, NotAction: true,
			Resource: []string{"*"}, Cond: []Cond{{Op: "BoolIfExists", Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}}}}}}})
	case 2: // AWS's deny-by-IP example, spared for AWS services' calls
		s.tag("published:deny-ip")
		s.Inline = append(s.Inline, Named{Name: "deny-ip", Doc: Doc{Stmts: []Stmt{{Effect: "Deny", Action: []string{"*"}, Resource: []string{"*"},
			Cond: []Cond{{Op: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24", "203.0.113.0/24"}}, {Op: "Bool", Key: "aws:ViaAWSService", Values: []string{"false"}}}}}}})
	case 3: // S3 server access logs: only the logging service may upload
		s.tag("published:access-logs")
		addBucket(
			Stmt{Sid: "S3ServerAccessLogsPolicy", Effect: "Allow", Principal: &Prin{Service: []string{"logging.s3.amazonaws.com"}}, Action: []string{"s3:PutObject"}, Resource: objs,
				Cond: []Cond{{Op: "StringEquals", Key: "aws:SourceAccount", Values: []string{s.BucketAccount}}}},
			Stmt{Sid: "DenyOthers", Effect: "Deny", Principal: star, Action: []string{"s3:PutObject"}, Resource: objs,
				Cond: []Cond{{Op: "StringNotEquals", Key: "aws:SourceAccount", Values: []string{s.BucketAccount}}}})
	case 4: // TLS only
		s.tag("published:tls")
		addBucket(Stmt{Sid: "DenyInsecureTransport", Effect: "Deny", Principal: star, Action: []string{"s3:*"}, Resource: both,
			Cond: []Cond{{Op: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}}}})
	case 5: // key policy limited to a VPC endpoint, with or without the guard for AWS services
		s.tag("published:vpce-key")
		st := Stmt{Sid: "VPCEOnly", Effect: "Deny", Principal: star, Action: []string{"kms:*"}, Resource: []string{"*"},
			Cond: []Cond{{Op: "StringNotEquals", Key: "aws:SourceVpce", Values: []string{"vpce-1a2b3c4d"}}}}
		if b.chance(0.5) {
			st.Cond = append(st.Cond, Cond{Op: "Bool", Key: "aws:ViaAWSService", Values: []string{"false"}})
		}
		s.KeyPolicy.Stmts = append(s.KeyPolicy.Stmts, st)
	default: // AES256 or aws:kms accepted
		s.tag("published:aes-or-kms")
		addBucket(Stmt{Sid: "SSE", Effect: "Deny", Principal: star, Action: []string{"s3:PutObject"}, Resource: objs,
			Cond: []Cond{{Op: "StringNotEquals", Key: "s3:x-amz-server-side-encryption", Values: []string{"AES256", "aws:kms"}}}})
	}
}

// splits reports whether an object pattern covers some but not all of the
// objects under prefix: a grant decided from one probe object gets it
// wrong (issue 10, cause 1).
func splits(pattern, prefix string) bool {
	bk := BucketARN() + "/"
	switch pattern {
	case "*", "arn:aws:s3:::*", BucketARN() + "*", bk + "*", bk + prefix + "*", BucketARN():
		return false
	}
	return strings.HasPrefix(pattern, bk) || strings.HasPrefix(pattern, BucketARN()+"?")
}
