// Package snapshot reads and writes snapshot files (format
// bucketgrant.snapshot/2, documented in docs/snapshot.md; version 1 files
// are still read): one JSON object holding the documents that decide
// principals' access to buckets, and the organization's SCPs and RCPs when
// they were read (org.go).
//
// Reading then writing a snapshot changes nothing: every object keeps the
// raw bytes it was read from (state.Source), and the writer re-emits only the
// members whose values changed, splicing them into the original text, so
// unknown members, member order, formatting and the form of each document
// (JSON object or JSON string) survive. It does not parse policies.
package snapshot
