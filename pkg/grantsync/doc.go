// Package grantsync is `bucketgrant sync`: it keeps every grant of a grants
// file in place. It owns the grants file (grants.go), reading many targets
// once (through awsstate.MultiReader), pruning the tool's own statements of
// grants that left the file or were narrowed in it, on the buckets the file
// names (prune.go; which grant a Sid belongs to and whether the statement
// is the tool's, own.go), planning every grant on the pruned working copy
// and merging the changes into one plan that writes each document at most
// once (plan.go), splitting the work into shards that never share a
// document (shard.go), and the report (report.go).
//
// It plans with pkg/diff and writes with pkg/apply, grant by grant exactly
// as `apply` would; it never edits a statement the planner did not make,
// and prune changes only statements owns says are bucketgrant's. It does
// not render for terminals: the command line does that.
package grantsync
