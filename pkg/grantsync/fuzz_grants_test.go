package grantsync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Issue 7, part 4: the grants reader never panics, names the file in its
// errors, and every grant it accepts names a user or role ARN and a bucket.
func FuzzParseGrants(f *testing.F) {
	for _, dir := range []string{"../../testdata/hostile/grants", "../../testdata/hostile/base"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".yaml") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("grants.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "grants.yaml") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		for i, g := range file.Grants {
			if state.KindOf(g.Principal) == "" {
				t.Fatalf("grants[%d]: accepted principal %q", i, g.Principal)
			}
			if g.Bucket == "" {
				t.Fatalf("grants[%d]: accepted without a bucket", i)
			}
			if strings.ContainsAny(g.Prefix, "*?$") {
				t.Fatalf("grants[%d]: accepted prefix %q", i, g.Prefix)
			}
		}
	})
}
