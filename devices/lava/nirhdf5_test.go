package lava

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/engines/snn"
	"github.com/prismai/mec/internal/hdf5"
	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// spikeTrains runs net for steps steps on one thread and returns its
// spikes per step.
func spikeTrains(t *testing.T, net *snn.Network, steps int) [][]int {
	t.Helper()
	s, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := make([][]int, steps)
	for i := range out {
		out[i] = slices.Clone(s.Step())
	}
	return out
}

// TestNIRH5pyLayout: every .nir mec writes has exactly the groups,
// datasets, dtypes, shapes and values that nir.write writes for the same
// graph (testdata/nir_check.py, with the nir package, else with h5py
// following nir.write's rules); and mec reads that reference file back to
// the same graph and the same spike trains.
func TestNIRH5pyLayout(t *testing.T) {
	py, err := peers.PythonModule("h5py")
	peertest.Require(t, err)
	rich := testNetwork(5)
	rich.Populations[1].Neuron.TRefMs = 1
	rich.Populations[1].Neuron.IBiasNA = 0.5
	rich.Populations[1].Neuron.RMOhm = 2
	rich.Projections[2].DelayMs = 1.5
	cases := convCases(rand.New(rand.NewPCG(1, 1)))
	graphs := map[string]*NIRFile{}
	for _, c := range []string{"conv1d", "conv2d/same"} {
		n := cases[c]
		n.Bias = slices.Repeat([]float64{0.25}, n.KernelShape[0])
		graphs[c] = convGraph(t, n)
	}
	nets := map[string]*snn.Network{"tiny": tinyNetwork(), "rich": rich, "delta": deltaNetwork()}
	for name := range graphs {
		nets[name] = nil
	}
	for name, net := range nets {
		t.Run(name, func(t *testing.T) {
			f := graphs[name]
			if net != nil {
				f = mustExport(t, net)
			} else if net, err = ImportNIR(f); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			h5, err := EncodeNIRHDF5(f)
			if err != nil {
				t.Fatal(err)
			}
			js, err := MarshalNIR(f)
			if err != nil {
				t.Fatal(err)
			}
			mecFile, jsFile, refFile := filepath.Join(dir, "mec.nir"), filepath.Join(dir, "g.nir.json"), filepath.Join(dir, "ref.nir")
			if err := os.WriteFile(mecFile, h5, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(jsFile, js, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, filepath.Join("testdata", "nir_check.py"), mecFile, jsFile, refFile)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var res struct {
				OK        bool     `json:"ok"`
				Reference string   `json:"reference"`
				Paths     int      `json:"paths"`
				Diffs     []string `json:"diffs"`
			}
			if jerr := json.Unmarshal(out, &res); jerr != nil {
				t.Fatalf("nir_check.py: %v %v: %s%s", err, jerr, out, stderr.String())
			}
			if !res.OK || err != nil {
				t.Fatalf("mec's .nir differs from %s:\n%s", res.Reference, strings.Join(res.Diffs, "\n"))
			}
			if res.Paths < 10 {
				t.Fatalf("only %d paths compared", res.Paths)
			}
			t.Logf("%d groups and datasets equal to %s", res.Paths, res.Reference)

			ref, err := os.ReadFile(refFile)
			if err != nil {
				t.Fatal(err)
			}
			fr, err := DecodeNIRHDF5(ref)
			if err != nil {
				t.Fatalf("reading the h5py-written file: %v", err)
			}
			want, _ := UnmarshalNIR(js)
			fr.Version = want.Version // nir.write writes its own version
			if !reflect.DeepEqual(fr, want) {
				t.Fatalf("the h5py-written file decodes to\n%+v\nwant\n%+v", fr, want)
			}
			back, err := ImportNIR(fr)
			if err != nil {
				t.Fatal(err)
			}
			a, b := spikeTrains(t, net, 1000), spikeTrains(t, back, 1000)
			if !reflect.DeepEqual(a, b) {
				t.Fatal("spike trains differ after reading the h5py-written .nir")
			}
		})
	}
}

// TestNIRHDF5Golden: the tiny network's .nir is byte for byte
// testdata/tiny.nir (MEC_UPDATE_GOLDEN=1 rewrites it), and it decodes to
// the graph of testdata/tiny.nir.json: the layout cannot drift unnoticed
// where h5py is absent.
func TestNIRHDF5Golden(t *testing.T) {
	got, err := EncodeNIRHDF5(mustExport(t, tinyNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tiny.nir")
	if os.Getenv("MEC_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what EncodeNIRHDF5 writes (MEC_UPDATE_GOLDEN=1 rewrites it)", golden)
	}
	f, err := DecodeNIRHDF5(want)
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join("testdata", "tiny.nir.json"))
	if err != nil {
		t.Fatal(err)
	}
	fj, err := UnmarshalNIR(js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, fj) {
		t.Errorf("testdata/tiny.nir decodes to\n%+v\ntestdata/tiny.nir.json to\n%+v", f, fj)
	}
}

// badNIR encodes the graph of the tiny network after edit changes its
// HDF5 tree.
func badNIR(t *testing.T, edit func(root *hdf5.Group)) []byte {
	t.Helper()
	b, err := EncodeNIRHDF5(mustExport(t, tinyNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	root, err := hdf5.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	edit(root)
	b, err = hdf5.Encode(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNIRHDF5Errors: bad .nir files are errors naming the field or the
// node, never panics.
func TestNIRHDF5Errors(t *testing.T) {
	good, err := EncodeNIRHDF5(mustExport(t, tinyNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	nodes := func(r *hdf5.Group) *hdf5.Group { return r.Groups["node"].Groups["nodes"] }
	for _, c := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"truncated", good[:len(good)/2], []string{"truncated"}},
		{"signature", append([]byte("GIF89a"), good[6:]...), []string{"no HDF5 signature"}},
		{"no node", badNIR(t, func(r *hdf5.Group) { delete(r.Groups, "node") }), []string{"node", "not a NIR file"}},
		{"version", badNIR(t, func(r *hdf5.Group) { r.Datasets["version"] = hdf5.F64(1) }), []string{"version", "want one string"}},
		{"weight 1-d", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["proj0_P_A"].Datasets["weight"] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{4}, Floats: []float64{1, 0, 0, 1}}
		}), []string{"nodes.proj0_P_A.weight", "want a 2-d number array"}},
		{"weight rows", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["proj0_P_A"].Datasets["weight"] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{3, 2}, Floats: make([]float64, 6)}
		}), []string{"proj0_P_A.weight", "3 rows, target has 2 neurons"}},
		{"weight of no columns", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["proj0_P_A"].Datasets["weight"] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{2, 0}}
		}), []string{"nodes.proj0_P_A.weight", "no columns"}},
		{"2^30 rows of nothing", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["proj0_P_A"].Datasets["weight"] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{1 << 30, 0}}
		}), []string{"proj0_P_A/weight", "more elements than a file"}},
		{"r·w_in overflows", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["A"].Datasets["r"] = hdf5.F64(1e200)
			nodes(r).Groups["A"].Datasets["w_in"] = hdf5.F64(1e200)
		}), []string{"A.w_in", "overflows"}},
		{"scaled weight overflows", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["A"].Datasets["w_in"] = hdf5.F64(1e300)
			nodes(r).Groups["proj0_P_A"].Datasets["weight"].Floats[0] = 1e10
		}), []string{"proj0_P_A.weight", "overflows once scaled", "A's r·w_in"}},
		{"shape type", badNIR(t, func(r *hdf5.Group) { nodes(r).Groups["P"].Datasets["shape"] = hdf5.Str("2") }), []string{"nodes.P.shape", "want a 1-d integer array"}},
		{"NaN weight", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["proj0_P_A"].Datasets["weight"].Floats[0] = math.NaN()
		}), []string{"proj0_P_A.weight", "non-finite weight"}},
		{"NaN threshold", badNIR(t, func(r *hdf5.Group) {
			nodes(r).Groups["A"].Datasets["v_threshold"].Floats[1] = math.NaN()
		}), []string{"A.v_threshold"}},
		{"unknown node", badNIR(t, func(r *hdf5.Group) {
			c := nodes(r).Group("conv")
			c.Datasets["type"] = hdf5.Str("SumPooling2d")
			c.Datasets["stride"] = &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{2}, Ints: []int64{1, 1}}
		}), []string{`node "conv" is SumPooling2d`}},
		{"unknown field", badNIR(t, func(r *hdf5.Group) { nodes(r).Groups["A"].Datasets["tau"] = hdf5.F64(1) }), []string{"nodes.A.tau", "unknown field of a CubaLIF node"}},
		{"no type", badNIR(t, func(r *hdf5.Group) { delete(nodes(r).Groups["A"].Datasets, "type") }), []string{"nodes.A.type", "missing"}},
		{"edges", badNIR(t, func(r *hdf5.Group) { r.Groups["node"].Datasets["edges"] = hdf5.Str("A") }), []string{"node.edges", "want strings of shape [E 2]"}},
	} {
		f, err := DecodeNIRHDF5(c.in)
		if err == nil {
			_, err = ImportNIR(f)
		}
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", c.name, err, w)
			}
		}
	}
	// A graph with scalar parameters (NIR broadcasts them) and without
	// w_in (nir.read's default 1) imports.
	b := badNIR(t, func(r *hdf5.Group) {
		a := nodes(r).Groups["A"]
		for _, k := range []string{"tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset"} {
			a.Datasets[k] = hdf5.F64(a.Datasets[k].Floats[0])
		}
		delete(a.Datasets, "w_in")
	})
	f, err := DecodeNIRHDF5(b)
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	if p := net.Populations[0]; p.Size != 2 || p.Neuron.VResetMV != -60 || p.Neuron.VThMV != -50 {
		t.Errorf("scalar parameters: %+v", p)
	}
}

// TestNIRScale: a Scale node between a weight node and its target is
// folded into the weights (here Linear·½ → Scale 2 gives the network back
// exactly); one off that path is an error naming it.
func TestNIRScale(t *testing.T) {
	want, err := ImportNIR(mustExport(t, tinyNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	b := badNIR(t, func(r *hdf5.Group) {
		nodes := r.Groups["node"].Groups["nodes"]
		w := nodes.Groups["proj1_A_A"].Datasets["weight"]
		for i := range w.Floats {
			w.Floats[i] /= 2
		}
		sc := nodes.Group("s")
		sc.Datasets["type"] = hdf5.Str("Scale")
		sc.Datasets["scale"] = &hdf5.Dataset{Type: hdf5.Float32, Shape: []int{2}, Floats: []float64{2, 2}}
		e := r.Groups["node"].Datasets["edges"]
		for i := 0; i < len(e.Strings); i += 2 {
			if e.Strings[i] == "proj1_A_A" {
				e.Strings[i+1] = "s"
			}
		}
		e.Strings = append(e.Strings, "s", "A")
		e.Shape[0]++
	})
	f, err := DecodeNIRHDF5(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImportNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with a Scale node:\n%+v\nwant\n%+v", got, want)
	}
	f.Node.Nodes["t"] = NIRNode{Type: "Scale", Scale: []float64{3}}
	if _, err := ImportNIR(f); err == nil || !strings.Contains(err.Error(), "t: unsupported: a Scale node must sit") {
		t.Errorf("a Scale node off a projection: %v", err)
	}
}

// TestNIRGain: a CubaLIF node's r and w_in scale all its inputs, so they
// fold into the weights: r 4, w_in 0.5 with the weights into it halved
// gives the network back exactly.
func TestNIRGain(t *testing.T) {
	want, err := ImportNIR(mustExport(t, tinyNetwork()))
	if err != nil {
		t.Fatal(err)
	}
	b := badNIR(t, func(r *hdf5.Group) {
		nodes := r.Groups["node"].Groups["nodes"]
		a := nodes.Groups["A"]
		a.Datasets["r"] = hdf5.F64(4)
		a.Datasets["w_in"] = &hdf5.Dataset{Type: hdf5.Float32, Shape: []int{2}, Floats: []float64{0.5, 0.5}}
		for _, p := range []string{"proj0_P_A", "proj1_A_A"} {
			w := nodes.Groups[p].Datasets["weight"]
			for i := range w.Floats {
				w.Floats[i] /= 2
			}
		}
	})
	f, err := DecodeNIRHDF5(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImportNIR(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with r·w_in = 2:\n%+v\nwant\n%+v", got, want)
	}
}

// FuzzDecodeNIRHDF5: decoding and importing arbitrary bytes as a .nir file
// never panics, and every error names NIR's or HDF5's context.
func FuzzDecodeNIRHDF5(f *testing.F) {
	// Small seeds (the fuzzer slows down on large inputs): the tiny
	// network, and a graph of one Input, one Linear with a Delay, one
	// CubaLIF and a Scale.
	small := &NIRFile{Version: NIRVersion, Node: NIRGraph{Type: "NIRGraph", Nodes: map[string]NIRNode{
		"i": {Type: "Input", Shape: []int64{1}},
		"w": {Type: "Linear", Weight: [][]float64{{0.01}}},
		"d": {Type: "Delay", Delay: []float64{0.001}},
		"s": {Type: "Scale", Scale: []float64{2}},
		"n": {Type: "CubaLIF", TauSyn: []float64{0.005}, TauMem: []float64{0.02}, R: []float64{1},
			VLeak: []float64{-49}, VThreshold: []float64{-50}, VReset: []float64{-60}},
	}, Edges: NIREdges{Src: []string{"i", "w", "d", "s"}, Dst: []string{"w", "d", "s", "n"}}}}
	conv := convGraph(f, convCases(rand.New(rand.NewPCG(1, 1)))["conv2d/valid"])
	for _, g := range []*NIRFile{mustExport(f, tinyNetwork()), small, conv} {
		b, err := EncodeNIRHDF5(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeNIRHDF5(b)
		if err != nil {
			var ce *ConvError
			if !errors.Is(err, hdf5.ErrFormat) && !errors.As(err, &ce) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		_, _ = ImportNIR(g)
	})
}

// TestNIRChainSize: a CubaLIF node of scalar parameters fed through a
// Delay and a Scale node takes its size from the weight node before them;
// integer weight matrices (nir.write keeps numpy's dtype) are read as
// numbers.
func TestNIRChainSize(t *testing.T) {
	f := &NIRFile{Version: NIRVersion, Node: NIRGraph{Type: "NIRGraph", Nodes: map[string]NIRNode{
		"i": {Type: "Input", Shape: []int64{1}},
		"w": {Type: "Linear", Weight: [][]float64{{1}, {2}, {3}}},
		"d": {Type: "Delay", Delay: []float64{0.001}},
		"s": {Type: "Scale", Scale: []float64{2}},
		"n": {Type: "CubaLIF", TauSyn: []float64{0.005}, TauMem: []float64{0.02}, R: []float64{1},
			VLeak: []float64{-49}, VThreshold: []float64{-50}, VReset: []float64{-60}},
	}, Edges: NIREdges{Src: []string{"i", "w", "d", "s"}, Dst: []string{"w", "d", "s", "n"}}}}
	b, err := EncodeNIRHDF5(f)
	if err != nil {
		t.Fatal(err)
	}
	root, err := hdf5.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	root.Groups["node"].Groups["nodes"].Groups["w"].Datasets["weight"] = &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{3, 1}, Ints: []int64{1, 2, 3}}
	if b, err = hdf5.Encode(root); err != nil {
		t.Fatal(err)
	}
	g, err := DecodeNIRHDF5(b)
	if err != nil {
		t.Fatal(err)
	}
	if w := g.Node.Nodes["w"].Weight; !reflect.DeepEqual(w, [][]float64{{1}, {2}, {3}}) {
		t.Errorf("int64 weights read as %v", w)
	}
	net, err := ImportNIR(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Populations) != 1 || net.Populations[0].Size != 3 {
		t.Fatalf("populations %+v, want one of 3 neurons", net.Populations)
	}
	p := net.Projections[0]
	if p.DelayMs != 1 || len(p.WeightsMV) != 3 || math.Abs(p.WeightsMV[2]-3*2/0.005) > 1e-9 {
		t.Errorf("projection %+v, want delay 1 ms and weights (1, 2, 3)·2/5 ms", p)
	}
}
