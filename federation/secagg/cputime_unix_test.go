//go:build unix

package secagg

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of the process so far; benchmarks
// report it per element next to wall time because the build machines are
// shared and wall time there varies several-fold with load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
