package privacy

import (
	"fmt"
	"math"
)

// Clip scales v in place to L2 norm at most c and returns its original
// norm: v is left unchanged if ‖v‖ ≤ c and multiplied by c/‖v‖ otherwise.
// c must be finite and positive. If v holds a NaN or ±Inf, Clip returns an
// error and leaves v unchanged. The norm is computed without overflow or
// underflow (rescaling by max|v_i| when the plain sum of squares leaves
// the safe range); it is +Inf only if the true norm exceeds the largest
// float64, in which case v is still scaled to norm c. An empty v has norm
// 0.
func Clip(v []float64, c float64) (norm float64, err error) {
	if !(c > 0) || math.IsInf(c, 1) {
		return 0, fmt.Errorf("privacy: clip bound %v: want a finite c > 0", c)
	}
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	// s is finite and the squares neither overflowed nor lost precision
	// to underflow: the common, fast case. A NaN or Inf entry makes s NaN
	// or Inf and lands in the careful path.
	if s >= 0x1p-900 && s <= 0x1p900 {
		norm = math.Sqrt(s)
		if norm > c {
			f := c / norm
			for i := range v {
				v[i] *= f
			}
		}
		return norm, nil
	}
	m := 0.0
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("privacy: clip: entry %d is %v", i, x)
		}
		m = max(m, math.Abs(x))
	}
	if m == 0 {
		return 0, nil
	}
	s = 0
	for _, x := range v {
		y := x / m
		s += y * y
	}
	r := math.Sqrt(s) // ‖v‖ = m·r, 1 ≤ r ≤ √len(v)
	norm = m * r
	if norm > c {
		f := c / r // v_i·c/‖v‖ = (v_i/m)·(c/r), no overflow
		for i := range v {
			v[i] = v[i] / m * f
		}
	}
	return norm, nil
}
