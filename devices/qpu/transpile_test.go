package qpu

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// randomCircuit draws gates of every standard name, with ctrl/negctrl/inv/pow
// modifiers on some of them, on n qubits.
func randomCircuit(rng *rand.Rand, n, gates int, measure bool) *circuit.Circuit {
	c := circuit.New(n)
	names := circuit.StdGateNames()
	for len(c.Ops) < gates {
		name := names[rng.IntN(len(names))]
		def, _ := circuit.LookupGate(name)
		if def.NQubits > n {
			continue
		}
		perm := rng.Perm(n)
		op := circuit.Op{Kind: circuit.KindGate, Name: name, Qubits: perm[:def.NQubits]}
		for k := 0; k < def.NParams; k++ {
			op.Params = append(op.Params, (rng.Float64()*2-1)*2*math.Pi)
		}
		free := perm[def.NQubits:]
		if len(free) > 0 && rng.IntN(6) == 0 {
			op.Controls = []int{free[0]}
			free = free[1:]
		}
		if len(free) > 0 && rng.IntN(8) == 0 {
			op.NegControls = []int{free[0]}
		}
		switch rng.IntN(8) {
		case 0:
			op.Pow = -1
		case 1:
			op.Pow = 0.5 + rng.Float64()
		}
		c.Ops = append(c.Ops, op)
	}
	if measure {
		c.Clbits = n
		for q := 0; q < n; q++ {
			c.Measure(q, q)
		}
	}
	return c
}

// equalUpToPhase checks that the transpiled circuit prepares the original
// state on the physical qubits of lay.Final (others |0⟩), up to global phase.
func equalUpToPhase(t *testing.T, orig, tr *circuit.Circuit, lay Layout) float64 {
	t.Helper()
	want, err := simtest.StateVector(orig)
	if err != nil {
		t.Fatal(err)
	}
	got, err := simtest.StateVector(tr)
	if err != nil {
		t.Fatal(err)
	}
	var ov complex128
	for i, a := range want {
		j := 0
		for q, p := range lay.Final {
			if i>>q&1 == 1 {
				j |= 1 << p
			}
		}
		ov += cmplx.Conj(a) * got[j]
	}
	return cmplx.Abs(ov)
}

func onlyBasis(t *testing.T, c *circuit.Circuit, two string) {
	t.Helper()
	for _, op := range c.Ops {
		if op.Kind != circuit.KindGate {
			continue
		}
		ok := op.Name == "rz" || op.Name == "sx" || op.Name == "x" ||
			(two == BasisCX && op.Name == "cx") || (two == BasisECR && op.Name == circuit.UnitaryName && len(op.Qubits) == 2)
		if !ok || len(op.Controls)+len(op.NegControls) > 0 || (op.Pow != 0 && op.Pow != 1) {
			t.Fatalf("non-basis op %+v", op)
		}
	}
}

func TestOneQubitBasis(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := [][4]complex128{matX, matH, matI, rzM(0.3), ryM(math.Pi / 2), ryM(math.Pi)}
	for i := 0; i < 200; i++ {
		u := circuit.U(rng.Float64()*math.Pi, rng.Float64()*6, rng.Float64()*6)
		cases = append(cases, [4]complex128{u[0], u[1], u[2], u[3]})
	}
	for _, w := range cases {
		c := circuit.New(1)
		c.Ops = oneQubitBasis(0, w)
		m := matI
		for _, op := range c.Ops {
			g, err := op.Lower()
			if err != nil {
				t.Fatal(err)
			}
			d := g.Dense()
			m = mul2([4]complex128{d[0], d[1], d[2], d[3]}, m)
		}
		// |tr(w† m)| = 2 iff equal up to phase
		tr := cmplx.Abs(cmplx.Conj(w[0])*m[0] + cmplx.Conj(w[2])*m[2] + cmplx.Conj(w[1])*m[1] + cmplx.Conj(w[3])*m[3])
		if math.Abs(tr-2) > 1e-9 {
			t.Fatalf("w=%v: basis form %v gives %v (|tr|=%v)", w, c.Ops, m, tr)
		}
	}
}

func TestECRDefinition(t *testing.T) {
	c, err := qasm.Parse("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\nx q[0]; h q[1]; cx q[0], q[1]; rz(-pi/2) q[1]; cx q[0], q[1]; h q[1];\n")
	if err != nil {
		t.Fatal(err)
	}
	for col := 0; col < 4; col++ {
		v := make([]complex128, 4)
		v[col] = 1
		for i := range c.Ops {
			g, err := c.Ops[i].Lower()
			if err != nil {
				t.Fatal(err)
			}
			circuit.ApplyToVector(v, &g)
		}
		for row := 0; row < 4; row++ {
			if cmplx.Abs(v[row]-ecrMx[row*4+col]) > 1e-12 {
				t.Fatalf("ecr definition column %d: %v, want %v", col, v, []complex128{ecrMx[col], ecrMx[4+col], ecrMx[8+col], ecrMx[12+col]})
			}
		}
	}
}

func TestTranspileRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	targets := []struct {
		name string
		t    Target
	}{
		{"all-to-all cx", Target{TwoQubit: BasisCX}},
		{"line cx", Target{TwoQubit: BasisCX, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}}},
		{"ring ecr", Target{TwoQubit: BasisECR, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 0}}}},
		// a heavy-hex fragment with spare qubits
		{"heavy-hex ecr", Target{TwoQubit: BasisECR, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {0, 4}, {4, 5}, {3, 6}, {6, 7}, {5, 7}}}},
		{"directed line ecr", Target{TwoQubit: BasisECR, Directed: true, Coupling: [][2]int{{0, 1}, {2, 1}, {2, 3}, {4, 3}, {4, 5}}}},
		{"directed ring cx", Target{TwoQubit: BasisCX, Directed: true, Coupling: [][2]int{{1, 0}, {1, 2}, {3, 2}, {3, 4}, {4, 0}}}},
	}
	runs := 0
	worst := 1.0
	for _, tg := range targets {
		for i := 0; i < 75; i++ {
			n := 1 + rng.IntN(5)
			if tg.t.Coupling != nil {
				n = 2 + rng.IntN(4)
			}
			c := randomCircuit(rng, n, 1+rng.IntN(14), false)
			tr, lay, err := Transpile(c, tg.t)
			if err != nil {
				t.Fatalf("%s: %v", tg.name, err)
			}
			onlyBasis(t, tr, tg.t.TwoQubit)
			if tg.t.Coupling != nil {
				adj := map[[2]int]bool{}
				for _, e := range tg.t.Coupling {
					adj[e] = true
					if !tg.t.Directed {
						adj[[2]int{e[1], e[0]}] = true
					}
				}
				for _, op := range tr.Ops {
					if op.Kind == circuit.KindGate && len(op.Qubits) == 2 && !adj[[2]int{op.Qubits[0], op.Qubits[1]}] {
						t.Fatalf("%s: two-qubit gate on uncoupled or non-native %v", tg.name, op.Qubits)
					}
				}
			}
			f := equalUpToPhase(t, c, tr, lay)
			worst = math.Min(worst, f)
			if math.Abs(f-1) > 1e-8 {
				src, _ := qasm.Export3(c)
				t.Fatalf("%s: |<orig|transpiled>| = %.12f for\n%s", tg.name, f, src)
			}
			// The exported text reads back as the same circuit.
			s, err := ExportBasis(tr)
			if err != nil {
				t.Fatal(err)
			}
			back, err := qasm.Parse(s)
			if err != nil {
				t.Fatalf("%s: export does not parse: %v\n%s", tg.name, err, s)
			}
			if f := equalUpToPhase(t, c, back, lay); math.Abs(f-1) > 1e-8 {
				t.Fatalf("%s: exported circuit differs: %v", tg.name, f)
			}
			runs++
		}
	}
	t.Logf("%d random circuits transpiled and checked; worst |overlap| %.15f", runs, worst)
}

func TestTranspileMultiControlled(t *testing.T) {
	for k := 2; k <= 5; k++ {
		c := circuit.New(k + 1)
		for q := 0; q <= k; q++ {
			c.Append("h", nil, q)
		}
		op := circuit.Op{Kind: circuit.KindGate, Name: "u3", Params: []float64{0.7, 0.2, -1.1}, Qubits: []int{k}}
		for q := 0; q < k; q++ {
			op.Controls = append(op.Controls, q)
		}
		c.Ops = append(c.Ops, op)
		tr, lay, err := Transpile(c, Target{})
		if err != nil {
			t.Fatal(err)
		}
		if f := equalUpToPhase(t, c, tr, lay); math.Abs(f-1) > 1e-9 {
			t.Fatalf("%d controls: overlap %v", k, f)
		}
		cx := 0
		for _, op := range tr.Ops {
			if op.Name == "cx" {
				cx++
			}
		}
		t.Logf("C^%d-U: %d cx, %d ops", k, cx, len(tr.Ops))
	}
}

func TestTranspileMeasureFollowsLayout(t *testing.T) {
	c := circuit.New(3)
	c.Clbits = 3
	c.Append("x", nil, 0).Append("cx", nil, 0, 2).Measure(0, 0).Measure(1, 1).Measure(2, 2)
	tr, lay, err := Transpile(c, Target{Coupling: [][2]int{{0, 1}, {1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ExportBasis(tr)
	if !strings.Contains(s, "measure") {
		t.Fatal(s)
	}
	sm, err := sim.New(sim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := sm.Counts(t.Context(), tr, 100)
	if err != nil {
		t.Fatal(err)
	}
	if counts["101"] != 100 {
		t.Fatalf("counts %v (layout %+v)\n%s", counts, lay, s)
	}
}

func TestParseTarget(t *testing.T) {
	tg, err := ParseTarget("rz, sx, x, ecr", "0>1, 1-2")
	if err != nil {
		t.Fatal(err)
	}
	if tg.TwoQubit != BasisECR || !tg.Directed || len(tg.Coupling) != 3 || tg.Coupling[2] != [2]int{2, 1} {
		t.Fatalf("%+v", tg)
	}
	for _, bad := range [][2]string{{"rz,sx,cz", ""}, {"rz,sx,cx,ecr", ""}, {"sx,cx", ""}, {"", "0-0"}, {"", "a-b"}, {"", "1"}} {
		if _, err := ParseTarget(bad[0], bad[1]); err == nil {
			t.Errorf("ParseTarget(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// TestTranspileCXCounts pins the two-qubit cost of the common gates.
func TestTranspileCXCounts(t *testing.T) {
	want := map[string]int{"cx": 1, "cy": 1, "cz": 1, "ch": 1, "swap": 3, "ccx": 6, "crz": 2, "cp": 2, "cswap": 8}
	for name, n := range want {
		def, _ := circuit.LookupGate(name)
		c := circuit.New(def.NQubits)
		qs := make([]int, def.NQubits)
		for i := range qs {
			qs[i] = i
		}
		ps := make([]float64, def.NParams)
		for i := range ps {
			ps[i] = 0.3
		}
		c.Append(name, ps, qs...)
		tr, lay, err := Transpile(c, Target{})
		if err != nil {
			t.Fatal(err)
		}
		if f := equalUpToPhase(t, c, tr, lay); math.Abs(f-1) > 1e-9 {
			t.Fatalf("%s: overlap %v", name, f)
		}
		got := 0
		for _, op := range tr.Ops {
			if op.Name == "cx" {
				got++
			}
		}
		if got > n {
			t.Errorf("%s: %d cx, want ≤ %d", name, got, n)
		}
	}
}

// TestTranspileRefusesConditions: the transpiler carries no classical
// conditions, so a circuit with an if is refused rather than run
// unconditionally.
func TestTranspileRefusesConditions(t *testing.T) {
	c := circuit.New(2)
	c.Append("h", nil, 0).Measure(0, 0).Append("x", nil, 1)
	c.Ops[2].Conds = []circuit.Cond{{Clbits: []int{0}, Value: 1}}
	if _, _, err := Transpile(c, Target{}); !errors.Is(err, circuit.ErrDynamic) {
		t.Fatalf("Transpile of a conditional circuit: %v, want ErrDynamic", err)
	}
}
