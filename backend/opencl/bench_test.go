package opencl_test

import (
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
)

// BenchmarkGate measures dense gates on 1–4 targets of a 22-qubit state
// (targets from qubit 6, above the run threshold).
func BenchmarkGate(b *testing.B) {
	sv := backendtest.Loaded(b, "opencl").(backend.StateVector)
	backendtest.BenchmarkGates(b, sv, 22, 6)
}
