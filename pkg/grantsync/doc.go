// Package grantsync is `bucketgrant sync`: it keeps every grant of a grants
// file in place. It owns the grants file (grants.go), reading many targets
// once (through awsstate.MultiReader), planning every grant on one working
// copy and merging the changes into one plan that writes each document at
// most once (plan.go), pruning the tool's own stale statements (prune.go),
// splitting the work into shards that never share a document (shard.go),
// and the report (report.go).
//
// It plans with pkg/diff and writes with pkg/apply, grant by grant exactly
// as `apply` would; it never edits a statement the planner did not make,
// and prune removes only statements whose Sid bucketgrant derives. It does
// not render for terminals: the command line does that.
package grantsync
