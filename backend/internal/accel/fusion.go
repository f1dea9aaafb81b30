package accel

// Fold is the geometry of the fold kernel u_i = Σ_{a ≡ i (mod N)} ψ_a over
// a state of length amplitudes: one item per (residue, chunk) of the Per
// amplitudes of each residue, two partials (re, im) per item.
type Fold struct {
	N      int
	Per    uint64 // amplitudes per residue
	Chunks uint64 // chunks per residue
	Clen   uint64 // amplitudes per chunk
	Items  uint64 // N × Chunks
}

// NewFold plans the fold of a state of length amplitudes modulo n (n
// divides length; backend.CheckFold).
func NewFold(length, n int) Fold {
	per := uint64(length / n)
	chunks := uint64(max(1, min(int(per), 8192/n)))
	return Fold{N: n, Per: per, Chunks: chunks, Clen: (per + chunks - 1) / chunks, Items: uint64(n) * chunks}
}

// Sum adds each residue's chunk partials p, in chunk order.
func (f Fold) Sum(p []float64) []complex128 {
	u := make([]complex128, f.N)
	for i := range u {
		var re, im float64
		for c := uint64(0); c < f.Chunks; c++ {
			w := uint64(i)*f.Chunks + c
			re += p[2*w]
			im += p[2*w+1]
		}
		u[i] = complex(re, im)
	}
	return u
}
