package lava

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/engines/snn"
)

func nirRoundTrip(t *testing.T, net *snn.Network) *snn.Network {
	t.Helper()
	f, err := ExportNIR(net)
	if err != nil {
		t.Fatal(err)
	}
	js, err := MarshalNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := UnmarshalNIR(js)
	if err != nil {
		t.Fatal(err)
	}
	back := importBoth(t, f)
	js2, err := MarshalNIR(mustExport(t, back))
	if err != nil {
		t.Fatal(err)
	}
	f3, _ := UnmarshalNIR(js2)
	if !reflect.DeepEqual(f2.Node.Nodes["E"], f3.Node.Nodes["E"]) {
		t.Errorf("re-export of population E differs")
	}
	return back
}

func mustExport(t testing.TB, n *snn.Network) *NIRFile {
	t.Helper()
	f, err := ExportNIR(n)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

// TestNIRRoundTrip: snn.Network → NIR (JSON and HDF5) → snn.Network gives the same
// network (populations, inputs, effective synapses within 1e-12 relative)
// and the same float simulation and fixed-point model.
func TestNIRRoundTrip(t *testing.T) {
	net := testNetwork(5)
	net.Populations[1].Neuron.TRefMs = 1
	net.Populations[1].Neuron.IBiasNA = 0.5
	net.Populations[1].Neuron.RMOhm = 2
	net.Projections[2].DelayMs = 1.5 // Linear → Delay → E
	back := nirRoundTrip(t, net)
	if back.DtMs != net.DtMs || back.Seed != net.Seed {
		t.Errorf("dt %v seed %v, want %v %v", back.DtMs, back.Seed, net.DtMs, net.Seed)
	}
	if !reflect.DeepEqual(back.Populations, net.Populations) {
		t.Errorf("populations:\n got %+v\nwant %+v", back.Populations, net.Populations)
	}
	if !reflect.DeepEqual(back.Poisson, net.Poisson) {
		t.Errorf("poisson: %+v vs %+v", back.Poisson, net.Poisson)
	}
	if len(back.Projections) != len(net.Projections) {
		t.Fatalf("%d projections, want %d", len(back.Projections), len(net.Projections))
	}
	for k, p := range net.Projections {
		q := back.Projections[k]
		if q.From != p.From || q.To != p.To || q.Rule != p.Rule || q.Dense != p.Dense || q.NoAutapses != p.NoAutapses || q.DelayMs != p.DelayMs {
			t.Errorf("projection %d: %+v vs %+v", k, q, p)
		}
		if p.Rule != snn.RuleList && !near(q.WeightMV, p.WeightMV) {
			t.Errorf("projection %d weight %v vs %v", k, q.WeightMV, p.WeightMV)
		}
		if p.Rule == snn.RuleList {
			type syn struct{ s, t int }
			want := map[syn]float64{}
			for i, pr := range p.Pairs {
				want[syn{pr[0], pr[1]}] += p.WeightsMV[i]
			}
			if len(q.Pairs) != len(want) {
				t.Fatalf("projection %d: %d pairs, want %d", k, len(q.Pairs), len(want))
			}
			for i, pr := range q.Pairs {
				if w := want[syn{pr[0], pr[1]}]; !near(q.WeightsMV[i], w) {
					t.Errorf("projection %d pair %v: %v, want %v", k, pr, q.WeightsMV[i], w)
				}
			}
		}
	}
	// Same float simulation.
	a, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := back.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	total := 0
	for step := 0; step < 1000; step++ {
		x, y := a.Step(), b.Step()
		if !slices.Equal(x, y) {
			t.Fatalf("step %d: spikes %v vs %v after the NIR round trip", step, x, y)
		}
		total += len(x)
	}
	if total == 0 {
		t.Error("no spikes: the comparison is vacuous")
	}
	// Same fixed-point model (synapse order aside; Lava's Dense has no
	// delays, so without the delay).
	net.Projections[2].DelayMs, back.Projections[2].DelayMs = 0, 0
	m1, err := Convert(net, ConvertOptions{IgnoreRefractory: true})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Convert(back, ConvertOptions{IgnoreRefractory: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Model{m1, m2} {
		for k := range m.Conns {
			slices.SortFunc(m.Conns[k].Synapses, func(x, y [3]int) int {
				if x[0] != y[0] {
					return x[0] - y[0]
				}
				return x[1] - y[1]
			})
		}
	}
	if !reflect.DeepEqual(m1, m2) {
		t.Error("fixed-point models differ after the NIR round trip")
	}
}

func TestNIRJSONLayout(t *testing.T) {
	f := mustExport(t, testNetwork(1))
	e := f.Node.Nodes["E"]
	if e.Type != "CubaLIF" || len(e.TauSyn) != 30 || e.TauSyn[0] != 0.005 || e.TauMem[0] != 0.01 || e.VThreshold[0] != -50 || e.VReset[0] != -60 {
		t.Errorf("E node: %+v", e)
	}
	in := f.Node.Nodes["in"]
	if in.Type != "Input" || !slices.Equal(in.Shape, []int64{20}) {
		t.Errorf("input node: %+v", in)
	}
	l := f.Node.Nodes["proj1_E_I"]
	if l.Type != "Linear" || len(l.Weight) != 10 || len(l.Weight[0]) != 30 || !near(l.Weight[0][0], 0.3*0.005) {
		t.Errorf("linear node: %d×%d", len(l.Weight), len(l.Weight[0]))
	}
	js, _ := MarshalNIR(f)
	if _, err := UnmarshalNIR(append(js[:len(js)-1], []byte(`,"extra":1}`)...)); err == nil {
		t.Error("unknown field accepted")
	}
	want, err := os.ReadFile(filepath.Join("testdata", "tiny.nir.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := MarshalNIR(mustExport(t, tinyNetwork()))
	if string(got) != string(want) {
		if os.Getenv("MEC_UPDATE_GOLDEN") == "1" {
			os.WriteFile(filepath.Join("testdata", "tiny.nir.json"), got, 0o644)
		}
		t.Errorf("golden testdata/tiny.nir.json differs (MEC_UPDATE_GOLDEN=1 rewrites it):\n%s", got)
	}
}

func tinyNetwork() *snn.Network {
	v := -55.0
	n := &snn.Network{DtMs: 0.1, Seed: 3}
	n.AddPopulation(snn.Population{Name: "A", Size: 2, TauSynMs: 5, VInit: snn.VInit{MV: &v},
		Neuron: snn.LIF{TauMMs: 20, VRestMV: -49, VThMV: -50, VResetMV: -60, TRefMs: 2}})
	n.AddPoisson(snn.PoissonGroup{Name: "P", Size: 2, RateHz: 10, TauSynMs: 5})
	n.Connect(snn.Projection{From: "P", To: "A", Rule: snn.RuleOneToOne, WeightMV: 2})
	n.Connect(snn.Projection{From: "A", To: "A", Rule: snn.RuleAllToAll, WeightMV: -1, NoAutapses: true})
	return n
}

func TestNIRImportErrors(t *testing.T) {
	f := mustExport(t, testNetwork(1))
	f.Node.Nodes["x"] = NIRNode{Type: "Conv2d"}
	if _, err := ImportNIR(f); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Conv2d: %v", err)
	}
	f = mustExport(t, testNetwork(1))
	e := f.Node.Nodes["E"]
	e.VThreshold = slices.Clone(e.VThreshold)
	e.VThreshold[3] = -40
	f.Node.Nodes["E"] = e
	if _, err := ImportNIR(f); !errors.Is(err, ErrUnsupported) {
		t.Errorf("non-uniform threshold: %v", err)
	}
	f = mustExport(t, testNetwork(1))
	f.Node.Edges.Src = append(f.Node.Edges.Src, "nowhere")
	f.Node.Edges.Dst = append(f.Node.Edges.Dst, "E")
	if _, err := ImportNIR(f); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown edge node: %v", err)
	}
	n := testNetwork(1)
	n.Projections[0].DelaysMs = make([]float64, len(n.Projections[0].Pairs))
	n.Projections[0].DelaysMs[1] = 0.5
	if _, err := ExportNIR(n); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "projections[0].delays_ms") {
		t.Errorf("per-pair delays: %v", err)
	}
	// A Delay node off a projection, or with delays that differ.
	n = testNetwork(1)
	n.Projections[2].DelayMs = 1
	f = mustExport(t, n)
	d := f.Node.Nodes["proj2_I_E_delay"]
	d.Delay = slices.Clone(d.Delay)
	d.Delay[0] = 0.002
	f.Node.Nodes["proj2_I_E_delay"] = d
	if _, err := ImportNIR(f); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "proj2_I_E_delay.delay") {
		t.Errorf("non-uniform Delay: %v", err)
	}
	f = mustExport(t, n)
	f.Node.Nodes["lone"] = NIRNode{Type: "Delay", Delay: []float64{0.001}}
	if _, err := ImportNIR(f); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "lone") {
		t.Errorf("a Delay node without a projection: %v", err)
	}
}

// TestNIRRoundTripRules checks that all_to_all (without autapses) and
// one_to_one come back as themselves.
func TestNIRRoundTripRules(t *testing.T) {
	net := tinyNetwork()
	f := mustExport(t, net)
	back, err := ImportNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range net.Projections {
		q := back.Projections[k]
		if q.Rule != p.Rule || q.NoAutapses != p.NoAutapses || !near(q.WeightMV, p.WeightMV) {
			t.Errorf("projection %d: %+v, want %+v", k, q, p)
		}
	}
	if !reflect.DeepEqual(back.Populations, net.Populations) {
		t.Errorf("populations: %+v vs %+v", back.Populations, net.Populations)
	}
}

// FuzzImportNIR checks that decoding and importing arbitrary NIR JSON never
// panics.
func FuzzImportNIR(f *testing.F) {
	for _, n := range []*snn.Network{tinyNetwork(), testNetwork(1), deltaNetwork()} {
		g, err := ExportNIR(n)
		if err != nil {
			f.Fatal(err)
		}
		js, err := MarshalNIR(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	f.Add([]byte(`{"version":"1.0","node":{"type":"NIRGraph","nodes":{"a":{"type":"Input","shape":[3]}},"edges":{"src":["a"],"dst":["b"]}}}`))
	conv := convCases(rand.New(rand.NewPCG(1, 1)))["conv1d"]
	js, err := MarshalNIR(convGraph(f, conv))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(js)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := UnmarshalNIR(b)
		if err != nil {
			return
		}
		_, _ = ImportNIR(g)
	})
}
