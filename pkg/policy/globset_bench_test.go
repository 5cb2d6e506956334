package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// benchStatements returns the Resource lists of a bucket policy of about
// 20 KB as teams write them: a prefix per team, home folders, exact
// objects, log folders by year, the bucket itself, other buckets; a few
// denies with wildcards inside. With suffixes, each Allow statement also
// names one "*/export-N.csv" pattern, which no real policy does: every
// prefix then combines with every suffix, the worst case for Classes.
func benchStatements(tb testing.TB, suffixes bool) (allow, deny [][]string, policyBytes int) {
	tb.Helper()
	const bucket = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
	var b strings.Builder
	deny = [][]string{{bucket + "/secret/*"}, {bucket + "/*.tmp", bucket + "/*/private/*"}, {"arn:aws:s3:::other-bucket-1/*"}}
	for _, d := range deny {
		fmt.Fprintf(&b, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["%s"]},`, strings.Join(d, `","`))
	}
	for i := 0; b.Len() < 20*1024-300; i++ {
		var res []string
		switch i % 5 {
		case 0, 1:
			res = []string{fmt.Sprintf("%s/team%d/*", bucket, i), fmt.Sprintf("%s/shared/team%d/*", bucket, i)}
		case 2:
			res = []string{fmt.Sprintf("arn:aws:s3:::other-bucket-%d/*", i), fmt.Sprintf("arn:aws:s3:::other-bucket-%d", i)}
		case 3:
			res = []string{fmt.Sprintf("%s/home/user%d/*", bucket, i), fmt.Sprintf("%s/config/app%d.json", bucket, i)}
		case 4:
			res = []string{fmt.Sprintf("%s/logs/%04d/??/*", bucket, 2000+i), bucket}
		}
		if suffixes {
			res = append(res, fmt.Sprintf("%s/*/export-%d.csv", bucket, i))
		}
		fmt.Fprintf(&b, `{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/R%d"},"Action":"s3:GetObject","Resource":["%s"]},`,
			i, i, strings.Join(res, `","`))
		allow = append(allow, res)
	}
	return allow, deny, b.Len()
}

func compileAll(values []string) []Pattern {
	out := make([]Pattern, len(values))
	for i, v := range values {
		out[i] = CompileGlob(v, false)
	}
	return out
}

// loopCPU runs fn b.N times and reports the process CPU time per call as
// cpu-ns/op.
func loopCPU(b *testing.B, fn func()) {
	b.ReportAllocs()
	c0 := processCPU()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	if c := processCPU() - c0; c > 0 && n > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

func compileGroups(groups [][]string) [][]Pattern {
	out := make([][]Pattern, len(groups))
	for i, g := range groups {
		out[i] = compileAll(g)
	}
	return out
}

func BenchmarkGlobSet(b *testing.B) {
	allowText, denyText, size := benchStatements(b, false)
	allowGroups, denyGroups := compileGroups(allowText), compileGroups(denyText)
	statements := append(append([][]Pattern(nil), allowGroups...), denyGroups...)
	var allow, deny, all []Pattern
	for _, g := range allowGroups {
		allow = append(allow, g...)
	}
	for _, g := range denyGroups {
		deny = append(deny, g...)
	}
	all = append(append(all, allow...), deny...)
	whole := CompileGlob("arn:aws:s3:::DOC-EXAMPLE-BUCKET/?*", false)
	reports := CompileGlob("arn:aws:s3:::DOC-EXAMPLE-BUCKET/team7/*", false)
	b.Logf("%d statements, %d patterns, %d bytes", len(statements), len(all), size)

	for _, u := range []struct {
		name     string
		universe Pattern
	}{{"whole bucket", whole}, {"prefix", reports}} {
		byPattern, err := Classes(u.universe, all, 0)
		if err != nil {
			b.Fatal(err)
		}
		byStatement, err := GroupClasses(u.universe, statements, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d classes by pattern, %d by statement", u.name, len(byPattern), len(byStatement))
		b.Run("Classes/"+u.name, func(b *testing.B) {
			loopCPU(b, func() { Classes(u.universe, all, 0) })
		})
		b.Run("GroupClasses/"+u.name, func(b *testing.B) {
			loopCPU(b, func() { GroupClasses(u.universe, statements, 0) })
		})
		b.Run("Covers/"+u.name, func(b *testing.B) {
			loopCPU(b, func() { Covers(u.universe, allow, deny, 0) })
		})
	}
	// The planner's use: the statements that can apply to one principal
	// and action (its own Allow and the denies naming "*"), by statement.
	relevant := append([][]Pattern{allowGroups[7]}, denyGroups...)
	for _, u := range []struct {
		name     string
		universe Pattern
	}{{"whole bucket", whole}, {"prefix", reports}} {
		classes, err := GroupClasses(u.universe, relevant, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("relevant statements, %s: %d classes", u.name, len(classes))
		b.Run("GroupClasses/relevant statements/"+u.name, func(b *testing.B) {
			loopCPU(b, func() { GroupClasses(u.universe, relevant, 0) })
		})
	}

	p := CompileGlob("arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/*", false)
	if ok, _, err := Subset(whole, p, 0); ok || err != nil {
		b.Fatal(ok, err)
	}
	b.Run("Subset/two patterns", func(b *testing.B) {
		loopCPU(b, func() { Subset(whole, p, 0) })
	})
	b.Run("Compile", func(b *testing.B) {
		loopCPU(b, func() {
			for _, g := range allowText {
				compileAll(g)
			}
		})
	})

	// The worst case: every prefix with every suffix. Covers still
	// decides; Classes reaches the default limit and says so.
	allowText, _, _ = benchStatements(b, true)
	var worst []Pattern
	for _, g := range compileGroups(allowText) {
		worst = append(worst, g...)
	}
	if _, err := Classes(whole, worst, 0); !errors.Is(err, ErrStateLimit) {
		b.Fatalf("Classes over prefixes × suffixes: %v, want ErrStateLimit", err)
	}
	b.Run("Classes/prefixes x suffixes, to the limit", func(b *testing.B) {
		loopCPU(b, func() { Classes(whole, worst, 0) })
	})
	b.Run("Covers/prefixes x suffixes", func(b *testing.B) {
		loopCPU(b, func() { Covers(whole, worst, deny, 0) })
	})
}
