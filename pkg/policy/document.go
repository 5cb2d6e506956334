package policy

import "errors"

// Kind says where a document lives, which decides what AWS accepts in it.
type Kind int

const (
	KindAny          Kind = iota // no placement checks
	KindIdentity                 // IAM identity policy or permissions boundary: no Principal, no Id needed
	KindBucketPolicy             // S3 bucket policy: Principal required
	KindKeyPolicy                // KMS key policy: Principal required
)

// Document is a parsed policy document. (being written: temporary)
type Document struct {
	version    string
	id         string
	statements []Statement
}

// Parse parses a policy document from its JSON text.
func Parse(data []byte, kind Kind) (*Document, error) { return nil, errors.New("not yet") }

// Version returns the Version member, "" when absent.
func (d *Document) Version() string { return d.version }

// ID returns the Id member, "" when absent.
func (d *Document) ID() string { return d.id }

// Statements returns the typed statements in document order.
func (d *Document) Statements() []Statement { return d.statements }
