package policy

import "testing"

// MatchAction compares a pattern without wildcards with EqualFold, not
// glob: the two must agree on every name, Unicode folding and invalid
// UTF-8 included.
func TestMatchActionLiteralAgreesWithGlob(t *testing.T) {
	names := []string{"GetObject", "getobject", "GETOBJECT", "GetObjec", "GetObjectX", "\u212aey", "key", "KEY", "k\u212aY",
		"\xff", "\xfe", "a\xffb", "ǅ", "ǆ", "Ǆ", "ß", "ẞ", "σ", "ς", "Σ", ""}
	for _, p := range names {
		for _, a := range names {
			if p == "" {
				continue
			}
			want := glob(p, a, true)
			if got := MatchAction("s3:"+p, "S3:"+a); got != want {
				t.Errorf("MatchAction(s3:%q, S3:%q) = %v, glob says %v", p, a, got, want)
			}
		}
	}
}
