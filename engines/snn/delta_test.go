package snn

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestDeltaSynapseReference drives three neurons through delta synapses
// from a seeded Poisson group and checks every step's V and spikes against
// a reference written from the continuous equations: between grid points
// the membrane follows its ODE exactly (exact method) or by forward Euler
// (euler), and the weights delivered at the end of step n jump V at the end
// of step n+1. Tolerance 1e-9 mV (rounding differs from the engine's
// propagator form).
func TestDeltaSynapseReference(t *testing.T) {
	const h = 0.1
	leaky := LIF{TauMMs: 10, VRestMV: -65, VThMV: -62, VResetMV: -70, IBiasNA: 0.5}
	vinf := -64.5
	cases := []struct {
		name   string
		neuron LIF
		method Method
		next   func(v float64) float64 // V at the end of a step without input
		spikes bool
	}{
		{"leaky/exact", leaky, MethodExact, func(v float64) float64 { return vinf + (v-vinf)*math.Exp(-h/10) }, true},
		{"leaky/euler", leaky, MethodEuler, func(v float64) float64 { return v + h/10*(vinf-v) }, true},
		{"none", LIF{Leak: LeakNone, TauMMs: 20, VThMV: 5, VResetMV: -2, IBiasNA: 2},
			MethodExact, func(v float64) float64 { return v + 2*h/20 }, true},
		{"instant", LIF{Leak: LeakInstant, VRestMV: 1, VThMV: 3, VResetMV: 0, IBiasNA: 0.5},
			MethodExact, func(float64) float64 { return 1.5 }, true},
		{"leaky/no_spikes", LIF{TauMMs: 10, VRestMV: -65, IBiasNA: 0.5, NoSpikes: true},
			MethodExact, func(v float64) float64 { return vinf + (v-vinf)*math.Exp(-h/10) }, false},
		{"none/no_spikes", LIF{Leak: LeakNone, TauMMs: 1000, NoSpikes: true},
			MethodEuler, func(v float64) float64 { return v }, false},
	}
	weights := []float64{2.5, -1, 3, 1.7}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := &Network{DtMs: h, Seed: 11}
			v0 := 0.0
			if c.neuron.Leak == "" {
				v0 = -65
			}
			net.AddPopulation(Population{Name: "T", Size: 3, Neuron: c.neuron, VInit: VInit{MV: &v0}})
			net.AddPoisson(PoissonGroup{Name: "P", Size: 4, RateHz: 400})
			pairs := [][2]int{{0, 0}, {1, 1}, {2, 2}, {3, 0}}
			net.Connect(Projection{From: "P", To: "T", Rule: RuleList, Pairs: pairs, WeightsMV: weights, Synapse: SynapseDelta})
			s, err := net.Build(Options{Threads: 1, Method: c.method})
			if err != nil {
				t.Fatal(err)
			}
			ref := []float64{v0, v0, v0}
			in := make([]float64, 3) // delivered at the end of the last step
			prev := make([]int64, 4) // Poisson counts
			spikes, inputs := 0, 0
			for step := 0; step < 3000; step++ {
				got := s.Step()
				var want []int
				for i := range ref {
					ref[i] = c.next(ref[i]) + in[i]
					if c.spikes && ref[i] >= c.neuron.VThMV {
						ref[i] = c.neuron.VResetMV
						want = append(want, i)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("step %d: spikes %v, reference %v", step, got, want)
				}
				for k := range got {
					if got[k] != want[k] {
						t.Fatalf("step %d: spikes %v, reference %v", step, got, want)
					}
				}
				spikes += len(got)
				for i, x := range s.V() {
					if math.Abs(x-ref[i]) > 1e-9 {
						t.Fatalf("step %d: V[%d] = %.15g, reference %.15g", step, i, x, ref[i])
					}
				}
				clear(in)
				for k, n := range s.PoissonCounts("P") {
					if n != prev[k] {
						in[pairs[k][1]] += weights[k]
						prev[k] = n
						inputs++
					}
				}
				if d := s.Drive(0); d != in[0] {
					t.Fatalf("step %d: drive %v, want the pending delta input %v", step, d, in[0])
				}
			}
			if inputs < 100 {
				t.Fatalf("only %d input spikes", inputs)
			}
			if c.spikes && spikes < 20 {
				t.Fatalf("only %d spikes: the threshold is not tested", spikes)
			}
			if !c.spikes && spikes != 0 {
				t.Fatalf("%d spikes with no_spikes", spikes)
			}
		})
	}
}

// TestPerfectIntegratorExpSynapse checks leak "none" with an exponential
// synapse against the exact solution V(t) = w·τs/τm·(1 − e^{−t/τs}) of
// τm dV/dt = J, J = w·e^{−t/τs} (1e-12 mV), and forward Euler's sum.
func TestPerfectIntegratorExpSynapse(t *testing.T) {
	for _, m := range []Method{MethodExact, MethodEuler} {
		net := &Network{DtMs: 0.1}
		v0 := 0.0
		net.AddPopulation(Population{Name: "T", Size: 1, TauSynMs: 5, VInit: VInit{MV: &v0},
			Neuron: LIF{Leak: LeakNone, TauMMs: 20, VThMV: 100, VResetMV: -1}})
		net.AddPopulation(Population{Name: "S", Size: 1, TauSynMs: 5, Neuron: LIF{TauMMs: 10, VThMV: 1, VResetMV: 0}})
		net.Connect(Projection{From: "S", To: "T", Rule: RuleOneToOne, WeightMV: 3})
		s, err := net.Build(Options{Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddVoltage(1, 2); err != nil { // S spikes in step 0
			t.Fatal(err)
		}
		s.Step()
		j, sum := 3.0, 0.0
		for k := 1; k <= 400; k++ {
			s.Step()
			tt := float64(k) * 0.1
			want := 3 * 5.0 / 20 * -math.Expm1(-tt/5)
			if m == MethodEuler {
				sum += j * 0.1 / 20
				j *= 1 - 0.1/5
				want = sum
			}
			if d := math.Abs(s.V()[0] - want); d > 1e-12 {
				t.Fatalf("%v step %d: V = %.15g, want %.15g", m, k, s.V()[0], want)
			}
		}
	}
}

// TestDeltaValidation checks the errors of the new fields.
func TestDeltaValidation(t *testing.T) {
	base := func() *Network {
		net := &Network{}
		net.AddPopulation(Population{Name: "A", Size: 2, TauSynMs: 5, Neuron: LIF{TauMMs: 10, VThMV: 1, VResetMV: 0}})
		net.AddPopulation(Population{Name: "B", Size: 2, Neuron: LIF{TauMMs: 10, VThMV: 1, VResetMV: 0}})
		net.Connect(Projection{From: "A", To: "B", Rule: RuleAllToAll, WeightMV: 1, Synapse: SynapseDelta})
		return net
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid delta network: %v", err)
	}
	for _, c := range []struct {
		edit func(n *Network)
		want string
	}{
		{func(n *Network) { n.Projections[0].Synapse = "alpha" }, "projections[0].synapse"},
		{func(n *Network) { n.Projections[0].TauSynMs = 3 }, "projections[0].tau_syn_ms"},
		{func(n *Network) {
			n.Populations[1].Model = ModelIzhikevich
			n.Populations[1].Izhikevich = &Izhikevich{A: 0.02, B: 0.2, D: 8}
		}, "projections[0].synapse"},
		{func(n *Network) { n.Populations[1].Neuron.Leak = "some" }, "populations[1].neuron.leak"},
		{func(n *Network) { n.Populations[1].Neuron.Leak = LeakInstant }, "populations[1].neuron.tau_m_ms"},
		{func(n *Network) { n.Populations[1].Neuron.Leak, n.Populations[1].Neuron.VRestMV = LeakNone, -60 }, "populations[1].neuron.v_rest_mv"},
		{func(n *Network) { n.Populations[1].Neuron.NoSpikes = true }, "populations[1].neuron.v_th_mv"},
		{func(n *Network) {
			n.Populations[1].Neuron = LIF{Leak: LeakInstant, VThMV: 1}
			n.Projections[0].Synapse = ""
		}, "projections[0].synapse"},
		{func(n *Network) {
			n.Populations[0].Model = ModelCOBA
			n.Populations[0].Neuron.Leak = LeakNone
		}, "populations[0].neuron.leak"},
	} {
		n := base()
		c.edit(n)
		err := n.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s, got %v", c.want, err)
		}
	}
}

// TestDeltaSnapshotRestore: a snapshot taken with delta inputs pending
// restores to the same spikes and voltages bit for bit.
func TestDeltaSnapshotRestore(t *testing.T) {
	net := mixed(5)
	p := &net.Projections[len(net.Projections)-1]
	p.Synapse, p.TauSynMs, p.WeightMV = SynapseDelta, 0, 2
	s, err := net.Build(Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Run(300)
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for range 200 {
		want = append(want, s.Step()...)
	}
	wantV := append([]float64(nil), s.V()...)
	if err := s.Restore(snap); err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 200 {
		got = append(got, s.Step()...)
	}
	if len(want) < 50 || !slices.Equal(got, want) {
		t.Fatalf("after restore %d spikes, want the same %d", len(got), len(want))
	}
	for i, v := range s.V() {
		if math.Float64bits(v) != math.Float64bits(wantV[i]) {
			t.Fatalf("V[%d] = %v after restore, want %v", i, v, wantV[i])
		}
	}
}
