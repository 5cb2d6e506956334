package snapshot

import (
	"os"
	"path/filepath"
	"testing"
)

// Whatever parses writes back byte for byte, and a fresh write of it reads
// back to the same state.
func FuzzRoundTrip(f *testing.F) {
	for _, name := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format":"bucketgrant.snapshot/1","principals":[{"arn":"a","inline_policies":{"x":"{}","y":{}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		out, err := Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(data) {
			t.Fatalf("round trip changed the input:\n%q\n%q", data, out)
		}
		stripSources(st)
		fresh, err := Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("fresh", fresh)
		if err != nil {
			t.Fatalf("fresh write does not parse: %v\n%s", err, fresh)
		}
		if !same(st, back) {
			t.Fatalf("fresh write reads back different:\n%s", fresh)
		}
	})
}
