package policy_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/policygen"
	"github.com/bucketgrant/bucketgrant/internal/testrace"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// unindexed is ps with every document scanned statement by statement.
func unindexed(ps policy.Policies) policy.Policies {
	strip := func(n *policy.Named) *policy.Named {
		if n == nil {
			return nil
		}
		c := *n
		c.Doc = policy.WithoutIndex(n.Doc)
		return &c
	}
	out := ps
	out.Identity = make([]policy.Named, len(ps.Identity))
	for i := range ps.Identity {
		out.Identity[i] = *strip(&ps.Identity[i])
	}
	out.Boundary, out.Resource = strip(ps.Boundary), strip(ps.Resource)
	levels := func(ls []policy.OrgLevel) []policy.OrgLevel {
		if ls == nil {
			return nil
		}
		out := make([]policy.OrgLevel, len(ls))
		for i, l := range ls {
			out[i] = policy.OrgLevel{Target: l.Target, Policies: make([]policy.Named, len(l.Policies))}
			for j := range l.Policies {
				out[i].Policies[j] = *strip(&l.Policies[j])
			}
		}
		return out
	}
	out.SCP, out.RCP = levels(ps.SCP), levels(ps.RCP)
	return out
}

// sameWithIndex fails when the index changes a decision, or anything else
// of a result (the statements named, their order, the missing keys).
func sameWithIndex(t *testing.T, what string, req policy.Request, ps policy.Policies) {
	t.Helper()
	want := policy.Evaluate(req, unindexed(ps))
	got := policy.Evaluate(req, ps)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %s by %s on %s:\nindexed   %+v\nunindexed %+v", what, req.Action, req.Principal.ARN, req.Resource, got, want)
	}
}

// TestIndexChangesNoResult evaluates the generated cases of the
// differential test (with and without organization policies) with the
// index and by a scan of every statement: the results must be identical.
// Each case's documents are also asked for the callers and actions of
// other cases (the index caches per caller and per action), and extended
// by another case's statements without a parse (AppendStatements indexes
// only the statements it had, and visits the appended ones).
//
// make test runs the 10,000 cases without the race detector (job
// test-suites) and 500 under it.
func TestIndexChangesNoResult(t *testing.T) {
	testrace.CollectLess(t)
	n := 5000
	if testrace.Reduced() {
		n = 250
	}
	for _, org := range []bool{false, true} {
		gen := &policygen.Gen{Seed: 7, Org: org}
		cases := gen.Cases(n + 2)
		parsed := make([]parsedCase, len(cases))
		for i := range cases {
			pc, err := parseCase(cases[i].Oracle())
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			parsed[i] = pc
		}
		for i := 0; i < n; i++ {
			pc := parsed[i]
			what := fmt.Sprintf("org %v, case %d", org, i)
			sameWithIndex(t, what, pc.req, pc.p)
			sameStatementsFor(t, what, pc.req, pc.p)
			for _, j := range []int{i + 1, i + 2} {
				req := pc.req
				req.Principal, req.Action = parsed[j].req.Principal, parsed[j].req.Action
				sameWithIndex(t, fmt.Sprintf("%s, caller and action of case %d", what, j), req, pc.p)
			}
			other := parsed[i+1].p.Resource
			if pc.p.Resource == nil || other == nil || other.Doc.Kind() != pc.p.Resource.Doc.Kind() {
				continue
			}
			var extra [][]byte
			for k := range other.Doc.Statements() {
				extra = append(extra, other.Doc.StatementText(k))
			}
			d := pc.p.Resource.Doc.Clone()
			if err := d.AppendStatements(extra...); err != nil {
				continue // a repeated Sid: refused, nothing to compare
			}
			ps := pc.p
			ps.Resource = &policy.Named{Name: "resource", Doc: d}
			sameWithIndex(t, what+", appended", pc.req, ps)
			sameStatementsFor(t, what+", appended", pc.req, ps)
			req := pc.req
			req.Principal = parsed[i+1].req.Principal
			sameWithIndex(t, what+", appended, caller of the next case", req, ps)
		}
	}
}

// TestIndexPrincipals covers the ways a Principal names a caller that the
// index looks up by key: account IDs and root ARNs (in any partition), unique
// IDs, exact ARNs, a session's role by name without regard to case (also a
// name outside ASCII), wildcards, NotPrincipal and principals that name no
// IAM caller.
func TestIndexPrincipals(t *testing.T) {
	const acct = "111122223333"
	stmts := []string{
		`{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}`,
		`{"Sid":"RootCN","Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111122223333:root"},"Action":"s3:PutObject","Resource":"*"}`,
		`{"Sid":"ID","Effect":"Allow","Principal":{"AWS":"AIDAEXAMPLEUSER12345"},"Action":"s3:DeleteObject","Resource":"*"}`,
		`{"Sid":"User","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:user/x","arn:aws:iam::111122223333:user/Jane"]},"Action":"s3:ListBucket","Resource":"*"}`,
		`{"Sid":"RoleFold","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/path/APPROLE"},"Action":"s3:GetObjectTagging","Resource":"*"}`,
		`{"Sid":"RoleKelvin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/\u212aelvin"},"Action":"s3:GetObjectAcl","Resource":"*"}`,
		`{"Sid":"Star","Effect":"Deny","Principal":"*","Action":"s3:PutObjectAcl","Resource":"*"}`,
		`{"Sid":"AWSStar","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","*"]},"Action":"s3:GetBucketAcl","Resource":"*"}`,
		`{"Sid":"NotP","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/Jane"]},"Action":"s3:*","Resource":"*"}`,
		`{"Sid":"Svc","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}`,
		`{"Sid":"RoleARN","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/approle"},"Action":"s3:GetObjectVersion","Resource":"*"}`,
	}
	// Each statement alone (a deny would hide what the others do), then
	// all of them.
	var docs []*policy.Document
	for _, s := range append(stmts, strings.Join(stmts, ",")) {
		docs = append(docs, policy.MustParse(`{"Version":"2012-10-17","Statement":[`+s+`]}`, policy.KindBucketPolicy))
	}
	callers := []policy.Caller{
		{ARN: "arn:aws:iam::111122223333:user/Jane", UniqueID: "AIDAEXAMPLEUSER12345"},
		{ARN: "arn:aws:iam::111122223333:user/jane"},
		{ARN: "arn:aws:iam::444455556666:user/x", Account: "444455556666"},
		{ARN: "arn:aws:sts::111122223333:assumed-role/AppRole/s1", UniqueID: "AROAEXAMPLEROLE12345"},
		{ARN: "arn:aws:sts::111122223333:assumed-role/approle/s2"},
		{ARN: "arn:aws:sts::111122223333:assumed-role/kelvin/s3"},
		{ARN: "arn:aws:sts::111122223333:assumed-role/\u212aelvin/s4"},
		{ARN: "arn:aws-cn:iam::111122223333:role/approle"},
		{ARN: "arn:aws:iam::111122223333:role/approle"},
		{ARN: "arn:aws:sts::999988887777:assumed-role/approle/s5"},
		{ARN: "not-an-arn", Account: acct},
		{},
	}
	actions := []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObjectTagging",
		"s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetObjectVersion", "kms:Decrypt", "S3:GETOBJECT"}
	for di, d := range docs {
		for _, boundary := range []bool{false, true} {
			// Identity policies that allow everything, so that a
			// resource-policy statement naming the account counts.
			ps := policy.Policies{Resource: &policy.Named{Name: "bucket policy", Doc: d}, Identity: []policy.Named{{Name: "all",
				Doc: policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.KindIdentity)}}}
			if boundary {
				ps.Boundary = &policy.Named{Name: "boundary", Doc: policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, policy.KindIdentity)}
			}
			for _, c := range callers {
				for _, a := range actions {
					for _, owner := range []string{acct, "444455556666"} {
						req := policy.Request{Principal: c, Action: a, Resource: "arn:aws:s3:::b/k", ResourceAccount: owner}
						sameWithIndex(t, fmt.Sprintf("document %d, boundary %v", di, boundary), req, ps)
					}
				}
			}
		}
	}
}

// sameStatementsFor fails when StatementsFor visits other statements than
// a scan of every statement making its tests.
func sameStatementsFor(t *testing.T, what string, req policy.Request, ps policy.Policies) {
	t.Helper()
	check := func(n *policy.Named, byPrincipal bool) {
		if n == nil {
			return
		}
		var want, got []int
		for i, s := range n.Doc.Statements() {
			if n.Ignore != nil && n.Ignore[i] || !s.MatchesAction(req.Action) {
				continue
			}
			if byPrincipal && s.Principal != nil && policy.MatchPrincipal(s.Principal, req.Principal) == policy.PrincipalNoMatch {
				continue
			}
			want = append(want, s.Index)
		}
		n.StatementsFor(req.Action, req.Principal, byPrincipal, func(s *policy.Statement) { got = append(got, s.Index) })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: StatementsFor(%s, %s, %v) on %s visits %v, a scan %v", what, req.Action, req.Principal.ARN, byPrincipal, n.Name, got, want)
		}
	}
	for i := range ps.Identity {
		check(&ps.Identity[i], false)
	}
	check(ps.Boundary, false)
	check(ps.Resource, true)
	check(ps.Resource, false)
}

// TestIndexConcurrent evaluates one document from several goroutines, with
// several callers and actions, while the index is built and its caches
// filled (and emptied past their bounds): make test runs it under the race
// detector.
func TestIndexConcurrent(t *testing.T) {
	var stmts []string
	for i := range 50 {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u%d"},"Action":"s3:Get*","Resource":"*"}`, i, i%5))
	}
	d := policy.MustParse(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`, policy.KindBucketPolicy)
	ps := policy.Policies{Resource: &policy.Named{Name: "bucket policy", Doc: d}}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 300 {
				// Many distinct callers and actions, past the caches' bounds.
				c := policy.Caller{ARN: fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", (g*300+i)%1500)}
				req := policy.Request{Principal: c, Action: fmt.Sprintf("s3:GetObject%d", i%300), Resource: "arn:aws:s3:::b/k", ResourceAccount: "111122223333"}
				want := policy.Evaluate(req, unindexed(ps))
				if got := policy.Evaluate(req, ps); !reflect.DeepEqual(got, want) {
					t.Errorf("%s by %s: indexed %+v, unindexed %+v", req.Action, c.ARN, got, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
