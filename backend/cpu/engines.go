package cpu

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/engines/kuramoto"
	"github.com/prismai/mec/engines/snn"
)

var (
	_ backend.Spectral = (*Backend)(nil)
	_ backend.Spiking  = (*Backend)(nil)
	_ backend.Phase    = (*Backend)(nil)
)

var errFreed = errors.New("cpu: use after Free")

// fftOptions are the engines/fft options of the backend's plans: its
// threads and, when set, its planner.
func (b *Backend) fftOptions() []fft.Option {
	opts := []fft.Option{fft.WithThreads(b.workers())}
	if b.opts.FFTPlanner != nil {
		opts = append(opts, fft.WithPlanner(b.opts.FFTPlanner))
	}
	return opts
}

// NewFFT plans batch complex transforms of length n (any n ≥ 1) with the
// package engines/fft engine on the backend's threads.
func (b *Backend) NewFFT(n, batch int, p backend.Precision) (backend.FFT, error) {
	if n < 1 || batch < 1 {
		return nil, fmt.Errorf("cpu: fft of length %d, batch %d", n, batch)
	}
	if int64(n)*int64(batch) > 1<<32 {
		return nil, fmt.Errorf("cpu: fft buffer of %d×%d values is too large", n, batch)
	}
	switch p {
	case backend.Complex128:
		plan, err := fft.NewPlan[complex128](n, b.fftOptions()...)
		if err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
		return &fftBuf[complex128]{plan: plan, n: n, batch: batch, p: p, data: make([]complex128, n*batch)}, nil
	case backend.Complex64:
		plan, err := fft.NewPlan[complex64](n, b.fftOptions()...)
		if err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
		return &fftBuf[complex64]{plan: plan, n: n, batch: batch, p: p, data: make([]complex64, n*batch)}, nil
	}
	return nil, fmt.Errorf("cpu: unknown precision %v", p)
}

type fftBuf[T complex64 | complex128] struct {
	plan     *fft.Plan[T]
	n, batch int
	p        backend.Precision
	data     []T
}

func (f *fftBuf[T]) Len() int                     { return f.n }
func (f *fftBuf[T]) Batch() int                   { return f.batch }
func (f *fftBuf[T]) Precision() backend.Precision { return f.p }
func (f *fftBuf[T]) Free() error                  { f.data = nil; return nil }

func (f *fftBuf[T]) Load(x []complex128) error {
	if f.data == nil {
		return errFreed
	}
	if len(x) != len(f.data) {
		return fmt.Errorf("cpu: fft Load of %d values into a %d×%d buffer", len(x), f.batch, f.n)
	}
	for i, v := range x {
		if math.IsNaN(real(v)) || math.IsNaN(imag(v)) || math.IsInf(real(v), 0) || math.IsInf(imag(v), 0) {
			return fmt.Errorf("cpu: fft Load: value %d is %v", i, v)
		}
		f.data[i] = T(v)
	}
	return nil
}

func (f *fftBuf[T]) Read(dst []complex128) error {
	if f.data == nil {
		return errFreed
	}
	if len(dst) != len(f.data) {
		return fmt.Errorf("cpu: fft Read of a %d×%d buffer into %d values", f.batch, f.n, len(dst))
	}
	for i, v := range f.data {
		dst[i] = complex128(v)
	}
	return nil
}

func (f *fftBuf[T]) Forward() error { return f.do(false) }
func (f *fftBuf[T]) Inverse() error { return f.do(true) }

func (f *fftBuf[T]) do(inv bool) error {
	if f.data == nil {
		return errFreed
	}
	var err error
	if inv {
		err = f.plan.InverseBatch(f.data, f.batch)
	} else {
		err = f.plan.ForwardBatch(f.data, f.batch)
	}
	if err != nil {
		return fmt.Errorf("cpu: %w", err)
	}
	return nil
}

var _ backend.RealSpectral = (*Backend)(nil)

// NewRealFFT plans batch real transforms of length n (any n ≥ 1) with the
// package engines/fft real engine on the backend's threads.
func (b *Backend) NewRealFFT(n, batch int, p backend.Precision) (backend.RealFFT, error) {
	if n < 1 || batch < 1 {
		return nil, fmt.Errorf("cpu: real fft of length %d, batch %d", n, batch)
	}
	if int64(n)*int64(batch) > 1<<32 {
		return nil, fmt.Errorf("cpu: real fft buffer of %d×%d values is too large", n, batch)
	}
	switch p {
	case backend.Complex128:
		plan, err := fft.NewRealPlan[float64, complex128](n, b.fftOptions()...)
		if err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
		return newRealBuf(plan, batch, p), nil
	case backend.Complex64:
		plan, err := fft.NewRealPlan[float32, complex64](n, b.fftOptions()...)
		if err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
		return newRealBuf(plan, batch, p), nil
	}
	return nil, fmt.Errorf("cpu: unknown precision %v", p)
}

// realBuf is a RealFFT on the host: samples and spectra of batch vectors.
type realBuf[F float32 | float64, C complex64 | complex128] struct {
	plan  *fft.RealPlan[F, C]
	n, h  int // h = n/2+1 coefficients per vector
	batch int
	p     backend.Precision
	x     []F
	spec  []C
	freed bool
}

func newRealBuf[F float32 | float64, C complex64 | complex128](plan *fft.RealPlan[F, C], batch int, p backend.Precision) *realBuf[F, C] {
	n := plan.Len()
	return &realBuf[F, C]{plan: plan, n: n, h: n/2 + 1, batch: batch, p: p, x: make([]F, n*batch), spec: make([]C, (n/2+1)*batch)}
}

func (f *realBuf[F, C]) Len() int                     { return f.n }
func (f *realBuf[F, C]) Batch() int                   { return f.batch }
func (f *realBuf[F, C]) Precision() backend.Precision { return f.p }
func (f *realBuf[F, C]) Free() error                  { f.x, f.spec, f.freed = nil, nil, true; return nil }

func (f *realBuf[F, C]) LoadReal(x []float64) error {
	if f.freed {
		return errFreed
	}
	if len(x) != len(f.x) {
		return fmt.Errorf("cpu: real fft LoadReal of %d values into a %d×%d buffer", len(x), f.batch, f.n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("cpu: real fft LoadReal: value %d is %v", i, v)
		}
		w := F(v)
		if math.IsInf(float64(w), 0) {
			return fmt.Errorf("cpu: real fft LoadReal: value %d (%v) is out of the precision's range", i, v)
		}
		f.x[i] = w
	}
	return nil
}

func (f *realBuf[F, C]) ReadReal(dst []float64) error {
	if f.freed {
		return errFreed
	}
	if len(dst) != len(f.x) {
		return fmt.Errorf("cpu: real fft ReadReal of a %d×%d buffer into %d values", f.batch, f.n, len(dst))
	}
	for i, v := range f.x {
		dst[i] = float64(v)
	}
	return nil
}

func (f *realBuf[F, C]) Load(x []complex128) error {
	if f.freed {
		return errFreed
	}
	if len(x) != len(f.spec) {
		return fmt.Errorf("cpu: real fft Load of %d coefficients into a %d×%d buffer", len(x), f.batch, f.h)
	}
	if err := backend.CheckAmplitudes(x); err != nil {
		return fmt.Errorf("cpu: real fft Load: %w", err)
	}
	for i, v := range x {
		f.spec[i] = C(v)
	}
	return nil
}

func (f *realBuf[F, C]) Read(dst []complex128) error {
	if f.freed {
		return errFreed
	}
	if len(dst) != len(f.spec) {
		return fmt.Errorf("cpu: real fft Read of a %d×%d buffer into %d coefficients", f.batch, f.h, len(dst))
	}
	for i, v := range f.spec {
		dst[i] = complex128(v)
	}
	return nil
}

func (f *realBuf[F, C]) Forward() error {
	if f.freed {
		return errFreed
	}
	if err := f.plan.ForwardBatch(f.spec, f.x, f.batch); err != nil {
		return fmt.Errorf("cpu: %w", err)
	}
	return nil
}

func (f *realBuf[F, C]) Inverse() error {
	if f.freed {
		return errFreed
	}
	if err := f.plan.InverseBatch(f.x, f.spec, f.batch); err != nil {
		return fmt.Errorf("cpu: %w", err)
	}
	return nil
}

// NewNetwork builds an snn simulation; Options.Threads 0 uses the backend's.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	if net == nil {
		return nil, errors.New("cpu: nil network")
	}
	if opt.Threads == 0 && b.opts.Threads > 0 {
		opt.Threads = b.opts.Threads
	}
	s, err := net.Build(opt)
	if err != nil {
		return nil, err
	}
	return &network{s: s}, nil
}

type network struct{ s *snn.Sim }

var (
	_ backend.NetworkInfo  = (*network)(nil)
	_ backend.WeightReader = (*network)(nil)
)

func (n *network) alive() error {
	if n.s == nil {
		return errFreed
	}
	return nil
}

func (n *network) N() int {
	if n.s == nil {
		return 0
	}
	return n.s.N()
}

func (n *network) DtMs() float64 {
	if n.s == nil {
		return 0
	}
	return n.s.Dt()
}

func (n *network) Step() ([]int, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	return slices.Clone(n.s.Step()), nil
}

func (n *network) Run(steps int) error {
	if err := n.alive(); err != nil {
		return err
	}
	if steps < 0 {
		return fmt.Errorf("cpu: Run(%d)", steps)
	}
	n.s.Run(steps)
	return nil
}

// States copies every neuron's model state (snn.Sim.States) into dst.
func (n *network) States(dst []float64) error {
	if err := n.alive(); err != nil {
		return err
	}
	if len(dst) != n.s.N() {
		return fmt.Errorf("cpu: States into %d values for %d neurons", len(dst), n.s.N())
	}
	n.s.States(dst)
	return nil
}

func (n *network) Voltages(dst []float64) error {
	if err := n.alive(); err != nil {
		return err
	}
	if len(dst) != n.s.N() {
		return fmt.Errorf("cpu: Voltages into %d values for %d neurons", len(dst), n.s.N())
	}
	copy(dst, n.s.V())
	return nil
}

func (n *network) SpikeCounts(dst []int64) error {
	if err := n.alive(); err != nil {
		return err
	}
	if len(dst) != n.s.N() {
		return fmt.Errorf("cpu: SpikeCounts into %d values for %d neurons", len(dst), n.s.N())
	}
	copy(dst, n.s.SpikeCounts())
	return nil
}

func (n *network) AddVoltages(dv []float64) error {
	if err := n.alive(); err != nil {
		return err
	}
	if len(dv) != n.s.N() {
		return fmt.Errorf("cpu: AddVoltages of %d values for %d neurons", len(dv), n.s.N())
	}
	for i, x := range dv {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("cpu: AddVoltages: value %d is %v", i, x)
		}
	}
	for i, x := range dv {
		if x != 0 {
			if err := n.s.AddVoltage(i, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// Snapshot saves the network's dynamic state (snn.Sim.Snapshot).
func (n *network) Snapshot() ([]byte, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	return n.s.Snapshot()
}

// Restore restores a Snapshot of the same network.
func (n *network) Restore(snap []byte) error {
	if err := n.alive(); err != nil {
		return err
	}
	return n.s.Restore(snap)
}

// Synapses returns the number of synapses built (backend.NetworkInfo).
func (n *network) Synapses() int {
	if n.s == nil {
		return 0
	}
	return n.s.Synapses()
}

// Weights returns projection k's current weights (backend.WeightReader).
func (n *network) Weights(k int) ([]float64, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	w := n.s.Weights(k)
	if w == nil {
		return nil, fmt.Errorf("cpu: projection %d is missing or dense", k)
	}
	return w, nil
}

// Threads returns the goroutines of the neuron update (backend.NetworkInfo).
func (n *network) Threads() int {
	if n.s == nil {
		return 0
	}
	return n.s.Threads()
}

func (n *network) Free() error {
	if n.s != nil {
		n.s.Close()
		n.s = nil
	}
	return nil
}

// NewOscillators returns a kuramoto simulation.
func (b *Backend) NewOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) (backend.Oscillators, error) {
	s, err := kuramoto.New(net, phase0, method)
	if err != nil {
		return nil, err
	}
	return &oscillators{s: s}, nil
}

type oscillators struct{ s *kuramoto.Sim }

func (o *oscillators) N() int {
	if o.s == nil {
		return 0
	}
	return o.s.N()
}

func (o *oscillators) Step(dt float64) (float64, float64, error) {
	if o.s == nil {
		return 0, 0, errFreed
	}
	if math.IsNaN(dt) || math.IsInf(dt, 0) || dt <= 0 {
		return 0, 0, fmt.Errorf("cpu: kuramoto step dt = %v, want finite and > 0", dt)
	}
	r, psi := o.s.Step(dt)
	return r, psi, nil
}

func (o *oscillators) Phases(dst []float64) error {
	if o.s == nil {
		return errFreed
	}
	if len(dst) != o.s.N() {
		return fmt.Errorf("cpu: Phases into %d values for %d oscillators", len(dst), o.s.N())
	}
	copy(dst, o.s.Phases())
	return nil
}

func (o *oscillators) Free() error { o.s = nil; return nil }

var _ backend.StateReader = (*network)(nil)
