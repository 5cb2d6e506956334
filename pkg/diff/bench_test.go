package diff_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// BenchmarkPlan times planning one grant: the two seed examples, and the
// cross-account example with a 20 KB bucket policy and a 32 KB key policy
// (every statement evaluated for every request).
func BenchmarkPlan(b *testing.B) {
	large := func(st *state.State) {
		st.Buckets[0].Policy = state.NewDoc(filled(19000, func(i int) string {
			return fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/r%d"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET/team%d/*","arn:aws:s3:::DOC-EXAMPLE-BUCKET"],"Condition":{"StringLike":{"s3:prefix":["team%d/*"]}}}`, i, i, i, i)
		}))
		st.Keys[0].Policy = state.NewDoc(filled(31000, func(i int) string {
			if i == 0 {
				return `{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"}`
			}
			return fmt.Sprintf(`{"Sid":"K%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/app%d"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}`, i, i)
		}))
	}
	for _, bc := range []struct {
		name string
		snap string
		edit func(*state.State)
	}{
		{"same-account", sameSnap, nil},
		{"cross-account", crossSnap, nil},
		{"cross-account-20KB-bucket-32KB-key", crossSnap, large},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := load(&testing.T{}, bc.snap)
			if bc.edit != nil {
				bc.edit(st)
			}
			o := diff.Options{Principal: jane, Bucket: bucket}
			if _, err := diff.Make(st, o); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := diff.Make(st, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanCold is BenchmarkPlan's large case with documents no plan
// has read before: each iteration's policies differ by one Sid, so every
// plan parses them and builds their indexes, as a single run of the
// command does. (BenchmarkPlan reuses them across iterations, as a sync
// run of many grants on one bucket and key does.)
func BenchmarkPlanCold(b *testing.B) {
	st := load(&testing.T{}, crossSnap)
	o := diff.Options{Principal: jane, Bucket: bucket}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		st.Buckets[0].Policy = state.NewDoc(filled(19000, func(i int) string {
			return fmt.Sprintf(`{"Sid":"S%d_%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/r%d"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET/team%d/*","arn:aws:s3:::DOC-EXAMPLE-BUCKET"],"Condition":{"StringLike":{"s3:prefix":["team%d/*"]}}}`, i, n, i, i, i)
		}))
		st.Keys[0].Policy = state.NewDoc(filled(31000, func(i int) string {
			if i == 0 {
				return fmt.Sprintf(`{"Sid":"Root%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:root"},"Action":"kms:*","Resource":"*"}`, n)
			}
			return fmt.Sprintf(`{"Sid":"K%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/app%d"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}`, i, i)
		}))
		if _, err := diff.Make(st, o); err != nil {
			b.Fatal(err)
		}
	}
}

// filled builds a policy of statements from gen, up to about size bytes.
func filled(size int, gen func(i int) string) string {
	var parts []string
	n := len(`{"Version":"2012-10-17","Statement":[]}`)
	for i := 0; ; i++ {
		s := gen(i)
		if n+len(s)+1 > size {
			break
		}
		parts = append(parts, s)
		n += len(s) + 1
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(parts, ",") + `]}`
}
