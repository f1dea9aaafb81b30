package secagg

import (
	"fmt"
	"math"
)

// Fixed-point quantization.
//
// An input x with ||x||_2 <= C (so |x_i| <= C) is mapped to Z_{2^64} by
// q(x_i) = RoundToEven(x_i·scale) as a two's-complement int64, with
//
//	scale = 2^(62-e), where m·C = f·2^e, 1/2 <= f < 1 (math.Frexp),
//
// m the group size. Hence m·C·scale < 2^62, each |q(x_i)| <= 2^62/m + 1/2,
// and a sum over at most m members stays below 2^62 + m/2 < 2^63 in
// magnitude: it never wraps, and the int64 reading of the unmasked sum is
// exact. scale is a power of two, so x_i·scale is exact and the only
// quantization error is the rounding, at most 1/(2·scale) <= m·C·2^-62 per
// member and element — about 2^-60 of C for small groups, far below
// float64 resolution at C. Dequantization is float64(sum)/scale, which adds
// at most one float64 rounding (relative 2^-53) of the sum.

// Scale returns the quantization scale for a group of m members and clip
// bound C. C must be positive and finite, and the resulting scale must be a
// normal float64 (C within roughly 2^-900..2^900).
func Scale(m int, clip float64) (float64, error) {
	if m < 2 || m > MaxMembers {
		return 0, fmt.Errorf("%w: group size %d", ErrInput, m)
	}
	if !(clip > 0) || math.IsInf(clip, 0) {
		return 0, fmt.Errorf("%w: clip bound %v, want a positive finite number", ErrInput, clip)
	}
	_, e := math.Frexp(float64(m) * clip)
	if e < -900 || e > 900 {
		return 0, fmt.Errorf("%w: clip bound %v out of the supported range", ErrInput, clip)
	}
	return math.Ldexp(1, 62-e), nil
}

// checkInput validates an input vector against the clip bound: every
// element finite with |x_i| <= C, and ||x||_2 <= C·(1+1e-9) (the slack
// absorbs the caller's rounding when it clipped).
func checkInput(x []float64, clip float64) error {
	if len(x) < 1 || len(x) > MaxDim {
		return fmt.Errorf("%w: vector of %d elements, want 1..%d", ErrInput, len(x), MaxDim)
	}
	var ss float64
	inv := 1 / clip
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: element %d is %v", ErrInput, i, v)
		}
		if math.Abs(v) > clip {
			return fmt.Errorf("%w: element %d = %v exceeds the clip bound %v", ErrInput, i, v, clip)
		}
		r := v * inv
		ss += r * r
	}
	if ss > (1+1e-9)*(1+1e-9) {
		return fmt.Errorf("%w: L2 norm %v exceeds the clip bound %v", ErrInput, math.Sqrt(ss)*clip, clip)
	}
	return nil
}

// quantize maps x_i to Z_{2^64}; the caller has checked |x_i| <= C.
func quantize(v, scale float64) uint64 { return uint64(int64(math.RoundToEven(v * scale))) }
