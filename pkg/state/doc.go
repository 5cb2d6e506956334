// Package state holds the plain data the planner reads: the buckets, KMS keys
// and IAM principals that decide one principal's access to one bucket.
//
// It is filled either from live AWS (pkg/awsstate) or from a snapshot file
// (pkg/snapshot). Documents are kept as text, exactly as they were read, so
// an untouched document can be written back byte for byte; this package
// never parses policies (pkg/policy does) and makes no AWS calls.
package state
