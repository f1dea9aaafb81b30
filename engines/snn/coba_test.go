package snn

import (
	"math"
	"strings"
	"testing"
)

// cobaPair is a current-based source A (one neuron) onto a conductance-
// based target B (one neuron, g_L = 10 nS, E_L = −70 mV) through w nS with
// reversal potential erev and a synaptic time constant long enough (10^12
// ms) that the conductance stays g = w/g_L after A's one spike.
func cobaPair(w, erev float64) *Network {
	n := &Network{DtMs: 0.1}
	n.AddPopulation(Population{Name: "A", Size: 1, Neuron: LIF{TauMMs: 10, VRestMV: -70, VThMV: -50, VResetMV: -70}, TauSynMs: 1e12})
	n.AddPopulation(Population{Name: "B", Size: 1, Model: ModelCOBA,
		Neuron: LIF{TauMMs: 20, VRestMV: -70, VThMV: -50, VResetMV: -70, RMOhm: 100}})
	n.Connect(Projection{From: "A", To: "B", Rule: RuleAllToAll, WeightNS: w, ERevMV: &erev})
	return n
}

// TestCOBASteadyState checks the conductance physics and units: after a
// conductance g (in units of g_L = 1/R, from w nS) opens, V relaxes to
// (E_L + g·E_rev)/(1 + g), the fixed point of τ_m dV/dt = (E_L − V) +
// g·(E_rev − V), with either integrator; and a lif population given the
// same spike would not move at all without an mV weight.
func TestCOBASteadyState(t *testing.T) {
	for _, m := range []Method{MethodExact, MethodEuler} {
		for _, c := range []struct{ w, erev float64 }{{10, -80}, {5, -90}, {30, -75}} {
			s, err := cobaPair(c.w, c.erev).Build(Options{Method: m})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.AddVoltage(0, 25); err != nil { // A spikes in step 0
				t.Fatal(err)
			}
			if sp := s.Step(); len(sp) != 1 || sp[0] != 0 {
				t.Fatalf("A did not spike: %v", sp)
			}
			s.Run(5000) // 500 ms ≫ τ_m/(1+g)
			g := c.w * 100 / 1000
			want := (-70 + g*c.erev) / (1 + g)
			if d := math.Abs(s.V()[1] - want); d > 1e-7 { // g decays by 5e-10 in 500 ms
				t.Errorf("%v, w %v nS, E_rev %v: V = %v, want %v", m, c.w, c.erev, s.V()[1], want)
			}
			if d := s.Drive(1); math.Abs(d-g) > 1e-6 {
				t.Errorf("%v: conductance %v, want %v", m, d, g)
			}
		}
	}
}

// TestCOBAValidate checks the weight fields against the target's model.
func TestCOBAValidate(t *testing.T) {
	erev := 0.0
	for _, c := range []struct {
		edit func(n *Network)
		want string
	}{
		{func(n *Network) { n.Populations[1].Model = "hh" }, `populations[1].model: unknown model "hh"`},
		{func(n *Network) { n.Projections[0].WeightMV = 1 }, "projections[0].weight_mv: target \"B\" is conductance-based"},
		{func(n *Network) { n.Projections[0].ERevMV = nil }, "projections[0].e_rev_mv: required"},
		{func(n *Network) { n.Projections[0].WeightNS = -1 }, "projections[0].weight_ns: must be a finite conductance ≥ 0"},
		{func(n *Network) { n.Projections[0].WeightNS = math.NaN() }, "projections[0].weight_ns"},
		{func(n *Network) { n.Projections[0].ERevMV = &[]float64{math.Inf(1)}[0] }, "projections[0].e_rev_mv: must be finite"},
		{func(n *Network) { n.Projections[0].To = "A" }, "projections[0].weight_ns: target \"A\" is current-based"},
		{func(n *Network) {
			n.Projections[0].Rule, n.Projections[0].Pairs, n.Projections[0].WeightsNS = RuleList, [][2]int{{0, 0}}, []float64{1, 2}
		}, "projections[0].weights_ns: 2 weights for 1 pairs"},
		{func(n *Network) {
			n.Projections[0].Rule, n.Projections[0].Pairs, n.Projections[0].WeightsNS = RuleList, [][2]int{{0, 0}}, []float64{-2}
		}, "projections[0].weights_ns[0]"},
		{func(n *Network) {
			n.Connect(Projection{From: "B", To: "A", Rule: RuleAllToAll, WeightMV: 1, ERevMV: &erev, TauSynMs: 5})
		}, "projections[1].e_rev_mv: target \"A\" is current-based"},
	} {
		n := cobaPair(10, -80)
		c.edit(n)
		if err := n.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
