package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func exact(s string) Pattern  { return CompileGlob(s, false) }
func folded(s string) Pattern { return CompileGlob(s, true) }

// classOf finds the class whose witness has the same match vector as s.
func classOf(t *testing.T, classes []Class, patterns []Pattern, s string) Class {
	t.Helper()
	for _, c := range classes {
		same := true
		for i, p := range patterns {
			if p.Match(s) != c.Match[i] {
				same = false
				break
			}
		}
		if same {
			return c
		}
	}
	t.Fatalf("no class for %q", s)
	return Class{}
}

// checkClasses verifies what Classes promises for the given strings of the
// universe, using the matcher directly.
func checkClasses(t *testing.T, universe Pattern, patterns []Pattern, classes []Class, samples ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range classes {
		if !universe.Match(c.Witness) {
			t.Errorf("witness %q is not in the universe %q", c.Witness, universe)
		}
		if !utf8.ValidString(c.Witness) {
			t.Errorf("witness %q is not valid UTF-8", c.Witness)
		}
		var key strings.Builder
		for i, p := range patterns {
			if got := p.Match(c.Witness); got != c.Match[i] {
				t.Errorf("witness %q: pattern %q matches %v, class says %v", c.Witness, p, got, c.Match[i])
			}
			if c.Match[i] {
				key.WriteByte('1')
			} else {
				key.WriteByte('0')
			}
		}
		if seen[key.String()] {
			t.Errorf("two classes with the vector %s", key.String())
		}
		seen[key.String()] = true
	}
	for _, s := range samples {
		if universe.Match(s) {
			classOf(t, classes, patterns, s)
		}
	}
}

func TestClassesProbes(t *testing.T) {
	tests := []struct {
		name      string
		universe  Pattern
		patterns  []Pattern
		witnesses []string // the classes' witnesses, in order
		samples   []string // strings that must fall into some class
	}{
		{
			name:      "nil/empty pattern list: one class",
			universe:  exact("b/*"),
			witnesses: []string{"b/"},
			samples:   []string{"b/x"},
		},
		{
			// A deny or allow on bucket/*/* leaves the top level out.
			name:      "star slash star over the whole bucket",
			universe:  exact("bucket/?*"),
			patterns:  []Pattern{exact("bucket/*/*")},
			witnesses: []string{"bucket/x", "bucket//"},
			samples:   []string{"bucket/top.txt", "bucket/a/b", "bucket/a/"},
		},
		{
			name:      "prefix not covered by a longer literal",
			universe:  exact("reports/*"),
			patterns:  []Pattern{exact("reports/b*")},
			witnesses: []string{"reports/", "reports/b"},
			samples:   []string{"reports/a", "reports/bb"},
		},
		{
			name:      "question mark at the end needs one character",
			universe:  exact("bucket/a*"),
			patterns:  []Pattern{exact("bucket/a?")},
			witnesses: []string{"bucket/a", "bucket/ax"},
			samples:   []string{"bucket/aé", "bucket/abc"},
		},
		{
			name:      "empty prefix: the universe holds the empty string",
			universe:  exact("*"),
			patterns:  []Pattern{exact(""), exact("?")},
			witnesses: []string{"", "x", "xx"},
		},
		{
			name:      "unicode literals are one character each",
			universe:  exact("b/*"),
			patterns:  []Pattern{exact("b/é?"), exact("b/??")},
			witnesses: []string{"b/", "b/xx", "b/éx"},
			samples:   []string{"b/éü", "b/日本", "b/\U0001F600x"},
		},
		{
			name:      "folded and exact literals of one orbit",
			universe:  exact("?"),
			patterns:  []Pattern{exact("k"), folded("k")},
			witnesses: []string{"x", "k", "K"},
			samples:   []string{"\u212a", "K", "k"},
		},
		{
			name:      "Kelvin sign only through folding",
			universe:  exact("?"),
			patterns:  []Pattern{exact("k"), exact("K"), folded("k")},
			witnesses: []string{"x", "k", "K", "\u212a"},
		},
		{
			name:      "fresh character avoids letters the patterns use",
			universe:  exact("?"),
			patterns:  []Pattern{folded("x"), exact("y")},
			witnesses: []string{"z", "x", "y"},
		},
		{
			name:      "control characters only when a pattern names one",
			universe:  exact("a?"),
			patterns:  []Pattern{exact("a\x01")},
			witnesses: []string{"ax", "a\x01"},
		},
		{
			name:      "pattern holding the universe is settled without the product",
			universe:  exact("bucket/reports/*"),
			patterns:  []Pattern{exact("bucket/*"), exact("bucket/reports/*"), exact("other/*"), exact("*")},
			witnesses: []string{"bucket/reports/"},
		},
		{
			name:      "identical patterns share a class bit",
			universe:  exact("b/*"),
			patterns:  []Pattern{exact("b/a*"), exact("b/a*"), exact("b/a**")},
			witnesses: []string{"b/", "b/a"},
		},
		{
			name:      "suffix patterns",
			universe:  exact("b/*"),
			patterns:  []Pattern{exact("*.csv"), exact("b/*/*.csv")},
			witnesses: []string{"b/", "b/.csv", "b//.csv"},
			samples:   []string{"b/x/y.csv", "b/y.csv", "b/x/y.csvx"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			classes, err := Classes(tt.universe, tt.patterns, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range classes {
				got = append(got, c.Witness)
			}
			if !slices.Equal(got, tt.witnesses) {
				t.Errorf("witnesses %q, want %q", got, tt.witnesses)
			}
			checkClasses(t, tt.universe, tt.patterns, classes, tt.samples...)
		})
	}
}

func TestCoversProbes(t *testing.T) {
	tests := []struct {
		name        string
		universe    Pattern
		allow, deny []Pattern
		ok          bool
		counter     string
	}{
		{"nil/empty: nothing allows", exact("b/*"), nil, nil, false, "b/"},
		{"allow all", exact("b/*"), []Pattern{exact("*")}, nil, true, ""},
		{"allow bucket/*/* misses the top level", exact("bucket/?*"), []Pattern{exact("bucket/*/*")}, nil, false, "bucket/x"},
		{"allow reports/b* misses reports/", exact("reports/*"), []Pattern{exact("reports/b*")}, nil, false, "reports/"},
		{"two allows together", exact("b/*"), []Pattern{exact("b/a*"), exact("b/")}, nil, false, "b/x"},
		{"allows by first character leave others", exact("b/?*"), []Pattern{exact("b/a*"), exact("b/b*")}, nil, false, "b/x"},
		{"deny a sub-prefix", exact("b/*"), []Pattern{exact("b/*")}, []Pattern{exact("b/secret/*")}, false, "b/secret/"},
		{"deny elsewhere", exact("b/reports/*"), []Pattern{exact("b/*")}, []Pattern{exact("b/secret/*")}, true, ""},
		{"deny everything", exact("b/reports/*"), []Pattern{exact("b/*")}, []Pattern{exact("*")}, false, "b/reports/"},
		{"deny a suffix", exact("b/*"), []Pattern{exact("*")}, []Pattern{exact("*.exe")}, false, "b/.exe"},
		{"allow ? then star equals star but empty", exact("b/*"), []Pattern{exact("b/?*")}, nil, false, "b/"},
		{"allow covers with star in the middle", exact("b/a*z"), []Pattern{exact("b/*z")}, nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, counter, err := Covers(tt.universe, tt.allow, tt.deny, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || counter != tt.counter {
				t.Errorf("Covers = %v, %q; want %v, %q", ok, counter, tt.ok, tt.counter)
			}
		})
	}
}

func TestSubsetIntersects(t *testing.T) {
	vars := map[string][]string{"aws:username": {"Jane"}}
	literalStar, ok := CompileWithVariables("b/${*}", vars, false)
	if !ok {
		t.Fatal("${*} did not resolve")
	}
	home, ok := CompileWithVariables("b/home/${aws:username}/*", vars, false)
	if !ok {
		t.Fatal("${aws:username} did not resolve")
	}
	if _, ok := CompileWithVariables("b/${aws:userid}/*", vars, false); ok {
		t.Error("an unresolvable variable compiled")
	}
	tests := []struct {
		name         string
		a, b         Pattern
		subset       bool
		counter      string
		intersects   bool
		intersection string
	}{
		{"literal star is one object", literalStar, exact("b/*"), true, "", true, "b/*"},
		{"wildcard is not inside literal star", exact("b/*"), literalStar, false, "b/", true, "b/*"},
		{"literal star is not another key", literalStar, exact("b/x"), false, "b/*", false, ""},
		{"literal question mark", mustTokens(t, "b/?", false), exact("b/?"), true, "", true, "b/?"},
		{"variable text is literal", home, exact("b/home/Jane/*"), true, "", true, "b/home/Jane/"},
		{"variable text against another user", home, exact("b/home/Bob/*"), false, "b/home/Jane/", false, ""},
		{"folded holds exact", exact("ABC"), folded("abc"), true, "", true, "ABC"},
		// Among the shortest, lower case comes first, position by position.
		{"exact misses folded", folded("abc"), exact("abc"), false, "abC", true, "abc"},
		{"Kelvin sign", exact("\u212a*"), folded("k*"), true, "", true, "\u212a"},
		{"empty patterns", exact(""), exact(""), true, "", true, ""},
		{"empty against star", exact(""), exact("*"), true, "", true, ""},
		{"star against empty", exact("*"), exact(""), false, "x", true, ""},
		{"disjoint tails", exact("*.csv"), exact("*.txt"), false, ".csv", false, ""},
		{"tails meet through the middle", exact("a*"), exact("*b"), false, "a", true, "ab"},
		{"lengths differ", exact("???"), exact("??"), false, "xxx", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, counter, err := Subset(tt.a, tt.b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.subset || counter != tt.counter {
				t.Errorf("Subset(%q, %q) = %v, %q; want %v, %q", tt.a, tt.b, ok, counter, tt.subset, tt.counter)
			}
			ok, w, err := Intersects(tt.a, tt.b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.intersects || w != tt.intersection {
				t.Errorf("Intersects(%q, %q) = %v, %q; want %v, %q", tt.a, tt.b, ok, w, tt.intersects, tt.intersection)
			}
		})
	}
}

// mustTokens compiles s with every character literal.
func mustTokens(t *testing.T, s string, fold bool) Pattern {
	t.Helper()
	p, err := CompileTokens([]rune(s), fold)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompile(t *testing.T) {
	if _, err := CompileTokens([]rune{'a', 0xD800}, false); err == nil {
		t.Error("a surrogate token compiled")
	}
	if _, err := CompileTokens([]rune{-3}, false); err == nil {
		t.Error("token -3 compiled")
	}
	if _, err := CompileTokens(nil, false); err != nil {
		t.Errorf("nil/empty tokens: %v", err)
	}
	var zero Pattern
	if !zero.Match("") || zero.Match("a") {
		t.Error("the zero Pattern must match only the empty string")
	}
	p, err := CompileTokens([]rune{'a', GlobAnyRun, GlobAnyRun, '*', GlobAnyOne, '?', '$', '{', 'x', '}'}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "a*${*}?${?}${$}{x}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	back, ok := CompileWithVariables(p.String(), nil, false)
	if !ok || !slices.Equal(back.Tokens(), p.Tokens()) {
		t.Errorf("String() does not read back: %q", back.Tokens())
	}
	if folded("1/2-").Fold() {
		t.Error("fold kept on a pattern without cased letters")
	}
	if !folded("a").Fold() {
		t.Error("fold dropped on a pattern with a cased letter")
	}
	// Invalid UTF-8 in a pattern is U+FFFD, as glob reads it.
	if bad := exact("a\xff"); !bad.Match("a\uFFFD") || !bad.Match("a\xfe") || glob("a\xff", "a\uFFFD", false) != true {
		t.Error("invalid UTF-8 is not read as U+FFFD")
	}
}

func TestStateLimit(t *testing.T) {
	// Each ? after the a remembers one more character: 2^n subset states.
	hard := exact("*a????????????????")
	_, err := Classes(exact("*"), []Pattern{hard}, 1000)
	if !errors.Is(err, ErrStateLimit) {
		t.Fatalf("err = %v, want ErrStateLimit", err)
	}
	if !strings.Contains(err.Error(), "1000") {
		t.Errorf("error does not name the limit: %v", err)
	}
	// Covers stops at the first counterexample; the shortest one here lies
	// beyond the states the limit allows.
	if _, _, err := Covers(exact("*"), []Pattern{exact("*")}, []Pattern{hard}, 1000); !errors.Is(err, ErrStateLimit) {
		t.Errorf("Covers err = %v, want ErrStateLimit", err)
	}
	// The same question with few enough ? is decided.
	if _, err := Classes(exact("*"), []Pattern{exact("*a????")}, 1000); err != nil {
		t.Error(err)
	}
}

// Searches are pooled; concurrent callers must not see each other's state.
func TestGlobSetConcurrent(t *testing.T) {
	universe := exact("bucket/?*")
	patterns := []Pattern{exact("bucket/*/*"), exact("bucket/a*"), exact("*.tmp"), exact("bucket/*/private/*")}
	want, err := Classes(universe, patterns, 0)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 200 {
				got, err := Classes(universe, patterns, 0)
				if err == nil && !slices.EqualFunc(got, want, func(a, b Class) bool {
					return a.Witness == b.Witness && slices.Equal(a.Match, b.Match)
				}) {
					err = errors.New("classes differ between concurrent calls")
				}
				if err == nil {
					_, _, err = Covers(universe, patterns[:2], patterns[2:], 0)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
