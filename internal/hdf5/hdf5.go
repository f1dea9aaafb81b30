// Package hdf5 reads and writes the small part of HDF5 that NIR files (the
// Neuromorphic Intermediate Representation, written by nir.write through
// h5py) use: a tree of groups holding datasets of numbers and strings.
//
// No maintained pure-Go HDF5 library is served to mec (gonum.org/v1/hdf5
// binds the C library through cgo, which mec does not use), so this package
// implements that subset from the HDF5 File Format Specification.
//
// Encode writes what h5py writes with its default (earliest) format: a
// version 0 superblock, version 1 object headers, groups as symbol tables (a
// version 1 B-tree of symbol table nodes and a local heap of names), and
// contiguous datasets of float64, float32, int64, bool (h5py's enum of int8)
// and variable-length UTF-8 strings (kept in global heap collections).
//
// Decode reads what Encode writes and what h5py and nir.write produce:
// superblock versions 0 to 3, object header versions 1 and 2 (with
// continuation blocks), groups as symbol tables or compact link messages,
// contiguous, compact and version 3 chunked layouts, the deflate and shuffle
// filters (nir.write compresses arrays with gzip), and datatypes of fixed
// and floating point numbers, h5py's bool enum, fixed-length and
// variable-length strings. Attributes are skipped (NIR graphs have none).
// Anything else (dense link storage, soft and external links, version 4
// chunk indexes, filters other than deflate, shuffle and fletcher32,
// compound, array and reference types, shared header messages, numbers
// with padding bits) is an error that names the object's path and the
// feature. The fletcher32 filter's checksum is verified.
//
// Decode never panics on hostile input (FuzzDecode) and bounds what it
// allocates by the input's size (TestDecodeBounded): each decoded element
// is charged its Go memory against a budget of 40 bytes per input byte,
// except the elements of deflated chunks, charged by the size each chunk
// must inflate to against a budget of 1100 bytes per input byte (deflate
// expands at most about 1032 times); shape products are checked before
// they can overflow; a chunk listed twice is refused; a variable-length
// string is copied once however many elements refer to it (an object
// linked under several names is decoded, and charged, once per name).
//
// Layer: shared leaf. It imports no other mec package.
package hdf5

import (
	"fmt"
	"math"
	"sort"
)

// Type is a dataset's element type.
type Type int

// Element types.
const (
	// Float64 is IEEE 754 double precision (Dataset.Floats).
	Float64 Type = iota + 1
	// Float32 is IEEE 754 single precision (Dataset.Floats, widened exactly).
	Float32
	// Int64 is a signed integer (Dataset.Ints); Decode reads every integer
	// width, signed or not, into it.
	Int64
	// Bool is h5py's bool: an enum of int8 with FALSE = 0, TRUE = 1
	// (Dataset.Bools).
	Bool
	// String is a UTF-8 string (Dataset.Strings): Encode writes
	// variable-length strings (h5py.string_dtype()); Decode also reads
	// fixed-length ones.
	String
)

// String names the type as numpy does.
func (t Type) String() string {
	switch t {
	case Float64:
		return "float64"
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	case String:
		return "string"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Dataset is an array (or, with an empty Shape, a scalar) of one Type,
// stored in row-major order in the slice its Type names.
type Dataset struct {
	Type Type
	// Shape is the size of each dimension; empty for a scalar.
	Shape   []int
	Floats  []float64
	Ints    []int64
	Bools   []bool
	Strings []string
}

// Len is the number of elements Shape holds (1 for a scalar; -1 when a
// dimension is negative or the product overflows an int).
func (d *Dataset) Len() int {
	n, ok := shapeLen(d.Shape)
	if !ok {
		return -1
	}
	return n
}

// shapeLen is the product of the sizes, false when one is negative or the
// product overflows.
func shapeLen(shape []int) (int, bool) {
	n := 1
	for _, s := range shape {
		if s < 0 || s != 0 && n > math.MaxInt/s {
			return 0, false
		}
		n *= s
	}
	return n, true
}

// Group is an HDF5 group: named subgroups and datasets (a name is one or
// the other).
type Group struct {
	Groups   map[string]*Group
	Datasets map[string]*Dataset
}

// NewGroup returns an empty group.
func NewGroup() *Group {
	return &Group{Groups: map[string]*Group{}, Datasets: map[string]*Dataset{}}
}

// Group returns the subgroup name, creating it if absent.
func (g *Group) Group(name string) *Group {
	if s, ok := g.Groups[name]; ok {
		return s
	}
	s := NewGroup()
	g.Groups[name] = s
	return s
}

// names lists the group's member names in byte order (the order of an HDF5
// symbol table).
func (g *Group) names() []string {
	n := make([]string, 0, len(g.Groups)+len(g.Datasets))
	for k := range g.Groups {
		n = append(n, k)
	}
	for k := range g.Datasets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Scalar helpers.

// F64 is a float64 scalar.
func F64(x float64) *Dataset { return &Dataset{Type: Float64, Floats: []float64{x}} }

// I64 is an int64 scalar.
func I64(x int64) *Dataset { return &Dataset{Type: Int64, Ints: []int64{x}} }

// Str is a string scalar.
func Str(s string) *Dataset { return &Dataset{Type: String, Strings: []string{s}} }

// B is a bool scalar.
func B(b bool) *Dataset { return &Dataset{Type: Bool, Bools: []bool{b}} }
