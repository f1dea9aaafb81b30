package sim_test

import (
	"context"
	"math"
	"math/cmplx"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim/simtest"
)

// teleport returns quantum teleportation of ry(theta)·rz(phi)|0⟩ from
// qubit 0 to qubit 2: a Bell measurement of qubits 0 and 1 into clbits 0
// and 1, then the corrections if (c[1]) x q[2]; if (c[0]) z q[2];, and,
// with measure, a final measurement of qubit 2 into clbit 2.
func teleport(theta, phi float64, measure bool) *circuit.Circuit {
	c := circuit.New(3)
	c.Append("ry", []float64{theta}, 0).Append("rz", []float64{phi}, 0)
	c.Append("h", nil, 1).Append("cx", nil, 1, 2)
	c.Append("cx", nil, 0, 1).Append("h", nil, 0)
	c.Measure(0, 0).Measure(1, 1)
	c.Append("x", nil, 2)
	c.Ops[len(c.Ops)-1].Conds = []circuit.Cond{{Clbits: []int{1}, Value: 1}}
	c.Append("z", nil, 2)
	c.Ops[len(c.Ops)-1].Conds = []circuit.Cond{{Clbits: []int{0}, Value: 1}}
	if measure {
		c.Measure(2, 2)
	}
	return c
}

// TestConditionalTeleport: with the classically controlled corrections,
// qubit 2 ends in the prepared state on every path (exact paths, and the
// state of single runs for several seeds, to 1e-12), its measurement is 1
// with probability sin²(θ/2) (exact paths, and shots: χ² p > 0.001 for
// 10 seeds), and without the corrections it is not.
func TestConditionalTeleport(t *testing.T) {
	const theta, phi = 1.1, 0.7
	want1 := math.Pow(math.Sin(theta/2), 2)
	c := teleport(theta, phi, true)
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	p1 := 0.0
	for k, p := range dist {
		if k[0] == '1' { // clbit 2 is leftmost
			p1 += p
		}
	}
	if math.Abs(p1-want1) > 1e-12 {
		t.Fatalf("exact paths: P(q2=1) = %v, want %v", p1, want1)
	}
	for seed := uint64(1); seed <= 10; seed++ {
		r, err := newSim(2, 0, seed).Shots(context.Background(), c, 4000)
		if err != nil {
			t.Fatal(err)
		}
		if chi2, dof, p := simtest.ChiSquare(r.Counts(), dist); p <= 0.001 {
			t.Errorf("seed %d: χ² %.1f on %d dof, p = %.2g", seed, chi2, dof, p)
		}
		if r.Stats.Skipped == 0 {
			t.Errorf("seed %d: no branch skipped a correction", seed)
		}
	}
	// The teleported qubit's state on single runs: q0 and q1 are in the
	// measured basis state, q2 in ry(θ)·rz(φ)|0⟩ up to a global phase.
	a0 := complex(math.Cos(theta/2), 0) * cmplx.Exp(complex(0, -phi/2))
	a1 := complex(math.Sin(theta/2), 0) * cmplx.Exp(complex(0, phi/2))
	for seed := uint64(1); seed <= 8; seed++ {
		res, err := newSim(1, 0, seed).Run(context.Background(), teleport(theta, phi, false))
		if err != nil {
			t.Fatal(err)
		}
		amps := make([]complex128, 8)
		if err := res.State.Read(amps); err != nil {
			t.Fatal(err)
		}
		res.State.Free()
		low := 0
		for k, b := range res.Bits[:2] {
			if b {
				low |= 1 << k
			}
		}
		got0, got1 := amps[low], amps[low|4]
		if f := cmplx.Abs(cmplx.Conj(a0)*got0 + cmplx.Conj(a1)*got1); math.Abs(f-1) > 1e-12 {
			t.Errorf("seed %d (bits %v): |⟨ψ|q2⟩| = %v, want 1", seed, res.Bits, f)
		}
	}
	// Without conditions the corrections always act: the distribution
	// changes, so the conditions are what makes it right.
	u := teleport(theta, phi, true)
	for i := range u.Ops {
		u.Ops[i].Conds = nil
	}
	d2, err := simtest.Distribution(u)
	if err != nil {
		t.Fatal(err)
	}
	q1 := 0.0
	for k, p := range d2 {
		if k[0] == '1' {
			q1 += p
		}
	}
	if math.Abs(q1-want1) < 1e-3 {
		t.Fatalf("unconditional corrections also give P = %v: the test cannot tell", q1)
	}
}
