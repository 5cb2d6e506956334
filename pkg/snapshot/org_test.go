package snapshot

import (
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/state"
	"github.com/google/go-cmp/cmp"
)

const orgSnapshot = `{
  "format": "bucketgrant.snapshot/2",
  "buckets": [],
  "keys": [],
  "principals": [],
  "organization": {
    "id": "o-exampleorgid",
    "management_account": "999999999999",
    "root_id": "r-ab12",
    "enabled_policy_types": ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"],
    "targets": [
      {"id": "r-ab12", "name": "Root", "parent": null, "scps": ["p-FullAWSAccess"], "rcps": ["p-RCPFullAWSAccess"]},
      {"id": "ou-ab12-11111111", "name": "Workloads", "parent": "r-ab12", "scps": ["p-FullAWSAccess", "p-deny"], "rcps": ["p-RCPFullAWSAccess"]},
      {"id": "111122223333", "parent": "ou-ab12-11111111", "scps": ["p-FullAWSAccess"], "rcps": ["p-RCPFullAWSAccess"]}
    ],
    "policies": [
      {"id": "p-FullAWSAccess", "name": "FullAWSAccess", "type": "SERVICE_CONTROL_POLICY", "aws_managed": true, "document": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"},
      {"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess", "type": "RESOURCE_CONTROL_POLICY", "aws_managed": true, "document": {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}},
      {"id": "p-deny", "name": "NoDelete", "type": "SERVICE_CONTROL_POLICY", "document": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}]}"}
    ],
    "outside_accounts": ["444455556666"]
  }
}
`

func TestOrganizationRoundTrip(t *testing.T) {
	st, err := Parse("org.json", []byte(orgSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	o := st.Org
	if o == nil || o.ID != "o-exampleorgid" || len(o.Targets) != 3 || len(o.Policies) != 3 || !o.Enabled(state.RCPType) || !o.IsOutside("444455556666") {
		t.Fatalf("organization read wrong: %+v", o)
	}
	if got := o.PathString("111122223333"); got != "o-exampleorgid/r-ab12/ou-ab12-11111111/" {
		t.Errorf("path %q", got)
	}
	if out := marshal(t, st); string(out) != orgSnapshot {
		t.Errorf("an unchanged organization must round-trip byte for byte:\n%s", cmp.Diff(orgSnapshot, string(out)))
	}
	// Written afresh, it reads back the same.
	c := *o
	c.Source = nil
	st.Org, st.Source = &c, nil
	again, err := Parse("fresh", marshal(t, st))
	if err != nil {
		t.Fatal(err)
	}
	if !same(again.Org, o) {
		t.Errorf("fresh write reads back differently:\n%s", cmp.Diff(o, again.Org, cmpOpts...))
	}
}

// A version 1 file still reads, stays version 1 while it holds nothing
// new, and becomes version 2 when it gains an organization.
func TestVersion1(t *testing.T) {
	v1 := `{"format":"bucketgrant.snapshot/1","buckets":[],"keys":[],"principals":[]}`
	st, err := Parse("v1.json", []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if out := marshal(t, st); string(out) != v1 {
		t.Errorf("unchanged version 1 file rewritten: %s", out)
	}
	st.Org = &state.Organization{ID: "o-1", ManagementAccount: "999999999999", RootID: "r-1", Targets: []state.OrgTarget{{ID: "r-1"}}}
	out := marshal(t, st)
	if !strings.Contains(string(out), `"format":"bucketgrant.snapshot/2"`) {
		t.Errorf("a file with an organization must say version 2: %s", out)
	}
	if _, err := Parse("v2", out); err != nil {
		t.Errorf("reading it back: %v", err)
	}
}

func TestOrganizationErrors(t *testing.T) {
	base := func(org string) string {
		return `{"format":"bucketgrant.snapshot/2","organization":` + org + `}`
	}
	pol := `{"id":"p-1","name":"x","type":"SERVICE_CONTROL_POLICY","document":{"Statement":[]}}`
	tests := []struct{ name, org, want string }{
		{"not an object", `[]`, "organization: want a JSON object, got array"},
		{"no id", `{"management_account":"999999999999","root_id":"r-1"}`, "organization.id: missing"},
		{"bad id", `{"id":"x","management_account":"999999999999","root_id":"r-1"}`, `organization.id: "x" is not an organization ID`},
		{"bad management account", `{"id":"o-1","management_account":"12","root_id":"r-1"}`, `organization.management_account: "12" is not a 12-digit account ID`},
		{"unknown type", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","enabled_policy_types":["TAG_POLICY"]}`, `organization.enabled_policy_types[0]: "TAG_POLICY"`},
		{"policy without document", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","policies":[{"id":"p-1","type":"SERVICE_CONTROL_POLICY"}]}`, "organization.policies[0].document: missing"},
		{"unknown attached policy", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","targets":[{"id":"r-1","scps":["p-2"]}]}`, `organization.targets[0].scps[0]: policy "p-2" is not among`},
		{"SCP listed as RCP", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","policies":[` + pol + `],"targets":[{"id":"r-1","rcps":["p-1"]}]}`, `organization.targets[0].rcps[0]: policy "p-1" is a SERVICE_CONTROL_POLICY`},
		{"orphan target", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","targets":[{"id":"r-1"},{"id":"111122223333","parent":"ou-x"}]}`, `organization.targets[1].parent: "ou-x" is not among the targets`},
		{"second root", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","targets":[{"id":"r-1"},{"id":"111122223333"}]}`, "organization.targets[1].parent: missing"},
		{"cycle", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","targets":[{"id":"r-1"},{"id":"ou-a","parent":"ou-b"},{"id":"ou-b","parent":"ou-a"}]}`, "a cycle"},
		{"bad target id", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","targets":[{"id":"r-1"},{"id":"jane","parent":"r-1"}]}`, `"jane" is not a root`},
		{"member and outside", `{"id":"o-1","management_account":"999999999999","root_id":"r-1","outside_accounts":["111122223333"],"targets":[{"id":"r-1"},{"id":"111122223333","parent":"r-1"}]}`, "listed both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.json", []byte(base(tc.org)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
