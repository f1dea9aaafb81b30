package cpu

import "math/bits"

// Dispatch of the hot loops between the pure-Go reference loops of
// kernels.go and the AVX2+FMA assembly of simd_amd64.s (with the AVX-512
// dense kernels of simd512_amd64.s where the CPU has AVX-512F: useAVX512).
//
// useAVX2 (simd_amd64.go, simd_purego.go) selects the path at run time: it
// is true only in an amd64 build without the purego tag, on a CPU with both
// AVX2 and FMA. The concrete-type entry points apply1RunC128 & co. exist in
// both builds; under purego (or off amd64) they are the pure-Go loops.

// Kernel names reported by kernelName.
const (
	simdAsmName = "AVX2+FMA"
	simd512Name = "AVX2+FMA, AVX-512 dense"
	simdGoName  = "pure Go"
)

// kernelName describes the kernels in use.
func kernelName() string {
	if useAVX2 && useAVX512 {
		return simd512Name
	}
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

// lowPlan is a dense gate that touches the lane qubits (as target or
// control), set up for the lane kernels: a vector holds the amplitudes of
// the lowest laneBits qubits (its lanes: qubits 0 and 1 in complex64,
// qubit 0 in complex128), and the gate becomes a matrix over those qubits
// and its high targets, whose groups are nv vectors. Output vector hp is
// Σ over columns (h, s) of a per-lane constant times input vector h with
// its lanes permuted by l → l^s; s ranges over the lane permutations the
// low targets allow.
type lowPlan struct {
	sh    gateShape // groups over the lane qubits and the high targets; high controls as mask
	lanes int       // amplitudes a vector
	vec   int       // bytes a vector: 32 (AVX2) or 64 (AVX-512, complex64 with 8 lanes)
	nv    int       // vectors a group
	offs  []uint64  // byte offsets of the nv vectors from the group base
	pidx  []uint64  // per column: byte offset of its permuted input in the scratch area (2·vec bytes per (h, s))
	chunk int       // output vectors computed together: 4, or 1 when nv < 4 (2 when nv = 2 in the AVX-512 plans)
	smask uint64    // bit s set: the permutation l → l^s is used
	mc    []float64 // per chunk of outputs, per column, per output: the lanes' (re, im), then their (−im, re)
	mc32  []float32 // mc in float32, for complex64
}

// newLowPlan builds the lowPlan of the gate with targets, controls (mask,
// val) and matrix m on an n-qubit state with laneBits lane qubits in
// vectors of vec bytes (32, or 64 for the AVX-512 kernel); ok is false
// when the gate does not touch the lanes, has more than 6 targets, or the
// state is too small.
func newLowPlan(n int, targets []int, mask, val uint64, m []complex128, laneBits, vec int) (p lowPlan, ok bool) {
	lanes := 1 << uint(laneBits)
	laneMask := uint64(lanes - 1)
	var lowT uint64 // lane bits that are targets
	var high []int
	for _, t := range targets {
		if t < laneBits {
			lowT |= 1 << uint(t)
		} else {
			high = append(high, t)
		}
	}
	if (lowT == 0 && mask&laneMask == 0) || len(targets) > 6 || n < laneBits+len(high)+bits.OnesCount64(mask&^laneMask) {
		return lowPlan{}, false
	}
	nv := 1 << uint(len(high))
	dm := 1 << uint(len(targets))
	if len(m) != dm*dm {
		return lowPlan{}, false
	}
	shT := make([]int, 0, laneBits+len(high))
	for q := 0; q < laneBits; q++ {
		shT = append(shT, q)
	}
	p.sh = newShape(n, append(shT, high...), mask&^laneMask, val&^laneMask)
	p.lanes, p.nv, p.vec = lanes, nv, vec
	p.offs = make([]uint64, nv)
	ampBytes := uint64(vec / lanes) // 32-byte vectors: complex64 with 4 lanes, complex128 with 2; 64-byte: complex64 with 8
	for h := range p.offs {
		p.offs[h] = p.sh.offsets[h<<uint(laneBits)] * ampBytes
	}
	// orig maps an expanded index (lane bits, then the high targets) to
	// the gate's matrix index.
	orig := func(i int) int {
		o, hb := 0, laneBits
		for b, t := range targets {
			var bit int
			if t < laneBits {
				bit = i >> uint(t) & 1
			} else {
				bit = i >> uint(hb) & 1
				hb++
			}
			o |= bit << uint(b)
		}
		return o
	}
	// m2 is the gate on the expanded index: identity on a lane qubit that
	// is not a target, and where a lane control is not satisfied.
	lowCM, lowCV := int(mask&laneMask), int(val&laneMask)
	keep := int(laneMask) &^ int(lowT)
	m2 := func(i, j int) complex128 {
		if (i^j)&keep != 0 {
			return 0
		}
		if i&lowCM != lowCV {
			if i == j {
				return 1
			}
			return 0
		}
		return m[orig(i)*dm+orig(j)]
	}
	var perms []int
	for s := 0; s < lanes; s++ {
		if s&^int(lowT) == 0 {
			perms = append(perms, s)
			p.smask |= 1 << uint(s)
		}
	}
	for h := 0; h < nv; h++ {
		for _, s := range perms {
			p.pidx = append(p.pidx, uint64((h*lanes+s)*2*vec))
		}
	}
	// Constants: per chunk of `chunk` output vectors, per column, per
	// output of the chunk, the lanes' (re, im) then their (−im, re).
	p.chunk = 1
	switch {
	case nv >= 4:
		p.chunk = 4
	case nv == 2 && vec == 64:
		p.chunk = 2 // the AVX-512 lane kernels compute both outputs at once
	}
	p.mc = make([]float64, 0, nv*len(p.pidx)*4*lanes)
	for hc := 0; hc < nv/p.chunk; hc++ {
		for h := 0; h < nv; h++ {
			for _, s := range perms {
				for o := 0; o < p.chunk; o++ {
					hp := hc*p.chunk + o
					for l := 0; l < lanes; l++ {
						z := m2(hp<<uint(laneBits)|l, h<<uint(laneBits)|(l^s))
						p.mc = append(p.mc, real(z), imag(z))
					}
					for l := 0; l < lanes; l++ {
						z := m2(hp<<uint(laneBits)|l, h<<uint(laneBits)|(l^s))
						p.mc = append(p.mc, -imag(z), real(z))
					}
				}
			}
		}
	}
	if vec/lanes == 8 { // complex64
		p.mc32 = make([]float32, len(p.mc))
		for i, v := range p.mc {
			p.mc32[i] = float32(v)
		}
	}
	return p, true
}

// applyDenseLowGeneric is the pure-Go loop of the lane kernels: the gate
// of plan p on the groups [lo,hi) of p.sh.
func applyDenseLowGeneric[T amp](a []T, p *lowPlan, lo, hi int) {
	L := p.lanes
	ab := uint64(p.vec / L) // bytes an amplitude
	in := make([]T, L*p.nv) // input vector h, lane l at L·h+l
	nc := len(p.pidx)
	for g := lo; g < hi; g++ {
		base := p.sh.ex.expand(uint64(g)) | p.sh.val
		for h := 0; h < p.nv; h++ {
			copy(in[L*h:L*h+L], a[base+p.offs[h]/ab:])
		}
		for hp := 0; hp < p.nv; hp++ {
			for l := 0; l < L; l++ {
				var acc T
				for c := 0; c < nc; c++ {
					k := int(p.pidx[c] / uint64(2*p.vec)) // h·L + s
					h, s := k/L, k%L
					hc, o := hp/p.chunk, hp%p.chunk
					z := p.mc[((hc*nc+c)*p.chunk+o)*4*L+2*l:]
					acc += T(complex(z[0], z[1])) * in[L*h+(l^s)]
				}
				a[base+p.offs[hp]/ab+uint64(l)] = acc
			}
		}
	}
}
