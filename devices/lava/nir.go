package lava

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prismai/mec/engines/snn"
	"github.com/prismai/mec/internal/strict"
)

// NIR (the Neuromorphic Intermediate Representation, read by Lava-DL,
// SpiNNaker2, Norse, snnTorch, ...) stores graphs as HDF5 through nir.write.
// mec models the graph in Go (NIRFile) and has two encodings of it: real
// .nir files (EncodeNIRHDF5, DecodeNIRHDF5 in nirhdf5.go, through
// internal/hdf5) and a JSON mirror of the same layout (MarshalNIR,
// UnmarshalNIR, *.nir.json):
//
//	{"version": "1.0",
//	 "node": {"type": "NIRGraph",
//	          "nodes": {NAME: {"type": "CubaLIF", "tau_syn": [...], ...}, ...},
//	          "edges": {"src": [...], "dst": [...]},
//	          "metadata": {...}}}
//
// Both decode to the same NIRFile; ExportNIR and ImportNIR are the one
// mapping between it and snn.Network.
//
// Units and mapping. NIR itself is unit-free; mec writes time constants in
// seconds (the convention of the NIR reference implementations) and
// voltages in mV. An snn population becomes a CubaLIF node
//
//	τ_syn dI/dt = −I + w_in·S,   τ_mem dv/dt = (v_leak − v) + r·I,
//	spike when v > v_threshold, then v = v_reset,
//
// with tau_syn = τ_syn/1000 s (the one synaptic time constant of its
// inputs), tau_mem = τ_m/1000 s, r = 1, v_leak = V_rest + R·I_bias (mV),
// v_threshold = V_th, v_reset = V_reset (mV), w_in = 1, and I = snn's drive
// J (mV). Input spikes S are Dirac impulses, so one spike through weight W
// makes I jump by W/tau_syn: a projection of weight w (mV) becomes a Linear
// node with weight W = w·tau_syn (mV·s), shape [target][source]. A Poisson
// group becomes an Input node ("shape" = [size]); each population also
// feeds an Output node "out_NAME". What NIR cannot say (refractory period,
// Poisson rate, initial voltages, seed, rule of a projection, the split of
// v_leak into V_rest and R·I_bias) is kept in the nodes' "metadata" under
// "mec_*" keys, which Import reads back; other NIR tools ignore it.
// NIR's threshold test is v > v_threshold where snn's is V ≥ V_th.

// maxNIRSize bounds the size of an imported Input node (2^24 neurons).
const maxNIRSize = 1 << 24

// NIRVersion is the NIR format version the JSON mirrors.
const NIRVersion = "1.0"

// NIRFile is the JSON form of a .nir file.
type NIRFile struct {
	Version string   `json:"version"`
	Node    NIRGraph `json:"node"`
}

// NIRGraph is nir.NIRGraph: named nodes and directed edges.
type NIRGraph struct {
	// Type is "NIRGraph".
	Type     string             `json:"type"`
	Nodes    map[string]NIRNode `json:"nodes"`
	Edges    NIREdges           `json:"edges"`
	Metadata map[string]any     `json:"metadata,omitempty"`
}

// NIREdges lists edges as parallel source and destination node names.
type NIREdges struct {
	Src []string `json:"src"`
	Dst []string `json:"dst"`
}

// NIRNode is one NIR node; which fields are set depends on Type ("Input",
// "Output", "Linear", "Affine", "LIF", "CubaLIF", "Delay", "Scale"); the JSON keys
// are NIR's field names.
type NIRNode struct {
	Type string `json:"type"`
	// Shape is the tensor shape of Input and Output nodes.
	Shape []int64 `json:"shape,omitempty"`
	// Weight ([out][in]) and Bias ([out]) of Linear and Affine.
	Weight [][]float64 `json:"weight,omitempty"`
	Bias   []float64   `json:"bias,omitempty"`
	// Tau is LIF's membrane time constant (s).
	Tau []float64 `json:"tau,omitempty"`
	// TauSyn and TauMem are CubaLIF's time constants (s).
	TauSyn []float64 `json:"tau_syn,omitempty"`
	TauMem []float64 `json:"tau_mem,omitempty"`
	// R, VLeak, VThreshold, VReset, WIn are per-neuron parameters of LIF
	// and CubaLIF (voltages in mV).
	R          []float64 `json:"r,omitempty"`
	VLeak      []float64 `json:"v_leak,omitempty"`
	VThreshold []float64 `json:"v_threshold,omitempty"`
	VReset     []float64 `json:"v_reset,omitempty"`
	WIn        []float64 `json:"w_in,omitempty"`
	// Delay is the Delay node's delay of each element (s).
	Delay []float64 `json:"delay,omitempty"`
	// Scale is the Scale node's factor of each element.
	Scale []float64 `json:"scale,omitempty"`
	// Metadata holds mec_* extras (see the package notes on NIR).
	Metadata map[string]any `json:"metadata,omitempty"`
}

func fill(n int, x float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = x
	}
	return s
}

// ExportNIR converts a network to a NIR graph. A projection with one delay
// for all its synapses becomes Linear → Delay → target (the Delay node
// "NAME_delay" delays every target's input by delay_ms/1000 s); projections
// whose per-pair delays differ, with the fixed_probability rule, and
// populations receiving more than one τ_syn, are ErrUnsupported (as in
// Convert). Repeated (source, target) pairs are summed into one matrix
// entry.
func ExportNIR(net *snn.Network) (*NIRFile, error) {
	if net == nil {
		return nil, cerr("network", ErrInvalid, "nil")
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("lava: nir export: %w", err)
	}
	dt := net.DtMs
	if dt == 0 {
		dt = 0.1
	}
	g := NIRGraph{Type: "NIRGraph", Nodes: map[string]NIRNode{},
		Metadata: map[string]any{"mec_dt_ms": dt, "mec_seed": strconv.FormatUint(net.Seed, 10)}}
	for i, p := range net.Populations {
		if p.Model != "" && p.Model != snn.ModelLIF {
			return nil, cerr(fmt.Sprintf("populations[%d].model", i), ErrUnsupported, "population %q is %s; mec exports current-based LIF populations only (CubaLIF)", p.Name, p.Model)
		}
	}
	tauIn := make([]float64, len(net.Populations))
	for k := range net.Projections {
		pr := &net.Projections[k]
		f := fmt.Sprintf("projections[%d]", k)
		if pr.Rule == snn.RuleFixedProbability {
			return nil, cerr(f+".rule", ErrUnsupported, "fixed_probability synapses are drawn inside snn; use list")
		}
		if pr.STDP != nil {
			return nil, cerr(f+".stdp", ErrUnsupported, "NIR has no plasticity")
		}
		if _, ok := projDelay(pr); !ok {
			return nil, cerr(f+".delays_ms", ErrUnsupported, "per-pair delays differ; NIR's Delay node gives one delay per target neuron, mec exports one per projection")
		}
		i := indexOfPop(net, pr.To)
		tau := projTau(net, pr)
		if tauIn[i] != 0 && tauIn[i] != tau {
			return nil, cerr(f+".tau_syn_ms", ErrUnsupported, "population %q receives two tau_syn (%g, %g ms); CubaLIF has one", pr.To, tauIn[i], tau)
		}
		tauIn[i] = tau
	}
	for i, p := range net.Populations {
		n := p.Neuron
		r := n.RMOhm
		if r == 0 {
			r = 1
		}
		ts := tauIn[i]
		if ts == 0 {
			ts = p.TauSynMs
		}
		if ts == 0 {
			ts = n.TauMMs
		}
		md := map[string]any{
			"mec_v_rest_mv": n.VRestMV, "mec_t_ref_ms": n.TRefMs, "mec_r_mohm": n.RMOhm,
			"mec_i_bias_na": n.IBiasNA, "mec_tau_syn_ms": p.TauSynMs, "mec_tau_m_ms": n.TauMMs,
			"mec_tau_syn_in_ms": ts,
		}
		if p.VInit.MV != nil {
			md["mec_v_init_mv"] = *p.VInit.MV
		}
		if len(p.VInit.UniformMV) > 0 {
			md["mec_v_init_uniform_mv"] = append([]float64(nil), p.VInit.UniformMV...)
		}
		if err := addNode(&g, p.Name, NIRNode{Type: "CubaLIF",
			TauSyn: fill(p.Size, ts/1000), TauMem: fill(p.Size, n.TauMMs/1000), R: fill(p.Size, 1),
			VLeak: fill(p.Size, n.VRestMV+r*n.IBiasNA), VThreshold: fill(p.Size, n.VThMV),
			VReset: fill(p.Size, n.VResetMV), WIn: fill(p.Size, 1), Metadata: md}); err != nil {
			return nil, err
		}
		if err := addNode(&g, "out_"+p.Name, NIRNode{Type: "Output", Shape: []int64{int64(p.Size)}}); err != nil {
			return nil, err
		}
		g.Edges.Src = append(g.Edges.Src, p.Name)
		g.Edges.Dst = append(g.Edges.Dst, "out_"+p.Name)
	}
	sizes := map[string]int{}
	for _, p := range net.Populations {
		sizes[p.Name] = p.Size
	}
	for _, q := range net.Poisson {
		sizes[q.Name] = q.Size
		if err := addNode(&g, q.Name, NIRNode{Type: "Input", Shape: []int64{int64(q.Size)},
			Metadata: map[string]any{"mec_rate_hz": q.RateHz, "mec_tau_syn_ms": q.TauSynMs}}); err != nil {
			return nil, err
		}
	}
	for k := range net.Projections {
		pr := &net.Projections[k]
		ns, nt := sizes[pr.From], sizes[pr.To]
		ts := tauIn[indexOfPop(net, pr.To)] / 1000
		w := make([][]float64, nt)
		for t := range w {
			w[t] = make([]float64, ns)
		}
		pairs, ws := expand(pr, ns, nt)
		for s, p := range pairs {
			w[p[1]][p[0]] += ws[s] * ts
		}
		name := fmt.Sprintf("proj%d_%s_%s", k, pr.From, pr.To)
		md := map[string]any{"mec_rule": pr.Rule, "mec_dense": pr.Dense, "mec_no_autapses": pr.NoAutapses,
			"mec_tau_syn_ms": pr.TauSynMs}
		if err := addNode(&g, name, NIRNode{Type: "Linear", Weight: w, Metadata: md}); err != nil {
			return nil, err
		}
		if d, _ := projDelay(pr); d != 0 {
			if err := addNode(&g, name+"_delay", NIRNode{Type: "Delay", Delay: fill(nt, d/1000),
				Metadata: map[string]any{"mec_delay_ms": d}}); err != nil {
				return nil, err
			}
			g.Edges.Src = append(g.Edges.Src, pr.From, name, name+"_delay")
			g.Edges.Dst = append(g.Edges.Dst, name, name+"_delay", pr.To)
			continue
		}
		g.Edges.Src = append(g.Edges.Src, pr.From, name)
		g.Edges.Dst = append(g.Edges.Dst, name, pr.To)
	}
	return &NIRFile{Version: NIRVersion, Node: g}, nil
}

// projDelay returns a projection's one delay (ms), and false when its
// per-pair delays differ.
func projDelay(pr *snn.Projection) (float64, bool) {
	d := pr.DelayMs
	if len(pr.DelaysMs) > 0 {
		d = pr.DelaysMs[0]
		if slices.ContainsFunc(pr.DelaysMs, func(x float64) bool { return x != d }) {
			return 0, false
		}
	}
	return d, true
}

func addNode(g *NIRGraph, name string, n NIRNode) error {
	if _, dup := g.Nodes[name]; dup {
		return cerr("nodes."+name, ErrInvalid, "duplicate node name")
	}
	g.Nodes[name] = n
	return nil
}

// MarshalNIR encodes the graph as indented JSON (deterministic: map keys
// are sorted).
func MarshalNIR(f *NIRFile) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, fmt.Errorf("lava: nir json: %w", err)
	}
	return b, nil
}

// UnmarshalNIR decodes NIR JSON; unknown fields are errors.
func UnmarshalNIR(b []byte) (*NIRFile, error) {
	var f NIRFile
	if err := strict.JSON(b, &f); err != nil {
		return nil, fmt.Errorf("lava: nir json: %w", err)
	}
	if f.Node.Type != "NIRGraph" {
		return nil, cerr("node.type", ErrInvalid, "%q, want NIRGraph", f.Node.Type)
	}
	if len(f.Node.Edges.Src) != len(f.Node.Edges.Dst) {
		return nil, cerr("node.edges", ErrInvalid, "%d sources, %d destinations", len(f.Node.Edges.Src), len(f.Node.Edges.Dst))
	}
	return &f, nil
}

func mdFloat(md map[string]any, key string) (float64, bool) {
	v, ok := md[key]
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// uniform returns the one value of a per-neuron parameter: n equal values,
// or one (a scalar, which NIR broadcasts).
func uniform(name, field string, a []float64, n int) (float64, error) {
	if len(a) != n && len(a) != 1 {
		return 0, cerr(name+"."+field, ErrInvalid, "%d values for %d neurons", len(a), n)
	}
	for _, x := range a {
		if x != a[0] || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, cerr(name+"."+field, ErrUnsupported, "snn populations need one finite value for all neurons")
		}
	}
	return a[0], nil
}

// ImportNIR converts a NIR graph back to an snn.Network. It accepts Input
// nodes (Poisson groups; rate from mec_rate_hz metadata, else 0), CubaLIF
// nodes with uniform parameters (populations; scalars broadcast, v_reset
// and w_in default to 0 and 1 as in nir.read; r·w_in scales all of a
// node's inputs and is folded into their weights), Linear or zero-bias Affine
// nodes between them (projections: rule restored from mec_rule when the
// matrix fits it, else "list" in source-major order), optionally followed
// by a Delay node of one delay for all targets (the projection's delay)
// and Scale nodes (multiplied into the weights), and Output nodes
// (ignored). Anything else is ErrUnsupported, naming the
// node.
func ImportNIR(f *NIRFile) (*snn.Network, error) {
	g := f.Node
	net := &snn.Network{DtMs: 0.1}
	if dt, ok := mdFloat(g.Metadata, "mec_dt_ms"); ok {
		net.DtMs = dt
	}
	if s, ok := g.Metadata["mec_seed"].(string); ok {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, cerr("metadata.mec_seed", ErrInvalid, "%q", s)
		}
		net.Seed = seed
	}
	names := make([]string, 0, len(g.Nodes))
	for k := range g.Nodes {
		names = append(names, k)
	}
	sort.Strings(names)
	// Order populations and inputs by first appearance in the edge list
	// (the export order), then by name.
	rank := map[string]int{}
	for i, s := range append(append([]string(nil), g.Edges.Src...), g.Edges.Dst...) {
		if _, ok := rank[s]; !ok {
			rank[s] = i
		}
	}
	order := func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		switch {
		case oka && okb && ra != rb:
			return ra - rb
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(names, order)
	// rowsIn: the rows of the weight node feeding each node, directly or
	// through Delay and Scale nodes (checked with the projections below).
	next := map[string][]string{}
	for k, s := range g.Edges.Src {
		if k < len(g.Edges.Dst) {
			next[s] = append(next[s], g.Edges.Dst[k])
		}
	}
	rowsIn := map[string]int{}
	for k, s := range g.Edges.Src {
		if n, ok := g.Nodes[s]; ok && (n.Type == "Linear" || n.Type == "Affine") && k < len(g.Edges.Dst) {
			d := g.Edges.Dst[k]
			for hops := 0; hops <= 8 && len(next[d]) == 1; hops++ {
				if t := g.Nodes[d].Type; t != "Delay" && t != "Scale" {
					break
				}
				d = next[d][0]
			}
			rowsIn[d] = len(n.Weight)
		}
	}
	sizes := map[string]int{}
	tauIn := map[string]float64{}
	gain := map[string]float64{} // r·w_in of each CubaLIF node
	for _, name := range names {
		n := g.Nodes[name]
		switch n.Type {
		case "Input":
			if len(n.Shape) != 1 || n.Shape[0] <= 0 || n.Shape[0] > maxNIRSize {
				return nil, cerr(name+".shape", ErrUnsupported, "%v: only 1-d inputs", n.Shape)
			}
			rate, _ := mdFloat(n.Metadata, "mec_rate_hz")
			ts, _ := mdFloat(n.Metadata, "mec_tau_syn_ms")
			net.AddPoisson(snn.PoissonGroup{Name: name, Size: int(n.Shape[0]), RateHz: rate, TauSynMs: ts})
			sizes[name] = int(n.Shape[0])
		case "CubaLIF":
			// The size: the longest parameter array, or the rows of the
			// weight node feeding it when every parameter is a scalar.
			size := 0
			for _, a := range [][]float64{n.TauSyn, n.TauMem, n.R, n.VLeak, n.VThreshold, n.VReset, n.WIn} {
				size = max(size, len(a))
			}
			if size <= 1 {
				size = max(size, rowsIn[name])
			}
			if size <= 0 || size > maxNIRSize {
				return nil, cerr(name+".v_threshold", ErrInvalid, "%d neurons", size)
			}
			// NIR's defaults (nir.read): v_reset 0, w_in 1.
			if n.VReset == nil {
				n.VReset = []float64{0}
			}
			if n.WIn == nil {
				n.WIn = []float64{1}
			}
			vals := map[string]float64{}
			for _, fld := range []struct {
				key string
				a   []float64
			}{{"tau_syn", n.TauSyn}, {"tau_mem", n.TauMem}, {"r", n.R}, {"v_leak", n.VLeak},
				{"v_threshold", n.VThreshold}, {"v_reset", n.VReset}, {"w_in", n.WIn}} {
				x, err := uniform(name, fld.key, fld.a, size)
				if err != nil {
					return nil, err
				}
				vals[fld.key] = x
			}
			if !(vals["tau_syn"] > 0) || !(vals["tau_mem"] > 0) {
				return nil, cerr(name, ErrInvalid, "tau_syn %g s and tau_mem %g s must be > 0", vals["tau_syn"], vals["tau_mem"])
			}
			// r and w_in scale every input alike: folded into the weights.
			gain[name] = vals["r"] * vals["w_in"]
			if math.IsInf(gain[name], 0) {
				return nil, cerr(name+".w_in", ErrInvalid, "r %g × w_in %g overflows", vals["r"], vals["w_in"])
			}
			md := n.Metadata
			lif := snn.LIF{TauMMs: vals["tau_mem"] * 1000, VThMV: vals["v_threshold"], VResetMV: vals["v_reset"], VRestMV: vals["v_leak"]}
			if x, ok := mdFloat(md, "mec_tau_m_ms"); ok && math.Abs(x/1000-vals["tau_mem"]) <= 1e-12*x {
				lif.TauMMs = x
			}
			if x, ok := mdFloat(md, "mec_v_rest_mv"); ok {
				lif.VRestMV = x
				lif.IBiasNA, _ = mdFloat(md, "mec_i_bias_na")
				lif.RMOhm, _ = mdFloat(md, "mec_r_mohm")
			}
			lif.TRefMs, _ = mdFloat(md, "mec_t_ref_ms")
			pop := snn.Population{Name: name, Size: size, Neuron: lif}
			pop.TauSynMs, _ = mdFloat(md, "mec_tau_syn_ms")
			if x, ok := mdFloat(md, "mec_v_init_mv"); ok {
				pop.VInit.MV = &x
			}
			if u, ok := md["mec_v_init_uniform_mv"].([]any); ok && len(u) == 2 {
				a, _ := u[0].(float64)
				b, _ := u[1].(float64)
				pop.VInit.UniformMV = []float64{a, b}
			}
			ts := vals["tau_syn"] * 1000
			if x, ok := mdFloat(md, "mec_tau_syn_in_ms"); ok && math.Abs(x-ts) <= 1e-9*x {
				ts = x
			}
			tauIn[name] = ts
			net.AddPopulation(pop)
			sizes[name] = size
		case "Output", "Linear", "Affine", "Delay", "Scale":
		default:
			return nil, cerr(name+".type", ErrUnsupported, "node %q is %s; mec imports Input, Output, Linear, Affine, Delay, Scale and CubaLIF nodes", name, n.Type)
		}
	}
	in := map[string][]string{}
	out := map[string][]string{}
	for k, s := range g.Edges.Src {
		d := g.Edges.Dst[k]
		if _, ok := g.Nodes[s]; !ok {
			return nil, cerr("edges", ErrInvalid, "unknown node %q", s)
		}
		if _, ok := g.Nodes[d]; !ok {
			return nil, cerr("edges", ErrInvalid, "unknown node %q", d)
		}
		out[s] = append(out[s], d)
		in[d] = append(in[d], s)
	}
	consumed := map[string]bool{} // Delay nodes placed on a projection
	for _, name := range names {
		n := g.Nodes[name]
		if n.Type != "Linear" && n.Type != "Affine" {
			if n.Type == "CubaLIF" || n.Type == "Input" {
				for _, d := range out[name] {
					if t := g.Nodes[d].Type; t != "Linear" && t != "Affine" && t != "Output" {
						return nil, cerr("edges", ErrUnsupported, "%s → %s (%s): only Linear/Affine/Output targets", name, d, t)
					}
				}
			}
			continue
		}
		if len(in[name]) != 1 || len(out[name]) != 1 {
			return nil, cerr(name, ErrUnsupported, "a weight node needs one source and one target")
		}
		src, dst := in[name][0], out[name][0]
		// Elementwise nodes between the weight node and its target: at
		// most one Delay (the projection's delay, one for all targets)
		// and Scale nodes (folded into the weights, per target).
		delayMs := 0.0
		var scale []float64
		for hops := 0; g.Nodes[dst].Type == "Delay" || g.Nodes[dst].Type == "Scale"; hops++ {
			en := g.Nodes[dst]
			if len(in[dst]) != 1 || len(out[dst]) != 1 || consumed[dst] || hops > 8 {
				return nil, cerr(dst, ErrUnsupported, "a %s node must sit on one path from a weight node (Linear, Affine) to a CubaLIF node", en.Type)
			}
			consumed[dst] = true
			if en.Type == "Scale" {
				if len(en.Scale) != len(n.Weight) && len(en.Scale) != 1 {
					return nil, cerr(dst+".scale", ErrInvalid, "%d values for %d targets", len(en.Scale), len(n.Weight))
				}
				if scale == nil {
					scale = fill(len(n.Weight), 1)
				}
				for t := range scale {
					x := en.Scale[min(t, len(en.Scale)-1)]
					if math.IsNaN(x) || math.IsInf(x, 0) {
						return nil, cerr(dst+".scale", ErrInvalid, "non-finite scale")
					}
					if scale[t] *= x; math.IsInf(scale[t], 0) {
						return nil, cerr(dst+".scale", ErrInvalid, "the Scale nodes' product overflows")
					}
				}
				dst = out[dst][0]
				continue
			}
			if delayMs != 0 {
				return nil, cerr(dst, ErrUnsupported, "two Delay nodes on one projection")
			}
			d, err := uniform(dst, "delay", en.Delay, len(n.Weight))
			if err != nil {
				return nil, err
			}
			if !(d >= 0) {
				return nil, cerr(dst+".delay", ErrInvalid, "%g s: must be ≥ 0", d)
			}
			delayMs = d * 1000
			if x, ok := mdFloat(en.Metadata, "mec_delay_ms"); ok && math.Abs(x-delayMs) <= 1e-9*x {
				delayMs = x
			}
			dst = out[dst][0]
		}
		if g.Nodes[dst].Type != "CubaLIF" {
			return nil, cerr(name, ErrUnsupported, "target %q is %s, not CubaLIF", dst, g.Nodes[dst].Type)
		}
		if st := g.Nodes[src].Type; st != "CubaLIF" && st != "Input" {
			return nil, cerr(name, ErrUnsupported, "source %q is %s", src, st)
		}
		for _, b := range n.Bias {
			if b != 0 {
				return nil, cerr(name+".bias", ErrUnsupported, "non-zero Affine bias")
			}
		}
		ns, nt := sizes[src], sizes[dst]
		if len(n.Weight) != nt {
			return nil, cerr(name+".weight", ErrInvalid, "%d rows, target has %d neurons", len(n.Weight), nt)
		}
		ts := tauIn[dst] / 1000
		if g := gain[dst]; g != 1 {
			if scale == nil {
				scale = fill(len(n.Weight), 1)
			}
			for t := range scale {
				scale[t] *= g
			}
		}
		pr := snn.Projection{From: src, To: dst, DelayMs: delayMs}
		if x, ok := mdFloat(n.Metadata, "mec_tau_syn_ms"); ok {
			pr.TauSynMs = x
		}
		if pr.TauSynMs == 0 && projTau(net, &pr) != tauIn[dst] {
			pr.TauSynMs = tauIn[dst]
		}
		pr.Dense, _ = n.Metadata["mec_dense"].(bool)
		pr.NoAutapses, _ = n.Metadata["mec_no_autapses"].(bool)
		for t, row := range n.Weight {
			if len(row) != ns {
				return nil, cerr(name+".weight", ErrInvalid, "row %d has %d columns, source has %d", t, len(row), ns)
			}
		}
		w := make([][]float64, ns) // [source][target] in mV; sizes checked above
		for s := range w {
			w[s] = make([]float64, nt)
		}
		for t, row := range n.Weight {
			for s, x := range row {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, cerr(name+".weight", ErrInvalid, "non-finite weight")
				}
				if scale != nil {
					x *= scale[t]
				}
				w[s][t] = x / ts
				if math.IsInf(w[s][t], 0) || math.IsNaN(w[s][t]) {
					return nil, cerr(name+".weight", ErrInvalid, "weight [%d][%d] = %g overflows once scaled by the Scale nodes and %s's r·w_in (%g) and divided by tau_syn %g s", t, s, row[s], dst, gain[dst], ts)
				}
			}
		}
		rule, _ := n.Metadata["mec_rule"].(string)
		restoreRule(&pr, rule, w, src == dst)
		net.Connect(pr)
	}
	for _, name := range names {
		if t := g.Nodes[name].Type; (t == "Delay" || t == "Scale") && !consumed[name] {
			return nil, cerr(name, ErrUnsupported, "a %s node must sit on one path from a weight node (Linear, Affine) to a CubaLIF node", t)
		}
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("lava: nir import: %w", err)
	}
	return net, nil
}

// restoreRule sets the projection's rule and weights from the matrix w
// ([source][target], mV): all_to_all or one_to_one when the exporter said
// so and the matrix fits, else list.
func restoreRule(pr *snn.Projection, rule string, w [][]float64, self bool) {
	ns := len(w)
	nt := 0
	if ns > 0 {
		nt = len(w[0])
	}
	var first float64
	if ns > 0 && nt > 0 {
		first = w[0][0]
		if pr.NoAutapses && self && nt > 1 {
			first = w[0][1]
		}
	}
	fits := func(on func(s, t int) bool) bool {
		for s := range w {
			for t, x := range w[s] {
				if on(s, t) && (x != first || x == 0) || !on(s, t) && x != 0 {
					return false
				}
			}
		}
		return true
	}
	switch {
	case rule == snn.RuleAllToAll && fits(func(s, t int) bool { return !(pr.NoAutapses && self && s == t) }):
		pr.Rule, pr.WeightMV = snn.RuleAllToAll, first
		return
	case rule == snn.RuleOneToOne && ns == nt && fits(func(s, t int) bool { return s == t }):
		pr.Rule, pr.WeightMV = snn.RuleOneToOne, first
		return
	}
	pr.Rule, pr.NoAutapses = snn.RuleList, false
	for s := range w {
		for t, x := range w[s] {
			if x != 0 {
				pr.Pairs = append(pr.Pairs, [2]int{s, t})
				pr.WeightsMV = append(pr.WeightsMV, x)
			}
		}
	}
	if len(pr.Pairs) == 0 {
		pr.Pairs = [][2]int{}
	}
}
