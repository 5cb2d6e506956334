package main

import (
	"fmt"
	"regexp"
	"strings"
)

// AWS's access-denied messages, as users paste them:
//
//	User: arn:aws:iam::111122223333:user/Jane is not authorized to perform:
//	kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789098:key/… because …
//
// S3 and KMS both use this form (with "on resource:" or "on resource"); the
// text may be wrapped over lines or quoted.
var deniedPattern = regexp.MustCompile(`User:\s*(arn:[^\s"']+)\s+is not authorized to perform:?\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)(?:\s+on resource:?\s*"?(arn:[^\s"']+))?`)

// fromError fills the selection from a pasted access-denied message and
// says what it understood.
func fromError(sel *selection, text string, s *streams) error {
	m := deniedPattern.FindStringSubmatch(strings.Join(strings.Fields(text), " "))
	if m == nil {
		return usagef("--from-error: no \"User: ARN is not authorized to perform: ACTION on resource: ARN\" in the text")
	}
	principal, action, resource := m[1], m[2], strings.TrimRight(m[3], ".,;")
	if sel.Principal == "" {
		sel.Principal = principal
	}
	var understood []string
	understood = append(understood, "principal "+principal, "action "+action)
	switch {
	case strings.HasPrefix(resource, "arn:aws:s3:::"), strings.HasPrefix(resource, "arn:aws-cn:s3:::"), strings.HasPrefix(resource, "arn:aws-us-gov:s3:::"):
		bucket := resource[strings.Index(resource, ":::")+3:]
		bucket, _, _ = strings.Cut(bucket, "/")
		if sel.Bucket == "" {
			sel.Bucket = bucket
		}
		understood = append(understood, "bucket "+bucket)
	case strings.Contains(resource, ":kms:"):
		understood = append(understood, "key "+resource)
		if sel.Bucket == "" {
			return usagef("--from-error: the message names the key %s but no bucket; add --bucket NAME", resource)
		}
	}
	fmt.Fprintf(s.err, "From the error: %s.\n", strings.Join(understood, ", "))
	if strings.HasPrefix(action, "kms:") || strings.HasPrefix(action, "s3:") {
		return nil
	}
	return usagef("--from-error: %s is neither an S3 nor a KMS action; bucketgrant fixes S3 and KMS access only", action)
}
