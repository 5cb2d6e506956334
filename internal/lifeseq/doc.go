// Package lifeseq is the sequence test of a grant's life (issue 14, item
// 9): it generates random worlds (two or three principals, users with and
// without a path and roles; two or three buckets sharing keys; one or two
// accounts; long inline policies that push grants into managed policies;
// someone else's statement carrying a grant's Sid) and random sequences of
// the operations an operator runs over years (apply, revoke, rollback of an
// earlier step's backup, sync of a grants file with and without --prune and
// narrowing, re-keying a bucket, --drop-old-keys), runs each operation through the same code the binary runs on a
// snapshot file (snapshot.Load, diff.Make or diff.Revoke, apply.Apply on a
// StateStore, apply.ReadBackup and apply.RollbackPlan, grantsync.LoadFile
// and grantsync.Sync), and after every step checks the state against its
// own model of which grants stand:
//
//   - standing: every standing grant plans again to nothing, and every
//     request its access needs is allowed (each object class, the list,
//     the key);
//   - nothing new: no request of anyone (the principals, another user of
//     each account) is allowed that neither was allowed at the start nor a
//     standing grant explains (revoked grants give nothing);
//   - bytes kept: every statement that is not bucketgrant's keeps its
//     bytes, and every document that is not bucketgrant's is unchanged;
//   - outcome: every operation ends as the model expects (no unexpected
//     blocker or error; a refused operation writes nothing).
//
// The model is written from the documentation (docs/lifecycle.md,
// docs/grants.md), not from pkg/diff's reasoning. Requests are decided by
// bucketgrant's own evaluator and by the independent oracle
// (internal/oracle): the tests send it every request the Go evaluator finds
// wrong and a sample of the others, and report a violation only when the
// oracle agrees.
//
// Generation is seeded: sequence i of seed s is the same everywhere.
package lifeseq
