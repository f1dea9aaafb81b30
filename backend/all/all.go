// Package all registers every backend mec ships. Import it for its side
// effect: _ "github.com/prismai/mec/backend/all".
package all

import (
	_ "github.com/prismai/mec/backend/cpu"    // the CPU backend, always present
	_ "github.com/prismai/mec/backend/opencl" // OpenCL through libOpenCL.so.1, when a device is present
)
