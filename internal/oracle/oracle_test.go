package oracle_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/policygen"
)

// start starts the oracle or fails the test: a missing oracle is a broken
// test setup, never a reason to skip.
func start(t *testing.T) *oracle.Oracle {
	t.Helper()
	o, err := oracle.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return o
}

func TestSeedScenarios(t *testing.T) {
	o := start(t)
	for _, sc := range policygen.SeedCases() {
		t.Run(sc.Name, func(t *testing.T) {
			r, err := o.Simulate(sc.Case)
			if err != nil {
				t.Fatal(err)
			}
			if r.Error != "" {
				t.Fatalf("oracle error: %s", r.Error)
			}
			if r.Decision != sc.Want {
				t.Errorf("oracle decided %s, want %s; explain: %s", r.Decision, sc.Want, r.Explain)
			}
		})
	}
}

func TestBatchKeepsOrderAndReportsBadCases(t *testing.T) {
	o := start(t)
	seed := policygen.SeedCases()
	good := seed[0].Case
	bad := good
	bad.Resource = []byte(`"{\"Statement\":"`) // a string holding broken JSON
	bad.ID = "bad"
	rs, err := o.SimulateBatch([]oracle.Case{good, bad, seed[1].Case})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("got %d results, want 3", len(rs))
	}
	if rs[0].Decision != seed[0].Want || rs[2].Decision != seed[1].Want {
		t.Errorf("decisions %q, %q; want %q, %q", rs[0].Decision, rs[2].Decision, seed[0].Want, seed[1].Want)
	}
	if rs[1].Error == "" || rs[1].ID != "bad" {
		t.Errorf("bad case: got %+v, want an error", rs[1])
	}
}

func TestConcurrentCallsAreSerialised(t *testing.T) {
	o := start(t)
	seed := policygen.SeedCases()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				sc := seed[(g+i)%len(seed)]
				r, err := o.Simulate(sc.Case)
				if err != nil {
					t.Error(err)
					return
				}
				if r.ID != sc.Case.ID || r.Decision != sc.Want {
					t.Errorf("%s: got %s (%s), want %s", sc.Name, r.Decision, r.ID, sc.Want)
				}
			}
		}()
	}
	wg.Wait()
}

func TestClosedOracleRefuses(t *testing.T) {
	o, err := oracle.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := o.Simulate(policygen.SeedCases()[0].Case); err == nil {
		t.Error("Simulate after Close succeeded")
	}
}

func TestMissingInstallSaysHowToInstall(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "oracle"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", filepath.Join("oracle", "simulate.mjs")} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, err := oracle.RepoRoot(filepath.Join(root, "oracle"))
	if err != nil || found != root {
		t.Fatalf("RepoRoot = %q, %v; want %q", found, err, root)
	}
	_, err = oracle.StartIn(root)
	if err == nil {
		t.Fatal("StartIn succeeded without oracle/node_modules")
	}
	for _, want := range []string{"node_modules", "make oracle", "npm ci --prefix oracle"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRepoRootNotFound(t *testing.T) {
	if _, err := oracle.RepoRoot(t.TempDir()); err == nil {
		t.Error("RepoRoot found a root in an empty temp dir")
	}
}
