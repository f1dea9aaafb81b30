package circuit

import (
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"
)

// unitaryEig diagonalises a unitary d×d matrix: m = V diag(vals) V†, with V
// unitary (row-major, eigenvector k in column k).
//
// A unitary m is normal, so its Hermitian parts A = (m+m†)/2 and
// B = (m−m†)/2i commute and share m's eigenvectors. We diagonalise the
// Hermitian H = A + cB for an irrational c (which separates eigenvalues of m
// that A or B alone would merge) by embedding it as the real symmetric
// 2d×2d matrix [[Re H, −Im H], [Im H, Re H]] (gonum's EigenSym), in which
// every eigenvalue of H appears twice; each eigenspace is then rebuilt as
// complex vectors and orthonormalised.
func unitaryEig(m []complex128, d int) (vals, vecs []complex128, err error) {
	const c = 0.6180339887498949 // golden-ratio conjugate: no rational relation to typical angles
	h := make([]complex128, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a := (m[i*d+j] + cmplx.Conj(m[j*d+i])) / 2
			b := (m[i*d+j] - cmplx.Conj(m[j*d+i])) / 2i
			h[i*d+j] = a + complex(c, 0)*b
		}
	}
	n := 2 * d
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			re, im := real(h[i*d+j]), imag(h[i*d+j])
			sym.SetSym(i, j, re)
			sym.SetSym(i+d, j+d, re)
			sym.SetSym(i, j+d, -im)
			sym.SetSym(j, i+d, im)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, true) {
		return nil, nil, fmt.Errorf("circuit: eigendecomposition of a %d×%d unitary did not converge", d, d)
	}
	ev := es.Values(nil)
	var ve mat.Dense
	es.VectorsTo(&ve)
	const clusterTol = 1e-9
	basis := make([][]complex128, 0, d)
	for start := 0; start < n; {
		end := start + 1
		for end < n && ev[end]-ev[end-1] < clusterTol {
			end++
		}
		want := (end - start) / 2
		var got [][]complex128
		for k := start; k < end && len(got) < want; k++ {
			z := make([]complex128, d)
			for i := 0; i < d; i++ {
				z[i] = complex(ve.At(i, k), ve.At(i+d, k))
			}
			// Orthogonalise against this cluster's vectors so far (twice, for stability).
			for pass := 0; pass < 2; pass++ {
				for _, q := range got {
					var dot complex128
					for i := range z {
						dot += cmplx.Conj(q[i]) * z[i]
					}
					for i := range z {
						z[i] -= dot * q[i]
					}
				}
			}
			var nrm float64
			for _, v := range z {
				nrm += real(v)*real(v) + imag(v)*imag(v)
			}
			nrm = math.Sqrt(nrm)
			if nrm < 1e-6 {
				continue
			}
			for i := range z {
				z[i] /= complex(nrm, 0)
			}
			got = append(got, z)
		}
		if len(got) != want {
			return nil, nil, fmt.Errorf("circuit: could not separate a degenerate eigenspace of a %d×%d unitary", d, d)
		}
		basis = append(basis, got...)
		start = end
	}
	if len(basis) != d {
		return nil, nil, fmt.Errorf("circuit: eigenbasis has %d vectors, want %d", len(basis), d)
	}
	vals = make([]complex128, d)
	vecs = make([]complex128, d*d)
	for k, v := range basis {
		// λ_k = v† m v; check m v = λ v.
		mv := make([]complex128, d)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				mv[i] += m[i*d+j] * v[j]
			}
		}
		var lam complex128
		for i := range v {
			lam += cmplx.Conj(v[i]) * mv[i]
		}
		var res float64
		for i := range v {
			res = math.Max(res, cmplx.Abs(mv[i]-lam*v[i]))
		}
		if res > 1e-8 {
			return nil, nil, fmt.Errorf("circuit: matrix is not unitary (eigen residual %.2g)", res)
		}
		vals[k] = lam
		for i := 0; i < d; i++ {
			vecs[i*d+k] = v[i]
		}
	}
	return vals, vecs, nil
}
