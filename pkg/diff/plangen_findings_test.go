package diff_test

import (
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/plangen"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
)

// What the generated plan suite found, each shrunk to a minimal scenario
// and judged with AWS's documentation (aws-facts.md §3 and §10) and the
// oracle. Each case runs every check of TestGeneratedPlans with every
// request decided by the oracle, and must find nothing.

// findingScenario is a scenario in the seeds' accounts: Jane (or the role
// Reader) in 111122223333, the bucket and key where the case says.
func findingScenario(kind, bucketAccount, keyAccount string, levels ...diff.Level) plangen.Scenario {
	return plangen.Scenario{Kind: kind, BucketAccount: bucketAccount, KeyAccount: keyAccount, SSE: "aws:kms", KeyRef: "arn",
		Ownership: "BucketOwnerEnforced", KeyManager: "CUSTOMER", KeyState: "Enabled", Access: levels, KMSVia: diff.ViaAuto,
		KeyPolicy: plangen.Doc{ID: "key-default-1", Stmts: []plangen.Stmt{{Sid: "Enable IAM User Permissions", Effect: "Allow",
			Principal: &plangen.Prin{AWS: []string{"arn:aws:iam::" + keyAccount + ":root"}}, Action: []string{"kms:*"}, Resource: []string{"*"}}}}}
}

func inline(stmts ...plangen.Stmt) []plangen.Named {
	return []plangen.Named{{Name: "policy-a", Doc: plangen.Doc{Stmts: stmts}}}
}

const objAll = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"

func TestPlangenFindings(t *testing.T) {
	p, b := plangen.AccountP, plangen.AccountB
	janeP := &plangen.Prin{AWS: []string{jane}}
	cases := []struct {
		name string
		sc   func() plangen.Scenario
	}{
		// Issue 10, cause 1: "every object is allowed" decided from the
		// one probe object bucketgrant-probe/any-object.
		{"objects: a bucket-policy allow on bucket/*/* does not cover bucket/top.txt", func() plangen.Scenario {
			sc := findingScenario("user", b, b, diff.Read)
			sc.BucketPolicy = &plangen.Doc{Stmts: []plangen.Stmt{{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{p}},
				Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/*"}}}}
			return sc
		}},
		{"objects: an allow on reports/b* does not cover --prefix reports/", func() plangen.Scenario {
			sc := findingScenario("role", p, p, diff.Read)
			sc.Prefix = "reports/"
			sc.BucketPolicy = &plangen.Doc{Stmts: []plangen.Stmt{{Effect: "Allow", Principal: &plangen.Prin{Star: true},
				Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/b*"}}}}
			return sc
		}},
		{"objects: an allow on NotResource reports/b* leaves reports/b1 out", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Write)
			sc.Inline = inline(plangen.Stmt{Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/b*"}, NotResource: true},
				plangen.Stmt{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}})
			return sc
		}},
		{"blocked: a deny on bucket/*/* leaves bucket/top.txt grantable", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.Inline = inline(plangen.Stmt{Effect: "Deny", Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/*"}})
			return sc
		}},
		// solve.go named the probe object bucketgrant-probe/any-object
		// as S3's encryption context of a KMS request although a deny
		// keeps that object: the plan's own context for
		// kms:GenerateDataKey was denied after the plan.
		{"required: the KMS request's context names an object no deny keeps", func() plangen.Scenario {
			sc := findingScenario("role", b, plangen.AccountK, diff.Write)
			sc.KeyPolicy.Stmts = append(sc.KeyPolicy.Stmts[:0:0], plangen.Stmt{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{"arn:aws:iam::123456789098:role/Admin"}},
				Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})
			sc.Inline = inline(plangen.Stmt{Effect: "Deny", Action: []string{"kms:GenerateDataKey"}, Resource: []string{plangen.KeyARN(plangen.AccountK)},
				Cond: []plangen.Cond{{Op: "StringNotLike", Key: "kms:EncryptionContext:aws:s3:arn", Values: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/*"}}}})
			return sc
		}},
		// decide.go, verdict.condition: a deny that needs two keys
		// bucketgrant cannot read at once is summed up key by key, and
		// each value of each key is live with some value of the other,
		// so the plan says the request works, with no condition and no
		// warning, although it is denied when both hold.
		{"unknown values: a deny on aws:SourceIp and aws:PrincipalOrgID together", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.KeyPolicy.Stmts = append(sc.KeyPolicy.Stmts, plangen.Stmt{Effect: "Deny", Principal: janeP, Action: []string{"kms:Decrypt"}, Resource: []string{"*"},
				Cond: []plangen.Cond{{Op: "IpAddressIfExists", Key: "aws:SourceIp", Values: []string{"203.0.113.0/24"}},
					{Op: "StringNotEquals", Key: "aws:PrincipalOrgID", Values: []string{"o-a1b2c3d4e5"}}}})
			sc.Inline = inline(plangen.Stmt{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{objAll}})
			return sc
		}},
		{"unknown values: a deny on aws:SourceIp and aws:PrincipalTag/team together", func() plangen.Scenario {
			sc := findingScenario("role", p, p, diff.Read)
			sc.Inline = inline(plangen.Stmt{Effect: "Deny", Action: []string{"*"}, Resource: []string{"arn:aws:kms:us-east-1:111122223333:key/*"},
				Cond: []plangen.Cond{{Op: "IpAddressIfExists", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}},
					{Op: "StringLike", Key: "aws:PrincipalTag/team", Values: []string{"data"}}}})
			return sc
		}},
		// An allow that holds only for some values of a key bucketgrant
		// cannot read, where no unconditional grant can be placed (a
		// boundary, --kms-via identity without delegation), was called
		// blocked; the access works (or, with bucketgrant's grant, works)
		// unless aws:SomeNewKey = x: an "allowed if" verdict, not a
		// blocker.
		{"allowed if: a key-policy allow for everyone unless aws:SomeNewKey = x, for a role whose boundary lacks KMS", func() plangen.Scenario {
			sc := findingScenario("role", b, p, diff.Read)
			sc.KeyPolicy.Stmts = []plangen.Stmt{{Effect: "Allow", Principal: &plangen.Prin{Star: true}, Action: []string{"kms:GenerateDataKey*"}, NotAction: true,
				Resource: []string{plangen.KeyARN(p)}, Cond: []plangen.Cond{{Op: "StringNotEquals", Key: "aws:SomeNewKey", Values: []string{"x"}}}}}
			sc.Boundary = &plangen.Named{Name: "arn:aws:iam::111122223333:policy/boundary", Doc: plangen.Doc{Stmts: []plangen.Stmt{{Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"*"}}}}}
			return sc
		}},
		{"allowed if: a key policy that delegates unless aws:SomeNewKey = x, with --kms-via identity", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.KMSVia = diff.ViaIdentity
			sc.KeyPolicy.Stmts = []plangen.Stmt{{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{"arn:aws:iam::111122223333:root"}}, Action: []string{"kms:Decrypt"},
				Resource: []string{"*"}, Cond: []plangen.Cond{{Op: "StringNotEquals", Key: "aws:SomeNewKey", Values: []string{"x"}}}}}
			return sc
		}},
		// origins.go gives a user's aws:MultiFactorAuthPresent two
		// values, absent (long-term keys) and true (an MFA session); a
		// session made without MFA (GetSessionToken without a code)
		// carries false (IAM User Guide, aws:MultiFactorAuthPresent). A
		// deny on BoolIfExists true is then avoidable, yet the plan calls
		// it a blocker "whatever the request looks like".
		{"blocked: a deny on MFA sessions is avoided by a session without MFA", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.Inline = inline(plangen.Stmt{Effect: "Allow", Action: []string{"s3:GetObject", "kms:Decrypt"}, Resource: []string{"*"}},
				plangen.Stmt{Effect: "Deny", Action: []string{"s3:GetObject"}, Resource: []string{objAll},
					Cond: []plangen.Cond{{Op: "BoolIfExists", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}}}})
			return sc
		}},
		// solve.go, keyDelegates: whether the key policy delegates to the
		// account is asked for a stand-in user of the account, which a
		// deny exempting only the principal (NotPrincipal with the
		// principal's whole chain) hits; the principal itself gets the
		// delegation, yet the plan says the key does not delegate.
		{"blocked: a deny for everyone but the principal hides the key's delegation", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.KMSVia = diff.ViaIdentity
			sc.KeyPolicy.Stmts = append(sc.KeyPolicy.Stmts, plangen.Stmt{Effect: "Deny", NotPrincipal: &plangen.Prin{AWS: []string{"arn:aws:iam::111122223333:root", jane}},
				Action: []string{"kms:*"}, Resource: []string{"*"}})
			return sc
		}},
		// Found by the generated suite (seed 2, scenario 3326), shrunk: a
		// cross-account bucket policy that allows Jane unless
		// aws:SomeNewKey = x and cannot be saved (it names a deleted
		// user's ID, no --remove-orphaned-principals). The bucket-policy
		// grant the other case needs cannot be written, and the plan said
		// blocked (orphaned-principals); with the identity grant alone the
		// upload works unless aws:SomeNewKey = x.
		{"allowed if: a bucket policy that cannot be saved allows the principal unless aws:SomeNewKey = x", func() plangen.Scenario {
			sc := findingScenario("user", b, p, diff.Write)
			sc.BucketPolicy = &plangen.Doc{Stmts: []plangen.Stmt{
				{Effect: "Allow", Principal: janeP, Action: []string{"s3:GetBucketPolicy"}, NotAction: true, Resource: []string{"*"},
					Cond: []plangen.Cond{{Op: "StringNotEquals", Key: "aws:SomeNewKey", Values: []string{"x"}}}},
				{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{plangen.OrphanUser}}, Action: []string{"s3:ListBucket"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET"}}}}
			sc.KeyPolicy.Stmts = []plangen.Stmt{{Effect: "Allow", Principal: janeP, Action: []string{"kms:GenerateDataKey*"}, Resource: []string{"arn:aws:kms:us-east-1:111122223333:key/*"}}}
			return sc
		}},
		// A key policy that delegates only for requests made with MFA,
		// with --kms-via identity: the identity grant works for requests
		// Jane makes with an MFA session (her choice), and the plan says
		// so instead of a key-not-delegated blocker (blocked-shape).
		{"shape: a key policy that delegates only with MFA, with --kms-via identity", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.KMSVia = diff.ViaIdentity
			sc.KeyPolicy.Stmts[0].Cond = []plangen.Cond{{Op: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}}}
			return sc
		}},
		{"shape: a role whose boundary allows KMS only with MFA", func() plangen.Scenario {
			sc := findingScenario("role", p, p, diff.Read)
			sc.Boundary = &plangen.Named{Name: "arn:aws:iam::111122223333:policy/boundary", Doc: plangen.Doc{Stmts: []plangen.Stmt{
				{Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"*"}},
				{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}, Cond: []plangen.Cond{{Op: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}}}}}}}
			return sc
		}},
		// Found by the 100,000-plan run (seed 1, scenario 23742), shrunk:
		// one deny keeps uploads outside r?ports/* through the VPC
		// endpoint, the other uploads outside *.txt from elsewhere. No
		// one shape reaches every key some shape reaches, and decide
		// called every upload denied whatever the request looks like
		// (blocked-shape); each key is reachable, so the plan names the
		// shape that reaches the most and warns of the keys it leaves.
		{"shape: denies that need different network paths for different keys", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Write)
			sc.Ownership = "BucketOwnerPreferred"
			sc.KeyPolicy = plangen.Doc{ID: "key-consolepolicy-3", Stmts: []plangen.Stmt{{Effect: "Allow", Principal: janeP, Action: []string{"kms:ReEncrypt*"}, Resource: []string{"*"}}}}
			sc.BucketPolicy = &plangen.Doc{Stmts: []plangen.Stmt{
				{Effect: "Deny", Principal: janeP, Action: []string{"*"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/r?ports/*"}, NotResource: true,
					Cond: []plangen.Cond{{Op: "StringEquals", Key: "aws:SourceVpce", Values: []string{"vpce-1a2b3c4d"}}}},
				{Effect: "Deny", Principal: janeP, Action: []string{"s3:Put*"}, Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*.txt"}, NotResource: true,
					Cond: []plangen.Cond{{Op: "StringNotEqualsIfExists", Key: "aws:SourceVpce", Values: []string{"vpce-1a2b3c4d"}}}}}}
			return sc
		}},
		// Found by the 100,000-plan run (seed 1, scenario 27524), shrunk:
		// the key policy cannot be saved (a Deny naming only a deleted
		// user), and the only allow of the key is bucketgrant's statement
		// for the role's grant on elsewhere/. The plan is blocked: every
		// grant stands on its own statements (docs/lifecycle.md), so the
		// search leaves other grants' statements out as the planner does.
		{"blocked: a key policy that cannot be saved, where only another grant's statement allows the key", func() plangen.Scenario {
			sc := findingScenario("role", p, b, diff.Read)
			sc.RemoveOrphans = true
			other := sc.Grant()
			other.Prefix = "elsewhere/"
			sc.KeyPolicy.Stmts = []plangen.Stmt{
				{Effect: "Deny", Principal: &plangen.Prin{AWS: []string{plangen.OrphanUser}}, Action: []string{"kms:Decrypt"}, Resource: []string{"*"}},
				{Sid: diff.SidsOf(other, "Kms")[0], Effect: "Allow", Principal: &plangen.Prin{AWS: []string{sc.PrincipalARN()}}, Action: []string{"kms:Decrypt"}, Resource: []string{"*"}}}
			return sc
		}},
		// Found by the 100,000-plan run (seed 1, scenario 56613), shrunk:
		// the key policy allows everyone only on requests made with
		// temporary credentials obtained without MFA, and cannot be saved
		// (a deleted user's ID). The key-policy grant for requests sent
		// the default way is dropped; solve then tried the first other
		// shape, an MFA session, which needs a key-policy grant too, and
		// blocked without trying the shape the key policy already allows
		// (blocked-shape).
		{"shape: a key policy that cannot be saved allows the key only without MFA", func() plangen.Scenario {
			sc := findingScenario("user", p, p, diff.Read)
			sc.KeyPolicy.Stmts = []plangen.Stmt{
				{Effect: "Allow", Principal: &plangen.Prin{Star: true}, Action: []string{"*"}, Resource: []string{"*"},
					Cond: []plangen.Cond{{Op: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}}}},
				{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{plangen.OrphanUser}}, Action: []string{"kms:GenerateDataKey"}, Resource: []string{"*"}}}
			return sc
		}},
		// Found by the 100,000-plan run (seed 1, scenario 81754), shrunk:
		// a same-account key policy that cannot be saved (a deleted user's
		// ID) and delegates to the account only if
		// aws:PrincipalOrgPaths is under an OU. --kms-via auto put the
		// grant into the key policy; the merge dropped it and the plan was
		// blocked, although the identity grant works if the principal is
		// under that OU: an "allowed if" verdict.
		{"allowed if: a key policy that cannot be saved delegates only under an organization path", func() plangen.Scenario {
			sc := findingScenario("role", p, p, diff.Read)
			sc.KeyPolicy = plangen.Doc{ID: "key-consolepolicy-3", Stmts: []plangen.Stmt{
				{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{plangen.OrphanUser}}, Action: []string{"kms:Encrypt"}, Resource: []string{plangen.KeyARN(p)}},
				{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{p}}, Action: []string{"kms:*"}, Resource: []string{"*"},
					Cond: []plangen.Cond{{Op: "ForAnyValue:StringLike", Key: "aws:PrincipalOrgPaths", Values: []string{"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}}}}}
			return sc
		}},
		// Found by the 100,000-plan run with organizations (seed 1,
		// scenario 76326), shrunk: across accounts, the bucket policy
		// cannot be saved (a Deny whose NotPrincipal names only a deleted
		// user's ID; it spares s3:GetObject*) and already allows the
		// account's s3:GetObjectVersion through one VPC endpoint, if an
		// unreadable key is not x. The only shape that works is the
		// endpoint's, and its placement also asked for a bucket-policy
		// grant; solve skipped it as needing a document that cannot be
		// saved, and blocked (blocked-shape). The shape works without
		// that grant: identity and key-policy grants, allowed if
		// aws:SomeNewKey is not x, for requests through the endpoint.
		{"shape: a bucket policy that cannot be saved already allows versions through an endpoint", func() plangen.Scenario {
			sc := findingScenario("user", b, b, diff.Versions)
			sc.RemoveOrphans = true
			sc.BucketPolicy = &plangen.Doc{Stmts: []plangen.Stmt{
				{Effect: "Deny", NotPrincipal: &plangen.Prin{AWS: []string{plangen.OrphanUser}}, Action: []string{"s3:GetObject*"}, NotAction: true,
					Resource: []string{"arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/*"}},
				{Effect: "Allow", Principal: &plangen.Prin{AWS: []string{p}}, Action: []string{"s3:GetObjectVersion"}, Resource: []string{"arn:aws:s3:::*"},
					Cond: []plangen.Cond{{Op: "StringEquals", Key: "aws:SourceVpce", Values: []string{"vpce-1a2b3c4d"}},
						{Op: "StringNotEquals", Key: "aws:SomeNewKey", Values: []string{"x"}}}}}}
			sc.KeyPolicy = plangen.Doc{ID: "key-consolepolicy-3", Stmts: []plangen.Stmt{{Effect: "Allow",
				Principal: &plangen.Prin{AWS: []string{"arn:aws:iam::" + b + ":role/KeyAdmin"}}, Action: []string{"kms:CancelKeyDeletion"}, Resource: []string{"*"}}}}
			return sc
		}},
	}
	o := startOracle(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc()
			r := runScenario(sc, trust.NewGoDecider(), "all", 0)
			if err := decideWithOracle(o, []*scenarioRun{r}); err != nil {
				t.Fatal(err)
			}
			for _, v := range r.violations {
				t.Errorf("%s: %s", v.prop, v.msg)
			}
			for _, d := range r.disagreements {
				t.Errorf("evaluators disagree: %s", d)
			}
			if t.Failed() {
				t.Logf("outcome %s, blockers %v\n%s", r.outcome, r.blockers, describeScenario(sc))
			}
		})
	}
}
