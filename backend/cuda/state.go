package cuda

import (
	"fmt"
	"slices"
	"strconv"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/circuit"
)

// The statevector kernels the backend launches (base names; the PTX entry
// is base + "_f32" or "_f64").
const (
	kApply1   = "sv_apply1"
	kDiag     = "sv_diag"
	kSwap     = "sv_swap"
	kNorm     = "sv_norm"
	kPauli    = "sv_pauli"
	kInner    = "sv_inner"
	kMarginal = "sv_marginal"
	kBlockSum = "sv_blocksum"
)

// family is the kernel family of the statevector kernels.
const family = "statevector"

// applyK is the dense kernel on k = 2..6 targets.
func applyK(k int) string { return "sv_apply" + strconv.Itoa(k) }

// signature gives a kernel the backend launches with its parameters as Go
// passes them, one letter each: p a device pointer, u a u64, i an i32, r a
// real (the state's precision). launch is checked against it, and the
// tests check it against the embedded PTX.
func signature(base string) (string, bool) {
	switch base {
	case kApply1:
		return "pirrrrrrrruu", true
	case applyK(2), applyK(3), applyK(4), applyK(5), applyK(6):
		return "ppuuuuu", true
	case kDiag:
		return "ppuiuuu", true
	case kSwap:
		return "puii", true
	case kNorm:
		return "pup", true
	case kPauli:
		return "puuup", true
	case kInner:
		return "ppup", true
	case kMarginal:
		return "puiuuuup", true
	case kBlockSum:
		return "puup", true
	// fft (kernels/fft.cl); its .u32 parameters are passed as int32 bits.
	case kFFTStage:
		return "pppiiiiir", true
	case kFFTChirpIn:
		return "pppuuui", true
	case kFFTPointwise:
		return "ppuu", true
	case kFFTChirpOut:
		return "pppuuuri", true
	// kuramoto (kernels/kuramoto.cl).
	case kKuPhasor:
		return "pippp", true
	case kKuDeriv:
		return "pppppipppriiirppppp", true
	// lif (kernels/lif.cl), launched in f64 only.
	case kLIFUpdate:
		return "pppppppppppppui", true
	case kLIFForce:
		return "pppppppiu", true
	case kLIFCount:
		return "pip", true
	case kLIFCompact:
		return "pipipp", true
	case kLIFDeliver:
		return "ppppppppppiippppui", true
	// fusion (kernels/fusion.cl).
	case kFold:
		return "puuuup", true
	case kKick:
		return "ppuup", true
	case kStats:
		return "pup", true
	}
	return "", false
}

// familyKernels lists, per kernel family, every kernel the backend
// launches (base names; each has a signature).
func familyKernels() map[string][]string {
	return map[string][]string{
		family:         {kApply1, applyK(2), applyK(3), applyK(4), applyK(5), applyK(6), kDiag, kSwap, kNorm, kPauli, kInner, kMarginal, kBlockSum},
		fftFamily:      {kFFTStage, kFFTChirpIn, kFFTPointwise, kFFTChirpOut},
		kuramotoFamily: {kKuPhasor, kKuDeriv},
		lifFamily:      {kLIFUpdate, kLIFForce, kLIFCount, kLIFCompact, kLIFDeliver},
		fusionFamily:   {kFold, kKick, kStats},
	}
}

// kernelSignatures lists every kernel the backend launches with its
// signature.
func kernelSignatures() map[string]string {
	m := map[string]string{}
	for _, base := range []string{kApply1, applyK(2), applyK(3), applyK(4), applyK(5), applyK(6), kDiag, kSwap, kNorm, kPauli, kInner, kMarginal, kBlockSum} {
		m[base], _ = signature(base)
	}
	return m
}

// checkArgs verifies args against the signature of kernel base in
// precision p (a programming error if it fails).
func checkArgs(base string, p backend.Precision, args []any) error {
	sig, ok := signature(base)
	if !ok {
		return fmt.Errorf("cuda: no signature for kernel %s", base)
	}
	if len(args) != len(sig) {
		return fmt.Errorf("cuda: %s takes %d arguments, got %d", base, len(sig), len(args))
	}
	for i, a := range args {
		var want bool
		switch sig[i] {
		case 'p':
			_, want = a.(dptr)
		case 'u':
			_, want = a.(uint64)
		case 'i':
			_, want = a.(int32)
		case 'r':
			if p == backend.Complex128 {
				_, want = a.(float64)
			} else {
				_, want = a.(float32)
			}
		}
		if !want {
			return fmt.Errorf("cuda: %s argument %d is %T, want kind %c", base, i, a, sig[i])
		}
	}
	return nil
}

// NewState allocates |0…0⟩ on n qubits in device memory, refusing before
// allocating what exceeds the device's memory or what is free of it.
func (b *Backend) NewState(n int, p backend.Precision) (backend.State, error) {
	if n < 0 || n > 40 {
		return nil, fmt.Errorf("cuda: %d qubits: want 0..40", n)
	}
	if p != backend.Complex128 && p != backend.Complex64 {
		return nil, fmt.Errorf("cuda: unknown precision %v", p)
	}
	size := backend.StateBytes(n, p)
	if uint64(size) > b.dev.TotalMem {
		return nil, fmt.Errorf("cuda: a %d-qubit %s state needs %.3g GiB; %s has %.3g GiB",
			n, p, float64(size)/(1<<30), b.dev.Name, float64(b.dev.TotalMem)/(1<<30))
	}
	s := &State{b: b, n: n, p: p}
	err := b.do(func() error {
		// Load the module first: its JIT errors are clearer here than at
		// the first gate.
		if _, err := b.function(family, p, kNorm); err != nil {
			return err
		}
		var free, total uintptr
		if err := b.l.check("cuMemGetInfo", b.l.MemGetInfo(&free, &total)); err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		if uint64(size) > uint64(free) {
			return fmt.Errorf("cuda: a %d-qubit %s state needs %.3g GiB; %s has %.3g GiB free of %.3g GiB",
				n, p, float64(size)/(1<<30), b.dev.Name, float64(free)/(1<<30), float64(total)/(1<<30))
		}
		m, err := b.alloc(uintptr(size))
		if err != nil {
			return err
		}
		if err := b.l.check("cuMemsetD8", b.l.MemsetD8(m, 0, uintptr(size))); err != nil {
			b.l.MemFree(m)
			return fmt.Errorf("cuda: %w", err)
		}
		one := s.hostAmps([]complex128{1})
		if err := b.write(m, 0, one, uintptr(p.AmpBytes())); err != nil {
			b.l.MemFree(m)
			return fmt.Errorf("cuda: %w", err)
		}
		s.buf = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// State is a state vector in CUDA device memory.
type State struct {
	b   *Backend
	n   int
	p   backend.Precision
	buf uint64 // device pointer; 0 after Free
}

// Qubits returns the number of qubits.
func (s *State) Qubits() int { return s.n }

// Precision returns c64 or c128.
func (s *State) Precision() backend.Precision { return s.p }

func (s *State) len() int { return 1 << uint(s.n) }

func (s *State) bytes() uintptr { return uintptr(backend.StateBytes(s.n, s.p)) }

// alive reports use after Free. Worker only (buf is set and cleared there).
func (s *State) alive() error {
	if s.buf == 0 {
		return fmt.Errorf("cuda: state used after Free")
	}
	return nil
}

// hostAmps converts a to the state's precision and returns a pointer to it.
func (s *State) hostAmps(a []complex128) unsafe.Pointer { return accel.HostAmps(s.p, a) }

// Load replaces the amplitudes with host values.
func (s *State) Load(a []complex128) error {
	if len(a) != s.len() {
		return fmt.Errorf("cuda: Load of %d amplitudes into a %d-qubit state (%d)", len(a), s.n, s.len())
	}
	if err := backend.CheckAmplitudes(a); err != nil {
		return fmt.Errorf("cuda: Load: %w", err)
	}
	host := s.hostAmps(a)
	return s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		if err := s.b.write(s.buf, 0, host, s.bytes()); err != nil {
			return fmt.Errorf("cuda: Load: %w", err)
		}
		return nil
	})
}

// Read copies the amplitudes to the host.
func (s *State) Read(dst []complex128) error {
	if len(dst) != s.len() {
		return fmt.Errorf("cuda: Read of a %d-qubit state into %d amplitudes", s.n, len(dst))
	}
	return s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		return s.readRange(0, dst)
	})
}

// readRange reads amplitudes [off, off+len(dst)). Worker only.
func (s *State) readRange(off int, dst []complex128) error {
	ab := uintptr(s.p.AmpBytes())
	if s.p == backend.Complex128 {
		if err := s.b.read(s.buf, uintptr(off)*ab, unsafe.Pointer(&dst[0]), uintptr(len(dst))*ab); err != nil {
			return fmt.Errorf("cuda: reading the state: %w", err)
		}
		return nil
	}
	c := make([]complex64, len(dst))
	if err := s.b.read(s.buf, uintptr(off)*ab, unsafe.Pointer(&c[0]), uintptr(len(c))*ab); err != nil {
		return fmt.Errorf("cuda: reading the state: %w", err)
	}
	accel.Widen(dst, c)
	return nil
}

// Sync waits until every operation issued on the device has finished and
// returns the first error any of them hit.
func (s *State) Sync() error {
	return s.b.do(func() error {
		l := s.b.l
		if err := l.check("cuStreamSynchronize", l.StreamSynchronize(s.b.stream)); err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		if err := l.check("cuCtxSynchronize", l.CtxSynchronize()); err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		return nil
	})
}

// Free releases the device memory (after the work queued on it).
func (s *State) Free() error {
	return s.b.do(func() error {
		if s.buf == 0 {
			return nil
		}
		err := s.b.free(s.buf)
		s.buf = 0
		if err != nil {
			return fmt.Errorf("cuda: Free: %w", err)
		}
		return nil
	})
}

// Clone copies the state on the device.
func (s *State) Clone() (backend.State, error) {
	c := &State{b: s.b, n: s.n, p: s.p}
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		m, err := s.b.alloc(s.bytes())
		if err != nil {
			return err
		}
		if err := s.b.l.check("cuMemcpyDtoD", s.b.l.MemcpyDtoD(m, s.buf, s.bytes())); err != nil {
			s.b.l.MemFree(m)
			return fmt.Errorf("cuda: Clone: %w", err)
		}
		c.buf = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// kernel returns the statevector kernel base in the state's precision.
// Worker only.
func (s *State) kernel(base string) (*function, error) {
	return s.b.function(family, s.p, base)
}

// run launches kernel base over grid blocks of block threads after
// checking args against its signature. Worker only.
func (s *State) run(base string, grid, block uint64, args ...any) error {
	if err := checkArgs(base, s.p, args); err != nil {
		return err
	}
	fn, err := s.kernel(base)
	if err != nil {
		return err
	}
	return s.b.launch(fn, grid, block, args...)
}

// runExact launches kernel base over exactly items threads (a power of
// two): blocks of up to gateBlock threads, halved until they divide items.
// Worker only.
func (s *State) runExact(base string, items uint64, args ...any) error {
	fn, err := s.kernel(base)
	if err != nil {
		return err
	}
	block := blockFor(fn)
	for block > 1 && items%block != 0 {
		block /= 2
	}
	return s.run(base, items/block, block, args...)
}

// runCover launches kernel base over at least items threads, in blocks of
// up to gateBlock (the kernel ignores the excess). Worker only.
func (s *State) runCover(base string, items uint64, args ...any) error {
	fn, err := s.kernel(base)
	if err != nil {
		return err
	}
	block := blockFor(fn)
	return s.run(base, (items+block-1)/block, block, args...)
}

// gateBlock is the block size of gate kernels.
const gateBlock = 256

// blockFor is gateBlock, or the largest power of two fn can launch with
// when that is smaller.
func blockFor(fn *function) uint64 {
	b := uint64(gateBlock)
	for b > 1 && b > uint64(fn.maxThreads) {
		b /= 2
	}
	return b
}

// real returns x as the kernel's real type.
func (s *State) real(x float64) any {
	if s.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// Apply applies a lowered gate on the device.
func (s *State) Apply(g *circuit.Gate) error {
	if err := backend.CheckGate(s.n, g); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	mask, val := g.CtrlMasks()
	k := len(g.Targets)
	n := uint64(s.len())
	var mhost unsafe.Pointer
	if g.Diagonal || k >= 2 {
		mhost = s.hostAmps(g.Matrix)
	}
	return s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		switch {
		case g.Diagonal:
			m, err := s.matrix(mhost, len(g.Matrix))
			if err != nil {
				return err
			}
			return s.runExact(kDiag, n, dptr(s.buf), dptr(m), n, int32(k), accel.Pack(g.Targets), mask, val)
		case k == 2 && mask == 0 && circuit.IsSwap(g):
			q1, q2 := min(g.Targets[0], g.Targets[1]), max(g.Targets[0], g.Targets[1])
			return s.runExact(kSwap, n/4, dptr(s.buf), n/4, int32(q1), int32(q2))
		case k == 1:
			run := uint64(accel.SVRun(s.p))
			if n/2 < run {
				// Too few pairs for one run: the host does it on a readout.
				return s.applyHost(g)
			}
			m := g.Matrix
			// sv_apply1 must cover the 2^(n-1)/SV_RUN runs exactly.
			return s.runExact(kApply1, n/2/run, dptr(s.buf), int32(g.Targets[0]),
				s.real(real(m[0])), s.real(imag(m[0])), s.real(real(m[1])), s.real(imag(m[1])),
				s.real(real(m[2])), s.real(imag(m[2])), s.real(real(m[3])), s.real(imag(m[3])), mask, val)
		default:
			m, err := s.matrix(mhost, len(g.Matrix))
			if err != nil {
				return err
			}
			sorted := slices.Clone(g.Targets)
			slices.Sort(sorted)
			groups := n >> uint(k)
			return s.runExact(applyK(k), groups, dptr(s.buf), dptr(m), groups, accel.Pack(g.Targets), accel.Pack(sorted), mask, val)
		}
	})
}

// applyHost applies g to a state too small for the device kernels'
// granularity: a readout, the host reference, an upload. Worker only.
func (s *State) applyHost(g *circuit.Gate) error {
	a := make([]complex128, s.len())
	if err := s.readRange(0, a); err != nil {
		return err
	}
	circuit.ApplyToVector(a, g)
	if err := s.b.write(s.buf, 0, s.hostAmps(a), s.bytes()); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

// matrix uploads count host amplitudes (a gate matrix, already in the
// state's precision) into the scratch buffer. The copy is ordered after
// the kernels launched before it (see write), so it cannot overwrite a
// matrix a queued kernel still reads. Worker only.
func (s *State) matrix(host unsafe.Pointer, count int) (uint64, error) {
	size := uintptr(count) * uintptr(s.p.AmpBytes())
	buf, err := s.b.scratchBuf(size)
	if err != nil {
		return 0, err
	}
	if err := s.b.write(buf, 0, host, size); err != nil {
		return 0, fmt.Errorf("cuda: uploading a gate matrix: %w", err)
	}
	return buf, nil
}

// wg is MEC_WG in kernels/compat.h: the block size of reductions.
const wg = accel.WG

// reduceGroups is the number of blocks of a grid-stride reduction.
func reduceGroups(n int) int { return accel.ReduceGroups(n) }

// partials reads count double partials from the scratch buffer (every CUDA
// build accumulates in double). Worker only.
func (s *State) partials(buf uint64, count int) ([]float64, error) {
	out := make([]float64, count)
	if err := s.b.read(buf, 0, unsafe.Pointer(&out[0]), uintptr(count)*8); err != nil {
		return nil, fmt.Errorf("cuda: reading partial sums: %w", err)
	}
	return out, nil
}

// reduce runs a grid-stride reduction kernel, whole blocks of wg threads,
// writing per values per block after the arguments args, and returns the
// per-entry sums, added in block order. Worker only.
func (s *State) reduce(name string, per int, args ...any) ([]float64, error) {
	fn, err := s.kernel(name)
	if err != nil {
		return nil, err
	}
	if fn.maxThreads < wg {
		return nil, fmt.Errorf("cuda: %s allows blocks of %d threads; reductions need %d", fn.name, fn.maxThreads, wg)
	}
	groups := reduceGroups(s.len())
	buf, err := s.b.scratchBuf(uintptr(groups*per) * 8)
	if err != nil {
		return nil, err
	}
	if err := s.run(name, uint64(groups), wg, append(args, dptr(buf))...); err != nil {
		return nil, err
	}
	p, err := s.partials(buf, groups*per)
	if err != nil {
		return nil, err
	}
	return accel.SumPartials(p, groups, per), nil
}

// Norm returns Σ|a_i|², reduced on the device.
func (s *State) Norm() (float64, error) {
	var r []float64
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		var err error
		r, err = s.reduce(kNorm, 1, dptr(s.buf), uint64(s.len()))
		return err
	})
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// ExpectPauli returns ⟨ψ|P|ψ⟩ for one Pauli string, reduced on the device.
func (s *State) ExpectPauli(m circuit.PauliMasks) (float64, error) {
	var r []float64
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		var err error
		r, err = s.reduce(kPauli, 2, dptr(s.buf), uint64(s.len()), m.X, m.Z)
		return err
	})
	if err != nil {
		return 0, err
	}
	return real(complex(r[0], r[1]) * m.Phase), nil
}

// Inner returns ⟨s|other⟩ when other is a state of the same backend and
// precision (handled = false otherwise, for the host fallback).
func (s *State) Inner(other backend.State) (complex128, bool, error) {
	o, ok := other.(*State)
	if !ok || o.b != s.b || o.p != s.p || o.n != s.n {
		return 0, false, nil
	}
	var r []float64
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		if err := o.alive(); err != nil {
			return err
		}
		var err error
		r, err = s.reduce(kInner, 2, dptr(s.buf), dptr(o.buf), uint64(s.len()))
		return err
	})
	if err != nil {
		return 0, true, err
	}
	return complex(r[0], r[1]), true, nil
}

// Probabilities computes the marginal distribution of qubits on the
// device: one thread per (outcome, chunk), partials added on the host in
// chunk order.
func (s *State) Probabilities(qubits []int, dst []float64) error {
	k := len(qubits)
	if len(dst) != 1<<uint(k) {
		return fmt.Errorf("cuda: %d probabilities for %d qubits", len(dst), k)
	}
	if k > 10 {
		// Wide marginals: one readout is cheaper than 2^k outcome threads.
		a := make([]complex128, s.len())
		if err := s.Read(a); err != nil {
			return err
		}
		backend.MarginalProbabilities(a, qubits, dst)
		return nil
	}
	mg := accel.NewMarginal(s.len(), qubits)
	var p []float64
	err := s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		buf, err := s.b.scratchBuf(uintptr(mg.Total) * 8)
		if err != nil {
			return err
		}
		if err := s.runCover(kMarginal, mg.Total, dptr(s.buf), mg.Rest, int32(k), accel.Pack(qubits), accel.Pack(mg.Sorted), mg.Chunks, mg.Clen, dptr(buf)); err != nil {
			return err
		}
		p, err = s.partials(buf, int(mg.Total))
		return err
	})
	if err != nil {
		return err
	}
	mg.Sum(p, dst)
	return nil
}

// SampleUniform maps each variate u to an outcome by inverse CDF over |ψ|²:
// block sums on the device, the variate's block found on the host, and
// only the blocks variates fall in read back.
func (s *State) SampleUniform(u []float64, out []uint64) error {
	if len(u) != len(out) {
		return fmt.Errorf("cuda: %d variates but %d outputs", len(u), len(out))
	}
	for _, x := range u {
		if err := accel.CheckVariate(x); err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
	}
	return s.b.do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		return s.sample(u, out)
	})
}

// sample is SampleUniform on the worker.
func (s *State) sample(u []float64, out []uint64) error {
	blen, blocks := accel.SampleBlocks(s.len())
	buf, err := s.b.scratchBuf(uintptr(blocks) * 8)
	if err != nil {
		return err
	}
	if err := s.runCover(kBlockSum, uint64(blocks), dptr(s.buf), uint64(blocks), uint64(blen), dptr(buf)); err != nil {
		return err
	}
	bs, err := s.partials(buf, blocks)
	if err != nil {
		return err
	}
	sm, err := accel.NewBlockSampler(bs, blen)
	if err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return sm.Sample(u, out, s.readRange)
}

var (
	_ backend.StateVector       = (*Backend)(nil)
	_ backend.Normer            = (*State)(nil)
	_ backend.PauliExpecter     = (*State)(nil)
	_ backend.InnerProducter    = (*State)(nil)
	_ backend.ProbabilityReader = (*State)(nil)
	_ backend.Sampler           = (*State)(nil)
	_ backend.Cloner            = (*State)(nil)
	_ backend.Syncer            = (*State)(nil)
)
