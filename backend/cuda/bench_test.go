package cuda_test

import (
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
)

// BenchmarkGate measures dense gates on 1–4 targets of a 26-qubit state.
func BenchmarkGate(b *testing.B) {
	sv := backendtest.Loaded(b, "cuda").(backend.StateVector)
	backendtest.BenchmarkGates(b, sv, 26, 4)
}
