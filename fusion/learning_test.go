package fusion_test

import (
	"context"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/fusion"
)

// TestQuantumNoiseFromOutcomes: ε_Q comes from measurement outcomes of ψ,
// not from the variates alone: a basis state (no measurement randomness)
// gives ε = 0 for the same variates that give a non-zero ε on |+…+⟩, a
// state with different |ψ|² gives a different ε, and over many streams ε
// on |+…+⟩ has mean 0 and variance 1 (tolerances: 5 standard errors).
func TestQuantumNoiseFromOutcomes(t *testing.T) {
	const n, k, shots = 3, 9, 64
	b := cpu.New(cpu.Options{})
	st, err := b.NewState(n, backend.Complex128)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Free()
	load := func(psi []complex128) {
		if err := st.Load(psi); err != nil {
			t.Fatal(err)
		}
	}
	basis := make([]complex128, 1<<n)
	basis[5] = 1
	load(basis)
	eps, err := fusion.QuantumNoise(st, basis, n, k, shots, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for j, e := range eps {
		if e != 0 {
			t.Fatalf("basis state: ε_%d = %v, want 0 (no measurement randomness)", j, e)
		}
	}
	plus := make([]complex128, 1<<n)
	for i := range plus {
		plus[i] = complex(1/math.Sqrt(1<<n), 0)
	}
	load(plus)
	ePlus, err := fusion.QuantumNoise(st, plus, n, k, shots, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(ePlus, eps) {
		t.Fatal("|+…+⟩ and a basis state give the same ε for the same variates")
	}
	tilted := make([]complex128, 1<<n)
	for i := range tilted {
		tilted[i] = cmplx.Rect(math.Sqrt(float64(i+1)/36), float64(i))
	}
	load(tilted)
	eTilt, _ := fusion.QuantumNoise(st, tilted, n, k, shots, 1, 0)
	if slices.Equal(eTilt, ePlus) {
		t.Fatal("two states with different |ψ|² give the same ε for the same variates")
	}
	load(plus)
	var sum, sum2 float64
	const streams = 400
	for s := uint64(0); s < streams; s++ {
		e, err := fusion.QuantumNoise(st, plus, n, k, shots, 7, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range e {
			sum += x
			sum2 += x * x
		}
	}
	m := float64(streams * k)
	mean, vr := sum/m, sum2/m-(sum/m)*(sum/m)
	if math.Abs(mean) > 5/math.Sqrt(m) || math.Abs(vr-1) > 5*math.Sqrt(2/m) {
		t.Errorf("ε on |+…+⟩: mean %.4f, variance %.4f; want 0 and 1", mean, vr)
	}
}

// run steps a system of cfg n times and returns its metrics.
func run(t *testing.T, cfg fusion.Config, n int) (*fusion.System, []fusion.Metrics) {
	t.Helper()
	sys, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	var ms []fusion.Metrics
	for i := 0; i < n; i++ {
		m, _, err := sys.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return sys, ms
}

// TestLearningInStep: gradient exchange and meta-evolution run inside
// System.Step when configured and change Θ's trajectory (Hamiltonian
// coefficients and coupling); the gradient exchange lowers the fused loss
// at the state it saw; switched off, Θ stays put.
func TestLearningInStep(t *testing.T) {
	off := fusion.DefaultConfig()
	off.Learning = fusion.Learning{}
	sysOff, _ := run(t, off, 20)
	theta0 := fusion.DefaultHamiltonian(6)
	for k, c := range sysOff.Theta().H {
		if c != theta0[k].Coeff {
			t.Fatalf("learning off: H coefficient %d moved %v → %v", k, theta0[k].Coeff, c)
		}
	}

	grad := fusion.DefaultConfig()
	grad.Learning.Meta.Every = 0
	sysG, msG := run(t, grad, 20)
	var exchanges, lowered int
	for _, m := range msG {
		if l := m.Learning; l != nil {
			if !l.Gradient || l.Mutated {
				t.Fatalf("step %d: gradient only, got %+v", m.Step, l)
			}
			exchanges++
			if l.LossAfter < l.Loss {
				lowered++
			}
		}
	}
	if exchanges != 4 || lowered < 3 {
		t.Errorf("gradient exchange: %d exchanges (want 4, every 5 of 20 steps), %d lowered the fused loss", exchanges, lowered)
	}
	if slices.Equal(sysG.Theta().Vector(), sysOff.Theta().Vector()) {
		t.Error("gradient exchange on: Θ ended where it does with learning off")
	}

	meta := fusion.DefaultConfig()
	meta.Learning.Gradient.Every = 0
	sysM, msM := run(t, meta, 20)
	var mutations int
	for _, m := range msM {
		if l := m.Learning; l != nil {
			if !l.Mutated || len(l.Epsilon) != len(l.Theta) || l.Shots == 0 {
				t.Fatalf("step %d: meta-evolution report %+v", m.Step, l)
			}
			mutations++
		}
	}
	if mutations != 2 {
		t.Errorf("%d mutations in 20 steps, want 2", mutations)
	}
	if slices.Equal(sysM.Theta().Vector(), sysOff.Theta().Vector()) {
		t.Error("meta-evolution on: Θ ended where it does with learning off")
	}
	meta.Learning.Meta.Seed = 99
	sysM2, _ := run(t, meta, 20)
	if slices.Equal(sysM2.Theta().Vector(), sysM.Theta().Vector()) {
		t.Error("another seed of the sampler's variates gave the same mutations")
	}
}

// TestLearningConfigErrors: bad learning settings name their field.
func TestLearningConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*fusion.Config)
		want string
	}{
		{func(c *fusion.Config) { c.Learning.Gradient.Rate = math.NaN() }, "learning.gradient.rate"},
		{func(c *fusion.Config) { c.Learning.Meta.Every = -1 }, "learning.meta_evolution.every"},
		{func(c *fusion.Config) { c.Learning.Meta.Shots = -2 }, "learning.meta_evolution.shots"},
		{func(c *fusion.Config) { c.Qubits = 14; c.Hamiltonian = nil }, "learning"},
	} {
		c := fusion.DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error naming %s, got %v", tc.want, err)
		}
	}
}

// TestInterfaces: InjectMetaGraph scales the gradient exchange's weights
// (and so Θ's trajectory) and refuses influences outside [0, 1];
// PhaseToSemantic weighs amplitudes by their phase agreement;
// MonitorEntropy is the last step's H_coh.
func TestInterfaces(t *testing.T) {
	cfg := fusion.DefaultConfig()
	cfg.Learning.Meta.Every = 0
	plain, _ := run(t, cfg, 10)
	sys, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	var g fusion.MetaGraph
	g.Influence[1][0] = 0.5 // neural → quantum
	g.Influence[1][2] = 0.25
	w, err := sys.InjectMetaGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	gx := cfg.Learning.Gradient
	if w.Q != gx.LambdaQ || w.N != gx.LambdaN*1.75 || w.P != gx.LambdaP {
		t.Errorf("weights after injecting %v: %+v", g.Influence, w)
	}
	var last fusion.Metrics
	for i := 0; i < 10; i++ {
		if last, _, err = sys.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if l := last.Learning; l != nil && l.Weights != w {
			t.Errorf("step %d: gradient exchange used %+v, want %+v", last.Step, l.Weights, w)
		}
	}
	if slices.Equal(sys.Theta().Vector(), plain.Theta().Vector()) {
		t.Error("the injected meta graph did not change Θ's trajectory")
	}
	if h := sys.MonitorEntropy(); h != fusion.CoherenceEntropy(sys.Psi()) || math.Abs(h-last.HCoh) > 1e-12 {
		t.Errorf("MonitorEntropy %v, last step's H_coh %v", h, last.HCoh)
	}
	g.Influence[0][2] = 1.5
	if _, err := sys.InjectMetaGraph(g); err == nil || !strings.Contains(err.Error(), "quantum → phase") {
		t.Errorf("influence 1.5 accepted or not named: %v", err)
	}

	// ψ = (1, 1, −1, 1)/2: the antiphase amplitude 2 counts for nothing.
	a, err := fusion.PhaseToSemantic([]complex128{0.5, 0.5, -0.5, 0.5}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.0 / 3, 1.0 / 3, 0, 1.0 / 3}
	for k := range a {
		if math.Abs(a[k]-want[k]) > 1e-12 {
			t.Fatalf("PhaseToSemantic = %v, want %v", a, want)
		}
	}
	// In phase, it is the fold of |ψ|² onto d bins.
	b, _ := fusion.PhaseToSemantic([]complex128{0.6i, 0.8i}, 1)
	if math.Abs(b[0]-1) > 1e-12 {
		t.Errorf("one bin: %v", b)
	}
	if _, err := fusion.PhaseToSemantic(nil, 0); err == nil {
		t.Error("0 activities accepted")
	}
}

// TestJacobianExact: the analytic Jacobian of the step map agrees with
// the central differences (1e-6) in every entry and in det J, and a
// unitary step (γ = 0) has det J = 1; the system's DetJ is its Stability's
// determinant.
func TestJacobianExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := fusion.DefaultHamiltonian(3)
	for _, gamma := range []float64{0, 0.2} {
		psi := backendtest.RandomState(rng, 3)
		f := randVec(rng, 8)
		jf, sf, err := fusion.Jacobian(h, 3, 0.1, gamma, f, psi, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		je, se, err := fusion.JacobianExact(h, 3, 0.1, gamma, f, psi, true)
		if err != nil {
			t.Fatal(err)
		}
		r, c := jf.Dims()
		for i := 0; i < r; i++ {
			for k := 0; k < c; k++ {
				if d := math.Abs(jf.At(i, k) - je.At(i, k)); d > 1e-6 {
					t.Fatalf("γ %v: J[%d][%d] finite differences %v, exact %v", gamma, i, k, jf.At(i, k), je.At(i, k))
				}
			}
		}
		if math.Abs(sf.Det-se.Det) > 1e-6*math.Max(1, math.Abs(sf.Det)) || math.Abs(sf.SpectralRadius-se.SpectralRadius) > 1e-5 {
			t.Errorf("γ %v: finite differences %+v, exact %+v", gamma, sf, se)
		}
		if gamma == 0 && math.Abs(se.Det-1) > 1e-9 {
			t.Errorf("unitary step: det J = %v", se.Det)
		}
	}
	sys, _ := run(t, fusion.DefaultConfig(), 3)
	st, err := sys.Stability()
	if err != nil {
		t.Fatal(err)
	}
	if det, err := sys.DetJ(); err != nil || det != st.Det {
		t.Errorf("DetJ %v (%v), Stability's %v", det, err, st.Det)
	}
}
