package lava

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/engines/snn"
)

// nirNodeCase is a NIR neuron node fed by a seeded Poisson Input through
// an Affine node, and the reference update of its state from NIR's
// equations: next(v, in) is v one step later given in = Σ_s W_ts·spike_s
// (the spikes of the previous step, Dirac impulses), with spikes when
// fires(v) (then v = reset).
type nirNodeCase struct {
	node  NIRNode
	bias  float64
	next  func(v, in float64) float64
	fires func(v float64) bool
	reset float64
}

const nirTestDtS = 1e-4 // 0.1 ms

func nirNodeCases() map[string]nirNodeCase {
	h := nirTestDtS
	tau, r, vleak, b := 0.01, 1.5, -0.2, 0.4
	return map[string]nirNodeCase{
		"LIF": {node: NIRNode{Type: "LIF", Tau: []float64{tau}, R: []float64{r}, VLeak: []float64{vleak},
			VThreshold: []float64{1}, VReset: []float64{-0.5}}, bias: b,
			next: func(v, in float64) float64 {
				vinf := vleak + r*b
				return vinf + (v-vinf)*math.Exp(-h/tau) + r*in/tau
			},
			fires: func(v float64) bool { return v > 1 }, reset: -0.5},
		"LI": {node: NIRNode{Type: "LI", Tau: []float64{tau, tau, tau}, R: []float64{r, r, r}, VLeak: []float64{vleak, vleak, vleak}},
			next: func(v, in float64) float64 { return vleak + (v-vleak)*math.Exp(-h/tau) + r*in/tau }},
		"IF": {node: NIRNode{Type: "IF", R: []float64{r}, VThreshold: []float64{0.6}}, bias: b,
			next:  func(v, in float64) float64 { return v + r*b*h + r*in },
			fires: func(v float64) bool { return v > 0.6 }},
		"I": {node: NIRNode{Type: "I", R: []float64{r}},
			next: func(v, in float64) float64 { return v + r*in }},
		"Threshold": {node: NIRNode{Type: "Threshold", Threshold: []float64{0.0125}}, bias: 0.0025,
			next:  func(_, in float64) float64 { return in + 0.0025 },
			fires: func(v float64) bool { return v > 0.0125 }},
	}
}

// nirNodeGraph is Input P (4 Poisson sources at 400 Hz) → Affine A
// (weights W, bias) → node X (3 neurons) → Output.
func nirNodeGraph(c nirNodeCase) *NIRFile {
	w := [][]float64{{0.01, 0, 0, 0.01}, {0, 0.02, -0.005, 0}, {0, 0, 0.015, 0.005}}
	g := NIRGraph{Type: "NIRGraph", Metadata: map[string]any{"mec_dt_ms": 0.1, "mec_seed": "5"},
		Nodes: map[string]NIRNode{
			"P":   {Type: "Input", Shape: []int64{4}, Metadata: map[string]any{"mec_rate_hz": 400.0}},
			"A":   {Type: "Affine", Weight: w, Bias: []float64{c.bias, c.bias, c.bias}},
			"X":   c.node,
			"out": {Type: "Output", Shape: []int64{3}},
		},
		Edges: NIREdges{Src: []string{"P", "A", "X"}, Dst: []string{"A", "X", "out"}}}
	return &NIRFile{Version: NIRVersion, Node: g}
}

// TestNIRNeuronNodes imports each of LIF, LI, IF, I and Threshold (JSON
// and .nir) and checks mec's states and spikes step by step against a
// reference simulation of NIR's equations written here: exact between
// grid points, the previous step's input spikes as Dirac impulses, v
// starting at 0, the strict test v > threshold. Tolerance 1e-9 (mV, or
// NIR's unit) on v; spikes exactly. LI and I are read through the state
// monitor their Output node asks for.
func TestNIRNeuronNodes(t *testing.T) {
	for name, c := range nirNodeCases() {
		t.Run(name, func(t *testing.T) {
			f := nirNodeGraph(c)
			net := importBoth(t, f)
			if c.fires == nil {
				if net.Monitors == nil || len(net.Monitors.State) != 1 || net.Monitors.State[0].Population != "X" {
					t.Fatalf("%s feeding an Output: want a state monitor of X, got %+v", name, net.Monitors)
				}
			}
			s, err := net.Build(snn.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			lo, _, _ := s.Population("X")
			w := f.Node.Nodes["A"].Weight
			v := make([]float64, 3)
			in := make([]float64, 3)
			prev := make([]int64, 4)
			spikes, inputs := 0, 0
			for step := range 4000 {
				got := s.Step()
				var want []int
				for i := range v {
					v[i] = c.next(v[i], in[i])
					if c.fires != nil && c.fires(v[i]) {
						v[i] = c.reset
						want = append(want, lo+i)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("step %d: spikes %v, reference %v (v %v)", step, got, want, v)
				}
				spikes += len(got)
				if name != "Threshold" {
					for i := range v {
						if d := math.Abs(s.V()[lo+i] - v[i]); d > 1e-9 {
							t.Fatalf("step %d: v[%d] = %.15g, reference %.15g", step, i, s.V()[lo+i], v[i])
						}
					}
				}
				clear(in)
				for k, n := range s.PoissonCounts("P") {
					if n != prev[k] {
						for i := range in {
							in[i] += w[i][k]
						}
						prev[k] = n
						inputs++
					}
				}
			}
			if inputs < 100 {
				t.Fatalf("only %d input spikes", inputs)
			}
			if c.fires != nil && spikes < 20 {
				t.Fatalf("only %d spikes: the threshold is not tested", spikes)
			}
		})
	}
}

// TestNIRNeuronRoundTrip exports networks with delta-synapse populations
// of every kind (LIF with a delay, refractory period and bias kept in
// metadata, LI, IF, I, Threshold) to .nir and back: the node types are
// the expected ones and the spike trains and voltages are the same
// (1e-9 mV: weights pass through W = w·τ and back).
func TestNIRNeuronRoundTrip(t *testing.T) {
	net := deltaNetwork()
	f := mustExport(t, net)
	want := map[string]string{"L": "LIF", "F": "IF", "T": "Threshold", "LI": "LI", "I": "I"}
	for n, typ := range want {
		if got := f.Node.Nodes[n].Type; got != typ {
			t.Errorf("population %s exported as %s, want %s", n, got, typ)
		}
	}
	back := importBoth(t, f)
	if back.Monitors == nil || len(back.Monitors.State) != 2 {
		t.Fatalf("LI and I outputs: want two state monitors, got %+v", back.Monitors)
	}
	for k := range net.Projections {
		if back.Projections[k].Synapse != snn.SynapseDelta {
			t.Errorf("projection %d came back as %q", k, back.Projections[k].Synapse)
		}
	}
	a, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := back.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if a.N() != c.N() {
		t.Fatalf("%d neurons, back %d", a.N(), c.N())
	}
	total := map[string]int{}
	for step := range 3000 {
		sa, sc := slices.Clone(a.Step()), c.Step()
		if !slices.Equal(sa, sc) {
			t.Fatalf("step %d: spikes %v, after the round trip %v", step, sa, sc)
		}
		for _, i := range sa {
			for _, n := range []string{"L", "F", "T"} {
				if lo, hi, _ := a.Population(n); i >= lo && i < hi {
					total[n]++
				}
			}
		}
		for i := range a.V() {
			if math.Abs(a.V()[i]-c.V()[i]) > 1e-9 {
				t.Fatalf("step %d: V[%d] = %v, after the round trip %v", step, i, a.V()[i], c.V()[i])
			}
		}
	}
	for _, n := range []string{"L", "F", "T"} {
		if total[n] < 5 {
			t.Errorf("population %s spiked %d times: the round trip is not tested", n, total[n])
		}
	}
}

// TestNIRNeuronErrors: bad parameters and graphs name the node and field.
func TestNIRNeuronErrors(t *testing.T) {
	cs := nirNodeCases()
	for _, c := range []struct {
		name string
		edit func(f *NIRFile)
		want string
	}{
		{"negative tau", func(f *NIRFile) { setX(f, "LIF", func(n *NIRNode) { n.Tau = []float64{-1} }) }, "X.tau"},
		{"NaN r", func(f *NIRFile) { setX(f, "IF", func(n *NIRNode) { n.R = []float64{math.NaN()} }) }, "X.r"},
		{"shape", func(f *NIRFile) { setX(f, "LI", func(n *NIRNode) { n.R = []float64{1, 1} }) }, "X.r"},
		{"missing", func(f *NIRFile) { setX(f, "LIF", func(n *NIRNode) { n.VThreshold = nil }) }, "X.v_threshold"},
		{"reset above", func(f *NIRFile) { setX(f, "LIF", func(n *NIRNode) { n.VReset = []float64{2} }) }, "X.v_reset"},
		{"LIF threshold below 0", func(f *NIRFile) {
			setX(f, "LIF", func(n *NIRNode) { n.VThreshold, n.VReset = []float64{-1}, []float64{-2} })
		}, "X.v_threshold"},
		{"IF threshold below 0", func(f *NIRFile) {
			setX(f, "IF", func(n *NIRNode) { n.VThreshold, n.VReset = []float64{-1}, []float64{-2} })
		}, "X.v_threshold"},
		{"NaN threshold", func(f *NIRFile) {
			setX(f, "Threshold", func(n *NIRNode) { n.Threshold = []float64{math.NaN()} })
		}, "X.threshold"},
		{"huge threshold", func(f *NIRFile) {
			setX(f, "Threshold", func(n *NIRNode) { n.Threshold = []float64{math.MaxFloat64} })
		}, "X.threshold"},
		{"huge v_threshold", func(f *NIRFile) {
			setX(f, "IF", func(n *NIRNode) { n.VThreshold = []float64{math.MaxFloat64} })
		}, "X.v_threshold"},
		{"bias shape", func(f *NIRFile) {
			setX(f, "LIF", nil)
			a := f.Node.Nodes["A"]
			a.Bias = []float64{1, 2}
			f.Node.Nodes["A"] = a
		}, "A.bias"},
		{"bias differs", func(f *NIRFile) {
			setX(f, "IF", nil)
			a := f.Node.Nodes["A"]
			a.Bias = []float64{1, 2, 1}
			f.Node.Nodes["A"] = a
		}, "A.bias"},
		{"bias into CubaLIF", func(f *NIRFile) {
			f.Node.Nodes["X"] = NIRNode{Type: "CubaLIF", TauSyn: []float64{0.005}, TauMem: []float64{0.01}, R: []float64{1},
				VLeak: []float64{0}, VThreshold: []float64{1}}
			a := f.Node.Nodes["A"]
			a.Bias = []float64{1}
			f.Node.Nodes["A"] = a
		}, "A.bias"},
		{"LI into a Linear", func(f *NIRFile) {
			setX(f, "LI", nil)
			f.Node.Nodes["Y"] = NIRNode{Type: "LIF", Tau: []float64{0.01}, R: []float64{1}, VLeak: []float64{0}, VThreshold: []float64{1}}
			f.Node.Nodes["B"] = NIRNode{Type: "Linear", Weight: [][]float64{{1, 1, 1}}}
			f.Node.Edges.Src = append(f.Node.Edges.Src, "X", "B")
			f.Node.Edges.Dst = append(f.Node.Edges.Dst, "B", "Y")
		}, "X"},
		{"I without Output", func(f *NIRFile) {
			setX(f, "I", nil)
			f.Node.Edges.Src, f.Node.Edges.Dst = f.Node.Edges.Src[:2], f.Node.Edges.Dst[:2]
		}, "X"},
	} {
		f := nirNodeGraph(cs["LIF"])
		c.edit(f)
		_, err := ImportNIR(f)
		var ce *ConvError
		if err == nil || !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, c.want) {
			t.Errorf("%s: want an error naming %s, got %v", c.name, c.want, err)
		}
	}
	// Export: a NIR IF has no bias; mixed synapse kinds have no node.
	net := &snn.Network{}
	net.AddPopulation(snn.Population{Name: "F", Size: 1, TauSynMs: 5, Neuron: snn.LIF{Leak: snn.LeakNone, TauMMs: 10, VThMV: 1, IBiasNA: 1}})
	net.AddPopulation(snn.Population{Name: "G", Size: 1, TauSynMs: 5, Neuron: snn.LIF{TauMMs: 10, VThMV: 1}})
	net.Connect(snn.Projection{From: "F", To: "G", Rule: snn.RuleAllToAll, WeightMV: 1, Synapse: snn.SynapseDelta})
	net.Connect(snn.Projection{From: "G", To: "G", Rule: snn.RuleAllToAll, WeightMV: 1})
	if _, err := ExportNIR(net); err == nil || !strings.Contains(err.Error(), "populations[0].neuron.i_bias_na") {
		t.Errorf("IF with a bias: want an error naming i_bias_na, got %v", err)
	}
	net.Populations[0].Neuron.IBiasNA = 0
	if _, err := ExportNIR(net); err == nil || !strings.Contains(err.Error(), "populations[1]") {
		t.Errorf("delta and exponential inputs: want an error naming populations[1], got %v", err)
	}
	// An LI population as a source: NIR would send its state, not spikes.
	net = deltaNetwork()
	net.Connect(snn.Projection{From: "LI", To: "L", Rule: snn.RuleOneToOne, WeightMV: 1, Synapse: snn.SynapseDelta})
	if _, err := ExportNIR(net); err == nil || !strings.Contains(err.Error(), "projections[5].from") {
		t.Errorf("LI source: want an error naming projections[5].from, got %v", err)
	}
}

// deltaNetwork has a delta-synapse population of every NIR kind: LIF
// (with a delay, refractory period and bias kept in metadata), IF,
// Threshold, LI and I.
func deltaNetwork() *snn.Network {
	net := &snn.Network{DtMs: 0.1, Seed: 9}
	net.AddPoisson(snn.PoissonGroup{Name: "P", Size: 5, RateHz: 300})
	net.AddPopulation(snn.Population{Name: "L", Size: 3, Neuron: snn.LIF{TauMMs: 10, VRestMV: -65, VThMV: -60, VResetMV: -70, TRefMs: 1, IBiasNA: 0.5}})
	net.AddPopulation(snn.Population{Name: "F", Size: 2, Neuron: snn.LIF{Leak: snn.LeakNone, TauMMs: 20, VThMV: 3, VResetMV: -1}})
	net.AddPopulation(snn.Population{Name: "T", Size: 2, Neuron: snn.LIF{Leak: snn.LeakInstant, VThMV: 2, VResetMV: 0}})
	net.AddPopulation(snn.Population{Name: "LI", Size: 3, Neuron: snn.LIF{TauMMs: 5, VRestMV: 1, NoSpikes: true}})
	net.AddPopulation(snn.Population{Name: "I", Size: 2, Neuron: snn.LIF{Leak: snn.LeakNone, TauMMs: 1000, NoSpikes: true}})
	d := snn.SynapseDelta
	net.Connect(snn.Projection{From: "P", To: "L", Rule: snn.RuleAllToAll, WeightMV: 2, Synapse: d, DelayMs: 0.3})
	net.Connect(snn.Projection{From: "P", To: "F", Rule: snn.RuleList, Pairs: [][2]int{{0, 0}, {1, 1}, {2, 0}}, WeightsMV: []float64{1, 1.5, -0.5}, Synapse: d})
	net.Connect(snn.Projection{From: "L", To: "T", Rule: snn.RuleAllToAll, WeightMV: 1.25, Synapse: d})
	net.Connect(snn.Projection{From: "L", To: "LI", Rule: snn.RuleOneToOne, WeightMV: 0.5, Synapse: d})
	net.Connect(snn.Projection{From: "F", To: "I", Rule: snn.RuleOneToOne, WeightMV: 1, Synapse: d})
	return net
}

// importBoth writes f as JSON and as .nir, checks that both decode to the
// same graph and import to the same network, and returns it.
func importBoth(t *testing.T, f *NIRFile) *snn.Network {
	t.Helper()
	js, err := MarshalNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	fj, err := UnmarshalNIR(js)
	if err != nil {
		t.Fatal(err)
	}
	h5, err := EncodeNIRHDF5(f)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := DecodeNIRHDF5(h5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fj, fh) {
		t.Fatalf("the JSON form decodes to\n%+v\nthe .nir form to\n%+v", fj, fh)
	}
	net, err := ImportNIR(fj)
	if err != nil {
		t.Fatal(err)
	}
	net2, err := ImportNIR(fh)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(net, net2) {
		t.Fatalf(".nir import differs from the JSON import:\n%+v\n%+v", net, net2)
	}
	return net
}

// setX replaces node X of a test graph by the node of case typ, edited.
func setX(f *NIRFile, typ string, edit func(n *NIRNode)) {
	n := nirNodeCases()[typ].node
	n.Tau, n.R, n.VLeak = slices.Clone(n.Tau), slices.Clone(n.R), slices.Clone(n.VLeak)
	if edit != nil {
		edit(&n)
	}
	f.Node.Nodes["X"] = n
	a := f.Node.Nodes["A"]
	a.Bias = nil
	f.Node.Nodes["A"] = a
}

// TestConvertRefusesDelta: the Lava bridge names what it cannot map.
func TestConvertRefusesDelta(t *testing.T) {
	_, err := Convert(deltaNetwork(), ConvertOptions{})
	if err == nil || !strings.Contains(err.Error(), "projections[0].synapse") {
		t.Errorf("delta synapses: want an error naming projections[0].synapse, got %v", err)
	}
	net := deltaNetwork()
	for k := range net.Projections {
		net.Projections[k].Synapse, net.Projections[k].DelayMs = "", 0
		net.Projections[k].TauSynMs = 5
	}
	net.Populations = net.Populations[:2]
	net.Projections = net.Projections[:2]
	_, err = Convert(net, ConvertOptions{IgnoreRefractory: true})
	if err == nil || !strings.Contains(err.Error(), "populations[1].neuron.leak") {
		t.Errorf("leak none: want an error naming populations[1].neuron.leak, got %v", err)
	}
	net.Populations[1].Neuron = snn.LIF{TauMMs: 10, NoSpikes: true}
	_, err = Convert(net, ConvertOptions{IgnoreRefractory: true})
	if err == nil || !strings.Contains(err.Error(), "populations[1].neuron.no_spikes") {
		t.Errorf("no_spikes: want an error naming populations[1].neuron.no_spikes, got %v", err)
	}
}

// TestNIRThresholdExact: NIR's v > v_threshold is kept exactly. An IF node
// with v_threshold 1 whose two inputs of weight 0.5 spike in the same
// step reaches v = 1 and does not spike; with the weights one float64
// above 0.5 it spikes in that step. The inputs fire every step (rate·dt
// = 1).
func TestNIRThresholdExact(t *testing.T) {
	for _, c := range []struct {
		w     float64
		spike bool
	}{{0.5, false}, {math.Nextafter(0.5, 1), true}} {
		f := &NIRFile{Version: NIRVersion, Node: NIRGraph{Type: "NIRGraph", Metadata: map[string]any{"mec_dt_ms": 0.1},
			Nodes: map[string]NIRNode{
				"P": {Type: "Input", Shape: []int64{2}, Metadata: map[string]any{"mec_rate_hz": 10000.0}},
				"A": {Type: "Linear", Weight: [][]float64{{c.w, c.w}}},
				"X": {Type: "IF", R: []float64{1}, VThreshold: []float64{1}, VReset: []float64{0}},
				"o": {Type: "Output", Shape: []int64{1}},
			},
			Edges: NIREdges{Src: []string{"P", "A", "X"}, Dst: []string{"A", "X", "o"}}}}
		net := importBoth(t, f)
		s, err := net.Build(snn.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		x, _, _ := s.Population("X")
		for step := 0; ; step++ {
			if step > 5 {
				t.Fatalf("w = %v: no input reached X in 5 steps", c.w)
			}
			spikes := s.Step()
			if len(spikes) == 0 && s.V()[x] == 0 {
				continue
			}
			if got := slices.Contains(spikes, x); got != c.spike {
				t.Fatalf("w = %v: step %d: spike %v (v = %v), want %v", c.w, step, got, s.V()[x], c.spike)
			}
			if !c.spike && s.V()[x] != 1 {
				t.Fatalf("w = %v: v = %v, want exactly 1", c.w, s.V()[x])
			}
			break
		}
		s.Close()
	}
}
