package sim

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
)

// countdownCtx is a context whose Err reports Canceled from its n-th call.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n--; c.n <= 0 {
		return context.Canceled
	}
	return nil
}

// TestCancelEveryPass: on a large state a cancelled run stops after the
// pass in progress, with cache blocking on and off (the chunked path hands
// the backend one pass at a time there), then moves relabelled qubits back.
func TestCancelEveryPass(t *testing.T) {
	const n = ctxEveryGateQubits + 2
	c, s := math.Cos(0.3), math.Sin(0.3)
	ry := []complex128{complex(c, 0), complex(-s, 0), complex(s, 0), complex(c, 0)}
	var gates []circuit.Gate
	for i := 0; i < 300; i++ {
		gates = append(gates, circuit.Gate{Targets: []int{n - 1 - i%3}, Matrix: ry})
	}
	// 256 KiB chunks block the state; 8 MiB ones hold all of it (one gate
	// per pass then), whatever this machine's L2 makes of the default 0.
	for _, chunk := range []int{0, -1, 256 << 10, 8 << 20} {
		sim := NewWith(cpu.New(cpu.Options{Threads: 1, ChunkBytes: chunk}), Options{Precision: backend.Complex64})
		st, err := sim.sv.NewState(n, backend.Complex64)
		if err != nil {
			t.Fatal(err)
		}
		// Relabelled (cache blocking), the first check comes before the
		// open swaps, the second before the first pass, and the closing
		// swaps run after the cancellation.
		want := 2
		if ba, ok := st.(backend.BatchApplier); ok && ba.ChunkQubits() > 0 && ba.ChunkQubits() < n {
			gs, err := circuit.Fuse(gates, sim.opts.Fuse)
			if err != nil {
				t.Fatal(err)
			}
			if _, open, closing := circuit.RelabelBelow(gs, n, ba.ChunkQubits(), 0, batchWindow, false); open > 0 {
				want = open + 1 + closing
			}
		}
		passes, err := sim.applyGates(&countdownCtx{Context: context.Background(), n: 3}, st, gates, false)
		st.Free()
		if !errors.Is(err, context.Canceled) || passes != want {
			t.Errorf("chunk bytes %d: cancelled at the third check after %d passes (%v), want %d passes", chunk, passes, err, want)
		}
	}
}
