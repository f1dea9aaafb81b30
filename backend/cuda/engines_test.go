package cuda

import (
	"slices"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/kernels"
)

// TestFamilyKernelsInPTX checks, without a GPU, that every kernel of every
// family the backend launches (statevector, fft, kuramoto, lif, fusion) is
// an entry of its family's embedded PTX in each of its precisions and for both
// architectures, with parameters of the types the Go side passes (the
// signature table; an i parameter may be .u32 or .s32, whose bits int32
// carries either way).
func TestFamilyKernelsInPTX(t *testing.T) {
	want := map[rune]string{'p': "u64", 'u': "u64", 'i': "u32"}
	for fam, bases := range familyKernels() {
		for _, p := range []backend.Precision{backend.Complex64, backend.Complex128} {
			ps := precName(p)
			if !slices.Contains(kernels.Precisions(fam), ps) {
				continue // a family launched in one precision only (lif)
			}
			for _, arch := range kernels.PTXArchs() {
				ptx, err := kernels.PTX(fam, ps, arch)
				if err != nil {
					t.Fatal(err)
				}
				entries := ptxEntries(string(ptx))
				if len(entries) == 0 {
					t.Fatalf("%s_%s_sm%d: no .entry found", fam, ps, arch)
				}
				for _, base := range bases {
					sig, ok := signature(base)
					if !ok {
						t.Errorf("%s: no signature", base)
						continue
					}
					name := base + "_" + ps
					params, ok := entries[name]
					if !ok {
						t.Errorf("%s_%s_sm%d has no .entry %s (the Go side launches it)", fam, ps, arch, name)
						continue
					}
					if len(params) != len(sig) {
						t.Errorf("%s (sm%d): PTX has %d parameters, Go passes %d (%s)", name, arch, len(params), len(sig), sig)
						continue
					}
					for i, c := range sig {
						w := want[c]
						if c == 'r' {
							w = ps
						}
						if params[i] != w && !(c == 'i' && params[i] == "s32") {
							t.Errorf("%s (sm%d) parameter %d: PTX .%s, Go passes %c (.%s)", name, arch, i, params[i], c, w)
						}
					}
				}
			}
		}
	}
}

// TestFamilyKernelsCovered: every kernel entry of the engine families'
// PTX is in the launch table, so a kernel added to a .cl file without a
// Go launcher (or a renamed one) shows here.
func TestFamilyKernelsCovered(t *testing.T) {
	for fam, bases := range familyKernels() {
		if fam == family {
			continue // the statevector PTX has entries the backend leaves to OpenCL (the _run variants)
		}
		known := map[string]bool{}
		for _, b := range bases {
			known[b+"_f64"], known[b+"_f32"] = true, true
		}
		for _, ps := range kernels.Precisions(fam) {
			ptx, err := kernels.PTX(fam, ps, kernels.PTXArchs()[0])
			if err != nil {
				t.Fatal(err)
			}
			for name := range ptxEntries(string(ptx)) {
				if !known[name] {
					t.Errorf("%s_%s: PTX entry %s is not in the launch table", fam, ps, name)
				}
			}
		}
	}
}

// TestEngineArgs: checkArgs applies the table to the engine kernels: the
// real parameters follow the precision, the others are fixed.
func TestEngineArgs(t *testing.T) {
	stage := []any{dptr(1), dptr(2), dptr(3), uint32(8), uint32(16), int32(4), uint32(1), int32(0), 1.0}
	if err := checkArgs(kFFTStage, backend.Complex128, stage); err != nil {
		t.Errorf("valid fft_stage arguments refused: %v", err)
	}
	if err := checkArgs(kFFTStage, backend.Complex64, stage); err == nil {
		t.Error("fft_stage: float64 scale accepted for complex64")
	}
	if err := checkArgs(kKick, backend.Complex64, []any{dptr(1), dptr(2), uint64(1), int32(1), dptr(3)}); err == nil {
		t.Error("fu_kick: int32 count accepted")
	}
}

// dptr is a device pointer as a kernel argument.
func dptr(x uint64) accel.Ptr[uint64] { return accel.Ptr[uint64]{M: x} }
