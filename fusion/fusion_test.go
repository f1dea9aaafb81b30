package fusion_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/telemetry"
)

func engines() fusion.Engines {
	b := cpu.New(cpu.Options{})
	return fusion.Engines{State: b, Spiking: b, Spectral: b}
}

func randVec(rng *rand.Rand, d int) []complex128 {
	v := make([]complex128, d)
	for i := range v {
		v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	return v
}

// TestGradientMatchesFiniteDifferences checks ∇E_coh against central
// differences of E_coh in every real and imaginary direction (1e-6).
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 5; trial++ {
		psi, f := randVec(rng, 16), randVec(rng, 16)
		lc := 0.3 + rng.Float64()
		g := fusion.Gradient(psi, f, lc)
		const h = 1e-6
		for a := range psi {
			for _, dir := range []complex128{1, 1i} {
				p, m := append([]complex128(nil), psi...), append([]complex128(nil), psi...)
				p[a] += dir * h
				m[a] -= dir * h
				fd := (fusion.CoherenceEnergy(p, f, lc) - fusion.CoherenceEnergy(m, f, lc)) / (2 * h)
				an := real(g[a])
				if dir == 1i {
					an = imag(g[a])
				}
				if math.Abs(fd-an) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Fatalf("trial %d a=%d dir %v: gradient %v, finite difference %v", trial, a, dir, an, fd)
				}
			}
		}
	}
}

// TestMapAdjoint: MapBack is the transpose of Map (Re⟨M ψ, x⟩ = Re⟨ψ, Mᵀx⟩)
// for folding (D ≥ N) and tiling (D < N).
func TestMapAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dn := range [][2]int{{64, 10}, {64, 64}, {8, 20}} {
		psi := randVec(rng, dn[0])
		x := make([]float64, dn[1])
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		u := fusion.Map(psi, dn[1])
		lhs := 0.0
		for i := range u {
			lhs += real(u[i]) * x[i]
		}
		back := fusion.MapBack(x, dn[0])
		rhs := 0.0
		for a := range psi {
			rhs += real(psi[a]) * back[a]
		}
		if math.Abs(lhs-rhs) > 1e-12 {
			t.Errorf("D=%d N=%d: %v vs %v", dn[0], dn[1], lhs, rhs)
		}
	}
}

func TestMetricFunctions(t *testing.T) {
	basis := make([]complex128, 8)
	basis[3] = 1
	if h := fusion.CoherenceEntropy(basis); h != 0 {
		t.Errorf("entropy of a basis state = %v", h)
	}
	uni := make([]complex128, 8)
	for i := range uni {
		uni[i] = complex(1/math.Sqrt(8), 0)
	}
	if h := fusion.CoherenceEntropy(uni); math.Abs(h-1) > 1e-15 {
		t.Errorf("entropy of the uniform state = %v", h)
	}
	if r := fusion.OrderParameter(uni); math.Abs(r-1) > 1e-15 {
		t.Errorf("order parameter of equal phases = %v", r)
	}
	f := make([]complex128, 8)
	for i := range f {
		f[i] = uni[i] * cmplx.Exp(-0.3i)
	}
	if d := fusion.PhaseDiff(uni, f); math.Abs(d-0.3) > 1e-14 {
		t.Errorf("phase difference = %v, want 0.3", d)
	}
	if e := fusion.CoherenceEnergy(uni, uni, 0.7); math.Abs(e) > 1e-15 {
		t.Errorf("E_coh(ψ, ψ) = %v", e)
	}
	s := fusion.SpikePattern([]int{0, 2, 8}, 3) // neuron 8 folds onto bit 2
	if s != 5 || fusion.SpikePattern([]int{7}, 3) != 2 {
		t.Errorf("spike pattern = %b", s)
	}
	p, proj := fusion.Project(uni, s)
	if math.Abs(p-1.0/8) > 1e-15 || proj[5] != uni[5] || proj[4] != 0 {
		t.Errorf("projector: p = %v, %v", p, proj)
	}
}

// TestStepRuns runs the default scenario: every metric finite, the state on
// the backend normalised (1e-12), events mirror the metrics, the network
// fires, the Jacobian of a unitary step (γ = 0) has determinant 1.
func TestStepRuns(t *testing.T) {
	sys, err := fusion.New(fusion.DefaultConfig(), engines())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	spikes := 0.0
	for i := 0; i < 30; i++ {
		m, ev, err := sys.Step(context.Background())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, v := range m.Violations {
			if v.Kind != fusion.Resonance {
				t.Fatalf("step %d: violation %v of kind %v", i, v, v.Kind)
			}
		}
		for _, x := range []float64{m.HCoh, m.ECoh, m.R, m.RateHz, m.NormDrift, m.PhaseDiff, m.DHCohDt} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("step %d: non-finite metric in %+v", i, m)
			}
		}
		if m.HCoh < 0 || m.HCoh > 1 || m.R < 0 || m.R > 1+1e-12 {
			t.Fatalf("step %d: metrics out of range %+v", i, m)
		}
		if ev.CoherenceEntropy != m.HCoh || ev.FusionEnergy != m.ECoh || ev.Step != m.Step {
			t.Fatalf("event %+v does not mirror metrics %+v", ev, m)
		}
		nrm, err := backend.Norm(sys.State())
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(nrm-1) > 1e-12 {
			t.Fatalf("step %d: state norm %v after renormalising", i, nrm)
		}
		spikes += m.RateHz
	}
	if spikes == 0 {
		t.Error("the network never fired")
	}
	st, err := sys.Stability()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stability at the end: %+v", st)
	rng := rand.New(rand.NewPCG(5, 6))
	psi := backendtest.RandomState(rng, 3)
	f := randVec(rng, 8)
	_, unit, err := fusion.Jacobian(fusion.DefaultHamiltonian(3), 3, 0.1, 0, f, psi, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(unit.Det-1) > 1e-6 || !unit.Positive || math.Abs(unit.SpectralRadius-1) > 1e-5 {
		t.Errorf("unitary step: %+v, want det 1", unit)
	}
}

// TestACERecalibration: with H_max = 0 every step recalibrates, so
// γ_k = max(γ_0·0.9^k, γ_min) and α_k = min(α_0·1.1^k, α_max).
func TestACERecalibration(t *testing.T) {
	cfg := fusion.DefaultConfig()
	cfg.ACE = fusion.ACE{HMax: 1e-300, AlphaMax: 50, GammaMin: 0.02}
	cfg.Limits.Resonance = 10
	cfg.Learning = fusion.Learning{} // the ACE alone moves α and γ
	sys, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	a, g := cfg.Alpha, cfg.Gamma
	for k := 1; k <= 12; k++ {
		m, _, err := sys.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		a, g = math.Min(a*1.1, 50), math.Max(g*0.9, 0.02)
		if !m.Recalibrated || math.Abs(m.Alpha-a) > 1e-12 || math.Abs(m.Gamma-g) > 1e-12 {
			t.Fatalf("step %d: α=%v γ=%v recal=%v, want α=%v γ=%v", k, m.Alpha, m.Gamma, m.Recalibrated, a, g)
		}
	}
	cfg.ACE.Disabled = true
	sys2, _ := fusion.New(cfg, engines())
	defer sys2.Close()
	if m, _, _ := sys2.Step(context.Background()); m.Recalibrated || m.Alpha != cfg.Alpha {
		t.Errorf("disabled ACE recalibrated: %+v", m)
	}
}

// TestSafetyLimits: each limit is a typed error.
func TestSafetyLimits(t *testing.T) {
	cfg := fusion.DefaultConfig()
	cfg.Qubits = 29
	if _, err := fusion.New(cfg, engines()); !errors.As(err, new(*fusion.QubitCapError)) {
		t.Errorf("29 qubits: %v, want a QubitCapError", err)
	}
	cfg = fusion.DefaultConfig()
	cfg.Alpha = math.NaN()
	if _, err := fusion.New(cfg, engines()); !errors.As(err, new(*fusion.NonFiniteError)) {
		t.Errorf("NaN α: %v, want a NonFiniteError", err)
	}
	cfg = fusion.DefaultConfig()
	cfg.Limits.VCapMV = -75 // below rest: every neuron violates it
	sys, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := sys.Step(context.Background())
	if err != nil {
		t.Fatalf("a violation is data, not an error: %v", err)
	}
	var vc *fusion.VoltageCapError
	if len(m.Violations) == 0 || m.Violations[0].Kind != fusion.VoltageCap || !errors.As(m.Violations[0].Err, &vc) || vc.Cap != -75 {
		t.Errorf("voltage cap: violations %v", m.Violations)
	}
	if b, err := json.Marshal(m.Violations); err != nil || string(b) != `["`+vc.Error()+`"]` {
		t.Errorf("violations in JSON: %s, %v; want the messages", b, err)
	}
	sys.Close()
	cfg = fusion.DefaultConfig()
	cfg.Limits.Resonance = 1e-9
	sys, err = fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	var re *fusion.ResonanceError
	for i := 0; i < 5 && re == nil; i++ {
		m, _, err := sys.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range m.Violations {
			if v.Kind == fusion.Resonance {
				errors.As(v.Err, &re)
			}
		}
	}
	if re == nil {
		t.Error("a resonance limit of 1e-9 rad was never violated")
	}
	if _, err := fusion.New(fusion.Config{Feedback: "smell"}, engines()); err == nil {
		t.Error("feedback smell accepted")
	}
	if _, err := fusion.New(fusion.DefaultConfig(), fusion.Engines{}); err == nil {
		t.Error("missing engines accepted")
	}
}

// TestMetaEvolution: pure gradient steps (η_Q = 0) reduce L_N; the same
// seed reproduces the noisy run; the fused gradient with only λ_N equals ∇L_N.
func TestMetaEvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	h := fusion.DefaultHamiltonian(3)
	paulis := make([]string, len(h))
	coeffs := make([]float64, len(h))
	for k := range h {
		paulis[k], coeffs[k] = h[k].Pauli, h[k].Coeff
	}
	obj := &fusion.Objective{Paulis: paulis, Qubits: 3, Dt: 0.1, Psi: backendtest.RandomState(rng, 3), F: randVec(rng, 8),
		Neurons: 5, TargetDriveMV: 2, LambdaC: 0.5}
	f := obj.F
	nrm := 0.0
	for _, z := range f {
		nrm += real(z)*real(z) + imag(z)*imag(z)
	}
	for i := range f {
		f[i] /= complex(math.Sqrt(nrm), 0)
	}
	p0 := fusion.Params{H: coeffs, Alpha: 10, Beta: 3, Gamma: 0.1}
	_, ln0, _, err := obj.Losses(p0)
	if err != nil {
		t.Fatal(err)
	}
	_, hist, err := obj.MetaEvolve(p0, 0, 0.05, 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(hist[len(hist)-1] < 0.5*ln0) {
		t.Errorf("L_N %v → %v: gradient descent did not halve it", ln0, hist[len(hist)-1])
	}
	// ε_Q from measurement outcomes of the register obj.Psi on the CPU
	// backend: one seed of the sampler's variates reproduces the run,
	// another changes it.
	st, err := cpu.New(cpu.Options{}).NewState(3, backend.Complex128)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Free()
	if err := st.Load(obj.Psi); err != nil {
		t.Fatal(err)
	}
	noise := func(seed uint64) fusion.Noise {
		return func(step, k int) ([]float64, error) {
			return fusion.QuantumNoise(st, obj.Psi, 3, k, 64, seed, uint64(step))
		}
	}
	a, ha, err := obj.MetaEvolve(p0, 0.01, 1e-3, 5, noise(42))
	if err != nil {
		t.Fatal(err)
	}
	b, hb, _ := obj.MetaEvolve(p0, 0.01, 1e-3, 5, noise(42))
	if a.Alpha != b.Alpha || hb[4] != ha[4] {
		t.Error("same seed, different meta-evolution")
	}
	c, _, _ := obj.MetaEvolve(p0, 0.01, 1e-3, 5, noise(43))
	if c.Alpha == a.Alpha {
		t.Error("different seeds, same meta-evolution")
	}
	fused, gn, err := obj.FusedGradient(p0, fusion.Weights{N: 1}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	for k := range fused {
		if fused[k] != gn[k] {
			t.Fatalf("fused gradient with λ_N only differs from ∇L_N at %d", k)
		}
	}
	if _, _, _, err := obj.Losses(fusion.Params{H: coeffs[:1]}); err == nil {
		t.Error("wrong number of coefficients accepted")
	}
}

// TestSnapshotRestore: after Restore the system repeats its metrics and
// state bit for bit; a snapshot whose ψ is not normalised is refused.
func TestSnapshotRestore(t *testing.T) {
	sys, err := fusion.New(fusion.DefaultConfig(), engines())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	for i := 0; i < 5; i++ {
		sys.Step(context.Background())
	}
	snap, err := sys.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var want []fusion.Metrics
	for i := 0; i < 8; i++ {
		m, _, _ := sys.Step(context.Background())
		want = append(want, m)
	}
	wantPsi := append([]complex128(nil), sys.Psi()...)
	scaled := *snap
	scaled.Psi = append([]complex128(nil), snap.Psi...)
	for a := range scaled.Psi {
		scaled.Psi[a] *= 1.05
	}
	if err := sys.Restore(&scaled); err == nil || !strings.Contains(err.Error(), "psi") {
		t.Errorf("a snapshot with ‖ψ‖ = 1.05 restored (err %v)", err)
	}
	if err := sys.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		m, _, _ := sys.Step(context.Background())
		if m.HCoh != want[i].HCoh || m.ECoh != want[i].ECoh || m.RateHz != want[i].RateHz || m.Alpha != want[i].Alpha || m.Step != want[i].Step {
			t.Fatalf("step %d after restore: %+v, want %+v", i, m, want[i])
		}
	}
	for a, z := range sys.Psi() {
		if z != wantPsi[a] {
			t.Fatalf("ψ[%d] = %v after restore, want %v bit for bit", a, z, wantPsi[a])
		}
	}
}

// TestNoParent: fusion's NoParent is the ledger's (fusion does not import
// telemetry, so the two constants are kept equal here).
func TestNoParent(t *testing.T) {
	if fusion.NoParent != telemetry.NoParent {
		t.Errorf("fusion.NoParent = %d, telemetry.NoParent = %d", uint64(fusion.NoParent), uint64(telemetry.NoParent))
	}
}

// TestACERecalibrate: the ACE rule raises α by 10% and lowers γ by 10%,
// each clamped to its bound.
func TestACERecalibrate(t *testing.T) {
	ace := fusion.ACE{AlphaMax: 50, GammaMin: 0.01}
	if a, g := ace.Recalibrate(40, 0.05); math.Abs(a-44) > 1e-12 || math.Abs(g-0.045) > 1e-12 {
		t.Errorf("Recalibrate(40, 0.05) = %v, %v; want 44, 0.045", a, g)
	}
	if a, g := ace.Recalibrate(49, 0.0105); a != 50 || g != 0.01 {
		t.Errorf("Recalibrate(49, 0.0105) = %v, %v; want the bounds 50, 0.01", a, g)
	}
}

// TestPhaseLockStep: the geodesic step keeps ‖ψ‖ to 1e-12 at any rate,
// lowers E_coh at a small rate, agrees with the plain step ψ − η·g less its
// radial part to O(η²), and leaves a minimiser (ψ = f, Δ = 0) where it is.
func TestPhaseLockStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func() []complex128 {
		v := make([]complex128, 32)
		n := 0.0
		for i := range v {
			v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
			n += real(v[i])*real(v[i]) + imag(v[i])*imag(v[i])
		}
		for i := range v {
			v[i] /= complex(math.Sqrt(n), 0)
		}
		return v
	}
	norm := func(v []complex128) float64 {
		n := 0.0
		for _, z := range v {
			n += real(z)*real(z) + imag(z)*imag(z)
		}
		return math.Sqrt(n)
	}
	psi, f := vec(), vec()
	const lc = 0.5
	for _, rate := range []float64{1e-3, 0.05, 0.3, 1, 10} {
		p := append([]complex128(nil), psi...)
		fusion.PhaseLockStep(p, f, lc, rate)
		if d := math.Abs(norm(p) - 1); d > 1e-12 {
			t.Errorf("rate %g: norm drift %g", rate, d)
		}
	}
	p := append([]complex128(nil), psi...)
	e0 := fusion.CoherenceEnergy(p, f, lc)
	fusion.PhaseLockStep(p, f, lc, 0.05)
	if e1 := fusion.CoherenceEnergy(p, f, lc); e1 >= e0 {
		t.Errorf("E_coh %g → %g: not lowered", e0, e1)
	}
	// First order: ψ − η·(g − Re⟨ψ, g⟩ψ).
	const eta = 1e-4
	g := fusion.Gradient(psi, f, lc)
	pg := 0.0
	for a := range psi {
		pg += real(cmplx.Conj(psi[a]) * g[a])
	}
	p = append([]complex128(nil), psi...)
	fusion.PhaseLockStep(p, f, lc, eta)
	worst := 0.0
	for a := range psi {
		lin := psi[a] - complex(eta, 0)*(g[a]-complex(pg, 0)*psi[a])
		worst = max(worst, cmplx.Abs(p[a]-lin))
	}
	if worst > 10*eta*eta {
		t.Errorf("differs from the first-order step by %g (> %g)", worst, 10*eta*eta)
	}
	p = append([]complex128(nil), f...)
	fusion.PhaseLockStep(p, f, lc, 0.3)
	for a := range p {
		if cmplx.Abs(p[a]-f[a]) > 1e-12 {
			t.Fatalf("the minimiser moved: entry %d %v → %v", a, f[a], p[a])
		}
	}
}

// TestPhaseLockWired: phase locking in the default scenario lowers the mean
// quantum–neural phase entropy H_φ (by at least 0.2) and E_coh and adds no norm drift beyond
// the kick's (|drift| ≤ γ + 1e-9, the kick being γ·F with ‖F‖ = 1).
func TestPhaseLockWired(t *testing.T) {
	run := func(lock bool) (hphase, ecoh float64) {
		cfg := fusion.DefaultConfig()
		cfg.PhaseLock, cfg.PhaseLockRate = lock, 0.3
		sys, err := fusion.New(cfg, engines())
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		const steps = 40
		for i := 0; i < steps; i++ {
			m, _, err := sys.Step(context.Background())
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if lock && math.Abs(m.NormDrift) > m.Gamma+1e-9 {
				t.Fatalf("step %d: norm drift %g beyond the kick's γ = %g", i, m.NormDrift, m.Gamma)
			}
			hphase += m.HPhase / steps
			ecoh += m.ECoh / steps
		}
		return hphase, ecoh
	}
	h0, e0 := run(false)
	h1, e1 := run(true)
	if h1 > h0-0.2 || e1 >= e0 {
		t.Errorf("phase lock: mean H_φ %.3f → %.3f, E_coh %.3f → %.3f; want H_φ lower by 0.2 and E_coh lowered", h0, h1, e0, e1)
	}
}
