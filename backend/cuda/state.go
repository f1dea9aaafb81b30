package cuda

import (
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// The statevector kernels the backend launches (base names; the PTX entry
// is base + "_f32" or "_f64").
const (
	kApply1   = accel.KApply1
	kDiag     = accel.KDiag
	kSwap     = accel.KSwap
	kNorm     = accel.KNorm
	kPauli    = accel.KPauli
	kInner    = accel.KInner
	kMarginal = accel.KMarginal
	kBlockSum = accel.KBlockSum
)

// family is the kernel family of the statevector kernels.
const family = accel.SVFamily

// applyK is the dense kernel on k = 2..6 targets.
func applyK(k int) string { return accel.KApply(k) }

// signature gives a kernel the backend launches with its parameters as Go
// passes them, one letter each: p a device pointer (accel.Ptr), u a u64,
// i a 32-bit integer (int32 or uint32), r a real (the state's precision). launch is checked against it, and the
// tests check it against the embedded PTX.
func signature(base string) (string, bool) {
	switch base {
	case kApply1:
		return "pirrrrrrrruu", true
	case applyK(2), applyK(3), applyK(4), applyK(5), applyK(6):
		return "ppuuuuu", true
	case kDiag:
		return "ppuiuuu", true
	case kSwap:
		return "puii", true
	case kNorm:
		return "pup", true
	case kPauli:
		return "puuup", true
	case kInner:
		return "ppup", true
	case kMarginal:
		return "puiuuuup", true
	case kBlockSum:
		return "puup", true
	// fft (kernels/fft.cl); its .u32 parameters are passed as uint32 (or
	// int32, the same bits).
	case kFFTStage:
		return "pppiiiiir", true
	case kFFTChirpIn:
		return "pppuuui", true
	case kFFTPointwise:
		return "ppuu", true
	case kFFTChirpOut:
		return "pppuuuri", true
	// kuramoto (kernels/kuramoto.cl).
	case kKuPhasor:
		return "pippp", true
	case kKuDeriv:
		return "pppppipppriiirppppp", true
	// lif (kernels/lif.cl), launched in f64 only.
	case kLIFUpdate:
		return "ppppppppppppppui", true
	case kLIFForce:
		return "pppppppiu", true
	case kLIFCount:
		return "pip", true
	case kLIFCompact:
		return "pipipp", true
	case kLIFDeliver:
		return "ppppppppppiippppui", true
	case kSTDPDep:
		return "ppppppppiipi", true
	case kSTDPPre:
		return "pppiipii", true
	case kSTDPPost:
		return "ppppppppii", true
	case kSTDPDecay:
		return "ppi", true
	// fusion (kernels/fusion.cl).
	case kFold:
		return "puuuup", true
	case kKick:
		return "ppuup", true
	case kStats:
		return "pup", true
	}
	return "", false
}

// familyKernels lists, per kernel family, every kernel the backend
// launches (base names; each has a signature).
func familyKernels() map[string][]string {
	return map[string][]string{
		family:         {kApply1, applyK(2), applyK(3), applyK(4), applyK(5), applyK(6), kDiag, kSwap, kNorm, kPauli, kInner, kMarginal, kBlockSum},
		fftFamily:      {kFFTStage, kFFTChirpIn, kFFTPointwise, kFFTChirpOut},
		kuramotoFamily: {kKuPhasor, kKuDeriv},
		lifFamily:      {kLIFUpdate, kLIFForce, kLIFCount, kLIFCompact, kLIFDeliver, kSTDPDep, kSTDPPre, kSTDPPost, kSTDPDecay},
		fusionFamily:   {kFold, kKick, kStats},
	}
}

// kernelSignatures lists every kernel the backend launches with its
// signature.
func kernelSignatures() map[string]string {
	m := map[string]string{}
	for _, base := range []string{kApply1, applyK(2), applyK(3), applyK(4), applyK(5), applyK(6), kDiag, kSwap, kNorm, kPauli, kInner, kMarginal, kBlockSum} {
		m[base], _ = signature(base)
	}
	return m
}

// checkArgs verifies args against the signature of kernel base in
// precision p (a programming error if it fails).
func checkArgs(base string, p backend.Precision, args []any) error {
	sig, ok := signature(base)
	if !ok {
		return fmt.Errorf("cuda: no signature for kernel %s", base)
	}
	if len(args) != len(sig) {
		return fmt.Errorf("cuda: %s takes %d arguments, got %d", base, len(sig), len(args))
	}
	for i, a := range args {
		var want bool
		switch sig[i] {
		case 'p':
			_, want = a.(accel.Ptr[uint64])
		case 'u':
			_, want = a.(uint64)
		case 'i':
			_, want = a.(int32)
			if !want {
				_, want = a.(uint32)
			}
		case 'r':
			if p == backend.Complex128 {
				_, want = a.(float64)
			} else {
				_, want = a.(float32)
			}
		}
		if !want {
			return fmt.Errorf("cuda: %s argument %d is %T, want kind %c", base, i, a, sig[i])
		}
	}
	return nil
}

// State is a state vector in CUDA device memory: accel's Vector on this
// backend's device.
type State = accel.Vector[uint64]

// NewState allocates |0…0⟩ on n qubits in device memory, refusing before
// allocating what exceeds the device's memory or what is free of it.
func (b *Backend) NewState(n int, p backend.Precision) (backend.State, error) {
	if n >= 0 && n <= 40 && (p == backend.Complex128 || p == backend.Complex64) {
		if size := backend.StateBytes(n, p); uint64(size) > b.dev.TotalMem {
			return nil, fmt.Errorf("cuda: a %d-qubit %s state needs %.3g GiB; %s has %.3g GiB",
				n, p, float64(size)/(1<<30), b.dev.Name, float64(b.dev.TotalMem)/(1<<30))
		}
	}
	fits := func(size uintptr) error {
		var free, total uintptr
		if err := b.l.check("cuMemGetInfo", b.l.MemGetInfo(&free, &total)); err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		if uint64(size) > uint64(free) {
			return fmt.Errorf("cuda: a %d-qubit %s state needs %.3g GiB; %s has %.3g GiB free of %.3g GiB",
				n, p, float64(size)/(1<<30), b.dev.Name, float64(free)/(1<<30), float64(total)/(1<<30))
		}
		return nil
	}
	s, err := accel.NewVector(accel.Device[uint64](b.dv), n, p, fits)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// gateBlock is the block size of gate kernels.
const gateBlock = 256

// blockFor is gateBlock, or the largest power of two fn can launch with
// when that is smaller.
func blockFor(fn *function) uint64 {
	b := uint64(gateBlock)
	for b > 1 && b > uint64(fn.maxThreads) {
		b /= 2
	}
	return b
}

// wg is MEC_WG in kernels/compat.h: the block size of reductions.
const wg = accel.WG

var _ backend.StateVector = (*Backend)(nil)
