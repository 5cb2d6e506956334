package limits_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	jane  = "arn:aws:iam::111122223333:user/Jane"
	role  = "arn:aws:iam::111122223333:role/App"
	key   = "arn:aws:kms:us-east-1:111122223333:key/k"
	bname = "doc-example-bucket"
)

// policyOf is a policy of about n characters (white space not counted).
func policyOf(n int) *state.Doc {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	return state.NewDoc(head + strings.Repeat("x", max(0, n-len(head)-len(tail))) + tail)
}

func managed(i int) state.ManagedPolicy {
	return state.ManagedPolicy{ARN: fmt.Sprintf("arn:aws:iam::111122223333:policy/p%d", i), Document: policyOf(100)}
}

func world(inline int, attached int) *state.State {
	p := state.Principal{ARN: jane, Kind: state.KindUser, InlinePolicies: []state.NamedDoc{{Name: "a", Doc: policyOf(inline)}}}
	for i := range attached {
		p.AttachedPolicies = append(p.AttachedPolicies, managed(i))
	}
	return &state.State{
		Principals: []state.Principal{p, {ARN: role, Kind: state.KindRole}},
		Keys:       []state.Key{{ARN: key, Policy: policyOf(1000)}},
		Buckets:    []state.Bucket{{Name: bname, Account: "111122223333", Policy: policyOf(1000)}},
	}
}

func TestIAMChars(t *testing.T) {
	for text, want := range map[string]int{
		``: 0, `{}`: 2, "{ \n\t}": 2, `{"a b": "c d"}`: 13, `{"a\"b" : 1}`: 10, `"é"`: 3,
	} {
		if got := limits.IAMChars([]byte(text)); got != want {
			t.Errorf("IAMChars(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestQuotas(t *testing.T) {
	d := limits.Defaults("a snapshot file holds no quotas")
	if d.UserInlineChars != 2048 || d.RoleInlineChars != 10240 || d.GroupInlineChars != 5120 || d.AttachedPerUser != 10 ||
		d.AttachedPerRole != 10 || d.ManagedPolicyChars != 6144 || d.KeyPolicyBytes != 32768 || d.BucketPolicyBytes != 20480 ||
		d.VersionsPerPolicy != 5 || d.PolicyNameChars != 128 || !strings.Contains(d.Source, "snapshot") {
		t.Errorf("defaults %+v", d)
	}
	q := limits.FromSummary(map[string]int32{"AttachedPoliciesPerUserQuota": 20, "RolePolicySizeQuota": 0, "Users": 3}, "111122223333")
	if q.AttachedPerUser != 20 || q.RoleInlineChars != 10240 || q.KeyPolicyBytes != 32768 || !strings.Contains(q.Source, "111122223333") {
		t.Errorf("from summary %+v", q)
	}
	if q := limits.FromSummary(nil, "1"); q.AttachedPerUser != 10 {
		t.Errorf("empty summary %+v", q)
	}
}

func TestCheck(t *testing.T) {
	raised := func(string) limits.Quotas {
		q := limits.Defaults("")
		q.AttachedPerUser = 20
		return q
	}
	tests := []struct {
		name    string
		before  *state.State
		edit    func(*state.State)
		touched limits.Touched
		quotas  func(string) limits.Quotas
		want    []string // each a violation's What, in order; none: nothing over
	}{
		{"nil states do not panic", nil, nil, limits.Touched{Principals: []string{jane}, KeyPolicies: []string{key}, Managed: []string{"x"}}, nil, nil},
		{"inline total over", world(1500, 0), func(st *state.State) {
			st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "bucketgrant-b", Doc: policyOf(620)})
		}, limits.Touched{Principals: []string{jane}}, nil, []string{"the inline policies of user " + jane + " together"}},
		{"inline total at the limit", world(1428, 0), func(st *state.State) {
			st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "bucketgrant-b", Doc: policyOf(620)})
		}, limits.Touched{Principals: []string{jane}}, nil, nil},
		{"a role has more room", &state.State{Principals: []state.Principal{{ARN: role, Kind: state.KindRole}}}, func(st *state.State) {
			st.Principals[0].InlinePolicies = []state.NamedDoc{{Name: "bucketgrant-b", Doc: policyOf(9000)}}
		}, limits.Touched{Principals: []string{role}}, nil, nil},
		{"untouched principal not checked", world(1500, 0), func(st *state.State) {
			st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: "x", Doc: policyOf(620)})
		}, limits.Touched{}, nil, nil},
		{"shrinking an over-full total is allowed", world(2500, 0), func(st *state.State) {
			st.Principals[0].InlinePolicies[0].Doc = policyOf(2200)
		}, limits.Touched{Principals: []string{jane}}, nil, nil},
		{"eleventh managed policy", world(100, 10), func(st *state.State) {
			st.Principals[0].AttachedPolicies = append(st.Principals[0].AttachedPolicies, managed(10))
		}, limits.Touched{Principals: []string{jane}, Managed: []string{managed(10).ARN}}, nil, []string{"the managed policies attached to user " + jane}},
		{"a raised quota allows it", world(100, 10), func(st *state.State) {
			st.Principals[0].AttachedPolicies = append(st.Principals[0].AttachedPolicies, managed(10))
		}, limits.Touched{Principals: []string{jane}}, raised, nil},
		{"detaching from an over-full principal is allowed", world(100, 12), func(st *state.State) {
			st.Principals[0].AttachedPolicies = st.Principals[0].AttachedPolicies[:11]
		}, limits.Touched{Principals: []string{jane}}, nil, nil},
		{"managed policy size", world(100, 1), func(st *state.State) {
			st.Principals[0].AttachedPolicies[0].Document = policyOf(6145)
		}, limits.Touched{Managed: []string{managed(0).ARN}}, nil, []string{"the managed policy " + managed(0).ARN}},
		{"key and bucket policy size", world(100, 0), func(st *state.State) {
			st.Keys[0].Policy = policyOf(32769)
			st.Buckets[0].Policy = policyOf(20481)
		}, limits.Touched{KeyPolicies: []string{key}, BucketPolicies: []string{bname}}, nil,
			[]string{"the key policy of " + key, "the bucket policy of " + bname}},
		{"a new inline policy name over 128", world(100, 0), func(st *state.State) {
			st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies, state.NamedDoc{Name: strings.Repeat("n", 129), Doc: policyOf(100)})
		}, limits.Touched{Principals: []string{jane}}, nil, []string{"the name of the inline policy " + strings.Repeat("n", 129) + " of " + jane}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var after *state.State
			if tc.before != nil {
				after = clone(tc.before)
				tc.edit(after)
			}
			got := limits.Check(tc.before, after, tc.touched, tc.quotas)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %d violations %v", got, len(tc.want), tc.want)
			}
			for i, v := range got {
				if v.What != tc.want[i] {
					t.Errorf("violation %d is %q, want %q", i, v.What, tc.want[i])
				}
				if v.Got <= v.Max || v.Fix == "" || !strings.Contains(v.Error(), fmt.Sprint(v.Max)) {
					t.Errorf("violation %+v", v)
				}
			}
		})
	}
}

func clone(st *state.State) *state.State {
	out := *st
	out.Keys = append([]state.Key(nil), st.Keys...)
	out.Buckets = append([]state.Bucket(nil), st.Buckets...)
	out.Principals = append([]state.Principal(nil), st.Principals...)
	for i := range out.Principals {
		p := &out.Principals[i]
		p.InlinePolicies = append([]state.NamedDoc(nil), p.InlinePolicies...)
		p.AttachedPolicies = append([]state.ManagedPolicy(nil), p.AttachedPolicies...)
	}
	return &out
}

func TestViolationMessage(t *testing.T) {
	before := world(1500, 0)
	after := clone(before)
	after.Principals[0].InlinePolicies = append(after.Principals[0].InlinePolicies, state.NamedDoc{Name: "bucketgrant-b", Doc: policyOf(620)})
	v := limits.Check(before, after, limits.Touched{Principals: []string{jane}}, func(string) limits.Quotas { return limits.Defaults("a snapshot file holds no quotas") })
	if len(v) != 1 {
		t.Fatal(v)
	}
	want := "the inline policies of user " + jane + " together would be 2120 characters (white space not counted), over IAM's limit per user of 2048 (AWS's default; a snapshot file holds no quotas); move some"
	if !strings.HasPrefix(v[0].Error(), want) {
		t.Errorf("message:\n%s\nwant prefix:\n%s", v[0].Error(), want)
	}
}
