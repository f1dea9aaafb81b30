package mipp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The few CBOR (RFC 8949) items the envelope needs, in deterministic
// encoding (shortest argument form, definite lengths).

const (
	majUint  = 0
	majNint  = 1
	majBytes = 2
	majText  = 3
	majArray = 4
	majMap   = 5
	majTag   = 6
)

func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func appendBytes(b []byte, p []byte) []byte {
	return append(appendHead(b, majBytes, uint64(len(p))), p...)
}
func appendText(b []byte, s string) []byte {
	return append(appendHead(b, majText, uint64(len(s))), s...)
}

func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendHead(b, majUint, uint64(v))
	}
	return appendHead(b, majNint, uint64(-1-v))
}

var errCBOR = errors.New("malformed CBOR")

// decoder reads the items appendHead & co. write, rejecting any
// non-deterministic or unexpected encoding.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) head() (major byte, n uint64, err error) {
	if d.off >= len(d.b) {
		return 0, 0, errCBOR
	}
	c := d.b[d.off]
	d.off++
	major, ai := c>>5, c&31
	var size int
	switch {
	case ai < 24:
		return major, uint64(ai), nil
	case ai == 24:
		size = 1
	case ai == 25:
		size = 2
	case ai == 26:
		size = 4
	case ai == 27:
		size = 8
	default:
		return 0, 0, fmt.Errorf("%w: indefinite or reserved length at byte %d", errCBOR, d.off-1)
	}
	if d.off+size > len(d.b) {
		return 0, 0, errCBOR
	}
	var v uint64
	for _, x := range d.b[d.off : d.off+size] {
		v = v<<8 | uint64(x)
	}
	d.off += size
	if (size == 1 && v < 24) || (size > 1 && v < 1<<(4*size)) {
		return 0, 0, fmt.Errorf("%w: non-shortest length at byte %d", errCBOR, d.off-size-1)
	}
	return major, v, nil
}

func (d *decoder) expect(major byte) (uint64, error) {
	m, n, err := d.head()
	if err != nil {
		return 0, err
	}
	if m != major {
		return 0, fmt.Errorf("%w: major type %d, want %d", errCBOR, m, major)
	}
	return n, nil
}

func (d *decoder) bytes(major byte) ([]byte, error) {
	n, err := d.expect(major)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, errCBOR
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

func (d *decoder) int() (int64, error) {
	m, n, err := d.head()
	if err != nil {
		return 0, err
	}
	if n > 1<<63-1 {
		return 0, errCBOR
	}
	switch m {
	case majUint:
		return int64(n), nil
	case majNint:
		return -1 - int64(n), nil
	}
	return 0, fmt.Errorf("%w: major type %d, want an integer", errCBOR, m)
}
