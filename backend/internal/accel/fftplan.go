package accel

import (
	"fmt"

	"github.com/prismai/mec/backend"
)

// The fft family's kernels (kernels/fft.cl).
const (
	FFTFamily     = "fft"
	KFFTStage     = "fft_stage"
	KFFTChirpIn   = "fft_chirp_in"
	KFFTPointwise = "fft_pointwise"
	KFFTChirpOut  = "fft_chirp_out"
)

// FFTPlan is a planned batch of transforms whose buffers live in device
// memory, for any Device: Stockham stages of radix 4, 2 and the small
// primes up to 13, or Bluestein's algorithm over a power-of-two length
// when n has a larger prime factor. Its device fields are touched only
// inside the device's Do.
type FFTPlan[M Handle] struct {
	d        Device[M]
	n, batch int
	p        backend.Precision

	buf     [2]M // data and its ping-pong twin; cur holds the data
	cur     int
	tw      M // exp(-2πi t/n), t < n
	radices []int

	// Bluestein: inner is the length-m plan whose buffer holds the chirped
	// data; chirp holds exp(-πi k²/n), spec the spectrum of its conjugate.
	inner       *FFTPlan[M]
	chirp, spec M
}

// NewFFTPlan plans batch transforms of length n in precision p on d. The
// caller has checked n, batch and p and refused what exceeds the device.
func NewFFTPlan[M Handle](d Device[M], n, batch int, p backend.Precision) (*FFTPlan[M], error) {
	f := &FFTPlan[M]{d: d, n: n, batch: batch, p: p}
	err := d.Do(func() error {
		// Load the family first: its build (JIT) errors are clearer here
		// than at the first transform.
		if _, err := d.Kernel(FFTFamily, p, KFFTStage); err != nil {
			return err
		}
		if err := f.init(); err != nil {
			if rerr := f.release(); rerr != nil {
				return fmt.Errorf("%w (and releasing the plan: %v)", err, rerr)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FFTPlan[M]) bytes(count int) uintptr { return uintptr(count) * uintptr(f.p.AmpBytes()) }

// errorf formats an error with the backend's prefix.
func (f *FFTPlan[M]) errorf(format string, args ...any) error {
	return fmt.Errorf(f.d.Name()+": "+format, args...)
}

// upload allocates a device buffer holding v in the plan's precision.
// Inside Do.
func (f *FFTPlan[M]) upload(v []complex128) (M, error) {
	m, err := f.d.Alloc(f.bytes(len(v)))
	if err != nil {
		return 0, err
	}
	if err := f.d.Write(m, 0, HostAmps(f.p, v), f.bytes(len(v))); err != nil {
		f.d.Free(m)
		return 0, f.errorf("FFT tables: %w", err)
	}
	return m, nil
}

// init allocates the plan's buffers and tables. Inside Do.
func (f *FFTPlan[M]) init() error {
	size := f.n * f.batch
	for i := range f.buf {
		m, err := f.d.Alloc(f.bytes(size))
		if err != nil {
			return err
		}
		f.buf[i] = m
	}
	if err := f.d.Zero(f.buf[0], f.bytes(size)); err != nil {
		return f.errorf("%w", err)
	}
	if f.radices = Radices(f.n); f.radices != nil || f.n == 1 {
		var err error
		f.tw, err = f.upload(Twiddles(f.n))
		return err
	}
	// Bluestein: a circular convolution of length m ≥ 2n-1 (see Bluestein).
	m, chirp, spec := Bluestein(f.n)
	var err error
	if f.chirp, err = f.upload(chirp); err != nil {
		return err
	}
	if f.spec, err = f.upload(spec); err != nil {
		return err
	}
	f.inner = &FFTPlan[M]{d: f.d, n: m, batch: f.batch, p: f.p}
	return f.inner.init()
}

// release frees the plan's device buffers, after the work queued on them,
// and those of its Bluestein plan. Inside Do.
func (f *FFTPlan[M]) release() error {
	var first error
	for _, m := range append(f.buf[:], f.tw, f.chirp, f.spec) {
		if m == 0 {
			continue
		}
		if err := f.d.Free(m); err != nil && first == nil {
			first = err
		}
	}
	f.buf, f.tw, f.chirp, f.spec = [2]M{}, 0, 0, 0
	if f.inner != nil {
		if err := f.inner.release(); first == nil {
			first = err
		}
		f.inner = nil
	}
	if first != nil {
		return f.errorf("freeing an FFT plan: %w", first)
	}
	return nil
}

// do runs fn inside Do on a live plan.
func (f *FFTPlan[M]) do(fn func() error) error {
	return f.d.Do(func() error {
		if f.buf[0] == 0 {
			return f.errorf("FFT used after Free")
		}
		return fn()
	})
}

// Len is the transform length.
func (f *FFTPlan[M]) Len() int { return f.n }

// Batch is the number of vectors.
func (f *FFTPlan[M]) Batch() int { return f.batch }

// Precision is the element precision.
func (f *FFTPlan[M]) Precision() backend.Precision { return f.p }

// Load copies batch·n host values into the device buffer.
func (f *FFTPlan[M]) Load(x []complex128) error {
	if len(x) != f.n*f.batch {
		return f.errorf("FFT Load of %d values into %d×%d", len(x), f.batch, f.n)
	}
	if err := backend.CheckAmplitudes(x); err != nil {
		return f.errorf("FFT Load: %w", err)
	}
	host := HostAmps(f.p, x)
	return f.do(func() error {
		if err := f.d.Write(f.buf[f.cur], 0, host, f.bytes(len(x))); err != nil {
			return f.errorf("FFT Load: %w", err)
		}
		return nil
	})
}

// Read copies the device buffer to the host.
func (f *FFTPlan[M]) Read(dst []complex128) error {
	if len(dst) != f.n*f.batch {
		return f.errorf("FFT Read of %d×%d values into %d", f.batch, f.n, len(dst))
	}
	return f.do(func() error { return ReadAmps(f.d, f.p, f.buf[f.cur], 0, dst) })
}

// Forward transforms every vector in place.
func (f *FFTPlan[M]) Forward() error { return f.run(false) }

// Inverse applies the inverse transform (normalised by 1/n).
func (f *FFTPlan[M]) Inverse() error { return f.run(true) }

func (f *FFTPlan[M]) run(inverse bool) error {
	scale := 1.0
	if inverse {
		scale = 1 / float64(f.n)
	}
	return f.do(func() error {
		if err := f.transform(inverse, scale); err != nil {
			return f.errorf("FFT of length %d: %w", f.n, err)
		}
		return nil
	})
}

// launch runs fft kernel base over items work items (whole groups; the
// fft kernels return early past their total). Inside Do.
func (f *FFTPlan[M]) launch(base string, items uint64, args ...any) error {
	return launch(f.d, FFTFamily, f.p, base, Cover, items, args...)
}

func (f *FFTPlan[M]) real(x float64) any {
	if f.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// flag is a kernel's int flag.
func flag(v bool) int32 {
	if v {
		return 1
	}
	return 0
}

// transform runs the stages (or Bluestein's steps) and scales the result
// by scale. Inside Do.
func (f *FFTPlan[M]) transform(inverse bool, scale float64) error {
	if f.inner == nil {
		if f.n == 1 { // the identity, and 1/n = 1
			return nil
		}
		for _, st := range FFTStages(f.n, f.batch, f.radices, scale) {
			if err := f.launch(KFFTStage, uint64(st.Total), Ptr[M]{f.buf[f.cur]}, Ptr[M]{f.buf[1-f.cur]}, Ptr[M]{f.tw},
				uint32(f.n), st.Total, int32(st.R), uint32(st.Ns), flag(inverse), f.real(st.Scale)); err != nil {
				return err
			}
			f.cur = 1 - f.cur
		}
		return nil
	}
	// Bluestein: the inverse is conj(forward(conj(x))), scaled.
	m := f.inner.n
	totalM := uint64(m * f.batch)
	totalN := uint64(f.n * f.batch)
	if err := f.launch(KFFTChirpIn, totalM, Ptr[M]{f.buf[f.cur]}, Ptr[M]{f.inner.buf[f.inner.cur]}, Ptr[M]{f.chirp},
		uint64(f.n), uint64(m), totalM, flag(inverse)); err != nil {
		return err
	}
	if err := f.inner.transform(false, 1); err != nil {
		return err
	}
	if err := f.launch(KFFTPointwise, totalM, Ptr[M]{f.inner.buf[f.inner.cur]}, Ptr[M]{f.spec}, uint64(m), totalM); err != nil {
		return err
	}
	if err := f.inner.transform(true, 1); err != nil {
		return err
	}
	return f.launch(KFFTChirpOut, totalN, Ptr[M]{f.inner.buf[f.inner.cur]}, Ptr[M]{f.buf[f.cur]}, Ptr[M]{f.chirp},
		uint64(f.n), uint64(m), totalN, f.real(scale/float64(m)), flag(inverse))
}

// Sync waits until the queued transforms have finished.
func (f *FFTPlan[M]) Sync() error {
	return f.d.Do(func() error {
		if err := f.d.Sync(); err != nil {
			return f.errorf("%w", err)
		}
		return nil
	})
}

// Free releases the plan's device buffers (after the work queued on
// them); later calls fail.
func (f *FFTPlan[M]) Free() error {
	return f.d.Do(func() error {
		if f.buf[0] == 0 {
			return nil
		}
		return f.release()
	})
}

var _ backend.FFT = (*FFTPlan[uint64])(nil)
