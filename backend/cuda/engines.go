package cuda

import "github.com/prismai/mec/backend/internal/accel"

// The kernel families of the engines (package kernels; the statevector
// family is state.go's family).
const (
	fftFamily      = accel.FFTFamily
	kuramotoFamily = accel.KuramotoFamily
	lifFamily      = accel.LIFFamily
	fusionFamily   = accel.FusionFamily
)

// The engine kernels the backend launches (base names; the PTX entry is
// base + "_f32" or "_f64"). Their signatures are in state.go's table.
const (
	kFFTStage     = accel.KFFTStage
	kFFTChirpIn   = accel.KFFTChirpIn
	kFFTPointwise = accel.KFFTPointwise
	kFFTChirpOut  = accel.KFFTChirpOut

	kKuPhasor = accel.KKuPhasor
	kKuDeriv  = accel.KKuDeriv

	kLIFUpdate  = accel.KLIFUpdate
	kLIFForce   = accel.KLIFForce
	kLIFCount   = accel.KLIFCount
	kLIFCompact = accel.KLIFCompact
	kLIFDeliver = accel.KLIFDeliver
	kSTDPDep    = accel.KSTDPDep
	kSTDPPre    = accel.KSTDPPre
	kSTDPPost   = accel.KSTDPPost
	kSTDPDecay  = accel.KSTDPDecay

	kFold  = accel.KFold
	kKick  = accel.KKick
	kStats = accel.KStats
)
