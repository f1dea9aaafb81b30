package circuit

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
)

// RandomUnitary returns a Haar-ish random d×d unitary (Gram–Schmidt of a
// Gaussian matrix).
func RandomUnitary(rng *rand.Rand, d int) []complex128 {
	m := make([]complex128, d*d)
	for i := range m {
		m[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	for c := 0; c < d; c++ {
		for p := 0; p < c; p++ {
			var dot complex128
			for r := 0; r < d; r++ {
				dot += cmplx.Conj(m[r*d+p]) * m[r*d+c]
			}
			for r := 0; r < d; r++ {
				m[r*d+c] -= dot * m[r*d+p]
			}
		}
		var nrm float64
		for r := 0; r < d; r++ {
			nrm += real(m[r*d+c])*real(m[r*d+c]) + imag(m[r*d+c])*imag(m[r*d+c])
		}
		for r := 0; r < d; r++ {
			m[r*d+c] /= complex(math.Sqrt(nrm), 0)
		}
	}
	return m
}
