package consensus

import (
	"errors"
	"fmt"
	"math"
)

// AngleDiff returns a − b wrapped into (−π, π]: the signed shortest
// rotation from b to a. It is NaN if either argument is NaN or infinite.
func AngleDiff(a, b float64) float64 {
	d := math.Remainder(a-b, 2*math.Pi) // in [−π, π]
	if d == -math.Pi {
		d = math.Pi
	}
	return d
}

// CircularMean returns the direction mean ∈ (−π, π] and the length
// r ∈ [0, 1] of the normalised resultant Σ_i w_i e^{iφ_i} / Σ_i w_i. weights
// may be nil (all 1); otherwise it has one finite, non-negative weight per
// phase and a positive sum. Phases must be finite. r = 1 when all phases
// coincide and r = 0 when they cancel (e.g. two opposite phases); the mean
// direction is then undefined and returned as 0, so callers should check r.
func CircularMean(phases, weights []float64) (mean, r float64, err error) {
	if len(phases) == 0 {
		return 0, 0, errors.New("consensus: circular mean of no phases")
	}
	if weights != nil && len(weights) != len(phases) {
		return 0, 0, fmt.Errorf("consensus: circular mean: %d weights for %d phases", len(weights), len(phases))
	}
	var c, s, sw float64
	for i, p := range phases {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return 0, 0, fmt.Errorf("consensus: circular mean: phase %d is %v", i, p)
		}
		w := 1.0
		if weights != nil {
			w = weights[i]
			if !(w >= 0) || math.IsInf(w, 1) {
				return 0, 0, fmt.Errorf("consensus: circular mean: weight %d is %v (want finite and ≥ 0)", i, w)
			}
		}
		sin, cos := math.Sincos(p)
		c += w * cos
		s += w * sin
		sw += w
	}
	if !(sw > 0) || math.IsInf(sw, 1) {
		return 0, 0, fmt.Errorf("consensus: circular mean: weights sum to %v (want a finite positive sum)", sw)
	}
	mean, r = resultant(c, s, sw)
	return mean, r, nil
}

// resultant turns the sums C = Σ w cos φ, S = Σ w sin φ and Σ w into the
// mean direction in (−π, π] (0 for a vanishing resultant) and r ≤ 1.
func resultant(c, s, sw float64) (mean, r float64) {
	if c == 0 && s == 0 {
		return 0, 0
	}
	mean = math.Atan2(s, c)
	if mean == -math.Pi {
		mean = math.Pi
	}
	return mean, min(math.Hypot(c, s)/sw, 1)
}

// resultantTie is how much larger a candidate's resultant length must be
// to count as tighter in [Consensus]: clusters of the same shape (two
// single phases, or one set of offsets around two centres) differ in r
// only by rounding, and such ties must go to the lowest-numbered seed.
const resultantTie = 1e-12

// maxConsensusSteps bounds the mean-shift iterations of [Consensus] from
// each seed.
const maxConsensusSteps = 64

// minResultant is the resultant length below which [Consensus] treats a
// circular mean as undefined.
const minResultant = 1e-9

// Consensus returns a robust consensus phase φ̄ ∈ (−π, π] and the nodes
// farther than eps from it (|AngleDiff(φ_i, φ̄)| > eps), in ascending
// order (nil if none). eps must be in (0, π]; phases must be finite (NaN
// or ±Inf is an error, as is an empty slice).
//
// φ̄ is sought as a fixed point of the flat-kernel mean shift
//
//	S(φ) = {i : |AngleDiff(φ_i, φ)| ≤ eps},   φ ← circular mean of S(φ),
//
// i.e. a φ̄ that is the circular mean of exactly the phases within eps of
// it. The iteration is started at every node's own phase (the seed), and
// from each seed it stops when S no longer changes or after 64 steps, or
// when the mean of S is undefined (resultant length below 1e-9, possible
// only for eps ≥ π/2), keeping the last well-defined centre. The result is
// the candidate with the most inliers; ties go to the tighter candidate
// (larger resultant length of its inliers), then to the lowest-numbered
// seed, so the outcome is a deterministic function of the input order.
// When no candidate holds a majority (2·len(outliers) ≥ n) the largest
// cluster is still returned; callers that require a majority must check.
// Whatever happens, the returned outliers are exactly the nodes farther
// than eps from the returned φ̄, so a node that comes back within eps
// rejoins at the next call. Since a node's own phase counts toward the
// mean that decides whether it is an inlier, a node somewhat beyond eps
// of the others' mean can still be an inlier (it pulls φ̄ towards itself
// by 1/|S| of its offset); among such self-consistent sets the largest
// wins. Cost O(n²) per mean-shift step, n the number of phases.
func Consensus(phases []float64, eps float64) (mean float64, outliers []int, err error) {
	n := len(phases)
	if n == 0 {
		return 0, nil, errors.New("consensus: phase consensus of no phases")
	}
	if !(eps > 0 && eps <= math.Pi) {
		return 0, nil, fmt.Errorf("consensus: phase consensus: eps = %v, want 0 < eps ≤ π", eps)
	}
	for i, p := range phases {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return 0, nil, fmt.Errorf("consensus: phase consensus: phase %d is %v", i, p)
		}
	}
	in := make([]bool, n)
	next := make([]bool, n)
	bestCount, bestR, bestMean := -1, 0.0, 0.0
	for seed := range phases {
		centre := AngleDiff(phases[seed], 0) // wrapped into (−π, π]
		mark(phases, centre, eps, in)
		for range maxConsensusSteps {
			m, r := inlierMean(phases, in)
			if r < minResultant {
				break
			}
			centre = m
			mark(phases, centre, eps, next)
			if equal(in, next) {
				break
			}
			in, next = next, in
		}
		count := mark(phases, centre, eps, in)
		_, r := inlierMean(phases, in)
		if count > bestCount || (count == bestCount && r > bestR+resultantTie) {
			bestCount, bestR, bestMean = count, r, centre
		}
	}
	for i, p := range phases {
		if math.Abs(AngleDiff(p, bestMean)) > eps {
			outliers = append(outliers, i)
		}
	}
	return bestMean, outliers, nil
}

// mark sets in[i] to whether phase i is within eps of centre and returns
// how many are.
func mark(phases []float64, centre, eps float64, in []bool) int {
	c := 0
	for i, p := range phases {
		in[i] = math.Abs(AngleDiff(p, centre)) <= eps
		if in[i] {
			c++
		}
	}
	return c
}

// inlierMean is the unweighted circular mean of the marked phases (r = 0
// for none).
func inlierMean(phases []float64, in []bool) (mean, r float64) {
	var c, s, k float64
	for i, p := range phases {
		if in[i] {
			sin, cos := math.Sincos(p)
			c += cos
			s += sin
			k++
		}
	}
	if k == 0 {
		return 0, 0
	}
	return resultant(c, s, k)
}

// equal reports whether two masks are equal.
func equal(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
