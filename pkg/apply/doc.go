// Package apply writes a plan: it re-reads every document right before
// writing it and refuses a stale plan, backs up what it overwrites, writes
// in an order where every intermediate state is no less safe than the
// start, and verifies the result by reading it back. It applies exactly the
// plan it is given and never re-plans behind the user's back.
//
// Before the first write it also makes every write path's one limits check
// (pkg/limits, with the principal's other policies and the account's
// quotas where the store can tell them), and on a snapshot file it holds
// the file's lock (lock.go) from the first read to the save, so no other
// writer's save falls in between. Backups record whose each identity
// document is, so that any backup, a sync's included, can be rolled back.
package apply
