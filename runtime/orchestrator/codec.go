package orchestrator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A small big-endian binary codec for snapshots: every float is stored as
// its IEEE-754 bit pattern, so decode(encode(x)) is bit for bit x (NaN
// payloads and negative zeros included).

type enc struct{ b []byte }

func (e *enc) u64(v uint64)  { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *enc) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *enc) bytes(p []byte) {
	e.u64(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *enc) str(s string) { e.bytes([]byte(s)) }
func (e *enc) f64s(v []float64) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		e.f64(x)
	}
}
func (e *enc) c128s(v []complex128) {
	e.u64(uint64(len(v)))
	for _, z := range v {
		e.f64(real(z))
		e.f64(imag(z))
	}
}

var errShort = errors.New("truncated")

type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %w", d.off, err)
	}
}

func (d *dec) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *dec) f64() float64 { return math.Float64frombits(d.u64()) }

// count reads a length and checks that at least n·unit bytes remain.
func (d *dec) count(unit int) int {
	n := d.u64()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)-d.off)/uint64(unit) {
		d.fail(fmt.Errorf("length %d exceeds the remaining %d bytes", n, len(d.b)-d.off))
		return 0
	}
	return int(n)
}

func (d *dec) bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	p := append([]byte(nil), d.b[d.off:d.off+n]...)
	d.off += n
	return p
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) f64s() []float64 {
	n := d.count(8)
	if d.err != nil || n == 0 {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = d.f64()
	}
	return v
}

func (d *dec) c128s() []complex128 {
	n := d.count(16)
	if d.err != nil || n == 0 {
		return nil
	}
	v := make([]complex128, n)
	for i := range v {
		re := d.f64()
		v[i] = complex(re, d.f64())
	}
	return v
}

func (d *dec) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}
