package orchestrator

import (
	"errors"
	"fmt"

	"github.com/prismai/mec/internal/cbor"
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

// maxUpdated bounds the floats one update may carry, to bound
// allocations while decoding.
const maxUpdated = 1 << 24

// Marshal returns the deterministic CBOR encoding of u.
func (u Update) Marshal() []byte {
	b := cbor.AppendHead(nil, cbor.Map, 2)
	b = cbor.AppendHead(b, cbor.Uint, 1)
	b = cbor.AppendHead(b, cbor.Map, uint64(len(u.Metrics)))
	for _, k := range cbor.SortedKeys(u.Metrics) {
		b = cbor.AppendHead(b, cbor.Text, uint64(len(k)))
		b = append(b, k...)
		b = cbor.AppendFloat64(b, u.Metrics[k])
	}
	b = cbor.AppendHead(b, cbor.Uint, 2)
	b = cbor.AppendHead(b, cbor.Map, uint64(len(u.Writes)))
	for _, k := range cbor.SortedKeys(u.Writes) {
		b = cbor.AppendHead(b, cbor.Text, uint64(len(k)))
		b = append(b, k...)
		v := u.Writes[k]
		b = cbor.AppendHead(b, cbor.Array, uint64(len(v)))
		for _, x := range v {
			b = cbor.AppendFloat64(b, x)
		}
	}
	return b
}

var errUpdate = errors.New("orchestrator: malformed update")

// keyed reads a map header and then n entries with strictly increasing
// keys, calling fn for each value.
func keyed(r *cbor.Decoder, fn func(key string) error) error {
	n, err := r.Expect(cbor.Map)
	if err != nil {
		return err
	}
	if n > uint64(r.Remaining()) {
		return errors.New("map longer than the input")
	}
	prev := ""
	for i := uint64(0); i < n; i++ {
		k, err := r.Text()
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
	r := cbor.NewDecoder(b)
	fail := func(err error) (Update, error) { return Update{}, fmt.Errorf("%w: %v", errUpdate, err) }
	if n, err := r.Expect(cbor.Map); err != nil || n != 2 {
		return fail(fmt.Errorf("not a 2-entry map (%v)", err))
	}
	if k, err := r.Expect(cbor.Uint); err != nil || k != 1 {
		return fail(fmt.Errorf("first key is not 1 (%v)", err))
	}
	err := keyed(r, func(k string) error {
		f, err := r.Float64()
		if err == nil {
			u.Metric(k, f)
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	if k, err := r.Expect(cbor.Uint); err != nil || k != 2 {
		return fail(fmt.Errorf("second key is not 2 (%v)", err))
	}
	total := uint64(0)
	err = keyed(r, func(k string) error {
		n, err := r.Expect(cbor.Array)
		if err != nil {
			return err
		}
		total += n
		if n > uint64(r.Remaining())/9 || total > maxUpdated {
			return fmt.Errorf("array of %d floats exceeds the input", n)
		}
		v := make([]float64, n)
		for i := range v {
			if v[i], err = r.Float64(); err != nil {
				return err
			}
		}
		u.Write(k, v)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if r.Remaining() != 0 {
		return fail(fmt.Errorf("%d trailing bytes", r.Remaining()))
	}
	return u, nil
}
