package cuda

import (
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
)

// The kernel families of the engines (package kernels; the statevector
// family is state.go's family).
const (
	fftFamily      = "fft"
	kuramotoFamily = "kuramoto"
	lifFamily      = "lif"
	fusionFamily   = "fusion"
)

// The engine kernels the backend launches (base names; the PTX entry is
// base + "_f32" or "_f64"). Their signatures are in state.go's table.
const (
	kFFTStage     = "fft_stage"
	kFFTChirpIn   = "fft_chirp_in"
	kFFTPointwise = "fft_pointwise"
	kFFTChirpOut  = "fft_chirp_out"

	kKuPhasor = "ku_phasor"
	kKuDeriv  = "ku_deriv"

	kLIFUpdate  = "lif_update"
	kLIFForce   = "lif_force"
	kLIFCount   = "lif_count"
	kLIFCompact = "lif_compact"
	kLIFDeliver = "lif_deliver"

	kFold  = "fu_fold"
	kKick  = "fu_kick"
	kStats = "fu_stats"
)

// runKernel launches kernel base of family in precision p over grid
// blocks of block threads after checking args against its signature.
// Worker only.
func (b *Backend) runKernel(family, base string, p backend.Precision, grid, block uint64, args ...any) error {
	if err := checkArgs(base, p, args); err != nil {
		return err
	}
	fn, err := b.function(family, p, base)
	if err != nil {
		return err
	}
	return b.launch(fn, grid, block, args...)
}

// runItems launches kernel base over items threads rounded up to whole
// blocks of up to gateBlock (OpenCL's launch with a default work-group):
// only for kernels that return early for items past their count. Worker
// only.
func (b *Backend) runItems(family, base string, p backend.Precision, items uint64, args ...any) error {
	fn, err := b.function(family, p, base)
	if err != nil {
		return err
	}
	block := blockFor(fn)
	return b.runKernel(family, base, p, (items+block-1)/block, block, args...)
}

// runGroups launches kernel base over groups whole blocks of exactly wg
// (MEC_WG) threads: the kernels whose work-group arrays and tree
// reductions are sized by MEC_WG. Worker only.
func (b *Backend) runGroups(family, base string, p backend.Precision, groups uint64, args ...any) error {
	fn, err := b.function(family, p, base)
	if err != nil {
		return err
	}
	if fn.maxThreads < wg {
		return fmt.Errorf("cuda: %s allows blocks of %d threads; it needs %d (MEC_WG)", fn.name, fn.maxThreads, wg)
	}
	return b.runKernel(family, base, p, groups, wg, args...)
}

// readF64 copies len(dst) doubles at device address src to dst. Worker
// only.
func (b *Backend) readF64(src uint64, dst []float64) error {
	if len(dst) == 0 {
		return nil
	}
	return b.read(src, 0, unsafe.Pointer(&dst[0]), uintptr(len(dst))*8)
}

// writeF64 copies x to device address dst. Worker only.
func (b *Backend) writeF64(dst uint64, x []float64) error {
	if len(x) == 0 {
		return nil
	}
	return b.write(dst, 0, unsafe.Pointer(&x[0]), uintptr(len(x))*8)
}

// sync waits for the backend's stream. Worker only.
func (b *Backend) sync() error {
	if err := b.l.check("cuStreamSynchronize", b.l.StreamSynchronize(b.stream)); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

// freeAll waits once for the device's queued work, then frees every
// buffer of ms (zeros skipped), returning the first error. Worker only.
func (b *Backend) freeAll(ms []uint64) error {
	var first error
	if err := b.l.check("cuCtxSynchronize", b.l.CtxSynchronize()); err != nil {
		first = fmt.Errorf("cuda: %w", err)
	}
	for _, m := range ms {
		if m == 0 {
			continue
		}
		if err := b.l.check("cuMemFree", b.l.MemFree(m)); err != nil && first == nil {
			first = fmt.Errorf("cuda: %w", err)
		}
	}
	return first
}

// u32 passes a kernel's .u32 parameter: launch stores an int32's four
// bytes, which are the same bits as the uint32's.
func u32(x uint32) int32 { return int32(x) }

// flag is a kernel's i32 boolean.
func flag(v bool) int32 {
	if v {
		return 1
	}
	return 0
}
