package fft

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// Complex is the set of element types of a complex Plan.
type Complex interface{ complex64 | complex128 }

// Float is the set of sample types of a RealPlan.
type Float interface{ float32 | float64 }

// MaxLen is the largest transform length a plan accepts.
const MaxLen = 1 << 30

var (
	// ErrSize reports a transform length < 1 or > MaxLen.
	ErrSize = errors.New("fft: invalid transform length")
	// ErrLength reports a slice whose length does not match the plan.
	ErrLength = errors.New("fft: slice length does not match the plan")
	// ErrOverlap reports dst and src that overlap without being the same
	// slice (or, for real plans, that overlap at all).
	ErrOverlap = errors.New("fft: dst and src overlap")
	// ErrBatch reports a negative batch count.
	ErrBatch = errors.New("fft: invalid batch count")
	// ErrType reports a RealPlan whose float and complex types differ in
	// precision (e.g. float32 with complex128).
	ErrType = errors.New("fft: mismatched real and complex precision")
)

type config struct {
	threads int
	planner *Planner
}

// Option configures a plan.
type Option func(*config)

// WithThreads sets how many goroutines one transform (or one batch) may use;
// values < 1 mean 1, the default. Transforms of at least 2^17 points split
// each pass across the threads and batches split by vector; smaller single
// transforms run on the calling goroutine.
func WithThreads(threads int) Option {
	return func(c *config) { c.threads = max(threads, 1) }
}

func newConfig(opts []Option) config {
	c := config{threads: 1}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Plan is a precomputed complex transform of one length. It is immutable and
// safe for concurrent use.
type Plan[T Complex] struct {
	n       int
	threads int
	e128    *cplan128
	e64     *cplan64
}

// NewPlan prepares transforms of length n (1 ≤ n ≤ MaxLen).
func NewPlan[T Complex](n int, opts ...Option) (*Plan[T], error) {
	if n < 1 || n > MaxLen {
		return nil, fmt.Errorf("%w: n=%d", ErrSize, n)
	}
	c := newConfig(opts)
	p := &Plan[T]{n: n, threads: c.threads}
	var z T
	switch any(z).(type) {
	case complex128:
		p.e128 = newCplan128(n, plan128(c.planner, n, c.threads))
	default:
		p.e64 = newCplan64(n, plan64(c.planner, n, c.threads))
	}
	return p, nil
}

// Len returns the transform length n.
func (p *Plan[T]) Len() int { return p.n }

// Threads returns the number of goroutines a call may use.
func (p *Plan[T]) Threads() int { return p.threads }

// Forward computes dst[k] = Σ_j src[j]·exp(-2πi·jk/n). dst and src must have
// length n and be either the same slice or disjoint.
func (p *Plan[T]) Forward(dst, src []T) error { return p.do(dst, src, false) }

// Inverse computes dst[j] = (1/n)·Σ_k src[k]·exp(+2πi·jk/n). dst and src
// must have length n and be either the same slice or disjoint.
func (p *Plan[T]) Inverse(dst, src []T) error { return p.do(dst, src, true) }

func (p *Plan[T]) do(dst, src []T, inv bool) error {
	if len(dst) != p.n || len(src) != p.n {
		return fmt.Errorf("%w: len(dst)=%d len(src)=%d, n=%d", ErrLength, len(dst), len(src), p.n)
	}
	if same, ov := overlap(dst, src); ov && !same {
		return ErrOverlap
	}
	p.run(dst, src, inv, p.threads)
	return nil
}

func (p *Plan[T]) run(dst, src []T, inv bool, threads int) {
	switch d := any(dst).(type) {
	case []complex128:
		p.e128.transform(d, any(src).([]complex128), inv, threads)
	case []complex64:
		p.e64.transform(d, any(src).([]complex64), inv, threads)
	}
}

// ForwardBatch transforms batch contiguous vectors data[i·n:(i+1)·n] in
// place. len(data) must be batch·n.
func (p *Plan[T]) ForwardBatch(data []T, batch int) error { return p.batch(data, batch, false) }

// InverseBatch is the batched, in-place, normalised inverse transform.
func (p *Plan[T]) InverseBatch(data []T, batch int) error { return p.batch(data, batch, true) }

func (p *Plan[T]) batch(data []T, batch int, inv bool) error {
	if batch < 0 {
		return fmt.Errorf("%w: batch=%d", ErrBatch, batch)
	}
	if batch > 0 && (len(data)/batch != p.n || len(data)%batch != 0) || batch == 0 && len(data) != 0 {
		return fmt.Errorf("%w: len(data)=%d, batch=%d, n=%d", ErrLength, len(data), batch, p.n)
	}
	if batch == 1 {
		p.run(data, data, inv, p.threads)
		return nil
	}
	n := p.n
	inner := max(1, p.threads/max(batch, 1))
	parallel(p.threads, batch, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := data[i*n : (i+1)*n]
			p.run(v, v, inv, inner)
		}
	})
	return nil
}

// RealPlan is a precomputed real-to-complex transform of length n with
// n/2+1 complex outputs. F and C must have the same precision
// (float32/complex64 or float64/complex128; see RealPlan64, RealPlan128).
// It is immutable and safe for concurrent use.
type RealPlan[F Float, C Complex] struct {
	n       int
	threads int
	e128    *real128
	e64     *real64
}

// RealPlan64 is the single-precision real plan.
type RealPlan64 = RealPlan[float32, complex64]

// RealPlan128 is the double-precision real plan.
type RealPlan128 = RealPlan[float64, complex128]

// NewRealPlan prepares real transforms of length n (1 ≤ n ≤ MaxLen).
func NewRealPlan[F Float, C Complex](n int, opts ...Option) (*RealPlan[F, C], error) {
	if n < 1 || n > MaxLen {
		return nil, fmt.Errorf("%w: n=%d", ErrSize, n)
	}
	var f F
	var z C
	if 2*unsafe.Sizeof(f) != unsafe.Sizeof(z) {
		return nil, ErrType
	}
	c := newConfig(opts)
	p := &RealPlan[F, C]{n: n, threads: c.threads}
	m := n // the length of the complex transform inside
	if n%2 == 0 {
		m = n / 2
	}
	if unsafe.Sizeof(z) == 16 {
		p.e128 = newReal128(n, plan128(c.planner, m, c.threads))
	} else {
		p.e64 = newReal64(n, plan64(c.planner, m, c.threads))
	}
	return p, nil
}

// Len returns the number of real samples n.
func (p *RealPlan[F, C]) Len() int { return p.n }

// Threads returns the number of goroutines a call may use.
func (p *RealPlan[F, C]) Threads() int { return p.threads }

// Forward computes dst[k] = Σ_j src[j]·exp(-2πi·jk/n) for k ≤ n/2.
// len(src) must be n, len(dst) n/2+1; they must not overlap.
func (p *RealPlan[F, C]) Forward(dst []C, src []F) error {
	if len(src) != p.n || len(dst) != p.n/2+1 {
		return fmt.Errorf("%w: len(dst)=%d (want %d) len(src)=%d (want %d)", ErrLength, len(dst), p.n/2+1, len(src), p.n)
	}
	if _, ov := overlap(dst, src); ov {
		return ErrOverlap
	}
	switch d := any(dst).(type) {
	case []complex128:
		p.e128.forward(d, any(src).([]float64), p.threads)
	case []complex64:
		p.e64.forward(d, any(src).([]float32), p.threads)
	}
	return nil
}

// Inverse reconstructs the n real samples whose spectrum is
// X[k] = src[k], k ≤ n/2 (and conj(src[n-k]) above), normalised by 1/n.
// The imaginary parts of src[0] and (even n) src[n/2] are ignored.
// len(src) must be n/2+1, len(dst) n; they must not overlap.
func (p *RealPlan[F, C]) Inverse(dst []F, src []C) error {
	if len(dst) != p.n || len(src) != p.n/2+1 {
		return fmt.Errorf("%w: len(dst)=%d (want %d) len(src)=%d (want %d)", ErrLength, len(dst), p.n, len(src), p.n/2+1)
	}
	if _, ov := overlap(dst, src); ov {
		return ErrOverlap
	}
	switch s := any(src).(type) {
	case []complex128:
		p.e128.inverse(any(dst).([]float64), s, p.threads)
	case []complex64:
		p.e64.inverse(any(dst).([]float32), s, p.threads)
	}
	return nil
}

// ForwardBatch transforms batch real signals src[i·n:(i+1)·n] into the
// spectra dst[i·(n/2+1):(i+1)·(n/2+1)], spread over the plan's threads
// (whole signals per goroutine). len(src) must be batch·n and len(dst)
// batch·(n/2+1); they must not overlap.
func (p *RealPlan[F, C]) ForwardBatch(dst []C, src []F, batch int) error {
	if err := p.checkBatch(len(src), len(dst), batch); err != nil {
		return err
	}
	if _, ov := overlap(dst, src); ov {
		return ErrOverlap
	}
	n, h := p.n, p.n/2+1
	inner := max(1, p.threads/max(batch, 1))
	parallel(p.threads, batch, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d, s := dst[i*h:(i+1)*h], src[i*n:(i+1)*n]
			switch d := any(d).(type) {
			case []complex128:
				p.e128.forward(d, any(s).([]float64), inner)
			case []complex64:
				p.e64.forward(d, any(s).([]float32), inner)
			}
		}
	})
	return nil
}

// InverseBatch is the batched Inverse: batch spectra src[i·(n/2+1):...]
// into the real signals dst[i·n:(i+1)·n], normalised by 1/n.
func (p *RealPlan[F, C]) InverseBatch(dst []F, src []C, batch int) error {
	if err := p.checkBatch(len(dst), len(src), batch); err != nil {
		return err
	}
	if _, ov := overlap(dst, src); ov {
		return ErrOverlap
	}
	n, h := p.n, p.n/2+1
	inner := max(1, p.threads/max(batch, 1))
	parallel(p.threads, batch, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d, s := dst[i*n:(i+1)*n], src[i*h:(i+1)*h]
			switch s := any(s).(type) {
			case []complex128:
				p.e128.inverse(any(d).([]float64), s, inner)
			case []complex64:
				p.e64.inverse(any(d).([]float32), s, inner)
			}
		}
	})
	return nil
}

// checkBatch validates a batch count against the lengths of the real and
// the complex slices of a batched call.
func (p *RealPlan[F, C]) checkBatch(nReal, nCplx, batch int) error {
	if batch < 0 {
		return fmt.Errorf("%w: batch=%d", ErrBatch, batch)
	}
	if nReal != batch*p.n || nCplx != batch*(p.n/2+1) {
		return fmt.Errorf("%w: %d reals and %d complex values for batch=%d, n=%d (want %d and %d)",
			ErrLength, nReal, nCplx, batch, p.n, batch*p.n, batch*(p.n/2+1))
	}
	return nil
}

// overlap reports whether a and b share memory, and whether they are exactly
// the same region.
func overlap[A, B any](a []A, b []B) (same, ov bool) {
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	var za A
	var zb B
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	a1 := a0 + uintptr(len(a))*unsafe.Sizeof(za)
	b1 := b0 + uintptr(len(b))*unsafe.Sizeof(zb)
	if a0 >= b1 || b0 >= a1 {
		return false, false
	}
	return a0 == b0 && a1 == b1, true
}

// plan128 returns the radix order pl chooses for complex128 transforms of
// length n on threads threads (measuring them in place on zeros, on those
// threads), or nil (the default order) without a planner.
func plan128(pl *Planner, n, threads int) []int {
	if pl == nil {
		return nil
	}
	return pl.radices("c128", n, threads, func(radices []int) time.Duration {
		e, x := newCplan128(n, radices), make([]complex128, n)
		return timeTransform(func() { e.transform(x, x, false, threads) })
	})
}

// plan64 is plan128 for complex64 transforms.
func plan64(pl *Planner, n, threads int) []int {
	if pl == nil {
		return nil
	}
	return pl.radices("c64", n, threads, func(radices []int) time.Duration {
		e, x := newCplan64(n, radices), make([]complex64, n)
		return timeTransform(func() { e.transform(x, x, false, threads) })
	})
}
