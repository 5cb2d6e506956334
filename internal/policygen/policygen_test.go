package policygen_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/policygen"
	"github.com/bucketgrant/bucketgrant/internal/testrace"
)

func TestSameSeedSameCases(t *testing.T) {
	a, b := policygen.New(7), policygen.New(7)
	for _, i := range []int{0, 1, 99, 1234} {
		ja, _ := json.Marshal(a.Case(i).Oracle())
		jb, _ := json.Marshal(b.Case(i).Oracle())
		if !bytes.Equal(ja, jb) {
			t.Fatalf("case %d differs between runs:\n%s\n%s", i, ja, jb)
		}
	}
	ja, _ := json.Marshal(policygen.New(7).Case(5).Oracle())
	jb, _ := json.Marshal(policygen.New(8).Case(5).Oracle())
	if bytes.Equal(ja, jb) {
		t.Error("seeds 7 and 8 give the same case 5")
	}
}

func TestGeneratedCasesAreValid(t *testing.T) {
	testrace.SkipHeavy(t)
	for i, c := range policygen.New(3).Cases(3000) {
		if !c.Valid() {
			t.Fatalf("case %d is not valid", i)
		}
		oc := c.Oracle()
		docs := []json.RawMessage{oc.Boundary, oc.Resource}
		for _, p := range oc.Identity {
			docs = append(docs, p.Policy)
		}
		for _, d := range docs {
			if d == nil {
				continue
			}
			var v struct {
				Version string
			}
			if err := json.Unmarshal(d, &v); err != nil {
				t.Fatalf("case %d: policy is not JSON: %v\n%s", i, err, d)
			}
			if v.Version != policygen.V2012 && bytes.Contains(d, []byte("${")) {
				t.Fatalf("case %d: policy variable outside 2012-10-17:\n%s", i, d)
			}
		}
		if c.ResourceType == "kms" && oc.Resource == nil {
			t.Fatalf("case %d: KMS case without key policy", i)
		}
		if c.Action == "kms:PutKeyPolicy" && c.Caller.Account != c.ResourceAccount {
			t.Fatalf("case %d: cross-account PutKeyPolicy", i)
		}
		for _, k := range []string{"aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid"} {
			if len(oc.Context[k]) != 1 {
				t.Fatalf("case %d: context lacks %s", i, k)
			}
		}
		for k, vs := range oc.Context {
			if len(vs) == 0 {
				t.Fatalf("case %d: context key %s has no values", i, k)
			}
		}
	}
}

func TestShrinksAreValidAndSmaller(t *testing.T) {
	testrace.SkipHeavy(t)
	for i, c := range policygen.New(4).Cases(200) {
		size := len(mustJSON(t, c.Oracle()))
		for _, s := range c.Shrinks() {
			if !s.Valid() {
				t.Fatalf("case %d: invalid shrink", i)
			}
			if n := len(mustJSON(t, s.Oracle())); n >= size {
				t.Fatalf("case %d: shrink is not smaller (%d >= %d)", i, n, size)
			}
			for _, k := range []string{"aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid"} {
				if len(s.Context[k]) == 0 {
					t.Fatalf("case %d: shrink dropped %s", i, k)
				}
			}
		}
	}
}

func TestNotPrincipalNamesAllOrNoneOfTheChain(t *testing.T) {
	testrace.SkipHeavy(t)
	seen := 0
	for i, c := range policygen.New(5).Cases(5000) {
		if c.Resource == nil {
			continue
		}
		for _, s := range c.Resource.Stmts {
			if s.NotPrincipal == nil {
				continue
			}
			seen++
			chain := c.Caller.Chain()
			n := 0
			for _, e := range chain {
				for _, typ := range s.NotPrincipal.Types {
					for _, v := range typ.Values.Items {
						if v == e || (e == c.Caller.Account && v == "arn:aws:iam::"+e+":root") {
							n++
						}
					}
				}
			}
			if n != 0 && n < len(chain) {
				t.Fatalf("case %d: NotPrincipal names %d of %d chain levels: %+v", i, n, len(chain), s.NotPrincipal)
			}
		}
	}
	if seen < 100 {
		t.Errorf("only %d NotPrincipal statements in 5000 cases", seen)
	}
}

// TestOracleAcceptsGeneratedPolicies runs a sample through the oracle's own
// validators: the generator must only emit policies a validator accepts.
func TestOracleAcceptsGeneratedPolicies(t *testing.T) {
	testrace.SkipHeavy(t)
	o, err := oracle.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cases := policygen.New(6).Cases(1500)
	ocs := make([]oracle.Case, len(cases))
	for i := range cases {
		ocs[i] = cases[i].Oracle()
		ocs[i].Validate = true
	}
	rs, err := o.SimulateBatch(ocs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Error != "" || r.ValidationErrors != nil {
			t.Fatalf("case %d: oracle error %q, validation errors %s\n%s", i, r.Error, r.ValidationErrors, mustJSON(t, ocs[i]))
		}
	}
}

func TestSeedCasesAreNamedAndDecided(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range policygen.SeedCases() {
		if names[sc.Name] {
			t.Errorf("duplicate seed case %s", sc.Name)
		}
		names[sc.Name] = true
		switch sc.Want {
		case oracle.Allowed, oracle.ImplicitlyDenied, oracle.ExplicitlyDenied:
		default:
			t.Errorf("%s: bad want %q", sc.Name, sc.Want)
		}
		if !strings.HasPrefix(sc.Name, "same/") && !strings.HasPrefix(sc.Name, "cross/") {
			t.Errorf("%s: not a same/ or cross/ case", sc.Name)
		}
	}
}

func mustJSON(t *testing.T, c oracle.Case) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
