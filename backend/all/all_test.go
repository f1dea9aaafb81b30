package all_test

import (
	"os"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	_ "github.com/prismai/mec/backend/all"
	"github.com/prismai/mec/backend/backendtest"
)

// TestRequiredBackends fails when a backend named in REQUIRE_BACKENDS
// (comma-separated) did not load, so CI machines that should have a backend
// can never skip it silently. The CPU is always required.
func TestRequiredBackends(t *testing.T) {
	want := []string{"cpu"}
	if v := os.Getenv("REQUIRE_BACKENDS"); v != "" {
		want = append(want, strings.Split(v, ",")...)
	}
	res := backend.Init()
	for _, name := range want {
		found := false
		for _, r := range res {
			if r.Name == name {
				found = true
				if r.Status != backend.Loaded {
					t.Errorf("required backend %s is %s: %s", name, r.Status, r.Reason)
				}
			}
		}
		if !found {
			t.Errorf("required backend %s is not registered", name)
		}
	}
	for _, r := range res {
		t.Logf("%-8s %-8s %s%s", r.Name, r.Status, r.Device, r.Reason)
	}
}

// TestConformanceAllLoaded runs the conformance suite against every loaded
// backend with the StateVector capability.
func TestConformanceAllLoaded(t *testing.T) {
	for _, b := range backend.LoadedBackends() {
		sv, ok := b.(backend.StateVector)
		if !ok {
			continue
		}
		t.Run(b.Name(), func(t *testing.T) { backendtest.Run(t, sv) })
		t.Run(b.Name()+"/fusion-coupler", func(t *testing.T) { backendtest.RunFusionCoupler(t, sv) })
	}
}

// TestEngineConformanceAllLoaded runs the spectral, spiking and phase
// suites against every loaded backend with those capabilities.
func TestEngineConformanceAllLoaded(t *testing.T) {
	for _, b := range backend.LoadedBackends() {
		if sp, ok := b.(backend.Spectral); ok {
			t.Run(b.Name()+"/spectral", func(t *testing.T) { backendtest.RunSpectral(t, sp) })
		}
		if sp, ok := b.(backend.Spiking); ok {
			t.Run(b.Name()+"/spiking", func(t *testing.T) { backendtest.RunSpiking(t, sp) })
		}
		if ph, ok := b.(backend.Phase); ok {
			t.Run(b.Name()+"/phase", func(t *testing.T) { backendtest.RunPhase(t, ph) })
		}
	}
}
