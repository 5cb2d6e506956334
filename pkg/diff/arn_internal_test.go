package diff

import (
	"strings"
	"testing"
)

// TestARNPartsAsSplitN checks accountOf and partitionOf, which split
// without allocating, against strings.SplitN, which they replace.
func TestARNPartsAsSplitN(t *testing.T) {
	for _, s := range []string{
		"", ":", "arn", "arn:aws", "arn:aws:iam::111122223333", "arn:aws:iam::111122223333:",
		"arn:aws:iam::111122223333:user/Jane", "arn::iam::111122223333:root", "arn:aws-cn:s3:::b/k:with:colons",
		"arn:aws:sts::111122223333:assumed-role/R/s", ":::::", "a:b:c:d:e:f:g", "no colons at all",
	} {
		parts := strings.SplitN(s, ":", 6)
		wantAcct, wantPart := "", "aws"
		if len(parts) == 6 {
			wantAcct = parts[4]
			if parts[1] != "" {
				wantPart = parts[1]
			}
		}
		if got := accountOf(s); got != wantAcct {
			t.Errorf("accountOf(%q) = %q, SplitN gives %q", s, got, wantAcct)
		}
		if got := partitionOf(s); got != wantPart {
			t.Errorf("partitionOf(%q) = %q, SplitN gives %q", s, got, wantPart)
		}
	}
}
