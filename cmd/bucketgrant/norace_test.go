//go:build !race

package main

// raceBinary: without the detector in the tests, the binary is plain too
// (a race build could not reuse this test binary's packages).
func raceBinary() bool { return false }
