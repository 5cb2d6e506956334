//go:build !unix

package lifeseq

import "time"

// cpuTime and childrenCPU are not measured here.
func cpuTime() time.Duration     { return 0 }
func childrenCPU() time.Duration { return 0 }
