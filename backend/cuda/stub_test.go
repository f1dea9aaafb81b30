package cuda

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebitengine/purego"
	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// TestStubDriver loads testdata/stubcuda.c, built here as a shared library
// with the system C compiler, in place of libcuda.so.1: the real Init path,
// purego's calls with the driver's C signatures (including cuLaunchKernel's
// stack-passed arguments), and kernelParams read by C code. It skips when
// no C compiler is installed.
func TestStubDriver(t *testing.T) {
	cc := ""
	for _, c := range []string{"cc", "gcc", "clang"} {
		if p, err := exec.LookPath(c); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		t.Skip("no C compiler to build the stub driver")
	}
	so := filepath.Join(t.TempDir(), "libcudastub.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-O1", "-o", so, filepath.Join("testdata", "stubcuda.c")).CombinedOutput(); err != nil {
		t.Fatalf("building the stub driver: %v\n%s", err, out)
	}
	be, err := (&driver{libs: []string{so}}).Init()
	if err != nil {
		t.Fatalf("Init on the stub driver: %v", err)
	}
	b := be.(*Backend)
	h, err := purego.Dlopen(so, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Fatal(err)
	}
	var stubErrors func() int32
	var lastBlock func() uint32
	purego.RegisterLibFunc(&stubErrors, h, "stub_error_count")
	purego.RegisterLibFunc(&lastBlock, h, "stub_last_block_size")

	for _, want := range []string{"Stub GPU (cc 9.0)", "2 SMs", "1.0 GiB", "driver CUDA 12.2", "PTX compute_90"} {
		if !strings.Contains(b.Device(), want) {
			t.Errorf("Device() = %q, want %q in it", b.Device(), want)
		}
	}

	const n = 10
	st, err := b.NewState(n, backend.Complex128)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a := make([]complex128, 1<<n)
	var want float64
	for i := range a {
		a[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		want += real(a[i])*real(a[i]) + imag(a[i])*imag(a[i])
	}
	if err := st.Load(a); err != nil {
		t.Fatal(err)
	}
	got, err := st.(*State).Norm()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("Norm through the stub = %v, want %v", got, want)
	}
	if lastBlock() != wg {
		t.Errorf("sv_norm launched with blocks of %d, want %d", lastBlock(), wg)
	}
	s := 1 / math.Sqrt2
	for _, g := range []circuit.Gate{
		{Targets: []int{0}, Matrix: []complex128{complex(s, 0), complex(0, s), complex(0, s), complex(s, 0)}},
		{Targets: []int{7}, Controls: []int{2}, Matrix: []complex128{complex(0, 1), 2, complex(-0.5, 3), complex(0.25, -1)}},
	} {
		if err := st.Apply(&g); err != nil {
			t.Fatal(err)
		}
		circuit.ApplyToVector(a, &g)
	}
	back := make([]complex128, 1<<n)
	if err := st.Read(back); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if cmplx.Abs(back[i]-a[i]) > 1e-12*(1+cmplx.Abs(a[i])) {
			t.Fatalf("amplitude %d after sv_apply1 through the stub: %v, want %v", i, back[i], a[i])
		}
	}
	if err := st.Free(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if e := stubErrors(); e != 0 {
		t.Errorf("the stub driver saw %d misuses", e)
	}
}
