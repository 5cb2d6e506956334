// Package moto runs the built bucketgrant binary against moto
// (https://github.com/getmoto/moto), an AWS emulator this project did not
// write, so that live mode meets an independent reading of the AWS wire
// protocols and not only integration/awsfake, whose authors also wrote the
// tool.
//
// The package holds only tests (TestMoto*). TestMain starts one moto server
// (`python3 -m moto.server`) on a free loopback port for the whole run and
// stops it at the end. Every scenario is seeded through the AWS SDK for Go,
// in accounts of its own, and every document is read back through the SDK
// after every write and judged by the independent oracle (internal/trust).
// Each test talks to moto through a recording proxy of its own, which counts
// the API calls of every command.
//
// Where python3 cannot import moto the tests skip, saying how to enable them;
// BUCKETGRANT_REQUIRE_MOTO=1 (set by .ci/run) makes that a failure instead.
// Known differences between moto and AWS are worked around in the tests,
// each one commented where it is met; none is worked around in the product.
package moto
