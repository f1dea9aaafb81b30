package opencl

import (
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
)

// TestBuildErrorHasLog compiles a broken kernel: the error must carry the
// compiler's build log, not just CL_BUILD_PROGRAM_FAILURE.
func TestBuildErrorHasLog(t *testing.T) {
	var b *Backend
	for _, r := range backend.Init() {
		if r.Name == "opencl" && r.Status == backend.Loaded {
			b = r.Backend.(*Backend)
		}
	}
	if b == nil {
		t.Skip("opencl not loaded")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.build("__kernel void broken(__global float *x) { x[0] = undeclared_name; }", "-cl-std=CL1.2")
	if err == nil {
		t.Fatal("a kernel using an undeclared name compiled")
	}
	if msg := err.Error(); !strings.Contains(msg, "CL_BUILD_PROGRAM_FAILURE") || !strings.Contains(msg, "build log") || !strings.Contains(msg, "undeclared_name") {
		t.Fatalf("build error without the compiler's log: %v", err)
	}
}
