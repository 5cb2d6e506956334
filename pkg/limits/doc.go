// Package limits is the one check of the limits AWS enforces on what
// bucketgrant writes: key policy and bucket policy size, managed policy
// size, the inline policies of a user, group or role together, the managed
// policies attached to a user or role, and policy name length (IAM's,
// KMS's and S3's quotas; the account's own where IAM reports them through
// GetAccountSummary, else AWS's defaults).
//
// Every write path (apply, revoke, rollback, sync and its prune) calls
// Check on the state before and after its write, before writing anything,
// so that a write AWS would refuse halfway through is refused whole, with
// what to do. A write that does not make a document or a total larger is
// never refused: removing access must always be possible.
//
// It knows nothing of plans or AWS calls: it reads pkg/state values only,
// so the planner, the applier and sync can all use it.
package limits
