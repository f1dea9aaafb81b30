package cpu

import (
	"math"

	"github.com/prismai/mec/backend"
)

// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a. The state is read once, in
// order, as rows of n amplitudes: for n ≤ foldSmall, blocks of rows (fixed
// size) are summed in parallel and the block sums added in block order;
// for larger n, each thread sums its range of residues over every row.
// Either way the result does not depend on the thread count.
func (s *State[T]) FoldN(n int) ([]complex128, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := backend.CheckFold(len(s.amps), n); err != nil {
		return nil, err
	}
	u := make([]complex128, n)
	rows := len(s.amps) / n
	addRows := func(acc []complex128, r0, r1, lo, hi int) {
		for r := r0; r < r1; r++ {
			for j, v := range s.amps[r*n+lo : r*n+hi] {
				acc[j] += complex128(v)
			}
		}
	}
	if n > foldSmall {
		parallelFor(s.b.workers(), n, 1, func(lo, hi int) { addRows(u[lo:hi], 0, rows, lo, hi) })
		return u, nil
	}
	per := max(1, foldBlock/n) // rows per block
	nb := (rows + per - 1) / per
	parts := make([]complex128, nb*n)
	parallelFor(s.b.workers(), nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			addRows(parts[b*n:(b+1)*n], b*per, min((b+1)*per, rows), 0, n)
		}
	})
	for b := range nb {
		for j, z := range parts[b*n : (b+1)*n] {
			u[j] += z
		}
	}
	return u, nil
}

// foldSmall is the largest n FoldN sums by blocks of rows, and foldBlock
// the amplitudes per block (so the block sums take at most 1/64 of the
// state).
const (
	foldSmall = 1 << 10
	foldBlock = 1 << 16
)

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
		var ps [statsRun]float64
		for b := lo; b < hi; b++ {
			var t acc
			blk := s.amps[b*reduceBlock : min((b+1)*reduceBlock, len(s.amps))]
			for len(blk) > 0 {
				run := blk[:min(statsRun, len(blk))]
				blk = blk[len(run):]
				for i, v := range run {
					c := complex128(v)
					p := real(c)*real(c) + imag(c)*imag(c)
					ps[i] = p
					t.n2 += p
					m := math.Sqrt(p) // |ψ_a| (no overflow to guard against: p ≤ Σp)
					t.re += m * real(c)
					t.im += m * imag(c)
				}
				t.pl += sumPLogP(ps[:len(run)])
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

// statsRun is the number of probabilities FusionStats hands sumPLogP at
// once.
const statsRun = 256

// sumPLogP returns Σ p·ln p over ps (0·ln 0 = 0), each ln p within about
// 10⁻¹⁶ of math.Log's in absolute terms (relatively within a few units in
// the last place, except near p = 1, where ln p is tiny and the table's
// cells cancel; p·ln p, and so H_coh, does not notice) — math.Log took most
// of the statistics' pass: with p = m·2^e, m in [1, 2), and c_j the centre of m's 1/128 of
// [1, 2), ln p = e·ln 2 + ln c_j + ln(1 + r) for r = m/c_j − 1 (|r| <
// 1/256, computed exactly by a fused multiply-add), and ln(1 + r) is its
// Taylor series to r⁷ (the rest is below 10⁻²⁰). Zero, subnormals and
// non-finite or negative values go to math.Log. The loop is written out
// here, over a run of values, because a call per value is not inlined.
func sumPLogP(ps []float64) float64 {
	sum := 0.0
	for _, p := range ps {
		b := math.Float64bits(p)
		ex := b >> 52 // with the sign bit: ≥ 0x7ff for negative values
		if ex == 0 || ex >= 0x7ff {
			if p != 0 {
				sum += p * math.Log(p)
			}
			continue
		}
		j := (b >> 45) & (logCentres - 1)
		m := math.Float64frombits(b&(1<<52-1) | 1023<<52)
		r := math.FMA(m, logTable.inv[j], -1)
		q := r * r * (-1.0/2 + r*(1.0/3+r*(-1.0/4+r*(1.0/5+r*(-1.0/6+r*(1.0/7))))))
		e := float64(int(ex) - 1023)
		sum += p * (e*ln2Hi + (logTable.ln[j] + (r + q + e*ln2Lo)))
	}
	return sum
}

// logCentres is the number of centres c_j = 1 + (j + ½)/logCentres of
// sumPLogP, and ln2Hi + ln2Lo is ln 2 split so that e·ln2Hi is exact.
const (
	logCentres = 128
	ln2Hi      = 6.93147180369123816490e-01
	ln2Lo      = 1.90821492927058770002e-10
)

// logTable holds 1/c_j rounded (inv) and ln of its reciprocal (ln), so
// that m·inv_j − 1 and ln(1/inv_j) describe the same centre exactly; it is
// computed once and only read.
var logTable = func() (t struct{ inv, ln [logCentres]float64 }) {
	for j := range logCentres {
		t.inv[j] = 1 / (1 + (float64(j)+0.5)/logCentres)
		t.ln[j] = -math.Log(t.inv[j])
	}
	return t
}()
