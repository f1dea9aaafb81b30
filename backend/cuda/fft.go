package cuda

import (
	"fmt"
	"math/bits"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// NewFFT plans batch transforms of length n on the device (package
// kernels' fft family): Stockham stages of radix 4, 2 and the small primes
// up to 13, Bluestein's algorithm over a power-of-two length when n has a
// larger prime factor. The buffer, its ping-pong twin and the twiddle
// tables stay on the device.
func (b *Backend) NewFFT(n, batch int, p backend.Precision) (backend.FFT, error) {
	if n < 1 || batch < 1 {
		return nil, fmt.Errorf("cuda: FFT of length %d, batch %d: both must be ≥ 1", n, batch)
	}
	if p != backend.Complex128 && p != backend.Complex64 {
		return nil, fmt.Errorf("cuda: unknown precision %v", p)
	}
	m := uint64(1) << bits.Len(uint(2*n))
	if uint64(batch)*m >= 1<<32 {
		return nil, fmt.Errorf("cuda: FFT of %d×%d values: the kernels index below 2^32", batch, n)
	}
	// Device values of the plan: the buffer and its twin, the twiddles or
	// the chirp and its spectrum, and a Bluestein plan's own buffers.
	need := 2*uint64(n)*uint64(batch) + 2*uint64(n)
	if n > 1 && accel.Radices(n) == nil {
		need += 2*m*uint64(batch) + m
	}
	if need*uint64(p.AmpBytes()) > b.dev.TotalMem {
		return nil, fmt.Errorf("cuda: FFT of %d×%d %s values needs %.3g GiB; %s has %.3g GiB",
			batch, n, p, float64(need*uint64(p.AmpBytes()))/(1<<30), b.dev.Name, float64(b.dev.TotalMem)/(1<<30))
	}
	f := &fftPlan{b: b, n: n, batch: batch, p: p}
	err := b.do(func() error {
		// Load the module first: its JIT errors are clearer here than at
		// the first transform.
		if _, err := b.function(fftFamily, p, kFFTStage); err != nil {
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

// fftPlan is a planned transform whose buffers live in device memory. Its
// device fields belong to the backend's worker: only functions run
// through do touch them.
type fftPlan struct {
	b        *Backend
	n, batch int
	p        backend.Precision

	buf     [2]uint64 // data and its ping-pong twin; cur holds the data
	cur     int
	tw      uint64 // exp(-2πi t/n), t < n
	radices []int

	// Bluestein: inner is the length-m plan whose buffer holds the chirped
	// data; chirp holds exp(-πi k²/n), spec the spectrum of its conjugate.
	inner       *fftPlan
	chirp, spec uint64
}

func (f *fftPlan) bytes(count int) uintptr { return uintptr(count) * uintptr(f.p.AmpBytes()) }

// upload allocates a device buffer holding v in the plan's precision.
// Worker only.
func (f *fftPlan) upload(v []complex128) (uint64, error) {
	m, err := f.b.alloc(f.bytes(len(v)))
	if err != nil {
		return 0, err
	}
	if err := f.b.write(m, 0, accel.HostAmps(f.p, v), f.bytes(len(v))); err != nil {
		f.b.l.MemFree(m)
		return 0, fmt.Errorf("cuda: FFT tables: %w", err)
	}
	return m, nil
}

// init allocates the plan's buffers and tables. Worker only.
func (f *fftPlan) init() error {
	size := f.n * f.batch
	for i := range f.buf {
		m, err := f.b.alloc(f.bytes(size))
		if err != nil {
			return err
		}
		f.buf[i] = m
	}
	if err := f.b.l.check("cuMemsetD8", f.b.l.MemsetD8(f.buf[0], 0, f.bytes(size))); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if f.radices = accel.Radices(f.n); f.radices != nil || f.n == 1 {
		var err error
		f.tw, err = f.upload(accel.Twiddles(f.n))
		return err
	}
	// Bluestein: a circular convolution of length m ≥ 2n-1 (see accel.Bluestein).
	m, chirp, spec := accel.Bluestein(f.n)
	var err error
	if f.chirp, err = f.upload(chirp); err != nil {
		return err
	}
	if f.spec, err = f.upload(spec); err != nil {
		return err
	}
	f.inner = &fftPlan{b: f.b, n: m, batch: f.batch, p: f.p}
	return f.inner.init()
}

// release frees the plan's device buffers, after the work queued on them,
// and those of its Bluestein plan. Worker only.
func (f *fftPlan) release() error {
	err := f.b.freeAll(append(f.buf[:], f.tw, f.chirp, f.spec))
	f.buf, f.tw, f.chirp, f.spec = [2]uint64{}, 0, 0, 0
	if f.inner != nil {
		if ierr := f.inner.release(); err == nil {
			err = ierr
		}
		f.inner = nil
	}
	if err != nil {
		return fmt.Errorf("cuda: freeing an FFT plan: %w", err)
	}
	return nil
}

// alive reports use after Free. Worker only.
func (f *fftPlan) alive() error {
	if f.buf[0] == 0 {
		return fmt.Errorf("cuda: FFT used after Free")
	}
	return nil
}

// Len is the transform length.
func (f *fftPlan) Len() int { return f.n }

// Batch is the number of vectors.
func (f *fftPlan) Batch() int { return f.batch }

// Precision is the element precision.
func (f *fftPlan) Precision() backend.Precision { return f.p }

// Load copies batch·n host values into the device buffer.
func (f *fftPlan) Load(x []complex128) error {
	if len(x) != f.n*f.batch {
		return fmt.Errorf("cuda: FFT Load of %d values into %d×%d", len(x), f.batch, f.n)
	}
	if err := backend.CheckAmplitudes(x); err != nil {
		return fmt.Errorf("cuda: FFT Load: %w", err)
	}
	host := accel.HostAmps(f.p, x)
	return f.b.do(func() error {
		if err := f.alive(); err != nil {
			return err
		}
		if err := f.b.write(f.buf[f.cur], 0, host, f.bytes(len(x))); err != nil {
			return fmt.Errorf("cuda: FFT Load: %w", err)
		}
		return nil
	})
}

// Read copies the device buffer to the host.
func (f *fftPlan) Read(dst []complex128) error {
	if len(dst) != f.n*f.batch {
		return fmt.Errorf("cuda: FFT Read of %d×%d values into %d", f.batch, f.n, len(dst))
	}
	return f.b.do(func() error {
		if err := f.alive(); err != nil {
			return err
		}
		return accel.ReadAmps(f.b.dv, f.p, f.buf[f.cur], 0, dst)
	})
}

// Forward transforms every vector in place.
func (f *fftPlan) Forward() error { return f.run(false) }

// Inverse applies the inverse transform (normalised by 1/n).
func (f *fftPlan) Inverse() error { return f.run(true) }

func (f *fftPlan) run(inverse bool) error {
	scale := 1.0
	if inverse {
		scale = 1 / float64(f.n)
	}
	return f.b.do(func() error {
		if err := f.alive(); err != nil {
			return err
		}
		if err := f.transform(inverse, scale); err != nil {
			return fmt.Errorf("cuda: FFT of length %d: %w", f.n, err)
		}
		return nil
	})
}

// launch runs fft kernel base over items threads (whole blocks; the fft
// kernels return early past their total). Worker only.
func (f *fftPlan) launch(base string, items uint64, args ...any) error {
	return f.b.runItems(fftFamily, base, f.p, items, args...)
}

func (f *fftPlan) real(x float64) any {
	if f.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// transform runs the stages (or Bluestein's steps) and scales the result
// by scale. Worker only.
func (f *fftPlan) transform(inverse bool, scale float64) error {
	if f.inner == nil {
		if f.n == 1 { // the identity, and 1/n = 1
			return nil
		}
		for _, st := range accel.FFTStages(f.n, f.batch, f.radices, scale) {
			if err := f.launch(kFFTStage, uint64(st.Total), dptr(f.buf[f.cur]), dptr(f.buf[1-f.cur]), dptr(f.tw),
				u32(uint32(f.n)), u32(st.Total), int32(st.R), u32(uint32(st.Ns)), flag(inverse), f.real(st.Scale)); err != nil {
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
	if err := f.launch(kFFTChirpIn, totalM, dptr(f.buf[f.cur]), dptr(f.inner.buf[f.inner.cur]), dptr(f.chirp),
		uint64(f.n), uint64(m), totalM, flag(inverse)); err != nil {
		return err
	}
	if err := f.inner.transform(false, 1); err != nil {
		return err
	}
	if err := f.launch(kFFTPointwise, totalM, dptr(f.inner.buf[f.inner.cur]), dptr(f.spec), uint64(m), totalM); err != nil {
		return err
	}
	if err := f.inner.transform(true, 1); err != nil {
		return err
	}
	return f.launch(kFFTChirpOut, totalN, dptr(f.inner.buf[f.inner.cur]), dptr(f.buf[f.cur]), dptr(f.chirp),
		uint64(f.n), uint64(m), totalN, f.real(scale/float64(m)), flag(inverse))
}

// Sync waits until the queued transforms have finished.
func (f *fftPlan) Sync() error {
	return f.b.do(f.b.sync)
}

// Free releases the plan's device buffers (after the work queued on
// them); later calls fail.
func (f *fftPlan) Free() error {
	return f.b.do(func() error {
		if f.buf[0] == 0 {
			return nil
		}
		return f.release()
	})
}

var _ backend.Spectral = (*Backend)(nil)
