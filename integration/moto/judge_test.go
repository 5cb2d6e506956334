package moto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// attachedPrefix marks a managed policy's attachment to a principal in
// documents(): detaching is a change even where the policy stays.
const attachedPrefix = "attached:"

// documents lists every document of a state by ID: for the documents
// bucketgrant writes, the ID its plans use (diff.DocRef.ID); for the rest
// (group policies, attachments) an ID of the test's own.
func documents(st *state.State) map[string]string {
	out := map[string]string{}
	for _, b := range st.Buckets {
		if b.Policy != nil {
			out[diff.DocBucketPolicy+":arn:aws:s3:::"+b.Name] = b.Policy.String()
		}
	}
	for _, k := range st.Keys {
		if k.Policy != nil {
			out[diff.DocKeyPolicy+":"+k.ARN] = k.Policy.String()
		}
	}
	for _, p := range st.Principals {
		for _, nd := range p.InlinePolicies {
			out[diff.DocInlinePolicy+":"+p.ARN+":"+nd.Name] = nd.Doc.String()
		}
		for _, mp := range p.AttachedPolicies {
			out[diff.DocManagedPolicy+":"+mp.ARN] = mp.Document.String()
			out[attachedPrefix+p.ARN+":"+mp.ARN] = ""
		}
		for _, g := range p.Groups {
			for _, nd := range g.InlinePolicies {
				out["group-inline-policy:"+g.Name+":"+nd.Name] = nd.Doc.String()
			}
			for _, mp := range g.AttachedPolicies {
				out[diff.DocManagedPolicy+":"+mp.ARN] = mp.Document.String()
				out[attachedPrefix+"group/"+g.Name+":"+mp.ARN] = ""
			}
		}
	}
	return out
}

// jsonValue parses a document with encoding/json, numbers kept as written:
// the statement comparisons below share no code with pkg/policy.
func jsonValue(text string) (map[string]any, error) {
	if text == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// sameJSON reports whether two documents hold the same JSON values (member
// order and white space aside; a string and a one-element list differ).
func sameJSON(a, b string) (bool, error) {
	va, err := jsonValue(a)
	if err != nil {
		return false, err
	}
	vb, err := jsonValue(b)
	if err != nil {
		return false, err
	}
	return reflect.DeepEqual(va, vb), nil
}

// statementDiff says how got differs from want, statement for statement: the
// same members besides Statement (Version, Id), the same number of
// statements, and each statement the same JSON value in the same place. ""
// when they agree.
func statementDiff(got, want string) string {
	vg, err := jsonValue(got)
	if err != nil {
		return fmt.Sprintf("does not parse: %v", err)
	}
	vw, err := jsonValue(want)
	if err != nil {
		return fmt.Sprintf("the expected document does not parse: %v", err)
	}
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		return []any{v}
	}
	sg, sw := list(vg["Statement"]), list(vw["Statement"])
	delete(vg, "Statement")
	delete(vw, "Statement")
	var out []string
	if !reflect.DeepEqual(vg, vw) {
		out = append(out, fmt.Sprintf("members %v, want %v", vg, vw))
	}
	if len(sg) != len(sw) {
		out = append(out, fmt.Sprintf("%d statements, want %d", len(sg), len(sw)))
	}
	for i := range min(len(sg), len(sw)) {
		if !reflect.DeepEqual(sg[i], sw[i]) {
			g, _ := json.Marshal(sg[i])
			w, _ := json.Marshal(sw[i])
			out = append(out, fmt.Sprintf("statement %d is %s, want %s", i, g, w))
		}
	}
	return strings.Join(out, "; ")
}

// sameDocuments checks that got holds exactly want's documents, each one
// statement for statement (revoke and rollback promise the documents as
// they were before the apply). A document re-laid out but equal is logged:
// AWS itself re-lays out what it stores, so the promise is about
// statements, not bytes.
func sameDocuments(t *testing.T, what string, got, want *state.State) {
	t.Helper()
	g, w := documents(got), documents(want)
	for _, id := range slices.Sorted(maps.Keys(w)) {
		text, ok := g[id]
		switch {
		case !ok:
			t.Errorf("%s: %s is gone", what, id)
		case text == w[id]:
		default:
			if d := statementDiff(text, w[id]); d != "" {
				t.Errorf("%s: %s: %s\n got: %s\nwant: %s", what, id, d, text, w[id])
			} else {
				t.Logf("%s: %s has its statements back, laid out anew", what, id)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(g)) {
		if _, ok := w[id]; !ok {
			t.Errorf("%s: %s is still there: %s", what, id, g[id])
		}
	}
}

// judgeWrite checks a write made from plan p, on the states read back
// before and after it:
//   - the trust property, by the independent oracle (every request the
//     grant needs is allowed, nothing new for anyone, no statement lost);
//   - every document the plan changes holds the plan's text (the same JSON
//     value), and one it deletes is gone;
//   - every other document is byte for byte as it was.
func judgeWrite(t *testing.T, before, after *state.State, plans ...*diff.Plan) {
	t.Helper()
	for _, p := range plans {
		judge(t, before, after, p)
	}
	b, a := documents(before), documents(after)
	changed := map[string]bool{}
	for _, p := range plans {
		for _, ch := range p.Changes {
			id := ch.Document.ID()
			changed[id] = true
			if ch.Attach {
				changed[attachedPrefix+p.Subject.PrincipalARN+":"+ch.Document.ARN] = true
			}
			if len(plans) > 1 {
				continue // several plans' changes merge into one document
			}
			text, ok := a[id]
			switch {
			case ch.Action == diff.ActionDelete && ok:
				t.Errorf("%s: the plan deletes it, but it is still there: %s", id, text)
			case ch.Action == diff.ActionDelete:
			case !ok:
				t.Errorf("%s: the plan writes it, but it is not there", id)
			default:
				if same, err := sameJSON(text, ch.After); err != nil || !same {
					t.Errorf("%s: not what the plan writes (%v)\n got: %s\nplan: %s", id, err, text, ch.After)
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b)) {
		if !changed[id] && a[id] != b[id] {
			t.Errorf("%s: not in the plan, yet changed\nbefore: %s\n after: %s", id, b[id], a[id])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[id]; !ok && !changed[id] {
			t.Errorf("%s: not in the plan, yet created: %s", id, a[id])
		}
	}
}

// sameState checks that a snapshot the binary wrote holds what the SDK
// reads back: every field, and every document byte for byte.
func sameState(t *testing.T, got, want *state.State) {
	t.Helper()
	norm := func(st *state.State) {
		for i := range st.Keys {
			if st.Keys[i].Region == "" {
				st.Keys[i].Region = state.RegionOf(st.Keys[i].ARN)
			}
		}
		for i := range st.Principals {
			if st.Principals[i].Kind == "" {
				st.Principals[i].Kind = state.KindOf(st.Principals[i].ARN)
			}
		}
	}
	norm(got)
	norm(want)
	opts := []cmp.Option{
		cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b state.Source) bool { return true }),
		cmp.Comparer(func(a, b *state.Doc) bool {
			if a == nil || b == nil {
				return a == nil && b == nil
			}
			return bytes.Equal(a.Text, b.Text)
		}),
	}
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("the snapshot differs from what the SDK reads back (-read back +snapshot):\n%s", d)
	}
}

// noWrites fails a read-only command that wrote.
func noWrites(t *testing.T, r result, what string) {
	t.Helper()
	if wr := writes(r.calls); len(wr) > 0 {
		t.Errorf("%s wrote: %v", what, wr)
	}
}
