package evolve

import (
	"context"
	"errors"
	"math/cmplx"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeap runs f and returns the most heap (live objects and garbage not
// yet collected) it held above what was held before, sampled every 100 µs
// with the collector set to run at 20% growth so the figure tracks live
// memory.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	read := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-time.After(100 * time.Microsecond):
				peak = max(peak, read())
			}
		}
	}()
	f()
	close(stop)
	return <-done - base
}

func isingSpec(n int, t float64) *Spec {
	s := &Spec{Qubits: n, T: t}
	for k := 0; k < n; k++ {
		p := []byte(strings.Repeat("I", n))
		p[k] = 'X'
		s.Terms = append(s.Terms, circuit.PauliTerm{Coeff: 0.7, Pauli: string(p)})
		if k+1 < n {
			p[k], p[k+1] = 'Z', 'Z'
			s.Terms = append(s.Terms, circuit.PauliTerm{Coeff: 1, Pauli: string(p)})
		}
	}
	return s
}

// TestTrotterStepsCap is issue 17 item 11: 2·10^9 Trotter steps (13 GB in
// 61 s before) fail at once, naming the limit and how to raise it, with
// under 1 MiB allocated; a raised limit lets them through.
func TestTrotterStepsCap(t *testing.T) {
	s := isingSpec(3, 1)
	runtime.GC()
	before, start := heapAllocated(), time.Now()
	_, err := Run(context.Background(), s, Options{Method: "trotter", Steps: 2_000_000_000, Precision: backend.Complex128})
	used, took := heapAllocated()-before, time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "limit of 1000000") || !strings.Contains(err.Error(), "--max-steps") {
		t.Fatalf("2e9 steps: got %v, want the steps limit", err)
	}
	if used > 1<<20 || took > 2*time.Second {
		t.Errorf("failing took %v and %d KiB (bounds 2 s, 1 MiB)", took, used>>10)
	}
	if _, err := Run(context.Background(), s, Options{Method: "trotter", Steps: 20, MaxSteps: 10}); err == nil {
		t.Errorf("20 steps with MaxSteps 10: no error")
	}
	if _, err := Run(context.Background(), s, Options{Method: "trotter", Steps: -1}); err == nil {
		t.Errorf("-1 steps: no error")
	}
}

// TestTrotterChunked: Run takes the Trotter circuit a chunk of steps at a
// time, so the memory it holds does not grow with the steps: 20000 steps
// of 26 gates (520000 gates, which as one circuit would hold over 150 MiB
// of ops and lowered gates) peak under 64 MiB; the result agrees with the
// exact method to the Trotter error, and terms_used counts every gate.
func TestTrotterChunked(t *testing.T) {
	s := isingSpec(4, 2)
	const steps = 20000
	var (
		out *Output
		err error
	)
	peak := peakHeap(func() {
		out, err = Run(context.Background(), s, Options{Method: "trotter", Steps: steps, Order: 2, Precision: backend.Complex128})
	})
	if peak > 64<<20 {
		t.Errorf("Run held up to %d MiB for %d steps", peak>>20, steps)
	}
	t.Logf("%d steps: peak heap %.1f MiB", steps, float64(peak)/(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	c, err := circuit.Trotter(s.Terms, s.Qubits, s.T, steps, 2)
	if err != nil {
		t.Fatal(err)
	}
	if out.Terms != c.GateCount() {
		t.Errorf("terms_used %d, circuit has %d gates", out.Terms, c.GateCount())
	}
	want, err := Run(context.Background(), s, Options{Method: "exact"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range out.Amplitudes {
		a, b := complex(out.Amplitudes[i][0], out.Amplitudes[i][1]), complex(want.Amplitudes[i][0], want.Amplitudes[i][1])
		if d := cmplx.Abs(a - b); d > 1e-7 {
			t.Fatalf("amplitude %d: Trotter %v, exact %v (Trotter error O(t³/steps²) ≈ 1e-8)", i, a, b)
		}
	}
}

// TestCancel is issue 17 item 11: cancelling the context stops both
// methods within a second (a generous deadline on a shared machine).
func TestCancel(t *testing.T) {
	cases := []struct {
		name string
		spec *Spec
		opt  Options
	}{
		// 10^6 steps of 46 gates: minutes of work.
		{"trotter", isingSpec(8, 100), Options{Method: "trotter", Steps: 1_000_000, Precision: backend.Complex128}},
		// a·t = 8·10^6: 4·10^5 substeps of ~40 terms on 2^14 amplitudes.
		{"exact", isingSpec(14, 3e5), Options{Method: "exact"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, c.spec, c.opt)
				done <- err
			}()
			time.Sleep(300 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
			case <-time.After(time.Second):
				t.Fatal("still running 1 s after cancel")
			}
		})
	}
}

// TestChebyshevSubstepsCap: t·Σ|c| beyond MaxSubsteps·20 is an error, not
// an overflowing substep count that silently returned ψ unchanged.
func TestChebyshevSubstepsCap(t *testing.T) {
	_, err := Run(context.Background(), isingSpec(2, 1e300), Options{})
	if err == nil || !strings.Contains(err.Error(), "substeps") {
		t.Fatalf("t = 1e300: got %v, want the substeps limit", err)
	}
}
