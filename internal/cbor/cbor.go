// Package cbor is the small subset of CBOR (RFC 8949) that mec's signed
// messages and state updates use, in deterministic encoding (RFC 8949 §4.2:
// shortest argument form, definite lengths, map keys in length-then-bytes
// order). The Decoder rejects every other form, so an encoding has exactly
// one accepted byte string.
//
// Layer: shared leaf. It imports no other mec package.
package cbor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Major types.
const (
	Uint   = 0
	Nint   = 1
	Bytes  = 2
	Text   = 3
	Array  = 4
	Map    = 5
	Tag    = 6
	Simple = 7
)

// float64Head is the initial byte of a binary64 float.
const float64Head = Simple<<5 | 27

// AppendHead appends an item head of the given major type and argument in
// its shortest form.
func AppendHead(b []byte, major byte, n uint64) []byte {
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

// AppendBytes appends a byte string.
func AppendBytes(b, p []byte) []byte { return append(AppendHead(b, Bytes, uint64(len(p))), p...) }

// AppendText appends a text string.
func AppendText(b []byte, s string) []byte { return append(AppendHead(b, Text, uint64(len(s))), s...) }

// AppendInt appends an integer (major type 0 or 1).
func AppendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return AppendHead(b, Uint, uint64(v))
	}
	return AppendHead(b, Nint, uint64(-1-v))
}

// AppendFloat64 appends a binary64 float (always 8 bytes: mec's decoders
// expect that width, so values round-trip bit for bit).
func AppendFloat64(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, float64Head), math.Float64bits(f))
}

// SortedKeys returns m's keys in deterministic CBOR order: shorter first,
// then bytewise.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return keys
}

// ErrMalformed is wrapped by every Decoder error.
var ErrMalformed = errors.New("malformed CBOR")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Decoder reads items from a byte slice, rejecting non-deterministic or
// unexpected encodings.
type Decoder struct {
	b   []byte
	off int
}

// NewDecoder returns a Decoder reading b from its start.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Offset is the number of bytes consumed.
func (d *Decoder) Offset() int { return d.off }

// Remaining is the number of bytes not yet consumed.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Head reads an item head; its argument must be in shortest form.
func (d *Decoder) Head() (major byte, n uint64, err error) {
	if d.off >= len(d.b) {
		return 0, 0, malformed("truncated at byte %d", d.off)
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
		return 0, 0, malformed("indefinite or reserved length at byte %d", d.off-1)
	}
	if d.off+size > len(d.b) {
		return 0, 0, malformed("truncated at byte %d", d.off)
	}
	var v uint64
	for _, x := range d.b[d.off : d.off+size] {
		v = v<<8 | uint64(x)
	}
	d.off += size
	if (size == 1 && v < 24) || (size > 1 && v < 1<<(4*size)) {
		return 0, 0, malformed("non-shortest argument at byte %d", d.off-size-1)
	}
	return major, v, nil
}

// Expect reads a head of the given major type and returns its argument.
func (d *Decoder) Expect(major byte) (uint64, error) {
	at := d.off
	m, n, err := d.Head()
	if err != nil {
		return 0, err
	}
	if m != major {
		return 0, malformed("major type %d at byte %d, want %d", m, at, major)
	}
	return n, nil
}

// Raw reads a byte or text string (major Bytes or Text) and returns its
// content, aliasing the input.
func (d *Decoder) Raw(major byte) ([]byte, error) {
	n, err := d.Expect(major)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, malformed("string of %d bytes past the end", n)
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

// Text reads a text string, which must be valid UTF-8.
func (d *Decoder) Text() (string, error) {
	p, err := d.Raw(Text)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(p) {
		return "", malformed("invalid UTF-8 in a text string")
	}
	return string(p), nil
}

// Int reads an integer (major type 0 or 1) that fits an int64.
func (d *Decoder) Int() (int64, error) {
	m, n, err := d.Head()
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt64 {
		return 0, malformed("integer out of range")
	}
	switch m {
	case Uint:
		return int64(n), nil
	case Nint:
		return -1 - int64(n), nil
	}
	return 0, malformed("major type %d, want an integer", m)
}

// Float64 reads a binary64 float.
func (d *Decoder) Float64() (float64, error) {
	if len(d.b)-d.off < 9 || d.b[d.off] != float64Head {
		return 0, malformed("want a binary64 float at byte %d", d.off)
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off+1:]))
	d.off += 9
	return f, nil
}
