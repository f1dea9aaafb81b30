package fusion

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/prismai/mec/backend"
	_ "github.com/prismai/mec/backend/all"
	"github.com/prismai/mec/backend/cpu"
)

// TestCoupledPathMatchesHost runs the default scenario (and the same at 10
// qubits, where the fold and the kick have stride 16) twice on every
// loaded backend whose states implement backend.FusionCoupler: through the
// coupled path (fold, strided kick and statistics where the state lives)
// and through the readout path, which computes everything from a host copy
// of ψ. Metrics and the final state must agree to 1e-9 (relative to
// figures above 1: α ≈ 80 mV after the gradient exchange, whose central
// differences magnify rounding) over 30 steps
// (spike trains identical: both paths feed the network the same voltages up
// to rounding far below its thresholds' resolution).
func TestCoupledPathMatchesHost(t *testing.T) {
	for _, b := range backend.LoadedBackends() {
		sv, ok1 := b.(backend.StateVector)
		sp, ok2 := b.(backend.Spiking)
		ft, ok3 := b.(backend.Spectral)
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		for _, qubits := range []int{0, 10} {
			t.Run(fmt.Sprintf("%s/qubits=%d", b.Name(), qubits), func(t *testing.T) {
				eng := Engines{State: sv, Spiking: sp, Spectral: ft}
				var ms [2][]Metrics
				var psis, specs [2][]complex128
				for k, host := range []bool{false, true} {
					cfg := DefaultConfig()
					if qubits > 0 { // 2^10 amplitudes onto 64 neurons: stride 16
						cfg.Qubits, cfg.Hamiltonian = qubits, DefaultHamiltonian(qubits)
					}
					sys, err := New(cfg, eng)
					if err != nil {
						t.Fatal(err)
					}
					sys.hostPath = host
					if _, ok := sys.coupler(); !ok && !host {
						sys.Close()
						t.Skipf("%s: coupled path not available", b.Name())
					}
					for i := 0; i < 30; i++ {
						m, _, err := sys.Step(context.Background())
						if err != nil && m.Step == 0 {
							t.Fatal(err)
						}
						ms[k] = append(ms[k], m)
					}
					psis[k] = append([]complex128(nil), sys.Psi()...)
					specs[k] = append([]complex128(nil), sys.LastSpectrum()...)
					sys.Close()
				}
				spikes := 0.0
				for i := range ms[0] {
					a, h := ms[0][i], ms[1][i]
					spikes += a.RateHz
					for _, d := range []struct {
						name string
						x, y float64
					}{{"H_coh", a.HCoh, h.HCoh}, {"H_φ", a.HPhase, h.HPhase}, {"|Δφ|", a.PhaseDiff, h.PhaseDiff}, {"E_coh", a.ECoh, h.ECoh}, {"r", a.R, h.R},
						{"norm drift", a.NormDrift, h.NormDrift}, {"rate", a.RateHz, h.RateHz}, {"α", a.Alpha, h.Alpha}, {"γ", a.Gamma, h.Gamma}} {
						if math.Abs(d.x-d.y) > 1e-9*math.Max(1, math.Abs(d.x)) {
							t.Fatalf("step %d %s: coupled %v, host %v", i+1, d.name, d.x, d.y)
						}
					}
				}
				if spikes == 0 {
					t.Fatal("no spikes in 30 steps: the comparison would not exercise the kick")
				}
				for a := range psis[0] {
					if d := psis[0][a] - psis[1][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
						t.Fatalf("ψ[%d]: coupled %v, host %v", a, psis[0][a], psis[1][a])
					}
					if d := specs[0][a] - specs[1][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
						t.Fatalf("F[S][%d]: coupled %v, host %v", a, specs[0][a], specs[1][a])
					}
				}
			})
		}
	}
}

// complexOnly hides a backend's real transforms, so the spectra go
// through its complex ones.
type complexOnly struct{ backend.Spectral }

// TestRealSpectraMatchComplex runs the default scenario at 6 and 10 qubits
// (and at 10 through the host path) on every loaded
// backend with real transforms twice: the spectra of the real spike signal
// through backend.RealSpectral, and through the complex transforms.
// Metrics, ψ and F[S] must agree to 1e-9 over 30 steps.
func TestRealSpectraMatchComplex(t *testing.T) {
	for _, b := range backend.LoadedBackends() {
		sv, ok1 := b.(backend.StateVector)
		sp, ok2 := b.(backend.Spiking)
		ft, ok3 := b.(backend.RealSpectral)
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		for _, c := range []struct {
			qubits int
			host   bool
		}{{6, false}, {10, false}, {10, true}} {
			t.Run(fmt.Sprintf("%s/qubits=%d/host=%v", b.Name(), c.qubits, c.host), func(t *testing.T) {
				var ms [2][]Metrics
				var psis, specs [2][]complex128
				for k, spec := range []backend.Spectral{ft.(backend.Spectral), complexOnly{ft.(backend.Spectral)}} {
					cfg := DefaultConfig()
					cfg.Qubits, cfg.Hamiltonian = c.qubits, DefaultHamiltonian(c.qubits)
					sys, err := New(cfg, Engines{State: sv, Spiking: sp, Spectral: spec})
					if err != nil {
						t.Fatal(err)
					}
					sys.hostPath = c.host
					for i := 0; i < 30; i++ {
						m, _, err := sys.Step(context.Background())
						if err != nil {
							t.Fatal(err)
						}
						ms[k] = append(ms[k], m)
					}
					if kind := sys.Costs().Phase(PhaseFFT).FFTKind; kind != [2]string{"r2c128", "c128"}[k] {
						t.Errorf("run %d: fft kind %q", k, kind)
					}
					psis[k] = append([]complex128(nil), sys.Psi()...)
					specs[k] = append([]complex128(nil), sys.LastSpectrum()...)
					sys.Close()
				}
				spikes := 0.0
				for i := range ms[0] {
					a, h := ms[0][i], ms[1][i]
					spikes += a.RateHz
					for _, d := range [][2]float64{{a.HCoh, h.HCoh}, {a.Phase, h.Phase}, {a.ECoh, h.ECoh}, {a.R, h.R}, {a.NormDrift, h.NormDrift}, {a.RateHz, h.RateHz}} {
						if math.Abs(d[0]-d[1]) > 1e-9 {
							t.Fatalf("step %d: real %+v, complex %+v", i+1, a, h)
						}
					}
				}
				if spikes == 0 {
					t.Fatal("no spikes in 30 steps: the spectra would all be zero")
				}
				for a := range psis[0] {
					if d := psis[0][a] - psis[1][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
						t.Fatalf("ψ[%d]: real %v, complex %v", a, psis[0][a], psis[1][a])
					}
					if d := specs[0][a] - specs[1][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
						t.Fatalf("F[S][%d]: real %v, complex %v", a, specs[0][a], specs[1][a])
					}
				}
			})
		}
	}
}

// denseSpectrum is the reference F[S] the n-point identity replaced: MᵀS
// written out as D amplitudes (S tiled D/n times, or folded when D < n),
// its D-point complex transform on the spectral backend, normalised.
func denseSpectrum(spec backend.Spectral, dim int) func(sig []float64) ([]complex128, error) {
	return func(sig []float64) ([]complex128, error) {
		x := make([]complex128, dim)
		for a, v := range MapBack(sig, dim) {
			x[a] = complex(v, 0)
		}
		f, err := spec.NewFFT(dim, 1, backend.Complex128)
		if err != nil {
			return nil, err
		}
		defer f.Free()
		if err := f.Load(x); err != nil {
			return nil, err
		}
		if err := f.Forward(); err != nil {
			return nil, err
		}
		if err := f.Read(x); err != nil {
			return nil, err
		}
		normalize(x)
		return x, nil
	}
}

// TestSpectrumIdentityMatchesDense holds the n-point spectrum to the dense
// one it replaced: on every loaded backend, scenarios at 6, 10 and 11
// qubits (stride 1, 16 and 32 onto 64 neurons; with phase locking, and
// with voltage feedback) run 30 steps three ways — the coupled path and
// the host path, both with F[S] as the n-point spectrum at stride D/n,
// and the host path with the dense D-point F[S] of denseSpectrum — and
// metrics, ψ and F[S] must agree to 1e-9 (relative above 1).
func TestSpectrumIdentityMatchesDense(t *testing.T) {
	type scenario struct {
		qubits   int
		lock     bool
		feedback string
	}
	for _, b := range backend.LoadedBackends() {
		sv, ok1 := b.(backend.StateVector)
		sp, ok2 := b.(backend.Spiking)
		ft, ok3 := b.(backend.Spectral)
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		for _, c := range []scenario{{6, false, ""}, {10, false, ""}, {10, true, ""}, {11, true, "voltage"}} {
			t.Run(fmt.Sprintf("%s/qubits=%d/lock=%v/feedback=%s", b.Name(), c.qubits, c.lock, c.feedback), func(t *testing.T) {
				const (
					coupled = iota
					host
					dense
				)
				var ms [3][]Metrics
				var psis, specs [3][]complex128
				for k := range 3 {
					cfg := DefaultConfig()
					cfg.Qubits, cfg.Hamiltonian = c.qubits, DefaultHamiltonian(c.qubits)
					cfg.PhaseLock, cfg.Feedback = c.lock, c.feedback
					sys, err := New(cfg, Engines{State: sv, Spiking: sp, Spectral: ft})
					if err != nil {
						t.Fatal(err)
					}
					sys.hostPath = k != coupled
					if k == dense {
						sys.denseRef = denseSpectrum(ft, sys.dim)
					}
					if _, ok := sys.coupler(); k == coupled && !ok {
						sys.Close()
						t.Skipf("%s: coupled path not available", b.Name())
					}
					for i := 0; i < 30; i++ {
						m, _, err := sys.Step(context.Background())
						if err != nil {
							t.Fatal(err)
						}
						ms[k] = append(ms[k], m)
					}
					want := sys.n
					if k == dense {
						want = sys.dim
					}
					if n := sys.Costs().Phase(PhaseFFT).FFTLen; n != want {
						t.Errorf("run %d: transform of %d points, want %d", k, n, want)
					}
					psis[k] = append([]complex128(nil), sys.Psi()...)
					specs[k] = append([]complex128(nil), sys.LastSpectrum()...)
					sys.Close()
				}
				spikes := 0.0
				for _, k := range []int{coupled, host} {
					for i := range ms[dense] {
						a, h := ms[k][i], ms[dense][i]
						spikes += a.RateHz
						for _, d := range []struct {
							name string
							x, y float64
						}{{"H_coh", a.HCoh, h.HCoh}, {"H_φ", a.HPhase, h.HPhase}, {"φ", a.Phase, h.Phase}, {"E_coh", a.ECoh, h.ECoh}, {"r", a.R, h.R},
							{"norm drift", a.NormDrift, h.NormDrift}, {"rate", a.RateHz, h.RateHz}, {"α", a.Alpha, h.Alpha}, {"γ", a.Gamma, h.Gamma}} {
							if math.Abs(d.x-d.y) > 1e-9*math.Max(1, math.Abs(d.x)) {
								t.Fatalf("run %d step %d %s: %v, dense %v", k, i+1, d.name, d.x, d.y)
							}
						}
					}
					for a := range psis[dense] {
						if d := psis[k][a] - psis[dense][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
							t.Fatalf("run %d ψ[%d]: %v, dense %v", k, a, psis[k][a], psis[dense][a])
						}
						if d := specs[k][a] - specs[dense][a]; math.Hypot(real(d), imag(d)) > 1e-9 {
							t.Fatalf("run %d F[S][%d]: %v, dense %v", k, a, specs[k][a], specs[dense][a])
						}
					}
				}
				if spikes == 0 {
					t.Fatal("no spikes in 30 steps: the spectra would all be zero")
				}
			})
		}
	}
}

// TestPhaseLockPath: phase locking keeps the coupled path at every rate —
// small steps, a step near the quarter turn (c_ψ ≤ 0.05, scaled on the
// backend) and a saturated one — and the coupled and host paths agree on
// every metric to 1e-9 over ten steps.
func TestPhaseLockPath(t *testing.T) {
	be := cpu.New(cpu.Options{})
	for _, rate := range []float64{0.05, 0.5, 3} {
		var ms [2][]Metrics
		for k, host := range []bool{false, true} {
			cfg := DefaultConfig()
			cfg.Qubits, cfg.Hamiltonian = 8, DefaultHamiltonian(8)
			cfg.PhaseLock, cfg.PhaseLockRate = true, rate
			sys, err := New(cfg, Engines{State: be, Spiking: be, Spectral: be})
			if err != nil {
				t.Fatal(err)
			}
			sys.hostPath = host
			if _, ok := sys.coupler(); ok == host {
				t.Errorf("η = %v, host %v: coupled path %v", rate, host, ok)
			}
			for range 10 {
				m, _, err := sys.Step(context.Background())
				if err != nil {
					t.Fatalf("η = %v: %v", rate, err)
				}
				ms[k] = append(ms[k], m)
			}
			sys.Close()
		}
		for i := range ms[0] {
			a, h := ms[0][i], ms[1][i]
			for _, d := range [][2]float64{{a.HCoh, h.HCoh}, {a.Phase, h.Phase}, {a.ECoh, h.ECoh}, {a.NormDrift, h.NormDrift}, {a.HPhase, h.HPhase}, {a.R, h.R}} {
				if math.Abs(d[0]-d[1]) > 1e-9 {
					t.Fatalf("η = %v step %d: coupled %+v, host %+v", rate, i+1, a, h)
				}
			}
		}
	}
}
