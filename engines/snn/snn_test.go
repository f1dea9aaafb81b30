package snn

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// single returns a one-neuron network driven by a constant current.
func single(tau, vrest, vth, vreset, tref, iBias float64) *Network {
	n := &Network{DtMs: 0.1}
	n.AddPopulation(Population{Name: "n", Size: 1, Neuron: LIF{TauMMs: tau, VRestMV: vrest, VThMV: vth,
		VResetMV: vreset, TRefMs: tref, IBiasNA: iBias}})
	return n
}

// measuredRate runs sim for steps steps and returns (spikes−1)/(t_last−t_first) in Hz.
func measuredRate(t *testing.T, sim *Sim, steps int) (float64, *SpikeMonitor) {
	t.Helper()
	mon := sim.MonitorSpikes()
	sim.Run(steps)
	if mon.Len() < 3 {
		t.Fatalf("only %d spikes", mon.Len())
	}
	span := mon.Time(mon.Len()-1) - mon.Time(0)
	return float64(mon.Len()-1) / span * 1000, mon
}

// TestSingleNeuronAnalytic checks the firing rate of a neuron with constant
// input against the analytic period T = t_ref + τ_m ln((V∞ − V_reset)/(V∞ − V_th)).
//
// With the exact integrator V is the exact solution sampled on the dt grid,
// so spikes are quantised to the grid: the simulated period is
// t_ref + dt·ceil(T_free/dt). To test the continuous formula to 1e-9 we pick
// V_th so that T_free = (m − 1e-8)·dt for an integer m: then the grid
// crossing is unambiguous (floating-point error in V is ~1e-11 steps, far
// below the 1e-8 step margin) and the grid period differs from the analytic
// one by 1e-8·dt, i.e. < 1e-10 relative.
func TestSingleNeuronAnalytic(t *testing.T) {
	for _, c := range []struct{ tau, vrest, vreset, tref, iBias float64 }{
		{20, -70, -70, 2, 25},
		{10, -65, -75, 5, 30},
		{35, -60, -60, 0, 40},
		{5, -70, -80, 1, 12},
	} {
		for _, m := range []int{37, 150, 401} {
			h := 0.1
			vinf := c.vrest + c.iBias // R = 1 MΩ
			free := (float64(m) - 1e-8) * h
			vth := vinf - (vinf-c.vreset)*math.Exp(-free/c.tau)
			T := c.tref + c.tau*math.Log((vinf-c.vreset)/(vinf-vth)) // the analytic formula
			sim, err := single(c.tau, c.vrest, vth, c.vreset, c.tref, c.iBias).Build(Options{})
			if err != nil {
				t.Fatal(err)
			}
			rate, mon := measuredRate(t, sim, int(20*T/h)+10)
			want := 1000 / T
			if rel := math.Abs(rate-want) / want; rel > 1e-9 {
				t.Errorf("%+v m=%d: rate %.12g Hz, analytic %.12g Hz, rel %.2g", c, m, rate, want, rel)
			}
			if first := mon.Time(0); math.Abs(first-float64(m)*h) > 1e-9 {
				t.Errorf("%+v m=%d: first spike at %v ms, want %v", c, m, first, float64(m)*h)
			}
		}
	}
}

// TestSingleNeuronDiscreteMap checks random parameters against the exact
// discrete-time map of both integrators: period t_ref + dt·k with
// k = ceil(T_free/dt) (exact) or the Euler map's crossing step.
func TestSingleNeuronDiscreteMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := 0.1
	for trial := 0; trial < 50; trial++ {
		tau := 2 + 40*r.Float64()
		vrest := -80 + 20*r.Float64()
		vreset := vrest - 10*r.Float64()
		vth := vrest + 5 + 15*r.Float64()
		vinf := vth + 0.5 + 20*r.Float64()
		tref := float64(r.IntN(40)) * h
		for _, method := range []Method{MethodExact, MethodEuler} {
			var k float64
			if method == MethodExact {
				k = tau / h * math.Log((vinf-vreset)/(vinf-vth))
			} else {
				k = math.Log((vinf-vth)/(vinf-vreset)) / math.Log(1-h/tau)
			}
			if f := k - math.Floor(k); f < 1e-6 || f > 1-1e-6 {
				continue // too close to a grid point to be unambiguous
			}
			T := tref + h*math.Ceil(k)
			sim, err := single(tau, vrest, vth, vreset, tref, vinf-vrest).Build(Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			rate, _ := measuredRate(t, sim, int(10*T/h)+10)
			if rel := math.Abs(rate-1000/T) * T / 1000; rel > 1e-9 {
				t.Errorf("%v trial %d: rate %v, discrete-map %v (rel %.2g)", method, trial, rate, 1000/T, rel)
			}
		}
	}
}

// TestEulerConverges checks that Euler approaches the analytic rate as dt → 0.
func TestEulerConverges(t *testing.T) {
	tau, vrest, vth, vreset, tref, i := 20.0, -70.0, -50.0, -70.0, 2.0, 25.0
	T := tref + tau*math.Log((vrest+i-vreset)/(vrest+i-vth))
	n := single(tau, vrest, vth, vreset, tref, i)
	n.DtMs = 0.001
	sim, err := n.Build(Options{Method: MethodEuler})
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := measuredRate(t, sim, int(5*T/n.DtMs))
	if rel := math.Abs(rate-1000/T) * T / 1000; rel > 2e-3 {
		t.Errorf("Euler dt=1µs: rate %v, analytic %v (rel %.2g)", rate, 1000/T, rel)
	}
}

// mixed is a network exercising every feature: CUBA plus a Poisson group,
// per-synapse delays, a dense projection and a three-channel population.
func mixed(seed uint64) *Network {
	n := CUBA(seed)
	n.AddPoisson(PoissonGroup{Name: "ext", Size: 300, RateHz: 20, TauSynMs: 2})
	n.Connect(Projection{From: "ext", To: "E", Rule: RuleFixedProbability, P: 0.05, WeightMV: 0.5, DelayMs: 1.5})
	n.Connect(Projection{From: "I", To: "E", Rule: RuleAllToAll, WeightMV: -0.0005, DelayMs: 0.3, Dense: true})
	var pairs [][2]int
	var d []float64
	r := rand.New(rand.NewPCG(seed, 9))
	for k := 0; k < 5000; k++ {
		pairs = append(pairs, [2]int{r.IntN(3200), r.IntN(800)})
		d = append(d, float64(r.IntN(30))*0.1)
	}
	n.Connect(Projection{From: "E", To: "I", Rule: RuleList, Pairs: pairs, WeightMV: 0.3, DelaysMs: d, TauSynMs: 3})
	return n
}

func TestThreadsIdentical(t *testing.T) {
	steps := 3000
	if testing.Short() {
		steps = 800
	}
	var ref *SpikeMonitor
	var refV []float64
	for _, th := range []int{1, 2, 3, 4} {
		sim, err := mixed(5).Build(Options{Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		mon := sim.MonitorSpikes()
		sim.Run(steps)
		if sim.Threads() != th {
			t.Fatalf("threads = %d, want %d", sim.Threads(), th)
		}
		if th == 1 {
			ref, refV = mon, append([]float64(nil), sim.V()...)
			if mon.Len() < 1000 {
				t.Fatalf("only %d spikes", mon.Len())
			}
			sim.Close()
			continue
		}
		if !reflect.DeepEqual(mon.Index, ref.Index) || !reflect.DeepEqual(mon.Step, ref.Step) {
			t.Errorf("threads=%d: spike trains differ from threads=1 (%d vs %d spikes)", th, mon.Len(), ref.Len())
		}
		for i, v := range sim.V() {
			if math.Float64bits(v) != math.Float64bits(refV[i]) {
				t.Fatalf("threads=%d: V[%d] = %v, threads=1 gave %v", th, i, v, refV[i])
			}
		}
		sim.Close()
	}
}

func TestSeedReproducible(t *testing.T) {
	run := func(seed uint64) []int32 {
		sim, err := mixed(seed).Build(Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := sim.MonitorSpikes()
		sim.Run(500)
		return m.Index
	}
	a, b, c := run(3), run(3), run(4)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different spikes")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same spikes")
	}
}

func TestVoltageCap(t *testing.T) {
	sim, err := mixed(2).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	vth := -50.0
	for k := 0; k < 2000; k++ {
		sim.Step()
		for i, v := range sim.V() {
			if !(v < vth) {
				t.Fatalf("step %d: V[%d] = %v ≥ V_th", k, i, v)
			}
		}
	}
	// AddVoltage over threshold: spikes in the next step even where the
	// integration alone would fall back below V_th (τ_m = 0.05 ms, V∞ = −70).
	n := single(0.05, -70, -50, -70, 1, 0)
	s, err := n.Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sp := s.Step(); len(sp) != 0 {
		t.Fatalf("spontaneous spike %v", sp)
	}
	if err := s.AddVoltage(0, 20.1); err != nil {
		t.Fatal(err)
	}
	if sp := s.Step(); !reflect.DeepEqual(sp, []int{0}) || s.V()[0] != -70 {
		t.Fatalf("after AddVoltage: spikes %v, V %v; want [0], −70", sp, s.V()[0])
	}
	// Refractory: AddVoltage is ignored for 10 steps, then acts again.
	for k := 0; k < 10; k++ {
		if !s.Refractory(0) {
			t.Fatalf("step %d after spike: not refractory", k)
		}
		if err := s.AddVoltage(0, 50); err != nil {
			t.Fatal(err)
		}
		if sp := s.Step(); len(sp) != 0 {
			t.Fatalf("refractory neuron spiked at step %d", k)
		}
	}
	if s.Refractory(0) {
		t.Fatal("still refractory after t_ref")
	}
	if err := s.AddVoltage(0, math.NaN()); err == nil {
		t.Error("AddVoltage(NaN) accepted")
	}
	if err := s.AddVoltage(5, 1); err == nil {
		t.Error("AddVoltage out of range accepted")
	}
}

func TestDelaysAndInjection(t *testing.T) {
	for _, delay := range []float64{0, 1.0} {
		for _, dense := range []bool{false, true} {
			n := &Network{DtMs: 0.1}
			lif := LIF{TauMMs: 10, VRestMV: -70, VThMV: -50, VResetMV: -70, TRefMs: 2}
			n.AddPopulation(Population{Name: "src", Size: 1, Neuron: lif, TauSynMs: 5})
			hi := lif
			hi.VThMV = 100
			n.AddPopulation(Population{Name: "tgt", Size: 2, Neuron: hi})
			if dense {
				n.Connect(Projection{From: "src", To: "tgt", Rule: RuleAllToAll, WeightMV: 2, DelayMs: delay, Dense: true})
			} else {
				n.Connect(Projection{From: "src", To: "tgt", Rule: RuleList, Pairs: [][2]int{{0, 1}, {0, 0}},
					WeightsMV: []float64{2, 2}, DelaysMs: []float64{delay, delay}})
			}
			sim, err := n.Build(Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := sim.InjectCurrent(0, 3000); err != nil { // one step of 3 µA: V jumps by ~30 mV
				t.Fatal(err)
			}
			d := int(math.Round(delay / 0.1))
			for k := 0; k <= d+3; k++ {
				sp := sim.Step()
				if k == 0 && !reflect.DeepEqual(sp, []int{0}) {
					t.Fatalf("step 0: spikes %v, want [0]", sp)
				}
				got := sim.Drive(1)
				want := 0.0
				if k >= d {
					want = 2 * math.Pow(math.Exp(-0.1/5), float64(k-d))
				}
				if math.Abs(got-want) > 1e-12 {
					t.Errorf("delay %v dense %v: after step %d drive %v, want %v", delay, dense, k, got, want)
				}
			}
			if sim.SpikeCounts()[0] != 1 {
				t.Errorf("injection persisted: %d spikes", sim.SpikeCounts()[0])
			}
		}
	}
}

func TestDenseEqualsSparse(t *testing.T) {
	run := func(dense bool) *SpikeMonitor {
		n := &Network{Seed: 3}
		lif := LIF{TauMMs: 20, VRestMV: -49, VThMV: -50, VResetMV: -60, TRefMs: 5}
		n.AddPopulation(Population{Name: "P", Size: 200, Neuron: lif, TauSynMs: 5, VInit: VInit{UniformMV: []float64{-60, -50}}})
		n.Connect(Projection{From: "P", To: "P", Rule: RuleFixedProbability, P: 0.1, WeightMV: -1, Dense: dense})
		n.Connect(Projection{From: "P", To: "P", Rule: RuleAllToAll, WeightMV: 0.01, DelayMs: 0.5, Dense: dense, TauSynMs: 3})
		sim, err := n.Build(Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := sim.MonitorSpikes()
		sim.Run(3000)
		return m
	}
	s, d := run(false), run(true)
	if s.Len() < 100 || !reflect.DeepEqual(s.Index, d.Index) || !reflect.DeepEqual(s.Step, d.Step) {
		t.Errorf("dense and sparse differ: %d vs %d spikes", s.Len(), d.Len())
	}
}

func TestPoissonRate(t *testing.T) {
	n := single(10, -70, -50, -70, 2, 0)
	n.AddPoisson(PoissonGroup{Name: "in", Size: 2000, RateHz: 50, TauSynMs: 5})
	n.Connect(Projection{From: "in", To: "n", Rule: RuleAllToAll, WeightMV: 0.001})
	sim, err := n.Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	sim.Run(10000) // 1 s
	total := int64(0)
	for _, c := range sim.PoissonCounts("in") {
		total += c
	}
	rate := float64(total) / 2000
	if math.Abs(rate-50) > 1 { // σ of the mean ≈ 0.16 Hz
		t.Errorf("Poisson rate %v Hz, want 50", rate)
	}
	if sim.PoissonCounts("nope") != nil {
		t.Error("unknown group returned counts")
	}
}

func TestStateMonitor(t *testing.T) {
	sim, err := CUBA(1).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	v0 := sim.V()[7]
	m, err := sim.MonitorState([]int{7, 3999}, 10)
	if err != nil {
		t.Fatal(err)
	}
	sim.Run(100)
	if len(m.T) != 10 || m.T[1] != 1.0 || m.V[0][0] != v0 || len(m.Drive[3]) != 2 {
		t.Errorf("state monitor: %d samples, T[1]=%v, V0=%v (want %v)", len(m.T), m.T[1], m.V[0][0], v0)
	}
	if _, err := sim.MonitorState([]int{4000}, 1); err == nil {
		t.Error("out-of-range index accepted")
	}
	if _, err := sim.MonitorState(nil, 0); err == nil {
		t.Error("every = 0 accepted")
	}
}

const fileJSON = `{
  "dt_ms": 0.1, "seed": 11,
  "populations": [
    {"name": "E", "size": 400, "tau_syn_ms": 5, "v_init": {"uniform_mv": [-60, -50]},
     "neuron": {"tau_m_ms": 20, "v_rest_mv": -49, "v_th_mv": -50, "v_reset_mv": -60, "t_ref_ms": 5}},
    {"name": "I", "size": 100, "tau_syn_ms": 10, "v_init": {"mv": -55},
     "neuron": {"tau_m_ms": 20, "v_rest_mv": -49, "v_th_mv": -50, "v_reset_mv": -60, "t_ref_ms": 5, "r_mohm": 2, "i_bias_na": 0.1}}
  ],
  "poisson": [{"name": "X", "size": 100, "rate_hz": 10, "tau_syn_ms": 5}],
  "projections": [
    {"from": "E", "to": "E", "rule": "fixed_probability", "p": 0.1, "weight_mv": 1.0},
    {"from": "E", "to": "I", "rule": "all_to_all", "weight_mv": 0.05, "delay_ms": 1},
    {"from": "I", "to": "E", "rule": "fixed_probability", "p": 0.1, "weight_mv": -4, "no_autapses": true},
    {"from": "X", "to": "I", "rule": "one_to_one", "weight_mv": 3, "tau_syn_ms": 2, "dense": true},
    {"from": "I", "to": "I", "rule": "list", "pairs": [[0, 1], [1, 0]], "weights_mv": [-1, -2], "delays_ms": [0.5, 0]}
  ]
}`

const fileYAML = `
dt_ms: 0.1
seed: 11
populations:
  - name: E
    size: 400
    tau_syn_ms: 5
    v_init: {uniform_mv: [-60, -50]}
    neuron: {tau_m_ms: 20, v_rest_mv: -49, v_th_mv: -50, v_reset_mv: -60, t_ref_ms: 5}
  - name: I
    size: 100
    tau_syn_ms: 10
    v_init: {mv: -55}
    neuron: {tau_m_ms: 20, v_rest_mv: -49, v_th_mv: -50, v_reset_mv: -60, t_ref_ms: 5, r_mohm: 2, i_bias_na: 0.1}
poisson:
  - {name: X, size: 100, rate_hz: 10, tau_syn_ms: 5}
projections:
  - {from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0}
  - {from: E, to: I, rule: all_to_all, weight_mv: 0.05, delay_ms: 1}
  - {from: I, to: E, rule: fixed_probability, p: 0.1, weight_mv: -4, no_autapses: true}
  - {from: X, to: I, rule: one_to_one, weight_mv: 3, tau_syn_ms: 2, dense: true}
  - from: I
    to: I
    rule: list
    pairs: [[0, 1], [1, 0]]
    weights_mv: [-1, -2]
    delays_ms: [0.5, 0]
`

func TestNetworkFile(t *testing.T) {
	j, err := ParseJSON([]byte(fileJSON))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ParseYAML([]byte(fileYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, y) {
		t.Fatalf("JSON and YAML differ:\n%+v\n%+v", j, y)
	}
	sj, err := j.Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mj := sj.MonitorSpikes()
	sj.Run(2000)
	sy, _ := y.Build(Options{Threads: 2})
	my := sy.MonitorSpikes()
	sy.Run(2000)
	sy.Close()
	if mj.Len() == 0 || !reflect.DeepEqual(mj.Index, my.Index) {
		t.Errorf("JSON and YAML networks spike differently (%d vs %d)", mj.Len(), my.Len())
	}
	if lo, hi, ok := sj.Population("I"); !ok || lo != 400 || hi != 500 {
		t.Errorf("Population(I) = %d, %d, %v", lo, hi, ok)
	}
}

func TestValidationErrors(t *testing.T) {
	for _, c := range []struct{ edit, want string }{
		{`"tau_m_ms": 20, "v_rest_mv": -49, "v_th_mv": -50, "v_reset_mv": -60, "t_ref_ms": 5}},
    {"name": "I"`, `populations[0].neuron.tau_m_ms`},
		{`"size": 100`, `populations[1].size`},
		{`"p": 0.1, "weight_mv": 1.0`, `projections[0].p`},
		{`"delay_ms": 1}`, `projections[1].delay_ms`},
		{`"to": "I", "rule": "one_to_one"`, `projections[3].to`},
		{`"rule": "all_to_all"`, `projections[1].rule`},
		{`"pairs": [[0, 1], [1, 0]]`, `projections[4].pairs[1]`},
		{`"rate_hz": 10`, `poisson[0].rate_hz`},
		{`"v_init": {"mv": -55}`, `populations[1].v_init.mv`},
		{`"dt_ms": 0.1`, `dt_ms`},
		{`"t_ref_ms": 5, "r_mohm"`, `populations[1].neuron.t_ref_ms`},
		{`"seed": 11`, `unknown field`},
	} {
		bad := map[string]string{
			`populations[0].neuron.tau_m_ms`: `"tau_m_ms": -20, "v_rest_mv": -49, "v_th_mv": -50, "v_reset_mv": -60, "t_ref_ms": 5}},
    {"name": "I"`,
			`populations[1].size`:            `"size": 0`,
			`projections[0].p`:               `"p": 1.5, "weight_mv": 1.0`,
			`projections[1].delay_ms`:        `"delay_ms": 0.05}`,
			`projections[3].to`:              `"to": "X", "rule": "one_to_one"`,
			`projections[1].rule`:            `"rule": "all_to_none"`,
			`projections[4].pairs[1]`:        `"pairs": [[0, 1], [1, 100]]`,
			`poisson[0].rate_hz`:             `"rate_hz": -1`,
			`populations[1].v_init.mv`:       `"v_init": {"mv": -40}`,
			`dt_ms`:                          `"dt_ms": -0.1`,
			`populations[1].neuron.t_ref_ms`: `"t_ref_ms": 0.55, "r_mohm"`,
			`unknown field`:                  `"seed": 11, "sed": 1`,
		}[c.want]
		src := strings.Replace(fileJSON, c.edit, bad, 1)
		if src == fileJSON {
			t.Fatalf("edit %q not found", c.edit)
		}
		_, err := ParseJSON([]byte(src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error naming %q, got %v", c.want, err)
		}
	}
	if _, err := CUBA(1).Build(Options{Threads: -1}); err == nil {
		t.Error("negative threads accepted")
	}
	if _, err := RunCUBA(0, 1, Options{}, nil); err == nil {
		t.Error("zero duration accepted")
	}
}

// TestSnapshotRestore: a restored simulation continues bit for bit
// (spikes and voltages) as the original did from the snapshot, and bad
// snapshots are rejected without changing the state.
func TestSnapshotRestore(t *testing.T) {
	net := CUBA(3)
	s, err := net.Build(Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Run(300)
	if err := s.AddVoltage(7, 30); err != nil { // a pending forced spike
		t.Fatal(err)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var want [][]int
	for i := 0; i < 200; i++ {
		want = append(want, append([]int(nil), s.Step()...))
	}
	wantV := append([]float64(nil), s.V()...)
	if err := s.Restore(snap[:len(snap)-3]); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
	if err := s.Restore([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted")
	}
	if err := s.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		got := s.Step()
		if len(got) != len(want[i]) {
			t.Fatalf("step %d after restore: %d spikes, want %d", i, len(got), len(want[i]))
		}
		for k := range got {
			if got[k] != want[i][k] {
				t.Fatalf("step %d after restore: spikes differ", i)
			}
		}
	}
	for i, v := range s.V() {
		if v != wantV[i] {
			t.Fatalf("V[%d] = %v after restore, want %v bit for bit", i, v, wantV[i])
		}
	}
	other, err := (&Network{DtMs: 0.1, Populations: []Population{{Name: "x", Size: 3, Neuron: LIF{TauMMs: 10, VRestMV: -60, VThMV: -50, VResetMV: -60}}}}).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Restore(snap); err == nil {
		t.Error("snapshot of another network accepted")
	}
}
