package lava

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/engines/snn"
	"github.com/prismai/mec/internal/hdf5"
)

// directConv computes a Conv node's output for the flat input x the
// textbook way, independently of convSynapses: it builds the zero-padded
// input tensor (for "same": total padding dilation·(K−1), the smaller
// half before), then for every output position sums the kernel against
// the window it selects.
func directConv(n *NIRNode, x []float64) []float64 {
	ks := slices.Clone(n.KernelShape)
	in := []int{int(n.InputShape[0]), 1}
	if n.Type == "Conv2d" {
		in[1] = int(n.InputShape[1])
	} else {
		ks = append(ks, 1)
	}
	get := func(v []int64, i, def int) int {
		if v == nil {
			return def
		}
		return int(v[min(i, len(v)-1)])
	}
	groups := max(int(n.Groups), 1)
	cout, cl := ks[0], ks[1]
	cin := cl * groups
	var stride, dil, lo, hi, out [2]int
	for i := range 2 {
		stride[i], dil[i] = get(n.Stride, i, 1), get(n.Dilation, i, 1)
		if n.Type == "Conv1d" && i == 1 {
			stride[i], dil[i] = 1, 1
		}
		switch {
		case n.PaddingMode == "same":
			tot := dil[i] * (ks[2+i] - 1)
			lo[i], hi[i] = tot/2, tot-tot/2
		case n.PaddingMode == "" && !(n.Type == "Conv1d" && i == 1):
			lo[i] = get(n.Padding, i, 0)
			hi[i] = lo[i]
		}
	}
	pad := [2]int{in[0] + lo[0] + hi[0], in[1] + lo[1] + hi[1]}
	xp := make([]float64, cin*pad[0]*pad[1])
	for c := range cin {
		for i := range in[0] {
			for j := range in[1] {
				xp[(c*pad[0]+i+lo[0])*pad[1]+j+lo[1]] = x[(c*in[0]+i)*in[1]+j]
			}
		}
	}
	for i := range 2 {
		out[i] = (pad[i]-dil[i]*(ks[2+i]-1)-1)/stride[i] + 1
	}
	y := make([]float64, cout*out[0]*out[1])
	for co := range cout {
		g := co / (cout / groups)
		for oi := range out[0] {
			for oj := range out[1] {
				sum := 0.0
				if n.Bias != nil {
					sum = n.Bias[co]
				}
				for c := range cl {
					for a := range ks[2] {
						for b := range ks[3] {
							w := n.Kernel[((co*cl+c)*ks[2]+a)*ks[3]+b]
							sum += w * xp[((g*cl+c)*pad[0]+oi*stride[0]+a*dil[0])*pad[1]+oj*stride[1]+b*dil[1]]
						}
					}
				}
				y[(co*out[0]+oi)*out[1]+oj] = sum
			}
		}
	}
	return y
}

// convCases are small Conv nodes covering stride, integer, "same" and
// "valid" padding, dilation and groups in one and two dimensions.
func convCases(r *rand.Rand) map[string]NIRNode {
	kernel := func(shape ...int) ([]float64, []int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		k := make([]float64, n)
		for i := range k {
			if r.IntN(5) > 0 { // some zeros
				k[i] = r.Float64()*2 - 1
			}
		}
		return k, shape
	}
	c1k, c1s := kernel(3, 2, 3)
	c1gk, c1gs := kernel(4, 1, 2)
	c2k, c2s := kernel(2, 3, 3, 2)
	c2gk, c2gs := kernel(4, 2, 3, 3)
	c2vk, c2vs := kernel(1, 2, 2, 2)
	return map[string]NIRNode{
		"conv1d": {Type: "Conv1d", Kernel: c1k, KernelShape: c1s, Stride: []int64{2}, Padding: []int64{1}, Dilation: []int64{1},
			Groups: 1, InputShape: []int64{9}, Bias: []float64{0.1, -0.2, 0.3}},
		"conv1d/groups+dilation": {Type: "Conv1d", Kernel: c1gk, KernelShape: c1gs, Stride: []int64{1}, Padding: []int64{2}, Dilation: []int64{3},
			Groups: 2, InputShape: []int64{7}},
		"conv2d/same": {Type: "Conv2d", Kernel: c2k, KernelShape: c2s, Stride: []int64{1, 1}, PaddingMode: "same", Dilation: []int64{2, 1},
			Groups: 1, InputShape: []int64{5, 6}},
		"conv2d/groups+stride": {Type: "Conv2d", Kernel: c2gk, KernelShape: c2gs, Stride: []int64{2, 1}, Padding: []int64{1, 0}, Dilation: []int64{1, 1},
			Groups: 2, InputShape: []int64{6, 5}, Bias: []float64{1, 2, 3, 4}},
		"conv2d/valid": {Type: "Conv2d", Kernel: c2vk, KernelShape: c2vs, PaddingMode: "valid", InputShape: []int64{4, 3}},
	}
}

// TestConvExpansion: the synapse list of every Conv case applied to random
// inputs equals the direct convolution (1e-12; the sums run in a
// different order).
func TestConvExpansion(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	for name, n := range convCases(r) {
		g, err := convGeometry(name, &n)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pairs, ws, bias := convSynapses(g, &n)
		for trial := range 3 {
			x := make([]float64, g.ins())
			for i := range x {
				x[i] = r.Float64()*2 - 1
			}
			want := directConv(&n, x)
			if len(want) != g.outs() {
				t.Fatalf("%s: %d outputs, direct convolution %d", name, g.outs(), len(want))
			}
			got := make([]float64, g.outs())
			if bias != nil {
				copy(got, bias)
			}
			for k, p := range pairs {
				got[p[1]] += ws[k] * x[p[0]]
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("%s trial %d: output %d = %v, direct convolution %v", name, trial, i, got[i], want[i])
				}
			}
		}
	}
}

// convGraph is Input P → Conv node c → LIF X → Output, sized to c.
func convGraph(t testing.TB, c NIRNode) *NIRFile {
	g, err := convGeometry("c", &c)
	if err != nil {
		t.Fatal(err)
	}
	g2 := NIRGraph{Type: "NIRGraph", Metadata: map[string]any{"mec_dt_ms": 0.1, "mec_seed": "3"},
		Nodes: map[string]NIRNode{
			"P": {Type: "Input", Shape: []int64{int64(g.ins())}, Metadata: map[string]any{"mec_rate_hz": 200.0}},
			"c": c,
			"X": {Type: "LIF", Tau: []float64{0.01}, R: []float64{2}, VLeak: []float64{0}, VThreshold: []float64{0.5}},
			"o": {Type: "Output", Shape: []int64{int64(g.outs())}},
		},
		Edges: NIREdges{Src: []string{"P", "c", "X"}, Dst: []string{"c", "X", "o"}}}
	return &NIRFile{Version: NIRVersion, Node: g2}
}

// TestNIRConvImport imports Input → Conv → LIF graphs from JSON and from
// .nir (the same network) and simulates them against a reference of the
// LIF equations whose input is the direct convolution of the previous
// step's input spikes (1e-9 on v, spikes exactly), without a bias and
// with one bias b for all channels: a constant current, τ dv/dt = −v +
// r·b between spikes, whose exact step is v·E + r·b·(1 − E).
func TestNIRConvImport(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	for name, c := range convCases(r) {
		for _, b := range []float64{0, 0.2} {
			c.Bias = nil // a per-channel bias is not one bias current per population
			sub := name
			if b != 0 {
				c.Bias, sub = fill(c.KernelShape[0], b), name+"/bias"
			}
			convImport(t, sub, c, b)
		}
	}
}

// convImport is one case of TestNIRConvImport: Conv node c with the bias
// b on every channel (0: none).
func convImport(t *testing.T, name string, c NIRNode, b float64) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		f := convGraph(t, c)
		nobias := c
		nobias.Bias = nil
		net := importBoth(t, f)
		if pr := net.Projections[0]; pr.Rule != snn.RuleList || pr.Synapse != snn.SynapseDelta {
			t.Fatalf("projection %+v: want a delta list", pr)
		}
		s, err := net.Build(snn.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, _ := s.Population("X")
		nin := f.Node.Nodes["P"].Shape[0]
		v := make([]float64, hi-lo)
		x := make([]float64, nin) // last step's input spikes
		prev := make([]int64, nin)
		spikes := 0
		for step := range 2000 {
			got := s.Step()
			in := directConv(&nobias, x)
			var want []int
			for i := range v {
				e := math.Exp(-0.1 / 10)
				v[i] = v[i]*e + 2*b*(1-e) + 2*in[i]/0.01
				if v[i] > 0.5 {
					v[i] = 0
					want = append(want, lo+i)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: spikes %v, reference %v", step, got, want)
			}
			spikes += len(got)
			for i := range v {
				if math.Abs(s.V()[lo+i]-v[i]) > 1e-9 {
					t.Fatalf("step %d: v[%d] = %v, reference %v", step, i, s.V()[lo+i], v[i])
				}
			}
			for k, n := range s.PoissonCounts("P") {
				x[k] = float64(n - prev[k])
				prev[k] = n
			}
		}
		if spikes < 10 {
			t.Fatalf("only %d spikes", spikes)
		}
	})
}

// TestNIRConvErrors: bad Conv fields are errors naming the node and field.
func TestNIRConvErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	base := convCases(r)["conv2d/groups+stride"]
	base.Bias = nil
	for _, c := range []struct {
		name string
		edit func(n *NIRNode)
		want string
	}{
		{"groups", func(n *NIRNode) { n.Groups = 3 }, "c.groups"},
		{"stride 0", func(n *NIRNode) { n.Stride = []int64{0} }, "c.stride"},
		{"dilation shape", func(n *NIRNode) { n.Dilation = []int64{1, 1, 1} }, "c.dilation"},
		{"negative padding", func(n *NIRNode) { n.Padding = []int64{-1} }, "c.padding"},
		{"same with stride", func(n *NIRNode) { n.PaddingMode = "same" }, "c.padding"},
		{"padding mode", func(n *NIRNode) { n.PaddingMode = "full" }, "c.padding"},
		{"NaN weight", func(n *NIRNode) { n.Kernel = slices.Clone(n.Kernel); n.Kernel[3] = math.NaN() }, "c.weight"},
		{"weight count", func(n *NIRNode) { n.Kernel = n.Kernel[:5] }, "c.weight"},
		{"weight rank", func(n *NIRNode) { n.KernelShape = []int{4, 2, 9} }, "c.weight"},
		{"kernel too large", func(n *NIRNode) { n.InputShape = []int64{1, 1}; n.Padding = []int64{0} }, "c.weight"},
		{"no input_shape", func(n *NIRNode) { n.InputShape = nil }, "c.input_shape"},
		{"bias shape", func(n *NIRNode) { n.Bias = []float64{1, 2} }, "c.bias"},
	} {
		n := base
		f := convGraph(t, n) // sized to the valid node
		c.edit(&n)
		f.Node.Nodes["c"] = n
		_, err := ImportNIR(f)
		var ce *ConvError
		if err == nil || !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, c.want) {
			t.Errorf("%s: want an error naming %s, got %v", c.name, c.want, err)
		}
	}
	// A source of the wrong size.
	f := convGraph(t, base)
	p := f.Node.Nodes["P"]
	p.Shape = []int64{p.Shape[0] + 1}
	f.Node.Nodes["P"] = p
	if _, err := ImportNIR(f); err == nil || !strings.Contains(err.Error(), "c.input_shape") {
		t.Errorf("source size: want an error naming c.input_shape, got %v", err)
	}
	// A per-channel bias that differs is not one bias current.
	f = convGraph(t, base)
	b := f.Node.Nodes["c"]
	b.Bias = []float64{1, 2, 3, 4}
	f.Node.Nodes["c"] = b
	if _, err := ImportNIR(f); err == nil || !strings.Contains(err.Error(), "c.bias") {
		t.Errorf("per-channel bias: want an error naming c.bias, got %v", err)
	}
}

// TestNIRConvSynapseCap: a few hundred bytes of JSON whose Conv node
// expands to 2^24 synapses (a 1×1 kernel over a 4096 × 4096 input) is
// refused before any synapse is allocated, naming the node and the count;
// the import allocates less than 16 MiB.
func TestNIRConvSynapseCap(t *testing.T) {
	const file = `{"version": "1.0", "node": {"type": "NIRGraph",
 "nodes": {"P": {"type": "Input", "shape": [16777216]},
  "c": {"type": "Conv2d", "weight": [[[[1.0]]]], "input_shape": [4096, 4096]},
  "X": {"type": "IF", "r": [1], "v_threshold": [1]},
  "o": {"type": "Output", "shape": [16777216]}},
 "edges": {"src": ["P", "c", "X"], "dst": ["c", "X", "o"]}}}`
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := UnmarshalNIR([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ImportNIR(f)
	runtime.ReadMemStats(&after)
	var ce *ConvError
	if err == nil || !errors.As(err, &ce) || ce.Field != "c.weight" || !strings.Contains(err.Error(), "16777216 synapses") {
		t.Errorf("want an error naming c.weight and its 16777216 synapses, got %v", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 16<<20 {
		t.Errorf("import allocated %d bytes, want < 16 MiB", a)
	}
}

// TestNIRNdParams: NIR's CNN files give the neurons after a Conv node
// N-d parameters (r [C][X][Y]) and their Input N-d shapes ([C, X, Y]);
// both encodings read them flat in C order and import the same network
// as the 1-d form of the same graph.
func TestNIRNdParams(t *testing.T) {
	c := convCases(rand.New(rand.NewPCG(2, 2)))["conv2d/groups+stride"]
	c.Bias = nil
	flat := convGraph(t, c)
	g, _ := convGeometry("c", &c)
	x := flat.Node.Nodes["X"]
	x.R, x.VThreshold = fill(g.outs(), 2), fill(g.outs(), 0.5)
	flat.Node.Nodes["X"] = x
	want, err := ImportNIR(flat)
	if err != nil {
		t.Fatal(err)
	}
	inShape := []int64{int64(g.cin), int64(g.in[0]), int64(g.in[1])}
	outShape := []int{g.cout, g.out[0], g.out[1]}

	// JSON: nested arrays and a 3-d shape.
	js, err := MarshalNIR(flat)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	nodes := m["node"].(map[string]any)["nodes"].(map[string]any)
	nodes["P"].(map[string]any)["shape"] = inShape
	nested := func(v float64) any { a, _ := nest(fill(g.outs(), v), outShape); return a }
	nodes["X"].(map[string]any)["r"] = nested(2)
	nodes["X"].(map[string]any)["v_threshold"] = nested(0.5)
	js, _ = json.Marshal(m)
	fj, err := UnmarshalNIR(js)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImportNIR(fj)
	if err != nil {
		t.Fatalf("JSON with N-d parameters: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON with N-d parameters imports\n%+v\nthe 1-d form\n%+v", got, want)
	}

	// .nir: 3-d datasets.
	h5, err := EncodeNIRHDF5(flat)
	if err != nil {
		t.Fatal(err)
	}
	root, err := hdf5.Decode(h5)
	if err != nil {
		t.Fatal(err)
	}
	hn := root.Groups["node"].Groups["nodes"]
	hn.Groups["P"].Datasets["shape"] = &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{3}, Ints: inShape}
	for _, k := range []string{"r", "v_threshold"} {
		hn.Groups["X"].Datasets[k].Shape = outShape
	}
	if h5, err = hdf5.Encode(root); err != nil {
		t.Fatal(err)
	}
	fh, err := DecodeNIRHDF5(h5)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = ImportNIR(fh); err != nil {
		t.Fatalf(".nir with N-d parameters: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf(".nir with N-d parameters imports\n%+v\nthe 1-d form\n%+v", got, want)
	}
}

// TestNIRFlatten: Flatten nodes (before a weight node, between it and its
// target, before an Output) pass the C-order flat tensor on unchanged:
// the graph imports, from JSON and .nir, as the one without them; an
// input_type of the wrong size is an error naming it, and nir.write's
// group form of input_type reads as the array.
func TestNIRFlatten(t *testing.T) {
	c := convCases(rand.New(rand.NewPCG(3, 3)))["conv2d/groups+stride"]
	c.Bias = nil
	plain := convGraph(t, c)
	want, err := ImportNIR(plain)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := convGeometry("c", &c)
	one, end := int64(1), int64(-1)
	withFlatten := func(inType []int64) *NIRFile {
		f := convGraph(t, c)
		f.Node.Nodes["F1"] = NIRNode{Type: "Flatten", StartDim: &one, EndDim: &end, InputType: inType}
		f.Node.Nodes["F2"] = NIRNode{Type: "Flatten"}
		f.Node.Nodes["F3"] = NIRNode{Type: "Flatten"}
		f.Node.Edges = NIREdges{Src: []string{"P", "F1", "c", "F2", "X", "F3"}, Dst: []string{"F1", "c", "F2", "X", "F3", "o"}}
		return f
	}
	f := withFlatten([]int64{int64(g.cin), int64(g.in[0]), int64(g.in[1])})
	if got := importBoth(t, f); !reflect.DeepEqual(got, want) {
		t.Errorf("with Flatten nodes:\n%+v\nwithout:\n%+v", got, want)
	}
	_, err = ImportNIR(withFlatten([]int64{int64(g.cin), int64(g.in[0]), int64(g.in[1]) + 1}))
	var ce *ConvError
	if err == nil || !errors.As(err, &ce) || ce.Field != "F1.input_type" {
		t.Errorf("wrong input_type: want an error naming F1.input_type, got %v", err)
	}
	// nir.write's form: input_type a group {"input": shape}.
	h5, err := EncodeNIRHDF5(f)
	if err != nil {
		t.Fatal(err)
	}
	root, err := hdf5.Decode(h5)
	if err != nil {
		t.Fatal(err)
	}
	fl := root.Groups["node"].Groups["nodes"].Groups["F1"]
	fl.Group("input_type").Datasets["input"] = fl.Datasets["input_type"]
	delete(fl.Datasets, "input_type")
	if h5, err = hdf5.Encode(root); err != nil {
		t.Fatal(err)
	}
	fh, err := DecodeNIRHDF5(h5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fh.Node.Nodes["F1"], f.Node.Nodes["F1"]) {
		t.Errorf("group input_type decodes to %+v, want %+v", fh.Node.Nodes["F1"], f.Node.Nodes["F1"])
	}
}

// TestNIRConvSynapseTotal: the bound holds for the Conv nodes of a graph
// together: two nodes of 3·2^20 synapses each (each under it) are refused
// at the second, naming it and the total.
func TestNIRConvSynapseTotal(t *testing.T) {
	const n = 3 << 20
	conv := NIRNode{Type: "Conv2d", Kernel: []float64{1}, KernelShape: []int{1, 1, 1, 1}, InputShape: []int64{2048, 1536}}
	ifn := NIRNode{Type: "IF", R: []float64{1}, VThreshold: []float64{1}}
	f := &NIRFile{Version: NIRVersion, Node: NIRGraph{Type: "NIRGraph",
		Nodes: map[string]NIRNode{"P": {Type: "Input", Shape: []int64{n}}, "c1": conv, "X": ifn, "c2": conv, "Y": ifn,
			"o": {Type: "Output", Shape: []int64{n}}},
		Edges: NIREdges{Src: []string{"P", "c1", "X", "c2", "Y"}, Dst: []string{"c1", "X", "c2", "Y", "o"}}}}
	_, err := ImportNIR(f)
	var ce *ConvError
	if err == nil || !errors.As(err, &ce) || ce.Field != "c2.weight" || !strings.Contains(err.Error(), "6291456") {
		t.Errorf("want an error naming c2.weight and the total 6291456, got %v", err)
	}
}
