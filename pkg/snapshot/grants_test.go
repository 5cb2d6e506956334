package snapshot

import (
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Absent grants and tags mean "not read", an empty list or object "none":
// the planner tells the two apart, so a round trip must keep the
// difference.
func TestGrantsAndTagsKeepNotReadApartFromNone(t *testing.T) {
	st, _ := load(t, "grants-tags.json")
	k := st.Keys[0]
	if len(k.Grants) != 2 || k.Grants[0].ID != "4c1f0e6a9b" || k.Grants[1].Constraints != nil {
		t.Fatalf("grants read as %+v", k.Grants)
	}
	c := k.Grants[0].Constraints
	if c == nil || c.EncryptionContextSubset["aws:s3:arn"] != "arn:aws:s3:::reports" || c.EncryptionContextEquals != nil {
		t.Fatalf("constraints read as %+v", c)
	}
	if got := st.Principals[0].Tags; len(got) != 2 || got[0] != (state.Tag{Key: "team", Value: "data"}) {
		t.Fatalf("tags read as %+v", got)
	}
	if got := st.Principals[1].Tags; got == nil || len(got) != 0 {
		t.Fatalf("an empty tags object must read as none (non-nil), got %#v", got)
	}

	seed, _ := load(t, "seed-same-account.json")
	if seed.Keys[0].Grants != nil || seed.Principals[0].Tags != nil {
		t.Fatal("a snapshot without grants or tags must read them as not read (nil)")
	}
	stripSources(st)
	st.Keys[0].Grants = []state.Grant{}
	out := string(marshal(t, st))
	if !strings.Contains(out, `"grants": []`) || !strings.Contains(out, `"tags": {}`) {
		t.Errorf("empty grants and tags must be written as empty, not left out:\n%s", out)
	}
	back, err := Parse("again", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if back.Keys[0].Grants == nil || back.Principals[1].Tags == nil {
		t.Error("empty grants or tags read back as not read")
	}
	stripSources(seed)
	if out := string(marshal(t, seed)); strings.Contains(out, `"grants"`) || strings.Contains(out, `"tags"`) {
		t.Errorf("grants or tags that were not read must not be written:\n%s", out)
	}
}

func TestGrantAndTagErrors(t *testing.T) {
	base := `{"format":"bucketgrant.snapshot/1","keys":[{"arn":"arn:aws:kms:us-east-1:111122223333:key/k","policy":{}%s}],"principals":[{"arn":"arn:aws:iam::111122223333:user/J"%s}]}`
	for _, tc := range []struct{ name, key, principal, want string }{
		{"grants not a list", `,"grants":{}`, "", "keys[0].grants: want an array"},
		{"grant without id", `,"grants":[{"grantee_principal":"arn:aws:iam::111122223333:user/J","operations":[]}]`, "", "keys[0].grants[0].grant_id: missing"},
		{"grant without grantee", `,"grants":[{"grant_id":"g","operations":[]}]`, "", "grantee_principal: missing"},
		{"duplicate grant", `,"grants":[{"grant_id":"g","grantee_principal":"x"},{"grant_id":"g","grantee_principal":"x"}]`, "", "duplicate grant id"},
		{"operation with prefix", `,"grants":[{"grant_id":"g","grantee_principal":"x","operations":["kms:Decrypt"]}]`, "", "not a KMS operation name"},
		{"operation wildcard", `,"grants":[{"grant_id":"g","grantee_principal":"x","operations":["*"]}]`, "", "not a KMS operation name"},
		{"context not strings", `,"grants":[{"grant_id":"g","grantee_principal":"x","constraints":{"encryption_context_subset":{"a":1}}}]`, "", "encryption_context_subset.a: want a string"},
		{"tags a list", "", `,"tags":[]`, "principals[0].tags: want an object"},
		{"tag value number", "", `,"tags":{"team":1}`, "principals[0].tags.team: want a string"},
		{"tags differ in case", "", `,"tags":{"Team":"a","team":"b"}`, "differs from \"Team\" only in case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.json", []byte(strings.Replace(strings.Replace(base, "%s", tc.key, 1), "%s", tc.principal, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
