package opencl

import (
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/circuit"
)

// NewState allocates |0…0⟩ on n qubits in device memory, refusing before
// allocating what exceeds the device's memory or its largest allocation.
func (b *Backend) NewState(n int, p backend.Precision) (backend.State, error) {
	if n < 0 || n > 40 {
		return nil, fmt.Errorf("opencl: %d qubits: want 0..40", n)
	}
	if p == backend.Complex128 && !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
	}
	size := backend.StateBytes(n, p)
	if uint64(size) > b.dev.MaxAlloc || uint64(size) > b.dev.GlobalMem {
		return nil, fmt.Errorf("opencl: a %d-qubit %s state needs %.3g GiB; %s allows %.3g GiB per buffer (%.3g GiB in all)",
			n, p, float64(size)/(1<<30), b.dev.Name, float64(b.dev.MaxAlloc)/(1<<30), float64(b.dev.GlobalMem)/(1<<30))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.program("statevector", p); err != nil {
		return nil, err
	}
	m, err := b.alloc(uintptr(size))
	if err != nil {
		return nil, err
	}
	s := &State{b: b, n: n, p: p, buf: m}
	zero := [16]byte{}
	if err := check("clEnqueueFillBuffer", b.l.EnqueueFillBuffer(b.queue, m, unsafe.Pointer(&zero[0]), uintptr(p.AmpBytes()), 0, uintptr(size), 0, nil, nil)); err != nil {
		b.l.ReleaseMemObject(m)
		return nil, err
	}
	one := s.hostAmps([]complex128{1})
	if err := b.write(m, 0, one, uintptr(p.AmpBytes())); err != nil {
		b.l.ReleaseMemObject(m)
		return nil, err
	}
	return s, nil
}

// State is a state vector in an OpenCL device buffer.
type State struct {
	b   *Backend
	n   int
	p   backend.Precision
	buf uintptr
}

// Qubits returns the number of qubits.
func (s *State) Qubits() int { return s.n }

// Precision returns c64 or c128.
func (s *State) Precision() backend.Precision { return s.p }

func (s *State) len() int { return 1 << uint(s.n) }

func (s *State) bytes() uintptr { return uintptr(backend.StateBytes(s.n, s.p)) }

func (s *State) alive() error {
	if s.buf == 0 {
		return fmt.Errorf("opencl: state used after Free")
	}
	return nil
}

// hostAmps converts a to the state's precision and returns a pointer to it.
func (s *State) hostAmps(a []complex128) unsafe.Pointer { return accel.HostAmps(s.p, a) }

// Load replaces the amplitudes with host values.
func (s *State) Load(a []complex128) error {
	if err := s.alive(); err != nil {
		return err
	}
	if len(a) != s.len() {
		return fmt.Errorf("opencl: Load of %d amplitudes into a %d-qubit state (%d)", len(a), s.n, s.len())
	}
	if err := backend.CheckAmplitudes(a); err != nil {
		return fmt.Errorf("opencl: Load: %w", err)
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.write(s.buf, 0, s.hostAmps(a), s.bytes())
}

// Read copies the amplitudes to the host.
func (s *State) Read(dst []complex128) error {
	if err := s.alive(); err != nil {
		return err
	}
	if len(dst) != s.len() {
		return fmt.Errorf("opencl: Read of a %d-qubit state into %d amplitudes", s.n, len(dst))
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.readRange(0, dst)
}

// readRange reads amplitudes [off, off+len(dst)) (b.mu held).
func (s *State) readRange(off int, dst []complex128) error {
	ab := uintptr(s.p.AmpBytes())
	if s.p == backend.Complex128 {
		return s.b.read(s.buf, uintptr(off)*ab, unsafe.Pointer(&dst[0]), uintptr(len(dst))*ab)
	}
	c := make([]complex64, len(dst))
	if err := s.b.read(s.buf, uintptr(off)*ab, unsafe.Pointer(&c[0]), uintptr(len(c))*ab); err != nil {
		return err
	}
	accel.Widen(dst, c)
	return nil
}

// Sync waits until every operation queued on the device has finished.
func (s *State) Sync() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return check("clFinish", s.b.l.Finish(s.b.queue))
}

// Free releases the device buffer.
func (s *State) Free() error {
	if s.buf == 0 {
		return nil
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	err := check("clReleaseMemObject", s.b.l.ReleaseMemObject(s.buf))
	s.buf = 0
	return err
}

// Clone copies the state on the device.
func (s *State) Clone() (backend.State, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	m, err := s.b.alloc(s.bytes())
	if err != nil {
		return nil, err
	}
	if err := check("clEnqueueCopyBuffer", s.b.l.EnqueueCopyBuffer(s.b.queue, s.buf, m, 0, 0, s.bytes(), 0, nil, nil)); err != nil {
		s.b.l.ReleaseMemObject(m)
		return nil, err
	}
	return &State{b: s.b, n: s.n, p: s.p, buf: m}, nil
}

// kname is a kernel's name in the state's precision.
func (s *State) kname(base string) string {
	if s.p == backend.Complex128 {
		return base + "_f64"
	}
	return base + "_f32"
}

// kernel returns the statevector kernel base in the state's precision (b.mu held).
func (s *State) kernel(base string) (uintptr, *program, error) {
	pr, err := s.b.program("statevector", s.p)
	if err != nil {
		return 0, nil, err
	}
	k, err := s.b.kernel(pr, s.kname(base))
	return k, pr, err
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
	if err := s.alive(); err != nil {
		return err
	}
	if err := backend.CheckGate(s.n, g); err != nil {
		return fmt.Errorf("opencl: %w", err)
	}
	mask, val := g.CtrlMasks()
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	k := len(g.Targets)
	n := uint64(s.len())
	switch {
	case g.Diagonal:
		kern, _, err := s.kernel("sv_diag")
		if err != nil {
			return err
		}
		m, err := s.matrix(g.Matrix)
		if err != nil {
			return err
		}
		return s.b.launch(kern, uintptr(n), s.gateLocal(n), mem(s.buf), mem(m), n, int32(k), accel.Pack(g.Targets), mask, val)
	case k == 2 && mask == 0 && circuit.IsSwap(g):
		kern, _, err := s.kernel("sv_swap")
		if err != nil {
			return err
		}
		q1, q2 := min(g.Targets[0], g.Targets[1]), max(g.Targets[0], g.Targets[1])
		return s.b.launch(kern, uintptr(n/4), s.gateLocal(n/4), mem(s.buf), n/4, int32(q1), int32(q2))
	case k == 1:
		kern, _, err := s.kernel("sv_apply1")
		if err != nil {
			return err
		}
		m := g.Matrix
		run := uint64(accel.SVRun(s.p))
		if n/2 < run {
			// Too few pairs for one run: the host does it on a readout.
			return s.applyHost(g)
		}
		items := n / 2 / run
		return s.b.launch(kern, uintptr(items), s.gateLocal(items), mem(s.buf), int32(g.Targets[0]),
			s.real(real(m[0])), s.real(imag(m[0])), s.real(real(m[1])), s.real(imag(m[1])),
			s.real(real(m[2])), s.real(imag(m[2])), s.real(real(m[3])), s.real(imag(m[3])), mask, val)
	default:
		kern, _, err := s.kernel(fmt.Sprintf("sv_apply%d", k))
		if err != nil {
			return err
		}
		m, err := s.matrix(g.Matrix)
		if err != nil {
			return err
		}
		sorted := slices.Clone(g.Targets)
		slices.Sort(sorted)
		groups := n >> uint(k)
		if run := uint64(accel.SVRun(s.p)); k <= 4 && 1<<sorted[0] >= run && groups%run == 0 {
			kern, _, err := s.kernel(fmt.Sprintf("sv_apply%d_run", k))
			if err != nil {
				return err
			}
			items := groups / run
			return s.b.launch(kern, uintptr(items), s.gateLocal(items), mem(s.buf), mem(m), accel.Pack(g.Targets), accel.Pack(sorted), mask, val)
		}
		return s.b.launch(kern, uintptr(groups), s.denseLocal(groups), mem(s.buf), mem(m), groups, accel.Pack(g.Targets), accel.Pack(sorted), mask, val)
	}
}

// FreeLowQubits implements backend.LowQubitHinter: dense gates whose
// targets all lie at or above qubit log2(SV_RUN) run as contiguous runs
// that the device vectorises.
func (b *Backend) FreeLowQubits(p backend.Precision) int {
	return bits.TrailingZeros(uint(accel.SVRun(p)))
}

// applyHost applies g to a state too small for the device kernels'
// granularity (b.mu held): a readout, the host reference, an upload.
func (s *State) applyHost(g *circuit.Gate) error {
	a := make([]complex128, s.len())
	if err := s.readRange(0, a); err != nil {
		return err
	}
	circuit.ApplyToVector(a, g)
	return s.b.write(s.buf, 0, s.hostAmps(a), s.bytes())
}

// matrix uploads a gate matrix into the scratch buffer (b.mu held). The
// write is blocking, so the next upload cannot overtake a queued kernel's
// read of the previous one: the queue is in order.
func (s *State) matrix(m []complex128) (uintptr, error) {
	ab := uintptr(s.p.AmpBytes())
	buf, err := s.b.scratchBuf(uintptr(len(m)) * ab)
	if err != nil {
		return 0, err
	}
	return buf, s.b.write(buf, 0, s.hostAmps(m), uintptr(len(m))*ab)
}

// reduceGroups is the number of work-groups of a grid-stride reduction.
func reduceGroups(n int) int { return accel.ReduceGroups(n) }

// wg is MEC_WG in kernels/compat.h.
const wg = accel.WG

// partials reads count accumulator values from the scratch buffer (b.mu held).
func (s *State) partials(pr *program, buf uintptr, count int) ([]float64, error) {
	out := make([]float64, count)
	if pr.acc64 {
		return out, s.b.read(buf, 0, unsafe.Pointer(&out[0]), uintptr(count)*8)
	}
	f := make([]float32, count)
	if err := s.b.read(buf, 0, unsafe.Pointer(&f[0]), uintptr(count)*4); err != nil {
		return nil, err
	}
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

func accBytes(pr *program) uintptr {
	if pr.acc64 {
		return 8
	}
	return 4
}

// reduce runs a grid-stride reduction kernel writing per entries values per
// group and returns the per-entry sums, added in group order (b.mu held).
func (s *State) reduce(name string, per int, args ...any) ([]float64, error) {
	kern, pr, err := s.kernel(name)
	if err != nil {
		return nil, err
	}
	groups := reduceGroups(s.len())
	buf, err := s.b.scratchBuf(uintptr(groups*per) * accBytes(pr))
	if err != nil {
		return nil, err
	}
	if err := s.b.launch(kern, uintptr(groups*wg), wg, append(args, mem(buf))...); err != nil {
		return nil, err
	}
	p, err := s.partials(pr, buf, groups*per)
	if err != nil {
		return nil, err
	}
	return accel.SumPartials(p, groups, per), nil
}

// Norm returns Σ|a_i|², reduced on the device.
func (s *State) Norm() (float64, error) {
	if err := s.alive(); err != nil {
		return 0, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	r, err := s.reduce("sv_norm", 1, mem(s.buf), uint64(s.len()))
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// ExpectPauli returns ⟨ψ|P|ψ⟩ for one Pauli string, reduced on the device.
func (s *State) ExpectPauli(m circuit.PauliMasks) (float64, error) {
	if err := s.alive(); err != nil {
		return 0, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	r, err := s.reduce("sv_pauli", 2, mem(s.buf), uint64(s.len()), m.X, m.Z)
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
	if err := s.alive(); err != nil {
		return 0, true, err
	}
	if err := o.alive(); err != nil {
		return 0, true, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	r, err := s.reduce("sv_inner", 2, mem(s.buf), mem(o.buf), uint64(s.len()))
	if err != nil {
		return 0, true, err
	}
	return complex(r[0], r[1]), true, nil
}

// Probabilities computes the marginal distribution of qubits on the
// device: one work item per (outcome, chunk), partials added on the host in
// chunk order.
func (s *State) Probabilities(qubits []int, dst []float64) error {
	if err := s.alive(); err != nil {
		return err
	}
	k := len(qubits)
	if len(dst) != 1<<uint(k) {
		return fmt.Errorf("opencl: %d probabilities for %d qubits", len(dst), k)
	}
	if k > 10 {
		// Wide marginals: one readout is cheaper than 2^k outcome items.
		a := make([]complex128, s.len())
		if err := s.Read(a); err != nil {
			return err
		}
		backend.MarginalProbabilities(a, qubits, dst)
		return nil
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	kern, pr, err := s.kernel("sv_marginal")
	if err != nil {
		return err
	}
	mg := accel.NewMarginal(s.len(), qubits)
	buf, err := s.b.scratchBuf(uintptr(mg.Total) * accBytes(pr))
	if err != nil {
		return err
	}
	if err := s.b.launch(kern, uintptr(mg.Total), 0, mem(s.buf), mg.Rest, int32(k), accel.Pack(qubits), accel.Pack(mg.Sorted), mg.Chunks, mg.Clen, mem(buf)); err != nil {
		return err
	}
	p, err := s.partials(pr, buf, int(mg.Total))
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
	if err := s.alive(); err != nil {
		return err
	}
	if len(u) != len(out) {
		return fmt.Errorf("opencl: %d variates but %d outputs", len(u), len(out))
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	kern, pr, err := s.kernel("sv_blocksum")
	if err != nil {
		return err
	}
	blen, blocks := accel.SampleBlocks(s.len())
	buf, err := s.b.scratchBuf(uintptr(blocks) * accBytes(pr))
	if err != nil {
		return err
	}
	if err := s.b.launch(kern, uintptr(blocks), 0, mem(s.buf), uint64(blocks), uint64(blen), mem(buf)); err != nil {
		return err
	}
	bs, err := s.partials(pr, buf, blocks)
	if err != nil {
		return err
	}
	sm, err := accel.NewBlockSampler(bs, blen)
	if err != nil {
		return fmt.Errorf("opencl: %w", err)
	}
	if err := sm.Sample(u, out, s.readRange); err != nil {
		return fmt.Errorf("opencl: %w", err)
	}
	return nil
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

// gateLocal is the work-group size of gate kernels over items work items:
// the largest the device allows (up to 4096) on CPU devices, where PoCL
// runs a work-group as one vectorised loop, and 256 elsewhere; halved until
// it divides items, since launches cover items exactly.
func (s *State) gateLocal(items uint64) uintptr {
	l := uint64(256)
	if s.b.dev.Kind() == "cpu" {
		l = min(4096, uint64(s.b.dev.MaxWorkGroupSize))
	}
	for l > 1 && items%l != 0 {
		l /= 2
	}
	return uintptr(l)
}

// denseLocal is the work-group size of the one-group-per-item dense
// kernels, whose private arrays make large work-groups spill.
func (s *State) denseLocal(items uint64) uintptr {
	l := uint64(128)
	for l > 1 && items%l != 0 {
		l /= 2
	}
	return uintptr(l)
}
