package privacy

import (
	"math"
	"strings"
	"testing"
)

// hockeyStick integrates δ(ε) = ∫ max(0, φ(x − μ) − e^ε φ(x)) dx directly
// (composite Simpson, 2·10⁵ panels over [x₀, x₀ + 40], x₀ = ε/μ + μ/2
// where the integrand turns positive): an evaluation of the privacy
// profile of the Gaussian mechanism independent of the closed form.
func hockeyStick(mu, eps float64) float64 {
	x0 := eps/mu + mu/2
	const n, width = 200_000, 40.0
	h := width / n
	f := func(x float64) float64 {
		pdf := math.Exp(-(x-mu)*(x-mu)/2) / math.Sqrt(2*math.Pi)
		return pdf * -math.Expm1(eps-(mu*x-mu*mu/2))
	}
	s := f(x0) + f(x0+width)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(x0+float64(i)*h)
	}
	return s * h / 3
}

// TestGDPDeltaQuadrature checks the closed form against direct
// integration of the hockey-stick divergence for μ ∈ {0.1 … 5}, ε ∈
// {0 … 10} (relative 1e-8 where δ > 1e-200), and at ε = 0 against
// δ(0) = 2Φ(μ/2) − 1 = erf(μ/(2√2)) (total variation, to 1e-14).
func TestGDPDeltaQuadrature(t *testing.T) {
	for _, mu := range []float64{0.1, 0.5, 1, 2, 5} {
		for _, eps := range []float64{0, 0.1, 1, 3, 10} {
			got, err := GDPDelta(mu, eps)
			if err != nil {
				t.Fatal(err)
			}
			if want := hockeyStick(mu, eps); want > 1e-200 && rel(got, want) > 1e-8 {
				t.Errorf("μ %v ε %v: δ %v, quadrature %v", mu, eps, got, want)
			}
		}
		d0, _ := GDPDelta(mu, 0)
		if want := math.Erf(mu / (2 * math.Sqrt2)); rel(d0, want) > 1e-14 {
			t.Errorf("μ %v: δ(0) %v, want %v", mu, d0, want)
		}
	}
}

// TestLogPhi checks log Φ against math.Erfc where both are accurate
// (x ∈ [−37, −30]: the series branch against erfc, to 1e-13 relative),
// continuity across the switch at −30 (1e-13), reference values of Φ at
// 0, ±1, −10 and 8 (to 1e-13 relative), and strict monotonicity on a
// grid down to −1e5.
func TestLogPhi(t *testing.T) {
	viaErfc := func(x float64) float64 { return math.Log(0.5 * math.Erfc(-x/math.Sqrt2)) }
	for _, x := range []float64{-30.0000001, -31, -33, -35, -37} {
		if got, want := logPhi(x), viaErfc(x); rel(got, want) > 1e-13 {
			t.Errorf("logΦ(%v) = %v, erfc gives %v", x, got, want)
		}
	}
	if a, b := logPhi(-30), logPhi(math.Nextafter(-30, -31)); rel(a, b) > 1e-13 {
		t.Errorf("discontinuity at −30: %v vs %v", a, b)
	}
	for _, c := range []struct{ x, want float64 }{
		{0, math.Log(0.5)},
		{1, math.Log(0.8413447460685429)},
		{-1, math.Log(0.15865525393145707)},
		{-10, math.Log(7.619853024160527e-24)},
		{8, math.Log1p(-6.22096057427178e-16)},
	} {
		if got := logPhi(c.x); math.Abs(got-c.want) > 1e-14*math.Max(1, math.Abs(c.want)) && rel(got, c.want) > 1e-13 {
			t.Errorf("logΦ(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	prev := math.Inf(1)
	for x := 40.0; x > -1e5; x -= 0.37 + math.Abs(x)/50 {
		v := logPhi(x)
		if !(v < prev) && !(v == 0 && prev == 0) {
			t.Fatalf("logΦ not increasing at %v: %v then %v", x, v, prev)
		}
		prev = v
	}
}

// TestGDPEpsilon checks the inversion (δ(ε) ≤ δ < δ(ε·(1 − 1e-9))), the
// classical Gaussian-mechanism calibration σ = sqrt(2 ln(1.25/δ))/ε₀ being
// (ε₀, δ)-DP for ε₀ < 1 (Dwork & Roth 2014, Thm A.1: the exact ε must not
// exceed ε₀), large μ (no overflow, ε ≈ μ²/2 + μ·Φ⁻¹(1 − δ) within 1%), and
// the errors.
func TestGDPEpsilon(t *testing.T) {
	for _, mu := range []float64{0.01, 0.3, 1, 4, 30, 200} {
		for _, delta := range []float64{1e-5, 1e-6, 1e-12} {
			e, err := GDPEpsilon(mu, delta)
			if err != nil {
				t.Fatal(err)
			}
			if e == 0 {
				if d0, _ := GDPDelta(mu, 0); d0 > delta {
					t.Errorf("μ %v δ %v: ε 0 but δ(0) = %v", mu, delta, d0)
				}
				continue
			}
			dHi, _ := GDPDelta(mu, e)
			dLo, _ := GDPDelta(mu, e*(1-1e-9))
			if !(dHi <= delta && dLo > delta) {
				t.Errorf("μ %v δ %v: ε %v brackets δ(ε) = %v, δ(ε(1−1e-9)) = %v", mu, delta, e, dHi, dLo)
			}
		}
	}
	for _, delta := range []float64{1e-5, 1e-6} {
		for _, e0 := range []float64{0.1, 0.3, 0.5, 0.9} {
			sigma := math.Sqrt(2*math.Log(1.25/delta)) / e0
			if x, _ := ExactEpsilon(sigma, 1, delta); !(x <= e0) {
				t.Errorf("δ %v: classical σ %v for ε₀ %v has exact ε %v", delta, sigma, e0, x)
			}
		}
	}
	// Φ⁻¹(1 − 1e-6) = 4.753424308822899.
	if e, _ := GDPEpsilon(200, 1e-6); rel(e, 200*200/2+200*4.753424308822899) > 0.01 {
		t.Errorf("μ 200: ε %v", e)
	}
	if e, err := ExactEpsilon(1, 0, 1e-5); e != 0 || err != nil {
		t.Errorf("no rounds: %v %v", e, err)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := GDPEpsilon(-1, 1e-5); return err }(), "μ = -1"},
		{func() error { _, err := GDPEpsilon(math.NaN(), 1e-5); return err }(), "μ = NaN"},
		{func() error { _, err := GDPEpsilon(1, 0); return err }(), "δ = 0"},
		{func() error { _, err := GDPEpsilon(1, 1); return err }(), "δ = 1"},
		{func() error { _, err := GDPDelta(1, -1); return err }(), "ε = -1"},
		{func() error { _, err := GDPDelta(math.Inf(1), 1); return err }(), "μ = +Inf"},
		{func() error { _, err := ExactEpsilon(0, 1, 1e-5); return err }(), "noise multiplier 0"},
		{func() error { _, err := ExactEpsilon(1, -2, 1e-5); return err }(), "-2 rounds"},
		{func() error { _, err := ExactEpsilon(1e-308, 1<<40, 1e-5); return err }(), "overflows"},
		{func() error { _, err := ExactEpsilon(1e-300, 1<<40, 1e-5); return err }(), "not finite"},
	} {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), "privacy: ") || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want %q", c.err, c.want)
		}
	}
}
