package opencl_test

import (
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	_ "github.com/prismai/mec/backend/opencl"
)

// openCL returns the loaded OpenCL backend or skips with its reason (the
// all package's TestRequiredBackends turns that skip into a failure where
// REQUIRE_BACKENDS names opencl).
func openCL(t *testing.T) backend.Backend {
	t.Helper()
	for _, r := range backend.Init() {
		if r.Name == "opencl" {
			if r.Status != backend.Loaded {
				t.Skipf("opencl %s: %s", r.Status, r.Reason)
			}
			t.Logf("opencl: %s", r.Device)
			return r.Backend
		}
	}
	t.Fatal("opencl driver not registered")
	return nil
}

func TestConformance(t *testing.T) {
	b := openCL(t)
	backendtest.Run(t, b.(backend.StateVector))
}

func TestSpectralConformance(t *testing.T) {
	b := openCL(t)
	backendtest.RunSpectral(t, b.(backend.Spectral))
}
