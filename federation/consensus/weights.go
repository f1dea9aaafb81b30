package consensus

import (
	"errors"
	"fmt"
	"math"
)

// Weights is a symmetric, doubly stochastic, entrywise non-negative n×n
// mixing matrix W, stored densely and, for [Mix], as per-row lists of its
// non-zero off-diagonal entries. Build one with [MetropolisHastings] or
// [NewWeights]; it is immutable afterwards.
type Weights struct {
	n     int
	dense []float64   // row-major n×n
	nbr   [][]int     // nbr[i]: the j ≠ i with w_ij > 0, ascending
	nw    [][]float64 // nw[i][t] = w_{i, nbr[i][t]}
}

// rowSumTol bounds |Σ_j w_ij − 1| in [NewWeights].
const rowSumTol = 1e-12

// MetropolisHastings returns the Metropolis–Hastings weights of g:
// w_ij = 1/(1 + max(d_i, d_j)) for each edge {i, j}, w_ii = 1 − Σ_{j≠i} w_ij
// and 0 elsewhere. The matrix is exactly symmetric; its row (and so
// column) sums are 1 up to rounding. An isolated vertex gets w_ii = 1.
func MetropolisHastings(g *Graph) (*Weights, error) {
	if g.N() == 0 {
		return nil, errors.New("consensus: Metropolis–Hastings weights of a nil or empty graph")
	}
	n := g.N()
	w := &Weights{n: n, dense: make([]float64, n*n), nbr: make([][]int, n), nw: make([][]float64, n)}
	for i := range n {
		w.nbr[i] = append([]int{}, g.adj[i]...)
		w.nw[i] = make([]float64, len(g.adj[i]))
		off := 0.0
		for t, j := range g.adj[i] {
			v := 1 / float64(1+max(len(g.adj[i]), len(g.adj[j])))
			w.nw[i][t] = v
			w.dense[i*n+j] = v
			off += v
		}
		w.dense[i*n+i] = 1 - off
	}
	return w, nil
}

// NewWeights checks and copies a mixing matrix given by rows. It must be
// square with at least one row, finite, entrywise non-negative, exactly
// symmetric, and each row must sum to 1 within 1e-12. (Non-negativity
// keeps the spectrum of L = I − W in [0, 2] with the consensus direction
// at λ_1 = 0, which [Rate] and [SpectralGap] rely on.)
func NewWeights(m [][]float64) (*Weights, error) {
	n := len(m)
	if n == 0 {
		return nil, errors.New("consensus: empty weight matrix (want at least 1 row)")
	}
	for i, row := range m {
		if len(row) != n {
			return nil, fmt.Errorf("consensus: weight matrix is not square: row %d has %d entries, want %d", i, len(row), n)
		}
	}
	w := &Weights{n: n, dense: make([]float64, n*n), nbr: make([][]int, n), nw: make([][]float64, n)}
	for i := range n {
		sum := 0.0
		w.nbr[i] = []int{}
		w.nw[i] = []float64{}
		for j := range n {
			v := m[i][j]
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return nil, fmt.Errorf("consensus: weight w[%d][%d] = %v is not finite", i, j, v)
			case v < 0:
				return nil, fmt.Errorf("consensus: weight w[%d][%d] = %v is negative", i, j, v)
			case v != m[j][i]:
				return nil, fmt.Errorf("consensus: weight matrix is not symmetric: w[%d][%d] = %v but w[%d][%d] = %v", i, j, v, j, i, m[j][i])
			}
			sum += v
			w.dense[i*n+j] = v
			if j != i && v > 0 {
				w.nbr[i] = append(w.nbr[i], j)
				w.nw[i] = append(w.nw[i], v)
			}
		}
		if math.Abs(sum-1) > rowSumTol {
			return nil, fmt.Errorf("consensus: row %d of the weight matrix sums to %v, want 1 (within %g)", i, sum, rowSumTol)
		}
	}
	return w, nil
}

// N returns the number of nodes (0 for nil).
func (w *Weights) N() int {
	if w == nil {
		return 0
	}
	return w.n
}

// Matrix returns W as a fresh n×n slice of rows.
func (w *Weights) Matrix() [][]float64 {
	n := w.N()
	m := make([][]float64, n)
	for i := range m {
		m[i] = append([]float64(nil), w.dense[i*n:(i+1)*n]...)
	}
	return m
}

// Components returns the number of connected components of the graph of
// W's non-zero off-diagonal entries (0 for nil).
func (w *Weights) Components() int {
	if w == nil {
		return 0
	}
	return components(w.nbr)
}
