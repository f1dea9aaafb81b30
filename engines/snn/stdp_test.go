package snn

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// stdpPair is A → B through one plastic synapse of w0 mV (too weak to make
// B spike), with τ₊ = 20 ms, τ₋ = 30 ms.
func stdpPair(rule string, w0, aPlus, aMinus float64) *Network {
	n := &Network{DtMs: 0.1}
	lif := LIF{TauMMs: 10, VRestMV: -70, VThMV: -50, VResetMV: -70}
	n.AddPopulation(Population{Name: "A", Size: 1, Neuron: lif, TauSynMs: 5})
	n.AddPopulation(Population{Name: "B", Size: 1, Neuron: lif})
	n.Connect(Projection{From: "A", To: "B", Rule: RuleAllToAll, WeightMV: w0,
		STDP: &STDP{Rule: rule, TauPlusMs: 20, TauMinusMs: 30, APlus: aPlus, AMinus: aMinus, WMax: 1}})
	return n
}

// runPairs steps s to step 60, making neuron i spike in the steps of
// kicks[i] (AddVoltage to threshold before the step).
func runPairs(t *testing.T, s *Sim, kicks [2][]int) {
	t.Helper()
	for step := 0; step < 60; step++ {
		for i, ks := range kicks {
			for _, k := range ks {
				if k == step {
					if err := s.AddVoltage(i, 25); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		s.Step()
	}
	if c := s.SpikeCounts(); c[0] != int64(len(kicks[0])) || c[1] != int64(len(kicks[1])) {
		t.Fatalf("spike counts %v, want %d and %d", c, len(kicks[0]), len(kicks[1]))
	}
}

// TestSTDPPairs checks both rules against the formulas of STDP on pre →
// post (potentiation), post → pre (depression), a pair in one step
// (potentiation with x₊ = 1) and clipping.
func TestSTDPPairs(t *testing.T) {
	dt := 0.1
	e5 := math.Exp(-5 * dt / 20)   // x₊ five steps after A's spike
	e15 := math.Exp(-15 * dt / 30) // x₋ fifteen steps after B's spike
	for _, c := range []struct {
		name  string
		rule  string
		kicks [2][]int
		want  func(w0, ap, am float64) float64
	}{
		{"additive pre→post", STDPAdditive, [2][]int{{10}, {15}}, func(w, ap, am float64) float64 { return w + ap*e5 }},
		{"additive post→pre", STDPAdditive, [2][]int{{30}, {15}}, func(w, ap, am float64) float64 { return w - am*e15 }},
		{"additive same step", STDPAdditive, [2][]int{{20}, {20}}, func(w, ap, am float64) float64 { return w + ap }},
		{"additive both", STDPAdditive, [2][]int{{10, 30}, {15}}, func(w, ap, am float64) float64 { return w + ap*e5 - am*e15 }},
		{"multiplicative pre→post", STDPMultiplicative, [2][]int{{10}, {15}}, func(w, ap, am float64) float64 { return w + ap*e5*(1-w) }},
		{"multiplicative both", STDPMultiplicative, [2][]int{{10, 30}, {15}}, func(w, ap, am float64) float64 {
			w += ap * e5 * (1 - w)
			return w - am*e15*w
		}},
	} {
		w0, ap, am := 0.3, 0.05, 0.04
		s, err := stdpPair(c.rule, w0, ap, am).Build(Options{})
		if err != nil {
			t.Fatal(err)
		}
		runPairs(t, s, c.kicks)
		got, want := s.Weights(0)[0], c.want(w0, ap, am)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: w = %.15g, want %.15g", c.name, got, want)
		}
	}
	// Clipping: additive steps past [0, w_max] stop at the bounds.
	s, _ := stdpPair(STDPAdditive, 0.9, 0.5, 0).Build(Options{})
	runPairs(t, s, [2][]int{{10}, {12}})
	if w := s.Weights(0)[0]; w != 1 {
		t.Errorf("additive potentiation past w_max: w = %v, want 1", w)
	}
	s, _ = stdpPair(STDPAdditive, 0.1, 0, 0.5).Build(Options{})
	runPairs(t, s, [2][]int{{12}, {10}})
	if w := s.Weights(0)[0]; w != 0 {
		t.Errorf("additive depression past 0: w = %v, want 0", w)
	}
	// Multiplicative steps with a trace above 1 (two spikes 0.2 ms apart)
	// stop at the bounds too: the raw weight, before Weights' unit
	// conversion, stays in [0, w_max].
	m, _ := stdpPair(STDPMultiplicative, 1, 0, 1).Build(Options{})
	runPairs(t, m, [2][]int{{14}, {10, 12}})
	if w := m.projs[0].w[0]; w != 0 {
		t.Errorf("multiplicative depression with x₋ > 1: raw w = %v, want 0", w)
	}
	m, _ = stdpPair(STDPMultiplicative, 0, 1, 0).Build(Options{})
	runPairs(t, m, [2][]int{{10, 12}, {14}})
	if w, wmax := m.projs[0].w[0], m.projs[0].pl.wMax; w != wmax {
		t.Errorf("multiplicative potentiation with x₊ > 1: raw w = %v, want w_max %v", w, wmax)
	}
	if _, err := s.Snapshot(); !errors.Is(err, errPlasticSnapshot) {
		t.Errorf("Snapshot of a plastic network: %v", err)
	}
	if s.Weights(1) != nil || s.Weights(-1) != nil {
		t.Error("Weights of a missing projection is not nil")
	}
}

// TestSTDPValidate checks that bad plasticity settings name the field.
func TestSTDPValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(p *Projection)
		want string
	}{
		{func(p *Projection) { p.STDP.Rule = "hebbian" }, `projections[0].stdp.rule: want additive or multiplicative, got "hebbian"`},
		{func(p *Projection) { p.STDP.TauPlusMs = 0 }, "projections[0].stdp.tau_plus_ms"},
		{func(p *Projection) { p.STDP.AMinus = math.NaN() }, "projections[0].stdp.a_minus"},
		{func(p *Projection) { p.STDP.WMax = -1 }, "projections[0].stdp.w_max"},
		{func(p *Projection) { p.STDP.Rule, p.STDP.APlus = STDPMultiplicative, 2 }, "at most 1"},
		{func(p *Projection) { p.Dense = true }, "projections[0].dense: plastic"},
		{func(p *Projection) { p.DelayMs = 1 }, "projections[0].delay_ms: plastic"},
		{func(p *Projection) { p.WeightMV = 2 }, "projections[0].weight_mv: a plastic weight must lie in [0, w_max = 1]"},
		{func(p *Projection) {
			p.Rule, p.Pairs, p.WeightsMV, p.WeightMV = RuleList, [][2]int{{0, 0}, {0, 0}}, []float64{0.5, -0.1}, 0
		}, "projections[0].weights_mv[1]"},
	} {
		n := stdpPair(STDPAdditive, 0.3, 0.01, 0.01)
		c.edit(&n.Projections[0])
		if err := n.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// brianSTDP is the JSON of testdata/brian2_stdp.py.
type brianSTDP struct {
	PostRateHz float64 `json:"post_rate_hz"`
	Hist       []int   `json:"hist"`
	FracLow    float64 `json:"frac_low"`
	FracHigh   float64 `json:"frac_high"`
	MeanW      float64 `json:"mean_w"`
	StdW       float64 `json:"std_w"`
}

// TestSTDPMatchesBrian2 runs testdata/stdp_sma.yaml (Song, Miller & Abbott
// 2000 as Brian2's STDP example: 1000 Poisson inputs, one neuron, additive
// STDP) for 100 s and its Brian2 twin (C++ standalone): both final weight
// distributions must be bimodal (each outer tenth of [0, w_max] holds more
// weights than any of the six middle tenths), and the fractions below
// 0.1·w_max and above 0.9·w_max and the mean w/w_max must agree within
// 0.06, the output rate within 15%.
func TestSTDPMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 100 s and runs Brian2 C++ standalone (about a minute)")
	}
	var b brianSTDP
	runTestdataPeer(t, "brian2_stdp.py", &b)
	net, err := LoadFile(filepath.Join("testdata", "stdp_sma.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := net.Build(Options{Method: MethodEuler})
	if err != nil {
		t.Fatal(err)
	}
	sim.Run(1_000_000)
	wmax := net.Projections[0].STDP.WMax
	w := sim.Weights(0)
	hist := WeightHistogram(w, 0, wmax, 10)
	var low, high, mean float64
	for _, x := range w {
		if x < 0.1*wmax {
			low++
		}
		if x > 0.9*wmax {
			high++
		}
		mean += x / wmax
	}
	n := float64(len(w))
	low, high, mean = low/n, high/n, mean/n
	rate := float64(sim.SpikeCounts()[0]) / 100
	t.Logf("mec:    rate %.2f Hz, hist %v, below 0.1 %.3f, above 0.9 %.3f, mean %.3f", rate, hist, low, high, mean)
	t.Logf("brian2: rate %.2f Hz, hist %v, below 0.1 %.3f, above 0.9 %.3f, mean %.3f", b.PostRateHz, b.Hist, b.FracLow, b.FracHigh, b.MeanW)
	for name, h := range map[string][]int{"mec": hist, "brian2": b.Hist} {
		for k := 2; k < 8; k++ {
			if len(h) != 10 || h[0] <= h[k] || h[9] <= h[k] {
				t.Errorf("%s: weight histogram %v is not bimodal", name, h)
				break
			}
		}
	}
	for _, c := range []struct {
		name        string
		ours, their float64
	}{{"frac_low", low, b.FracLow}, {"frac_high", high, b.FracHigh}, {"mean_w", mean, b.MeanW}} {
		if !(math.Abs(c.ours-c.their) <= 0.06) {
			t.Errorf("%s: mec %.3f vs brian2 %.3f (tolerance 0.06)", c.name, c.ours, c.their)
		}
	}
	if rel := math.Abs(rate-b.PostRateHz) / b.PostRateHz; !(rel <= 0.15) {
		t.Errorf("output rate: mec %.2f Hz vs brian2 %.2f Hz (tolerance 15%%)", rate, b.PostRateHz)
	}
}

// TestMultiplicativeSTDPMatchesBrian2 runs the network of
// testdata/stdp_sma.yaml with the multiplicative rule (a₊ = 0.01,
// a₋ = 0.0105: w ← w − a₋x₋w at a source spike, w ← w + a₊x₊(w_max − w) at
// a target spike) for 100 s, and brian2_stdp.py --rule multiplicative with
// the same rule written as Brian2 synapse code (C++ standalone). Unlike the
// additive rule's bimodal split, the weight-dependent rule gives a narrow
// unimodal distribution around w_max·a₊/(a₊ + a₋)-ish (van Rossum, Bi &
// Turrigiano 2000): both sides must have no weight below 0.1·w_max or above
// 0.9·w_max and a standard deviation below 0.1·w_max, and the mean w/w_max
// must agree within 0.02, the standard deviation within 30%, the output
// rate within 15%.
func TestMultiplicativeSTDPMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 100 s and runs Brian2 C++ standalone (about a minute)")
	}
	var b brianSTDP
	runTestdataPeer(t, "brian2_stdp.py", &b, "--rule", "multiplicative", "--a-plus", "0.01", "--a-minus", "0.0105")
	net, err := LoadFile(filepath.Join("testdata", "stdp_sma.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st := net.Projections[0].STDP
	st.Rule, st.APlus, st.AMinus = STDPMultiplicative, 0.01, 0.0105
	sim, err := net.Build(Options{Method: MethodEuler})
	if err != nil {
		t.Fatal(err)
	}
	sim.Run(1_000_000)
	w := sim.Weights(0)
	var mean, sq, low, high float64
	for _, x := range w {
		x /= st.WMax
		mean += x
		sq += x * x
		if x < 0.1 {
			low++
		}
		if x > 0.9 {
			high++
		}
	}
	n := float64(len(w))
	mean, low, high = mean/n, low/n, high/n
	std := math.Sqrt(math.Max(sq/n-mean*mean, 0))
	rate := float64(sim.SpikeCounts()[0]) / 100
	t.Logf("mec:    rate %.2f Hz, hist %v, mean %.4f, std %.4f", rate, WeightHistogram(w, 0, st.WMax, 10), mean, std)
	t.Logf("brian2: rate %.2f Hz, hist %v, mean %.4f, std %.4f", b.PostRateHz, b.Hist, b.MeanW, b.StdW)
	for _, s := range []struct {
		name           string
		low, high, std float64
	}{{"mec", low, high, std}, {"brian2", b.FracLow, b.FracHigh, b.StdW}} {
		if s.low != 0 || s.high != 0 || !(s.std < 0.1) {
			t.Errorf("%s: not a narrow unimodal distribution: %.3f below 0.1·w_max, %.3f above 0.9·w_max, std %.4f·w_max", s.name, s.low, s.high, s.std)
		}
	}
	if !(math.Abs(mean-b.MeanW) <= 0.02) {
		t.Errorf("mean w/w_max: mec %.4f vs brian2 %.4f (tolerance 0.02)", mean, b.MeanW)
	}
	if rel := math.Abs(std-b.StdW) / b.StdW; !(rel <= 0.3) {
		t.Errorf("std w/w_max: mec %.4f vs brian2 %.4f (tolerance 30%%)", std, b.StdW)
	}
	if rel := math.Abs(rate-b.PostRateHz) / b.PostRateHz; !(rel <= 0.15) {
		t.Errorf("output rate: mec %.2f Hz vs brian2 %.2f Hz (tolerance 15%%)", rate, b.PostRateHz)
	}
}
