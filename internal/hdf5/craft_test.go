package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// crafter builds small HDF5 files by hand: a version 2 superblock and
// version 2 object headers (their checksums are not verified by Decode),
// so that tests can state exactly the structures under test.
type crafter struct{ b []byte }

func newCrafter() *crafter {
	f := &crafter{}
	f.b = append(f.b, Signature...)
	f.b = append(f.b, 2, 8, 8, 0)
	f.u64(0)          // base address
	f.u64(^uint64(0)) // superblock extension
	f.u64(^uint64(0)) // end of file: undefined
	f.u64(0)          // root object header, patched by root
	f.b = append(f.b, 0, 0, 0, 0)
	return f
}

func (f *crafter) u64(v uint64) { f.b = binary.LittleEndian.AppendUint64(f.b, v) }

// put appends p and returns its address.
func (f *crafter) put(p ...[]byte) uint64 {
	at := uint64(len(f.b))
	for _, x := range p {
		f.b = append(f.b, x...)
	}
	return at
}

// cmsg is a header message: type, flags, data.
type cmsg struct {
	typ   byte
	flags byte
	data  []byte
}

// header appends a version 2 object header holding msgs.
func (f *crafter) header(msgs ...cmsg) uint64 {
	var body []byte
	for _, m := range msgs {
		body = append(body, m.typ)
		body = binary.LittleEndian.AppendUint16(body, uint16(len(m.data)))
		body = append(body, m.flags)
		body = append(body, m.data...)
	}
	h := []byte("OHDR\x02\x02")
	h = binary.LittleEndian.AppendUint32(h, uint32(len(body)))
	return f.put(h, body, []byte{0, 0, 0, 0})
}

// root appends a root group linking names to addresses and returns the
// file.
func (f *crafter) root(links map[string]uint64) []byte {
	var msgs []cmsg
	for _, name := range sortedNames(links) {
		d := []byte{1, 0, byte(len(name))}
		d = append(d, name...)
		d = binary.LittleEndian.AppendUint64(d, links[name])
		msgs = append(msgs, cmsg{typ: msgLink, data: d})
	}
	at := f.header(msgs...)
	binary.LittleEndian.PutUint64(f.b[len(Signature)+4+24:], at)
	return f.b
}

func sortedNames(m map[string]uint64) []string {
	g := NewGroup()
	for k := range m {
		g.Datasets[k] = nil
	}
	return g.names()
}

// space is a version 1 dataspace message.
func space(dims ...uint64) []byte {
	b := []byte{1, byte(len(dims)), 0, 0, 0, 0, 0, 0}
	for _, d := range dims {
		b = binary.LittleEndian.AppendUint64(b, d)
	}
	return b
}

// chunkedLayout is a version 3 chunked layout message.
func chunkedLayout(tree uint64, elem uint32, chunk ...uint32) []byte {
	b := []byte{3, 2, byte(len(chunk) + 1)}
	b = binary.LittleEndian.AppendUint64(b, tree)
	for _, c := range chunk {
		b = binary.LittleEndian.AppendUint32(b, c)
	}
	return binary.LittleEndian.AppendUint32(b, elem)
}

// chunkNode is a leaf node of a chunk B-tree (rank 1) listing chunks of
// the given sizes at the given addresses and offsets.
func chunkNode(size uint32, addrs, offs []uint64) []byte {
	b := []byte("TREE\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(addrs)))
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	for i, a := range addrs {
		b = binary.LittleEndian.AppendUint32(b, size)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint64(b, offs[i])
		b = binary.LittleEndian.AppendUint64(b, 0)
		b = binary.LittleEndian.AppendUint64(b, a)
	}
	// The final key.
	b = append(b, make([]byte, 8+16)...)
	return b
}

// deflateFilter is a version 2 filter pipeline of deflate alone.
var deflateFilter = []byte{2, 1, 1, 0, 0, 0, 1, 0, 6, 0, 0, 0}

func decodeErr(t *testing.T, name string, b []byte, want string) {
	t.Helper()
	start := time.Now()
	_, err := Decode(b)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("%s: Decode of %d bytes took %v", name, len(b), el)
	}
	if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s (%d bytes): %v, want an error containing %q", name, len(b), err, want)
	}
}

// TestDecodeBounded: crafted files whose sizes, shapes or references would
// make Decode allocate far more than the file's size are refused, before
// the allocation.
func TestDecodeBounded(t *testing.T) {
	f64 := floatType(8)
	// A fixed-length string of 2^31 bytes times 2^33 elements: the
	// product of 2^64 wraps to 0.
	{
		f := newCrafter()
		st := []byte{0x13, 0, 0, 0}
		st = binary.LittleEndian.AppendUint32(st, 1<<31)
		lay := []byte{3, 1}
		lay = binary.LittleEndian.AppendUint64(lay, 0)
		lay = binary.LittleEndian.AppendUint64(lay, 0)
		d := f.header(cmsg{typ: msgDataspace, data: space(1<<31-1, 1<<31-1, 4)}, cmsg{typ: msgDatatype, data: st}, cmsg{typ: msgLayout, data: lay})
		decodeErr(t, "wrapping shape", f.root(map[string]uint64{"s": d}), "more elements than a file")
		f = newCrafter()
		d = f.header(cmsg{typ: msgDataspace, data: space(1 << 3)}, cmsg{typ: msgDatatype, data: st}, cmsg{typ: msgLayout, data: lay})
		decodeErr(t, "wrapping size", f.root(map[string]uint64{"s": d}), "more data than a file")
	}
	// A chunked dataset with no chunks: every element reads 0, but costs
	// 16 bytes of Go memory; a 200-byte file may not decode to 480 KB.
	{
		f := newCrafter()
		d := f.header(cmsg{typ: msgDataspace, data: space(30_000)}, cmsg{typ: msgDatatype, data: f64},
			cmsg{typ: msgLayout, data: chunkedLayout(^uint64(0), 8, 1000)})
		decodeErr(t, "no chunks", f.root(map[string]uint64{"w": d}), "elements in no chunk")
		// A small one still decodes, as zeros.
		f = newCrafter()
		d = f.header(cmsg{typ: msgDataspace, data: space(5)}, cmsg{typ: msgDatatype, data: f64},
			cmsg{typ: msgLayout, data: chunkedLayout(^uint64(0), 8, 2)})
		g, err := Decode(f.root(map[string]uint64{"w": d}))
		if err != nil || len(g.Datasets["w"].Floats) != 5 {
			t.Errorf("no chunks, 5 elements: %v", err)
		}
	}
	// One deflated chunk listed by two B-tree entries is refused; many
	// chunks that each inflate to 1 MiB (about 1 KB each, at addresses a
	// byte apart) are more than the file's size allows.
	{
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(make([]byte, 1<<15))
		zw.Close()
		f := newCrafter()
		c := f.put(z.Bytes())
		tree := f.put(chunkNode(uint32(z.Len()), []uint64{c, c}, []uint64{0, 1 << 12}))
		d := f.header(cmsg{typ: msgDataspace, data: space(2 << 12)}, cmsg{typ: msgDatatype, data: f64},
			cmsg{typ: msgLayout, data: chunkedLayout(tree, 8, 1<<12)}, cmsg{typ: msgFilters, data: deflateFilter})
		decodeErr(t, "one chunk listed twice", f.root(map[string]uint64{"w": d}), "twice")
		z.Reset()
		zw = zlib.NewWriter(&z)
		zw.Write(make([]byte, 1<<20))
		zw.Close()
		n := 200
		addrs, offs := make([]uint64, n), make([]uint64, n)
		// The same chunk at 200 addresses (1 byte apart, as the stream
		// allows trailing garbage), each listed once.
		f = newCrafter()
		c = f.put(z.Bytes(), make([]byte, n))
		for i := range n {
			addrs[i], offs[i] = c+uint64(i), uint64(i)<<17
		}
		tree = f.put(chunkNode(uint32(z.Len()), addrs, offs))
		d = f.header(cmsg{typ: msgDataspace, data: space(uint64(n) << 17)}, cmsg{typ: msgDatatype, data: f64},
			cmsg{typ: msgLayout, data: chunkedLayout(tree, 8, 1<<17)}, cmsg{typ: msgFilters, data: deflateFilter})
		decodeErr(t, "200 overlapping chunks", f.root(map[string]uint64{"w": d}), "than a file of")
	}
	// A chunk far larger than the shape: only the part inside is copied
	// (the scatter is clamped), and one chunk of a valid file decodes.
	{
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		raw := make([]byte, 8*4096)
		for i := range 3 {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(0x3ff0000000000000)) // 1.0
		}
		zw.Write(raw)
		zw.Close()
		f := newCrafter()
		c := f.put(z.Bytes())
		tree := f.put(chunkNode(uint32(z.Len()), []uint64{c}, []uint64{0}))
		d := f.header(cmsg{typ: msgDataspace, data: space(3)}, cmsg{typ: msgDatatype, data: f64},
			cmsg{typ: msgLayout, data: chunkedLayout(tree, 8, 4096)}, cmsg{typ: msgFilters, data: deflateFilter})
		g, err := Decode(f.root(map[string]uint64{"w": d}))
		if err != nil || len(g.Datasets["w"].Floats) != 3 || g.Datasets["w"].Floats[2] != 1 {
			t.Errorf("a chunk larger than the shape: %v", err)
		}
	}
	// A variable-length string of 60 000 bytes referenced by 6 000
	// elements: decoded once and shared (a 100 KB file, not 360 MB).
	{
		f := newCrafter()
		s := strings.Repeat("x", 60000)
		gcol := []byte("GCOL\x01\x00\x00\x00")
		size := 16 + 16 + len(s) + 16
		gcol = binary.LittleEndian.AppendUint64(gcol, uint64(size))
		gcol = append(gcol, 1, 0, 1, 0, 0, 0, 0, 0)
		gcol = binary.LittleEndian.AppendUint64(gcol, uint64(len(s)))
		gcol = append(gcol, s...)
		gcol = append(gcol, make([]byte, 16)...)
		col := f.put(gcol)
		n := 6000
		var raw []byte
		for range n {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(len(s)))
			raw = binary.LittleEndian.AppendUint64(raw, col)
			raw = binary.LittleEndian.AppendUint32(raw, 1)
		}
		at := f.put(raw)
		lay := []byte{3, 1}
		lay = binary.LittleEndian.AppendUint64(lay, at)
		lay = binary.LittleEndian.AppendUint64(lay, uint64(len(raw)))
		vt := []byte{0x19, 0x01, 0x01, 0, 16, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0}
		d := f.header(cmsg{typ: msgDataspace, data: space(uint64(n))}, cmsg{typ: msgDatatype, data: vt}, cmsg{typ: msgLayout, data: lay})
		start := time.Now()
		g, err := Decode(f.root(map[string]uint64{"s": d}))
		if err != nil || len(g.Datasets["s"].Strings) != n || g.Datasets["s"].Strings[n-1] != s {
			t.Fatalf("shared string: %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("shared string: %v", el)
		}
		if unsafeShared := g.Datasets["s"].Strings; len(unsafeShared[0]) != len(s) {
			t.Errorf("string of %d bytes", len(unsafeShared[0]))
		}
	}
}

// TestDecodeRefused: shared messages and numbers with padding bits are
// errors naming them.
func TestDecodeRefused(t *testing.T) {
	lay := []byte{3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}
	for _, c := range []struct {
		name string
		typ  []byte
		flag byte
		want string
	}{
		{"shared datatype", floatType(8), 2, "a shared (committed) datatype message"},
		{"float precision", func() []byte { b := floatType(8); b[10] = 32; return b }(), 0, "precision 32"},
		{"float offset", func() []byte { b := floatType(8); b[8] = 1; return b }(), 0, "bit offset 1"},
		{"int precision", func() []byte { b := intType(8); b[10] = 7; return b }(), 0, "precision 7"},
		{"datatype version", func() []byte { b := floatType(8); b[0] = 0x51; return b }(), 0, "datatype version 5"},
	} {
		f := newCrafter()
		d := f.header(cmsg{typ: msgDataspace, data: space()}, cmsg{typ: msgDatatype, flags: c.flag, data: c.typ}, cmsg{typ: msgLayout, data: lay})
		decodeErr(t, c.name, f.root(map[string]uint64{"x": d}), c.want)
	}
	// The same file unchanged decodes.
	f := newCrafter()
	d := f.header(cmsg{typ: msgDataspace, data: space()}, cmsg{typ: msgDatatype, data: floatType(8)}, cmsg{typ: msgLayout, data: lay})
	if g, err := Decode(f.root(map[string]uint64{"x": d})); err != nil || g.Datasets["x"].Floats[0] != 1 {
		t.Errorf("compact scalar: %v", err)
	}
}

// TestEncodeAliasCycle: a dataset of strings under two names is written
// (twice, with the same strings); a group that contains itself is refused.
func TestEncodeAliasCycle(t *testing.T) {
	g := NewGroup()
	s := &Dataset{Type: String, Shape: []int{2}, Strings: []string{"a", "bc"}}
	g.Datasets["x"] = s
	g.Group("sub").Datasets["y"] = s
	b, err := Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalTrees(t, back, g, "") {
		t.Error("aliased dataset: the tree read back differs")
	}
	c := NewGroup()
	c.Group("a").Groups["b"] = c
	if _, err := Encode(c); err == nil || !strings.Contains(err.Error(), "/a/b/: a group that contains itself") {
		t.Errorf("cycle: %v", err)
	}
	deep := &Dataset{Type: Float64, Shape: make([]int, 33)}
	if _, err := Encode(&Group{Datasets: map[string]*Dataset{"d": deep}}); err == nil || !strings.Contains(err.Error(), "rank 33") {
		t.Errorf("rank 33: %v", err)
	}
}

// TestFletcher32 reads a file h5py wrote with the fletcher32 filter
// (testdata/h5py-fletcher32.h5: h5py.File.create_dataset("a",
// data=np.arange(37, dtype="f8"), chunks=(10,), fletcher32=True) and "c",
// np.arange(3, dtype="u1") with chunks (3,), fletcher32, shuffle and gzip,
// an odd number of bytes), and refuses it with one data byte changed.
func TestFletcher32(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "h5py-fletcher32.h5"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	a, c := g.Datasets["a"], g.Datasets["c"]
	if a == nil || len(a.Floats) != 37 || a.Floats[36] != 36 || c == nil || !reflect.DeepEqual(c.Ints, []int64{0, 1, 2}) {
		t.Fatalf("decoded %+v, %+v", a, c)
	}
	five := binary.LittleEndian.AppendUint64(nil, math.Float64bits(5))
	i := bytes.Index(b, five)
	if i < 0 {
		t.Fatal("no 5.0 in the file")
	}
	bad := bytes.Clone(b)
	bad[i+7] ^= 1
	decodeErr(t, "changed data", bad, "fletcher32: checksum")
}

// TestDecodeNamesCharged: a group whose member has a 60 000-byte name,
// linked 200 times, would copy 12 MB of names out of a 61 KB file: refused.
func TestDecodeNamesCharged(t *testing.T) {
	f := newCrafter()
	lay := []byte{3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}
	d := f.header(cmsg{typ: msgDataspace, data: space()}, cmsg{typ: msgDatatype, data: floatType(8)}, cmsg{typ: msgLayout, data: lay})
	name := strings.Repeat("n", 60000)
	l := []byte{1, 1}
	l = binary.LittleEndian.AppendUint16(l, uint16(len(name)))
	l = append(l, name...)
	l = binary.LittleEndian.AppendUint64(l, d)
	g := f.header(cmsg{typ: msgLink, data: l})
	links := map[string]uint64{}
	for i := range 200 {
		links[strings.Repeat("g", 1+i%50)+string(rune('A'+i/50))] = g
	}
	decodeErr(t, "a long name linked 200 times", f.root(links), "member names")
	// Linked once, it decodes.
	f = newCrafter()
	d = f.header(cmsg{typ: msgDataspace, data: space()}, cmsg{typ: msgDatatype, data: floatType(8)}, cmsg{typ: msgLayout, data: lay})
	binary.LittleEndian.PutUint64(l[len(l)-8:], d)
	g = f.header(cmsg{typ: msgLink, data: l})
	if root, err := Decode(f.root(map[string]uint64{"g": g})); err != nil || root.Groups["g"].Datasets[name] == nil {
		t.Errorf("a long name linked once: %v", err)
	}
}
