package bench

import (
	"context"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/internal/peers/peertest"
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

// TestRunFFTQuick runs the quick FFT suite end to end on the CPU backend:
// every kind on 1 thread at 2^6, 2^10, 2^16 and 2^20, on GOMAXPROCS threads
// only at 2^20 (the smaller lengths are too small to split, and a note says
// so), each against FFTW's same kind on the same threads when the peer is
// built. The transforms are planned by measuring, with the cache file in
// the user cache folder (here a temporary one): the rows say "planned" and
// the file holds the choices afterwards.
func TestRunFFTQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("measures bandwidth and FFT timings (seconds)")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cache, err := fft.DefaultPlannerPath()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Config{Suites: []string{"fft"}, Quick: true, Backends: []backend.Backend{cpu.New(cpu.Options{})}})
	if err != nil {
		t.Fatal(err)
	}
	multi := runtime.GOMAXPROCS(0) > 1
	want := 4 * 4
	if multi {
		want += 4
		if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "too small to split") {
			t.Errorf("skipped %q, want the too-small-to-split note", rep.Skipped)
		}
	}
	if len(rep.Figures) != want {
		t.Fatalf("%d figures, want %d: %+v", len(rep.Figures), want, rep.Figures)
	}
	_, peerErr := FFTW("r2c64", 1, []int{6})
	for _, f := range rep.Figures {
		if f.Suite != "fft" || !(f.Value > 0) {
			t.Errorf("bad figure %+v", f)
		}
		if !strings.Contains(f.Workload, "/planned/") {
			t.Errorf("%s: the row does not say its plans are measured", f.Workload)
		}
		if !strings.HasSuffix(f.Workload, "/threads=1") && !strings.Contains(f.Workload, "/n=2^20/") {
			t.Errorf("%s: a multi-thread row below the split length", f.Workload)
		}
		if peerErr == nil && (f.RatioUnit != "x_fftw" || !(f.Ratio > 0)) {
			t.Errorf("%s: no ratio to FFTW although the peer is built", f.Workload)
		}
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("no measured plans in the cache file: %v", err)
	}
}

// TestFFTW reads every kind from the FFTW peer and checks that its lengths
// are the ones asked for and that the times grow with n.
func TestFFTW(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the FFTW peer")
	}
	if _, err := FFTW("bogus", 1, []int{6}); err == nil {
		t.Error("unknown kind accepted")
	}
	for _, kind := range FFTKinds {
		m, err := FFTW(kind, 1, []int{6, 7, 8})
		peertest.Require(t, err)
		if len(m) != 3 || !(m[64] > 0) || !(m[256] > m[64]) {
			t.Errorf("%s: %v", kind, m)
		}
	}
}

// TestFusionFigures: a step's figure is its rate against the bandwidth
// bound of all its passes; each phase with state traffic is against the
// bound of its own passes, the transform against the reference's time,
// the neuron-sized phases have no reference.
func TestFusionFigures(t *testing.T) {
	costs := fusion.Costs{Steps: 2, Phases: []fusion.PhaseCost{
		{Phase: fusion.PhaseTrotter, MsPerStep: 8, BytesPerStep: 40e6, Passes: 10},
		{Phase: fusion.PhaseFold, MsPerStep: 1, BytesPerStep: 2e6, Passes: 1},
		{Phase: fusion.PhaseSpiking, MsPerStep: 0.5},
		{Phase: fusion.PhaseFFT, MsPerStep: 0.01, FFTLen: 64, FFTKind: "c128"},
		{Phase: fusion.PhaseKick, MsPerStep: 0.01},
		{Phase: fusion.PhaseStats, MsPerStep: 0.48, BytesPerStep: 6e6, Passes: 2},
	}}
	// 10 GB/s, and a 2 µs reference transform of 64 points.
	costs = costs.WithBounds(10e9, func(kind string, n int) (float64, string) {
		if kind == "c128" && n == 64 {
			return 2000, "FFTW"
		}
		return 0, ""
	})
	figs := fusionFigures("cpu", "steps/qubits=20", 0.01, costs, Stream{InPlaceRW: 10, Source: "go", BufferMiB: 16})
	if len(figs) != 7 {
		t.Fatalf("%d figures", len(figs))
	}
	// 48 MB at 10 GB/s: a 4.8 ms bound for a 10 ms step.
	if f := figs[0]; f.Value != 100 || math.Abs(f.Ratio-0.48) > 1e-12 || f.RatioUnit != "x_stream" || math.Abs(f.Metrics["time/bound"]-1/0.48) > 1e-12 {
		t.Errorf("step figure %+v", f)
	}
	if f := figs[1]; f.Workload != "steps/qubits=20/phase=trotter" || math.Abs(f.Ratio-0.5) > 1e-12 || f.Metrics["GB/s"] != 5 {
		t.Errorf("trotter figure %+v", f)
	}
	if f := figs[3]; f.RatioUnit != "" || f.Ref != "" {
		t.Errorf("spiking figure has a reference: %+v", f)
	}
	if f := figs[4]; f.RatioUnit != "x_fftw" || f.Ref != "FFTW" || math.Abs(f.Ratio-5) > 1e-12 || f.Metrics["bound_ms"] != 0.002 {
		t.Errorf("fft figure %+v", f)
	}
	if f := figs[6]; math.Abs(f.Ratio-1.25) > 1e-12 || math.Abs(f.Metrics["time/bound"]-0.8) > 1e-12 {
		t.Errorf("statistics figure %+v", f)
	}
}
