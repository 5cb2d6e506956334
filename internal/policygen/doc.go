// Package policygen generates random, valid AWS policy documents and requests
// for differential tests of pkg/policy against the oracle (internal/oracle),
// and shrinks a failing case to a minimal one.
//
// Generation is seeded and reproducible: case i of seed s is the same on
// every run and machine. The universe is small on purpose (three accounts, two
// users, two roles, two buckets, two keys, a dozen condition keys) so that
// statements match requests often. Everything it emits stays inside forms the
// oracle evaluates like AWS does; see pkg/policy/differential_test.go for the
// list of exclusions and why.
package policygen
