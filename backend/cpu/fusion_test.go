package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSumPLogP holds sumPLogP, the statistics' Σ p·ln p, to math.Log term
// by term: p·ln p for one p within 4 units in the last place of
// p·max(1, |ln p|), over seeded random p from 2^-1070 (subnormal) to
// 2^1000, the ends of [1, 2)'s centres, 1, 2, ½ and the neighbours of 1;
// 0 contributes 0, and a sum of many terms is within 1e-15 relative.
func TestSumPLogP(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	ps := []float64{1, 2, 0.5, math.Nextafter(1, 0), math.Nextafter(1, 2), math.SmallestNonzeroFloat64, math.MaxFloat64 / 1024, 1.5, 1 + 1.0/128, math.Nextafter(1+1.0/128, 0)}
	for range 200000 {
		ps = append(ps, (1+rng.Float64())*math.Ldexp(1, rng.IntN(2070)-1070))
	}
	for _, p := range ps {
		got, want := sumPLogP([]float64{p}), p*math.Log(p)
		if d := math.Abs(got - want); d > 4*0x1p-52*p*math.Max(1, math.Abs(math.Log(p))) {
			t.Fatalf("sumPLogP(%g) = %.17g, p·math.Log(p) %.17g", p, got, want)
		}
	}
	if got := sumPLogP([]float64{0, 0}); got != 0 {
		t.Fatalf("sumPLogP of zeros = %v", got)
	}
	if !math.IsNaN(sumPLogP([]float64{math.NaN()})) || !math.IsNaN(sumPLogP([]float64{-1})) {
		t.Fatal("sumPLogP of NaN or a negative value is not NaN")
	}
	probs := make([]float64, 1<<14)
	want := 0.0
	for i := range probs {
		probs[i] = rng.Float64() / float64(len(probs))
		want += probs[i] * math.Log(probs[i])
	}
	if got := sumPLogP(probs); math.Abs(got-want) > 1e-15*math.Abs(want) {
		t.Fatalf("Σ p·ln p over %d probabilities: %.17g, want %.17g", len(probs), got, want)
	}
}
