package cpu

// Dispatch of the hot loops between the pure-Go reference loops of
// kernels.go and the AVX2+FMA assembly of simd_amd64.s.
//
// useAVX2 (simd_amd64.go, simd_purego.go) selects the path at run time: it
// is true only in an amd64 build without the purego tag, on a CPU with both
// AVX2 and FMA. The concrete-type entry points apply1RunC128 & co. exist in
// both builds; under purego (or off amd64) they are the pure-Go loops.

// Kernel names reported by kernelName.
const (
	simdAsmName = "AVX2+FMA"
	simdGoName  = "pure Go"
)

// kernelName describes the kernels in use.
func kernelName() string {
	if useAVX2 {
		return simdAsmName
	}
	return simdGoName
}

// apply1Run applies m to the runs x and y:
// (x, y) ← (m0·x + m1·y, m2·x + m3·y), element by element; len(y) ≥ len(x).
func apply1Run[T amp](x, y []T, m *[4]T) {
	if useAVX2 {
		switch x := any(x).(type) {
		case []complex128:
			apply1RunC128(x, any(y).([]complex128), any(m).(*[4]complex128))
			return
		case []complex64:
			apply1RunC64(x, any(y).([]complex64), any(m).(*[4]complex64))
			return
		}
	}
	apply1RunGeneric(x, y, m)
}

// apply1Low applies m to the consecutive pairs (a[2i], a[2i+1]) of a
// (qubit 0); an odd last element is left alone.
func apply1Low[T amp](a []T, m *[4]T) {
	if useAVX2 {
		switch a := any(a).(type) {
		case []complex128:
			apply1LowC128(a, any(m).(*[4]complex128))
			return
		case []complex64:
			apply1LowC64(a, any(m).(*[4]complex64))
			return
		}
	}
	apply1LowGeneric(a, m)
}

// apply1Blocks is apply1 for a target q ≥ 1 in one assembly call per
// stretch of whole blocks (a block is the 2^(q+1) amplitudes of a run and
// its partner run), instead of one call per run: for small q the runs are
// a few amplitudes long and a call per run would cost more than the
// arithmetic. It reports false, doing nothing, when the assembly kernels
// are off; apply1 then runs its own loop.
func apply1Blocks[T amp](a []T, q uint, m *[4]T, lo, hi int) bool {
	if !useAVX2 || q == 0 || q > 40 {
		return false
	}
	s := 1 << q
	r := lo
	// A leading partial run (lo inside a run).
	if off := r & (s - 1); off != 0 && r < hi {
		n := min(hi-r, s-off)
		i0 := (r>>q)<<(q+1) | off
		apply1Run(a[i0:i0+n], a[i0+s:i0+s+n], m)
		r += n
	}
	// Whole blocks.
	if nb := (hi - r) >> q; nb > 0 {
		i0 := (r >> q) << (q + 1)
		blk := a[i0 : i0+nb<<(q+1)]
		switch blk := any(blk).(type) {
		case []complex128:
			apply1BlocksC128(blk, s, any(m).(*[4]complex128))
		case []complex64:
			apply1BlocksC64(blk, s, any(m).(*[4]complex64))
		}
		r += nb << q
	}
	// A trailing partial run.
	if r < hi {
		n := hi - r
		i0 := (r >> q) << (q + 1)
		apply1Run(a[i0:i0+n], a[i0+s:i0+s+n], m)
	}
	return true
}

// apply1BlocksGeneric is the pure-Go loop of apply1BlocksC128/C64: a holds
// whole blocks of 2·half amplitudes, and each block's first half x and
// second half y get (x, y) ← (m0·x + m1·y, m2·x + m3·y).
func apply1BlocksGeneric[T amp](a []T, half int, m *[4]T) {
	for i := 0; i+2*half <= len(a); i += 2 * half {
		apply1RunGeneric(a[i:i+half], a[i+half:i+2*half], m)
	}
}

// applyDenseSIMD is applyDense through the assembly dense kernels, which
// vectorise across consecutive groups; it reports false, doing nothing,
// when they are off or the shape does not suit them (see applyDenseC128).
func applyDenseSIMD[T amp](a []T, s *gateShape, m []T, lo, hi int) bool {
	if !useAVX2 {
		return false
	}
	switch a := any(a).(type) {
	case []complex128:
		return applyDenseC128(a, s, any(m).([]complex128), lo, hi)
	case []complex64:
		return applyDenseC64(a, s, any(m).([]complex64), lo, hi)
	}
	return false
}
