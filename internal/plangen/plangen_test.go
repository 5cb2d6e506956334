package plangen_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/plangen"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

func TestScenariosAreReproducible(t *testing.T) {
	a, b := plangen.New(7), plangen.New(7)
	for _, i := range []int{0, 1, 99, 1234} {
		x, y := a.Scenario(i), b.Scenario(i)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("scenario %d differs between two generators of one seed", i)
		}
	}
	if reflect.DeepEqual(plangen.New(1).Scenario(3), plangen.New(2).Scenario(3)) {
		t.Error("two seeds give the same scenario")
	}
}

// kinds pairs every document of a scenario with the kind it is parsed as.
func kinds(sc *plangen.Scenario) []struct {
	doc  *plangen.Doc
	kind policy.Kind
	name string
} {
	type dk = struct {
		doc  *plangen.Doc
		kind policy.Kind
		name string
	}
	var out []dk
	if sc.BucketPolicy != nil {
		out = append(out, dk{sc.BucketPolicy, policy.KindBucketPolicy, "bucket policy"})
	}
	out = append(out, dk{&sc.KeyPolicy, policy.KindKeyPolicy, "key policy"})
	for i := range sc.Inline {
		out = append(out, dk{&sc.Inline[i].Doc, policy.KindIdentity, "inline " + sc.Inline[i].Name})
	}
	for i := range sc.Managed {
		out = append(out, dk{&sc.Managed[i].Doc, policy.KindIdentity, "managed"})
	}
	for i := range sc.Group {
		out = append(out, dk{&sc.Group[i].Doc, policy.KindIdentity, "group"})
	}
	if sc.Boundary != nil {
		out = append(out, dk{&sc.Boundary.Doc, policy.KindIdentity, "boundary"})
	}
	return out
}

func TestDocumentsParse(t *testing.T) {
	g := plangen.New(11)
	for i := 0; i < 1000; i++ {
		sc := g.Scenario(i)
		for _, d := range kinds(&sc) {
			if _, err := policy.Parse([]byte(d.doc.JSON()), d.kind); err != nil {
				t.Fatalf("scenario %d: %s does not parse: %v\n%s", i, d.name, err, d.doc.JSON())
			}
		}
		if i >= 100 {
			continue
		}
		for _, c := range sc.Shrinks() {
			for _, d := range kinds(&c) {
				if _, err := policy.Parse([]byte(d.doc.JSON()), d.kind); err != nil {
					t.Fatalf("scenario %d shrunk: %s does not parse: %v\n%s", i, d.name, err, d.doc.JSON())
				}
			}
		}
	}
}

// TestOracleAcceptsGeneratedPolicies runs a sample through the oracle's own
// validators: the generator emits only documents they accept.
func TestOracleAcceptsGeneratedPolicies(t *testing.T) {
	o, err := oracle.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	g := plangen.New(12)
	var cases []oracle.Case
	for i := 0; i < 400; i++ {
		sc := g.Scenario(i)
		for _, d := range kinds(&sc) {
			c := oracle.Case{ResourceType: "s3", Principal: sc.CallerARN(), Action: "s3:GetObject",
				ResourceARN: plangen.BucketARN() + "/x", ResourceAccount: sc.BucketAccount, Validate: true}
			raw := json.RawMessage(d.doc.JSON())
			switch d.kind {
			case policy.KindIdentity:
				c.Identity = []oracle.NamedPolicy{{Name: d.name, Policy: raw}}
			default:
				c.Resource = raw
				if d.kind == policy.KindKeyPolicy {
					c.ResourceType, c.Action, c.ResourceARN, c.ResourceAccount = "kms", "kms:Decrypt", sc.KeyARNOf(), sc.KeyAccount
				}
			}
			cases = append(cases, c)
		}
	}
	rs, err := o.SimulateBatch(cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Error != "" || r.ValidationErrors != nil {
			b, _ := json.Marshal(cases[i])
			t.Fatalf("oracle error %q, validation errors %s\n%s", r.Error, r.ValidationErrors, b)
		}
	}
}

// TestRuleFamiliesAreCovered checks that every family the suite is meant to
// exercise appears often enough in a few thousand scenarios.
func TestRuleFamiliesAreCovered(t *testing.T) {
	count := map[string]int{}
	g := plangen.New(1)
	const n = 5000
	for i := 0; i < n; i++ {
		for _, tag := range g.Scenario(i).Tags {
			count[tag]++
		}
	}
	for _, family := range []string{
		"principal:user", "principal:role", "principal:session", "cross-account", "key:third-account", "key:other-account",
		"bucket-keys", "prefix", "levels:chosen", "boundary", "boundary:no-s3", "resource:wildcard-middle", "objects:split",
		"notresource", "notaction", "notprincipal", "cond:fact", "cond:client", "cond:network", "cond:unknown", "cond:service-only",
		"op:IfExists", "op:Null", "op:negated", "op:ForAnyValue", "op:ForAllValues", "allow:conditional", "deny:conditional",
		"kms:encryption-context", "kms:via-service", "sid:owned", "sid:foreign", "sid:other-grant", "orphan:principal",
		"orphan:notprincipal", "published:sse-pair", "published:force-mfa", "published:deny-ip", "published:access-logs",
		"published:tls", "published:vpce-key", "published:aes-or-kms", "key:alias", "sse:dsse", "resource:variable",
		"org", "org:scp", "org:rcp", "org:replace", "org:deny", "org:conditional", "org:perimeter", "org:management",
		"grants", "grants:principal", "grants:subset", "grants:equals", "tags",
	} {
		if count[family] < 10 {
			t.Errorf("rule family %s appears in %d of %d scenarios", family, count[family], n)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		key, action string
		kms         bool
		want        plangen.Class
	}{
		{"aws:CurrentTime", "s3:GetObject", false, plangen.Fact},
		{"s3:x-amz-server-side-encryption", "s3:PutObject", false, plangen.Client},
		{"s3:x-amz-server-side-encryption", "s3:GetObject", false, plangen.Absent}, // a GET cannot carry it
		{"s3:x-amz-server-side-encryption-aws-kms-key-id", "kms:GenerateDataKey", true, plangen.Absent},
		{"s3:x-amz-acl", "s3:PutObjectAcl", false, plangen.Client},
		{"aws:SourceVpce", "s3:GetObject", false, plangen.Network},
		{"aws:SourceVpce", "kms:Decrypt", true, plangen.Absent}, // S3's call to KMS does not come through the caller's endpoint
		{"aws:SourceIp", "kms:Decrypt", true, plangen.Unknown},
		{"aws:SourceAccount", "s3:PutObject", false, plangen.Absent}, // only AWS services' calls
		{"AWS:PrincipalTag/team", "s3:GetObject", false, plangen.Unknown},
		{"aws:SomeNewKey", "s3:GetObject", false, plangen.Unknown},
		{"aws:MultiFactorAuthPresent", "kms:Decrypt", true, plangen.Client},
	} {
		if got := plangen.Classify(tc.key, tc.action, tc.kms); got != tc.want {
			t.Errorf("Classify(%s, %s) = %s, want %s", tc.key, tc.action, got, tc.want)
		}
	}
	// What a scenario read makes facts: the organization's keys, and a
	// user's tags (a role's stay unknown: session tags replace them).
	sc := plangen.Scenario{Kind: "user", Org: &plangen.Org{Management: plangen.AccountO}, PrincipalTags: []plangen.Tag{{Key: "team", Value: "data"}}}
	role := sc
	role.Kind = "role"
	for _, tc := range []struct {
		sc   *plangen.Scenario
		key  string
		want plangen.Class
	}{
		{&sc, "aws:PrincipalOrgID", plangen.Fact},
		{&sc, "aws:PrincipalTag/team", plangen.Fact},
		{&sc, "aws:PrincipalTag/other", plangen.Fact},
		{&role, "aws:PrincipalTag/team", plangen.Unknown},
		{&plangen.Scenario{Kind: "user"}, "aws:PrincipalOrgID", plangen.Unknown},
	} {
		if got := tc.sc.Classify(tc.key, "s3:GetObject", false); got != tc.want {
			t.Errorf("%s scenario: Classify(%s) = %s, want %s", tc.sc.Kind, tc.key, got, tc.want)
		}
	}
}

func TestContextsCoverEveryValue(t *testing.T) {
	sc := plangen.Scenario{Kind: "user", BucketAccount: plangen.AccountP, KeyAccount: plangen.AccountP, SSE: "aws:kms", KeyRef: "arn",
		KeyPolicy: plangen.Doc{Stmts: []plangen.Stmt{{Effect: "Deny", Principal: &plangen.Prin{Star: true}, Action: []string{"kms:*"}, Resource: []string{"*"},
			Cond: []plangen.Cond{{Op: "StringNotEquals", Key: "aws:PrincipalTag/team", Values: []string{"d*"}}, {Op: "NotIpAddress", Key: "aws:SourceIp", Values: []string{"192.0.2.0/24"}}}}}}}
	put := plangen.RequestAction{Action: "s3:PutObject"}
	ctxs := sc.Contexts(put, "x", 100)
	// aws:PrincipalTag/team: absent, "d", other; aws:SourceIp: outside, in range.
	if len(ctxs) != 6 {
		t.Fatalf("%d contexts, want 6", len(ctxs))
	}
	seen := map[string]bool{}
	for _, c := range ctxs {
		seen[strings.Join(c["aws:PrincipalTag/team"], "")+"|"+strings.Join(c["aws:SourceIp"], "")] = true
		if c["aws:CurrentTime"][0] != plangen.Now || c["aws:ResourceAccount"][0] != plangen.AccountP {
			t.Errorf("facts missing from %v", c)
		}
	}
	for _, want := range []string{"|198.51.100.77", "d|192.0.2.1", "bucketgrant-other-value|192.0.2.1"} {
		if !seen[want] {
			t.Errorf("no context with %s; have %v", want, seen)
		}
	}
	for _, c := range ctxs {
		want := c["aws:SourceIp"][0] == "198.51.100.77"
		if got := sc.DefaultShape(put, c); got != want {
			t.Errorf("DefaultShape(%v) = %v", c, got)
		}
	}
	if sc.Contexts(put, "x", 5) != nil {
		t.Error("the bound is not kept")
	}
	dec := plangen.RequestAction{Action: "kms:Decrypt", KMS: true}
	f := sc.Facts(dec, "reports/q1.csv")
	if !slices.Equal(f["kms:EncryptionContext:aws:s3:arn"], []string{plangen.BucketARN() + "/reports/q1.csv"}) || f["aws:ViaAWSService"][0] != "true" {
		t.Errorf("S3's KMS request: %v", f)
	}
}
