package accel

import (
	"fmt"
	"slices"
	"strconv"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// The statevector kernels (kernels/statevector.cl; base names, the entry
// is base + "_f32" or "_f64").
const (
	SVFamily   = "statevector"
	KApply1    = "sv_apply1"
	KDiag      = "sv_diag"
	KSwap      = "sv_swap"
	KNorm      = "sv_norm"
	KPauli     = "sv_pauli"
	KInner     = "sv_inner"
	KMarginal  = "sv_marginal"
	KBlockSum  = "sv_blocksum"
	maxQubits  = 40
	wideMargin = 10 // marginals on more qubits read the state back instead
)

// KApply is the dense kernel on k = 2..6 targets.
func KApply(k int) string { return "sv_apply" + strconv.Itoa(k) }

// KApplyRun is the vectorised dense kernel on k = 2..4 targets (see
// Device.RunKernels).
func KApplyRun(k int) string { return KApply(k) + "_run" }

// Vector is a state vector in device memory, for any Device: the State of
// the accelerator backends, with the reductions, marginals, sampling and
// fusion coupling on the device.
type Vector[M Handle] struct {
	d   Device[M]
	n   int
	p   backend.Precision
	buf M // zero after Free
}

// NewVector allocates |0…0⟩ on n qubits (0..40) in precision p on d. The
// caller has refused what exceeds the device; fits, when not nil, is
// called inside Do before the allocation with the state's size (the CUDA
// backend checks the free memory there).
func NewVector[M Handle](d Device[M], n int, p backend.Precision, fits func(size uintptr) error) (*Vector[M], error) {
	if n < 0 || n > maxQubits {
		return nil, fmt.Errorf("%s: %d qubits: want 0..%d", d.Name(), n, maxQubits)
	}
	if p != backend.Complex128 && p != backend.Complex64 {
		return nil, fmt.Errorf("%s: unknown precision %v", d.Name(), p)
	}
	s := &Vector[M]{d: d, n: n, p: p}
	size := s.bytes()
	err := d.Do(func() error {
		// Load the family first: its build (JIT) errors are clearer here
		// than at the first gate.
		if _, err := d.Kernel(SVFamily, p, KNorm); err != nil {
			return err
		}
		if fits != nil {
			if err := fits(size); err != nil {
				return err
			}
		}
		m, err := d.Alloc(size)
		if err != nil {
			return err
		}
		if err := d.Zero(m, size); err != nil {
			d.Free(m)
			return err
		}
		if err := d.Write(m, 0, HostAmps(p, []complex128{1}), uintptr(p.AmpBytes())); err != nil {
			d.Free(m)
			return err
		}
		s.buf = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Qubits returns the number of qubits.
func (s *Vector[M]) Qubits() int { return s.n }

// Precision returns c64 or c128.
func (s *Vector[M]) Precision() backend.Precision { return s.p }

func (s *Vector[M]) len() int { return 1 << uint(s.n) }

func (s *Vector[M]) bytes() uintptr { return uintptr(backend.StateBytes(s.n, s.p)) }

// errorf formats an error with the backend's prefix.
func (s *Vector[M]) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.Name()+": "+format, args...)
}

// alive reports use after Free. Inside Do.
func (s *Vector[M]) alive() error {
	if s.buf == 0 {
		return s.errorf("state used after Free")
	}
	return nil
}

// do runs f inside Do on a live state.
func (s *Vector[M]) do(f func() error) error {
	return s.d.Do(func() error {
		if err := s.alive(); err != nil {
			return err
		}
		return f()
	})
}

// Load replaces the amplitudes with host values.
func (s *Vector[M]) Load(a []complex128) error {
	if len(a) != s.len() {
		return s.errorf("Load of %d amplitudes into a %d-qubit state (%d)", len(a), s.n, s.len())
	}
	if err := backend.CheckAmplitudes(a); err != nil {
		return s.errorf("Load: %w", err)
	}
	host := HostAmps(s.p, a)
	return s.do(func() error {
		if err := s.d.Write(s.buf, 0, host, s.bytes()); err != nil {
			return s.errorf("Load: %w", err)
		}
		return nil
	})
}

// Read copies the amplitudes to the host.
func (s *Vector[M]) Read(dst []complex128) error {
	if len(dst) != s.len() {
		return s.errorf("Read of a %d-qubit state into %d amplitudes", s.n, len(dst))
	}
	return s.do(func() error { return s.readRange(0, dst) })
}

// readRange reads amplitudes [off, off+len(dst)). Inside Do.
func (s *Vector[M]) readRange(off int, dst []complex128) error {
	return ReadAmps(s.d, s.p, s.buf, off, dst)
}

// ReadAmps reads amplitudes [off, off+len(dst)) of precision p from buf
// on d.
// Inside Do.
func ReadAmps[M Handle](d Device[M], p backend.Precision, buf M, off int, dst []complex128) error {
	if len(dst) == 0 {
		return nil
	}
	ab := uintptr(p.AmpBytes())
	if p == backend.Complex128 {
		if err := d.Read(buf, uintptr(off)*ab, unsafe.Pointer(&dst[0]), uintptr(len(dst))*ab); err != nil {
			return fmt.Errorf("%s: reading amplitudes: %w", d.Name(), err)
		}
		return nil
	}
	c := make([]complex64, len(dst))
	if err := d.Read(buf, uintptr(off)*ab, unsafe.Pointer(&c[0]), uintptr(len(c))*ab); err != nil {
		return fmt.Errorf("%s: reading amplitudes: %w", d.Name(), err)
	}
	Widen(dst, c)
	return nil
}

// Sync waits until every operation queued on the device has finished and
// returns the first error any of them hit.
func (s *Vector[M]) Sync() error {
	return s.d.Do(func() error {
		if err := s.d.Sync(); err != nil {
			return s.errorf("%w", err)
		}
		return nil
	})
}

// Free releases the device memory (after the work queued on it).
func (s *Vector[M]) Free() error {
	return s.d.Do(func() error {
		if s.buf == 0 {
			return nil
		}
		err := s.d.Free(s.buf)
		s.buf = 0
		if err != nil {
			return s.errorf("Free: %w", err)
		}
		return nil
	})
}

// Clone copies the state on the device.
func (s *Vector[M]) Clone() (backend.State, error) {
	c := &Vector[M]{d: s.d, n: s.n, p: s.p}
	err := s.do(func() error {
		m, err := s.d.Alloc(s.bytes())
		if err != nil {
			return err
		}
		if err := s.d.Copy(m, s.buf, s.bytes()); err != nil {
			s.d.Free(m)
			return s.errorf("Clone: %w", err)
		}
		c.buf = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// run launches statevector kernel base. Inside Do.
func (s *Vector[M]) run(base string, sh Shape, items uint64, args ...any) error {
	return launch(s.d, SVFamily, s.p, base, sh, items, args...)
}

// real returns x as the kernel's real type.
func (s *Vector[M]) real(x float64) any {
	if s.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// ptr is the state's buffer as a kernel argument.
func (s *Vector[M]) ptr() Ptr[M] { return Ptr[M]{s.buf} }

// Apply applies a lowered gate on the device.
func (s *Vector[M]) Apply(g *circuit.Gate) error {
	if err := backend.CheckGate(s.n, g); err != nil {
		return s.errorf("%w", err)
	}
	mask, val := g.CtrlMasks()
	k := len(g.Targets)
	n := uint64(s.len())
	var mhost unsafe.Pointer
	if g.Diagonal || k >= 2 {
		mhost = HostAmps(s.p, g.Matrix)
	}
	return s.do(func() error {
		switch {
		case g.Diagonal:
			m, err := s.matrix(mhost, len(g.Matrix))
			if err != nil {
				return err
			}
			return s.run(KDiag, Exact, n, s.ptr(), Ptr[M]{m}, n, int32(k), Pack(g.Targets), mask, val)
		case k == 2 && mask == 0 && circuit.IsSwap(g):
			q1, q2 := min(g.Targets[0], g.Targets[1]), max(g.Targets[0], g.Targets[1])
			return s.run(KSwap, Exact, n/4, s.ptr(), n/4, int32(q1), int32(q2))
		case k == 1:
			run := uint64(SVRun(s.p))
			if n/2 < run {
				// Too few pairs for one run: the host does it on a readout.
				return s.applyHost(g)
			}
			m := g.Matrix
			// sv_apply1 covers the 2^(n-1)/SV_RUN runs exactly.
			return s.run(KApply1, Exact, n/2/run, s.ptr(), int32(g.Targets[0]),
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
			if run := uint64(SVRun(s.p)); s.d.RunKernels() && k <= 4 && 1<<sorted[0] >= run && groups%run == 0 {
				return s.run(KApplyRun(k), Exact, groups/run, s.ptr(), Ptr[M]{m}, Pack(g.Targets), Pack(sorted), mask, val)
			}
			return s.run(KApply(k), Dense, groups, s.ptr(), Ptr[M]{m}, groups, Pack(g.Targets), Pack(sorted), mask, val)
		}
	})
}

// applyHost applies g to a state too small for the device kernels'
// granularity: a readout, the host reference, an upload. Inside Do.
func (s *Vector[M]) applyHost(g *circuit.Gate) error {
	a := make([]complex128, s.len())
	if err := s.readRange(0, a); err != nil {
		return err
	}
	circuit.ApplyToVector(a, g)
	if err := s.d.Write(s.buf, 0, HostAmps(s.p, a), s.bytes()); err != nil {
		return s.errorf("%w", err)
	}
	return nil
}

// matrix uploads count host amplitudes (a gate matrix, already in the
// state's precision) into the scratch buffer. The copy is ordered after
// the launches queued before it, so it cannot overwrite a matrix a queued
// kernel still reads. Inside Do.
func (s *Vector[M]) matrix(host unsafe.Pointer, count int) (M, error) {
	size := uintptr(count) * uintptr(s.p.AmpBytes())
	buf, err := s.d.Scratch(size)
	if err != nil {
		return 0, err
	}
	if err := s.d.Write(buf, 0, host, size); err != nil {
		return 0, s.errorf("uploading a gate matrix: %w", err)
	}
	return buf, nil
}

// reduce runs a grid-stride reduction kernel of family, whole groups of
// WG items, writing per values per group after the arguments args, and
// returns the per-entry sums, added in group order. Inside Do.
func (s *Vector[M]) reduce(family, base string, per int, args ...any) ([]float64, error) {
	groups := ReduceGroups(s.len())
	buf, err := s.d.Scratch(uintptr(groups*per) * accBytes(s.d))
	if err != nil {
		return nil, err
	}
	if err := launch(s.d, family, s.p, base, Groups, uint64(groups*WG), append(args, Ptr[M]{buf})...); err != nil {
		return nil, err
	}
	p, err := s.partials(buf, groups*per)
	if err != nil {
		return nil, err
	}
	return SumPartials(p, groups, per), nil
}

// partials reads count reduction partials from buf. Inside Do.
func (s *Vector[M]) partials(buf M, count int) ([]float64, error) {
	p, err := readPartials(s.d, buf, count)
	if err != nil {
		return nil, s.errorf("reading partial sums: %w", err)
	}
	return p, nil
}

// Norm returns Σ|a_i|², reduced on the device.
func (s *Vector[M]) Norm() (float64, error) {
	var r []float64
	err := s.do(func() error {
		var err error
		r, err = s.reduce(SVFamily, KNorm, 1, s.ptr(), uint64(s.len()))
		return err
	})
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// ExpectPauli returns ⟨ψ|P|ψ⟩ for one Pauli string, reduced on the device.
func (s *Vector[M]) ExpectPauli(m circuit.PauliMasks) (float64, error) {
	var r []float64
	err := s.do(func() error {
		var err error
		r, err = s.reduce(SVFamily, KPauli, 2, s.ptr(), uint64(s.len()), m.X, m.Z)
		return err
	})
	if err != nil {
		return 0, err
	}
	return real(complex(r[0], r[1]) * m.Phase), nil
}

// Inner returns ⟨s|other⟩ when other is a state of the same device and
// precision (handled = false otherwise, for the host fallback).
func (s *Vector[M]) Inner(other backend.State) (complex128, bool, error) {
	o, ok := other.(*Vector[M])
	if !ok || o.d != s.d || o.p != s.p || o.n != s.n {
		return 0, false, nil
	}
	var r []float64
	err := s.do(func() error {
		if err := o.alive(); err != nil {
			return err
		}
		var err error
		r, err = s.reduce(SVFamily, KInner, 2, s.ptr(), o.ptr(), uint64(s.len()))
		return err
	})
	if err != nil {
		return 0, true, err
	}
	return complex(r[0], r[1]), true, nil
}

// Probabilities computes the marginal distribution of qubits on the
// device: one work item per (outcome, chunk), partials added on the host
// in chunk order.
func (s *Vector[M]) Probabilities(qubits []int, dst []float64) error {
	k := len(qubits)
	if len(dst) != 1<<uint(k) {
		return s.errorf("%d probabilities for %d qubits", len(dst), k)
	}
	if k > wideMargin {
		// Wide marginals: one readout is cheaper than 2^k outcome items.
		a := make([]complex128, s.len())
		if err := s.Read(a); err != nil {
			return err
		}
		backend.MarginalProbabilities(a, qubits, dst)
		return nil
	}
	mg := NewMarginal(s.len(), qubits)
	var p []float64
	err := s.do(func() error {
		buf, err := s.d.Scratch(uintptr(mg.Total) * accBytes(s.d))
		if err != nil {
			return err
		}
		if err := s.run(KMarginal, Cover, mg.Total, s.ptr(), mg.Rest, int32(k), Pack(qubits), Pack(mg.Sorted), mg.Chunks, mg.Clen, Ptr[M]{buf}); err != nil {
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

// SampleUniform maps each variate u to an outcome by inverse CDF over
// |ψ|²: block sums on the device, the variate's block found on the host,
// and only the blocks variates fall in read back.
func (s *Vector[M]) SampleUniform(u []float64, out []uint64) error {
	if len(u) != len(out) {
		return s.errorf("%d variates but %d outputs", len(u), len(out))
	}
	for _, x := range u {
		if err := CheckVariate(x); err != nil {
			return s.errorf("%w", err)
		}
	}
	return s.do(func() error {
		blen, blocks := SampleBlocks(s.len())
		buf, err := s.d.Scratch(uintptr(blocks) * accBytes(s.d))
		if err != nil {
			return err
		}
		if err := s.run(KBlockSum, Cover, uint64(blocks), s.ptr(), uint64(blocks), uint64(blen), Ptr[M]{buf}); err != nil {
			return err
		}
		bs, err := s.partials(buf, blocks)
		if err != nil {
			return err
		}
		sm, err := NewBlockSampler(bs, blen)
		if err != nil {
			return s.errorf("%w", err)
		}
		if err := sm.Sample(u, out, s.readRange); err != nil {
			return s.errorf("%w", err)
		}
		return nil
	})
}

// The fusion family's kernels (kernels/fusion.cl).
const (
	FusionFamily = "fusion"
	KFold        = "fu_fold"
	KKick        = "fu_kick"
	KStats       = "fu_stats"
)

// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a, reduced on the device in
// chunks that the host adds in order.
func (s *Vector[M]) FoldN(n int) ([]complex128, error) {
	if err := backend.CheckFold(s.len(), n); err != nil {
		return nil, s.errorf("%w", err)
	}
	fd := NewFold(s.len(), n)
	var p []float64
	err := s.do(func() error {
		buf, err := s.d.Scratch(uintptr(2*fd.Items) * accBytes(s.d))
		if err != nil {
			return err
		}
		if err := launch(s.d, FusionFamily, s.p, KFold, Cover, fd.Items, s.ptr(), uint64(n), fd.Per, fd.Chunks, fd.Clen, Ptr[M]{buf}); err != nil {
			return err
		}
		p, err = s.partials(buf, int(2*fd.Items))
		return err
	})
	if err != nil {
		return nil, err
	}
	return fd.Sum(p), nil
}

// KickStrided adds v[k] to ψ_{k·stride} on the device and returns those
// amplitudes (the only ones copied back). v goes to the scratch buffer
// and the kernel writes its results over it (each item reads v[k] before
// writing out[k]), so a kick allocates nothing.
func (s *Vector[M]) KickStrided(stride int, v []complex128) ([]complex128, error) {
	if err := backend.CheckKick(s.len(), stride, v); err != nil {
		return nil, s.errorf("%w", err)
	}
	host := HostAmps(s.p, v)
	res := make([]complex128, len(v))
	err := s.do(func() error {
		size := uintptr(len(v)) * uintptr(s.p.AmpBytes())
		buf, err := s.d.Scratch(size)
		if err != nil {
			return err
		}
		if err := s.d.Write(buf, 0, host, size); err != nil {
			return s.errorf("kick upload: %w", err)
		}
		if err := launch(s.d, FusionFamily, s.p, KKick, Cover, uint64(len(v)), s.ptr(), Ptr[M]{buf}, uint64(stride), uint64(len(v)), Ptr[M]{buf}); err != nil {
			return err
		}
		if err := ReadAmps(s.d, s.p, buf, 0, res); err != nil {
			return s.errorf("kick readback: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// FusionStats returns Σp, Σp·ln p and Σ|ψ|ψ in one device pass: a
// grid-stride reduction in whole groups of WG items, the per-group
// partials added on the host in group order.
func (s *Vector[M]) FusionStats() (norm2, plnp float64, r complex128, err error) {
	var t []float64
	err = s.do(func() error {
		var err error
		t, err = s.reduce(FusionFamily, KStats, 4, s.ptr(), uint64(s.len()))
		return err
	})
	if err != nil {
		return 0, 0, 0, err
	}
	return t[0], t[1], complex(t[2], t[3]), nil
}

var (
	_ backend.Normer            = (*Vector[uint64])(nil)
	_ backend.PauliExpecter     = (*Vector[uint64])(nil)
	_ backend.InnerProducter    = (*Vector[uint64])(nil)
	_ backend.ProbabilityReader = (*Vector[uint64])(nil)
	_ backend.Sampler           = (*Vector[uint64])(nil)
	_ backend.Cloner            = (*Vector[uint64])(nil)
	_ backend.Syncer            = (*Vector[uint64])(nil)
	_ backend.FusionCoupler     = (*Vector[uint64])(nil)
)
