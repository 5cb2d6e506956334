package policy

import "bytes"

// StatementText returns the JSON text of statement i as it stands in the
// document (nil when there is no such statement). Edits keep the text of
// every statement they do not change, so callers can prove that a
// statement survived a change byte for byte.
func (d *Document) StatementText(i int) []byte {
	n, err := d.statementNode(i)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	n.write(&buf)
	return buf.Bytes()
}
