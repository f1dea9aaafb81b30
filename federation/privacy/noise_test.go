package privacy

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// moments returns the sample mean and standard deviation.
func moments(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// TestGaussianNoiseStatistics adds noise with C = 2, σ = 1.5 (std 3) to a
// zero vector of 10⁶ entries from a seeded source: the sample mean is
// within 5 standard errors (5·3/√N = 0.015), the sample std within 0.5%
// of 3 (5 standard errors are 0.35%), and the fraction within one std of
// 0 within 0.003 of 0.6827 (≈6 standard errors).
func TestGaussianNoiseStatistics(t *testing.T) {
	const n = 1_000_000
	g := Gaussian{Clip: 2, Multiplier: 1.5}
	v := make([]float64, n)
	if _, err := g.PrivatizeWith(v, rand.NewPCG(3, 4)); err != nil {
		t.Fatal(err)
	}
	mean, std := moments(v)
	in := 0
	for _, x := range v {
		if math.Abs(x) <= 3 {
			in++
		}
	}
	if math.Abs(mean) > 0.015 || math.Abs(std/3-1) > 0.005 || math.Abs(float64(in)/n-0.682689) > 0.003 {
		t.Errorf("mean %v std %v fraction within 1σ %v", mean, std, float64(in)/n)
	}
}

// TestPrivatizeWith checks that the release is clip-then-noise and
// reproducible: with the same seed it equals Clip followed by adding
// σC·NormFloat64 draws from that seed, bitwise; and that errors leave v
// unchanged.
func TestPrivatizeWith(t *testing.T) {
	g := Gaussian{Clip: 1, Multiplier: 0.8}
	v := []float64{3, 4, 0, 12} // norm 13
	want := slices.Clone(v)
	if _, err := Clip(want, 1); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range want {
		want[i] += 0.8 * r.NormFloat64()
	}
	norm, err := g.PrivatizeWith(v, rand.NewPCG(5, 6))
	if err != nil || norm != 13 || !slices.Equal(v, want) {
		t.Errorf("PrivatizeWith = %v (norm %v, err %v), want %v", v, norm, err, want)
	}
	bad := []float64{1, math.NaN()}
	if _, err := g.PrivatizeWith(bad, rand.NewPCG(1, 1)); err == nil || bad[0] != 1 {
		t.Errorf("NaN input: err %v, v %v", err, bad)
	}
	for _, c := range []struct {
		g    Gaussian
		src  rand.Source
		want string
	}{
		{Gaussian{Clip: 0, Multiplier: 1}, rand.NewPCG(1, 1), "clip bound"},
		{Gaussian{Clip: 1, Multiplier: math.NaN()}, rand.NewPCG(1, 1), "noise multiplier"},
		{Gaussian{Clip: 1, Multiplier: -1}, rand.NewPCG(1, 1), "noise multiplier"},
		{Gaussian{Clip: 1e200, Multiplier: 1e200}, rand.NewPCG(1, 1), "overflows"},
		{Gaussian{Clip: 1, Multiplier: 1}, nil, "nil randomness"},
	} {
		v := []float64{1, 2}
		if _, err := c.g.PrivatizeWith(v, c.src); err == nil || !strings.HasPrefix(err.Error(), "privacy: ") || !strings.Contains(err.Error(), c.want) || v[0] != 1 || v[1] != 2 {
			t.Errorf("%+v: error %v (v %v), want %q", c.g, err, v, c.want)
		}
		if _, err := c.g.Privatize(v); c.src != nil && err == nil {
			t.Errorf("%+v: Privatize accepted bad parameters", c.g)
		}
	}
}

// TestPrivatizeSecure checks the production path: two calls on equal
// inputs give different noise (a fresh crypto/rand seed each call), and
// the noise of 2·10⁵ entries has std within 2% of σC (≈6 standard errors).
func TestPrivatizeSecure(t *testing.T) {
	g := Gaussian{Clip: 1, Multiplier: 2}
	a, b := make([]float64, 200_000), make([]float64, 200_000)
	if _, err := g.Privatize(a); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Privatize(b); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a, b) {
		t.Error("two secure releases drew identical noise")
	}
	if _, std := moments(a); math.Abs(std/2-1) > 0.02 {
		t.Errorf("secure noise std %v, want 2", std)
	}
	if _, err := NewSecureSource(); err != nil {
		t.Error(err)
	}
}
