package diff

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// keysHolding must answer as a look at every key would, however the
// state's keys change between questions: a policy replaced by one without
// the Sid or with it again, a variant Sid, a key added (the slice
// reallocated), a policy that does not parse, none at all.
func TestKeysHoldingFollowsTheState(t *testing.T) {
	jane := GrantID{Principal: "arn:aws:iam::111122223333:user/Jane", Bucket: "data"}
	bob := GrantID{Principal: "arn:aws:iam::111122223333:user/Bob", Bucket: "data"}
	stmt := func(sid string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:Decrypt","Resource":"*"}`
	}
	doc := func(stmts ...string) *state.Doc {
		text := `{"Version":"2012-10-17","Statement":[`
		for i, s := range stmts {
			if i > 0 {
				text += ","
			}
			text += s
		}
		return state.NewDoc(text + "]}")
	}
	js, bs := baseSid(jane, purposeKMS), baseSid(bob, purposeKMS)
	other := stmt("Other")
	st := &state.State{}
	for i, d := range []*state.Doc{doc(other), doc(stmt(js)), doc(stmt(bs), other), nil, state.NewDoc("{not json"), doc(stmt(js + "v3"))} {
		st.Keys = append(st.Keys, state.Key{ARN: fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/k%d", i), Policy: d})
	}
	// brute force: every key whose statements carry one of the Sids.
	want := func(ids ...GrantID) []int {
		var out []int
		for i, k := range st.Keys {
			if k.Policy == nil {
				continue
			}
			d, err := policy.Parse(k.Policy.Text, policy.KindKeyPolicy)
			if err != nil {
				continue
			}
			for _, s := range d.Statements() {
				if slices.ContainsFunc(ids, func(id GrantID) bool { return isSidOf(s.Sid, baseSid(id, purposeKMS)) }) {
					out = append(out, i)
					break
				}
			}
		}
		return out
	}
	check := func(step string) {
		t.Helper()
		for _, ids := range [][]GrantID{{jane}, {bob}, {jane, bob}} {
			got := keysHolding(st, kmsBases(ids))
			if fmt.Sprint(got) != fmt.Sprint(want(ids...)) {
				t.Errorf("%s, %v: keys %v, want %v", step, ids, got, want(ids...))
			}
		}
	}
	check("first")
	st.Keys[1].Policy = doc(other) // Jane's statement gone
	check("removed")
	st.Keys[1].Policy = doc(other, stmt(js)) // and back
	st.Keys[0].Policy = doc(stmt(bs))
	check("added")
	st.Keys[3].Policy = doc(stmt(js))
	st.Keys[4].Policy = nil
	check("from none and to none")
	st.Keys = append(st.Keys, state.Key{ARN: "arn:aws:kms:us-east-1:111122223333:key/new", Policy: doc(stmt(bs + "v2"))})
	check("a key more")
	st.Keys = st.Keys[1:]
	check("a key less")
}
