package policy

// WithoutIndex returns a copy of d that evaluation scans statement by
// statement, as it did before the index (index.go): tests compare the two.
func WithoutIndex(d *Document) *Document {
	if d == nil {
		return nil
	}
	c := *d
	c.idx = nil
	return &c
}
