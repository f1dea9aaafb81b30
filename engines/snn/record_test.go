package snn

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestRecorder checks the binned rates (a last partial bin divided by its
// own width), the default monitors and the sampling schedule against a
// hand-made spike sequence.
func TestRecorder(t *testing.T) {
	n := &Network{DtMs: 0.5}
	lif := LIF{TauMMs: 10, VRestMV: 0, VThMV: 1, VResetMV: 0}
	n.AddPopulation(Population{Name: "A", Size: 2, Neuron: lif})
	n.AddPopulation(Population{Name: "B", Size: 4, Neuron: lif})
	r, err := NewRecorder(n)
	if err != nil {
		t.Fatal(err)
	}
	if r.WantsV(0) {
		t.Error("no state monitors, yet WantsV")
	}
	// 5 steps of 0.5 ms; default bins of 1 ms = 2 steps: [0,2), [2,4), [4,5).
	r.Spikes(0, []int{0, 3})
	r.Spikes(1, []int{1})
	r.Spikes(3, []int{0, 2, 5})
	r.Spikes(4, []int{0})
	rec := r.Summarise(5)
	if rec.Rate.BinMs != 1 || len(rec.Rate.TMs) != 3 || rec.Rate.TMs[2] != 2 {
		t.Fatalf("bins: %+v", rec.Rate)
	}
	// A: 2 neurons; bin 0: 2 spikes → 2/2/1 ms = 1000 Hz; bin 1: 1 → 500 Hz;
	// bin 2 (0.5 ms wide): 1 → 1000 Hz. B: bin 0: 1/4/1 ms = 250 Hz, bin 1: 2 → 500 Hz.
	want := [][]float64{{1000, 500, 1000}, {250, 500, 0}}
	for p := range want {
		for k := range want[p] {
			if math.Abs(rec.Rate.Hz[p][k]-want[p][k]) > 1e-9 {
				t.Errorf("Hz[%d][%d] = %v, want %v", p, k, rec.Rate.Hz[p][k], want[p][k])
			}
		}
	}
	if rec.Stats.Spikes != 7 || rec.Populations[0].Spikes != 4 || rec.Populations[1].Spikes != 3 {
		t.Errorf("counts: %+v %+v", rec.Stats, rec.Populations)
	}
	// 7 spikes / 6 neurons / 2.5 ms.
	if math.Abs(rec.Stats.MeanRateHz-7.0/6/0.0025) > 1e-9 || rec.Stats.FracActive != 5.0/6 {
		t.Errorf("stats: %+v", rec.Stats)
	}
	// Neuron 0 spiked at steps 0, 3, 4: ISIs 1.5, 0.5 ms, CV 0.5.
	if cv := rec.Populations[0].MeanCVISI; cv == nil || *cv != 0.5 {
		t.Errorf("CV of A: %v", cv)
	}

	n.Monitors = &Monitors{Spikes: []string{"B"}, State: []StateProbe{{Population: "B", Neurons: []int{1, 3}, EveryMs: 1}}}
	r, err = NewRecorder(n)
	if err != nil {
		t.Fatal(err)
	}
	v := []float64{0, 1, 2, 3, 4, 5}
	for k := range int64(5) {
		if r.WantsV(k) != (k%2 == 0) {
			t.Fatalf("WantsV(%d) = %v", k, r.WantsV(k))
		}
		if r.WantsV(k) {
			r.SampleV(k, v)
		}
		r.Spikes(k, []int{0, 5})
	}
	rec = r.Summarise(5)
	if len(rec.Populations) != 1 || rec.Populations[0].Name != "B" || rec.Stats.Spikes != 5 {
		t.Errorf("spikes of B only: %+v", rec.Populations)
	}
	st := rec.State[0]
	if len(st.TMs) != 3 || st.TMs[1] != 1 || st.Values[0][2] != 3 || st.Values[1][0] != 5 {
		t.Errorf("state: %+v", st)
	}

	// u goes through SampleState, v through SampleV, one trace each.
	z := &Network{DtMs: 0.5}
	z.AddPopulation(Population{Name: "Z", Size: 2, Model: ModelIzhikevich, Izhikevich: &Izhikevich{A: 0.02, B: 0.2, D: 8},
		Neuron: LIF{VThMV: 30, VResetMV: -65}})
	z.Monitors = &Monitors{State: []StateProbe{{Population: "Z", Neurons: []int{1}, Vars: []string{"v", "u"}, EveryMs: 1}}}
	r, err = NewRecorder(z)
	if err != nil {
		t.Fatal(err)
	}
	if !r.NeedsState() || !r.WantsState(2) || r.WantsState(1) || !r.WantsV(0) {
		t.Fatalf("NeedsState %v WantsState(2) %v WantsState(1) %v WantsV(0) %v", r.NeedsState(), r.WantsState(2), r.WantsState(1), r.WantsV(0))
	}
	for k := range int64(4) {
		if k%2 == 0 {
			r.SampleV(k, []float64{0, float64(-k)})
			r.SampleState(k, []float64{0, float64(10 + k)})
		}
	}
	rec = r.Summarise(4)
	if len(rec.State) != 2 || rec.State[0].Var != "v" || rec.State[1].Var != "u" ||
		!slices.Equal(rec.State[0].Values[0], []float64{0, -2}) || !slices.Equal(rec.State[1].Values[0], []float64{10, 12}) {
		t.Errorf("v and u traces: %+v", rec.State)
	}
}

// TestMonitorsValidate checks that bad monitors name the field.
func TestMonitorsValidate(t *testing.T) {
	base := func() *Network {
		n := &Network{}
		n.AddPopulation(Population{Name: "A", Size: 3, Neuron: LIF{TauMMs: 10, VThMV: 1}})
		return n
	}
	for _, c := range []struct {
		m    Monitors
		want string
	}{
		{Monitors{Spikes: []string{"A", "A"}}, "monitors.spikes[1]: population \"A\" listed twice"},
		{Monitors{RateBinMs: 0.05}, "monitors.rate_bin_ms"},
		{Monitors{RateBinMs: -1}, "monitors.rate_bin_ms"},
		{Monitors{State: []StateProbe{{Population: "A"}}}, "monitors.state[0].neurons: at least one"},
		{Monitors{State: []StateProbe{{Population: "Z", Neurons: []int{0}}}}, "monitors.state[0].population"},
		{Monitors{State: []StateProbe{{Population: "A", Neurons: []int{-1}}}}, "monitors.state[0].neurons[0]"},
		{Monitors{State: []StateProbe{{Population: "A", Neurons: make([]int, MaxProbedNeurons+1)}}}, "probed neurons"},
		{Monitors{State: []StateProbe{{Population: "A", Neurons: []int{0}, Vars: []string{"x"}}}}, `monitors.state[0].vars[0]: unknown variable "x"`},
		{Monitors{State: []StateProbe{{Population: "A", Neurons: []int{0}, Vars: []string{"u"}}}}, `monitors.state[0].vars[0]: "u" is a variable of izhikevich populations; population "A" is lif`},
		{Monitors{State: []StateProbe{{Population: "A", Neurons: []int{0}, Vars: []string{"v", "v"}}}}, `monitors.state[0].vars[1]: "v" listed twice`},
	} {
		n := base()
		n.Monitors = &c.m
		if err := n.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.m, err, c.want)
		}
	}
}

// FuzzParseNetwork feeds arbitrary bytes to the network file decoders:
// they must return a network that validates, or an error, never panic.
func FuzzParseNetwork(f *testing.F) {
	f.Add([]byte(`{"populations":[{"name":"A","size":2,"neuron":{"tau_m_ms":10,"v_rest_mv":0,"v_th_mv":1,"v_reset_mv":0,"t_ref_ms":0}}],"monitors":{"spikes":["A"],"state":[{"population":"A","neurons":[1],"every_ms":0.2}]}}`))
	f.Add([]byte("populations:\n  - {name: A, size: 2, neuron: {tau_m_ms: 10, v_th_mv: 1, v_reset_mv: 0}}\nprojections:\n  - {from: A, to: A, rule: list, pairs: [[0, 1]], weights_mv: [.nan]}\n"))
	f.Add([]byte("dt_ms: 0.1\npopulations: []\n"))
	f.Add([]byte("populations:\n  - {name: Z, size: 2, model: izhikevich, izhikevich: {a: 0.02, b: 0.2, d: 8}, neuron: {v_th_mv: 30, v_reset_mv: -65}}\nmonitors: {state: [{population: Z, neurons: [1], vars: [v, u]}]}\n"))
	f.Add([]byte("populations:\n  - {name: A, size: 2, model: coba, neuron: {tau_m_ms: 10, v_th_mv: 1, v_reset_mv: 0}}\npoisson:\n  - {name: P, size: 3, rate_hz: 10, tau_syn_ms: 5}\nprojections:\n  - {from: P, to: A, rule: all_to_all, weight_ns: 1, e_rev_mv: 0, stdp: {rule: additive, tau_plus_ms: 20, tau_minus_ms: 20, a_plus: 0.1, a_minus: 0.1, w_max: 2}}\nmonitors: {weights: [0]}\n"))
	f.Add([]byte("populations:\n  - {name: Z, size: 2, model: izhikevich, izhikevich: {a: 0.02, b: 0.2, d: 8}, neuron: {v_th_mv: 30, v_reset_mv: -65}}\n  - {name: A, size: 1, model: adex, adex: {delta_t_mv: 2, v_t_mv: -50, a_ns: 4, b_na: 0.08, tau_w_ms: 144}, neuron: {tau_m_ms: 9, v_rest_mv: -70, v_th_mv: 0, v_reset_mv: -70}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (*Network, error){ParseJSON, ParseYAML} {
			n, err := parse(data)
			if err != nil {
				continue
			}
			if err := n.Validate(); err != nil {
				t.Fatalf("parsed network does not validate: %v", err)
			}
			if n.Monitors != nil {
				if _, err := NewRecorder(n); err != nil {
					t.Fatalf("recorder of a valid network: %v", err)
				}
			}
			if small(n) {
				sim, err := n.Build(Options{Threads: 1})
				if err != nil {
					t.Fatalf("a valid network does not build: %v", err)
				}
				sim.Run(20)
				sim.Close()
			}
		}
	})
}

// small reports whether n is cheap to build and step in a fuzz iteration:
// at most 200 neurons and 200 Poisson sources, delays and t_ref at most
// 100 steps.
func small(n *Network) bool {
	neurons, sources := 0, 0
	for _, p := range n.Populations {
		neurons += p.Size
		if p.Neuron.TRefMs > 100*n.dt() {
			return false
		}
	}
	for _, g := range n.Poisson {
		sources += g.Size
	}
	if neurons > 200 || sources > 200 {
		return false
	}
	for _, p := range n.Projections {
		if p.DelayMs > 100*n.dt() || len(p.Pairs) > 10000 {
			return false
		}
		for _, d := range p.DelaysMs {
			if d > 100*n.dt() {
				return false
			}
		}
	}
	return true
}
