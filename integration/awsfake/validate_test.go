package awsfake

import (
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	for doc, ok := range map[string]bool{
		`{"Statement":[]}`:                   true,
		` {"Statement":{"Effect":"Allow"}} `: true,
		`{"Statement":[{"A":1,"a":2}]}`:      true, // member names are case-sensitive
		`{"Statement":[{"A":1,"A":2}]}`:      false,
		`{"Statement":[]} {}`:                false,
		`{"Version":"2012-10-17"}`:           false,
		`null`:                               false,
		``:                                   false,
		strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100): false,
	} {
		if _, err := parsePolicy(doc); (err == nil) != ok {
			t.Errorf("parsePolicy(%.40s) error = %v, want ok=%v", doc, err, ok)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"kms:*", "kms:PutKeyPolicy", true},
		{"KMS:putkeypolicy", "kms:PutKeyPolicy", true},
		{"kms:Put*", "kms:PutKeyPolicy", true},
		{"kms:?utKeyPolicy", "kms:PutKeyPolicy", true},
		{"kms:Get*", "kms:PutKeyPolicy", false},
		{"*", "anything", true},
		{"kms:Put.KeyPolicy", "kms:PutXKeyPolicy", false}, // dots are literal
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestNonSpaceLen(t *testing.T) {
	if n := nonSpaceLen("{ \"a\" :\t\n1 }"); n != 7 {
		t.Fatalf("nonSpaceLen = %d", n)
	}
}

func TestAllows(t *testing.T) {
	p, _ := parsePolicy(`{"Statement":[
		{"Effect":"Deny","Principal":"*","Action":"kms:*"},
		{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/a"]},"NotAction":"kms:Decrypt"},
		{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:*"}]}`)
	if !p.allows("kms:PutKeyPolicy", []string{"arn:aws:iam::111122223333:role/a"}) {
		t.Error("NotAction statement should allow PutKeyPolicy")
	}
	if p.allows("kms:Decrypt", []string{"arn:aws:iam::111122223333:role/a"}) {
		t.Error("NotAction statement allows Decrypt")
	}
	if p.allows("kms:PutKeyPolicy", []string{"arn:aws:iam::111122223333:user/b"}) {
		t.Error("Deny or Service principal counted as Allow")
	}
}

func TestRewritePrincipals(t *testing.T) {
	arn := "arn:aws:iam::111122223333:user/jane"
	doc := `{"Statement":[{"Principal":{"AWS":"` + arn + `"},"Resource":"` + arn + `"},
 {"NotPrincipal": {"AWS": ["x", "` + arn + `"]}, "Condition":{"StringEquals":{"AWS":"` + arn + `"}}}]}`
	got := rewritePrincipals(doc, func(p string) (string, bool) { return "AIDAJANE", p == arn })
	want := strings.Replace(strings.Replace(doc, `"AWS":"`+arn+`"},"Resource"`, `"AWS":"AIDAJANE"},"Resource"`, 1),
		`"x", "`+arn+`"`, `"x", "AIDAJANE"`, 1)
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if bad := `{"Statement":[`; rewritePrincipals(bad, func(string) (string, bool) { return "", true }) != bad {
		t.Fatal("invalid document changed")
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["a","b"]},"Action":"kms:*"}]}`)
	f.Add(`{"Statement":{"NotPrincipal":"*"}}`)
	f.Add(`[[[`)
	f.Fuzz(func(t *testing.T, doc string) {
		if p, err := parsePolicy(doc); err == nil {
			p.principals()
			p.allows("kms:PutKeyPolicy", []string{"x"})
		}
		rewritePrincipals(doc, func(s string) (string, bool) { return s + "!", true })
	})
}
