package cpu

import (
	"math/bits"
)

// monomialLocal is the number of amplitudes (a power of two) a monomial
// gate works on at a time: its chunks of consecutive amplitudes, one per
// value of the targets above the chunk, copied to a buffer that stays in
// the first cache levels.
const monomialLocal = 1 << 11

// monomialShape is the index structure of a monomial gate (one non-zero
// entry in each row and column of its matrix: a permutation of the basis
// states with phases, such as fused blocks of X, CX, CCX, SWAP and
// diagonal gates) on an n-qubit state.
//
// The state is cut into chunks of 2^cb consecutive amplitudes; the gate's
// targets below cb act inside a chunk, those at or above cb pair chunks
// 2^t apart. A super-group is the set of 2^nh chunks that differ only in
// the nh high targets: the gate maps each super-group onto itself. The
// outer shape enumerates the super-groups whose high controls hold (in
// units of chunks); src and ph hold, for each local index l = r·2^cb + i
// (chunk r of the super-group, amplitude i of the chunk), the local index
// of the amplitude that moves to l and its factor.
type monomialShape[T amp] struct {
	outer  gateShape
	cb     uint
	chunks []uint64 // start of chunk r from the super-group's first amplitude
	src    []int32  // len 2^(cb+nh)
	ph     []T      // nil when every factor is 1
	// move[r] says how chunk r is written: moveSame (it maps onto itself
	// unchanged: not read, not written), moveChunk+k (it is chunk k
	// unchanged: one copy), or moveGather (amplitude by amplitude).
	move []int
}

// Kinds of chunk of a monomial shape (monomialShape.move).
const (
	moveGather = -2
	moveSame   = -1
	moveChunk  = 0 // + the source chunk
)

// newMonomialShape prepares a monomial gate (targets, control mask and
// values, matrix m with col from circuit.MonomialColumns) for an n-qubit state.
func newMonomialShape[T amp](n int, targets []int, mask, val uint64, m []T, col []int) monomialShape[T] {
	// The largest chunk whose super-group fits monomialLocal.
	cb := uint(0)
	for c := uint(min(n, bits.TrailingZeros(monomialLocal))); ; c-- {
		nh := uint(0)
		for _, t := range targets {
			if uint(t) >= c {
				nh++
			}
		}
		if c+nh <= uint(bits.TrailingZeros(monomialLocal)) || c == 0 {
			cb = c
			break
		}
	}
	var high []int    // high targets, in units of chunks
	var highPos []int // their operand positions
	for j, t := range targets {
		if uint(t) >= cb {
			high = append(high, t-int(cb))
			highPos = append(highPos, j)
		}
	}
	lowMask := uint64(1)<<cb - 1
	outer := newShape(n-int(cb), high, mask>>cb, val>>cb)
	nh := len(high)
	chunks := make([]uint64, 1<<nh)
	for r := range chunks {
		chunks[r] = outer.offsets[r] << cb
	}
	size := 1 << (int(cb) + nh)
	src := make([]int32, size)
	var ph []T
	d := len(col)
	for l := range size {
		r, i := l>>cb, uint64(l)&lowMask
		src[l] = int32(l)
		if i&mask != val&lowMask&mask {
			continue // a low control does not hold: identity
		}
		// Matrix row of l: operand j is bit j of the row index.
		row := 0
		for j, t := range targets {
			if uint(t) < cb {
				row |= int(i>>uint(t)&1) << j
			}
		}
		for h, j := range highPos {
			row |= (r >> h & 1) << j
		}
		c := col[row]
		si, sr := i, r
		for j, t := range targets {
			bit := c >> j & 1
			if uint(t) < cb {
				si = si&^(1<<uint(t)) | uint64(bit)<<uint(t)
			}
		}
		for h, j := range highPos {
			sr = sr&^(1<<h) | (c>>j&1)<<h
		}
		src[l] = int32(sr<<cb | int(si))
		if f := m[row*d+c]; f != 1 {
			if ph == nil {
				ph = make([]T, size)
				for k := range ph {
					ph[k] = 1
				}
			}
			ph[l] = f
		}
	}
	c := 1 << cb
	move := make([]int, len(chunks))
	for r := range move {
		move[r] = moveGather
		first := int(src[r*c])
		if first%c != 0 {
			continue
		}
		plain := true
		for i := 0; i < c && plain; i++ {
			plain = int(src[r*c+i]) == first+i && (ph == nil || ph[r*c+i] == 1)
		}
		switch {
		case !plain:
		case first/c == r:
			move[r] = moveSame
		default:
			move[r] = moveChunk + first/c
		}
	}
	return monomialShape[T]{outer: outer, cb: cb, chunks: chunks, src: src, ph: ph, move: move}
}

// applyMonomial applies the gate of s to the super-groups [lo,hi): each
// super-group's chunks are copied to buf (len(s.src) amplitudes), then
// every amplitude is written from its source, times its factor — a whole
// chunk at once when it is another chunk unchanged, and not at all when it
// is itself unchanged (a controlled permutation leaves most chunks alone).
func applyMonomial[T amp](a []T, s *monomialShape[T], buf []T, lo, hi int) {
	c := 1 << s.cb
	buf = buf[:len(s.src)]
	for r := lo; r < hi; r++ {
		base := (s.outer.ex.expand(uint64(r)) | s.outer.val) << s.cb
		for k, o := range s.chunks {
			// A chunk that maps onto itself is no other's source.
			if s.move[k] != moveSame {
				copy(buf[k*c:(k+1)*c], a[base+o:base+o+uint64(c)])
			}
		}
		for k, o := range s.chunks {
			dst := a[base+o : base+o+uint64(c)]
			switch m := s.move[k]; {
			case m == moveSame:
				continue
			case m >= moveChunk:
				copy(dst, buf[(m-moveChunk)*c:(m-moveChunk+1)*c])
				continue
			}
			src := s.src[k*c : (k+1)*c]
			if s.ph == nil {
				for i, j := range src {
					dst[i] = buf[j]
				}
				continue
			}
			ph := s.ph[k*c : (k+1)*c]
			for i, j := range src {
				dst[i] = ph[i] * buf[j]
			}
		}
	}
}
