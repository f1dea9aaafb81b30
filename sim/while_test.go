package sim_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

// TestWhileRepeatUntilSuccess runs a repeat-until-success loop (measure a
// |+⟩ qubit until it reads 0) that flips a counter qubit on every extra
// round: the loop always ends with c[0] = 0, and the counter is 1 with
// probability P(odd rounds) = 1/3 — exactly (simtest.Outcomes) and in
// shots (χ² p > 0.001 for 10 seeds); the scratch guards stay out of the
// results. A loop bound too small for some shot stops the run with an
// error that names the loop.
func TestWhileRepeatUntilSuccess(t *testing.T) {
	src := `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
c[0] = measure q[0];
while (c[0]) {
  x q[1];
  reset q[0];
  h q[0];
  c[0] = measure q[0];
}
c[1] = measure q[1];
`
	c, err := qasm.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scratch != 2 || c.Results() != 2 {
		t.Fatalf("scratch %d, results %d: want 2 and 2", c.Scratch, c.Results())
	}
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	if p := dist["10"]; math.Abs(p-1.0/3) > 1e-12 || math.Abs(dist["00"]-2.0/3) > 1e-12 || len(dist) != 2 {
		t.Fatalf("exact distribution %v: want 00: 2/3, 10: 1/3", dist)
	}
	for seed := uint64(1); seed <= 10; seed++ {
		r, err := newSim(2, 0, seed).Shots(context.Background(), c, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if chi2, dof, p := simtest.ChiSquare(r.Counts(), dist); p <= 0.001 {
			t.Errorf("seed %d: χ² %.1f on %d dof, p = %.2g", seed, chi2, dof, p)
		}
		if r.Clbits != 2 {
			t.Errorf("result shows %d bits, want 2", r.Clbits)
		}
	}
	// Round trip through OpenQASM 3: the same distribution.
	out, err := qasm.Export3(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := qasm.Parse(out)
	if err != nil {
		t.Fatalf("export does not parse: %v", err)
	}
	if back.Scratch != 2 {
		t.Errorf("round trip: %d scratch bits", back.Scratch)
	}
	if d2, err := simtest.Distribution(back); err != nil || math.Abs(d2["10"]-1.0/3) > 1e-12 {
		t.Errorf("round trip distribution %v, %v", d2, err)
	}
	// A bound of 2 rounds: 2000 shots surely include one that needs more.
	short, err := qasm.ParseWith(src, qasm.Options{Limits: qasm.Limits{MaxWhile: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSim(1, 0, 1).Shots(context.Background(), short, 2000); err == nil || !strings.Contains(err.Error(), "the while loop at 7:1 ran 2 times") {
		t.Errorf("loop beyond its bound: %v", err)
	}
}
