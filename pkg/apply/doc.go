// Package apply writes a plan: it re-reads every document right before
// writing it and refuses a stale plan, backs up what it overwrites, writes
// in an order where every intermediate state is no less safe than the
// start, and verifies the result by reading it back. It applies exactly the
// plan it is given and never re-plans behind the user's back.
package apply
