package cuda_test

import (
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	_ "github.com/prismai/mec/backend/cuda"
	"github.com/prismai/mec/circuit"
)

// EnvExpectSkip, set to 1 where libcuda.so.1 is installed without a GPU
// (CI), makes TestInit require a skip whose reason carries the driver's
// CUDA_ERROR_ name, so a change in how the driver is probed fails loudly.
const EnvExpectSkip = "MEC_EXPECT_CUDA_SKIP"

var cudaErrorRE = regexp.MustCompile(`CUDA_ERROR_[A-Z_]+ \(\d+\)`)

// cudaResult is the cuda driver's Init result.
func cudaResult(t *testing.T) backend.Result {
	t.Helper()
	for _, r := range backend.Init() {
		if r.Name == "cuda" {
			return r
		}
	}
	t.Fatal("cuda driver not registered")
	return backend.Result{}
}

// cuda returns the loaded CUDA backend or skips with its reason (the all
// package's TestRequiredBackends turns that skip into a failure where
// REQUIRE_BACKENDS names cuda).
func cuda(t *testing.T) backend.StateVector {
	t.Helper()
	r := cudaResult(t)
	if r.Status != backend.Loaded {
		t.Skipf("cuda %s: %s", r.Status, r.Reason)
	}
	t.Logf("cuda: %s", r.Device)
	return r.Backend.(backend.StateVector)
}

func TestInit(t *testing.T) {
	r := cudaResult(t)
	t.Logf("cuda %s (priority %d): %s%s", r.Status, r.Priority, r.Device, r.Reason)
	if r.Priority != 30 {
		t.Errorf("priority %d, want 30", r.Priority)
	}
	if os.Getenv(EnvExpectSkip) != "1" {
		return
	}
	if r.Status != backend.Skipped {
		t.Fatalf("%s=1 but the cuda driver is %s (%s%s)", EnvExpectSkip, r.Status, r.Device, r.Reason)
	}
	if !cudaErrorRE.MatchString(r.Reason) {
		t.Errorf("%s=1: skip reason %q carries no CUDA_ERROR_ name and code (is libcuda.so.1 installed?)", EnvExpectSkip, r.Reason)
	}
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, cuda(t))
}

// TestConcurrentUse drives states from several goroutines at once: every
// driver call must go through the backend's one locked thread.
func TestConcurrentUse(t *testing.T) {
	sv := cuda(t)
	const workers, n = 8, 12
	h := circuit.Gate{Targets: []int{0}, Matrix: []complex128{complex(1/1.4142135623730951, 0), complex(1/1.4142135623730951, 0), complex(1/1.4142135623730951, 0), complex(-1/1.4142135623730951, 0)}}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = func() error {
				st, err := sv.NewState(n, backend.Complex128)
				if err != nil {
					return err
				}
				defer st.Free()
				for i := 0; i < 50; i++ {
					g := h
					g.Targets = []int{(i + w) % n}
					if err := st.Apply(&g); err != nil {
						return err
					}
				}
				nrm, err := backend.Norm(st)
				if err != nil {
					return err
				}
				if d := nrm - 1; d > 1e-12 || d < -1e-12 {
					return fmt.Errorf("norm %v after 50 Hadamards", nrm)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
}
