package telemetry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeNanos returns t as Unix nanoseconds, or an error when t is outside
// the int64 nanosecond range (which includes the zero time.Time).
func timeNanos(t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("telemetry: timestamp %v outside the encodable range (years 1678..2262); is it set?", t)
	}
	return t.UnixNano(), nil
}

func appendU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendF64 appends f's bits, with every NaN rewritten to the canonical NaN.
func appendF64(b []byte, f float64) []byte {
	bits := math.Float64bits(f)
	if f != f {
		bits = canonicalNaN
	}
	return appendU64(b, bits)
}

func appendStr(b []byte, what, s string) ([]byte, error) {
	if len(s) > MaxStringLen {
		return nil, fmt.Errorf("telemetry: %s is %d bytes, more than %d", what, len(s), MaxStringLen)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("telemetry: %s is not valid UTF-8", what)
	}
	b = appendU32(b, uint32(len(s)))
	return append(b, s...), nil
}

// decoder reads big-endian values; after the first error every read
// returns a zero value and err keeps that first error.
type decoder struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail(errTruncated)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) byte() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) u64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (d *decoder) f64() float64 {
	bits := d.u64()
	f := math.Float64frombits(bits)
	if f != f && bits != canonicalNaN {
		d.fail(fmt.Errorf("non-canonical NaN 0x%016x", bits))
	}
	return f
}

func (d *decoder) time() time.Time {
	return time.Unix(0, int64(d.u64())).UTC()
}

func (d *decoder) str(what string) string {
	n := d.u32()
	if d.err != nil {
		return ""
	}
	if n > MaxStringLen {
		d.fail(fmt.Errorf("%s length %d, more than %d", what, n, MaxStringLen))
		return ""
	}
	p := d.take(int(n))
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(p) {
		d.fail(fmt.Errorf("%s is not valid UTF-8", what))
		return ""
	}
	return string(p)
}
