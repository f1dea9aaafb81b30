package accel

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/prismai/mec/backend"
)

// WG is MEC_WG in kernels/compat.h: the work-group (block) size of the
// grid-stride reductions and the group-wise kernels.
const WG = 256

// ReduceGroups is the number of work-groups of a grid-stride reduction
// over n values.
func ReduceGroups(n int) int { return max(1, min(n/(WG*8), 512)) }

// SumPartials adds the per-group partials p (groups × per values, group
// major) entry by entry, in group order.
func SumPartials(p []float64, groups, per int) []float64 {
	sums := make([]float64, per)
	for g := 0; g < groups; g++ {
		for j := range sums {
			sums[j] += p[g*per+j]
		}
	}
	return sums
}

// Pack packs qubit indices six bits each, as the kernels unpack them.
func Pack(qs []int) uint64 {
	var p uint64
	for j, q := range qs {
		p |= uint64(q) << (6 * uint(j))
	}
	return p
}

// Marginal is the geometry of the marginal-probability kernel over a state
// of length amplitudes: one item per (outcome, chunk) of the other qubits'
// indices.
type Marginal struct {
	K        int    // qubits
	Outcomes int    // 2^K
	Rest     uint64 // amplitudes per outcome
	Chunks   uint64 // chunks per outcome
	Clen     uint64 // amplitudes per chunk
	Total    uint64 // items: Outcomes × Chunks
	Sorted   []int  // the qubits, ascending
}

// NewMarginal plans the marginal of qubits (at most 10 of them) over a
// state of length amplitudes.
func NewMarginal(length int, qubits []int) Marginal {
	k := len(qubits)
	outcomes := 1 << uint(k)
	rest := uint64(length) >> uint(k)
	chunks := uint64(max(1, min(int(rest), 8192/outcomes)))
	sorted := slices.Clone(qubits)
	slices.Sort(sorted)
	return Marginal{
		K: k, Outcomes: outcomes, Rest: rest, Chunks: chunks,
		Clen: (rest + chunks - 1) / chunks, Total: uint64(outcomes) * chunks, Sorted: sorted,
	}
}

// Sum adds each outcome's chunk partials p, in chunk order, into dst.
func (m Marginal) Sum(p, dst []float64) {
	for o := range dst {
		var t float64
		for c := uint64(0); c < m.Chunks; c++ {
			t += p[uint64(o)*m.Chunks+c]
		}
		dst[o] = t
	}
}

// SampleBlock is the block length of the sampling reduction.
const SampleBlock = 1024

// SampleBlocks is the block geometry of sampling a state of length
// amplitudes: blocks of blen amplitudes.
func SampleBlocks(length int) (blen, blocks int) {
	blen = min(length, SampleBlock)
	return blen, length / blen
}

// BlockSampler maps variates to outcomes by inverse CDF over |ψ|², given
// the block sums of |ψ|²: Block finds a variate's block on the host, and
// Pick the outcome within the block's amplitudes (read back by the
// caller). It matches backend.SampleHost.
type BlockSampler struct {
	bs, cum   []float64
	total     float64
	blen      int
	lastBlock int
}

// NewBlockSampler takes the block sums bs of blocks of blen amplitudes.
func NewBlockSampler(bs []float64, blen int) (*BlockSampler, error) {
	blocks := len(bs)
	cum := make([]float64, blocks+1)
	for i, v := range bs {
		cum[i+1] = cum[i] + v
	}
	total := cum[blocks]
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("cannot sample a state of norm² %v", total)
	}
	lastBlock := blocks - 1
	for lastBlock > 0 && bs[lastBlock] == 0 {
		lastBlock--
	}
	return &BlockSampler{bs: bs, cum: cum, total: total, blen: blen, lastBlock: lastBlock}, nil
}

// CheckVariate reports a variate outside [0,1).
func CheckVariate(x float64) error {
	if !(x >= 0 && x < 1) {
		return fmt.Errorf("variate %v outside [0,1)", x)
	}
	return nil
}

// Block returns the block variate x falls in (a block of nonzero sum) and
// its target x·Σ|ψ|².
func (s *BlockSampler) Block(x float64) (blk int, t float64) {
	t = x * s.total
	blk, _ = slices.BinarySearchFunc(s.cum[1:], t, func(c, t float64) int {
		if c <= t {
			return -1
		}
		return 1
	})
	blk = min(blk, s.lastBlock)
	for blk > 0 && s.bs[blk] == 0 {
		blk--
	}
	return blk, t
}

// Pick returns the outcome of target t in block blk, whose amplitudes are
// amps.
func (s *BlockSampler) Pick(blk int, t float64, amps []complex128) uint64 {
	run, pick := s.cum[blk], -1
	for j, a := range amps {
		p := real(a)*real(a) + imag(a)*imag(a)
		if p == 0 {
			continue
		}
		pick = j
		run += p
		if run > t {
			break
		}
	}
	return uint64(blk*s.blen + max(pick, 0))
}

// HostAmps returns a pointer to a in precision p's device layout: a itself
// for Complex128, else a complex64 copy (which the pointer keeps alive).
func HostAmps(p backend.Precision, a []complex128) unsafe.Pointer {
	if p == backend.Complex128 {
		return unsafe.Pointer(&a[0])
	}
	c := make([]complex64, len(a))
	for i, v := range a {
		c[i] = complex64(v)
	}
	return unsafe.Pointer(&c[0])
}

// Widen copies single-precision amplitudes read back into dst.
func Widen(dst []complex128, c []complex64) {
	for i, v := range c {
		dst[i] = complex128(v)
	}
}

// SVRun is SV_RUN of kernels/statevector.cl for a precision: the pairs one
// work item of sv_apply1 handles (and the groups of sv_applyK_run), 16 for
// complex128 and 32 for complex64, where the lighter arithmetic per byte
// needs longer runs to keep up with memory. Launches cover 2^(n-1)/SVRun
// items exactly.
func SVRun(p backend.Precision) int {
	if p == backend.Complex64 {
		return 32
	}
	return 16
}

// Sample maps every variate of u to its outcome in out, reading each block
// the variates fall in once through read (amplitudes [off, off+len(dst))).
// Variates outside [0,1) are an error before anything is read.
func (s *BlockSampler) Sample(u []float64, out []uint64, read func(off int, dst []complex128) error) error {
	for _, x := range u {
		if err := CheckVariate(x); err != nil {
			return err
		}
	}
	cache := map[int][]complex128{}
	for i, x := range u {
		blk, t := s.Block(x)
		amps, ok := cache[blk]
		if !ok {
			amps = make([]complex128, s.blen)
			if err := read(blk*s.blen, amps); err != nil {
				return err
			}
			cache[blk] = amps
		}
		out[i] = s.Pick(blk, t, amps)
	}
	return nil
}
