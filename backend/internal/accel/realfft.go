package accel

import (
	"fmt"
	"math"

	"github.com/prismai/mec/backend"
)

// RealFFTPlan is backend.RealFFT on a device through an FFTPlan of the same
// length: Forward uploads the samples as complex values with zero
// imaginary parts, transforms them on the device and keeps the n/2+1
// first coefficients of each vector; Inverse uploads the Hermitian
// completion X[n−k] = conj X[k] of the coefficients, transforms it back and
// keeps the real parts. The sample and coefficient buffers are host
// copies, so it moves what the coupling needs (a spike vector and its
// spectrum) once each way; on the device it costs the complex transform.
type RealFFTPlan[M Handle] struct {
	c     *FFTPlan[M]
	n, h  int // h = n/2+1 coefficients per vector
	x     []float64
	spec  []complex128
	full  []complex128 // batch·n scratch for the device's buffer
	freed bool
}

// NewRealFFTPlan plans batch real transforms of length n in precision p on
// d. The caller has checked n, batch and p (CheckFFT) and refused what
// exceeds the device.
func NewRealFFTPlan[M Handle](d Device[M], n, batch int, p backend.Precision) (*RealFFTPlan[M], error) {
	c, err := NewFFTPlan(d, n, batch, p)
	if err != nil {
		return nil, err
	}
	h := n/2 + 1
	return &RealFFTPlan[M]{c: c, n: n, h: h, x: make([]float64, n*batch), spec: make([]complex128, h*batch), full: make([]complex128, n*batch)}, nil
}

func (f *RealFFTPlan[M]) errorf(format string, args ...any) error {
	return fmt.Errorf(f.c.d.Name()+": real "+format, args...)
}

func (f *RealFFTPlan[M]) live() error {
	if f.freed {
		return f.errorf("FFT used after Free")
	}
	return nil
}

// Len is the transform length n.
func (f *RealFFTPlan[M]) Len() int { return f.n }

// Batch is the number of vectors.
func (f *RealFFTPlan[M]) Batch() int { return f.c.batch }

// Precision is the precision of the device transform.
func (f *RealFFTPlan[M]) Precision() backend.Precision { return f.c.p }

// LoadReal copies batch·n samples into the sample buffer.
func (f *RealFFTPlan[M]) LoadReal(x []float64) error {
	if err := f.live(); err != nil {
		return err
	}
	if len(x) != len(f.x) {
		return f.errorf("FFT LoadReal of %d values into %d×%d", len(x), f.c.batch, f.n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return f.errorf("FFT LoadReal: value %d is %v", i, v)
		}
		if f.c.p == backend.Complex64 && math.Abs(v) > math.MaxFloat32 {
			return f.errorf("FFT LoadReal: value %d (%v) is out of the precision's range", i, v)
		}
	}
	copy(f.x, x)
	return nil
}

// ReadReal copies the sample buffer out.
func (f *RealFFTPlan[M]) ReadReal(dst []float64) error {
	if err := f.live(); err != nil {
		return err
	}
	if len(dst) != len(f.x) {
		return f.errorf("FFT ReadReal of %d×%d values into %d", f.c.batch, f.n, len(dst))
	}
	copy(dst, f.x)
	return nil
}

// Load copies batch·(n/2+1) coefficients into the spectrum buffer.
func (f *RealFFTPlan[M]) Load(x []complex128) error {
	if err := f.live(); err != nil {
		return err
	}
	if len(x) != len(f.spec) {
		return f.errorf("FFT Load of %d coefficients into %d×%d", len(x), f.c.batch, f.h)
	}
	if err := backend.CheckAmplitudes(x); err != nil {
		return f.errorf("FFT Load: %w", err)
	}
	copy(f.spec, x)
	return nil
}

// Read copies the spectrum buffer out.
func (f *RealFFTPlan[M]) Read(dst []complex128) error {
	if err := f.live(); err != nil {
		return err
	}
	if len(dst) != len(f.spec) {
		return f.errorf("FFT Read of %d×%d coefficients into %d", f.c.batch, f.h, len(dst))
	}
	copy(dst, f.spec)
	return nil
}

// Forward transforms every sample vector into its n/2+1 coefficients.
func (f *RealFFTPlan[M]) Forward() error {
	if err := f.live(); err != nil {
		return err
	}
	for i, v := range f.x {
		f.full[i] = complex(v, 0)
	}
	if err := f.c.Load(f.full); err != nil {
		return err
	}
	if err := f.c.Forward(); err != nil {
		return err
	}
	if err := f.c.Read(f.full); err != nil {
		return err
	}
	for b := range f.c.batch {
		copy(f.spec[b*f.h:(b+1)*f.h], f.full[b*f.n:b*f.n+f.h])
	}
	return nil
}

// Inverse transforms every spectrum back into n real samples (normalised
// by 1/n; the imaginary parts of X[0] and, for even n, X[n/2] ignored).
func (f *RealFFTPlan[M]) Inverse() error {
	if err := f.live(); err != nil {
		return err
	}
	n, h := f.n, f.h
	for b := range f.c.batch {
		s, z := f.spec[b*h:(b+1)*h], f.full[b*n:(b+1)*n]
		z[0] = complex(real(s[0]), 0)
		for k := 1; k < h; k++ {
			z[k] = s[k]
			z[n-k] = complex(real(s[k]), -imag(s[k]))
		}
		if n%2 == 0 {
			z[n/2] = complex(real(s[n/2]), 0)
		}
	}
	if err := f.c.Load(f.full); err != nil {
		return err
	}
	if err := f.c.Inverse(); err != nil {
		return err
	}
	if err := f.c.Read(f.full); err != nil {
		return err
	}
	for i, v := range f.full {
		f.x[i] = real(v)
	}
	return nil
}

// Free releases the device plan; later calls fail.
func (f *RealFFTPlan[M]) Free() error {
	if f.freed {
		return nil
	}
	f.freed, f.x, f.spec, f.full = true, nil, nil, nil
	return f.c.Free()
}

var _ backend.RealFFT = (*RealFFTPlan[uint64])(nil)
