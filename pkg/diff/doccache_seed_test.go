package diff_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/plangen"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// A plan puts each document it writes into the parse cache under its new
// text (remember), and the next plan on a state holding the change takes
// it from there instead of parsing the text. That is only right if the
// document is what parsing its text gives: the same text, statements,
// fingerprint and statement texts. Checked on every document written by
// generated plans (of every shape plangen makes: appends to single-object
// and empty Statement lists, replaced and extended statements, managed
// policies, revoked orphans).
func TestRememberedDocumentIsTheParse(t *testing.T) {
	gen := plangen.New(7)
	checked := 0
	for i := range 400 {
		sc := gen.Scenario(i)
		p, err := diff.Make(sc.State(), sc.Options())
		if err != nil {
			continue
		}
		for _, ch := range p.Changes {
			kind := ch.Document.PolicyKind()
			if ch.After == "" {
				continue
			}
			got, ok := diff.CachedDoc(kind, ch.After)
			if !ok {
				t.Errorf("scenario %d: %s: the written text is not in the cache", i, ch.Document.ID())
				continue
			}
			want, err := policy.ParseString(ch.After, kind)
			if err != nil {
				t.Fatalf("scenario %d: %s: the written text does not parse: %v", i, ch.Document.ID(), err)
			}
			checked++
			switch {
			case got.String() != want.String():
				t.Errorf("scenario %d: %s: text differs", i, ch.Document.ID())
			case got.Fingerprint() != want.Fingerprint():
				t.Errorf("scenario %d: %s: fingerprint differs", i, ch.Document.ID())
			case !reflect.DeepEqual(got.Statements(), want.Statements()):
				t.Errorf("scenario %d: %s: statements differ:\n%+v\n%+v", i, ch.Document.ID(), got.Statements(), want.Statements())
			case got.SingleStatement() != want.SingleStatement() || got.Version() != want.Version() || got.ID() != want.ID():
				t.Errorf("scenario %d: %s: Version, Id or Statement form differs", i, ch.Document.ID())
			}
			for j := range want.Statements() {
				if !bytes.Equal(got.StatementText(j), want.StatementText(j)) {
					t.Errorf("scenario %d: %s: statement %d's text differs:\n%s\n%s", i, ch.Document.ID(), j, got.StatementText(j), want.StatementText(j))
				}
			}
		}
	}
	if checked < 300 {
		t.Fatalf("only %d written documents checked", checked)
	}
	t.Logf("%d written documents checked", checked)
}

// A plan leaves the texts it read in the cache: planning again on the same
// state (as apply does before it writes, or a benchmark) finds them. Only
// Replaced, said once a state holds the plan's changes, takes out the
// texts they replaced; the new texts stay.
func TestReplacedTextsLeaveTheCache(t *testing.T) {
	sc := plangen.New(7).Scenario(1)
	st := sc.State()
	p, err := diff.Make(st, sc.Options())
	if err != nil {
		t.Fatal(err)
	}
	before := diff.Parses()
	if _, err := diff.Make(st, sc.Options()); err != nil {
		t.Fatal(err)
	}
	if n := diff.Parses() - before; n > 0 {
		t.Errorf("planning again on the same state parsed %d texts again", n)
	}
	var updated []diff.Change
	for _, ch := range p.Changes {
		if ch.Before != "" && ch.Document.Kind == diff.DocKeyPolicy {
			updated = append(updated, ch)
		}
	}
	if len(updated) == 0 {
		t.Fatal("the scenario's plan updates no key policy; pick another")
	}
	for _, ch := range updated {
		if _, ok := diff.CachedDoc(policy.KindKeyPolicy, ch.Before); !ok {
			t.Errorf("%s: the text the plan read left the cache when the plan was made", ch.Document.ID())
		}
	}
	diff.Replaced(p)
	for _, ch := range updated {
		if _, ok := diff.CachedDoc(policy.KindKeyPolicy, ch.Before); ok {
			t.Errorf("%s: the replaced text is still in the cache", ch.Document.ID())
		}
		if _, ok := diff.CachedDoc(policy.KindKeyPolicy, ch.After); !ok {
			t.Errorf("%s: the new text left the cache", ch.Document.ID())
		}
	}
}
