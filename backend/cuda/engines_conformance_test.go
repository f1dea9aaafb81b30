package cuda_test

import (
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
)

// loaded returns the loaded CUDA backend or skips with its reason (as
// cuda does).
func loaded(t *testing.T) backend.Backend {
	t.Helper()
	r := cudaResult(t)
	if r.Status != backend.Loaded {
		t.Skipf("cuda %s: %s", r.Status, r.Reason)
	}
	t.Logf("cuda: %s", r.Device)
	return r.Backend
}

func TestFusionCouplerConformance(t *testing.T) {
	backendtest.RunFusionCoupler(t, cuda(t))
}

func TestSpectralConformance(t *testing.T) {
	sp, ok := loaded(t).(backend.Spectral)
	if !ok {
		t.Fatal("cuda backend lacks the Spectral capability")
	}
	backendtest.RunSpectral(t, sp)
}

func TestPhaseConformance(t *testing.T) {
	ph, ok := loaded(t).(backend.Phase)
	if !ok {
		t.Fatal("cuda backend lacks the Phase capability")
	}
	backendtest.RunPhase(t, ph)
}

func TestSpikingConformance(t *testing.T) {
	sp, ok := loaded(t).(backend.Spiking)
	if !ok {
		t.Fatal("cuda backend lacks the Spiking capability")
	}
	backendtest.RunSpiking(t, sp)
}

// TestCapabilities: a loaded CUDA backend lists every engine.
func TestCapabilities(t *testing.T) {
	b := loaded(t)
	got := map[string]bool{}
	for _, c := range backend.Capabilities(b) {
		got[c] = true
	}
	for _, c := range []string{"statevector", "spectral", "spiking", "phase"} {
		if !got[c] {
			t.Errorf("capability %s missing (have %v)", c, backend.Capabilities(b))
		}
	}
}
