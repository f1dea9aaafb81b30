package cpu

import (
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// TestApplyBatch: cache blocking applies random gates (dense, diagonal,
// monomial, controlled, on every qubit including the lanes) exactly as
// Apply one by one does, in both precisions, with chunks of 2^4 and 2^6
// amplitudes on a 10-qubit state, and makes one pass per run of two or
// more gates below the chunk.
func TestApplyBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 10
	var gs []circuit.Gate
	for len(gs) < 300 {
		k := 1 + r.IntN(3)
		qs := r.Perm(n)[:k+1]
		if r.IntN(3) > 0 { // mostly low qubits, so that runs form
			qs = r.Perm(4)[:k+1]
		}
		g := circuit.Gate{Targets: qs[:k], Matrix: circuit.RandomUnitary(r, 1<<k)}
		switch r.IntN(5) {
		case 0:
			g.Controls = qs[k:]
		case 1:
			g.Matrix, g.Diagonal = []complex128{1, 1i}, true
			g.Targets = qs[:1]
		}
		gs = append(gs, g)
	}
	for _, p := range []backend.Precision{backend.Complex64, backend.Complex128} {
		for _, cb := range []int{-1, 16 * int(p.AmpBytes()), 64 * int(p.AmpBytes())} {
			be := New(Options{ChunkBytes: cb})
			one, _ := be.NewState(n, p)
			batch, _ := be.NewState(n, p)
			for i := range gs {
				if err := one.Apply(&gs[i]); err != nil {
					t.Fatal(err)
				}
			}
			passes, err := batch.(backend.BatchApplier).ApplyBatch(gs)
			if err != nil {
				t.Fatal(err)
			}
			c := batch.(backend.BatchApplier).ChunkQubits()
			want := 0
			for i := 0; i < len(gs); {
				j := i
				for j < len(gs) && c > 0 && gateBelow(&gs[j], c) {
					j++
				}
				want++
				i = max(j, i+1)
			}
			if passes != want {
				t.Errorf("%s chunk %d bytes: %d passes, want %d", p, cb, passes, want)
			}
			if cb > 0 && passes > len(gs)*3/4 {
				t.Errorf("%s chunk %d bytes: %d passes for %d gates: no blocking", p, cb, passes, len(gs))
			}
			a, b := make([]complex128, 1<<n), make([]complex128, 1<<n)
			one.Read(a)
			batch.Read(b)
			for i := range a {
				if cmplx.Abs(a[i]-b[i]) > 1e-5 {
					t.Fatalf("%s chunk %d bytes: amplitude %d: batch %v, one by one %v", p, cb, i, b[i], a[i])
				}
			}
		}
	}
}

// TestChunkBytes: the default chunk is a core's L2 cache kept within
// 256 KiB–8 MiB, 1 MiB where the system does not say; ChunkBytes set by
// the caller wins, and a negative one turns blocking off.
func TestChunkBytes(t *testing.T) {
	for l2, want := range map[int]int{0: 1 << 20, 2 << 20: 2 << 20, 48 << 10: 256 << 10, 64 << 20: 8 << 20} {
		if got := chunkBytes(l2); got != want {
			t.Errorf("chunkBytes(%d) = %d, want %d", l2, got, want)
		}
	}
	for _, c := range []struct {
		opt, chunk, want int
	}{{0, 2 << 20, 18}, {0, 0, 17}, {1 << 16, 2 << 20, 13}, {-1, 2 << 20, 0}} {
		b := &Backend{opts: Options{ChunkBytes: c.opt}, chunk: c.chunk}
		st := newState[complex64](b, 20)
		if got := st.ChunkQubits(); got != c.want {
			t.Errorf("ChunkBytes %d, L2 chunk %d: %d chunk qubits, want %d", c.opt, c.chunk, got, c.want)
		}
	}
}
