//go:build purego || !amd64

package cpu

// hasAVX2FMA reports whether this build has the assembly kernels and the
// CPU can run them: never, in this build.
const hasAVX2FMA = false

// useAVX2 selects the assembly kernels; always false in this build.
var useAVX2 = false

// hasAVX512 and useAVX512: no AVX-512 kernels in this build.
const hasAVX512 = false

var useAVX512 = false

// The pure-Go twins of the assembly entry points of simd_amd64.go.

func apply1RunC128(x, y []complex128, m *[4]complex128) { apply1RunGeneric(x, y, m) }
func apply1RunC64(x, y []complex64, m *[4]complex64)    { apply1RunGeneric(x, y, m) }
func apply1LowC128(a []complex128, m *[4]complex128)    { apply1LowGeneric(a, m) }
func apply1LowC64(a []complex64, m *[4]complex64)       { apply1LowGeneric(a, m) }

func apply1BlocksC128(a []complex128, half int, m *[4]complex128) { apply1BlocksGeneric(a, half, m) }
func apply1BlocksC64(a []complex64, half int, m *[4]complex64)    { apply1BlocksGeneric(a, half, m) }

// No dense assembly kernels in this build: applyDense runs its own loop.

func applyDenseC128(a []complex128, s *gateShape, m []complex128, lo, hi int) bool { return false }
func applyDenseC64(a []complex64, s *gateShape, m []complex64, lo, hi int) bool    { return false }

// applyDenseLow is the lane kernels' pure-Go loop in this build.
func applyDenseLow[T amp](a []T, p *lowPlan, lo, hi int) { applyDenseLowGeneric(a, p, lo, hi) }

// denseConsts: no dense kernels, no constants, in this build.
func denseConsts[T amp](m []T, d int) any { return nil }

// diagPlan, newDiagPlan and diagRuns: no diagonal kernels in this build
// (applyDiagGroups runs its own loop).
type diagPlan struct{}

func newDiagPlan[T amp](offs []uint64, fac []T) diagPlan { return diagPlan{} }

func diagRuns[T amp](a []T, p *diagPlan, base, n uint64) bool { return false }
