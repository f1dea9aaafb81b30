package snn

import (
	"math"
	"strings"
	"testing"
)

// izhikevichNet is one izhikevich neuron with constant input i (R = 1, so
// I = i in Izhikevich's units).
func izhikevichNet(z Izhikevich, c, i float64) *Network {
	v0 := -65.0
	n := &Network{DtMs: 0.1}
	n.AddPopulation(Population{Name: "Z", Size: 1, Model: ModelIzhikevich, Izhikevich: &z,
		Neuron: LIF{VThMV: 30, VResetMV: c, IBiasNA: i}, VInit: VInit{MV: &v0}})
	return n
}

// adexNet is one adex neuron (Brette & Gerstner's parameters: C = 281 pF,
// g_L = 30 nS so R = 33.3 MΩ and τ_m = 9.37 ms) with constant input i nA.
func adexNet(b, i float64) *Network {
	v0 := -70.6
	n := &Network{DtMs: 0.1}
	n.AddPopulation(Population{Name: "A", Size: 1, Model: ModelAdEx,
		AdEx:   &AdEx{DeltaTMV: 2, VTMV: -50.4, ANS: 4, BNA: b, TauWMs: 144},
		Neuron: LIF{TauMMs: 281.0 / 30, VRestMV: -70.6, VThMV: 0, VResetMV: -70.6, RMOhm: 1000.0 / 30, IBiasNA: i},
		VInit:  VInit{MV: &v0}})
	return n
}

// spikeSteps runs s for steps steps and returns the steps neuron 0 spiked in.
func spikeSteps(s *Sim, steps int) []int {
	var out []int
	for k := 0; k < steps; k++ {
		if len(s.Step()) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// TestIzhikevich checks the model against a forward-Euler loop written
// from Izhikevich's equations (same step, same order), and its classes:
// with the same input, fast spiking (a = 0.1, d = 2) fires more than
// regular spiking (a = 0.02, d = 8), whose intervals lengthen
// (adaptation through u).
func TestIzhikevich(t *testing.T) {
	rs := Izhikevich{A: 0.02, B: 0.2, D: 8}
	s, err := izhikevichNet(rs, -65, 10).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, u, h := -65.0, 0.2*-65.0, 0.1
	var want []int
	for k := 0; k < 10000; k++ {
		f := 0.04*v*v + 5*v + 140 - u + 10
		y := v + h*f
		u = u + h*0.02*(0.2*v-u)
		if y >= 30 {
			y = -65
			u += 8
			want = append(want, k)
		}
		v = y
	}
	got := spikeSteps(s, 10000)
	if len(got) != len(want) || len(got) < 5 {
		t.Fatalf("regular spiking: %d spikes, reference %d", len(got), len(want))
	}
	for k := range got {
		if got[k] != want[k] {
			t.Fatalf("spike %d at step %d, reference %d", k, got[k], want[k])
		}
	}
	if x, ok := s.State(0); !ok || math.Abs(x-u) > 1e-9 {
		t.Errorf("u = %v, reference %v", x, u)
	}
	if got[2]-got[1] <= got[1]-got[0] {
		t.Errorf("regular spiking does not adapt: spikes at %v", got[:3])
	}
	fs, _ := izhikevichNet(Izhikevich{A: 0.1, B: 0.2, D: 2}, -65, 10).Build(Options{})
	if n := len(spikeSteps(fs, 10000)); n <= len(got) {
		t.Errorf("fast spiking fired %d times, regular spiking %d", n, len(got))
	}
}

// TestAdEx checks the model against a forward-Euler loop written from
// Brette & Gerstner's equations, and spike-frequency adaptation: with
// b > 0 the intervals lengthen, with a = b = 0 the neuron fires
// regularly and faster.
func TestAdEx(t *testing.T) {
	s, err := adexNet(0.0805, 0.8).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, w, h := -70.6, 0.0, 0.1
	tau, r := 281.0/30, 1000.0/30
	var want []int
	for k := 0; k < 5000; k++ {
		f := (-70.6 - v) + 2*math.Exp((v+50.4)/2) - r*w + r*0.8
		y := v + h/tau*f
		w = w + h/144*(4.0/1000*(v+70.6)-w)
		if y >= 0 {
			y = -70.6
			w += 0.0805
			want = append(want, k)
		}
		v = y
	}
	got := spikeSteps(s, 5000)
	if len(got) != len(want) || len(got) < 4 {
		t.Fatalf("adex: %d spikes, reference %d", len(got), len(want))
	}
	for k := range got {
		if got[k] != want[k] {
			t.Fatalf("spike %d at step %d, reference %d", k, got[k], want[k])
		}
	}
	if x, ok := s.State(0); !ok || math.Abs(x-w) > 1e-12 {
		t.Errorf("w = %v, reference %v", x, w)
	}
	n := len(got)
	if got[n-1]-got[n-2] <= got[1]-got[0] {
		t.Errorf("no spike-frequency adaptation: spikes at %v", got)
	}
	plain, _ := adexNet(0, 0.8).Build(Options{})
	if m := len(spikeSteps(plain, 5000)); m <= n {
		t.Errorf("without spike-triggered adaptation %d spikes, with it %d", m, n)
	}
}

// TestModelsValidate checks that bad model settings name the field.
func TestModelsValidate(t *testing.T) {
	for _, c := range []struct {
		net  *Network
		edit func(n *Network)
		want string
	}{
		{izhikevichNet(Izhikevich{A: 0.02}, -65, 10), func(n *Network) { n.Populations[0].Izhikevich = nil }, "populations[0].izhikevich: required"},
		{izhikevichNet(Izhikevich{A: 0.02}, -65, 10), func(n *Network) { n.Populations[0].Izhikevich.D = math.NaN() }, "populations[0].izhikevich.d"},
		{izhikevichNet(Izhikevich{A: 0.02}, -65, 10), func(n *Network) { n.Populations[0].Model, n.Populations[0].Neuron.TauMMs = ModelLIF, 10 }, "populations[0].izhikevich: parameters for model"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].AdEx.DeltaTMV = 0 }, "populations[0].adex.delta_t_mv"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].AdEx.TauWMs = -1 }, "populations[0].adex.tau_w_ms"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].AdEx.VTMV = 5 }, "populations[0].adex.v_t_mv"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].AdEx = nil }, "populations[0].adex: required"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].Neuron.TauMMs = 0 }, "populations[0].neuron.tau_m_ms"},
		{adexNet(0, 1), func(n *Network) { n.Populations[0].Model = "hh" }, `populations[0].model: unknown model "hh" (want one of lif, coba, izhikevich, adex)`},
	} {
		c.edit(c.net)
		if err := c.net.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
