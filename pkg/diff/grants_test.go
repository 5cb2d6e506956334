package diff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

func grant(id, grantee string, ops ...string) state.Grant {
	return state.Grant{ID: id, GranteePrincipal: grantee, Operations: ops, IssuingAccount: "arn:aws:iam::111122223333:root"}
}

func withContext(g state.Grant, subset, equals map[string]string) state.Grant {
	g.Constraints = &state.GrantConstraints{EncryptionContextSubset: subset, EncryptionContextEquals: equals}
	return g
}

func kmsRequest(t *testing.T, p *diff.Plan, action string) diff.Request {
	t.Helper()
	for _, r := range p.Requests {
		if r.Action == action {
			return r
		}
	}
	t.Fatalf("no %s request in the plan", action)
	return diff.Request{}
}

// A grant that gives the principal what it needs is an allow: no key-policy
// statement is added for what it covers, and the request names the grant.
func TestGrantAllowsWithoutKeyPolicyStatement(t *testing.T) {
	const bucketARN = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
	for _, tc := range []struct {
		name        string
		grants      []state.Grant
		bucketKeys  bool
		wantKeyActs []string // the key-policy statement's actions; nil: no key-policy change
		covered     []string // requests allowed by the grant today
	}{
		{"both operations", []state.Grant{grant("g-both", jane, "Decrypt", "GenerateDataKey")}, true, nil, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		{"decrypt only", []state.Grant{grant("g-dec", jane, "Decrypt")}, true, []string{"kms:GenerateDataKey"}, []string{"kms:Decrypt"}},
		{"bucket ARN context with Bucket Keys", []state.Grant{withContext(grant("g-ctx", jane, "Decrypt", "GenerateDataKey"), map[string]string{"aws:s3:arn": bucketARN}, nil)}, true, nil, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		{"equals the bucket ARN with Bucket Keys", []state.Grant{withContext(grant("g-eq", jane, "Decrypt", "GenerateDataKey"), nil, map[string]string{"aws:s3:arn": bucketARN})}, true, nil, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
		// Without Bucket Keys S3 sends each object's ARN: a grant pinned
		// to the bucket's ARN, or to one object, covers no object, or
		// one: not every object of the grant.
		{"bucket ARN context without Bucket Keys", []state.Grant{withContext(grant("g-ctx", jane, "Decrypt", "GenerateDataKey"), map[string]string{"aws:s3:arn": bucketARN}, nil)}, false, []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil},
		{"one object", []state.Grant{withContext(grant("g-obj", jane, "Decrypt", "GenerateDataKey"), map[string]string{"aws:s3:arn": bucketARN + "/a.txt"}, nil)}, false, []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil},
		{"a context S3 does not send", []state.Grant{withContext(grant("g-dept", jane, "Decrypt", "GenerateDataKey"), map[string]string{"Department": "IT"}, nil)}, true, []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil},
		{"someone else's grant", []state.Grant{grant("g-bob", "arn:aws:iam::111122223333:user/Bob", "Decrypt", "GenerateDataKey")}, true, []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil},
		{"the account's grant is not counted", []state.Grant{grant("g-root", "arn:aws:iam::111122223333:root", "Decrypt", "GenerateDataKey")}, true, []string{"kms:Decrypt", "kms:GenerateDataKey"}, nil},
		{"two grants together", []state.Grant{grant("g-1", jane, "Decrypt"), grant("g-2", jane, "GenerateDataKey")}, true, nil, []string{"kms:Decrypt", "kms:GenerateDataKey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := load(t, sameSnap)
			st.Keys[0].Grants = tc.grants
			st.Buckets[0].Encryption.BucketKeyEnabled = tc.bucketKeys
			p := mustPlan(t, st, diff.Options{})
			if p.Blocked() {
				t.Fatalf("blocked: %+v", p.Blockers)
			}
			var keyChange *diff.Change
			for i := range p.Changes {
				if p.Changes[i].Document.Kind == diff.DocKeyPolicy {
					keyChange = &p.Changes[i]
				}
			}
			switch {
			case tc.wantKeyActs == nil && keyChange != nil:
				t.Fatalf("the grant covers the key, yet the plan changes the key policy:\n%s", keyChange.After)
			case tc.wantKeyActs != nil && keyChange == nil:
				t.Fatalf("no key-policy change; want one for %v", tc.wantKeyActs)
			case keyChange != nil:
				if s := statementWith(t, keyChange.After, tc.wantKeyActs[0]); !slices.Equal(s.Action.Values, tc.wantKeyActs) {
					t.Errorf("key-policy statement actions %v, want %v", s.Action.Values, tc.wantKeyActs)
				}
			}
			for _, a := range tc.covered {
				r := kmsRequest(t, p, a)
				if r.Before != policy.Allowed || !strings.Contains(r.Why, "KMS grant g-") {
					t.Errorf("%s: before %s, why %q; want allowed by the grant", a, r.Before, r.Why)
				}
			}
			for _, w := range p.Warnings {
				if w.Kind == diff.WarnGrantsNotRead {
					t.Errorf("grants were read, yet: %s", w.Message)
				}
			}
			after := clone(t, st)
			if err := apply.ToState(after, p); err != nil {
				t.Fatal(err)
			}
			if again := mustPlan(t, after, diff.Options{}); !again.Empty() || again.Blocked() {
				t.Fatalf("planning again is not a no-op: %v %v", kinds(again), again.Blockers)
			}
		})
	}
}

// Across accounts a grant needs no IAM policy in the principal's account
// (KMS Developer Guide, cross-account access: IAM policies "or grants"), so
// neither side gets a KMS statement.
func TestGrantAcrossAccounts(t *testing.T) {
	st := load(t, crossSnap)
	st.Keys[0].Grants = []state.Grant{grant("g-x", jane, "Decrypt", "GenerateDataKey")}
	p := mustPlan(t, st, diff.Options{})
	if p.Blocked() {
		t.Fatalf("blocked: %+v", p.Blockers)
	}
	for _, c := range p.Changes {
		if c.Document.Kind == diff.DocKeyPolicy || strings.Contains(c.After, "kms:") {
			t.Errorf("%s gets a KMS statement although the grant allows:\n%s", c.Document.ID(), c.After)
		}
	}
	if r := kmsRequest(t, p, "kms:GenerateDataKey"); r.Before != policy.Allowed || r.After != policy.Allowed {
		t.Errorf("GenerateDataKey %s/%s, want allowed by the grant", r.Before, r.After)
	}
}

// A grant never beats an explicit deny (KMS Developer Guide, troubleshooting
// key access: denies are checked first).
func TestGrantDoesNotBeatADeny(t *testing.T) {
	st := load(t, sameSnap)
	st.Keys[0].Grants = []state.Grant{grant("g-both", jane, "Decrypt", "GenerateDataKey")}
	st.Keys[0].Policy = state.NewDoc(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyAdmin"},"Action":"kms:*","Resource":"*"},
		{"Sid":"NoJane","Effect":"Deny","Principal":{"AWS":"` + jane + `"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	p := mustPlan(t, st, diff.Options{})
	if !slices.Contains(blockerKinds(p), diff.BlockExplicitDeny) {
		t.Fatalf("blockers %v, want explicit-deny", blockerKinds(p))
	}
}

// Grants that were not read are never counted, and the plan says that one
// might have made its KMS statement unnecessary.
func TestGrantsNotReadWarn(t *testing.T) {
	st := load(t, sameSnap)
	st.Keys[0].Grants = nil // a snapshot without them
	p := mustPlan(t, st, diff.Options{})
	if !slices.Contains(warningKinds(p), diff.WarnGrantsNotRead) {
		t.Errorf("warnings %v, want grants-not-read", warningKinds(p))
	}
	st.Keys[0].Grants = []state.Grant{}
	if p := mustPlan(t, st, diff.Options{}); slices.Contains(warningKinds(p), diff.WarnGrantsNotRead) {
		t.Error("a key read with no grants must not warn")
	}
}
