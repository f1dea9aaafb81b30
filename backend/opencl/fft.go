package opencl

import (
	"fmt"
	"math/bits"
	"unsafe"

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
		return nil, fmt.Errorf("opencl: FFT of length %d, batch %d: both must be ≥ 1", n, batch)
	}
	if p == backend.Complex128 && !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
	}
	if m := uint64(1) << bits.Len(uint(2*n)); uint64(batch)*m >= 1<<32 {
		return nil, fmt.Errorf("opencl: FFT of %d×%d values: the kernels index below 2^32", batch, n)
	}
	if uint64(n)*uint64(batch)*uint64(p.AmpBytes())*3 > b.dev.MaxAlloc {
		return nil, fmt.Errorf("opencl: FFT of %d×%d %s values does not fit %s's %d-byte buffers", batch, n, p, b.dev.Name, b.dev.MaxAlloc)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.program("fft", p); err != nil {
		return nil, err
	}
	f := &fftPlan{b: b, n: n, batch: batch, p: p}
	if err := f.init(); err != nil {
		f.release()
		return nil, err
	}
	return f, nil
}

type fftPlan struct {
	b        *Backend
	n, batch int
	p        backend.Precision

	buf     [2]uintptr // data and its ping-pong twin; cur holds the data
	cur     int
	tw      uintptr // exp(-2πi t/n), t < n
	radices []int

	// Bluestein: inner is the length-m plan whose buffer holds the chirped
	// data; chirp holds exp(-πi k²/n), spec the spectrum of its conjugate.
	inner       *fftPlan
	chirp, spec uintptr
}

func (f *fftPlan) bytes(count int) uintptr { return uintptr(count) * uintptr(f.p.AmpBytes()) }

// upload allocates a device buffer holding v in the plan's precision.
func (f *fftPlan) upload(v []complex128) (uintptr, error) {
	m, err := f.b.alloc(f.bytes(len(v)))
	if err != nil {
		return 0, err
	}
	return m, f.b.write(m, 0, accel.HostAmps(f.p, v), f.bytes(len(v)))
}

func (f *fftPlan) init() error {
	size := f.n * f.batch
	for i := range f.buf {
		m, err := f.b.alloc(f.bytes(size))
		if err != nil {
			return err
		}
		f.buf[i] = m
	}
	zero := [16]byte{}
	if err := check("clEnqueueFillBuffer", f.b.l.EnqueueFillBuffer(f.b.queue, f.buf[0], unsafe.Pointer(&zero[0]), uintptr(f.p.AmpBytes()), 0, f.bytes(size), 0, nil, nil)); err != nil {
		return err
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

func (f *fftPlan) release() {
	for _, m := range append(f.buf[:], f.tw, f.chirp, f.spec) {
		if m != 0 {
			f.b.l.ReleaseMemObject(m)
		}
	}
	f.buf, f.tw, f.chirp, f.spec = [2]uintptr{}, 0, 0, 0
	if f.inner != nil {
		f.inner.release()
		f.inner = nil
	}
}

func (f *fftPlan) alive() error {
	if f.buf[0] == 0 {
		return fmt.Errorf("opencl: FFT used after Free")
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
	if err := f.alive(); err != nil {
		return err
	}
	if len(x) != f.n*f.batch {
		return fmt.Errorf("opencl: FFT Load of %d values into %d×%d", len(x), f.batch, f.n)
	}
	if err := backend.CheckAmplitudes(x); err != nil {
		return fmt.Errorf("opencl: FFT Load: %w", err)
	}
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	return f.b.write(f.buf[f.cur], 0, accel.HostAmps(f.p, x), f.bytes(len(x)))
}

// Read copies the device buffer to the host.
func (f *fftPlan) Read(dst []complex128) error {
	if err := f.alive(); err != nil {
		return err
	}
	if len(dst) != f.n*f.batch {
		return fmt.Errorf("opencl: FFT Read of %d×%d values into %d", f.batch, f.n, len(dst))
	}
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	return accel.ReadAmps(f.b.dv, f.p, f.buf[f.cur], 0, dst)
}

// Forward transforms every vector in place.
func (f *fftPlan) Forward() error { return f.run(false) }

// Inverse applies the inverse transform (normalised by 1/n).
func (f *fftPlan) Inverse() error { return f.run(true) }

func (f *fftPlan) run(inverse bool) error {
	if err := f.alive(); err != nil {
		return err
	}
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	scale := 1.0
	if inverse {
		scale = 1 / float64(f.n)
	}
	return f.transform(inverse, scale)
}

func (f *fftPlan) kernel(name string) (uintptr, error) {
	pr, err := f.b.program("fft", f.p)
	if err != nil {
		return 0, err
	}
	suffix := "_f32"
	if f.p == backend.Complex128 {
		suffix = "_f64"
	}
	return f.b.kernel(pr, name+suffix)
}

func (f *fftPlan) real(x float64) any {
	if f.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

func flag(v bool) int32 {
	if v {
		return 1
	}
	return 0
}

// transform runs the stages (or Bluestein's steps) and scales the result
// by scale (b.mu held).
func (f *fftPlan) transform(inverse bool, scale float64) error {
	if f.inner == nil {
		if f.n == 1 { // the identity, and 1/n = 1
			return nil
		}
		k, err := f.kernel("fft_stage")
		if err != nil {
			return err
		}
		for _, st := range accel.FFTStages(f.n, f.batch, f.radices, scale) {
			if err := f.b.launch(k, uintptr(st.Total), 0, mem(f.buf[f.cur]), mem(f.buf[1-f.cur]), mem(f.tw),
				uint32(f.n), st.Total, int32(st.R), uint32(st.Ns), flag(inverse), f.real(st.Scale)); err != nil {
				return err
			}
			f.cur = 1 - f.cur
		}
		return nil
	}
	// Bluestein: the inverse is conj(forward(conj(x))), scaled.
	in, err := f.kernel("fft_chirp_in")
	if err != nil {
		return err
	}
	pw, err := f.kernel("fft_pointwise")
	if err != nil {
		return err
	}
	out, err := f.kernel("fft_chirp_out")
	if err != nil {
		return err
	}
	m := f.inner.n
	totalM := uint64(m * f.batch)
	totalN := uint64(f.n * f.batch)
	if err := f.b.launch(in, uintptr(totalM), 0, mem(f.buf[f.cur]), mem(f.inner.buf[f.inner.cur]), mem(f.chirp),
		uint64(f.n), uint64(m), totalM, flag(inverse)); err != nil {
		return err
	}
	if err := f.inner.transform(false, 1); err != nil {
		return err
	}
	if err := f.b.launch(pw, uintptr(totalM), 0, mem(f.inner.buf[f.inner.cur]), mem(f.spec), uint64(m), totalM); err != nil {
		return err
	}
	if err := f.inner.transform(true, 1); err != nil {
		return err
	}
	return f.b.launch(out, uintptr(totalN), 0, mem(f.inner.buf[f.inner.cur]), mem(f.buf[f.cur]), mem(f.chirp),
		uint64(f.n), uint64(m), totalN, f.real(scale/float64(m)), flag(inverse))
}

// Sync waits until the queued transforms have finished.
func (f *fftPlan) Sync() error {
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	return check("clFinish", f.b.l.Finish(f.b.queue))
}

// Free releases the plan's device buffers.
func (f *fftPlan) Free() error {
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	f.release()
	return nil
}

var _ backend.Spectral = (*Backend)(nil)
