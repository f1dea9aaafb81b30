package sim_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// longRun is n random one- and two-qubit gates on q qubits, no
// measurement: one run that exec fuses in pieces.
func longRun(seed uint64, q, n int) *circuit.Circuit {
	r := rand.New(rand.NewPCG(seed, 3))
	c := circuit.New(q)
	for i := 0; i < n; i++ {
		a := r.IntN(q)
		if i%2 == 0 {
			c.Append("rx", []float64{r.Float64() * 3}, a)
		} else {
			c.Append("cx", nil, a, (a+1+r.IntN(q-1))%q)
		}
	}
	return c
}

// TestRunStopsOnCancel: a long run of small gates (where fusing and
// lowering take the time, issue 17 item 6) stops soon after its context
// is cancelled.
func TestRunStopsOnCancel(t *testing.T) {
	c := longRun(1, 4, 400_000)
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: 3})
	ctx, cancel := context.WithCancel(t.Context())
	at := make(chan time.Time, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		at <- time.Now()
		cancel()
	}()
	res, err := s.Run(ctx, c)
	if err == nil {
		res.State.Free()
		t.Skip("the run finished within 100 ms: nothing to cancel on this machine")
	}
	stopped := time.Since(<-at)
	t.Logf("stopped %v after the cancel", stopped.Round(time.Millisecond))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	// Target: well under a second; the bound allows for a loaded machine.
	if stopped > 3*time.Second {
		t.Fatalf("Run went on %v after the cancel", stopped)
	}
}

// TestChunkedFusionSameState: a run longer than exec's fusion piece gives
// the unfused state (to rounding).
func TestChunkedFusionSameState(t *testing.T) {
	c := longRun(2, 6, 20_000)
	run := func(fuse int) []complex128 {
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: fuse})
		res, err := s.Run(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer res.State.Free()
		out := make([]complex128, 1<<6)
		if err := res.State.Read(out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(0), run(4)
	for i := range a {
		if d := a[i] - b[i]; math.Hypot(real(d), imag(d)) > 1e-9 {
			t.Fatalf("amplitude %d: unfused %v, fused %v", i, a[i], b[i])
		}
	}
}
