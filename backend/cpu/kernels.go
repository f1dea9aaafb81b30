package cpu

import (
	"math/bits"
	"slices"
)

// amp is the element type of a CPU state.
type amp interface{ complex64 | complex128 }

// expander maps a compressed index r (the bits of an amplitude index that
// are neither targets nor controls) to the full index with zeros at the
// sorted positions pos.
type expander struct {
	pos []uint // ascending
}

func (e expander) expand(r uint64) uint64 {
	for _, p := range e.pos {
		low := r & (1<<p - 1)
		r = (r-low)<<1 | low
	}
	return r
}

// gateShape is the precomputed index structure of a gate on an n-qubit state.
type gateShape struct {
	ex      expander
	val     uint64   // required control values
	offsets []uint64 // offset of matrix index j from the group base
	groups  int      // number of groups (compressed indices)
	run     int      // consecutive compressed indices map to consecutive bases for this many steps
	// consts, when set, are the dense kernels' constants for the gate's
	// matrix (denseConsts), built once for all the calls of a plan.
	consts any
}

func newShape(n int, targets []int, mask, val uint64) gateShape {
	all := make([]uint, 0, len(targets)+bits.OnesCount64(mask))
	for _, t := range targets {
		all = append(all, uint(t))
	}
	for m := mask; m != 0; m &= m - 1 {
		all = append(all, uint(bits.TrailingZeros64(m)))
	}
	slices.Sort(all)
	k := len(targets)
	offs := make([]uint64, 1<<uint(k))
	for j := range offs {
		var o uint64
		for b, t := range targets {
			if j>>uint(b)&1 == 1 {
				o |= 1 << uint(t)
			}
		}
		offs[j] = o
	}
	run := 1 << 62
	if len(all) > 0 {
		run = 1 << all[0]
	}
	return gateShape{ex: expander{all}, val: val, offsets: offs, groups: 1 << uint(n-len(all)), run: run}
}

// applyDense applies a dense 2^k×2^k matrix (k = len(offsets) bits) to every
// group of the shape in the compressed range [lo,hi).
func applyDense[T amp](a []T, s *gateShape, m []T, lo, hi int) {
	if applyDenseSIMD(a, s, m, lo, hi) { // simd.go: vectorised across groups
		return
	}
	d := len(s.offsets)
	var in, out [1 << 6]T
	base := uint64(0)
	for r := lo; r < hi; r++ {
		if r == lo || r&(s.run-1) == 0 {
			base = s.ex.expand(uint64(r)) | s.val
		} else {
			base++
		}
		for j := 0; j < d; j++ {
			in[j] = a[base+s.offsets[j]]
		}
		for i := 0; i < d; i++ {
			row := m[i*d : i*d+d]
			var acc T
			for j, v := range in[:d] {
				acc += row[j] * v
			}
			out[i] = acc
		}
		for j := 0; j < d; j++ {
			a[base+s.offsets[j]] = out[j]
		}
	}
}

// apply1 applies a 2×2 matrix to target q of groups [lo,hi) with no controls:
// the hot path of unfused circuits, with contiguous inner runs.
func apply1[T amp](a []T, q uint, m *[4]T, lo, hi int) {
	if q == 0 {
		apply1Low(a[2*lo:2*hi], m)
		return
	}
	if apply1Blocks(a, q, m, lo, hi) { // simd.go: whole blocks per call
		return
	}
	s := 1 << q
	for r := lo; r < hi; {
		i0 := (r>>q)<<(q+1) | r&(s-1)
		n := min(hi-r, s-r&(s-1))
		apply1Run(a[i0:i0+n], a[i0+s:i0+s+n], m)
		r += n
	}
}

// apply1RunGeneric is the pure-Go loop of a 1-qubit gate over two runs of
// amplitudes: (x, y) ← (m0·x + m1·y, m2·x + m3·y).
func apply1RunGeneric[T amp](x, y []T, m *[4]T) {
	m0, m1, m2, m3 := m[0], m[1], m[2], m[3]
	y = y[:len(x)]
	for i, u := range x {
		v := y[i]
		x[i] = m0*u + m1*v
		y[i] = m2*u + m3*v
	}
}

// apply1LowGeneric is the pure-Go loop of a 1-qubit gate on qubit 0:
// consecutive pairs (a[2i], a[2i+1]).
func apply1LowGeneric[T amp](a []T, m *[4]T) {
	m0, m1, m2, m3 := m[0], m[1], m[2], m[3]
	for i := 0; i+1 < len(a); i += 2 {
		u, v := a[i], a[i+1]
		a[i] = m0*u + m1*v
		a[i+1] = m2*u + m3*v
	}
}

// applyDense1 is applyDense for one target with controls, over runs of
// consecutive groups through the 1-qubit run kernel.
func applyDense1[T amp](a []T, s *gateShape, m *[4]T, lo, hi int) {
	o1 := s.offsets[1]
	for r := lo; r < hi; {
		base := s.ex.expand(uint64(r)) | s.val
		n := uint64(min(hi-r, s.run-r&(s.run-1)))
		apply1Run(a[base:base+n], a[base+o1:base+o1+n], m)
		r += int(n)
	}
}

// lowBlockBits is the number of lowest qubits a controlled one-target
// gate handles inside blocks of 2^lowBlockBits consecutive amplitudes
// (applyPairs) when its target or a control is among them; lowBlockMask
// selects those qubits.
const (
	lowBlockBits = 4
	lowBlockMask = 1<<lowBlockBits - 1
)

// newBlockShape splits a one-target gate (target t, control mask and
// values) at lowBlockBits: the returned shape enumerates the blocks of
// 2^lowBlockBits consecutive amplitudes whose high controls hold (in
// units of blocks; with t ≥ lowBlockBits, the first block of each pair
// of blocks 2^t apart), and pairs lists the (i, j) offsets from a block's
// first amplitude of the amplitude pairs the gate mixes: those of the
// block whose low controls hold.
func newBlockShape(n, t int, mask, val uint64) (gateShape, []uint64) {
	var targets []int
	if t >= lowBlockBits {
		targets = []int{t - lowBlockBits}
	}
	sh := newShape(n-lowBlockBits, targets, mask>>lowBlockBits, val>>lowBlockBits)
	lm, lv := mask&lowBlockMask, val&lowBlockMask
	span := uint64(1) << uint(t)
	var pairs []uint64
	for j := uint64(0); j < 1<<lowBlockBits; j++ {
		if j&lm != lv || (t < lowBlockBits && j&span != 0) {
			continue
		}
		pairs = append(pairs, j, j+span)
	}
	return sh, pairs
}

// applyPairs applies the 2×2 matrix m to the amplitude pairs of every
// block of the shape in the compressed range [lo,hi) (see newBlockShape);
// far is the distance of a block's partner block (0 when the target is
// inside the block).
//
// It also reads one amplitude of every cache line of each block (and of
// its partner), whether or not the gate touches that line, and returns
// their sum for the caller to keep alive: when the low controls leave
// gaps, these reads keep the accesses sequential, and the hardware
// prefetchers streaming (2.6–3.4 ms → 1.0–1.2 ms for a controlled X on a
// 21-qubit complex128 state with controls on qubits 2 and 3).
func applyPairs[T amp](a []T, s *gateShape, pairs []uint64, far uint64, m *[4]T, lo, hi int) (touched T) {
	m0, m1, m2, m3 := m[0], m[1], m[2], m[3]
	swap := m0 == 0 && m3 == 0 && m1 == 1 && m2 == 1 // X: move, no arithmetic
	for r := lo; r < hi; r++ {
		base := (s.ex.expand(uint64(r)) | s.val) << lowBlockBits
		touched += a[base] + a[base+4] + a[base+8] + a[base+12]
		if far != 0 {
			touched += a[base+far] + a[base+far+4] + a[base+far+8] + a[base+far+12]
		}
		if swap {
			for k := 0; k+1 < len(pairs); k += 2 {
				i, j := base+pairs[k], base+pairs[k+1]
				a[i], a[j] = a[j], a[i]
			}
			continue
		}
		for k := 0; k+1 < len(pairs); k += 2 {
			i, j := base+pairs[k], base+pairs[k+1]
			u, v := a[i], a[j]
			a[i] = m0*u + m1*v
			a[j] = m2*u + m3*v
		}
	}
	return touched
}

// applyDense2 is applyDense for two targets, over runs of consecutive
// groups with the matrix held in locals.
func applyDense2[T amp](a []T, s *gateShape, m []T, lo, hi int) {
	if applyDenseSIMD(a, s, m, lo, hi) { // simd.go: vectorised across groups
		return
	}
	o1, o2, o3 := s.offsets[1], s.offsets[2], s.offsets[3]
	m0, m1, m2, m3 := m[0], m[1], m[2], m[3]
	m4, m5, m6, m7 := m[4], m[5], m[6], m[7]
	m8, m9, m10, m11 := m[8], m[9], m[10], m[11]
	m12, m13, m14, m15 := m[12], m[13], m[14], m[15]
	for r := lo; r < hi; {
		base := s.ex.expand(uint64(r)) | s.val
		n := min(hi-r, s.run-r&(s.run-1))
		x0 := a[base : base+uint64(n)]
		x1 := a[base+o1 : base+o1+uint64(n)]
		x2 := a[base+o2 : base+o2+uint64(n)]
		x3 := a[base+o3 : base+o3+uint64(n)]
		x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
		for j := range x0 {
			v0, v1, v2, v3 := x0[j], x1[j], x2[j], x3[j]
			x0[j] = m0*v0 + m1*v1 + m2*v2 + m3*v3
			x1[j] = m4*v0 + m5*v1 + m6*v2 + m7*v3
			x2[j] = m8*v0 + m9*v1 + m10*v2 + m11*v3
			x3[j] = m12*v0 + m13*v1 + m14*v2 + m15*v3
		}
		r += n
	}
}

// diagGate is a diagonal gate planned once for applyDiagGroups: the
// offsets in a group of its factors other than 1, those factors, and the
// assembly kernels' plan for them (built when the shape's runs are long
// enough for the kernels), so that applying it allocates nothing.
type diagGate[T amp] struct {
	offs []uint64
	fac  []T
	p    diagPlan
}

// newDiagGate plans the diagonal d on the groups of shape s.
func newDiagGate[T amp](s *gateShape, d []T) *diagGate[T] {
	g := &diagGate[T]{}
	for j, v := range d {
		if v != 1 {
			g.offs = append(g.offs, s.offsets[j])
			g.fac = append(g.fac, v)
		}
	}
	if s.run >= 4 && len(g.offs) > 0 {
		g.p = newDiagPlan(g.offs, g.fac) // the assembly kernels, on runs of 4 or more
	}
	return g
}

// applyDiagGroups multiplies the amplitudes of each group of the shape by
// the diagonal planned in g, skipping entries equal to 1 (so a cz touches
// a quarter of the state), for groups [lo,hi).
func applyDiagGroups[T amp](a []T, s *gateShape, g *diagGate[T], lo, hi int) {
	if len(g.offs) == 0 {
		return
	}
	for r := lo; r < hi; {
		base := s.ex.expand(uint64(r)) | s.val
		n := uint64(min(hi-r, s.run-r&(s.run-1)))
		if s.run >= 4 && diagRuns(a, &g.p, base, n) {
			r += int(n)
			continue
		}
		for j, o := range g.offs {
			x := a[base+o : base+o+n]
			f := g.fac[j]
			for i := range x {
				x[i] *= f
			}
		}
		r += int(n)
	}
}

// applySwap exchanges the amplitudes at offsets o1 and o2 of each group
// [lo,hi) of a 2-target shape: a SWAP moves memory and does no arithmetic.
func applySwap[T amp](a []T, s *gateShape, o1, o2 uint64, lo, hi int) {
	for r := lo; r < hi; {
		base := s.ex.expand(uint64(r)) | s.val
		n := uint64(min(hi-r, s.run-r&(s.run-1)))
		x, y := a[base+o1:base+o1+n], a[base+o2:base+o2+n]
		for i := range x {
			x[i], y[i] = y[i], x[i]
		}
		r += int(n)
	}
}
