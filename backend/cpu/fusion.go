package cpu

import (
	"math"
	"math/cmplx"

	"github.com/prismai/mec/backend"
)

// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a, each sum in index order.
func (s *State[T]) FoldN(n int) ([]complex128, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := backend.CheckFold(len(s.amps), n); err != nil {
		return nil, err
	}
	u := make([]complex128, n)
	parallelFor(s.b.workers(), n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var z complex128
			for a := i; a < len(s.amps); a += n {
				z += complex128(s.amps[a])
			}
			u[i] = z
		}
	})
	return u, nil
}

// KickStrided adds v[k] to ψ_{k·stride} and returns those amplitudes.
func (s *State[T]) KickStrided(stride int, v []complex128) ([]complex128, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := backend.CheckKick(len(s.amps), stride, v); err != nil {
		return nil, err
	}
	out := make([]complex128, len(v))
	for k, x := range v {
		a := &s.amps[k*stride]
		*a += T(x)
		out[k] = complex128(*a)
	}
	return out, nil
}

// FusionStats returns Σp, Σp·ln p and Σ|ψ|ψ (deterministic block order).
func (s *State[T]) FusionStats() (norm2, plnp float64, r complex128, err error) {
	if err := s.alive(); err != nil {
		return 0, 0, 0, err
	}
	type acc struct{ n2, pl, re, im float64 }
	nb := (len(s.amps) + reduceBlock - 1) / reduceBlock
	parts := make([]acc, nb)
	parallelFor(s.b.workers(), nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			var t acc
			for _, v := range s.amps[b*reduceBlock : min((b+1)*reduceBlock, len(s.amps))] {
				c := complex128(v)
				p := real(c)*real(c) + imag(c)*imag(c)
				t.n2 += p
				if p > 0 {
					t.pl += p * math.Log(p)
				}
				m := cmplx.Abs(c)
				t.re += m * real(c)
				t.im += m * imag(c)
			}
			parts[b] = t
		}
	})
	var t acc
	for _, p := range parts {
		t.n2, t.pl, t.re, t.im = t.n2+p.n2, t.pl+p.pl, t.re+p.re, t.im+p.im
	}
	return t.n2, t.pl, complex(t.re, t.im), nil
}

var _ backend.FusionCoupler = (*State[complex128])(nil)
