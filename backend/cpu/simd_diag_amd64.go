//go:build amd64 && !purego

package cpu

import "fmt"

// diagRunsAVX2C64 multiplies k runs of n amplitudes by their factors:
//
//	for j := 0; j < k; j++ {
//		x := a[offs[j]/8:][:n]
//		for i := range x {
//			x[i] *= f[j]
//		}
//	}
//
// with the constants of f[j] at c[16·j:] (see diagConsts).
//
//go:noescape
func diagRunsAVX2C64(a *complex64, offs *uint64, k, n int, c *float32)

// diagRunsAVX2C128 is diagRunsAVX2C64 for complex128 (offs[j]/16), the
// constants of f[j] at c[8·j:].
//
//go:noescape
func diagRunsAVX2C128(a *complex128, offs *uint64, k, n int, c *float64)

// diagPlan is a diagonal's factors other than 1 for the diagonal kernels:
// their offsets from a group's base in bytes and their constants.
type diagPlan struct {
	offs []uint64  // byte offsets
	maxo uint64    // largest offset, in amplitudes
	c64  []float32 // per factor f: (re, im)×4, (−im, re)×4
	c128 []float64 // per factor f: (re, im)×2, (−im, re)×2
}

func newDiagPlan[T amp](offs []uint64, fac []T) diagPlan {
	var p diagPlan
	var z T
	_, is64 := any(z).(complex64)
	for j, o := range offs {
		f := complex128(fac[j])
		re, im := real(f), imag(f)
		p.maxo = max(p.maxo, o)
		if is64 {
			p.offs = append(p.offs, o*8)
			for range 4 {
				p.c64 = append(p.c64, float32(re), float32(im))
			}
			for range 4 {
				p.c64 = append(p.c64, float32(-im), float32(re))
			}
		} else {
			p.offs = append(p.offs, o*16)
			p.c128 = append(p.c128, re, im, re, im, -im, re, -im, re)
		}
	}
	return p
}

// diagRuns multiplies the runs of n amplitudes at a[base+o] (o the plan's
// offsets) by their factors through the assembly kernels; it reports
// false, doing nothing, when they are off.
func diagRuns[T amp](a []T, p *diagPlan, base, n uint64) bool {
	if !useAVX2 || len(p.offs) == 0 || n == 0 {
		return useAVX2
	}
	if base+p.maxo+n > uint64(len(a)) {
		panic(fmt.Sprintf("cpu: diagonal kernel index %d out of range [0,%d)", base+p.maxo+n-1, len(a)))
	}
	switch a := any(a).(type) {
	case []complex64:
		diagRunsAVX2C64(&a[base], &p.offs[0], len(p.offs), int(n), &p.c64[0])
	case []complex128:
		diagRunsAVX2C128(&a[base], &p.offs[0], len(p.offs), int(n), &p.c128[0])
	}
	return true
}
