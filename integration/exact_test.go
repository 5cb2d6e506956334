package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The causes of issue 10 ("exact decisions"), each through the built binary
// on a snapshot: the plan's exit code and what it says. The planner's own
// tests (pkg/diff/probes_test.go, ownership_test.go) cover the same rules
// with the oracle's trust property.
func TestExactDecisionsThroughTheBinary(t *testing.T) {
	const objs = `"arn:aws:s3:::doc-example-bucket/*"`
	const both = `["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"]`
	const denyS3 = `"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":` + both
	cases := []struct {
		name    string
		example string
		edit    func(st *state.State)
		args    []string
		code    int    // the plan's exit code: 0, or 3 blocked
		kind    string // a blocker or warning kind the plan must hold
		phrase  string // text the plan must hold
	}{
		{name: "a deny after a date is decided with the clock", example: crossAccount, code: 3, kind: diff.BlockExplicitDeny,
			edit: bucketPolicy(`{"Sid":"Expired",` + denyS3 + `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`)},
		{name: "a deny unless another region", example: crossAccount, code: 3, kind: diff.BlockExplicitDeny,
			edit: bucketPolicy(`{"Sid":"EUOnly",` + denyS3 + `,"Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}`)},
		{name: "a key-policy deny unless a VPC endpoint blocks S3's KMS call", example: crossAccount, code: 3, kind: diff.BlockExplicitDeny,
			edit: keyStatement(`{"Sid":"VPCEOnly","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`)},
		{name: "a GET cannot carry the SSE header", example: crossAccount, code: 3, kind: diff.BlockExplicitDeny, args: []string{"--access", "read"},
			edit: bucketPolicy(`{"Sid":"RequireKMS",` + denyS3 + `,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}`)},
		{name: "a Null key-id deny is the uploader's to avoid", example: crossAccount, code: 0, kind: diff.WarnConditionalDeny, phrase: "x-amz-server-side-encryption-aws-kms-key-id",
			edit: bucketPolicy(`{"Sid":"RequireKeyID","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":` + objs + `,"Condition":{"Null":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"true"}}}`)},
		{name: "a principal tag makes the verdict conditional", example: crossAccount, code: 0, kind: diff.WarnConditionalDeny, phrase: "aws:PrincipalTag/team",
			edit: bucketPolicy(`{"Sid":"TeamOnly",` + denyS3 + `,"Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"data"}}}`)},
		{name: "a key in a third account", example: sameAccount, code: 0,
			edit: func(st *state.State) {
				third := "arn:aws:kms:us-east-1:444455556666:key/33333333-4444-5555-6666-777777777777"
				st.Keys[0].ARN, st.Keys[0].Aliases = third, nil
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}]}`)
				st.Buckets[0].Encryption.KMSMasterKeyID = third
			}},
		{name: "a statement with bucketgrant's Sid that names another principal is not extended", example: crossAccount, code: 0, kind: diff.WarnForeignSid,
			edit: bucketPolicy(`{"Sid":"` + diff.SidFor(jane, bucket, "", "Objects") + `","Effect":"Allow","Principal":{"AWS":["` + jane + `","arn:aws:iam::111122223333:user/Bob"]},"Action":"s3:GetObject","Resource":` + objs + `}`)},
		{name: "a deny whose NotPrincipal names only a deleted principal", example: crossAccount, code: 3, kind: diff.BlockOrphanDeny, args: []string{"--remove-orphaned-principals"},
			edit: bucketPolicy(`{"Sid":"OnlyOps","Effect":"Deny","NotPrincipal":{"AWS":"AIDAORPHANEDUSER00001"},"Action":"s3:DeleteObject","Resource":` + objs + `}`)},
		{name: "an allow on bucket/*/* does not cover bucket/top.txt", example: sameAccount, code: 2, args: []string{"--access", "read", "--detailed-exitcode"},
			edit: func(st *state.State) {
				st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, namedDoc("nested",
					`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::doc-example-bucket/*/*"}]}`))
				keyStatement(`{"Sid":"Jane","Effect":"Allow","Principal":{"AWS":"` + jane + `"},"Action":"kms:Decrypt","Resource":"*"}`)(st)
			}},
		{name: "a deny with a wildcard in the middle is a partial deny", example: crossAccount, code: 0, kind: diff.WarnPartialDeny, phrase: "secret",
			edit: bucketPolicy(`{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::doc-example-bucket/*/secret/*"}`)},
		{name: "a repeated Sid that S3 stored is read and kept", example: crossAccount, code: 0,
			edit: bucketPolicy(`{"Sid":"Same","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"s3:GetObject","Resource":` + objs + `},{"Sid":"Same","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::doc-example-bucket"}`)},
		// Found by the generated plan suite (seed 1, scenario 23742): no
		// one way of sending uploads escapes both denies for every key,
		// but each key some way reaches is grantable; the plan names one
		// way and the keys it leaves denied, instead of "blocked whatever
		// the request looks like".
		{name: "denies that need different network paths for different keys", example: sameAccount, code: 0, kind: diff.WarnPartialDeny, args: []string{"--access", "write"},
			phrase: "aws:SourceVpce = vpce-1a2b3c4d reach them",
			edit: bucketPolicy(`{"Effect":"Deny","Principal":{"AWS":"` + jane + `"},"Action":"*","NotResource":"arn:aws:s3:::doc-example-bucket/r?ports/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}},` +
				`{"Effect":"Deny","Principal":{"AWS":"` + jane + `"},"Action":"s3:Put*","NotResource":"arn:aws:s3:::doc-example-bucket/*.txt","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`)},
		// Found by the generated plan suite (seed 1, scenario 27524): the
		// key policy cannot be saved (a Deny naming only a deleted user),
		// and only bucketgrant's statement for another grant of Jane
		// allows her KMS use today. The grant stays blocked (each grant
		// stands on its own statements), and the blocker says why.
		{name: "a key policy that cannot be saved, where only another grant's statement allows the key", example: crossAccount, code: 3, kind: diff.BlockOrphanDeny,
			args: []string{"--remove-orphaned-principals"}, phrase: "bucketgrant's statement for another grant",
			edit: func(st *state.State) {
				keyStatement(`{"Effect":"Deny","Principal":{"AWS":"AIDAORPHANEDUSER00001"},"Action":"kms:Decrypt","Resource":"*"}`)(st)
				keyStatement(`{"Sid":"` + diff.SidFor(jane, bucket, "elsewhere/", "Kms") + `","Effect":"Allow","Principal":{"AWS":"` + jane + `"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}`)(st)
			}},
		// Found by the generated plan suite (seed 1, scenario 56613): the
		// key policy cannot be saved and allows the key only on requests
		// made with credentials obtained without MFA; the plan names that
		// shape instead of blocking.
		{name: "a key policy that cannot be saved allows the key only without MFA", example: sameAccount, code: 0, kind: diff.WarnConditionalAllow,
			args: []string{"--access", "read"}, phrase: "obtained without MFA",
			edit: func(st *state.State) {
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},` +
					`{"Effect":"Allow","Principal":{"AWS":"AIDAORPHANEDUSER00001"},"Action":"kms:GenerateDataKey","Resource":"*"}]}`)
			}},
		// Found by the generated plan suite (seed 1, scenario 81754): a key
		// policy that cannot be saved and delegates only under an
		// organization path; the identity grant is "allowed if".
		{name: "a key policy that cannot be saved delegates only under an organization path", example: sameAccount, code: 0, kind: diff.WarnConditionalAllow,
			args: []string{"--access", "read"}, phrase: "allowed only if aws:PrincipalOrgPaths",
			edit: func(st *state.State) {
				st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAORPHANEDUSER00001"},"Action":"kms:Encrypt","Resource":"*"},` +
					`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}}]}`)
			}},
		// Found by the generated plan suite (seed 1, scenario 76326): the
		// bucket policy cannot be saved (its Deny spares only a deleted
		// user) and already allows the account's object versions through
		// one endpoint; the plan grants the rest for requests sent that
		// way instead of blocking.
		{name: "a bucket policy that cannot be saved already allows versions through an endpoint", example: crossAccount, code: 0, kind: diff.WarnConditionalAllow,
			args: []string{"--access", "versions", "--remove-orphaned-principals"}, phrase: "vpce-1a2b3c4d",
			edit: func(st *state.State) {
				bucketPolicy(`{"Effect":"Deny","NotPrincipal":{"AWS":"AIDAORPHANEDUSER00001"},"NotAction":"s3:GetObject*","Resource":"arn:aws:s3:::` + bucket + `/reports/*"},` +
					`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObjectVersion","Resource":"arn:aws:s3:::*",` +
					`"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"},"StringNotEquals":{"aws:SomeNewKey":"x"}}}`)(st)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := exampleState(t, tc.example, nil)
			tc.edit(st)
			data, err := snapshot.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"plan", "--format", "json", "--state", path}, grantArgs()...)
			out, stderr, code := run(t, os.Environ(), append(args, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr)
			}
			var p diff.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatalf("plan JSON: %v\n%s", err, out)
			}
			var kinds, texts []string
			for _, b := range p.Blockers {
				kinds, texts = append(kinds, b.Kind), append(texts, b.Message)
			}
			for _, w := range p.Warnings {
				kinds, texts = append(kinds, w.Kind), append(texts, w.Message)
			}
			if tc.kind != "" && !slices.Contains(kinds, tc.kind) {
				t.Errorf("the plan has %v, want %s:\n%s", kinds, tc.kind, strings.Join(texts, "\n"))
			}
			if tc.phrase != "" && !strings.Contains(strings.Join(texts, "\n"), tc.phrase) {
				t.Errorf("the plan does not say %q:\n%s", tc.phrase, strings.Join(texts, "\n"))
			}
		})
	}
}

func bucketPolicy(stmts string) func(*state.State) {
	return func(st *state.State) {
		st.Buckets[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[` + stmts + `]}`)
	}
}

func keyStatement(stmt string) func(*state.State) {
	return func(st *state.State) {
		k := st.Keys[0].Policy.String()
		i := strings.LastIndex(k, "]")
		st.Keys[0].Policy = state.NewDoc(k[:i] + "," + stmt + k[i:])
	}
}
