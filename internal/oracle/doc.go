// Package oracle runs @cloud-copilot/iam-simulate, pinned in oracle/ at the
// repository root, as an independent test oracle for pkg/policy.
//
// It starts one long-lived Node.js process (node oracle/simulate.mjs), streams
// cases to it as JSON lines and reads one decision per case. It is for tests
// only: nothing in the bucketgrant binary may import it, and it must not
// copy anything from the oracle's (AGPL) source or test data, only call it.
package oracle
