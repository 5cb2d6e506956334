package apply_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// A plan counts on a KMS grant for Jane (no KMS statement): with
// CheckInputs, the grant retired by another writer of the snapshot makes
// it stale before anything is written; without CheckInputs (sync) the
// grants are not read again. A store that cannot read the inputs refuses
// rather than write on a guess.
func TestStaleInputsAreRefused(t *testing.T) {
	path := copyExample(t, "seed-cross-account.json")
	st, _ := snapshot.Load(path)
	st.Keys[0].Grants = []state.Grant{{ID: "g-jane", GranteePrincipal: jane, Operations: []string{"Decrypt", "GenerateDataKey"}}}
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	p := planFile(t, path, diff.Options{})
	if ids := diff.InputIDs(p); len(ids) != 1 || !strings.HasPrefix(ids[0], "kms-grants:") {
		t.Fatalf("input fingerprints %v, want the key's grants", ids)
	}
	st.Keys[0].Grants = []state.Grant{}
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	store, _ := apply.NewStateStore(path, jane)
	o := opts(t)
	o.CheckInputs = true
	_, err := apply.Apply(context.Background(), store, p, o)
	var stale *apply.StaleError
	if !errors.As(err, &stale) || stale.Input == "" || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("got %v, want the grants stale", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a stale plan wrote to the file")
	}
	// A store without ReadInputs cannot check: refused.
	_, err = apply.Apply(context.Background(), &flaky{Store: store}, p, o)
	if err == nil || !strings.Contains(err.Error(), "cannot read again") {
		t.Fatalf("a store that cannot read the inputs: %v", err)
	}
	// Without CheckInputs the inputs are not read: the documents are as
	// the plan saw them, so it applies.
	o.CheckInputs = false
	if _, err := apply.Apply(context.Background(), store, p, o); err != nil {
		t.Fatalf("without CheckInputs: %v", err)
	}
}
