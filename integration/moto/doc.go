// Package moto runs the built bucketgrant binary against moto
// (https://github.com/getmoto/moto), an AWS emulator this project did not
// write, so that live mode meets an independent reading of the AWS wire
// protocols and not only integration/awsfake, whose authors also wrote the
// tool.
//
// The package holds only tests (TestMoto*). TestMain starts one moto server
// (moto.server's own main, as `python3 -m moto.server` runs it) on a
// loopback port the kernel picks, for the whole run, and stops it at the
// end; the server also exits when the test binary dies. Every scenario is
// seeded through the AWS SDK for Go in accounts of its own, so the tests
// share the server and run in parallel; every document is read back
// through the SDK after every write, by a reader of the tests' own, and
// judged by the independent oracle (internal/trust). Each test talks to
// moto through a recording proxy of its own, which counts the API calls of
// every command; `go test -v` prints them, and where the time went, at the
// end.
//
// Where python3 cannot import moto the tests skip, saying how to enable them;
// BUCKETGRANT_REQUIRE_MOTO=1 (set by .ci/run) makes that a failure instead.
//
// moto differs from AWS in ways the tests meet. Each is worked around in the
// test code, with a comment where it is met, and never in the product:
//   - no signature check, and an access key moto never issued lands in its
//     default account 123456789012 (seed_test.go: bootstrap;
//     TestMotoWrongCredentials);
//   - AssumeRole needs no existing role and no trust policy, which is how
//     accounts are opened (seed_test.go: newAccount);
//   - no AWS managed policies unless told to load them (newAccount);
//   - GetPolicyVersion documents are not URL-encoded (readback_test.go:
//     iamDocument; TestMotoInlineLimit);
//   - new buckets have no default encryption or ownership controls until set
//     (seed_test.go: bucket);
//   - PutUserPermissionsBoundary is not implemented (seed_test.go: principal);
//   - no policy validation and no key policy lockout check (seed_test.go);
//   - another account's key answers NotFound instead of AccessDenied, and
//     ExpectedBucketOwner is ignored (TestMotoWrongCredentials);
//   - error answers close the connection (proxy_test.go).
//
// Two more do not reach any scenario: KeyManager is always CUSTOMER (so no
// scenario uses an AWS managed key), and user IDs are not AIDA-shaped (so
// none has orphaned unique IDs in a policy).
package moto
