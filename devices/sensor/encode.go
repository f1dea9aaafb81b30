package sensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrInput is wrapped by the encoders' errors for bad input (wrong number of
// values, non-finite values).
var ErrInput = errors.New("bad encoder input")

// RateConfig configures a RateEncoder.
type RateConfig struct {
	// Channels is the number of input values (and output spike channels).
	Channels int
	// Min and Max map a value linearly to a rate: Min (and below) is 0 Hz,
	// Max (and above) is MaxHz. Max must exceed Min.
	Min, Max float64
	// MaxHz is the rate at Max.
	MaxHz float64
	// DtMs is the time step in ms; MaxHz × DtMs / 1000 must be ≤ 1 (at most
	// one spike per step and channel).
	DtMs float64
	// Deterministic makes spikes regular (an accumulator per channel fires
	// when it reaches 1) instead of Bernoulli(p) per step, which approximates
	// a Poisson process of the rate.
	Deterministic bool
	// Seed seeds the PCG random stream (Poisson mode).
	Seed uint64
}

// RateEncoder turns values into spikes at a rate proportional to each value.
// Channel i of the output is input i.
type RateEncoder struct {
	cfg RateConfig
	rng *rand.Rand
	acc []float64
}

// NewRateEncoder validates cfg and returns an encoder at step 0.
func NewRateEncoder(cfg RateConfig) (*RateEncoder, error) {
	switch {
	case cfg.Channels <= 0:
		return nil, fmt.Errorf("sensor: rate encoder: %d channels", cfg.Channels)
	case !(cfg.Max > cfg.Min) || math.IsInf(cfg.Max-cfg.Min, 0):
		return nil, fmt.Errorf("sensor: rate encoder: range [%g, %g] is empty or not finite", cfg.Min, cfg.Max)
	case !(cfg.DtMs > 0) || math.IsInf(cfg.DtMs, 0):
		return nil, fmt.Errorf("sensor: rate encoder: dt %g ms", cfg.DtMs)
	case !(cfg.MaxHz >= 0) || cfg.MaxHz*cfg.DtMs/1000 > 1:
		return nil, fmt.Errorf("sensor: rate encoder: max rate %g Hz with dt %g ms is not one spike per step at most", cfg.MaxHz, cfg.DtMs)
	}
	return &RateEncoder{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5e115)), acc: make([]float64, cfg.Channels)}, nil
}

// Probability is the per-step spike probability (Poisson mode) or
// accumulator increment (deterministic mode) for value v.
func (e *RateEncoder) Probability(v float64) float64 {
	x := (v - e.cfg.Min) / (e.cfg.Max - e.cfg.Min)
	x = min(max(x, 0), 1)
	return x * e.cfg.MaxHz * e.cfg.DtMs / 1000
}

// Step encodes one time step: values has one entry per channel; the channels
// that spike are appended to dst in ascending order.
func (e *RateEncoder) Step(values []float64, dst []int) ([]int, error) {
	if err := checkValues(values, e.cfg.Channels); err != nil {
		return dst, fmt.Errorf("sensor: rate encoder: %w", err)
	}
	for i, v := range values {
		p := e.Probability(v)
		if e.cfg.Deterministic {
			e.acc[i] += p
			if e.acc[i] >= 1 {
				e.acc[i]--
				dst = append(dst, i)
			}
			continue
		}
		if e.rng.Float64() < p {
			dst = append(dst, i)
		}
	}
	return dst, nil
}

// DeltaConfig configures a DeltaEncoder.
type DeltaConfig struct {
	// Channels is the number of input values; the output has 2 × Channels
	// spike channels: ON = 2i, OFF = 2i+1 for input i.
	Channels int
	// Threshold is the level-crossing step θ > 0.
	Threshold float64
}

// DeltaEncoder is a level-crossing (delta) encoder: each input keeps a
// reference level, initially its first value; when the value has moved by
// at least θ above it, the ON channel spikes, at least θ below, the OFF
// channel; the reference then moves by the whole multiple k·θ crossed
// (k = floor(|v − ref| / θ)), so one step emits at most one spike per input
// and a large jump does not leave a backlog.
type DeltaEncoder struct {
	cfg  DeltaConfig
	ref  []float64
	init bool
}

// NewDeltaEncoder validates cfg.
func NewDeltaEncoder(cfg DeltaConfig) (*DeltaEncoder, error) {
	if cfg.Channels <= 0 {
		return nil, fmt.Errorf("sensor: delta encoder: %d channels", cfg.Channels)
	}
	if !(cfg.Threshold > 0) || math.IsInf(cfg.Threshold, 0) {
		return nil, fmt.Errorf("sensor: delta encoder: threshold %g", cfg.Threshold)
	}
	return &DeltaEncoder{cfg: cfg, ref: make([]float64, cfg.Channels)}, nil
}

// OutputChannels is 2 × Channels.
func (e *DeltaEncoder) OutputChannels() int { return 2 * e.cfg.Channels }

// Step encodes one time step, appending the spiking output channels to dst
// in ascending order. The first call sets the references and emits nothing.
func (e *DeltaEncoder) Step(values []float64, dst []int) ([]int, error) {
	if err := checkValues(values, e.cfg.Channels); err != nil {
		return dst, fmt.Errorf("sensor: delta encoder: %w", err)
	}
	if !e.init {
		copy(e.ref, values)
		e.init = true
		return dst, nil
	}
	th := e.cfg.Threshold
	for i, v := range values {
		d := v - e.ref[i]
		k := math.Floor(math.Abs(d) / th)
		if k < 1 {
			continue
		}
		if d > 0 {
			e.ref[i] += k * th
			dst = append(dst, 2*i)
		} else {
			e.ref[i] -= k * th
			dst = append(dst, 2*i+1)
		}
	}
	return dst, nil
}

func checkValues(values []float64, n int) error {
	if len(values) != n {
		return fmt.Errorf("%d values for %d channels: %w", len(values), n, ErrInput)
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("value %d is %g: %w", i, v, ErrInput)
		}
	}
	return nil
}
