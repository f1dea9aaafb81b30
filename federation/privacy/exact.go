package privacy

import (
	"fmt"
	"math"
)

// logPhi returns log Φ(x), Φ the standard normal distribution function,
// accurate to a few ulps in relative terms over the whole real line: by
// erfc where it is representable (x ≥ −30, Φ(−30) ≈ 5e-198) and by the
// asymptotic series Φ(x) = φ(x)/|x| · Σ_k (−1)^k (2k−1)!!/x^{2k} below,
// where its terms fall under 1e-17 long before they start to grow.
func logPhi(x float64) float64 {
	switch {
	case x > 0:
		return math.Log1p(-0.5 * math.Erfc(x/math.Sqrt2))
	case x >= -30:
		return math.Log(0.5 * math.Erfc(-x/math.Sqrt2))
	}
	x2 := x * x
	sum, term := 1.0, 1.0
	for k := 1; k < 100; k++ {
		term *= -float64(2*k-1) / x2
		sum += term
		if math.Abs(term) < 1e-17 {
			break
		}
	}
	return -x2/2 - math.Log(-x) - 0.5*math.Log(2*math.Pi) + math.Log(sum)
}

// logGDPDelta returns log δ(ε) for μ-GDP, μ > 0 and ε ≥ 0, evaluated in
// log space: δ = Φ(a)·(1 − exp(ε + log Φ(b) − log Φ(a))), a = −ε/μ + μ/2,
// b = −ε/μ − μ/2; −Inf when δ underflows.
func logGDPDelta(mu, eps float64) float64 {
	a, b := -eps/mu+mu/2, -eps/mu-mu/2
	la := logPhi(a)
	t := eps + logPhi(b) - la // < 0: e^ε Φ(b) < Φ(a)
	if !(t < 0) {
		return math.Inf(-1)
	}
	return la + math.Log(-math.Expm1(t))
}

// checkMu validates a GDP parameter.
func checkMu(mu float64) error {
	if !(mu >= 0) || math.IsInf(mu, 1) {
		return fmt.Errorf("privacy: GDP parameter μ = %v: want finite and ≥ 0", mu)
	}
	return nil
}

// GDPDelta returns the exact privacy profile of μ-GDP,
//
//	δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2),
//
// the smallest δ for which a μ-GDP mechanism (e.g. the Gaussian mechanism
// with sensitivity 1 and standard deviation 1/μ) is (ε, δ)-DP. It is
// computed in log space, so tiny δ and large ε do not underflow or
// overflow. μ must be finite and ≥ 0 (δ = 0 for μ = 0), ε finite and ≥ 0.
func GDPDelta(mu, eps float64) (float64, error) {
	if err := checkMu(mu); err != nil {
		return 0, err
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		return 0, fmt.Errorf("privacy: ε = %v: want finite and ≥ 0", eps)
	}
	if mu == 0 {
		return 0, nil
	}
	return math.Exp(logGDPDelta(mu, eps)), nil
}

// GDPEpsilon returns the smallest ε ≥ 0 with δ(ε) ≤ δ for μ-GDP (see
// [GDPDelta]), found by bisection on log δ(ε) (which decreases in ε) to a
// relative width of 1e-12; the upper end of the final bracket is returned,
// so δ(ε) ≤ δ holds for the returned value. μ must be finite and ≥ 0
// (ε = 0 for μ = 0) and δ in (0, 1). For T rounds with multipliers σ_t,
// μ = sqrt(Σ_t σ_t⁻²).
func GDPEpsilon(mu, delta float64) (float64, error) {
	if err := checkMu(mu); err != nil {
		return 0, err
	}
	if !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("privacy: δ = %v: want 0 < δ < 1", delta)
	}
	if mu == 0 {
		return 0, nil
	}
	target := math.Log(delta)
	if logGDPDelta(mu, 0) <= target {
		return 0, nil
	}
	lo, hi := 0.0, 1.0
	for logGDPDelta(mu, hi) > target {
		lo, hi = hi, 2*hi
		if math.IsInf(hi, 1) {
			return 0, fmt.Errorf("privacy: GDP ε for μ = %v, δ = %v is not finite", mu, delta)
		}
	}
	for range 200 {
		if hi-lo <= 1e-12*hi {
			break
		}
		mid := lo + (hi-lo)/2
		if logGDPDelta(mu, mid) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// ExactEpsilon returns the exact ε at δ of rounds-fold composition of the
// Gaussian mechanism with noise multiplier σ: μ-GDP with μ = √rounds/σ
// (Dong, Roth & Su 2019), inverted by [GDPEpsilon]. It is the value the
// [Accountant]'s RDP bound approximates from above. σ must be finite and
// positive, rounds ≥ 0 (ε = 0 for no rounds), δ in (0, 1).
func ExactEpsilon(sigma float64, rounds int, delta float64) (float64, error) {
	if err := checkSigma(sigma); err != nil {
		return 0, err
	}
	if rounds < 0 {
		return 0, fmt.Errorf("privacy: %d rounds: want ≥ 0", rounds)
	}
	mu := math.Sqrt(float64(rounds)) / sigma
	if math.IsInf(mu, 1) {
		return 0, fmt.Errorf("privacy: μ = √%d/%v overflows", rounds, sigma)
	}
	return GDPEpsilon(mu, delta)
}
