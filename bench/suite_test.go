package bench

import (
	"context"
	"math"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim/simtest"
)

// TestQFT checks the QFT circuit against the DFT of a basis state:
// QFT|x⟩ = Σ_k e^{2πi·xk/N}|k⟩/√N (1e-12).
func TestQFT(t *testing.T) {
	const n, x = 5, 11
	c := QFT(n)
	pre := circuit.New(n)
	for q := 0; q < n; q++ {
		if x>>q&1 == 1 {
			pre.Append("x", nil, q)
		}
	}
	pre.Ops = append(pre.Ops, c.Ops...)
	v, err := simtest.StateVector(pre)
	if err != nil {
		t.Fatal(err)
	}
	N := float64(int(1) << n)
	for k, a := range v {
		s, co := math.Sincos(2 * math.Pi * x * float64(k) / N)
		if math.Hypot(real(a)-co/math.Sqrt(N), imag(a)-s/math.Sqrt(N)) > 1e-12 {
			t.Fatalf("amplitude %d = %v", k, a)
		}
	}
}

// TestGateSweepFigures runs the sweep on a small state: one figure per
// target, positive bandwidth, ratio consistent with the stream reference.
func TestGateSweepFigures(t *testing.T) {
	be := cpu.New(cpu.Options{})
	stream := Stream{InPlaceRW: 10}
	figs, err := gateSweep(context.Background(), be, "cpu", 12, backend.Complex64, []int{0, 6, 11}, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 3 {
		t.Fatalf("%d figures", len(figs))
	}
	for _, f := range figs {
		if !(f.Value > 0) || math.Abs(f.Ratio-f.Value/10) > 1e-12 || f.Unit != "GB/s" || f.Metrics["ms/gate"] <= 0 {
			t.Errorf("bad figure %+v", f)
		}
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	if _, err := Run(context.Background(), Config{Suites: []string{"nope"}, Backends: []backend.Backend{cpu.New(cpu.Options{})}}); err == nil {
		t.Error("unknown suite accepted")
	}
	if _, err := Run(context.Background(), Config{}); err == nil {
		t.Error("no backends accepted")
	}
}

// TestRunFFTQuick runs the quick FFT suite end to end.
func TestRunFFTQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("measures bandwidth and FFT timings (seconds)")
	}
	rep, err := Run(context.Background(), Config{Suites: []string{"fft"}, Quick: true, Backends: []backend.Backend{cpu.New(cpu.Options{})}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stream.InPlaceRW <= 0 || len(rep.Figures) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for _, f := range rep.Figures {
		if f.Suite != "fft" || !(f.Value > 0) {
			t.Errorf("bad figure %+v", f)
		}
	}
}
