package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unicode/utf8"
)

// Signature starts every HDF5 file.
var Signature = []byte("\x89HDF\r\n\x1a\n")

// ErrFormat wraps every error of Decode: the input is not (or not the
// supported subset of) HDF5.
var ErrFormat = errors.New("hdf5")

// Limits of Decode.
const (
	maxDepth    = 32      // nesting of groups
	maxMessages = 1 << 16 // header messages of one object
	maxRank     = 32
)

const undef = ^uint64(0)

// reader holds the file and the sizes of its offsets and lengths.
type reader struct {
	b        []byte
	base     uint64
	so, sl   int // size of offsets, of lengths
	visiting map[uint64]bool
	budget   int64 // bytes of Go memory still allowed for decoded values
	inflate  int64 // bytes deflate may still produce (it expands at most ~1032×)
	objects  int   // object headers still allowed to be read
	heaps    map[uint64]map[uint32][]byte
	strs     map[gref]string  // global heap objects decoded so far
	utf8     map[utf8Key]bool // their prefixes found to be UTF-8
}

// utf8Key is a prefix of ln bytes of a global heap object.
type utf8Key struct {
	gref
	ln uint32
}

// charge takes n bytes of Go memory from the budget.
func (r *reader) charge(path string, n int64, what string) error {
	if n < 0 || n > r.budget {
		return errf(path, "%s: more memory than a file of %d bytes needs", what, len(r.b))
	}
	r.budget -= n
	return nil
}

func errf(path, format string, a ...any) error {
	if path == "" {
		path = "/"
	}
	return fmt.Errorf("%w: %s: %s", ErrFormat, path, fmt.Sprintf(format, a...))
}

// cursor reads little-endian fields from a byte slice with bounds checks;
// the first failure sticks in err.
type cursor struct {
	b   []byte
	off int
	err error
	r   *reader
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || c.off+n > len(c.b) || c.off+n < c.off {
		c.err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	c.off++
	return c.b[c.off-1]
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	c.off += 2
	return binary.LittleEndian.Uint16(c.b[c.off-2:])
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	c.off += 4
	return binary.LittleEndian.Uint32(c.b[c.off-4:])
}

// uN reads an n-byte unsigned integer (n ≤ 8).
func (c *cursor) uN(n int) uint64 {
	if n < 1 || n > 8 || !c.need(n) {
		if c.err == nil {
			c.err = fmt.Errorf("field size %d", n)
		}
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(c.b[c.off+i])
	}
	c.off += n
	return v
}

// addr reads an address; all ones (the undefined address) is undef.
func (c *cursor) addr() uint64 {
	n := c.r.so
	v := c.uN(n)
	if c.err == nil && n < 8 && v == 1<<(8*n)-1 || v == undef {
		return undef
	}
	return v
}

func (c *cursor) length() uint64 { return c.uN(c.r.sl) }

func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	c.off += n
	return c.b[c.off-n : c.off]
}

func (c *cursor) skip(n int) { c.bytes(n) }

// at returns a cursor at file address a (relative to the base address).
func (r *reader) at(a uint64) (*cursor, error) {
	if a == undef || a > uint64(len(r.b)) || r.base+a > uint64(len(r.b)) || r.base+a < r.base {
		return nil, fmt.Errorf("address %#x outside the file (%d bytes)", a, len(r.b))
	}
	return &cursor{b: r.b, off: int(r.base + a), r: r}, nil
}

// Decode reads an HDF5 file and returns its root group.
func Decode(b []byte) (*Group, error) {
	// The superblock is at 0, 512, 1024, ... (a user block may precede it).
	sb := -1
	for off := 0; off+len(Signature) <= len(b); off = max(512, off*2) {
		if bytes.Equal(b[off:off+len(Signature)], Signature) {
			sb = off
			break
		}
	}
	if sb < 0 {
		if len(b) < len(Signature) && bytes.HasPrefix(Signature, b) {
			return nil, errf("", "truncated: %d bytes, not even the HDF5 signature", len(b))
		}
		return nil, errf("", "no HDF5 signature (not an HDF5 file)")
	}
	// Budgets that no valid file exceeds: an object header takes at least
	// 16 bytes (an object may be linked from several groups: 4× that); an
	// element takes at least one byte of the file and at most 18 bytes of
	// Go memory (a one-byte fixed-length string: the raw byte, the string
	// header and its byte), unless it is inflated: deflate expands data at
	// most about 1032 times, and inflated bytes are counted apart.
	r := &reader{b: b, visiting: map[uint64]bool{}, budget: 40*int64(len(b)) + 1<<16,
		inflate: 1100*int64(len(b)) + 1<<16, objects: len(b)/4 + 16}
	c := &cursor{b: b, off: sb + len(Signature), r: r}
	ver := c.u8()
	var root, eof uint64
	switch ver {
	case 0, 1:
		c.skip(4) // free-space, root symbol table, reserved, shared header versions
		r.so, r.sl = int(c.u8()), int(c.u8())
		c.skip(1)
		c.skip(4) // group leaf and internal K
		c.skip(4) // consistency flags
		if ver == 1 {
			c.skip(4) // indexed storage K, reserved
		}
		if c.err != nil {
			return nil, errf("", "superblock: %v (truncated file)", c.err)
		}
		if !validSize(r.so) || !validSize(r.sl) {
			return nil, errf("", "superblock: offset size %d, length size %d", r.so, r.sl)
		}
		r.base = c.addr()
		c.addr() // free space
		eof = c.addr()
		c.addr() // driver info
		// The root group's symbol table entry: link name offset, object
		// header address.
		c.uN(r.so)
		root = c.addr()
	case 2, 3:
		r.so, r.sl = int(c.u8()), int(c.u8())
		c.skip(1) // consistency flags
		if c.err != nil {
			return nil, errf("", "superblock: %v (truncated file)", c.err)
		}
		if !validSize(r.so) || !validSize(r.sl) {
			return nil, errf("", "superblock: offset size %d, length size %d", r.so, r.sl)
		}
		r.base = c.addr()
		c.addr() // superblock extension
		eof = c.addr()
		root = c.addr()
	default:
		return nil, errf("", "superblock version %d is not supported", ver)
	}
	if c.err != nil {
		return nil, errf("", "superblock: %v (truncated file)", c.err)
	}
	if r.base != uint64(sb) && r.base != 0 {
		return nil, errf("", "superblock: base address %#x", r.base)
	}
	r.base = uint64(sb)
	if eof != undef && eof > uint64(len(b)-sb) {
		return nil, errf("", "truncated: %d bytes, the superblock says the file ends at %d", len(b)-sb, eof)
	}
	g, d, err := r.object(root, "", 0)
	if err != nil {
		return nil, err
	}
	if g == nil || d != nil {
		return nil, errf("", "the root object is not a group")
	}
	return g, nil
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// message is one header message.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// msgNames names the header messages Decode interprets.
var msgNames = map[uint16]string{
	msgDataspace: "dataspace", msgLinkInfo: "link info", msgDatatype: "datatype",
	msgLink: "link", msgLayout: "data layout", msgGroupInfo: "group info",
	msgFilters: "filter pipeline", msgContinuation: "continuation", msgSymbolTable: "symbol table",
}

// Header message types.
const (
	msgNil          = 0x0
	msgDataspace    = 0x1
	msgLinkInfo     = 0x2
	msgDatatype     = 0x3
	msgFillOld      = 0x4
	msgFill         = 0x5
	msgLink         = 0x6
	msgLayout       = 0x8
	msgGroupInfo    = 0xa
	msgFilters      = 0xb
	msgAttribute    = 0xc
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
)

// header reads the messages of the object header at a.
func (r *reader) header(a uint64) ([]message, error) {
	c, err := r.at(a)
	if err != nil {
		return nil, err
	}
	var msgs []message
	type block struct{ at, n uint64 }
	var pending []block
	seen := map[uint64]bool{}
	next := func() (block, error) {
		b := pending[0]
		pending = pending[1:]
		if seen[b.at] {
			return b, fmt.Errorf("continuation block at %#x read twice", b.at)
		}
		seen[b.at] = true
		return b, nil
	}
	if c.need(4) && string(c.b[c.off:c.off+4]) == "OHDR" {
		c.skip(4)
		if v := c.u8(); v != 2 {
			return nil, fmt.Errorf("object header version %d", v)
		}
		flags := c.u8()
		if flags&0x20 != 0 {
			c.skip(16) // times
		}
		if flags&0x10 != 0 {
			c.skip(4) // attribute phase change
		}
		n := c.uN(1 << (flags & 3))
		if c.err != nil {
			return nil, c.err
		}
		order := flags&0x04 != 0
		if err := r.v2Messages(c, n, order, &msgs, func(at, n uint64) { pending = append(pending, block{at, n}) }); err != nil {
			return nil, err
		}
		for len(pending) > 0 {
			b, err := next()
			if err != nil {
				return nil, err
			}
			cc, err := r.at(b.at)
			if err != nil {
				return nil, err
			}
			if !cc.need(4) || string(cc.bytes(4)) != "OCHK" || b.n < 8 {
				return nil, fmt.Errorf("continuation block at %#x: no OCHK signature", b.at)
			}
			if err := r.v2Messages(cc, b.n-8, order, &msgs, func(at, n uint64) { pending = append(pending, block{at, n}) }); err != nil {
				return nil, err
			}
			if len(msgs) > maxMessages {
				return nil, fmt.Errorf("more than %d header messages", maxMessages)
			}
		}
		return msgs, nil
	}
	if v := c.u8(); v != 1 {
		if c.err != nil {
			return nil, c.err
		}
		return nil, fmt.Errorf("object header version %d at %#x", v, a)
	}
	c.skip(1)
	nmsg := int(c.u16())
	c.skip(4) // reference count
	size := uint64(c.u32())
	c.skip(4) // alignment
	if c.err != nil {
		return nil, c.err
	}
	pending = append(pending, block{uint64(c.off) - r.base, size})
	for len(pending) > 0 && len(msgs) < nmsg {
		b, err := next()
		if err != nil {
			return nil, err
		}
		cc, err := r.at(b.at)
		if err != nil {
			return nil, err
		}
		if b.n > uint64(len(r.b)) || !cc.need(int(b.n)) {
			return nil, fmt.Errorf("header block at %#x of %d bytes past the end of the file", b.at, b.n)
		}
		end := cc.off + int(b.n)
		for cc.off+8 <= end && len(msgs) < nmsg {
			typ := cc.u16()
			n := int(cc.u16())
			flags := cc.u8()
			cc.skip(3) // reserved
			if cc.off+n > end {
				return nil, fmt.Errorf("header message %#x of %d bytes overruns its block", typ, n)
			}
			data := cc.bytes(n)
			if cc.err != nil {
				return nil, cc.err
			}
			if typ == msgContinuation {
				m := &cursor{b: data, r: r}
				at, n := m.addr(), m.length()
				if m.err != nil {
					return nil, fmt.Errorf("continuation message: %v", m.err)
				}
				pending = append(pending, block{at, n})
			}
			msgs = append(msgs, message{typ, flags, data})
			if len(msgs) > maxMessages {
				return nil, fmt.Errorf("more than %d header messages", maxMessages)
			}
		}
	}
	return msgs, nil
}

// v2Messages reads version 2 header messages filling n bytes (then a
// 4-byte checksum, not verified).
func (r *reader) v2Messages(c *cursor, n uint64, order bool, msgs *[]message, cont func(at, n uint64)) error {
	if n > uint64(len(r.b)) || !c.need(int(n)) {
		return fmt.Errorf("header chunk of %d bytes past the end of the file", n)
	}
	end := c.off + int(n)
	hdr := 4
	if order {
		hdr = 6
	}
	for c.off+hdr <= end {
		typ := uint16(c.u8())
		size := int(c.u16())
		flags := c.u8()
		if order {
			c.skip(2)
		}
		if c.off+size > end {
			return fmt.Errorf("header message %#x of %d bytes overruns its chunk", typ, size)
		}
		data := c.bytes(size)
		if typ == msgContinuation {
			m := &cursor{b: data, r: r}
			at, n := m.addr(), m.length()
			if m.err != nil {
				return fmt.Errorf("continuation message: %v", m.err)
			}
			cont(at, n)
		}
		*msgs = append(*msgs, message{typ, flags, data})
		if len(*msgs) > maxMessages {
			return fmt.Errorf("more than %d header messages", maxMessages)
		}
	}
	return c.err
}

// object reads the object at address a: a group or a dataset.
func (r *reader) object(a uint64, path string, depth int) (*Group, *Dataset, error) {
	if depth > maxDepth {
		return nil, nil, errf(path, "groups nested deeper than %d", maxDepth)
	}
	if r.visiting[a] {
		return nil, nil, errf(path, "a group contains itself (cycle at %#x)", a)
	}
	if r.objects--; r.objects < 0 {
		return nil, nil, errf(path, "more objects than a file of %d bytes holds (shared objects linked too often)", len(r.b))
	}
	r.visiting[a] = true
	defer delete(r.visiting, a)
	msgs, err := r.header(a)
	if err != nil {
		return nil, nil, errf(path, "object header: %v", err)
	}
	if err := r.charge(path, 32*int64(len(msgs)), "header messages"); err != nil {
		return nil, nil, err
	}
	var dataspace, datatype, layout, filters []byte
	group := false
	var links []message
	var symtab []byte
	for _, m := range msgs {
		if name, ok := msgNames[m.typ]; ok && m.flags&0x02 != 0 {
			return nil, nil, errf(path, "a shared (committed) %s message is not supported", name)
		}
		switch m.typ {
		case msgDataspace:
			dataspace = m.data
		case msgDatatype:
			datatype = m.data
		case msgLayout:
			layout = m.data
		case msgFilters:
			filters = m.data
		case msgSymbolTable:
			symtab, group = m.data, true
		case msgLink:
			links, group = append(links, m), true
		case msgLinkInfo:
			group = true
			c := &cursor{b: m.data, r: r}
			c.skip(1)
			if c.u8()&1 != 0 {
				c.skip(8)
			}
			if heap := c.addr(); c.err == nil && heap != undef {
				return nil, nil, errf(path, "dense link storage (a fractal heap) is not supported")
			}
		case msgGroupInfo:
			group = true
		}
	}
	if group {
		g := NewGroup()
		add := func(name string, at uint64) error {
			if name == "" || name == "." {
				return errf(path, "a member with the empty name")
			}
			// Its name and path (a name read again for each group that
			// links it, a path per member).
			if err := r.charge(path, int64(len(path)+2*len(name)+64), "member names"); err != nil {
				return err
			}
			if _, dup := g.Groups[name]; dup {
				return errf(path, "member %q twice", name)
			}
			if _, dup := g.Datasets[name]; dup {
				return errf(path, "member %q twice", name)
			}
			sg, sd, err := r.object(at, path+"/"+name, depth+1)
			if err != nil {
				return err
			}
			if sg != nil {
				g.Groups[name] = sg
			} else {
				g.Datasets[name] = sd
			}
			return nil
		}
		if symtab != nil {
			c := &cursor{b: symtab, r: r}
			tree, heap := c.addr(), c.addr()
			if c.err != nil {
				return nil, nil, errf(path, "symbol table message: %v", c.err)
			}
			if err := r.symbolTable(tree, heap, path, add); err != nil {
				return nil, nil, err
			}
		}
		for _, l := range links {
			name, at, err := r.link(l.data)
			if err != nil {
				return nil, nil, errf(path, "link message: %v", err)
			}
			if err := add(name, at); err != nil {
				return nil, nil, err
			}
		}
		return g, nil, nil
	}
	if dataspace == nil || datatype == nil || layout == nil {
		return nil, nil, errf(path, "neither a group nor a dataset (no dataspace, datatype or layout message)")
	}
	d, err := r.dataset(path, dataspace, datatype, layout, filters)
	if err != nil {
		return nil, nil, err
	}
	return nil, d, nil
}

// link decodes a hard link message.
func (r *reader) link(b []byte) (string, uint64, error) {
	c := &cursor{b: b, r: r}
	if v := c.u8(); v != 1 {
		return "", 0, fmt.Errorf("link message version %d", v)
	}
	flags := c.u8()
	if flags&0x8 != 0 {
		if t := c.u8(); t != 0 {
			return "", 0, fmt.Errorf("link type %d (only hard links are supported)", t)
		}
	}
	if flags&0x4 != 0 {
		c.skip(8)
	}
	if flags&0x10 != 0 {
		c.skip(1)
	}
	n := int(c.uN(1 << (flags & 3)))
	name := c.bytes(n)
	at := c.addr()
	if c.err != nil {
		return "", 0, c.err
	}
	return string(name), at, nil
}

// symbolTable walks a group's version 1 B-tree and its symbol table nodes.
func (r *reader) symbolTable(tree, heapAt uint64, path string, add func(string, uint64) error) error {
	c, err := r.at(heapAt)
	if err != nil {
		return errf(path, "local heap: %v", err)
	}
	if string(c.bytes(4)) != "HEAP" {
		return errf(path, "local heap at %#x: no HEAP signature", heapAt)
	}
	c.skip(4)
	size := c.length()
	c.length() // free list
	data := c.addr()
	if c.err != nil {
		return errf(path, "local heap: %v", c.err)
	}
	hc, err := r.at(data)
	if err != nil || size > uint64(len(r.b)) || !hc.need(int(size)) {
		return errf(path, "local heap data of %d bytes at %#x outside the file", size, data)
	}
	heap := hc.b[hc.off : hc.off+int(size)]
	name := func(off uint64) (string, error) {
		if off >= uint64(len(heap)) {
			return "", fmt.Errorf("name offset %d outside the local heap (%d bytes)", off, len(heap))
		}
		s := heap[off:]
		i := bytes.IndexByte(s, 0)
		if i < 0 {
			return "", fmt.Errorf("name at %d is not terminated", off)
		}
		return string(s[:i]), nil
	}
	snods := map[uint64]bool{}
	snod := func(a uint64) error {
		if snods[a] {
			return errf(path, "symbol table node at %#x listed twice", a)
		}
		snods[a] = true
		c, err := r.at(a)
		if err != nil {
			return errf(path, "symbol table node: %v", err)
		}
		if string(c.bytes(4)) != "SNOD" {
			return errf(path, "symbol table node at %#x: no SNOD signature", a)
		}
		c.skip(2)
		n := int(c.u16())
		for range n {
			off, at := c.uN(r.so), c.addr() // link name offset, object header
			c.skip(24)                      // cache type, reserved, scratch
			if c.err != nil {
				return errf(path, "symbol table node at %#x: %v", a, c.err)
			}
			nm, err := name(off)
			if err != nil {
				return errf(path, "symbol table node: %v", err)
			}
			if err := add(nm, at); err != nil {
				return err
			}
		}
		return nil
	}
	return r.btree(path, tree, 0, func(c *cursor, node uint64, level uint8, n int) ([]uint64, error) {
		c.length() // key 0: a heap offset
		children := make([]uint64, 0, min(n, 1024))
		for range n {
			children = append(children, c.addr())
			c.length()
			if c.err != nil {
				return nil, errf(path, "B-tree node at %#x: %v", node, c.err)
			}
		}
		if level > 0 {
			return children, nil
		}
		for _, ch := range children {
			if err := snod(ch); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// btree walks the version 1 B-tree of type typ (0 groups, 1 chunks) whose
// root node is at root. For each node it calls entries with a cursor at
// the node's first key, its level and entry count; entries reads them and
// returns the child nodes to walk. A node is read once, at most 64 deep.
func (r *reader) btree(path string, root uint64, typ uint8, entries func(c *cursor, node uint64, level uint8, n int) ([]uint64, error)) error {
	seen := map[uint64]bool{}
	var walk func(a uint64, depth int) error
	walk = func(a uint64, depth int) error {
		if depth > 64 {
			return errf(path, "B-tree deeper than 64 levels")
		}
		if seen[a] {
			return errf(path, "B-tree node at %#x visited twice", a)
		}
		seen[a] = true
		c, err := r.at(a)
		if err != nil {
			return errf(path, "B-tree: %v", err)
		}
		if string(c.bytes(4)) != "TREE" {
			return errf(path, "B-tree node at %#x: no TREE signature", a)
		}
		if t := c.u8(); t != typ {
			return errf(path, "B-tree node at %#x has type %d, want %d", a, t, typ)
		}
		level := c.u8()
		n := int(c.u16())
		c.addr() // siblings
		c.addr()
		if c.err != nil {
			return errf(path, "B-tree node at %#x: %v", a, c.err)
		}
		children, err := entries(c, a, level, n)
		if err != nil {
			return err
		}
		for _, ch := range children {
			if err := walk(ch, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root, 0)
}

// dtype is a decoded datatype.
type dtype struct {
	class  int // 0 fixed, 1 float, 3 string, 8 enum (bool), 9 vlen string
	size   int
	signed bool
	big    bool
	pad    int // strings: 0 null-terminated, 1 null-padded, 2 space-padded
}

func (r *reader) datatype(b []byte) (dtype, error) {
	c := &cursor{b: b, r: r}
	cv := c.u8()
	f0, f1 := c.u8(), c.u8()
	c.u8()
	size := int(c.u32())
	if c.err != nil {
		return dtype{}, fmt.Errorf("datatype: %v", c.err)
	}
	class := int(cv & 0x0f)
	if v := cv >> 4; v < 1 || v > 3 {
		return dtype{}, fmt.Errorf("datatype version %d", v)
	}
	t := dtype{class: class, size: size}
	// bits checks a number's bit offset (0) and precision (all its bits).
	bits := func(what string) error {
		off, prec := c.u16(), c.u16()
		if c.err != nil {
			return fmt.Errorf("%s datatype: %v", what, c.err)
		}
		if off != 0 || int(prec) != 8*size {
			return fmt.Errorf("%s of %d bytes with bit offset %d and precision %d (only offset 0 and all %d bits)", what, size, off, prec, 8*size)
		}
		return nil
	}
	switch class {
	case 0:
		t.big, t.signed = f0&1 != 0, f0&8 != 0
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return t, fmt.Errorf("integer of %d bytes", size)
		}
		if err := bits("an integer"); err != nil {
			return t, err
		}
	case 1:
		t.big = f0&1 != 0
		if f0&0x40 != 0 {
			return t, fmt.Errorf("a VAX-order float")
		}
		if size != 4 && size != 8 {
			return t, fmt.Errorf("float of %d bytes", size)
		}
		if err := bits("a float"); err != nil {
			return t, err
		}
		el, es, ml, ms := c.u8(), c.u8(), c.u8(), c.u8()
		if c.err == nil && !(size == 8 && f1 == 63 && el == 52 && es == 11 && ml == 0 && ms == 52 ||
			size == 4 && f1 == 31 && el == 23 && es == 8 && ml == 0 && ms == 23) {
			return t, fmt.Errorf("a non-IEEE float of %d bytes", size)
		}
	case 3:
		if size < 1 {
			return t, fmt.Errorf("fixed-length string of %d bytes", size)
		}
		t.pad = int(f0 & 0x0f)
	case 8:
		base, err := r.datatype(b[8:])
		if err != nil || base.class != 0 || base.size != 1 {
			return t, fmt.Errorf("an enum that is not h5py's bool")
		}
		if n := int(f0) | int(f1)<<8; n != 2 || size != 1 {
			return t, fmt.Errorf("an enum of %d members (only h5py's bool)", n)
		}
	case 9:
		if f0&0x0f != 1 {
			return t, fmt.Errorf("variable-length sequence (only strings)")
		}
	default:
		return t, fmt.Errorf("datatype class %d is not supported", class)
	}
	return t, nil
}

// dataset decodes a dataset's shape, type and values.
func (r *reader) dataset(path string, space, typ, layout, filters []byte) (*Dataset, error) {
	c := &cursor{b: space, r: r}
	v := c.u8()
	rank := int(c.u8())
	c.u8() // flags: maximum sizes follow the sizes (not needed)
	switch v {
	case 1:
		c.skip(5)
	case 2:
		if c.u8() == 2 { // null dataspace
			rank = -1
		}
	default:
		return nil, errf(path, "dataspace version %d", v)
	}
	if rank > maxRank {
		return nil, errf(path, "dataspace of rank %d", rank)
	}
	d := &Dataset{}
	// Every element takes at least a byte of the file or of inflated data:
	// limit bounds the element count before any product can overflow.
	limit := uint64(r.budget + r.inflate)
	n := uint64(1)
	for range max(rank, 0) {
		s := c.length()
		if s > math.MaxInt32 {
			return nil, errf(path, "dimension of %d", s)
		}
		d.Shape = append(d.Shape, int(s))
		if s != 0 && n > limit/s {
			return nil, errf(path, "more elements than a file of %d bytes holds (dimension %d of %d)", len(r.b), len(d.Shape)-1, s)
		}
		n *= s
	}
	if c.err != nil {
		return nil, errf(path, "dataspace: %v", c.err)
	}
	if rank < 0 {
		n = 0
		d.Shape = []int{0}
	}
	t, err := r.datatype(typ)
	if err != nil {
		return nil, errf(path, "%v", err)
	}
	elem := t.size
	// per is the Go memory of one decoded element: its slice element (and
	// a fixed-length string's bytes; a variable-length string's bytes are
	// charged once per global heap object).
	per := int64(8)
	switch t.class {
	case 8:
		per = 1
	case 3:
		per = 16 + int64(elem)
	case 9:
		elem, per = 4+r.so+4, 16
	}
	if n > limit/uint64(elem) {
		return nil, errf(path, "%d elements of %d bytes: more data than a file of %d bytes holds", n, elem, len(r.b))
	}
	raw, err := r.raw(path, layout, filters, int(n), d.Shape, elem, per)
	if err != nil {
		return nil, err
	}
	switch t.class {
	case 0, 8:
		if t.class == 8 {
			d.Type = Bool
			d.Bools = make([]bool, n)
		} else {
			d.Type = Int64
			d.Ints = make([]int64, n)
		}
		for i := range int(n) {
			x := raw[i*elem : (i+1)*elem]
			var u uint64
			for k := range elem {
				bk := x[k]
				if t.big {
					bk = x[elem-1-k]
				}
				u |= uint64(bk) << (8 * k)
			}
			if t.class == 8 {
				if u > 1 {
					return nil, errf(path, "bool value %d at %d", u, i)
				}
				d.Bools[i] = u == 1
				continue
			}
			if t.signed && elem < 8 && u>>(8*elem-1) == 1 {
				u |= ^uint64(0) << (8 * elem)
			} else if !t.signed && u > math.MaxInt64 {
				return nil, errf(path, "unsigned value %d at %d exceeds int64", u, i)
			}
			d.Ints[i] = int64(u)
		}
	case 1:
		d.Type = Float64
		if elem == 4 {
			d.Type = Float32
		}
		d.Floats = make([]float64, n)
		for i := range int(n) {
			x := raw[i*elem : (i+1)*elem]
			if elem == 8 {
				u := binary.LittleEndian.Uint64(x)
				if t.big {
					u = binary.BigEndian.Uint64(x)
				}
				d.Floats[i] = math.Float64frombits(u)
			} else {
				u := binary.LittleEndian.Uint32(x)
				if t.big {
					u = binary.BigEndian.Uint32(x)
				}
				d.Floats[i] = float64(math.Float32frombits(u))
			}
		}
	case 3:
		d.Type = String
		d.Strings = make([]string, n)
		for i := range int(n) {
			x := raw[i*elem : (i+1)*elem]
			if t.pad == 2 {
				x = bytes.TrimRight(x, " ")
			} else if j := bytes.IndexByte(x, 0); j >= 0 {
				x = x[:j]
			}
			d.Strings[i] = string(x)
		}
	case 9:
		d.Type = String
		d.Strings = make([]string, n)
		for i := range int(n) {
			cc := &cursor{b: raw[i*elem : (i+1)*elem], r: r}
			ln, col, idx := cc.u32(), cc.addr(), cc.u32()
			s, err := r.global(col, idx, ln)
			if err != nil {
				return nil, errf(path, "string %d: %v", i, err)
			}
			d.Strings[i] = s
		}
	}
	if t.class == 3 { // variable-length ones are checked in global
		for i, s := range d.Strings {
			if !utf8.ValidString(s) {
				return nil, errf(path, "string %d is not UTF-8", i)
			}
		}
	}
	return d, nil
}

// global reads object idx of the global heap collection at col (each
// collection is parsed once).
func (r *reader) global(col uint64, idx, ln uint32) (string, error) {
	if ln == 0 && (col == 0 || col == undef) {
		return "", nil
	}
	key := gref{col, idx}
	if s, ok := r.strs[key]; ok {
		return r.prefix(s, key, ln)
	}
	objs, ok := r.heaps[col]
	if !ok {
		var err error
		if objs, err = r.collection(col); err != nil {
			return "", err
		}
		if r.heaps == nil {
			r.heaps = map[uint64]map[uint32][]byte{}
		}
		r.heaps[col] = objs
	}
	data, ok := objs[idx]
	if !ok {
		return "", fmt.Errorf("global heap at %#x has no object %d", col, idx)
	}
	if uint64(ln) > uint64(len(data)) {
		return "", fmt.Errorf("global heap object %d has %d bytes, want %d", idx, len(data), ln)
	}
	// Each object is copied once (its bytes charged once) and shared by
	// every reference to it.
	if r.budget < int64(len(data))+64 {
		return "", fmt.Errorf("global heap object %d: more memory than a file of %d bytes needs", idx, len(r.b))
	}
	r.budget -= int64(len(data)) + 64
	s := string(data)
	if r.strs == nil {
		r.strs = map[gref]string{}
	}
	r.strs[key] = s
	return r.prefix(s, key, ln)
}

// prefix returns the first ln bytes of global heap object idx, s, checking
// that they are UTF-8 once per object and length.
func (r *reader) prefix(s string, key gref, ln uint32) (string, error) {
	if uint64(ln) > uint64(len(s)) {
		return "", fmt.Errorf("global heap object %d has %d bytes, want %d", key.idx, len(s), ln)
	}
	s = s[:ln]
	k := utf8Key{key, ln}
	if !r.utf8[k] {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("global heap object %d is not UTF-8", key.idx)
		}
		if r.utf8 == nil {
			r.utf8 = map[utf8Key]bool{}
		}
		r.utf8[k] = true
	}
	return s, nil
}

// collection parses the global heap collection at col.
func (r *reader) collection(col uint64) (map[uint32][]byte, error) {
	c, err := r.at(col)
	if err != nil {
		return nil, fmt.Errorf("global heap: %v", err)
	}
	if string(c.bytes(4)) != "GCOL" {
		return nil, fmt.Errorf("global heap at %#x: no GCOL signature", col)
	}
	c.skip(4)
	size := c.length()
	start := c.off - 16
	if c.err != nil || size < 16 || size > uint64(len(r.b)-start) {
		return nil, fmt.Errorf("global heap at %#x: collection of %d bytes outside the file", col, size)
	}
	end := start + int(size)
	objs := map[uint32][]byte{}
	for c.off+8+r.sl <= end {
		id := c.u16()
		c.skip(6)
		n := c.length()
		if id == 0 {
			break
		}
		if c.err != nil || n > uint64(end-c.off) {
			return nil, fmt.Errorf("global heap at %#x: object %d of %d bytes overruns the collection", col, id, n)
		}
		if r.budget < 64 {
			return nil, fmt.Errorf("global heap at %#x: more objects than a file of %d bytes holds", col, len(r.b))
		}
		r.budget -= 64
		objs[uint32(id)] = c.bytes(int(n))
		c.skip((8 - int(n)%8) % 8)
	}
	return objs, nil
}

// raw returns the n×elem bytes of a dataset's n elements in row-major
// order, charging them and their decoded Go memory (per bytes each).
func (r *reader) raw(path string, layout, filters []byte, n int, shape []int, elem int, per int64) ([]byte, error) {
	c := &cursor{b: layout, r: r}
	v := c.u8()
	if v != 3 && v != 4 {
		return nil, errf(path, "data layout version %d is not supported", v)
	}
	bytes := n * elem // n×elem ≤ the budgets: no overflow
	class := c.u8()
	switch class {
	case 0: // compact
		size := int(c.u16())
		data := c.bytes(size)
		if c.err != nil || size < bytes {
			return nil, errf(path, "compact data of %d bytes, want %d", size, bytes)
		}
		if err := r.charge(path, int64(n)*per, "decoded values"); err != nil {
			return nil, err
		}
		return data[:bytes], nil
	case 1: // contiguous
		at, size := c.addr(), c.length()
		if c.err != nil {
			return nil, errf(path, "layout: %v", c.err)
		}
		if n == 0 {
			return nil, nil
		}
		if size < uint64(bytes) {
			return nil, errf(path, "contiguous data of %d bytes, want %d", size, bytes)
		}
		dc, err := r.at(at)
		if err != nil || !dc.need(bytes) {
			return nil, errf(path, "data of %d bytes at %#x past the end of the file (truncated)", bytes, at)
		}
		if err := r.charge(path, int64(n)*per, "decoded values"); err != nil {
			return nil, err
		}
		return dc.bytes(bytes), nil
	case 2:
		if v != 3 {
			return nil, errf(path, "chunked layout version %d (only version 3, a B-tree index)", v)
		}
		return r.chunked(path, c, filters, n, shape, elem, per)
	}
	return nil, errf(path, "layout class %d", class)
}

// chunkRef is a chunk listed by a chunk B-tree.
type chunkRef struct {
	off        []int  // the chunk's first element in each dimension
	at         uint64 // its address
	size, mask uint32 // its stored size and skipped filters
}

// chunked gathers a version 3 chunked dataset through its B-tree.
//
// Memory: the elements of chunks stored without deflate, and those no
// chunk covers (they read as 0), are charged to the budget; the elements
// of deflated chunks to the inflate budget, by the full size the chunk
// must inflate to, before anything is inflated.
func (r *reader) chunked(path string, c *cursor, filters []byte, n int, shape []int, elem int, per int64) ([]byte, error) {
	dims := int(c.u8())
	tree := c.addr()
	if dims != len(shape)+1 {
		return nil, errf(path, "chunk of rank %d for a dataset of rank %d", dims-1, len(shape))
	}
	rank := len(shape)
	chunk := make([]int, rank)
	csize := elem
	for i := range chunk {
		chunk[i] = int(c.u32())
		if chunk[i] <= 0 || chunk[i] > 1<<30 {
			return nil, errf(path, "chunk dimension %d", chunk[i])
		}
		csize *= chunk[i]
		if csize > 1<<30 {
			return nil, errf(path, "chunks of more than 1 GiB")
		}
	}
	if e := int(c.u32()); c.err != nil || e != elem {
		return nil, errf(path, "chunk element size %d, want %d", e, elem)
	}
	pipe, deflate, err := r.pipeline(filters)
	if err != nil {
		return nil, errf(path, "%v", err)
	}
	if n == 0 {
		return nil, nil
	}
	refs, err := r.chunkTree(path, tree, shape, chunk)
	if err != nil {
		return nil, err
	}
	// Charge before allocating.
	cost := int64(elem) + per
	uncovered := int64(n)
	for _, ch := range refs {
		in := int64(1) // the chunk's elements inside the shape
		for i := range rank {
			in *= int64(min(chunk[i], shape[i]-ch.off[i]))
		}
		uncovered -= in
		if deflate >= 0 && ch.mask&(1<<deflate) == 0 {
			// A deflate stream expands its input at most 1032 times.
			if int64(csize) > 1032*int64(ch.size)+1024 {
				return nil, errf(path, "chunk at %v: %d deflated bytes cannot inflate to %d", ch.off, ch.size, csize)
			}
			if r.inflate -= int64(csize); r.inflate < 0 {
				return nil, errf(path, "chunks inflate to more than a file of %d bytes holds", len(r.b))
			}
			continue
		}
		// A chunk stored as is: its bytes (and a shuffled copy).
		if err := r.charge(path, in*cost+int64(ch.size), "chunks"); err != nil {
			return nil, err
		}
	}
	if err := r.charge(path, uncovered*cost, fmt.Sprintf("%d elements in no chunk", uncovered)); err != nil {
		return nil, err
	}
	out := make([]byte, n*elem)
	for _, ch := range refs {
		cc, err := r.at(ch.at)
		if err != nil || !cc.need(int(ch.size)) {
			return nil, errf(path, "chunk of %d bytes at %#x past the end of the file (truncated)", ch.size, ch.at)
		}
		data, err := pipe(cc.bytes(int(ch.size)), ch.mask, csize, elem)
		if err != nil {
			return nil, errf(path, "chunk at %v: %v", ch.off, err)
		}
		if len(data) != csize {
			return nil, errf(path, "chunk at %v has %d bytes, want %d", ch.off, len(data), csize)
		}
		scatter(out, data, shape, chunk, ch.off, elem)
	}
	return out, nil
}

// chunkTree lists the chunks of a chunk B-tree (none when tree is
// undefined). Each chunk position and address appears once: a tree that
// lists one twice is refused.
func (r *reader) chunkTree(path string, tree uint64, shape, chunk []int) ([]chunkRef, error) {
	rank := len(shape)
	var refs []chunkRef
	if tree == undef {
		return nil, nil
	}
	at := map[uint64]bool{}
	pos := map[string]bool{}
	err := r.btree(path, tree, 1, func(c *cursor, node uint64, level uint8, entries int) ([]uint64, error) {
		var children []uint64
		for range entries {
			size := c.u32()
			mask := c.u32()
			off := make([]int, rank)
			for i := range rank {
				x := c.uN(8)
				if x >= uint64(shape[i]) || x%uint64(chunk[i]) != 0 {
					if c.err == nil {
						c.err = fmt.Errorf("chunk offset %d in dimension %d of %d", x, i, shape[i])
					}
				}
				off[i] = int(x)
			}
			c.uN(8)
			child := c.addr()
			if c.err != nil {
				return nil, errf(path, "chunk B-tree node at %#x: %v", node, c.err)
			}
			if level > 0 {
				children = append(children, child)
				continue
			}
			key := fmt.Sprint(off)
			if pos[key] || at[child] {
				return nil, errf(path, "chunk B-tree node at %#x lists the chunk at %v (address %#x) twice", node, off, child)
			}
			if err := r.charge(path, int64(64+8*rank+len(key)), "chunk index"); err != nil {
				return nil, err
			}
			pos[key], at[child] = true, true
			refs = append(refs, chunkRef{off, child, size, mask})
		}
		return children, nil
	})
	return refs, err
}

// scatter copies the part of a chunk at offset off that lies inside the
// shape into the row-major array out.
func scatter(out, data []byte, shape, chunk, off []int, elem int) {
	rank := len(shape)
	if rank == 0 {
		copy(out, data[:elem])
		return
	}
	lim := make([]int, rank) // the chunk's extent inside the shape
	for i := range rank {
		lim[i] = min(chunk[i], shape[i]-off[i])
	}
	idx := make([]int, rank) // index within the chunk
	for {
		// One row of the last dimension.
		pos, src := 0, 0
		for i := range rank {
			pos = pos*shape[i] + off[i] + idx[i]
			src = src*chunk[i] + idx[i]
		}
		cnt := lim[rank-1]
		copy(out[pos*elem:(pos+cnt)*elem], data[src*elem:(src+cnt)*elem])
		// Next row.
		i := rank - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < lim[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// pipeline decodes the filter pipeline message into a function that undoes
// the filters (in reverse order) on one chunk, and the index of deflate in
// the pipeline (-1 when absent).
func (r *reader) pipeline(b []byte) (func(data []byte, mask uint32, size, elem int) ([]byte, error), int, error) {
	var ids []uint16
	deflate := -1
	if b != nil {
		c := &cursor{b: b, r: r}
		v := c.u8()
		nf := int(c.u8())
		if v == 1 {
			c.skip(6)
		} else if v != 2 {
			return nil, -1, fmt.Errorf("filter pipeline version %d", v)
		}
		for range nf {
			id := c.u16()
			nameLen := 0
			if v == 1 || id >= 256 {
				nameLen = int(c.u16())
			}
			c.skip(2) // flags
			nv := int(c.u16())
			c.skip(nameLen)
			c.skip(4 * nv)
			if v == 1 && nv%2 == 1 {
				c.skip(4)
			}
			if c.err != nil {
				return nil, -1, fmt.Errorf("filter pipeline: %v", c.err)
			}
			switch id {
			case 1, 2, 3:
			default:
				return nil, -1, fmt.Errorf("filter %d is not supported (only deflate, shuffle and fletcher32)", id)
			}
			if slices.Contains(ids, id) {
				return nil, -1, fmt.Errorf("filter %d listed twice", id)
			}
			if id == 1 {
				deflate = len(ids)
			}
			ids = append(ids, id)
		}
	}
	return func(data []byte, mask uint32, size, elem int) ([]byte, error) {
		for i := len(ids) - 1; i >= 0; i-- {
			if mask&(1<<i) != 0 {
				continue
			}
			switch ids[i] {
			case 1:
				zr, err := zlib.NewReader(bytes.NewReader(data))
				if err != nil {
					return nil, fmt.Errorf("deflate: %v", err)
				}
				out, err := io.ReadAll(io.LimitReader(zr, int64(size)+1))
				if err != nil {
					return nil, fmt.Errorf("deflate: %v", err)
				}
				data = out
			case 2:
				if len(data)%elem != 0 {
					return nil, fmt.Errorf("shuffle: %d bytes for elements of %d", len(data), elem)
				}
				m := len(data) / elem
				out := make([]byte, len(data))
				for k := range elem {
					for j := range m {
						out[j*elem+k] = data[k*m+j]
					}
				}
				data = out
			case 3:
				if len(data) < 4 {
					return nil, fmt.Errorf("fletcher32: chunk of %d bytes", len(data))
				}
				n := len(data) - 4
				got, sum := binary.LittleEndian.Uint32(data[n:]), fletcher32(data[:n])
				// The HDF5 library also accepts the sum with the bytes of
				// each half swapped (written by its old versions).
				if got != sum && got != sum>>8&0x00ff00ff|sum<<8&0xff00ff00 {
					return nil, fmt.Errorf("fletcher32: checksum %#08x, the data sums to %#08x", got, sum)
				}
				data = data[:n]
			}
		}
		return data, nil
	}, deflate, nil
}

// fletcher32 is HDF5's Fletcher checksum: over big-endian 16-bit words (a
// last odd byte is the high byte of a word), sums folded modulo 65535
// every 360 words.
func fletcher32(b []byte) uint32 {
	var s1, s2 uint32
	for len(b) >= 2 {
		n := min(len(b)/2, 360)
		for i := range n {
			s1 += uint32(b[2*i])<<8 | uint32(b[2*i+1])
			s2 += s1
		}
		b = b[2*n:]
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	if len(b) == 1 {
		s1 += uint32(b[0]) << 8
		s2 += s1
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	s1 = s1&0xffff + s1>>16
	s2 = s2&0xffff + s2>>16
	return s2<<16 | s1
}
