package lava

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/prismai/mec/internal/hdf5"
)

// NIR's HDF5 layout, as nir.write (nir/serialization.py) writes a graph:
//
//	/version                  string (variable-length UTF-8)
//	/node/type                "NIRGraph"
//	/node/edges               string [E][2] (source, destination); h5py's
//	                          float64 [0] when there are no edges
//	/node/metadata/...        the graph's metadata, when not empty
//	/node/nodes/NAME/type     the node's class name ("CubaLIF", ...)
//	/node/nodes/NAME/FIELD    its parameters: float64 arrays (weight
//	                          [out][in]), shape int64 [d] of Input/Output
//	/node/nodes/NAME/metadata/KEY
//	                          a scalar (float64, int64, bool, string), an
//	                          array, or a group of them
//
// EncodeNIRHDF5 writes exactly that (in the HDF5 subset of internal/hdf5,
// contiguous rather than gzip-chunked: nir.read and h5py read both), and
// DecodeNIRHDF5 reads it back into the same NIRFile that the JSON form
// decodes to, so ImportNIR and ExportNIR are the one mapping for both.

// maxNIRNodes bounds the nodes of a decoded graph.
const maxNIRNodes = 1 << 20

// nirFields are the parameter fields of the node types mec maps, as NIR
// names them.
var nirFields = map[string][]string{
	"Input":     {"shape"},
	"Output":    {"shape"},
	"Linear":    {"weight"},
	"Affine":    {"weight", "bias"},
	"LIF":       {"tau", "r", "v_leak", "v_threshold", "v_reset"},
	"CubaLIF":   {"tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"},
	"IF":        {"r", "v_threshold", "v_reset"},
	"LI":        {"tau", "r", "v_leak"},
	"I":         {"r"},
	"Threshold": {"threshold"},
	"Conv1d":    {"weight", "stride", "padding", "dilation", "groups", "bias", "input_shape"},
	"Conv2d":    {"weight", "stride", "padding", "dilation", "groups", "bias", "input_shape"},
	"Delay":     {"delay"},
	"Scale":     {"scale"},
	"Flatten":   {"start_dim", "end_dim", "input_type"},
}

// dim returns a pointer to Flatten's field start_dim or end_dim.
func (n *NIRNode) dim(key string) **int64 {
	if key == "start_dim" {
		return &n.StartDim
	}
	return &n.EndDim
}

// vector returns a pointer to the 1-d float field named key of n.
func (n *NIRNode) vector(key string) *[]float64 {
	switch key {
	case "bias":
		return &n.Bias
	case "tau":
		return &n.Tau
	case "tau_syn":
		return &n.TauSyn
	case "tau_mem":
		return &n.TauMem
	case "r":
		return &n.R
	case "v_leak":
		return &n.VLeak
	case "v_threshold":
		return &n.VThreshold
	case "v_reset":
		return &n.VReset
	case "w_in":
		return &n.WIn
	case "delay":
		return &n.Delay
	case "scale":
		return &n.Scale
	case "threshold":
		return &n.Threshold
	}
	return nil
}

// EncodeNIRHDF5 writes f as a NIR file (HDF5) in nir.write's layout.
func EncodeNIRHDF5(f *NIRFile) ([]byte, error) {
	if f == nil {
		return nil, cerr("nir", ErrInvalid, "nil graph")
	}
	g := f.Node
	if g.Type != "NIRGraph" {
		return nil, cerr("node.type", ErrInvalid, "%q, want NIRGraph", g.Type)
	}
	if len(g.Edges.Src) != len(g.Edges.Dst) {
		return nil, cerr("node.edges", ErrInvalid, "%d sources, %d destinations", len(g.Edges.Src), len(g.Edges.Dst))
	}
	root := hdf5.NewGroup()
	root.Datasets["version"] = hdf5.Str(f.Version)
	node := root.Group("node")
	node.Datasets["type"] = hdf5.Str("NIRGraph")
	if len(g.Edges.Src) == 0 {
		node.Datasets["edges"] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{0}}
	} else {
		e := &hdf5.Dataset{Type: hdf5.String, Shape: []int{len(g.Edges.Src), 2}}
		for i, s := range g.Edges.Src {
			e.Strings = append(e.Strings, s, g.Edges.Dst[i])
		}
		node.Datasets["edges"] = e
	}
	if err := putMetadata(node, g.Metadata, "node.metadata"); err != nil {
		return nil, err
	}
	nodes := node.Group("nodes")
	for _, name := range slices.Sorted(maps.Keys(g.Nodes)) {
		n := g.Nodes[name]
		field := "nodes." + name
		fields, ok := nirFields[n.Type]
		if !ok {
			return nil, cerr(field+".type", ErrUnsupported, "%q nodes are not written", n.Type)
		}
		if name == "" || name == "." || slices.Contains([]byte(name), '/') {
			return nil, cerr(field, ErrInvalid, "a node name must be non-empty and without '/'")
		}
		ng := nodes.Group(name)
		ng.Datasets["type"] = hdf5.Str(n.Type)
		for _, k := range fields {
			switch k {
			case "shape":
				ng.Datasets["shape"] = &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{len(n.Shape)}, Ints: slices.Clone(n.Shape)}
			case "weight", "stride", "padding", "dilation", "groups", "input_shape":
				if isConv(n.Type) {
					if d := convDataset(&n, k); d != nil {
						ng.Datasets[k] = d
					}
					continue
				}
				rows, cols := len(n.Weight), 0
				if rows > 0 {
					cols = len(n.Weight[0])
				}
				d := &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{rows, cols}}
				for i, row := range n.Weight {
					if len(row) != cols {
						return nil, cerr(field+".weight", ErrInvalid, "row %d has %d columns, row 0 has %d", i, len(row), cols)
					}
					d.Floats = append(d.Floats, row...)
				}
				ng.Datasets["weight"] = d
			case "start_dim", "end_dim":
				if x := *n.dim(k); x != nil {
					ng.Datasets[k] = hdf5.I64(*x)
				}
			case "input_type":
				if n.InputType != nil {
					ng.Datasets[k] = &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{len(n.InputType)}, Ints: slices.Clone(n.InputType)}
				}
			default:
				v := *n.vector(k)
				if v == nil {
					continue
				}
				ng.Datasets[k] = &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{len(v)}, Floats: slices.Clone(v)}
			}
		}
		if err := putMetadata(ng, n.Metadata, field+".metadata"); err != nil {
			return nil, err
		}
	}
	b, err := hdf5.Encode(root)
	if err != nil {
		return nil, fmt.Errorf("lava: nir: %w", err)
	}
	return b, nil
}

// putMetadata writes a metadata map as nir.write does: a group "metadata"
// (none when the map is empty) of scalars, arrays and groups.
func putMetadata(g *hdf5.Group, md map[string]any, field string) error {
	if len(md) == 0 {
		return nil
	}
	return fillMetadata(g.Group("metadata"), md, field)
}

func fillMetadata(mg *hdf5.Group, md map[string]any, field string) error {
	for _, k := range slices.Sorted(maps.Keys(md)) {
		f := field + "." + k
		if sub, ok := md[k].(map[string]any); ok {
			if err := fillMetadata(mg.Group(k), sub, f); err != nil {
				return err
			}
			continue
		}
		d, err := metaDataset(md[k])
		if err != nil {
			return cerr(f, ErrUnsupported, "%v", err)
		}
		mg.Datasets[k] = d
	}
	return nil
}

// metaDataset converts one metadata value (as the JSON form decodes it, or
// as ExportNIR builds it) to a dataset.
func metaDataset(v any) (*hdf5.Dataset, error) {
	switch x := v.(type) {
	case float64:
		return hdf5.F64(x), nil
	case json.Number:
		f, err := x.Float64()
		return hdf5.F64(f), err
	case int:
		return hdf5.I64(int64(x)), nil
	case int64:
		return hdf5.I64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit int64", x)
		}
		return hdf5.I64(int64(x)), nil
	case bool:
		return hdf5.B(x), nil
	case string:
		return hdf5.Str(x), nil
	case []float64:
		return &hdf5.Dataset{Type: hdf5.Float64, Shape: []int{len(x)}, Floats: slices.Clone(x)}, nil
	case []any:
		d := &hdf5.Dataset{Shape: []int{len(x)}}
		for _, e := range x {
			s, err := metaDataset(e)
			if err != nil || len(s.Shape) != 0 || d.Type != 0 && s.Type != d.Type && !(numeric(d.Type) && numeric(s.Type)) {
				return nil, fmt.Errorf("a list must hold scalars of one kind")
			}
			switch s.Type {
			case hdf5.Float64, hdf5.Int64:
				d.Type = hdf5.Float64
				d.Floats = append(d.Floats, s.Floats...)
				for _, i := range s.Ints {
					d.Floats = append(d.Floats, float64(i))
				}
			case hdf5.Bool:
				d.Type, d.Bools = hdf5.Bool, append(d.Bools, s.Bools...)
			case hdf5.String:
				d.Type, d.Strings = hdf5.String, append(d.Strings, s.Strings...)
			}
		}
		if d.Type == 0 {
			d.Type = hdf5.Float64 // h5py writes an empty list as float64 [0]
		}
		return d, nil
	}
	return nil, fmt.Errorf("a value of type %T", v)
}

func numeric(t hdf5.Type) bool { return t == hdf5.Float64 || t == hdf5.Int64 }

// DecodeNIRHDF5 reads a NIR file (HDF5, as nir.write or EncodeNIRHDF5
// writes it) into the NIRFile the JSON form decodes to. Nodes of types mec
// does not map keep only their type (ImportNIR names them); a known type
// with an unknown field, a wrong shape or dtype is an error naming the
// node and the field.
func DecodeNIRHDF5(b []byte) (*NIRFile, error) {
	root, err := hdf5.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("lava: nir: %w", err)
	}
	f := &NIRFile{}
	if f.Version, err = scalarString(root, "version", "version"); err != nil {
		return nil, err
	}
	node, ok := root.Groups["node"]
	if !ok {
		return nil, cerr("node", ErrInvalid, "no /node group (not a NIR file)")
	}
	g := &f.Node
	if g.Type, err = scalarString(node, "type", "node.type"); err != nil {
		return nil, err
	}
	if g.Type != "NIRGraph" {
		return nil, cerr("node.type", ErrUnsupported, "%q, want NIRGraph", g.Type)
	}
	switch e := node.Datasets["edges"]; {
	case e == nil:
		return nil, cerr("node.edges", ErrInvalid, "missing")
	case e.Type == hdf5.String && len(e.Shape) == 2 && e.Shape[1] == 2:
		for i := 0; i < len(e.Strings); i += 2 {
			g.Edges.Src = append(g.Edges.Src, e.Strings[i])
			g.Edges.Dst = append(g.Edges.Dst, e.Strings[i+1])
		}
	case e.Len() == 0 && len(e.Shape) == 1:
	default:
		return nil, cerr("node.edges", ErrInvalid, "%v %v, want strings of shape [E 2]", e.Type, e.Shape)
	}
	if g.Metadata, err = getMetadata(node, "node.metadata"); err != nil {
		return nil, err
	}
	for k := range node.Groups {
		if k != "nodes" && k != "metadata" {
			return nil, cerr("node."+k, ErrUnsupported, "unknown group in a NIRGraph")
		}
	}
	for k := range node.Datasets {
		if k != "type" && k != "edges" {
			return nil, cerr("node."+k, ErrUnsupported, "unknown field of a NIRGraph")
		}
	}
	nodes, ok := node.Groups["nodes"]
	if !ok {
		return nil, cerr("node.nodes", ErrInvalid, "missing")
	}
	if len(nodes.Groups) > maxNIRNodes {
		return nil, cerr("node.nodes", ErrInvalid, "%d nodes, at most %d", len(nodes.Groups), maxNIRNodes)
	}
	if len(nodes.Datasets) > 0 {
		return nil, cerr("node.nodes."+slices.Sorted(maps.Keys(nodes.Datasets))[0], ErrInvalid, "a dataset where a node (group) belongs")
	}
	g.Nodes = map[string]NIRNode{}
	for _, name := range slices.Sorted(maps.Keys(nodes.Groups)) {
		n, err := decodeNIRNode(nodes.Groups[name], "nodes."+name)
		if err != nil {
			return nil, err
		}
		g.Nodes[name] = n
	}
	return f, nil
}

func scalarString(g *hdf5.Group, key, field string) (string, error) {
	d, ok := g.Datasets[key]
	if !ok {
		return "", cerr(field, ErrInvalid, "missing")
	}
	if d.Type != hdf5.String || d.Len() != 1 {
		return "", cerr(field, ErrInvalid, "%v %v, want one string", d.Type, d.Shape)
	}
	return d.Strings[0], nil
}

// decodeNIRNode reads one node group.
func decodeNIRNode(ng *hdf5.Group, field string) (NIRNode, error) {
	var n NIRNode
	var err error
	if n.Type, err = scalarString(ng, "type", field+".type"); err != nil {
		return n, err
	}
	fields, known := nirFields[n.Type]
	if !known {
		return n, nil // ImportNIR names the type
	}
	if n.Metadata, err = getMetadata(ng, field+".metadata"); err != nil {
		return n, err
	}
	for k, sub := range ng.Groups {
		if k == "input_type" && n.Type == "Flatten" {
			// nir.write stores Flatten's input_type, a dict, as a group
			// {"input": shape}.
			d, ok := sub.Datasets["input"]
			if len(sub.Datasets) != 1 || len(sub.Groups) != 0 || !ok || d.Type != hdf5.Int64 || len(d.Shape) != 1 {
				return n, cerr(field+".input_type", ErrInvalid, "want a group holding one 1-d integer dataset \"input\"")
			}
			n.InputType = slices.Clone(d.Ints)
			continue
		}
		if k != "metadata" {
			return n, cerr(field+"."+k, ErrUnsupported, "unknown group of a %s node", n.Type)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ng.Datasets)) {
		if k == "type" {
			continue
		}
		f := field + "." + k
		d := ng.Datasets[k]
		if !slices.Contains(fields, k) {
			return n, cerr(f, ErrUnsupported, "unknown field of a %s node", n.Type)
		}
		switch k {
		case "shape":
			if d.Type != hdf5.Int64 || len(d.Shape) != 1 {
				return n, cerr(f, ErrInvalid, "%v %v, want a 1-d integer array", d.Type, d.Shape)
			}
			n.Shape = slices.Clone(d.Ints)
		case "start_dim", "end_dim":
			if d.Type != hdf5.Int64 || len(d.Shape) != 0 || len(d.Ints) != 1 {
				return n, cerr(f, ErrInvalid, "%v %v, want one integer", d.Type, d.Shape)
			}
			x := d.Ints[0]
			*n.dim(k) = &x
		case "input_type":
			if d.Type != hdf5.Int64 || len(d.Shape) != 1 {
				return n, cerr(f, ErrInvalid, "%v %v, want a 1-d integer array", d.Type, d.Shape)
			}
			n.InputType = slices.Clone(d.Ints)
		case "stride", "padding", "dilation", "groups", "input_shape":
			if err := decodeConvInts(&n, k, d, f); err != nil {
				return n, err
			}
		case "weight":
			if isConv(n.Type) {
				if !isFloat(d) && d.Type != hdf5.Int64 || len(d.Shape) < 3 || len(d.Shape) > 4 {
					return n, cerr(f, ErrInvalid, "%v %v, want a 3-d or 4-d number array", d.Type, d.Shape)
				}
				n.Kernel, n.KernelShape = slices.Clone(d.Floats), slices.Clone(d.Shape)
				for _, x := range d.Ints {
					n.Kernel = append(n.Kernel, float64(x))
				}
				continue
			}
			if !isFloat(d) && d.Type != hdf5.Int64 || len(d.Shape) != 2 {
				return n, cerr(f, ErrInvalid, "%v %v, want a 2-d number array [out][in]", d.Type, d.Shape)
			}
			rows, cols := d.Shape[0], d.Shape[1]
			if cols == 0 && rows > 0 {
				// Rows of nothing cost no file bytes: refuse them.
				return n, cerr(f, ErrInvalid, "shape %v: a weight matrix with no columns", d.Shape)
			}
			v := d.Floats
			if d.Type == hdf5.Int64 { // nir.write keeps numpy's dtype
				v = make([]float64, len(d.Ints))
				for i, x := range d.Ints {
					v[i] = float64(x)
				}
			}
			n.Weight = make([][]float64, rows)
			for r := range rows {
				n.Weight[r] = v[r*cols : (r+1)*cols : (r+1)*cols]
			}
		default:
			// A per-neuron parameter of any rank (nodes.1.r [16 16 16]
			// for the neurons after a Conv2d) reads flat in C order, the
			// order of a Conv node's outputs.
			if !isFloat(d) && d.Type != hdf5.Int64 {
				return n, cerr(f, ErrInvalid, "%v %v, want a number or an array of numbers", d.Type, d.Shape)
			}
			v := slices.Clone(d.Floats)
			for _, i := range d.Ints {
				v = append(v, float64(i))
			}
			if v == nil {
				v = []float64{}
			}
			*n.vector(k) = v
		}
	}
	return n, nil
}

func isFloat(d *hdf5.Dataset) bool { return d.Type == hdf5.Float64 || d.Type == hdf5.Float32 }

// getMetadata reads a "metadata" group into the values the JSON form
// decodes to: numbers as float64, bools, strings, arrays as []any, groups
// as maps. It returns nil when there is no such group.
func getMetadata(g *hdf5.Group, field string) (map[string]any, error) {
	mg, ok := g.Groups["metadata"]
	if !ok {
		if _, ds := g.Datasets["metadata"]; ds {
			return nil, cerr(field, ErrInvalid, "a dataset, want a group")
		}
		return nil, nil
	}
	return metaGroup(mg, field, 0)
}

func metaGroup(mg *hdf5.Group, field string, depth int) (map[string]any, error) {
	if depth > 8 {
		return nil, cerr(field, ErrUnsupported, "metadata nested deeper than 8")
	}
	md := map[string]any{}
	for k, s := range mg.Groups {
		v, err := metaGroup(s, field+"."+k, depth+1)
		if err != nil {
			return nil, err
		}
		md[k] = v
	}
	for k, d := range mg.Datasets {
		var vals []any
		for _, x := range d.Floats {
			vals = append(vals, x)
		}
		for _, x := range d.Ints {
			vals = append(vals, float64(x))
		}
		for _, x := range d.Bools {
			vals = append(vals, x)
		}
		for _, x := range d.Strings {
			vals = append(vals, x)
		}
		switch {
		case len(d.Shape) == 0:
			md[k] = vals[0]
		case len(d.Shape) == 1:
			if vals == nil {
				vals = []any{}
			}
			md[k] = vals
		default:
			return nil, cerr(field+"."+k, ErrUnsupported, "metadata array of shape %v (only scalars and 1-d arrays)", d.Shape)
		}
	}
	return md, nil
}

// convDataset returns the dataset of a Conv node's field k as nir.write
// writes it: the weight as an N-d float64 array; stride, dilation and
// padding as an int64 scalar (Conv1d) or [2] (Conv2d, which NIR turns
// into tuples), padding "same"/"valid" as a string; groups as an int64
// scalar; input_shape as a scalar (Conv1d) or [2]. Unset fields are not
// written.
func convDataset(n *NIRNode, k string) *hdf5.Dataset {
	ints := func(v []int64) *hdf5.Dataset {
		if v == nil {
			return nil
		}
		if n.Type == "Conv1d" && len(v) == 1 {
			return hdf5.I64(v[0])
		}
		if n.Type == "Conv2d" && len(v) == 1 {
			v = []int64{v[0], v[0]}
		}
		return &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{len(v)}, Ints: slices.Clone(v)}
	}
	switch k {
	case "weight":
		return &hdf5.Dataset{Type: hdf5.Float64, Shape: slices.Clone(n.KernelShape), Floats: slices.Clone(n.Kernel)}
	case "stride":
		return ints(n.Stride)
	case "dilation":
		return ints(n.Dilation)
	case "padding":
		if n.PaddingMode != "" {
			return hdf5.Str(n.PaddingMode)
		}
		return ints(n.Padding)
	case "groups":
		if n.Groups == 0 {
			return nil
		}
		return hdf5.I64(n.Groups)
	case "input_shape":
		if n.InputShape == nil {
			return nil
		}
		if n.Type == "Conv1d" && len(n.InputShape) == 1 {
			return hdf5.I64(n.InputShape[0]) // NIR's Conv1d input_shape is an int
		}
		return &hdf5.Dataset{Type: hdf5.Int64, Shape: []int{len(n.InputShape)}, Ints: slices.Clone(n.InputShape)}
	}
	return nil
}

// decodeConvInts reads a Conv node's integer field k: an integer scalar
// or 1-d array (padding may also be a string, groups is a scalar).
func decodeConvInts(n *NIRNode, k string, d *hdf5.Dataset, f string) error {
	if k == "padding" && d.Type == hdf5.String {
		if len(d.Strings) != 1 || len(d.Shape) != 0 {
			return cerr(f, ErrInvalid, "want one string")
		}
		n.PaddingMode = d.Strings[0]
		return nil
	}
	if d.Type != hdf5.Int64 || len(d.Shape) > 1 || (k == "groups" && len(d.Shape) != 0) {
		return cerr(f, ErrInvalid, "%v %v, want an integer scalar or 1-d array", d.Type, d.Shape)
	}
	v := slices.Clone(d.Ints)
	if k == "groups" && len(v) != 1 {
		return cerr(f, ErrInvalid, "want one integer")
	}
	switch k {
	case "stride":
		n.Stride = v
	case "padding":
		n.Padding = v
	case "dilation":
		n.Dilation = v
	case "groups":
		n.Groups = v[0]
	case "input_shape":
		n.InputShape = v
	}
	return nil
}
