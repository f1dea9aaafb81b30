package privacy

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// l2 is a reference norm: compensated (Kahan) sum of squares.
func l2(v []float64) float64 {
	var s, c float64
	for _, x := range v {
		y := x*x - c
		t := s + y
		c = (t - s) - y
		s = t
	}
	return math.Sqrt(s)
}

// TestClipRandom clips 2000 seeded random vectors (lengths 0–3000, norms
// from 1e-3·c to 1e3·c) and checks: the returned norm matches the
// reference to 1e-13 relative; vectors within the bound are bitwise
// unchanged; clipped vectors have norm ≤ c·(1 + 1e-13) and equal
// v·c/norm to 1e-15 relative per entry (direction kept).
func TestClipRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := r.IntN(3001)
		c := math.Exp(4 * r.NormFloat64())
		scale := c * math.Pow(10, 6*r.Float64()-3) / math.Sqrt(float64(max(n, 1)))
		v := make([]float64, n)
		for i := range v {
			v[i] = scale * r.NormFloat64()
		}
		orig := slices.Clone(v)
		want := l2(orig)
		norm, err := Clip(v, c)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(norm-want) > 1e-13*want {
			t.Fatalf("n %d: norm %v, reference %v", n, norm, want)
		}
		if norm <= c {
			if !slices.Equal(v, orig) {
				t.Fatalf("n %d: vector of norm %v ≤ c %v was changed", n, norm, c)
			}
			continue
		}
		if got := l2(v); got > c*(1+1e-13) {
			t.Fatalf("n %d: clipped norm %v > c %v", n, got, c)
		}
		for i := range v {
			if w := orig[i] * (c / norm); math.Abs(v[i]-w) > 1e-15*math.Abs(w)+1e-300 {
				t.Fatalf("n %d: entry %d is %v, want %v", n, i, v[i], w)
			}
		}
	}
}

// TestClipExtremes checks overflow- and underflow-safe norms (to 1e-15
// relative): entries 1e200 and 1e-200, the largest float64 (norm +Inf,
// still clipped to c, each entry c/√2 to 1e-15), subnormals, an empty
// vector; and the errors, which leave v unchanged.
func TestClipExtremes(t *testing.T) {
	for _, x := range []float64{1e200, 1e-200, 3e-160, 1e160} {
		v := []float64{x, x, x, x}
		norm, err := Clip(v, 1)
		if err != nil || math.Abs(norm-2*x) > 1e-15*2*x {
			t.Errorf("entries %v: norm %v err %v, want %v", x, norm, err, 2*x)
		}
		if want := min(x, 0.5); math.Abs(v[0]-want) > 1e-15*want {
			t.Errorf("entries %v: clipped entry %v, want %v", x, v[0], want)
		}
	}
	v := []float64{math.MaxFloat64, -math.MaxFloat64}
	norm, err := Clip(v, 2)
	if err != nil || !math.IsInf(norm, 1) || math.Abs(v[0]-math.Sqrt2) > 1e-15 || math.Abs(v[1]+math.Sqrt2) > 1e-15 {
		t.Errorf("max float64: norm %v err %v, v %v", norm, err, v)
	}
	sub := []float64{5e-324, 0, 1e-320}
	if norm, err := Clip(sub, 1); err != nil || !(norm >= 1e-320 && norm <= 1.1e-320) || sub[2] != 1e-320 {
		t.Errorf("subnormals: norm %v err %v v %v", norm, err, sub)
	}
	if norm, err := Clip(nil, 1); err != nil || norm != 0 {
		t.Errorf("empty: norm %v err %v", norm, err)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		v := []float64{1, 2, bad, 4}
		if _, err := Clip(v, 1); err == nil || !strings.Contains(err.Error(), "privacy: clip: entry 2") {
			t.Errorf("entry %v: error %v", bad, err)
		}
		if v[0] != 1 || v[1] != 2 || v[3] != 4 {
			t.Errorf("entry %v: v changed to %v", bad, v)
		}
	}
	for _, c := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := Clip([]float64{1}, c); err == nil || !strings.HasPrefix(err.Error(), "privacy: ") {
			t.Errorf("c %v: error %v", c, err)
		}
	}
}
