package sim_test

import (
	"context"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// longCircuit is a random circuit of count gates on n qubits: the gates
// of qasm-generated stress files (h, x, t, s, rz, cx, cz, ccx).
func longCircuit(rng *rand.Rand, n, count int) *circuit.Circuit {
	c := circuit.New(n)
	c.Clbits = 0
	for range count {
		p := rng.Perm(n)
		switch rng.IntN(8) {
		case 0:
			c.Append("h", nil, p[0])
		case 1:
			c.Append("x", nil, p[0])
		case 2:
			c.Append("t", nil, p[0])
		case 3:
			c.Append("s", nil, p[0])
		case 4:
			c.Append("rz", []float64{rng.Float64() * 6}, p[0])
		case 5:
			c.Append("cx", nil, p[0], p[1])
		case 6:
			c.Append("cz", nil, p[0], p[1])
		default:
			c.Append("ccx", nil, p[0], p[1], p[2])
		}
	}
	return c
}

// TestFuseLongCircuit is issue 17 item 10: fusing a long circuit (5·10^4
// gates on 4 qubits, where one block can absorb everything, and 2·10^4 on
// 10 qubits) gives the state of the unfused run to 1e-9 at every block
// size, in both precisions' engines (complex128 here).
func TestFuseLongCircuit(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 100))
	be := cpu.New(cpu.Options{})
	for _, sh := range []struct{ n, count int }{{4, 50000}, {10, 20000}} {
		c := longCircuit(rng, sh.n, sh.count)
		run := func(fuse int) []complex128 {
			s := sim.NewWith(be, sim.Options{Precision: backend.Complex128, Fuse: fuse})
			res, err := s.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			defer res.State.Free()
			v := make([]complex128, 1<<sh.n)
			if err := res.State.Read(v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		want := run(0)
		for f := 2; f <= circuit.MaxDenseQubits; f++ {
			got := run(f)
			worst := 0.0
			for i := range got {
				worst = max(worst, cmplx.Abs(got[i]-want[i]))
			}
			if worst > 1e-9 {
				t.Errorf("%d qubits, %d gates, fuse %d: state differs from the unfused run by %.3g", sh.n, sh.count, f, worst)
			}
		}
	}
}

// TestCacheBlocking is issue 12 item 5: with chunks of 2^7 amplitudes on
// 11 qubits (so that runs of fused blocks on qubits 0–6 are applied chunk
// by chunk, after circuit.GroupBelow), a long random circuit gives the
// state of the unblocked run to 1e-10 (complex128) and 1e-5 (complex64)
// at fuse 2–5, in fewer passes over the state.
func TestCacheBlocking(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 5))
	const n = 11
	c := longCircuit(rng, n, 3000)
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		run := func(chunkBytes, fuse int) ([]complex128, int) {
			be := cpu.New(cpu.Options{ChunkBytes: chunkBytes})
			s := sim.NewWith(be, sim.Options{Precision: p, Fuse: fuse})
			res, err := s.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			defer res.State.Free()
			v := make([]complex128, 1<<n)
			if err := res.State.Read(v); err != nil {
				t.Fatal(err)
			}
			return v, res.Applied
		}
		tol := 1e-10
		if p == backend.Complex64 {
			tol = 1e-5
		}
		for f := 2; f <= 5; f++ {
			want, unblocked := run(-1, f)
			got, blocked := run(128*int(p.AmpBytes()), f)
			worst := 0.0
			for i := range got {
				worst = max(worst, cmplx.Abs(got[i]-want[i]))
			}
			if worst > tol {
				t.Errorf("%s fuse %d: blocked state differs by %.3g", p, f, worst)
			}
			t.Logf("%s fuse %d: %d passes blocked, %d unblocked", p, f, blocked, unblocked)
			if blocked >= unblocked {
				t.Errorf("%s fuse %d: %d passes blocked, %d unblocked", p, f, blocked, unblocked)
			}
		}
	}
}

// TestCacheBlockingRelabel: on 16 qubits with chunks of 2^7 amplitudes, a
// circuit whose busiest qubit (15) lies above the chunk while qubit 6
// below it is nearly idle is run with the qubits relabelled
// (circuit.RelabelBelow, from |0…0⟩: no swaps to start, swaps back at the
// end): the state equals the unblocked run's to 1e-10 (complex128) and
// 1e-5 (complex64), in fewer passes than grouping alone would make.
// Apply cancelled partway hands back a state with the qubits in their
// places: qubit 6, which no gate touches, is still |0⟩ (relabelled, it
// would hold qubit 15).
func TestCacheBlockingRelabel(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 6))
	const n, chunkQubits = 16, 7
	busy := []int{0, 1, 2, 3, 4, 5, 15}
	c := circuit.New(n)
	c.Clbits = 0
	for i := range 1500 {
		p := rng.Perm(len(busy))
		a, b := busy[p[0]], busy[p[1]]
		if i%50 == 0 {
			a = 7 + rng.IntN(n-8) // rarely, the other qubits but 6
		}
		switch rng.IntN(4) {
		case 0:
			c.Append("h", nil, a)
		case 1:
			c.Append("rz", []float64{rng.Float64() * 6}, a)
		case 2:
			c.Append("cx", nil, a, b)
		default:
			c.Append("ry", []float64{rng.Float64() * 6}, b)
		}
	}
	var lowered []circuit.Gate
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			t.Fatal(err)
		}
		lowered = append(lowered, g)
	}
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		run := func(chunkBytes int) ([]complex128, int) {
			be := cpu.New(cpu.Options{ChunkBytes: chunkBytes})
			s := sim.NewWith(be, sim.Options{Precision: p, Fuse: 3})
			res, err := s.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			defer res.State.Free()
			v := make([]complex128, 1<<n)
			if err := res.State.Read(v); err != nil {
				t.Fatal(err)
			}
			return v, res.Applied
		}
		want, unblocked := run(-1)
		got, blocked := run((1 << chunkQubits) * int(p.AmpBytes()))
		tol := 1e-10
		if p == backend.Complex64 {
			tol = 1e-5
		}
		worst := 0.0
		for i := range got {
			worst = max(worst, cmplx.Abs(got[i]-want[i]))
		}
		if worst > tol {
			t.Errorf("%s: relabelled blocked state differs by %.3g", p, worst)
		}
		fused, err := circuit.Fuse(lowered, 3)
		if err != nil {
			t.Fatal(err)
		}
		grouped := circuit.PassesBelow(fused, chunkQubits, 128)
		t.Logf("%s: %d passes relabelled and blocked, %d blocked alone, %d unblocked", p, blocked, grouped, unblocked)
		if blocked >= grouped {
			t.Errorf("%s: %d passes relabelled, %d without relabelling", p, blocked, grouped)
		}
		apply := func(ctx context.Context) (*sim.Result, []complex128, error) {
			be := cpu.New(cpu.Options{ChunkBytes: (1 << chunkQubits) * int(p.AmpBytes())})
			st, err := be.NewState(n, p)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Free()
			res, err := sim.NewWith(be, sim.Options{Precision: p, Fuse: 3}).Apply(ctx, st, c, 1)
			if res == nil || res.State != st {
				t.Fatalf("%s: Apply did not hand the state back (%v)", p, err)
			}
			v := make([]complex128, 1<<n)
			if err := st.Read(v); err != nil {
				t.Fatal(err)
			}
			return res, v, err
		}
		full, _, err := apply(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, checks := range []int{full.Applied / 3, 2 * full.Applied / 3} {
			res, v, err := apply(sim.NewCountdownCtx(checks))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: cancelled at check %d: %v", p, checks, err)
			}
			var norm, on6 float64
			for i, a := range v {
				pa := real(a)*real(a) + imag(a)*imag(a)
				norm += pa
				if i>>6&1 == 1 {
					on6 += pa
				}
			}
			t.Logf("%s: cancelled at check %d after %d passes: P(q6=1) %.3g, P(|0…0⟩) %.3g", p, checks, res.Applied, on6, cmplx.Abs(v[0]))
			if math.Abs(norm-1) > tol || on6 > tol {
				t.Errorf("%s: cancelled at check %d: norm² %v, P(qubit 6 = 1) %.3g, want 1 and 0", p, checks, norm, on6)
			}
			if res.Applied >= full.Applied || cmplx.Abs(v[0]) > 1-tol {
				t.Errorf("%s: cancelled at check %d after %d of %d passes: not partway", p, checks, res.Applied, full.Applied)
			}
		}
	}
}
