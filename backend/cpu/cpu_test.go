package cpu_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"

	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/engines/fft"
)

func TestConformance(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		t.Run(map[int]string{1: "threads=1", 2: "threads=2", 3: "threads=3"}[threads], func(t *testing.T) {
			backendtest.Run(t, cpu.New(cpu.Options{Threads: threads}))
		})
	}
}

// TestMemoryRefusal: a state beyond the limit is refused before allocation
// with a message naming both sizes.
func TestMemoryRefusal(t *testing.T) {
	b := cpu.New(cpu.Options{MemLimit: 1 << 20})
	_, err := b.NewState(17, backend.Complex128) // 2 MiB
	if err == nil || !strings.Contains(err.Error(), "2.0 MiB") || !strings.Contains(err.Error(), "1.0 MiB") {
		t.Fatalf("NewState beyond the limit: %v", err)
	}
	if _, err := b.NewState(15, backend.Complex128); err != nil {
		t.Fatalf("NewState within the limit: %v", err)
	}
}

// TestThirtyQubits allocates a 30-qubit complex128 state (16 GiB), applies
// gates on the lowest and highest qubits and checks the marginals. It needs
// ~17 GiB free, so it runs only with MEC_TEST_BIG=1 (CI runs it on its own
// after the main suite, when nothing else holds memory).
func TestThirtyQubits(t *testing.T) {
	if os.Getenv("MEC_TEST_BIG") != "1" {
		t.Skip("set MEC_TEST_BIG=1 to run the 16 GiB test")
	}
	if avail := cpu.AvailableMemory(); avail < 17<<30 {
		t.Skipf("only %d MiB available: the 30-qubit test needs a 24 GiB machine", avail>>20)
	}
	b := cpu.New(cpu.Options{})
	st, err := b.NewState(30, backend.Complex128)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Free()
	h := circuit.Gate{Targets: []int{29}, Matrix: []complex128{complex(1/math.Sqrt2, 0), complex(1/math.Sqrt2, 0), complex(1/math.Sqrt2, 0), complex(-1/math.Sqrt2, 0)}}
	if err := st.Apply(&h); err != nil {
		t.Fatal(err)
	}
	cx := circuit.Gate{Targets: []int{0}, Controls: []int{29}, Matrix: []complex128{0, 1, 1, 0}}
	if err := st.Apply(&cx); err != nil {
		t.Fatal(err)
	}
	p, err := backend.Probabilities(st, []int{0, 29})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p[0]-0.5) > 1e-12 || math.Abs(p[3]-0.5) > 1e-12 || p[1] != 0 || p[2] != 0 {
		t.Errorf("Bell marginals on qubits 0,29 = %v", p)
	}
}

func TestSpectralConformance(t *testing.T) { backendtest.RunSpectral(t, cpu.New(cpu.Options{})) }

// TestSpectralConformancePlanned runs the spectral conformance suite with
// plans chosen by a measuring planner (kept in memory).
func TestSpectralConformancePlanned(t *testing.T) {
	backendtest.RunSpectral(t, cpu.New(cpu.Options{FFTPlanner: fft.NewPlanner("")}))
}

func TestSpikingConformance(t *testing.T) { backendtest.RunSpiking(t, cpu.New(cpu.Options{})) }
func TestPhaseConformance(t *testing.T)   { backendtest.RunPhase(t, cpu.New(cpu.Options{})) }
