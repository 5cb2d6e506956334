package policy

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkAppendStatements appends bucketgrant's KMS statement to a clone
// of a 44 KB key policy, as a plan does, and takes the text as the plan
// does; parse is the appended statement's share.
func BenchmarkAppendStatements(b *testing.B) {
	var parts []string
	for i := range 230 {
		parts = append(parts, fmt.Sprintf(`{"Sid":"K%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789098:role/app%d"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}`, i, i))
	}
	d := MustParse(`{"Version":"2012-10-17","Statement":[`+strings.Join(parts, ",")+`]}`, KindKeyPolicy)
	stmt := []byte(`{"Sid":"BucketGrantKms13bd8deacf","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/Jane"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}`)
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseFragment(stmt, kindObject); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := d.Clone()
			if err := c.AppendStatements(stmt); err != nil {
				b.Fatal(err)
			}
			_ = c.String()
		}
	})
}
