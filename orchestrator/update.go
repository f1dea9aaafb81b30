package orchestrator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Update is the body of a module's message: the metrics it reports and
// the parts of Ξ it writes. The orchestrator applies a verified Update to
// Ξ only where the sender owns the path (see the package documentation).
//
// Its encoding is deterministic CBOR (RFC 8949 §4.2.1 ordering):
//
//	{1: {metric-name: float64, ...}, 2: {path: [float64, ...], ...}}
//
// with keys sorted by their encoded bytes (shorter first) and every float
// as binary64 (major type 7, additional information 27), so that the
// signed bytes of equal updates are equal; the decoder rejects any other
// form.
type Update struct {
	// Metrics are named scalar measurements.
	Metrics map[string]float64
	// Writes maps a state path to its new value.
	Writes map[string][]float64
}

// Metric sets a metric, allocating the map.
func (u *Update) Metric(name string, v float64) {
	if u.Metrics == nil {
		u.Metrics = map[string]float64{}
	}
	u.Metrics[name] = v
}

// Write sets a state path, allocating the map.
func (u *Update) Write(path string, v []float64) {
	if u.Writes == nil {
		u.Writes = map[string][]float64{}
	}
	u.Writes[path] = v
}

const (
	cborUint   = 0
	cborText   = 3
	cborArray  = 4
	cborMap    = 5
	cborFloat  = 7
	cborF64    = 27
	maxUpdated = 1 << 24 // elements, to bound allocations while decoding
)

func cborHead(b []byte, major byte, n uint64) []byte {
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

func cborF(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, cborFloat<<5|cborF64), math.Float64bits(f))
}

// sortedKeys orders text keys as deterministic CBOR does: shorter first,
// then bytewise.
func sortedKeys[V any](m map[string]V) []string {
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

// Marshal returns the deterministic CBOR encoding of u.
func (u Update) Marshal() []byte {
	b := cborHead(nil, cborMap, 2)
	b = cborHead(b, cborUint, 1)
	b = cborHead(b, cborMap, uint64(len(u.Metrics)))
	for _, k := range sortedKeys(u.Metrics) {
		b = cborHead(b, cborText, uint64(len(k)))
		b = append(b, k...)
		b = cborF(b, u.Metrics[k])
	}
	b = cborHead(b, cborUint, 2)
	b = cborHead(b, cborMap, uint64(len(u.Writes)))
	for _, k := range sortedKeys(u.Writes) {
		b = cborHead(b, cborText, uint64(len(k)))
		b = append(b, k...)
		v := u.Writes[k]
		b = cborHead(b, cborArray, uint64(len(v)))
		for _, x := range v {
			b = cborF(b, x)
		}
	}
	return b
}

var errUpdate = errors.New("orchestrator: malformed update")

type cborReader struct {
	b   []byte
	off int
}

func (r *cborReader) head(major byte) (uint64, error) {
	if r.off >= len(r.b) {
		return 0, errors.New("truncated")
	}
	ib := r.b[r.off]
	if ib>>5 != major {
		return 0, fmt.Errorf("major type %d at byte %d, want %d", ib>>5, r.off, major)
	}
	ai := ib & 31
	r.off++
	var n uint64
	size := 0
	switch {
	case ai < 24:
		return uint64(ai), nil
	case ai == 24:
		size = 1
	case ai == 25:
		size = 2
	case ai == 26:
		size = 4
	case ai == 27:
		size = 8
	default:
		return 0, fmt.Errorf("additional information %d at byte %d", ai, r.off-1)
	}
	if len(r.b)-r.off < size {
		return 0, errors.New("truncated")
	}
	for _, c := range r.b[r.off : r.off+size] {
		n = n<<8 | uint64(c)
	}
	r.off += size
	if len(cborHead(nil, major, n)) != 1+size {
		return 0, fmt.Errorf("non-shortest argument at byte %d", r.off-size-1)
	}
	return n, nil
}

func (r *cborReader) text() (string, error) {
	n, err := r.head(cborText)
	if err != nil {
		return "", err
	}
	if n > uint64(len(r.b)-r.off) {
		return "", errors.New("truncated text")
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	if !utf8.ValidString(s) {
		return "", errors.New("invalid UTF-8 in a key")
	}
	return s, nil
}

func (r *cborReader) float() (float64, error) {
	if len(r.b)-r.off < 9 || r.b[r.off] != cborFloat<<5|cborF64 {
		return 0, fmt.Errorf("want a binary64 float at byte %d", r.off)
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(r.b[r.off+1:]))
	r.off += 9
	return f, nil
}

// keyed reads a map header and then n entries with strictly increasing
// keys, calling fn for each value.
func (r *cborReader) keyed(fn func(key string) error) error {
	n, err := r.head(cborMap)
	if err != nil {
		return err
	}
	if n > uint64(len(r.b)-r.off) {
		return errors.New("map longer than the input")
	}
	prev := ""
	for i := uint64(0); i < n; i++ {
		k, err := r.text()
		if err != nil {
			return err
		}
		if i > 0 && (len(k) < len(prev) || len(k) == len(prev) && k <= prev) {
			return fmt.Errorf("key %q out of order or repeated after %q", k, prev)
		}
		prev = k
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalUpdate decodes what Update.Marshal wrote; anything else is an
// error wrapping errUpdate.
func UnmarshalUpdate(b []byte) (Update, error) {
	var u Update
	r := &cborReader{b: b}
	fail := func(err error) (Update, error) { return Update{}, fmt.Errorf("%w: %v", errUpdate, err) }
	if n, err := r.head(cborMap); err != nil || n != 2 {
		return fail(fmt.Errorf("not a 2-entry map (%v)", err))
	}
	if k, err := r.head(cborUint); err != nil || k != 1 {
		return fail(fmt.Errorf("first key is not 1 (%v)", err))
	}
	err := r.keyed(func(k string) error {
		f, err := r.float()
		if err == nil {
			u.Metric(k, f)
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	if k, err := r.head(cborUint); err != nil || k != 2 {
		return fail(fmt.Errorf("second key is not 2 (%v)", err))
	}
	total := uint64(0)
	err = r.keyed(func(k string) error {
		n, err := r.head(cborArray)
		if err != nil {
			return err
		}
		total += n
		if n > uint64(len(r.b)-r.off)/9 || total > maxUpdated {
			return fmt.Errorf("array of %d floats exceeds the input", n)
		}
		v := make([]float64, n)
		for i := range v {
			if v[i], err = r.float(); err != nil {
				return err
			}
		}
		u.Write(k, v)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if r.off != len(b) {
		return fail(fmt.Errorf("%d trailing bytes", len(b)-r.off))
	}
	return u, nil
}
