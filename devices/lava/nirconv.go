package lava

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/prismai/mec/internal/strict"
)

// NIR's Conv1d and Conv2d nodes are PyTorch's cross-correlations:
//
//	y[co][o] = bias[co] + Σ_{cl, k} W[co][cl][k] · x[g·C_in/G + cl][o·stride − pad + k·dilation]
//
// with g = co / (C_out/G) the group of output channel co (G groups), k and
// o running over the kernel and output positions of each spatial
// dimension, and x zero outside the input. Tensors are flattened in C
// order onto neuron indices: input (c, i) or (c, i, j) is neuron
// c·N + i or c·N_x·N_y + i·N_y + j, outputs likewise. ImportNIR expands a
// Conv node between two neuron nodes into an explicit synapse list (rule
// "list", one synapse per non-zero kernel weight and in-range position),
// which the target neuron node scales as it does a Linear node's weights.

// maxConvSynapses bounds the synapses the Conv nodes of one graph may
// expand to, together (2^22: about 100 MiB of pairs and weights). A Conv
// node is a few bytes of file for any number of synapses, so the bound
// cannot follow the file's size: ImportNIR counts each node's synapses
// (convGeom.syn) before it allocates any and refuses the node that
// crosses it.
const maxConvSynapses = 1 << 22

// isConv reports whether t is a convolution node type.
func isConv(t string) bool { return t == "Conv1d" || t == "Conv2d" }

// isWeightNode reports whether t is a node type that ImportNIR maps onto
// a projection's synapses.
func isWeightNode(t string) bool { return t == "Linear" || t == "Affine" || isConv(t) }

// nirNodeJSON is NIRNode without its JSON methods.
type nirNodeJSON NIRNode

// MarshalJSON writes the node with NIR's field names; a Conv node's
// weight is a nested array of KernelShape and its padding an integer,
// an array or "same"/"valid".
func (n NIRNode) MarshalJSON() ([]byte, error) {
	if !isConv(n.Type) {
		return json.Marshal(nirNodeJSON(n))
	}
	w, err := nest(n.Kernel, n.KernelShape)
	if err != nil {
		return nil, fmt.Errorf("%s node weight: %w", n.Type, err)
	}
	var pad any = n.Padding
	if n.PaddingMode != "" {
		pad = n.PaddingMode
	}
	return json.Marshal(struct {
		nirNodeJSON
		Weight  any `json:"weight"`
		Padding any `json:"padding"`
	}{nirNodeJSON(n), w, pad})
}

// UnmarshalJSON reads a node written by MarshalJSON; unknown fields are
// errors. A per-neuron parameter (tau, r, v_threshold, bias, ...) may be
// a number or an array of 1 to 4 dimensions, flattened in C order (the
// order of a Conv node's outputs); a numpy array written as nested lists
// reads as the flat one.
func (n *NIRNode) UnmarshalJSON(b []byte) error {
	var aux struct {
		nirNodeJSON
		Weight     json.RawMessage `json:"weight"`
		Padding    json.RawMessage `json:"padding"`
		Bias       json.RawMessage `json:"bias"`
		Tau        json.RawMessage `json:"tau"`
		TauSyn     json.RawMessage `json:"tau_syn"`
		TauMem     json.RawMessage `json:"tau_mem"`
		R          json.RawMessage `json:"r"`
		VLeak      json.RawMessage `json:"v_leak"`
		VThreshold json.RawMessage `json:"v_threshold"`
		VReset     json.RawMessage `json:"v_reset"`
		WIn        json.RawMessage `json:"w_in"`
		Delay      json.RawMessage `json:"delay"`
		Scale      json.RawMessage `json:"scale"`
		Threshold  json.RawMessage `json:"threshold"`
	}
	if err := strict.JSON(b, &aux); err != nil {
		return err
	}
	*n = NIRNode(aux.nirNodeJSON)
	for _, p := range []struct {
		key string
		raw json.RawMessage
	}{{"bias", aux.Bias}, {"tau", aux.Tau}, {"tau_syn", aux.TauSyn}, {"tau_mem", aux.TauMem}, {"r", aux.R},
		{"v_leak", aux.VLeak}, {"v_threshold", aux.VThreshold}, {"v_reset", aux.VReset}, {"w_in", aux.WIn},
		{"delay", aux.Delay}, {"scale", aux.Scale}, {"threshold", aux.Threshold}} {
		v, err := flatParam(p.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", p.key, err)
		}
		*n.vector(p.key) = v
	}
	if !isConv(n.Type) {
		if aux.Padding != nil {
			return fmt.Errorf("a %s node has no field padding", n.Type)
		}
		if aux.Weight != nil {
			return strict.JSON(aux.Weight, &n.Weight)
		}
		return nil
	}
	if aux.Weight != nil {
		var v any
		if err := json.Unmarshal(aux.Weight, &v); err != nil {
			return fmt.Errorf("weight: %w", err)
		}
		flat, shape, err := flatten(v)
		if err != nil {
			return fmt.Errorf("weight: %w", err)
		}
		n.Kernel, n.KernelShape = flat, shape
	}
	if aux.Padding != nil {
		var mode string
		if json.Unmarshal(aux.Padding, &mode) == nil {
			n.PaddingMode = mode
			return nil
		}
		var one int64
		if json.Unmarshal(aux.Padding, &one) == nil {
			n.Padding = []int64{one}
			return nil
		}
		if err := json.Unmarshal(aux.Padding, &n.Padding); err != nil {
			return fmt.Errorf("padding: want an integer, an array of them, \"same\" or \"valid\": %w", err)
		}
	}
	return nil
}

// flatParam reads a per-neuron parameter: absent or null (nil), a number
// (one value), [] (none) or a rectangular array of 1 to 4 dimensions
// (flattened in C order).
func flatParam(raw json.RawMessage) ([]float64, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case float64:
		return []float64{x}, nil
	case []any:
		if len(x) == 0 {
			return []float64{}, nil
		}
	}
	flat, _, err := flatten(v)
	if err != nil {
		return nil, fmt.Errorf("want a number or an array of numbers: %w", err)
	}
	return flat, nil
}

// nest turns a flat C-order array of the given shape into nested slices.
func nest(flat []float64, shape []int) (any, error) {
	size := 1
	for _, d := range shape {
		if d < 0 || d > 0 && size > math.MaxInt32/d {
			return nil, fmt.Errorf("bad shape %v", shape)
		}
		size *= d
	}
	if size != len(flat) || len(shape) == 0 {
		return nil, fmt.Errorf("%d values for shape %v", len(flat), shape)
	}
	if len(shape) == 1 {
		return flat, nil
	}
	out := make([]any, shape[0])
	step := size / max(shape[0], 1)
	for i := range out {
		v, err := nest(flat[i*step:(i+1)*step], shape[1:])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// flatten turns nested JSON arrays of numbers (rectangular, at most 4
// deep) into a flat C-order array and its shape.
func flatten(v any) ([]float64, []int, error) {
	var shape []int
	for x := v; ; {
		a, ok := x.([]any)
		if !ok {
			break
		}
		shape = append(shape, len(a))
		if len(shape) > 4 || len(a) == 0 {
			return nil, nil, fmt.Errorf("want a non-empty array of 1 to 4 dimensions")
		}
		x = a[0]
	}
	if len(shape) == 0 {
		return nil, nil, fmt.Errorf("want an array")
	}
	var flat []float64
	var walk func(x any, depth int) error
	walk = func(x any, depth int) error {
		if depth == len(shape) {
			f, ok := x.(float64)
			if !ok {
				return fmt.Errorf("want numbers in a %d-d array of shape %v", len(shape), shape)
			}
			flat = append(flat, f)
			return nil
		}
		a, ok := x.([]any)
		if !ok || len(a) != shape[depth] {
			return fmt.Errorf("not a rectangular array of shape %v", shape)
		}
		for _, y := range a {
			if err := walk(y, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, nil, err
	}
	return flat, shape, nil
}

// convGeom is a Conv node's geometry, Conv1d as Conv2d with N_y = K_y = 1.
type convGeom struct {
	cin, cout, groups int
	in, out, k        [2]int // spatial sizes of input, output and kernel
	stride, dil, pad  [2]int // pad: zeros before each spatial dimension
	syn               int64  // synapses: non-zero weights × in-range positions
}

// ins and outs are the sizes of the flattened input and output.
func (g *convGeom) ins() int  { return g.cin * g.in[0] * g.in[1] }
func (g *convGeom) outs() int { return g.cout * g.out[0] * g.out[1] }

// perDim returns the value of a stride, dilation or padding field for
// each of d spatial dimensions (one value broadcast), or the default.
func perDim(name, field string, v []int64, d int, def, lo int64) ([2]int, error) {
	r := [2]int{int(def), int(def)}
	if d == 1 {
		r[1] = 1
		if field == "padding" {
			r[1] = 0
		}
	}
	switch {
	case v == nil:
		return r, nil
	case len(v) != 1 && len(v) != d:
		return r, cerr(name+"."+field, ErrInvalid, "%d values for %d spatial dimensions", len(v), d)
	}
	for i := range d {
		x := v[min(i, len(v)-1)]
		if x < lo || x > maxNIRSize {
			return r, cerr(name+"."+field, ErrInvalid, "%d: must be in %d..%d", x, lo, maxNIRSize)
		}
		r[i] = int(x)
	}
	return r, nil
}

// convGeometry checks a Conv node's fields and returns its geometry.
func convGeometry(name string, n *NIRNode) (*convGeom, error) {
	d := 1
	if n.Type == "Conv2d" {
		d = 2
	}
	ks := n.KernelShape
	if len(ks) != d+2 {
		return nil, cerr(name+".weight", ErrInvalid, "shape %v: want (C_out, C_in/groups, %s)", ks, map[int]string{1: "K", 2: "K_x, K_y"}[d])
	}
	for _, x := range ks {
		if x <= 0 || x > maxNIRSize {
			return nil, cerr(name+".weight", ErrInvalid, "shape %v: every size must be in 1..%d", ks, maxNIRSize)
		}
	}
	size := 1
	for _, x := range ks {
		if size > maxNIRSize/x {
			return nil, cerr(name+".weight", ErrInvalid, "shape %v: more than %d weights", ks, maxNIRSize)
		}
		size *= x
	}
	if len(n.Kernel) != size {
		return nil, cerr(name+".weight", ErrInvalid, "%d values for shape %v", len(n.Kernel), ks)
	}
	for _, w := range n.Kernel {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, cerr(name+".weight", ErrInvalid, "non-finite weight")
		}
	}
	g := &convGeom{cout: ks[0], groups: 1, k: [2]int{ks[2], 1}}
	if d == 2 {
		g.k[1] = ks[3]
	}
	if n.Groups != 0 {
		if n.Groups < 1 || n.Groups > int64(g.cout) || int64(g.cout)%n.Groups != 0 {
			return nil, cerr(name+".groups", ErrInvalid, "%d: must divide C_out = %d", n.Groups, g.cout)
		}
		g.groups = int(n.Groups)
	}
	g.cin = ks[1] * g.groups
	if len(n.InputShape) != d {
		return nil, cerr(name+".input_shape", ErrInvalid, "%v: want %d spatial sizes (NIR's input_shape is required to expand a Conv node)", n.InputShape, d)
	}
	g.in = [2]int{1, 1}
	for i, x := range n.InputShape {
		if x <= 0 || x > maxNIRSize {
			return nil, cerr(name+".input_shape", ErrInvalid, "%v: sizes must be in 1..%d", n.InputShape, maxNIRSize)
		}
		g.in[i] = int(x)
	}
	var err error
	if g.stride, err = perDim(name, "stride", n.Stride, d, 1, 1); err != nil {
		return nil, err
	}
	if g.dil, err = perDim(name, "dilation", n.Dilation, d, 1, 1); err != nil {
		return nil, err
	}
	switch n.PaddingMode {
	case "":
		if g.pad, err = perDim(name, "padding", n.Padding, d, 0, 0); err != nil {
			return nil, err
		}
	case "valid":
	case "same":
		for i := range d {
			if g.stride[i] != 1 {
				return nil, cerr(name+".padding", ErrInvalid, "\"same\" needs stride 1, got %v", g.stride)
			}
			g.pad[i] = g.dil[i] * (g.k[i] - 1) / 2 // PyTorch: the extra zero goes after
		}
	default:
		return nil, cerr(name+".padding", ErrInvalid, "%q: want an integer, \"same\" or \"valid\"", n.PaddingMode)
	}
	for i := range 2 {
		span := g.dil[i]*(g.k[i]-1) + 1
		if n.PaddingMode == "same" {
			g.out[i] = g.in[i]
		} else if g.in[i]+2*g.pad[i] >= span {
			g.out[i] = (g.in[i]+2*g.pad[i]-span)/g.stride[i] + 1
		}
		if g.out[i] <= 0 {
			return nil, cerr(name+".weight", ErrInvalid, "kernel span %d exceeds the padded input %d", span, g.in[i]+2*g.pad[i])
		}
	}
	if g.ins() > maxNIRSize || g.outs() > maxNIRSize || g.cin*g.in[0] > maxNIRSize || g.cout*g.out[0] > maxNIRSize {
		return nil, cerr(name+".input_shape", ErrInvalid, "more than %d inputs or outputs", maxNIRSize)
	}
	g.syn = g.count(n.Kernel)
	if g.syn > maxConvSynapses {
		return nil, cerr(name+".weight", ErrUnsupported, "expands to %d synapses, more than mec's bound of %d for the Conv nodes of a graph", g.syn, maxConvSynapses)
	}
	if n.Bias != nil && len(n.Bias) != g.cout && len(n.Bias) != 1 {
		return nil, cerr(name+".bias", ErrInvalid, "%d values for C_out = %d", len(n.Bias), g.cout)
	}
	return g, nil
}

// inRange returns, for each kernel position of spatial dimension i, the
// number of output positions whose input for it lies inside the input.
func (g *convGeom) inRange(i int) []int64 {
	c := make([]int64, g.k[i])
	for k := range c {
		for o := range g.out[i] {
			if x := o*g.stride[i] - g.pad[i] + k*g.dil[i]; x >= 0 && x < g.in[i] {
				c[k]++
			}
		}
	}
	return c
}

// count returns the synapses convSynapses makes of kernel w without
// making them: Σ over non-zero weights of the in-range output positions
// (at most 2^24 × 2^24: no overflow).
func (g *convGeom) count(w []float64) int64 {
	cx, cy := g.inRange(0), g.inRange(1)
	var n int64
	for i, x := range w {
		if x != 0 {
			n += cx[i/g.k[1]%g.k[0]] * cy[i%g.k[1]]
		}
	}
	return n
}

// convSynapses expands a Conv node into (source, target) pairs and their
// weights, in kernel order, skipping zero weights, each slice allocated
// once at its final length g.syn; bias is the per-target bias (nil
// without one).
func convSynapses(g *convGeom, n *NIRNode) (pairs [][2]int, ws, bias []float64) {
	pairs, ws = make([][2]int, 0, g.syn), make([]float64, 0, g.syn)
	cl := g.cin / g.groups
	per := g.cout / g.groups
	for co := range g.cout {
		grp := co / per
		for c := range cl {
			ci := grp*cl + c
			for kx := range g.k[0] {
				for ky := range g.k[1] {
					w := n.Kernel[((co*cl+c)*g.k[0]+kx)*g.k[1]+ky]
					if w == 0 {
						continue
					}
					for ox := range g.out[0] {
						ix := ox*g.stride[0] - g.pad[0] + kx*g.dil[0]
						if ix < 0 || ix >= g.in[0] {
							continue
						}
						for oy := range g.out[1] {
							iy := oy*g.stride[1] - g.pad[1] + ky*g.dil[1]
							if iy < 0 || iy >= g.in[1] {
								continue
							}
							src := (ci*g.in[0]+ix)*g.in[1] + iy
							tgt := (co*g.out[0]+ox)*g.out[1] + oy
							pairs = append(pairs, [2]int{src, tgt})
							ws = append(ws, w)
						}
					}
				}
			}
		}
	}
	if n.Bias != nil {
		bias = make([]float64, g.outs())
		for t := range bias {
			bias[t] = n.Bias[min(t/(g.out[0]*g.out[1]), len(n.Bias)-1)]
		}
	}
	return pairs, ws, bias
}
