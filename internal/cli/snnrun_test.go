package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/snn"
)

// noSpiking is a loaded test backend without the spiking capability, to
// check that asking for it is an error and not a fallback.
type noSpiking struct{}

func (noSpiking) Name() string                       { return "test-nospiking" }
func (noSpiking) Priority() int                      { return -100 }
func (noSpiking) Init() (backend.Backend, error)     { return noSpikingBackend{}, nil }
func (noSpikingBackend) Name() string                { return "test-nospiking" }
func (noSpikingBackend) Device() string              { return "a test backend with no capability" }
func (noSpikingBackend) Close() error                { return nil }
func (noSpikingBackend) ExtraCapabilities() []string { return []string{"test"} }

type noSpikingBackend struct{}

func init() { backend.Register(noSpiking{}) }

// testNetYAML has two populations, delays and monitors of both kinds.
const testNetYAML = `dt_ms: 0.1
seed: 3
populations:
  - name: E
    size: 80
    neuron: {tau_m_ms: 20, v_rest_mv: -49, v_th_mv: -50, v_reset_mv: -60, t_ref_ms: 5}
    tau_syn_ms: 5
    v_init: {uniform_mv: [-60, -50]}
  - name: I
    size: 20
    neuron: {tau_m_ms: 20, v_rest_mv: -49, v_th_mv: -50, v_reset_mv: -60, t_ref_ms: 5}
    tau_syn_ms: 10
    v_init: {uniform_mv: [-60, -50]}
poisson:
  - {name: P, size: 10, rate_hz: 50, tau_syn_ms: 5}
projections:
  - {from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0, delay_ms: 0.5}
  - {from: I, to: E, rule: fixed_probability, p: 0.1, weight_mv: -4}
  - {from: P, to: I, rule: all_to_all, weight_mv: 2}
monitors:
  rate_bin_ms: 2
  state:
    - {population: E, neurons: [0, 5], every_ms: 0.5}
    - {population: I, neurons: [3]}
`

func decodeRunReport(t *testing.T, out string) snnRunReport {
	t.Helper()
	var rep snnRunReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rep
}

// TestSNNRun checks mec snn run against package snn run directly: the
// same spikes (bit for bit: same count per population, same spike file)
// and the same sampled voltages, plus the rate bins adding up to the
// spike counts.
func TestSNNRun(t *testing.T) {
	dir := t.TempDir()
	netFile := writeFile(t, dir, "net.yaml", testNetYAML)
	spikes := filepath.Join(dir, "spikes.txt")
	svg := filepath.Join(dir, "run.svg")
	rep := decodeRunReport(t, mustRun(t, "snn", "run", netFile, "--duration", "0.3", "--json", "--spikes", spikes, "--svg", svg))

	if rep.Target != "cpu" || !rep.BackendAuto || rep.Engine != "mec snn" || rep.Neurons != 100 || rep.Seed != 3 {
		t.Errorf("report header: %+v", rep.CUBAResult)
	}
	net, err := snn.ParseYAML([]byte(testNetYAML))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	mon := sim.MonitorSpikes()
	sm1, _ := sim.MonitorState([]int{0, 5}, 5)
	sm2, _ := sim.MonitorState([]int{80 + 3}, 1)
	sim.Run(3000)
	if rep.Synapses != sim.Synapses() {
		t.Errorf("synapses %d, snn built %d", rep.Synapses, sim.Synapses())
	}
	if rep.Spikes != mon.Len() || rep.Spikes == 0 {
		t.Errorf("spikes %d, snn %d", rep.Spikes, mon.Len())
	}
	st := mon.Stats(300)
	if math.Abs(rep.MeanRateHz-st.MeanRateHz) > 1e-3 || rep.MeanCVISI == nil || math.Abs(*rep.MeanCVISI-st.MeanCVISI) > 1e-3 {
		t.Errorf("rate %v cv %v, snn %+v", rep.MeanRateHz, rep.MeanCVISI, st)
	}
	// The spike file is snn's spike list.
	var want strings.Builder
	for k := range mon.Index {
		fmt.Fprintf(&want, "%d %.1f\n", mon.Index[k], mon.Time(k))
	}
	got, err := os.ReadFile(spikes)
	if err != nil || string(got) != want.String() {
		t.Errorf("spike file differs from snn's (%v)", err)
	}
	// Per population and rate bins.
	if len(rep.Populations) != 2 || rep.Populations[0].Name != "E" || rep.Populations[0].Spikes+rep.Populations[1].Spikes != rep.Spikes {
		t.Fatalf("populations: %+v", rep.Populations)
	}
	if rep.Rate.BinMs != 2 || len(rep.Rate.TMs) != 150 || len(rep.Rate.Hz) != 2 {
		t.Fatalf("rate: bin %v, %d bins, %d series", rep.Rate.BinMs, len(rep.Rate.TMs), len(rep.Rate.Hz))
	}
	for p, hz := range rep.Rate.Hz {
		sum := 0.0
		for _, x := range hz {
			sum += x * float64(rep.Populations[p].Neurons) * rep.Rate.BinMs / 1000
		}
		if math.Abs(sum-float64(rep.Populations[p].Spikes)) > 1e-6 {
			t.Errorf("population %d: rate bins add up to %v spikes, want %d", p, sum, rep.Populations[p].Spikes)
		}
	}
	// State traces are snn's StateMonitor samples.
	if len(rep.State) != 2 || rep.State[0].Var != "v" || !slices.Equal(rep.State[0].Neurons, []int{0, 5}) {
		t.Fatalf("state: %+v", rep.State)
	}
	for k, tm := range sm1.T {
		if rep.State[0].TMs[k] != tm || rep.State[0].Values[0][k] != sm1.V[k][0] || rep.State[0].Values[1][k] != sm1.V[k][1] {
			t.Fatalf("state[0] sample %d: t %v v %v %v, snn t %v v %v", k, rep.State[0].TMs[k], rep.State[0].Values[0][k], rep.State[0].Values[1][k], tm, sm1.V[k])
		}
	}
	if len(rep.State[0].TMs) != len(sm1.T) || len(rep.State[1].TMs) != 3000 {
		t.Errorf("state samples: %d and %d, want %d and 3000", len(rep.State[0].TMs), len(rep.State[1].TMs), len(sm1.T))
	}
	for k := range sm2.T {
		if rep.State[1].Values[0][k] != sm2.V[k][0] {
			t.Fatalf("state[1] sample %d: %v, snn %v", k, rep.State[1].Values[0][k], sm2.V[k][0])
		}
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "membrane potential") {
		t.Errorf("svg: %v, %d bytes", err, len(b))
	}

	// Flags replace the file's monitors.
	rep = decodeRunReport(t, mustRun(t, "snn", "run", netFile, "--duration", "0.3", "--json",
		"--monitor-spikes", "I", "--monitor-v", "E:7", "--every-ms", "1", "--rate-bin-ms", "5"))
	if len(rep.Populations) != 1 || rep.Populations[0].Name != "I" || rep.Rate.BinMs != 5 || len(rep.State) != 1 ||
		len(rep.State[0].TMs) != 300 || rep.State[0].Neurons[0] != 7 {
		t.Errorf("flag monitors: populations %+v, bin %v, state %d", rep.Populations, rep.Rate.BinMs, len(rep.State))
	}
	text := mustRun(t, "snn", "run", netFile, "--duration", "0.05")
	if !strings.Contains(text, "backend cpu (automatic choice)") {
		t.Errorf("text output does not name the backend:\n%s", text)
	}
}

// TestSNNRunBackends runs the same file on every loaded spiking backend:
// the spike file and the voltages must be bit-identical to the CPU's (the
// conformance promise of backend.Spiking). A backend without the spiking
// capability is refused, naming it, never replaced by another.
func TestSNNRunBackends(t *testing.T) {
	dir := t.TempDir()
	netFile := writeFile(t, dir, "net.yaml", testNetYAML)
	ref := filepath.Join(dir, "cpu.txt")
	cpu := decodeRunReport(t, mustRun(t, "snn", "run", netFile, "--duration", "0.2", "--json", "--spikes", ref, "--backend", "cpu"))
	if cpu.Target != "cpu" || cpu.BackendAuto {
		t.Errorf("--backend cpu: target %q, auto %v", cpu.Target, cpu.BackendAuto)
	}
	want, _ := os.ReadFile(ref)
	ran := 0
	for _, b := range backend.LoadedBackends() {
		if _, ok := b.(backend.Spiking); !ok || b.Name() == "cpu" {
			continue
		}
		t.Run(b.Name(), func(t *testing.T) {
			f := filepath.Join(dir, b.Name()+".txt")
			rep := decodeRunReport(t, mustRun(t, "snn", "run", netFile, "--duration", "0.2", "--json", "--spikes", f, "--backend", b.Name()))
			got, _ := os.ReadFile(f)
			if rep.Target != b.Name() || rep.BackendAuto || string(got) != string(want) || rep.Synapses != cpu.Synapses {
				t.Errorf("target %q auto %v synapses %d: spikes differ from the CPU's (%d vs %d bytes)", rep.Target, rep.BackendAuto, rep.Synapses, len(got), len(want))
			}
			if !reflect.DeepEqual(rep.State, cpu.State) {
				t.Errorf("voltages differ from the CPU's")
			}
		})
		ran++
	}
	if ran == 0 {
		t.Log("no accelerator backend with the spiking capability is loaded: only the CPU ran")
	}
	for _, args := range [][]string{
		{"snn", "run", netFile, "--duration", "0.01", "--backend", "test-nospiking"},
		{"snn", "cuba", "--duration", "0.01", "--backend", "test-nospiking"},
	} {
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), `backend "test-nospiking" cannot run spiking networks`) || !strings.Contains(err.Error(), "test") {
			t.Errorf("mec %s: got %v, want an error naming the backend and its capabilities", strings.Join(args, " "), err)
		}
	}
	t.Setenv(backend.EnvBackend, "test-nospiking")
	if _, err := run(t, "snn", "run", netFile, "--duration", "0.01"); err == nil || !strings.Contains(err.Error(), "cannot run spiking networks") {
		t.Errorf("$MEC_BACKEND without the capability: got %v", err)
	}
}

// nirNetYAML is a network NIR can carry (explicit and all-to-all
// projections, one synaptic time constant per target, no delays).
const nirNetYAML = `dt_ms: 0.1
seed: 9
populations:
  - name: A
    size: 30
    neuron: {tau_m_ms: 10, v_rest_mv: -65, v_th_mv: -50, v_reset_mv: -70, t_ref_ms: 2, i_bias_na: 0.5, r_mohm: 20}
    tau_syn_ms: 5
    v_init: {uniform_mv: [-70, -55]}
poisson:
  - {name: P, size: 20, rate_hz: 80, tau_syn_ms: 5}
projections:
  - {from: P, to: A, rule: all_to_all, weight_mv: 1.5, delay_ms: 0.5}
  - {from: A, to: A, rule: list, pairs: [[0, 1], [1, 2], [2, 0], [5, 9]], weights_mv: [3, -2, 1, 4]}
`

// TestSNNConvert converts between the forms and checks that the network
// (and, through NIR, its spike trains) survive.
func TestSNNConvert(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "net.yaml", testNetYAML)
	orig, err := snn.ParseYAML([]byte(testNetYAML))
	if err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "net.json")
	mustRun(t, "snn", "convert", src, "--to", "json", "-o", js)
	back, err := loadSNNNetwork(js)
	if err != nil || !reflect.DeepEqual(back, orig) {
		t.Fatalf("yaml → json changed the network (%v):\n%+v\n%+v", err, back, orig)
	}
	yml := writeFile(t, dir, "again.yaml", mustRun(t, "snn", "convert", js, "--to", "yaml"))
	back, err = loadSNNNetwork(yml)
	if err != nil || !reflect.DeepEqual(back, orig) {
		t.Fatalf("json → yaml changed the network (%v)", err)
	}

	nsrc := writeFile(t, dir, "n.yaml", nirNetYAML)
	nj := filepath.Join(dir, "n.nir.json")
	mustRun(t, "snn", "convert", nsrc, "--to", "nir-json", "-o", nj)
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	ra := decodeRunReport(t, mustRun(t, "snn", "run", nsrc, "--duration", "0.2", "--json", "--spikes", a))
	rb := decodeRunReport(t, mustRun(t, "snn", "run", nj, "--duration", "0.2", "--json", "--spikes", b))
	sa, _ := os.ReadFile(a)
	sb, _ := os.ReadFile(b)
	if ra.Spikes == 0 || string(sa) != string(sb) || ra.Synapses != rb.Synapses {
		t.Errorf("through NIR JSON: %d spikes / %d synapses, directly %d / %d; spike files equal: %v", rb.Spikes, rb.Synapses, ra.Spikes, ra.Synapses, string(sa) == string(sb))
	}
	if _, err := run(t, "snn", "convert", src, "--to", "nir-json"); err == nil || !strings.Contains(err.Error(), "fixed_probability") {
		t.Errorf("NIR export of a fixed_probability projection: got %v", err)
	}
	if _, err := run(t, "snn", "convert", src, "--to", "xml"); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("--to xml: got %v", err)
	}
	if _, err := run(t, "snn", "convert", nsrc, "--to", "nir"); err == nil || !strings.Contains(err.Error(), "-o FILE is required") {
		t.Errorf("--to nir without -o: got %v", err)
	}
	// A real .nir file, written and read in Go: the same spike trains,
	// and the same network back in YAML.
	nf := filepath.Join(dir, "n.nir")
	mustRun(t, "snn", "convert", nsrc, "--to", "nir", "-o", nf)
	c := filepath.Join(dir, "c.txt")
	rc := decodeRunReport(t, mustRun(t, "snn", "run", nf, "--duration", "0.2", "--json", "--spikes", c))
	sc, _ := os.ReadFile(c)
	if string(sc) != string(sa) || rc.Synapses != ra.Synapses {
		t.Errorf("through .nir: %d spikes / %d synapses, directly %d / %d; spike files equal: %v", rc.Spikes, rc.Synapses, ra.Spikes, ra.Synapses, string(sc) == string(sa))
	}
	fromNIR, err := snn.ParseYAML([]byte(mustRun(t, "snn", "convert", nf, "--to", "yaml")))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := loadSNNNetwork(nj)
	if err != nil || !reflect.DeepEqual(fromNIR, fromJSON) {
		t.Errorf("the .nir and .nir.json forms give different networks (%v):\n%+v\n%+v", err, fromNIR, fromJSON)
	}
}

// TestSNNBadFiles checks that bad network files and flags fail with an
// error naming the field.
func TestSNNBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := testNetYAML
	cases := []struct {
		name, file, text string
		want             []string
		extra            []string
	}{
		{"unknown model field", "m.yaml", strings.Replace(good, "neuron: {tau_m_ms: 20", "neuron: {model: adex, tau_m_ms: 20", 1), []string{"model"}, nil},
		{"nan weight", "w.yaml", strings.Replace(good, "weight_mv: 1.0", "weight_mv: .nan", 1), []string{"projections[0].weight_mv", "finite"}, nil},
		{"negative delay", "d.yaml", strings.Replace(good, "delay_ms: 0.5", "delay_ms: -1", 1), []string{"projections[0].delay_ms"}, nil},
		{"wrong shape", "s.yaml", strings.Replace(nirNetYAML, "weights_mv: [3, -2, 1, 4]", "weights_mv: [3, -2]", 1), []string{"projections[1].weights_mv", "2 weights for 4 pairs"}, nil},
		{"monitor population", "mp.yaml", good + "  spikes: [X]\n", []string{"monitors.spikes[0]", `"X"`}, nil},
		{"monitor neuron", "mn.yaml", strings.Replace(good, "neurons: [3]", "neurons: [20]", 1), []string{"monitors.state[1].neurons[0]", "out of range"}, nil},
		{"monitor var", "mv.yaml", strings.Replace(good, "neurons: [3]}", "neurons: [3], vars: [w]}", 1), []string{"monitors.state[1].vars[0]", `"w"`}, nil},
		{"monitor every", "me.yaml", strings.Replace(good, "every_ms: 0.5", "every_ms: 0.05", 1), []string{"monitors.state[0].every_ms"}, nil},
		{"truncated json", "t.json", `{"populations": [{"name": "A", "size": 3`, []string{"network JSON"}, nil},
		{"truncated nir", "t.nir", "\x89HD", []string{"t.nir", "truncated"}, nil},
		{"hdf5 nir", "h.nir", "\x89HDF\r\n\x1a\n\x00\x00\x00\x00", []string{"h.nir", "superblock", "truncated"}, nil},
		{"not nir", "n.nir", "PK\x03\x04", []string{"n.nir", "no HDF5 signature"}, nil},
		{"truncated nir json", "t.nir.json", `{"version": "1.0", "node": {"type": "NIRGr`, []string{"t.nir.json"}, nil},
		{"flag probe", "ok.yaml", good, []string{"--monitor-v", "POPULATION:I"}, []string{"--monitor-v", "E"}},
		{"flag probe range", "ok.yaml", good, []string{"monitors.state[0].neurons[0]"}, []string{"--monitor-v", "E:99"}},
		{"flag spikes", "ok.yaml", good, []string{"monitors.spikes[1]"}, []string{"--monitor-spikes", "E,Q"}},
		{"flag duration", "ok.yaml", good, []string{"--duration"}, []string{"--duration", "-1"}},
		{"flag svg", "ok.yaml", good, []string{"--svg", ".svg"}, []string{"--svg", filepath.Join(dir, "x.png")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := writeFile(t, dir, c.file, c.text)
			_, err := run(t, append([]string{"snn", "run", f, "--duration", "0.01"}, c.extra...)...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestSNNRunCOBA runs the COBA benchmark file (engines/snn/testdata,
// compared with Brian2 there) for 0.1 s on every loaded spiking backend:
// the spike file must be the CPU's, byte for byte.
func TestSNNRunCOBA(t *testing.T) {
	dir := t.TempDir()
	coba := filepath.Join("..", "..", "engines", "snn", "testdata", "coba.yaml")
	var want []byte
	names := []string{"cpu"} // the reference first
	for _, b := range backend.LoadedBackends() {
		if _, ok := b.(backend.Spiking); ok && b.Name() != "cpu" {
			names = append(names, b.Name())
		}
	}
	for _, name := range names {
		b, err := backend.Select(name)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, b.Name()+".txt")
		rep := decodeRunReport(t, mustRun(t, "snn", "run", coba, "--duration", "0.1", "--method", "euler", "--json", "--spikes", f, "--backend", b.Name()))
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if b.Name() == "cpu" {
			want = got
			if rep.Spikes < 1000 || rep.Neurons != 4000 {
				t.Fatalf("cpu: %d spikes of %d neurons in 0.1 s: the COBA network is not running", rep.Spikes, rep.Neurons)
			}
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s: the spike file differs from the CPU's (%d vs %d bytes)", b.Name(), len(got), len(want))
		}
	}
}

// TestSNNRunSTDP runs the Song–Miller–Abbott file (engines/snn/testdata,
// compared with Brian2 there) briefly: the weights are reported, have
// moved, stay in [0, w_max], and every other spiking backend ends with the
// CPU's weights and spikes exactly.
func TestSNNRunSTDP(t *testing.T) {
	sma := filepath.Join("..", "..", "engines", "snn", "testdata", "stdp_sma.yaml")
	svg := filepath.Join(t.TempDir(), "stdp.svg")
	rep := decodeRunReport(t, mustRun(t, "snn", "run", sma, "--duration", "2", "--method", "euler", "--json", "--backend", "cpu", "--svg", svg))
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "final weights of projection 0") {
		t.Errorf("svg lacks the weight histogram (%v)", err)
	}
	if len(rep.Weights) != 1 || len(rep.Weights[0].Values) != 1000 || rep.Weights[0].WMax == nil || rep.Weights[0].FracLow == nil {
		t.Fatalf("weights: %+v", rep.Weights)
	}
	net, err := loadSNNNetwork(sma)
	if err != nil {
		t.Fatal(err)
	}
	moved, total := 0, 0
	for k, w := range rep.Weights[0].Values {
		if w < 0 || w > *rep.Weights[0].WMax {
			t.Fatalf("weight %d = %v outside [0, %v]", k, w, *rep.Weights[0].WMax)
		}
		if math.Abs(w-net.Projections[0].WeightsNS[k]) > 1e-12 {
			moved++
		}
	}
	for _, c := range rep.Weights[0].Hist {
		total += c
	}
	if moved < 900 || total != 1000 || rep.Spikes == 0 {
		t.Errorf("%d of 1000 weights moved, histogram of %d, %d output spikes", moved, total, rep.Spikes)
	}
	for _, b := range backend.LoadedBackends() {
		if _, ok := b.(backend.Spiking); !ok || b.Name() == "cpu" {
			continue
		}
		other := decodeRunReport(t, mustRun(t, "snn", "run", sma, "--duration", "2", "--method", "euler", "--json", "--backend", b.Name()))
		if len(other.Weights) != 1 || !slices.Equal(other.Weights[0].Values, rep.Weights[0].Values) || other.Spikes != rep.Spikes {
			t.Errorf("%s: weights or spikes differ from the CPU's (%d vs %d spikes)", b.Name(), other.Spikes, rep.Spikes)
		}
	}
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{strings.Replace(testNetYAML, "  rate_bin_ms: 2\n", "  rate_bin_ms: 2\n  weights: [7]\n", 1), "monitors.weights[0]: projection 7 out of range"},
		{strings.Replace(testNetYAML, "{from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0, delay_ms: 0.5}",
			"{from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0, stdp: {rule: additive, tau_plus_ms: 20, tau_minus_ms: 20, a_plus: 0.1, a_minus: 0.1, w_max: 2}}", 1), ""},
		{strings.Replace(testNetYAML, "{from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0, delay_ms: 0.5}",
			"{from: E, to: E, rule: fixed_probability, p: 0.1, weight_mv: 1.0, delay_ms: 0.5, stdp: {rule: additive, tau_plus_ms: 20, tau_minus_ms: 20, a_plus: 0.1, a_minus: 0.1, w_max: 2}}", 1),
			"projections[0].delay_ms: plastic"},
	} {
		f := writeFile(t, dir, "w.yaml", c.text)
		_, err := run(t, "snn", "run", f, "--duration", "0.05", "--backend", "cpu")
		if c.want == "" {
			if err != nil {
				t.Errorf("plastic recurrent projection: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestSNNRunFixedWeights checks monitors.weights on a fixed sparse
// projection: the CPU reports the built weights (snn.Sim.Weights), and
// every other spiking backend the same weights and histogram.
func TestSNNRunFixedWeights(t *testing.T) {
	text := strings.Replace(testNetYAML, "  rate_bin_ms: 2\n", "  rate_bin_ms: 2\n  weights: [0]\n", 1)
	netFile := writeFile(t, t.TempDir(), "fixed.yaml", text)
	args := []string{"snn", "run", netFile, "--duration", "0.05", "--json"}
	rep := decodeRunReport(t, mustRun(t, append(args, "--backend", "cpu")...))
	net, err := snn.ParseYAML([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if len(rep.Weights) != 1 || rep.Weights[0].Projection != 0 || !slices.Equal(rep.Weights[0].Values, sim.Weights(0)) || len(sim.Weights(0)) == 0 {
		t.Fatalf("cpu: weights of fixed projection 0: %+v", rep.Weights)
	}
	for _, b := range backend.LoadedBackends() {
		if _, ok := b.(backend.Spiking); !ok || b.Name() == "cpu" {
			continue
		}
		out, err := run(t, append(args, "--backend", b.Name())...)
		if err != nil {
			t.Errorf("%s: %v", b.Name(), err)
			continue
		}
		if w := decodeRunReport(t, out).Weights; len(w) != 1 || !slices.Equal(w[0].Values, rep.Weights[0].Values) || !slices.Equal(w[0].Hist, rep.Weights[0].Hist) {
			t.Errorf("%s: weights of fixed projection 0 differ from the CPU's", b.Name())
		}
	}
}

// modelNetYAML has an izhikevich and an adex population driven by biases.
const modelNetYAML = `dt_ms: 0.1
seed: 5
populations:
  - name: Z
    size: 3
    model: izhikevich
    izhikevich: {a: 0.02, b: 0.2, d: 8}
    neuron: {v_th_mv: 30, v_reset_mv: -65, i_bias_na: 10}
    tau_syn_ms: 5
    v_init: {uniform_mv: [-70, -60]}
  - name: A
    size: 2
    model: adex
    adex: {delta_t_mv: 2, v_t_mv: -50.4, a_ns: 4, b_na: 0.0805, tau_w_ms: 144}
    neuron: {tau_m_ms: 9.37, v_rest_mv: -70.6, v_th_mv: -40.4, v_reset_mv: -70.6, r_mohm: 33.3, i_bias_na: 0.8}
    v_init: {uniform_mv: [-70.6, -60]}
projections:
  - {from: Z, to: A, rule: all_to_all, weight_mv: 2}
`

// TestSNNRunModelState checks --monitor-u and --monitor-w on the CPU
// against snn.Sim.State sampled at the same steps, that they name the
// population's model when it lacks the variable, that every other spiking
// backend gives the CPU's values, and that a network that cannot read the
// state back fails naming its backend.
func TestSNNRunModelState(t *testing.T) {
	dir := t.TempDir()
	netFile := writeFile(t, dir, "models.yaml", modelNetYAML)
	args := []string{"snn", "run", netFile, "--duration", "0.05", "--json", "--every-ms", "0.5",
		"--monitor-w", "A:1", "--monitor-u", "Z:0,2"}
	rep := decodeRunReport(t, mustRun(t, append(args, "--backend", "cpu")...))
	if len(rep.State) != 2 || rep.State[0].Var != "u" || rep.State[0].Population != "Z" || rep.State[1].Var != "w" || rep.State[1].Population != "A" {
		t.Fatalf("state traces: %+v", rep.State)
	}
	net, err := snn.ParseYAML([]byte(modelNetYAML))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := net.Build(snn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spikes := 0
	for k := range 500 {
		if k%5 == 0 {
			for j, g := range []int{0, 2} {
				want, _ := sim.State(g)
				if got := rep.State[0].Values[j][k/5]; got != want {
					t.Fatalf("u of Z[%d] at step %d: %v, snn %v", g, k, got, want)
				}
			}
			want, _ := sim.State(3 + 1)
			if got := rep.State[1].Values[0][k/5]; got != want {
				t.Fatalf("w of A[1] at step %d: %v, snn %v", k, got, want)
			}
		}
		spikes += len(sim.Step())
	}
	if spikes == 0 || rep.State[1].Values[0][99] <= 0 {
		t.Errorf("the test network is silent (%d spikes, final w %v)", spikes, rep.State[1].Values[0][99])
	}
	if _, err := run(t, "snn", "run", netFile, "--monitor-w", "Z:0"); err == nil ||
		!strings.Contains(err.Error(), `"w" is a variable of adex populations; population "Z" is izhikevich`) {
		t.Errorf("--monitor-w on an izhikevich population: got %v", err)
	}
	// Every other spiking backend reads u and w back: u bit-identical to
	// the CPU's, w within 1e-8 nA (adex's exp is the device's; the
	// conformance suite's tolerance).
	for _, b := range backend.LoadedBackends() {
		if _, ok := b.(backend.Spiking); !ok || b.Name() == "cpu" {
			continue
		}
		out, err := run(t, append(args, "--backend", b.Name())...)
		if err != nil {
			t.Errorf("%s: %v", b.Name(), err)
			continue
		}
		got := decodeRunReport(t, out).State
		if len(got) != len(rep.State) {
			t.Fatalf("%s: %d state traces, the CPU's %d", b.Name(), len(got), len(rep.State))
		}
		for m, tr := range got {
			want := rep.State[m]
			if tr.Var != want.Var || tr.Population != want.Population || !slices.Equal(tr.TMs, want.TMs) || len(tr.Values) != len(want.Values) {
				t.Fatalf("%s: state trace %d is %s of %s at %d times, the CPU's %s of %s at %d", b.Name(), m,
					tr.Var, tr.Population, len(tr.TMs), want.Var, want.Population, len(want.TMs))
			}
			for j := range tr.Values {
				for k, x := range tr.Values[j] {
					y := want.Values[j][k]
					if (tr.Var == "u" && x != y) || math.Abs(x-y) > 1e-8 {
						t.Fatalf("%s: %s of %s[%d] at %v ms = %v, the CPU's %v", b.Name(), tr.Var, tr.Population, tr.Neurons[j], tr.TMs[k], x, y)
					}
				}
			}
		}
	}
	// A network that cannot read the state back fails up front, naming
	// the backend.
	cpu, err := backend.Select("cpu")
	if err != nil {
		t.Fatal(err)
	}
	nw, err := cpu.(backend.Spiking).NewNetwork(net, snn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Free()
	if _, err := stateReader(nw, "cpu"); err != nil {
		t.Errorf("the cpu network: %v", err)
	}
	hidden := struct{ backend.Network }{nw} // only the Network methods
	if _, err := stateReader(hidden, "test-nostate"); err == nil ||
		!strings.Contains(err.Error(), "backend test-nostate cannot read the model state u or w back") {
		t.Errorf("a network without backend.StateReader: got %v", err)
	}
}
