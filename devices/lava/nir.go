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
//
// Delta-synapse nodes. A population whose inputs are delta synapses (snn's
// Projection.Synapse "delta"), or that has LIF.Leak or LIF.NoSpikes set,
// becomes the NIR node without a synaptic current that matches it:
//
//	LIF        τ dv/dt = (v_leak − v) + r·I, spike when v > v_threshold
//	LI         τ dv/dt = (v_leak − v) + r·I (no spikes)
//	IF         dv/dt = r·I, spike when v > v_threshold   (snn leak "none")
//	I          dv/dt = r·I (no spikes)                    (leak "none")
//	Threshold  spike when I > threshold                    (leak "instant")
//
// with I = Σ W·S and S Dirac impulses, so one spike through W moves v by
// r·W/τ (LIF, LI) or r·W (IF, I): the weight W of a delta projection of
// w mV is w·τ_m/1000 (mV·s) for LIF and LI and w for IF, I and Threshold
// (whose input is the step's sum of W per spike), with r = 1. snn adds
// the impulses delivered at the end of a step to V at the end of the next
// step, after the exact (or Euler) leak of that step: the solution of the
// equations above sampled on the grid, the impulse placed at the end of
// the step (one step of latency per edge, as for every snn synapse).
// snn's V ≥ V_th is NIR's v > v_threshold exactly, with V_th the next
// float64 above v_threshold (export writes the one below). An Affine
// node's bias b becomes the bias current r·b (i_bias_na, R = 1 MΩ): τ
// dv/dt = (v_leak − v) + r·(I + b) for LIF and LI, dv/dt = r·(I + b) for
// IF and I (τ_m = 1 s there), I + b > threshold for Threshold. LI and I
// must feed an Output node, which becomes a state monitor of V. Imported
// neurons start at v = 0, NIR's initial state.

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
// "Output", "Linear", "Affine", "Conv1d", "Conv2d", "LIF", "CubaLIF", "IF",
// "LI", "I", "Threshold", "Delay", "Scale", "Flatten"); the JSON keys are
// NIR's field names.
type NIRNode struct {
	Type string `json:"type"`
	// Shape is the tensor shape of Input and Output nodes.
	Shape []int64 `json:"shape,omitempty"`
	// Weight ([out][in]) and Bias ([out]) of Linear and Affine.
	Weight [][]float64 `json:"weight,omitempty"`
	Bias   []float64   `json:"bias,omitempty"`
	// Tau is the membrane time constant (s) of LIF and LI.
	Tau []float64 `json:"tau,omitempty"`
	// TauSyn and TauMem are CubaLIF's time constants (s).
	TauSyn []float64 `json:"tau_syn,omitempty"`
	TauMem []float64 `json:"tau_mem,omitempty"`
	// R, VLeak, VThreshold, VReset, WIn are per-neuron parameters of the
	// neuron nodes (voltages in mV).
	R          []float64 `json:"r,omitempty"`
	VLeak      []float64 `json:"v_leak,omitempty"`
	VThreshold []float64 `json:"v_threshold,omitempty"`
	VReset     []float64 `json:"v_reset,omitempty"`
	WIn        []float64 `json:"w_in,omitempty"`
	// Delay is the Delay node's delay of each element (s).
	Delay []float64 `json:"delay,omitempty"`
	// Scale is the Scale node's factor of each element.
	Scale []float64 `json:"scale,omitempty"`
	// Threshold is the Threshold node's threshold of each element.
	Threshold []float64 `json:"threshold,omitempty"`
	// Kernel is the weight of Conv1d and Conv2d, flat in C order, of shape
	// KernelShape (C_out, C_in/groups, K) or (C_out, C_in/groups, K_x,
	// K_y); in JSON it is the nested array "weight" (see MarshalJSON).
	Kernel      []float64 `json:"-"`
	KernelShape []int     `json:"-"`
	// Stride, Dilation and Padding of a Conv node: one value or one per
	// spatial dimension (defaults 1, 1, 0); PaddingMode "same" or "valid"
	// replaces Padding. Groups divides the channels (0: 1); InputShape is
	// the spatial input size (N) or (N_x, N_y), required to expand it.
	Stride      []int64 `json:"stride,omitempty"`
	Dilation    []int64 `json:"dilation,omitempty"`
	Padding     []int64 `json:"-"`
	PaddingMode string  `json:"-"`
	Groups      int64   `json:"groups,omitempty"`
	InputShape  []int64 `json:"input_shape,omitempty"`
	// StartDim, EndDim and InputType ([C, X, Y]) are a Flatten node's
	// fields. Tensors are flat in C order here already, so a Flatten node
	// passes its input on unchanged; InputType, when set, must match the
	// size of its source.
	StartDim  *int64  `json:"start_dim,omitempty"`
	EndDim    *int64  `json:"end_dim,omitempty"`
	InputType []int64 `json:"input_type,omitempty"`
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
		if pr.Synapse == snn.SynapseDelta {
			continue
		}
		tau := projTau(net, pr)
		if tauIn[i] != 0 && tauIn[i] != tau {
			return nil, cerr(f+".tau_syn_ms", ErrUnsupported, "population %q receives two tau_syn (%g, %g ms); CubaLIF has one", pr.To, tauIn[i], tau)
		}
		tauIn[i] = tau
	}
	wscale := make([]float64, len(net.Populations)) // W = w (mV) × wscale
	for i, p := range net.Populations {
		n := p.Neuron
		r := n.RMOhm
		if r == 0 {
			r = 1
		}
		kind, err := nirKind(net, i)
		if err != nil {
			return nil, err
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
		if kind != "CubaLIF" && p.VInit.MV == nil && p.VInit.UniformMV == nil {
			md["mec_v_init_mv"] = n.VResetMV // snn's default; NIR's is 0
		}
		if kind == "Threshold" {
			md["mec_v_reset_mv"] = n.VResetMV // NIR's Threshold has none
		}
		node := NIRNode{Type: kind, Metadata: md}
		vleak, below := fill(p.Size, n.VRestMV+r*n.IBiasNA), fill(p.Size, math.Nextafter(n.VThMV, math.Inf(-1)))
		switch kind {
		case "CubaLIF":
			wscale[i] = ts / 1000
			node.TauSyn, node.TauMem, node.R, node.VLeak = fill(p.Size, ts/1000), fill(p.Size, n.TauMMs/1000), fill(p.Size, 1), vleak
			node.VThreshold, node.VReset, node.WIn = fill(p.Size, n.VThMV), fill(p.Size, n.VResetMV), fill(p.Size, 1)
		case "LIF", "LI":
			wscale[i] = n.TauMMs / 1000
			node.Tau, node.R, node.VLeak = fill(p.Size, n.TauMMs/1000), fill(p.Size, 1), vleak
			if kind == "LIF" {
				node.VThreshold, node.VReset = below, fill(p.Size, n.VResetMV)
			}
		case "IF", "I":
			wscale[i] = 1
			node.R = fill(p.Size, 1)
			if kind == "IF" {
				node.VThreshold, node.VReset = below, fill(p.Size, n.VResetMV)
			}
		case "Threshold":
			wscale[i] = 1
			node.Threshold = below
		}
		if err := addNode(&g, p.Name, node); err != nil {
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
		if i := indexOfPop(net, pr.From); i >= 0 && net.Populations[i].Neuron.NoSpikes {
			// An LI or I node's output is its state: NIR would feed v
			// itself through the weights, snn sends nothing.
			return nil, cerr(fmt.Sprintf("projections[%d].from", k), ErrUnsupported, "source %q has no_spikes: its NIR node (LI or I) outputs its membrane state, not spikes", pr.From)
		}
		ns, nt := sizes[pr.From], sizes[pr.To]
		ts := wscale[indexOfPop(net, pr.To)]
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

// nirKind returns the NIR node type of population i: CubaLIF for a leaky
// spiking LIF population without delta inputs; with delta inputs (all of
// them: a NIR neuron node has one input kind) LIF, or, by its leak and
// no_spikes, LI, IF, I or Threshold. NIR's IF, I and Threshold have no
// bias: a population with one (v_rest_mv, i_bias_na) is ErrUnsupported.
func nirKind(net *snn.Network, i int) (string, error) {
	p := &net.Populations[i]
	f := fmt.Sprintf("populations[%d]", i)
	delta, exp := 0, 0
	for k := range net.Projections {
		if net.Projections[k].To == p.Name {
			if net.Projections[k].Synapse == snn.SynapseDelta {
				delta++
			} else {
				exp++
			}
		}
	}
	n := p.Neuron
	switch {
	case delta > 0 && exp > 0:
		return "", cerr(f, ErrUnsupported, "population %q receives delta and exponential synapses; a NIR neuron node has one kind of input", p.Name)
	case delta == 0 && n.Leak == "" && !n.NoSpikes:
		return "CubaLIF", nil
	case exp > 0:
		return "", cerr(f+".neuron.leak", ErrUnsupported, "population %q (leak %q, no_spikes %v) receives exponential synapses; NIR has no such node", p.Name, n.Leak, n.NoSpikes)
	}
	if n.Leak != "" && (n.IBiasNA != 0 || n.VRestMV != 0) {
		return "", cerr(f+".neuron.i_bias_na", ErrUnsupported, "population %q has leak %q and a bias (v_rest_mv %g, i_bias_na %g); NIR's IF, I and Threshold nodes have none", p.Name, n.Leak, n.VRestMV, n.IBiasNA)
	}
	switch {
	case n.Leak == "" && !n.NoSpikes:
		return "LIF", nil
	case n.Leak == "":
		return "LI", nil
	case n.Leak == snn.LeakNone && !n.NoSpikes:
		return "IF", nil
	case n.Leak == snn.LeakNone:
		return "I", nil
	case !n.NoSpikes:
		return "Threshold", nil
	}
	return "", cerr(f+".neuron.no_spikes", ErrUnsupported, "population %q has leak %q and no spikes: NIR has no such node", p.Name, n.Leak)
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
// (ignored); LIF, LI, IF, I and Threshold nodes with delta synapses, Conv1d
// and Conv2d nodes (explicit synapse lists, at most maxConvSynapses in a
// graph) and Flatten nodes (the identity: tensors and N-d parameters are
// flat in C order) as the package notes on NIR say. Anything else is
// ErrUnsupported, naming the node.
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
		if n, ok := g.Nodes[s]; ok && isWeightNode(n.Type) && k < len(g.Edges.Dst) {
			d := g.Edges.Dst[k]
			for hops := 0; hops <= 8 && len(next[d]) == 1; hops++ {
				if t := g.Nodes[d].Type; t != "Delay" && t != "Scale" && t != "Flatten" {
					break
				}
				d = next[d][0]
			}
			rowsIn[d] = len(n.Weight)
			if isConv(n.Type) {
				if geom, err := convGeometry(s, &n); err == nil {
					rowsIn[d] = geom.outs()
				}
			}
		}
	}
	sizes := map[string]int{}
	tauIn := map[string]float64{}
	gain := map[string]float64{} // r·w_in of each CubaLIF node, r of LIF, LI, IF, I
	div := map[string]float64{}  // the weight divisor (s) of each neuron node: tau_syn, tau or 1
	for _, name := range names {
		n := g.Nodes[name]
		switch n.Type {
		case "Input":
			// An N-d input (channels, x, y) is flattened in C order, the
			// order of a Conv node's inputs.
			size := int64(1)
			for _, d := range n.Shape {
				if d <= 0 || d > maxNIRSize || size*d > maxNIRSize {
					return nil, cerr(name+".shape", ErrInvalid, "%v: sizes must be ≥ 1 and multiply to at most %d", n.Shape, maxNIRSize)
				}
				size *= d
			}
			if len(n.Shape) == 0 {
				return nil, cerr(name+".shape", ErrInvalid, "missing")
			}
			rate, _ := mdFloat(n.Metadata, "mec_rate_hz")
			ts, _ := mdFloat(n.Metadata, "mec_tau_syn_ms")
			net.AddPoisson(snn.PoissonGroup{Name: name, Size: int(size), RateHz: rate, TauSynMs: ts})
			sizes[name] = int(size)
		case "CubaLIF":
			// NIR's defaults (nir.read): v_reset 0, w_in 1.
			if n.VReset == nil {
				n.VReset = []float64{0}
			}
			if n.WIn == nil {
				n.WIn = []float64{1}
			}
			vals, size, err := neuronParams(name, []nirParam{{"tau_syn", n.TauSyn}, {"tau_mem", n.TauMem}, {"r", n.R}, {"v_leak", n.VLeak},
				{"v_threshold", n.VThreshold}, {"v_reset", n.VReset}, {"w_in", n.WIn}}, rowsIn[name])
			if err != nil {
				return nil, err
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
			pop := snn.Population{Name: name, Size: size, Neuron: lif}
			restoreMeta(md, &pop, vals["tau_mem"])
			ts := vals["tau_syn"] * 1000
			if x, ok := mdFloat(md, "mec_tau_syn_in_ms"); ok && math.Abs(x-ts) <= 1e-9*x {
				ts = x
			}
			tauIn[name] = ts
			div[name] = ts / 1000
			net.AddPopulation(pop)
			sizes[name] = size
		case "LIF", "LI", "IF", "I", "Threshold":
			pop, gn, dv, err := importDeltaNeuron(name, n, rowsIn[name])
			if err != nil {
				return nil, err
			}
			gain[name], div[name] = gn, dv
			net.AddPopulation(pop)
			sizes[name] = pop.Size
		case "Output", "Linear", "Affine", "Conv1d", "Conv2d", "Delay", "Scale", "Flatten":
		default:
			return nil, cerr(name+".type", ErrUnsupported, "node %q is %s; mec imports Input, Output, Linear, Affine, Conv1d, Conv2d, Delay, Scale, Flatten, CubaLIF, LIF, LI, IF, I and Threshold nodes", name, n.Type)
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
	var convSyn int64             // synapses of the Conv nodes expanded so far
	for _, name := range names {
		n := g.Nodes[name]
		if !isWeightNode(n.Type) {
			switch n.Type {
			case "CubaLIF", "Input", "LIF", "IF", "Threshold":
				for _, d := range out[name] {
					if t := g.Nodes[d].Type; !isWeightNode(t) && t != "Output" && t != "Flatten" {
						return nil, cerr("edges", ErrUnsupported, "%s → %s (%s): only Linear/Affine/Conv/Flatten/Output targets", name, d, t)
					}
				}
			case "LI", "I":
				// A graded state, not spikes: mec records it (a state
				// monitor of V) but cannot send it through synapses.
				for _, d := range out[name] {
					if t := g.Nodes[d].Type; t != "Output" {
						return nil, cerr(name, ErrUnsupported, "%s node %q feeds %s (%s): its output is the membrane state, not spikes; mec can only record it (an Output node)", n.Type, name, d, t)
					}
				}
				if len(out[name]) == 0 {
					return nil, cerr(name, ErrUnsupported, "%s node %q feeds no Output node: its output is the membrane state, which mec records only for an Output", n.Type, name)
				}
				if net.Monitors == nil {
					net.Monitors = &snn.Monitors{}
				}
				all := make([]int, sizes[name])
				for k := range all {
					all[k] = k
				}
				net.Monitors.State = append(net.Monitors.State, snn.StateProbe{Population: name, Neurons: all, Vars: []string{"v"}})
			}
			continue
		}
		if len(in[name]) != 1 || len(out[name]) != 1 {
			return nil, cerr(name, ErrUnsupported, "a weight node needs one source and one target")
		}
		src, dst := in[name][0], out[name][0]
		// Flatten nodes before the weight node: the identity on the flat
		// (C-order) source.
		for hops := 0; g.Nodes[src].Type == "Flatten"; hops++ {
			if len(in[src]) != 1 || len(out[src]) != 1 || consumed[src] || hops > 8 {
				return nil, cerr(src, ErrUnsupported, "a Flatten node must sit on one path into a weight node")
			}
			consumed[src] = true
			fl := src
			src = in[src][0]
			if err := checkFlatten(fl, g.Nodes[fl], sizes[src]); err != nil {
				return nil, err
			}
		}
		rows := len(n.Weight) // the weight node's outputs
		var geom *convGeom
		if isConv(n.Type) {
			var err error
			if geom, err = convGeometry(name, &n); err != nil {
				return nil, err
			}
			rows = geom.outs()
			if convSyn += geom.syn; convSyn > maxConvSynapses {
				return nil, cerr(name+".weight", ErrUnsupported, "its %d synapses bring the graph's Conv nodes to %d, more than mec's bound of %d", geom.syn, convSyn, maxConvSynapses)
			}
		}
		// Elementwise nodes between the weight node and its target: at
		// most one Delay (the projection's delay, one for all targets)
		// and Scale nodes (folded into the weights, per target).
		delayMs := 0.0
		var scale []float64
		for hops := 0; slices.Contains([]string{"Delay", "Scale", "Flatten"}, g.Nodes[dst].Type); hops++ {
			en := g.Nodes[dst]
			if len(in[dst]) != 1 || len(out[dst]) != 1 || consumed[dst] || hops > 8 {
				return nil, cerr(dst, ErrUnsupported, "a %s node must sit on one path from a weight node (Linear, Affine) to a neuron node", en.Type)
			}
			consumed[dst] = true
			if en.Type == "Flatten" {
				if err := checkFlatten(dst, en, rows); err != nil {
					return nil, err
				}
				dst = out[dst][0]
				continue
			}
			if en.Type == "Scale" {
				if len(en.Scale) != rows && len(en.Scale) != 1 {
					return nil, cerr(dst+".scale", ErrInvalid, "%d values for %d targets", len(en.Scale), rows)
				}
				if scale == nil {
					scale = fill(rows, 1)
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
			d, err := uniform(dst, "delay", en.Delay, rows)
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
		dt := g.Nodes[dst].Type
		if !slices.Contains([]string{"CubaLIF", "LIF", "LI", "IF", "I", "Threshold"}, dt) {
			return nil, cerr(name, ErrUnsupported, "target %q is %s, not a neuron node (CubaLIF, LIF, LI, IF, I, Threshold)", dst, dt)
		}
		if st := g.Nodes[src].Type; !slices.Contains([]string{"CubaLIF", "LIF", "IF", "Threshold", "Input"}, st) {
			return nil, cerr(name, ErrUnsupported, "source %q is %s, not a spiking node (Input, CubaLIF, LIF, IF, Threshold)", src, st)
		}
		ns, nt := sizes[src], sizes[dst]
		if rows != nt {
			what := "rows"
			if geom != nil {
				what = "outputs"
			}
			return nil, cerr(name+".weight", ErrInvalid, "%d %s, target has %d neurons", rows, what, nt)
		}
		if geom != nil && geom.ins() != ns {
			return nil, cerr(name+".input_shape", ErrInvalid, "%d inputs (C_in × input_shape), source has %d neurons", geom.ins(), ns)
		}
		ts := div[dst]
		if g := gain[dst]; g != 1 {
			if scale == nil {
				scale = fill(rows, 1)
			}
			for t := range scale {
				scale[t] *= g
			}
		}
		var pairs [][2]int
		var cw []float64
		bias := n.Bias
		if geom != nil {
			pairs, cw, bias = convSynapses(geom, &n)
		}
		if err := importBias(net, name, bias, scale, dst, dt, delayMs); err != nil {
			return nil, err
		}
		pr := snn.Projection{From: src, To: dst, DelayMs: delayMs}
		if dt != "CubaLIF" {
			pr.Synapse = snn.SynapseDelta
		} else {
			if x, ok := mdFloat(n.Metadata, "mec_tau_syn_ms"); ok {
				pr.TauSynMs = x
			}
			if pr.TauSynMs == 0 && projTau(net, &pr) != tauIn[dst] {
				pr.TauSynMs = tauIn[dst]
			}
		}
		if geom != nil {
			// The kernel's weights become the projection's, in place.
			pr.Rule, pr.Pairs, pr.WeightsMV = snn.RuleList, pairs, cw
			for k, x := range cw {
				t := pairs[k][1]
				y := x
				if scale != nil {
					y *= scale[t]
				}
				if cw[k] = y / ts; math.IsInf(cw[k], 0) || math.IsNaN(cw[k]) {
					return nil, cerr(name+".weight", ErrInvalid, "weight %g onto target %d overflows once scaled by the Scale nodes and %s's r (%g) and divided by its tau %g s", x, t, dst, gain[dst], ts)
				}
			}
			net.Connect(pr)
			continue
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
					return nil, cerr(name+".weight", ErrInvalid, "weight [%d][%d] = %g overflows once scaled by the Scale nodes and %s's r·w_in (%g) and divided by its tau %g s", t, s, row[s], dst, gain[dst], ts)
				}
			}
		}
		rule, _ := n.Metadata["mec_rule"].(string)
		restoreRule(&pr, rule, w, src == dst)
		net.Connect(pr)
	}
	for _, name := range names {
		t := g.Nodes[name].Type
		if t == "Flatten" && !consumed[name] && len(in[name]) == 1 && len(out[name]) > 0 &&
			!slices.ContainsFunc(out[name], func(d string) bool { return g.Nodes[d].Type != "Output" }) {
			// Flatten → Output: what feeds it is recorded as it is.
			if err := checkFlatten(name, g.Nodes[name], sizes[in[name][0]]); err != nil {
				return nil, err
			}
			continue
		}
		if (t == "Delay" || t == "Scale" || t == "Flatten") && !consumed[name] {
			return nil, cerr(name, ErrUnsupported, "a %s node must sit on one path from a weight node (Linear, Affine, Conv) to a neuron node", t)
		}
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("lava: nir import: %w", err)
	}
	return net, nil
}

// checkFlatten checks Flatten node name, whose input has size elements
// (0: not known): its input_type, when set, must hold that many.
func checkFlatten(name string, n NIRNode, size int) error {
	if n.InputType == nil || size == 0 {
		return nil
	}
	prod := int64(1)
	for _, d := range n.InputType {
		if d <= 0 || d > maxNIRSize || prod*d > maxNIRSize {
			return cerr(name+".input_type", ErrInvalid, "%v: sizes must be ≥ 1 and multiply to at most %d", n.InputType, maxNIRSize)
		}
		prod *= d
	}
	if prod != int64(size) {
		return cerr(name+".input_type", ErrInvalid, "%v holds %d elements, its input has %d", n.InputType, prod, size)
	}
	return nil
}

// nirParam is one per-neuron parameter of a neuron node.
type nirParam struct {
	key string
	a   []float64
}

// neuronParams returns the one value of each parameter of neuron node
// name (scalars broadcast; see uniform) and the node's size: the longest
// parameter array, or rows, the rows of the weight node feeding it, when
// every parameter is a scalar.
func neuronParams(name string, ps []nirParam, rows int) (map[string]float64, int, error) {
	size := 0
	for _, p := range ps {
		size = max(size, len(p.a))
	}
	if size <= 1 {
		size = max(size, rows)
	}
	if size <= 0 || size > maxNIRSize {
		return nil, 0, cerr(name+"."+ps[len(ps)-1].key, ErrInvalid, "%d neurons", size)
	}
	vals := map[string]float64{}
	for _, p := range ps {
		if p.a == nil {
			return nil, 0, cerr(name+"."+p.key, ErrInvalid, "missing")
		}
		x, err := uniform(name, p.key, p.a, size)
		if err != nil {
			return nil, 0, err
		}
		vals[p.key] = x
	}
	return vals, size, nil
}

// restoreMeta reads back what ExportNIR kept in a neuron node's mec_*
// metadata: τ_m (when it matches tauS, the node's time constant in s, or
// tauS is 0), the split of v_leak into V_rest and R·I_bias, the refractory
// period, the outgoing τ_syn and the initial voltages.
func restoreMeta(md map[string]any, pop *snn.Population, tauS float64) {
	lif := &pop.Neuron
	if x, ok := mdFloat(md, "mec_tau_m_ms"); ok && (tauS == 0 || math.Abs(x/1000-tauS) <= 1e-12*x) {
		lif.TauMMs = x
	}
	if x, ok := mdFloat(md, "mec_v_rest_mv"); ok {
		lif.VRestMV = x
		lif.IBiasNA, _ = mdFloat(md, "mec_i_bias_na")
		lif.RMOhm, _ = mdFloat(md, "mec_r_mohm")
	}
	lif.TRefMs, _ = mdFloat(md, "mec_t_ref_ms")
	pop.TauSynMs, _ = mdFloat(md, "mec_tau_syn_ms")
	if x, ok := mdFloat(md, "mec_v_init_mv"); ok {
		pop.VInit.MV = &x
	}
	if u, ok := md["mec_v_init_uniform_mv"].([]any); ok && len(u) == 2 {
		a, _ := u[0].(float64)
		b, _ := u[1].(float64)
		pop.VInit.UniformMV = []float64{a, b}
	}
}

// importDeltaNeuron maps a LIF, LI, IF, I or Threshold node onto a model
// lif population whose inputs are delta synapses (see the package notes
// on NIR for the equations). It returns the population, the gain r that
// multiplies every input weight and the divisor (s) of the weights: tau
// for LIF and LI (a Dirac impulse of weight W moves v by r·W/tau), 1 for
// IF and I (r·W) and Threshold (W: its input is the step's summed
// weighted spikes). NIR's strict v > v_threshold becomes snn's V ≥ V_th
// with V_th the next float64 above v_threshold (the same test).
func importDeltaNeuron(name string, n NIRNode, rows int) (snn.Population, float64, float64, error) {
	var ps []nirParam
	if n.VReset == nil {
		n.VReset = []float64{0} // NIR's default
	}
	switch n.Type {
	case "LIF":
		ps = []nirParam{{"tau", n.Tau}, {"r", n.R}, {"v_leak", n.VLeak}, {"v_reset", n.VReset}, {"v_threshold", n.VThreshold}}
	case "LI":
		ps = []nirParam{{"tau", n.Tau}, {"r", n.R}, {"v_leak", n.VLeak}}
	case "IF":
		ps = []nirParam{{"r", n.R}, {"v_reset", n.VReset}, {"v_threshold", n.VThreshold}}
	case "I":
		ps = []nirParam{{"r", n.R}}
	case "Threshold":
		ps = []nirParam{{"threshold", n.Threshold}}
	}
	vals, size, err := neuronParams(name, ps, rows)
	if err != nil {
		return snn.Population{}, 0, 0, err
	}
	pop := snn.Population{Name: name, Size: size}
	lif := &pop.Neuron
	gain, div := vals["r"], 1.0
	switch n.Type {
	case "LIF", "LI":
		if !(vals["tau"] > 0) {
			return pop, 0, 0, cerr(name+".tau", ErrInvalid, "%g s: must be > 0", vals["tau"])
		}
		lif.TauMMs, lif.VRestMV, div = vals["tau"]*1000, vals["v_leak"], vals["tau"]
		lif.NoSpikes = n.Type == "LI"
	case "IF", "I":
		// v̇ = r·I with t in s: τ_m = 1 s makes τ_m dV/dt = R·I_ext the
		// same equation for an Affine bias.
		lif.Leak, lif.TauMMs, lif.NoSpikes = snn.LeakNone, 1000, n.Type == "I"
	case "Threshold":
		lif.Leak, gain = snn.LeakInstant, 1
		vals["v_threshold"] = vals["threshold"]
		vals["v_reset"] = math.Inf(-1) // set below
	}
	if n.Type == "LIF" || n.Type == "IF" || n.Type == "Threshold" {
		th := vals["v_threshold"]
		lif.VThMV = math.Nextafter(th, math.Inf(1))
		lif.VResetMV = vals["v_reset"]
		if n.Type == "Threshold" {
			// V is recomputed every step (leak instant): the reset value
			// only has to lie below V_th.
			lif.VResetMV = th
		}
		thField := "v_threshold"
		if n.Type == "Threshold" {
			thField = "threshold"
		}
		if math.IsInf(lif.VThMV, 0) {
			return pop, 0, 0, cerr(name+"."+thField, ErrInvalid, "%g: snn needs a finite float64 above it", th)
		}
		if !(lif.VResetMV < lif.VThMV) {
			return pop, 0, 0, cerr(name+".v_reset", ErrInvalid, "%g must be ≤ v_threshold %g", vals["v_reset"], th)
		}
	}
	tau := 0.0
	if n.Type == "LIF" || n.Type == "LI" {
		tau = vals["tau"]
	}
	restoreMeta(n.Metadata, &pop, tau)
	if x, ok := mdFloat(n.Metadata, "mec_v_reset_mv"); ok && n.Type == "Threshold" && x < lif.VThMV {
		lif.VResetMV = x
	}
	// NIR's state starts at v = 0 (snn's default is V_reset). A LIF or IF
	// node with v_threshold < 0 would spike at once from there, which snn
	// cannot start with (V_init < V_th): refused.
	// (Threshold recomputes V every step: where it starts does not matter.)
	if pop.VInit.MV == nil && pop.VInit.UniformMV == nil {
		if (n.Type == "LIF" || n.Type == "IF") && !(0 < lif.VThMV) {
			return pop, 0, 0, cerr(name+".v_threshold", ErrUnsupported, "%g < 0: NIR's initial state v = 0 is above it (a spike at t = 0), and snn starts every neuron below V_th", vals["v_threshold"])
		}
		if zero := 0.0; lif.VResetMV != 0 && (lif.NoSpikes || 0 < lif.VThMV) {
			pop.VInit.MV = &zero
		}
	}
	return pop, gain, div, nil
}

// importBias adds an Affine node's bias b (per target, times scale: the
// Scale nodes and the target's r) to the target population's constant
// current: τ dv/dt = (v_leak − v) + r·(I + b) for LIF and LI, v̇ = r·(I + b)
// for IF and I (τ_m = 1 s), and I + b > threshold for Threshold, all
// i_bias_na = r·b with R = 1 MΩ. The bias must be one value for all
// targets; onto CubaLIF (whose bias would pass through the synaptic
// filter) or behind a Delay node it is ErrUnsupported.
func importBias(net *snn.Network, name string, bias, scale []float64, dst, dstType string, delayMs float64) error {
	nonzero := slices.ContainsFunc(bias, func(b float64) bool { return b != 0 })
	if !nonzero {
		return nil
	}
	if dstType == "CubaLIF" {
		return cerr(name+".bias", ErrUnsupported, "non-zero Affine bias into CubaLIF node %q: NIR filters it through tau_syn, mec's bias current is not filtered", dst)
	}
	if delayMs != 0 {
		return cerr(name+".bias", ErrUnsupported, "non-zero Affine bias behind a Delay node")
	}
	p := &net.Populations[indexOfPop(net, dst)]
	if len(bias) != p.Size && len(bias) != 1 {
		return cerr(name+".bias", ErrInvalid, "%d values for %d targets", len(bias), p.Size)
	}
	b0 := math.NaN()
	for t := range p.Size {
		b := bias[min(t, len(bias)-1)]
		if scale != nil {
			b *= scale[t]
		}
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return cerr(name+".bias", ErrInvalid, "non-finite bias (times the Scale nodes and r)")
		}
		if t > 0 && b != b0 {
			return cerr(name+".bias", ErrUnsupported, "snn populations take one bias current for all neurons; target %d has %g, target 0 %g", t, b, b0)
		}
		b0 = b
	}
	if p.Neuron.RMOhm != 0 && p.Neuron.RMOhm != 1 {
		return cerr(name+".bias", ErrUnsupported, "target %q has r_mohm %g in its mec metadata", dst, p.Neuron.RMOhm)
	}
	p.Neuron.IBiasNA += b0
	return nil
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
