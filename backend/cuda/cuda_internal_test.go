package cuda

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/kernels"
)

// TestMissingLibrary: without libcuda the driver is skipped, naming it.
func TestMissingLibrary(t *testing.T) {
	d := &driver{libs: []string{"libcuda-mec-test-absent.so.1"}}
	b, err := d.Init()
	if b != nil || err == nil {
		t.Fatalf("Init with no library: backend %v, error %v", b, err)
	}
	if !errors.Is(err, backend.ErrSkip) {
		t.Errorf("Init with no library failed instead of skipping: %v", err)
	}
	if !strings.Contains(err.Error(), "libcuda.so.1 not found") {
		t.Errorf("skip reason does not name libcuda.so.1: %v", err)
	}
}

var (
	entryRE = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(\n((?:\s*\.param [^\n]*\n)*)\)`)
	paramRE = regexp.MustCompile(`\.param \.(\w+) \w+`)
)

// ptxEntries parses the kernel entry points of a PTX text into their
// parameter types (u64, u32, f32, ...).
func ptxEntries(ptx string) map[string][]string {
	out := map[string][]string{}
	for _, m := range entryRE.FindAllStringSubmatch(ptx, -1) {
		var params []string
		for _, p := range paramRE.FindAllStringSubmatch(m[2], -1) {
			params = append(params, p[1])
		}
		out[m[1]] = params
	}
	return out
}

// TestKernelsInPTX checks, without a GPU, that every kernel the backend
// launches is an entry of the embedded PTX of both precisions and both
// architectures, with parameters of the types the Go side passes.
func TestKernelsInPTX(t *testing.T) {
	sigs := kernelSignatures()
	for _, p := range []backend.Precision{backend.Complex64, backend.Complex128} {
		ps := precName(p)
		for _, arch := range kernels.PTXArchs() {
			ptx, err := kernels.PTX(family, ps, arch)
			if err != nil {
				t.Fatal(err)
			}
			entries := ptxEntries(string(ptx))
			if len(entries) == 0 {
				t.Fatalf("%s_%s_sm%d: no .entry found", family, ps, arch)
			}
			for base, sig := range sigs {
				name := base + "_" + ps
				params, ok := entries[name]
				if !ok {
					t.Errorf("%s_%s_sm%d has no .entry %s (the Go side launches it)", family, ps, arch, name)
					continue
				}
				if len(params) != len(sig) {
					t.Errorf("%s (sm%d): PTX has %d parameters, Go passes %d (%s)", name, arch, len(params), len(sig), sig)
					continue
				}
				for i, c := range sig {
					want := map[rune]string{'p': "u64", 'u': "u64", 'i': "u32", 'r': ps}[c]
					if params[i] != want && !(c == 'i' && params[i] == "s32") {
						t.Errorf("%s (sm%d) parameter %d: PTX .%s, Go passes %c (.%s)", name, arch, i, params[i], c, want)
					}
				}
			}
		}
	}
}

func TestCheckArgs(t *testing.T) {
	ok := []any{dptr(1), int32(0), 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, uint64(0), uint64(0)}
	if err := checkArgs(kApply1, backend.Complex128, ok); err != nil {
		t.Errorf("valid sv_apply1 arguments refused: %v", err)
	}
	if err := checkArgs(kApply1, backend.Complex64, ok); err == nil {
		t.Error("float64 reals accepted for a complex64 state")
	}
	if err := checkArgs(kApply1, backend.Complex128, ok[:5]); err == nil {
		t.Error("short argument list accepted")
	}
	if err := checkArgs("sv_nonesuch", backend.Complex128, nil); err == nil {
		t.Error("unknown kernel accepted")
	}
}

func TestPTXArch(t *testing.T) {
	for cc, want := range map[int]int{80: 80, 86: 80, 89: 80, 90: 90, 100: 90, 120: 90} {
		if got, err := ptxArch(cc); err != nil || got != want {
			t.Errorf("ptxArch(%d) = %d, %v; want %d", cc, got, err, want)
		}
	}
	if _, err := ptxArch(75); err == nil {
		t.Error("ptxArch(75) accepted")
	}
}

func TestChoose(t *testing.T) {
	old := &Device{Index: 0, Name: "Tesla T4", CCMajor: 7, CCMinor: 5}
	a100 := &Device{Index: 1, Name: "NVIDIA A100-SXM4-80GB", CCMajor: 8, CCMinor: 0}
	h100 := &Device{Index: 2, Name: "NVIDIA H100 80GB HBM3", CCMajor: 9, CCMinor: 0}
	all := []*Device{old, a100, h100}
	for _, c := range []struct {
		sel  string
		want *Device
	}{{"", a100}, {"2", h100}, {"h100", h100}, {"A100", a100}} {
		if d, err := choose(all, c.sel); err != nil || d != c.want {
			t.Errorf("choose(%q) = %v, %v; want %v", c.sel, d, err, c.want)
		}
	}
	for _, sel := range []string{"", "0", "t4"} {
		devs := all
		if sel == "" {
			devs = all[:1]
		}
		if _, err := choose(devs, sel); !errors.Is(err, backend.ErrSkip) || !strings.Contains(err.Error(), "8.0") {
			t.Errorf("choose(%q) of a cc 7.5 device: %v, want a skip naming 8.0", sel, err)
		}
	}
	for _, sel := range []string{"7", "-1", "mi300"} {
		if _, err := choose(all, sel); err == nil || errors.Is(err, backend.ErrSkip) {
			t.Errorf("choose(%q): %v, want a failure", sel, err)
		}
	}
}

// TestDriverLibrary binds every driver API function from libcuda.so.1
// where it is installed (no GPU needed) and checks a call through purego.
// With MEC_EXPECT_CUDA_SKIP=1 (CI installs the library) it must load.
func TestDriverLibrary(t *testing.T) {
	l, err := openLib(libNames())
	if err != nil {
		if os.Getenv("MEC_EXPECT_CUDA_SKIP") == "1" {
			t.Fatalf("MEC_EXPECT_CUDA_SKIP=1 but %v", err)
		}
		t.Skip(err)
	}
	if got := l.errName(1); got != "CUDA_ERROR_INVALID_VALUE" {
		t.Errorf("cuGetErrorName(1) = %q, want CUDA_ERROR_INVALID_VALUE", got)
	}
	if got := l.check("cuX", 100).Error(); got != "cuX: CUDA_ERROR_NO_DEVICE (100)" {
		t.Errorf("check(100) = %q", got)
	}
	var v int32
	if err := l.check("cuDriverGetVersion", l.DriverGetVersion(&v)); err != nil {
		t.Fatal(err)
	}
	t.Logf("libcuda.so.1: driver API version %s", versionString(v))
	// Calls that need a device or context fail cleanly without one; this
	// exercises purego's marshalling of the widest signatures.
	if code := l.LaunchKernel(0, 1, 1, 1, 1, 1, 1, 0, 0, nil, nil); code == cuSuccess {
		t.Error("cuLaunchKernel of a null function succeeded")
	}
	if code := l.MemsetD8(0, 0xff, 16); code == cuSuccess {
		t.Error("cuMemsetD8 of a null pointer succeeded")
	}
}
