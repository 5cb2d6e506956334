package awsstate

import (
	"fmt"
	"net/url"
	"strings"
)

// DecodeDocument turns a policy document as IAM returns it (RFC 3986
// URL-encoded) into its JSON text. It uses path-unescape rules on purpose:
// '+' stays '+' (url.QueryUnescape would turn it into a space, which corrupts
// documents such as "Resource": "arn:aws:s3:::a+b/*"); only %XX is decoded.
// Text that already starts with '{' is taken as decoded: AWS always encodes
// the opening brace (%7B), but some compatible servers send plain JSON, which
// may legitimately hold a '%' that must not be decoded.
func DecodeDocument(s string) (string, error) {
	if strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{") {
		return s, nil
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decode url-encoded policy document: %w", err)
	}
	return out, nil
}
