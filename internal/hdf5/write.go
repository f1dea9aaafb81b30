package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Format constants of what Encode writes (those of the HDF5 library's
// defaults): 8-byte offsets and lengths, group leaf node K 4 (symbol table
// nodes of up to 8 entries), group internal node K 16 (B-tree nodes of up
// to 32 children).
const (
	leafK      = 4
	internalK  = 16
	sbSize     = 96
	snodSize   = 8 + 2*leafK*40
	btreeSize  = 24 + 2*internalK*8 + (2*internalK+1)*8
	gcolMin    = 4096  // the HDF5 library's smallest global heap collection
	gcolMaxIDs = 65535 // object indexes are 16 bits
)

// writer lays the file out in buf, appending each structure at an 8-byte
// aligned offset (file addresses are offsets: the base address is 0).
type writer struct {
	buf  []byte
	refs map[*Dataset][]gref // global heap references of string datasets
}

// gref is a global heap reference: collection address and object index.
type gref struct {
	col uint64
	idx uint32
}

func (w *writer) alloc(n int) int {
	for len(w.buf)%8 != 0 {
		w.buf = append(w.buf, 0)
	}
	at := len(w.buf)
	w.buf = append(w.buf, make([]byte, n)...)
	return at
}

func put16(b []byte, v int)    { binary.LittleEndian.PutUint16(b, uint16(v)) }
func put32(b []byte, v int)    { binary.LittleEndian.PutUint32(b, uint32(v)) }
func put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// Encode writes the tree under root as an HDF5 file (see the package
// notes for the format). Names must be non-empty, free of '/' and NUL, and
// unique within a group; each dataset's slice must hold Len() elements of
// valid UTF-8 (strings) and its Shape no negative size.
func Encode(root *Group) ([]byte, error) {
	if err := check(root, "", map[*Group]bool{}); err != nil {
		return nil, err
	}
	w := &writer{refs: map[*Dataset][]gref{}}
	w.alloc(sbSize)
	w.strings(root)
	addr, tree, heap := w.group(root)
	b := w.buf
	copy(b, Signature)
	// Versions (superblock, free space, root symbol table, reserved,
	// shared header) are 0; sizes of offsets and lengths 8.
	b[13], b[14] = 8, 8
	put16(b[16:], leafK)
	put16(b[18:], internalK)
	put64(b[24:], 0)                  // base address
	put64(b[32:], math.MaxUint64)     // free-space info: undefined
	put64(b[40:], uint64(len(w.buf))) // end of file
	put64(b[48:], math.MaxUint64)     // driver information: undefined
	// The root group's symbol table entry, caching its B-tree and heap.
	put64(b[56:], 0)
	put64(b[64:], addr)
	put32(b[72:], 1)
	put64(b[80:], tree)
	put64(b[88:], heap)
	return w.buf, nil
}

// check validates names and datasets; a group that contains itself
// (visiting holds the groups above g) is refused.
func check(g *Group, path string, visiting map[*Group]bool) error {
	if g == nil {
		return fmt.Errorf("hdf5: %s: nil group", path+"/")
	}
	if visiting[g] {
		return fmt.Errorf("hdf5: %s: a group that contains itself", path+"/")
	}
	visiting[g] = true
	defer delete(visiting, g)
	for _, n := range g.names() {
		p := path + "/" + n
		if n == "" || n == "." || strings.ContainsAny(n, "/\x00") || !utf8.ValidString(n) {
			return fmt.Errorf("hdf5: %q: invalid member name", p)
		}
		if s, ok := g.Groups[n]; ok {
			if _, dup := g.Datasets[n]; dup {
				return fmt.Errorf("hdf5: %s: both a group and a dataset", p)
			}
			if err := check(s, p, visiting); err != nil {
				return err
			}
			continue
		}
		d := g.Datasets[n]
		if d == nil {
			return fmt.Errorf("hdf5: %s: nil dataset", p)
		}
		if len(d.Shape) > maxRank {
			return fmt.Errorf("hdf5: %s: shape of rank %d (at most %d)", p, len(d.Shape), maxRank)
		}
		for _, s := range d.Shape {
			if s < 0 {
				return fmt.Errorf("hdf5: %s: negative dimension in shape %v", p, d.Shape)
			}
		}
		if _, ok := shapeLen(d.Shape); !ok {
			return fmt.Errorf("hdf5: %s: shape %v holds more elements than an int counts", p, d.Shape)
		}
		n, got := d.Len(), -1
		switch d.Type {
		case Float64, Float32:
			got = len(d.Floats)
		case Int64:
			got = len(d.Ints)
		case Bool:
			got = len(d.Bools)
		case String:
			got = len(d.Strings)
			for _, s := range d.Strings {
				if !utf8.ValidString(s) {
					return fmt.Errorf("hdf5: %s: a string that is not UTF-8", p)
				}
			}
		default:
			return fmt.Errorf("hdf5: %s: unknown type %v", p, d.Type)
		}
		if got != n {
			return fmt.Errorf("hdf5: %s: %d %v values for shape %v (%d elements)", p, got, d.Type, d.Shape, n)
		}
	}
	return nil
}

// strings writes every string of the tree into global heap collections
// (each at least 4096 bytes, as the HDF5 library makes them), in the order
// the datasets are written.
func (w *writer) strings(root *Group) {
	var all []*Dataset
	var walk func(g *Group)
	walk = func(g *Group) {
		for _, n := range g.names() {
			if s, ok := g.Groups[n]; ok {
				walk(s)
			} else if d := g.Datasets[n]; d.Type == String {
				all = append(all, d)
			}
		}
	}
	walk(root)
	type obj struct {
		d *Dataset
		s string
	}
	var pending []obj
	size := 16
	flush := func() {
		if len(pending) == 0 {
			return
		}
		total := max(size+16, gcolMin) // + the free-space object's header
		at := w.alloc(total)
		b := w.buf[at:]
		copy(b, "GCOL")
		b[4] = 1
		put64(b[8:], uint64(total))
		off := 16
		for i, o := range pending {
			put16(b[off:], i+1)
			put16(b[off+2:], 1) // reference count
			put64(b[off+8:], uint64(len(o.s)))
			copy(b[off+16:], o.s)
			off += 16 + pad8(len(o.s))
			w.refs[o.d] = append(w.refs[o.d], gref{uint64(at), uint32(i + 1)})
		}
		// Object 0: the free space left in the collection.
		put64(b[off+8:], uint64(total-off))
		pending, size = nil, 16
	}
	done := map[*Dataset]bool{} // a dataset under several names is written once
	for _, d := range all {
		if done[d] {
			continue
		}
		done[d] = true
		for _, s := range d.Strings {
			if len(pending) == gcolMaxIDs {
				flush()
			}
			pending = append(pending, obj{d, s})
			size += 16 + pad8(len(s))
		}
	}
	flush()
}

func pad8(n int) int { return (n + 7) &^ 7 }

// msg is a header message to write.
type msg struct {
	typ   int
	flags byte
	data  []byte
}

// header writes a version 1 object header and returns its address.
func (w *writer) header(msgs []msg) uint64 {
	size := 0
	for _, m := range msgs {
		size += 8 + pad8(len(m.data))
	}
	at := w.alloc(16 + size)
	b := w.buf[at:]
	b[0] = 1
	put16(b[2:], len(msgs))
	put32(b[4:], 1) // reference count
	put32(b[8:], size)
	off := 16
	for _, m := range msgs {
		put16(b[off:], m.typ)
		put16(b[off+2:], pad8(len(m.data)))
		b[off+4] = m.flags
		copy(b[off+8:], m.data)
		off += 8 + pad8(len(m.data))
	}
	return uint64(at)
}

// group writes a group's members, then its local heap, symbol table nodes,
// B-tree and object header; it returns the header, B-tree and heap
// addresses.
func (w *writer) group(g *Group) (addr, tree, heapAt uint64) {
	names := g.names()
	objs := make([]uint64, len(names))
	isGroup := make([]bool, len(names))
	cache := make([][2]uint64, len(names))
	for i, n := range names {
		if s, ok := g.Groups[n]; ok {
			a, t, h := w.group(s)
			objs[i], isGroup[i], cache[i] = a, true, [2]uint64{t, h}
		} else {
			objs[i] = w.dataset(g.Datasets[n])
		}
	}
	// Local heap: the empty string at 0, the names, then a 16-byte free
	// block (next free block 1 means none, as the HDF5 library writes it).
	offs := make([]int, len(names))
	dsize := 8
	for i, n := range names {
		offs[i] = dsize
		dsize += pad8(len(n) + 1)
	}
	free := dsize
	dsize += 16
	hat := w.alloc(32 + dsize)
	b := w.buf[hat:]
	copy(b, "HEAP")
	put64(b[8:], uint64(dsize))
	put64(b[16:], uint64(free))
	put64(b[24:], uint64(hat+32))
	for i, n := range names {
		copy(b[32+offs[i]:], n)
	}
	put64(b[32+free:], 1)
	put64(b[32+free+8:], 16)
	heapAt = uint64(hat)

	// Symbol table nodes of up to 2·leafK entries, sorted by name.
	type child struct {
		addr    uint64
		lastKey int // heap offset of the last name under the child
	}
	var level []child
	for lo := 0; lo < len(names); lo += 2 * leafK {
		hi := min(lo+2*leafK, len(names))
		at := w.alloc(snodSize)
		b := w.buf[at:]
		copy(b, "SNOD")
		b[4] = 1
		put16(b[6:], hi-lo)
		for i := lo; i < hi; i++ {
			e := b[8+(i-lo)*40:]
			put64(e, uint64(offs[i]))
			put64(e[8:], objs[i])
			if isGroup[i] {
				put32(e[16:], 1)
				put64(e[24:], cache[i][0])
				put64(e[32:], cache[i][1])
			}
		}
		last := 0
		if hi > lo {
			last = offs[hi-1]
		}
		level = append(level, child{uint64(at), last})
	}
	// B-tree levels of up to 2·internalK children, up to one root (an
	// empty group has a root without children, as the HDF5 library
	// writes it).
	for depth := 0; ; depth++ {
		var up []child
		for lo := 0; lo < len(level) || lo == 0 && depth == 0; lo += 2 * internalK {
			hi := min(lo+2*internalK, len(level))
			at := w.alloc(btreeSize)
			b := w.buf[at:]
			copy(b, "TREE")
			b[4] = 0 // group node
			b[5] = byte(depth)
			put16(b[6:], hi-lo)
			put64(b[8:], math.MaxUint64)
			put64(b[16:], math.MaxUint64)
			off := 24
			put64(b[off:], 0) // key 0: the empty name
			off += 8
			for _, c := range level[lo:hi] {
				put64(b[off:], c.addr)
				put64(b[off+8:], uint64(c.lastKey))
				off += 16
			}
			last := 0
			if hi > lo {
				last = level[hi-1].lastKey
			}
			up = append(up, child{uint64(at), last})
		}
		// Siblings at this level.
		for i := range up {
			b := w.buf[up[i].addr:]
			if i > 0 {
				put64(b[8:], up[i-1].addr)
			}
			if i+1 < len(up) {
				put64(b[16:], up[i+1].addr)
			}
		}
		level = up
		if len(level) == 1 {
			break
		}
	}
	tree = level[0].addr
	st := make([]byte, 16)
	put64(st, tree)
	put64(st[8:], heapAt)
	return w.header([]msg{{typ: msgSymbolTable, data: st}}), tree, heapAt
}

// dataset writes a dataset's data and object header; it returns the
// header's address.
func (w *writer) dataset(d *Dataset) uint64 {
	n := d.Len()
	var dt []byte
	var raw []byte
	fill := []byte{2, 2, 2, 1, 0, 0, 0, 0} // version 2, late allocation, fill if set, default fill
	switch d.Type {
	case Float64:
		dt = floatType(8)
		raw = make([]byte, 8*n)
		for i, x := range d.Floats {
			put64(raw[8*i:], math.Float64bits(x))
		}
	case Float32:
		dt = floatType(4)
		raw = make([]byte, 4*n)
		for i, x := range d.Floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
		}
	case Int64:
		dt = intType(8)
		raw = make([]byte, 8*n)
		for i, x := range d.Ints {
			put64(raw[8*i:], uint64(x))
		}
	case Bool:
		// h5py's bool: enum of int8 {FALSE: 0, TRUE: 1}.
		dt = []byte{0x18, 2, 0, 0, 1, 0, 0, 0}
		dt = append(dt, intType(1)...)
		dt = append(dt, "FALSE\x00\x00\x00TRUE\x00\x00\x00\x00"...)
		dt = append(dt, 0, 1)
		raw = make([]byte, n)
		for i, x := range d.Bools {
			if x {
				raw[i] = 1
			}
		}
	case String:
		// Variable-length UTF-8 string of unsigned 8-bit characters.
		dt = []byte{0x19, 0x01, 0x01, 0, 16, 0, 0, 0}
		dt = append(dt, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0)
		fill[2] = 0
		raw = make([]byte, 16*n)
		for i, r := range w.refs[d] {
			put32(raw[16*i:], len(d.Strings[i]))
			put64(raw[16*i+4:], r.col)
			put32(raw[16*i+12:], int(r.idx))
		}
	}
	// Dataspace version 1; arrays carry their maximum sizes (= sizes), as
	// h5py writes them.
	rank := len(d.Shape)
	ds := make([]byte, 8, 8+16*rank)
	ds[0], ds[1] = 1, byte(rank)
	if rank > 0 {
		ds[2] = 1
	}
	for range 2 {
		for _, s := range d.Shape {
			ds = binary.LittleEndian.AppendUint64(ds, uint64(s))
		}
		if rank == 0 {
			break
		}
	}
	// Contiguous layout, version 3.
	lay := make([]byte, 18)
	lay[0], lay[1] = 3, 1
	if len(raw) == 0 {
		put64(lay[2:], math.MaxUint64)
	} else {
		put64(lay[2:], uint64(w.alloc(len(raw))))
		copy(w.buf[binary.LittleEndian.Uint64(lay[2:]):], raw)
	}
	put64(lay[10:], uint64(len(raw)))
	return w.header([]msg{
		{typ: msgDataspace, data: ds},
		{typ: msgDatatype, flags: 1, data: dt},
		{typ: msgFill, flags: 1, data: fill},
		{typ: msgLayout, data: lay},
	})
}

// floatType is the datatype message of a little-endian IEEE float of size
// 4 or 8.
func floatType(size int) []byte {
	b := make([]byte, 20)
	b[0] = 0x11
	b[1] = 0x20 // mantissa normalisation: implied most significant bit
	put32(b[4:], size)
	if size == 8 {
		b[2] = 63
		put16(b[10:], 64)
		b[12], b[13], b[14], b[15] = 52, 11, 0, 52
		put32(b[16:], 1023)
	} else {
		b[2] = 31
		put16(b[10:], 32)
		b[12], b[13], b[14], b[15] = 23, 8, 0, 23
		put32(b[16:], 127)
	}
	return b
}

// intType is the datatype message of a little-endian signed integer.
func intType(size int) []byte {
	b := make([]byte, 12)
	b[0] = 0x10
	b[1] = 0x08 // signed
	put32(b[4:], size)
	put16(b[10:], 8*size)
	return b
}
