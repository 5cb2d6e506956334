//go:build unix

package policy

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used. On a shared
// machine wall-clock ns/op mostly measures the other tenants; the
// benchmarks report CPU time per operation beside it.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
