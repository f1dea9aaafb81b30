package consensus

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Eigenvalues returns the eigenvalues 0 = λ_1 ≤ … ≤ λ_n of the Laplacian
// L = I − W in ascending order (gonum's mat.EigenSym, O(n³)). L is formed
// as the weighted Laplacian of W's off-diagonal entries, L_ii = Σ_{j≠i} w_ij,
// L_ij = −w_ij, which is exact for any doubly stochastic W and keeps small
// eigenvalues accurate. The true spectrum lies in [0, 2] (see the package
// documentation) and has exactly c zeros for c connected components, so
// the c smallest computed values are set to 0 and the rest clamped to
// [0, 2]; this removes rounding noise of order 1e-16 only.
func Eigenvalues(w *Weights) ([]float64, error) {
	if w.N() == 0 {
		return nil, errors.New("consensus: eigenvalues of nil weights")
	}
	n := w.n
	l := mat.NewSymDense(n, nil)
	for i := range n {
		d := 0.0
		for t, j := range w.nbr[i] {
			d += w.nw[i][t]
			if j > i {
				l.SetSym(i, j, -w.nw[i][t])
			}
		}
		l.SetSym(i, i, d)
	}
	var es mat.EigenSym
	if !es.Factorize(l, false) {
		return nil, fmt.Errorf("consensus: eigendecomposition of the %d×%d Laplacian did not converge", n, n)
	}
	ev := es.Values(nil) // ascending
	c := components(w.nbr)
	for k := range ev {
		switch {
		case k < c || ev[k] < 0:
			ev[k] = 0
		case ev[k] > 2:
			ev[k] = 2
		}
	}
	return ev, nil
}

// SpectralGap returns λ_2 of L = I − W, the algebraic connectivity of the
// weighted graph: exactly 0 for a disconnected graph, and 0 for n = 1,
// where there is no second eigenvalue.
func SpectralGap(w *Weights) (float64, error) {
	ev, err := Eigenvalues(w)
	if err != nil {
		return 0, err
	}
	if len(ev) < 2 {
		return 0, nil
	}
	return ev[1], nil
}

// StabilityBound returns 2/λ_n, λ_n the largest eigenvalue of L = I − W:
// the iteration Θ ← (I − ηL)Θ contracts the disagreement for every
// 0 < η < StabilityBound (on a connected graph) and amplifies the mode of
// λ_n for every larger η; η equal to the bound is marginal. For
// Metropolis–Hastings weights the bound exceeds 1 (see the package
// documentation). It is +Inf when L = 0 (n = 1 or no edges), where every
// η leaves the states unchanged.
func StabilityBound(w *Weights) (float64, error) {
	ev, err := Eigenvalues(w)
	if err != nil {
		return 0, err
	}
	top := ev[len(ev)-1]
	if top == 0 {
		return math.Inf(1), nil
	}
	return 2 / top, nil
}

// Rate returns the predicted per-round contraction factor of the
// disagreement ‖Θ − 1Θ̄‖ under Θ ← (I − ηL)Θ:
//
//	ρ = max_{k≥2} |1 − η λ_k| = max(|1 − η λ_2|, |1 − η λ_n|).
//
// ‖Θ^(k) − 1Θ̄‖ ≤ ρ^k ‖Θ^(0) − 1Θ̄‖, with equality asymptotically for
// states that excite the slowest mode. ρ < 1 iff the graph is connected
// and 0 < η < [StabilityBound]; ρ ≥ 1 on a disconnected graph. For n = 1
// the disagreement is identically 0 and Rate returns 0. η must be finite
// and non-negative.
func Rate(w *Weights, eta float64) (float64, error) {
	if !(eta >= 0) || math.IsInf(eta, 1) {
		return 0, fmt.Errorf("consensus: step η = %v: want a finite η ≥ 0", eta)
	}
	ev, err := Eigenvalues(w)
	if err != nil {
		return 0, err
	}
	if len(ev) < 2 {
		return 0, nil
	}
	return max(math.Abs(1-eta*ev[1]), math.Abs(1-eta*ev[len(ev)-1])), nil
}

// ClampEta limits a configured step η to margin·[StabilityBound](w),
// margin in (0, 1) (e.g. 0.95), and reports whether it did so, so that
// the caller can log a warning. η must be finite and positive. An η above
// margin·bound is clamped even if it is below the bound itself, keeping a
// safety distance from the marginal step. With an infinite bound (no
// edges) η is returned unchanged.
func ClampEta(w *Weights, eta, margin float64) (float64, bool, error) {
	if !(eta > 0) || math.IsInf(eta, 1) {
		return 0, false, fmt.Errorf("consensus: step η = %v: want a finite η > 0", eta)
	}
	if !(margin > 0 && margin < 1) {
		return 0, false, fmt.Errorf("consensus: clamp margin %v: want 0 < margin < 1", margin)
	}
	b, err := StabilityBound(w)
	if err != nil {
		return 0, false, err
	}
	if lim := margin * b; eta > lim {
		return lim, true, nil
	}
	return eta, false, nil
}
