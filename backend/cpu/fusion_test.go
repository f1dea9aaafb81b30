package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogPos holds logPos, the statistics' logarithm, to math.Log: within
// 4 units in the last place of max(1, |ln x|) over seeded random x from
// 2^-1070 (subnormal) to 2^1000, at the ends of [1, 2)'s centres, and
// at 1, 2, ½ and the largest value below 1.
func TestLogPos(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	xs := []float64{1, 2, 0.5, math.Nextafter(1, 0), math.Nextafter(1, 2), math.SmallestNonzeroFloat64, math.MaxFloat64, 1.5, 1 + 1.0/128, math.Nextafter(1+1.0/128, 0)}
	for range 200000 {
		xs = append(xs, (1+rng.Float64())*math.Ldexp(1, rng.IntN(2070)-1070))
	}
	for _, x := range xs {
		got, want := logPos(x), math.Log(x)
		if d := math.Abs(got - want); d > 4*0x1p-52*math.Max(1, math.Abs(want)) {
			t.Fatalf("logPos(%g) = %.17g, math.Log %.17g", x, got, want)
		}
	}
	if !math.IsInf(logPos(math.Inf(1)), 1) || !math.IsNaN(logPos(math.NaN())) || !math.IsInf(logPos(0), -1) {
		t.Fatal("logPos at +Inf, NaN or 0 differs from math.Log")
	}
}
