//go:build race

package moto

import "os"

// raceBinary says whether the binary under test is built with -race too.
// Only when BUCKETGRANT_RACE_BINARY=1 (make test-race): every run of a
// race-built binary costs several times the CPU of a plain one, and the
// hundreds of runs here would take most of make test's budget on two
// cores. The product's code still runs under the detector in make test:
// in-process in the tests of cmd/bucketgrant and of every package.
func raceBinary() bool { return os.Getenv("BUCKETGRANT_RACE_BINARY") == "1" }
