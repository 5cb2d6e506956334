package awsstate

import "github.com/bucketgrant/bucketgrant/pkg/policy"

// DecodeDocument turns a policy document as IAM returns it (RFC 3986
// URL-encoded) into its JSON text; see policy.DecodeURLEncoded, which the
// readers and the writers share.
func DecodeDocument(s string) (string, error) { return policy.DecodeURLEncoded(s) }
