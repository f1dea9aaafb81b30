//go:build !unix

package secagg

import "time"

// processCPU is unavailable here; the cpu-ns/elem metric reads 0.
func processCPU() time.Duration { return 0 }
