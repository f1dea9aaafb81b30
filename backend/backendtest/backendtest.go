// Package backendtest is the conformance suite every state-vector backend
// must pass, run once per loaded backend (and per CPU kernel variant). The
// oracle is circuit.ApplyToVector, a plain complex128 host loop, and the
// host reference functions of package backend.
//
// Layer: test tooling of the compute library; only tests import it. It may
// import backend, circuit, the engines, sim and sim/simtest.
//
// Tolerances: Tol128 for complex128 states, Tol64 for complex64 states,
// absolute on amplitudes of normalised states after at most a few hundred
// gates.
package backendtest

import (
	"context"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// Tolerances on amplitudes and derived quantities.
const (
	Tol128 = 1e-10
	Tol64  = 2e-5
)

// Tol returns the tolerance for a precision.
func Tol(p backend.Precision) float64 {
	if p == backend.Complex64 {
		return Tol64
	}
	return Tol128
}

// Run runs the whole suite against sv in both precisions.
func Run(t *testing.T, sv backend.StateVector) {
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		t.Run(p.String(), func(t *testing.T) {
			t.Run("LoadRead", func(t *testing.T) { testLoadRead(t, sv, p) })
			t.Run("Gates", func(t *testing.T) { testGates(t, sv, p) })
			t.Run("Reductions", func(t *testing.T) { testReductions(t, sv, p) })
			t.Run("Sampling", func(t *testing.T) { testSampling(t, sv, p) })
			t.Run("Measure", func(t *testing.T) { testMeasure(t, sv, p) })
			t.Run("Circuits", func(t *testing.T) { testCircuits(t, sv, p) })
			t.Run("Branching", func(t *testing.T) { testBranching(t, sv, p) })
			t.Run("BadInput", func(t *testing.T) { testBadInput(t, sv, p) })
		})
	}
}

// RandomState returns a normalised random vector of 2^n amplitudes.
func RandomState(rng *rand.Rand, n int) []complex128 {
	v := make([]complex128, 1<<uint(n))
	var s float64
	for i := range v {
		v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		s += real(v[i])*real(v[i]) + imag(v[i])*imag(v[i])
	}
	for i := range v {
		v[i] /= complex(math.Sqrt(s), 0)
	}
	return v
}

// RandomGate returns a random lowered gate on an n-qubit state: k targets
// (dense or diagonal), some controls and negative controls.
func RandomGate(rng *rand.Rand, n int) circuit.Gate {
	perm := rng.Perm(n)
	k := 1 + rng.IntN(min(n, circuit.MaxDenseQubits))
	if rng.IntN(3) > 0 {
		k = 1 + rng.IntN(min(n, 2))
	}
	rest := n - k
	nc := 0
	if rest > 0 && rng.IntN(2) == 0 {
		nc = rng.IntN(min(rest, 3) + 1)
	}
	nn := 0
	if rest-nc > 0 && rng.IntN(3) == 0 {
		nn = 1 + rng.IntN(min(rest-nc, 2))
	}
	g := circuit.Gate{Targets: perm[:k], Controls: perm[k : k+nc], NegControls: perm[k+nc : k+nc+nn]}
	d := 1 << uint(k)
	if rng.IntN(4) == 0 {
		g.Diagonal = true
		g.Matrix = make([]complex128, d)
		for i := range g.Matrix {
			g.Matrix[i] = cmplx.Exp(complex(0, rng.Float64()*2*math.Pi))
		}
	} else {
		g.Matrix = circuit.RandomUnitary(rng, d)
	}
	return g
}

func newState(t *testing.T, sv backend.StateVector, n int, p backend.Precision) backend.State {
	t.Helper()
	st, err := sv.NewState(n, p)
	if err != nil {
		t.Fatalf("NewState(%d, %v): %v", n, p, err)
	}
	t.Cleanup(func() { st.Free() })
	return st
}

func read(t *testing.T, st backend.State) []complex128 {
	t.Helper()
	out := make([]complex128, 1<<uint(st.Qubits()))
	if err := st.Read(out); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out
}

// MaxDiff returns max_i |a_i − b_i|.
func MaxDiff(a, b []complex128) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, cmplx.Abs(a[i]-b[i]))
	}
	return m
}

func testLoadRead(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 3, 10} {
		st := newState(t, sv, n, p)
		got := read(t, st)
		want := make([]complex128, len(got))
		want[0] = 1
		if d := MaxDiff(got, want); d != 0 {
			t.Errorf("n=%d: new state is not |0…0⟩ (diff %g)", n, d)
		}
		v := RandomState(rng, n)
		if err := st.Load(v); err != nil {
			t.Fatal(err)
		}
		if d := MaxDiff(read(t, st), v); d > Tol(p) {
			t.Errorf("n=%d: Load/Read round trip differs by %g", n, d)
		}
	}
}

func testGates(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(2, uint64(p)))
	for _, n := range []int{1, 2, 3, 5, 8, 11, 15} {
		st := newState(t, sv, n, p)
		ref := RandomState(rng, n)
		if err := st.Load(ref); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 60; i++ {
			g := RandomGate(rng, n)
			if err := st.Apply(&g); err != nil {
				t.Fatalf("n=%d gate %d (%+v): %v", n, i, g, err)
			}
			circuit.ApplyToVector(ref, &g)
		}
		if d := MaxDiff(read(t, st), ref); d > 10*Tol(p) {
			t.Errorf("n=%d: after 60 random gates the state differs from the reference by %g", n, d)
		}
	}
	// Every target position of 1-qubit gates, the hot path, on a larger state.
	n := 16
	st := newState(t, sv, n, p)
	ref := RandomState(rng, n)
	if err := st.Load(ref); err != nil {
		t.Fatal(err)
	}
	for q := 0; q < n; q++ {
		g := circuit.Gate{Targets: []int{q}, Matrix: circuit.RandomUnitary(rng, 2)}
		if err := st.Apply(&g); err != nil {
			t.Fatal(err)
		}
		circuit.ApplyToVector(ref, &g)
	}
	if d := MaxDiff(read(t, st), ref); d > 10*Tol(p) {
		t.Errorf("1-qubit gates on every target of %d qubits: diff %g", n, d)
	}
	// Controlled 1-qubit gates on every (target, control) pair of 7 qubits,
	// and with two controls and a negative control around each target:
	// engines may treat controls and targets on the lowest qubits apart.
	{
		n := 7
		var gates []circuit.Gate
		for tq := 0; tq < n; tq++ {
			gates = append(gates, circuit.Gate{Targets: []int{tq}, Controls: []int{(tq + 1) % n, (tq + 3) % n}, NegControls: []int{(tq + 2) % n}})
			for c := 0; c < n; c++ {
				if c != tq {
					gates = append(gates, circuit.Gate{Targets: []int{tq}, Controls: []int{c}}, circuit.Gate{Targets: []int{tq}, NegControls: []int{c}})
				}
			}
		}
		for i := range gates {
			gates[i].Matrix = circuit.RandomUnitary(rng, 2)
			if i%2 == 1 {
				gates[i].Matrix = []complex128{0, 1, 1, 0} // X: engines may move instead of multiplying
			}
		}
		checkGates(t, sv, p, rng, n, "controlled 1-qubit gates on every target/control pair", gates)
	}
	// Controlled X with negative controls on 5 qubits, a state so small
	// that every qubit is a low one for engines that treat those apart:
	// one negative control on every target/control pair, two, and
	// negative ones mixed with positive ones, around every target (its
	// own random stream, so the checks after it see the same states).
	{
		n := 5
		var gates []circuit.Gate
		x := func(targets, controls, neg []int) circuit.Gate {
			return circuit.Gate{Targets: targets, Controls: controls, NegControls: neg, Matrix: []complex128{0, 1, 1, 0}}
		}
		for tq := 0; tq < n; tq++ {
			a, b, c := (tq+1)%n, (tq+2)%n, (tq+4)%n
			for q := 0; q < n; q++ {
				if q != tq {
					gates = append(gates, x([]int{tq}, nil, []int{q}))
				}
			}
			gates = append(gates, x([]int{tq}, nil, []int{a, c}), x([]int{tq}, []int{a}, []int{b}), x([]int{tq}, []int{c}, []int{a, b}))
		}
		checkGates(t, sv, p, rand.New(rand.NewPCG(5, uint64(p))), n, "controlled X with negative controls", gates)
	}
	// Monomial gates (permutations, with and without phases: engines may
	// move amplitudes instead of multiplying) on 2–5 targets anywhere on
	// 14 qubits (enough for targets far apart and a state engines split
	// between threads), some controlled.
	{
		n := 14
		var gates []circuit.Gate
		for i := 0; i < 80; i++ {
			k := 2 + i%4
			perm := rng.Perm(n)
			g := circuit.Gate{Targets: perm[:k]}
			switch i % 5 {
			case 1:
				g.Controls = perm[k : k+1]
			case 2:
				g.Controls, g.NegControls = perm[k:k+1], perm[k+1:k+2]
			}
			if i%8 == 0 { // low qubits only
				g.Targets = rng.Perm(k + 1)[:k]
				g.Controls, g.NegControls = nil, nil
			}
			d := 1 << k
			g.Matrix = make([]complex128, d*d)
			for r, c := range rng.Perm(d) {
				g.Matrix[r*d+c] = 1
				if i%3 != 0 {
					g.Matrix[r*d+c] = cmplx.Exp(complex(0, rng.Float64()*2*math.Pi))
				}
			}
			gates = append(gates, g)
		}
		// Permutations of the highest qubits only, without phases: whole
		// runs of amplitudes move (or stay) together.
		for _, ts := range [][]int{{11, 12, 13}, {13, 12}, {12, 9}} {
			d := 1 << len(ts)
			g := circuit.Gate{Targets: ts, Matrix: make([]complex128, d*d)}
			for r, c := range rng.Perm(d) {
				g.Matrix[r*d+c] = 1
			}
			gates = append(gates, g)
			// The same with a control: most runs stay where they are.
			cg := g
			cg.Controls = []int{10}
			gates = append(gates, cg)
		}
		checkGates(t, sv, p, rng, n, "monomial gates", gates)
	}
	// SWAPs (engines may move memory instead of multiplying) on every
	// pair shape: low/low, low/high, high/high, both orders.
	for _, pr := range [][2]int{{0, 1}, {1, 0}, {0, 15}, {14, 1}, {3, 9}, {12, 2}, {15, 14}} {
		g := circuit.Gate{Targets: pr[:], Matrix: slices.Clone(circuit.SwapMatrix)}
		if err := st.Apply(&g); err != nil {
			t.Fatal(err)
		}
		circuit.ApplyToVector(ref, &g)
	}
	if d := MaxDiff(read(t, st), ref); d > 10*Tol(p) {
		t.Errorf("SWAP gates on %d qubits: diff %g", n, d)
	}
}

func testReductions(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 4, 13} {
		v := RandomState(rng, n)
		for i := range v {
			v[i] *= 1.5 // not normalised: norm² = 2.25
		}
		st := newState(t, sv, n, p)
		if err := st.Load(v); err != nil {
			t.Fatal(err)
		}
		nrm, err := backend.Norm(st)
		if err != nil || math.Abs(nrm-2.25) > 10*Tol(p) {
			t.Errorf("n=%d: Norm = %v, %v; want 2.25", n, nrm, err)
		}
		for trial := 0; trial < 5; trial++ {
			k := 1 + rng.IntN(n)
			qs := rng.Perm(n)[:k]
			got, err := backend.Probabilities(st, qs)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(got))
			backend.MarginalProbabilities(v, qs, want)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 10*Tol(p) {
					t.Errorf("n=%d marginal %v [%d] = %v, want %v", n, qs, i, got[i], want[i])
					break
				}
			}
			ps := make([]byte, n)
			for i := range ps {
				ps[i] = "IXYZ"[rng.IntN(4)]
			}
			m, _ := circuit.PauliTerm{Coeff: 1, Pauli: string(ps)}.Masks(n)
			e, err := backend.ExpectPauli(st, m)
			if err != nil {
				t.Fatal(err)
			}
			if w := backend.ExpectPauliHost(v, m); math.Abs(e-w) > 10*Tol(p) {
				t.Errorf("n=%d ⟨%s⟩ = %v, want %v", n, ps, e, w)
			}
		}
		other := newState(t, sv, n, p)
		w := RandomState(rng, n)
		if err := other.Load(w); err != nil {
			t.Fatal(err)
		}
		ip, err := backend.Inner(st, other)
		if err != nil {
			t.Fatal(err)
		}
		var want complex128
		for i := range v {
			want += cmplx.Conj(v[i]) * w[i]
		}
		if cmplx.Abs(ip-want) > 10*Tol(p) {
			t.Errorf("n=%d ⟨a|b⟩ = %v, want %v", n, ip, want)
		}
	}
}

func testSampling(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 14
	v := RandomState(rng, n)
	st := newState(t, sv, n, p)
	if err := st.Load(v); err != nil {
		t.Fatal(err)
	}
	u := make([]float64, 2000)
	for i := range u {
		u[i] = rng.Float64()
	}
	out := make([]uint64, len(u))
	if err := backend.SampleUniform(st, u, out); err != nil {
		t.Fatal(err)
	}
	// Each outcome's cumulative interval must contain u (up to rounding).
	cum := make([]float64, len(v)+1)
	for i, a := range v {
		cum[i+1] = cum[i] + real(a)*real(a) + imag(a)*imag(a)
	}
	for i, o := range out {
		x := u[i] * cum[len(v)]
		if o >= uint64(len(v)) || x < cum[o]-10*Tol(p) || x > cum[o+1]+10*Tol(p) {
			t.Fatalf("u=%v → outcome %d whose interval is [%v,%v)", u[i], o, cum[o], cum[o+1])
		}
	}
	// Same seed, same shots.
	a, err := sim.Sample(st, 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sim.Sample(st, 500, 7)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("shots differ between two runs with the same seed at %d", i)
		}
	}
}

func testMeasure(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(5, 5))
	n := 6
	for trial := 0; trial < 10; trial++ {
		v := RandomState(rng, n)
		st := newState(t, sv, n, p)
		if err := st.Load(v); err != nil {
			t.Fatal(err)
		}
		q := rng.IntN(n)
		u := rng.Float64()
		bit, err := sim.Measure(st, q, u)
		if err != nil {
			t.Fatal(err)
		}
		var p1 float64
		for i, a := range v {
			if i>>uint(q)&1 == 1 {
				p1 += real(a)*real(a) + imag(a)*imag(a)
			}
		}
		if want := map[bool]int{true: 1, false: 0}[u < p1]; bit != want {
			t.Errorf("measure q%d u=%v p1=%v: got %d", q, u, p1, bit)
		}
		got := read(t, st)
		pb := p1
		if bit == 0 {
			pb = 1 - p1
		}
		for i, a := range v {
			want := complex128(0)
			if i>>uint(q)&1 == bit {
				want = a / complex(math.Sqrt(pb), 0)
			}
			if cmplx.Abs(got[i]-want) > 100*Tol(p) {
				t.Fatalf("post-measurement amplitude %d = %v, want %v", i, got[i], want)
			}
		}
	}
}

func testCircuits(t *testing.T, sv backend.StateVector, p backend.Precision) {
	rng := rand.New(rand.NewPCG(6, 6))
	ctx := context.Background()
	for trial := 0; trial < 8; trial++ {
		n := 2 + rng.IntN(9)
		c := RandomCircuit(rng, n, 80)
		ref := make([]complex128, 1<<uint(n))
		ref[0] = 1
		for i := range c.Ops {
			g, err := c.Ops[i].Lower()
			if err != nil {
				t.Fatal(err)
			}
			circuit.ApplyToVector(ref, &g)
		}
		for _, f := range []int{0, 2, 3, 4, 5} {
			s := sim.NewWith(sv, sim.Options{Precision: p, Fuse: f})
			res, err := s.Run(ctx, c)
			if err != nil {
				t.Fatalf("fuse=%d: %v", f, err)
			}
			got := read(t, res.State)
			res.State.Free()
			if d := MaxDiff(got, ref); d > 20*Tol(p) {
				t.Errorf("n=%d fuse=%d: circuit result differs by %g", n, f, d)
			}
		}
	}
}

// testBranching runs shot branching (sim.Simulator.Shots) on the
// backend: circuits with random mid-circuit outcomes match their exact
// distributions (χ², p > 1e-4 at fixed seeds), split and merge as they
// must, keep per-shot memory reproducible, and take known and certain
// resets without a branch; with a budget of one state the replays give
// the exact distribution too.
func testBranching(t *testing.T, sv backend.StateVector, p backend.Precision) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                    string
		c                       *circuit.Circuit
		shots, budget           int
		splits, merges, replays bool
	}{
		{"plus6", simtest.PlusRounds(6, false), 4000, 0, true, false, false},
		{"plus6same", simtest.PlusRounds(6, true), 2000, 0, true, true, false},
		{"feedback", simtest.FeedbackCircuit(), 4000, 0, true, false, false},
		{"feedback-budget1", simtest.FeedbackCircuit(), 2000, 1, false, false, true},
	} {
		dist, err := simtest.Distribution(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		s := sim.NewWith(sv, sim.Options{Precision: p, Fuse: 3, Seed: 11, MaxBranches: tc.budget})
		r, err := s.Shots(ctx, tc.c, tc.shots)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		st := r.Stats
		if (st.Splits > 0) != tc.splits || (st.Merges > 0) != tc.merges || (st.Replays > 0) != tc.replays {
			t.Errorf("%s: %+v; want splits %v, merges %v, replays %v", tc.name, st, tc.splits, tc.merges, tc.replays)
		}
		if chi2, dof, pv := simtest.ChiSquare(r.Counts(), dist); pv <= 1e-4 {
			t.Errorf("%s: χ² %.1f on %d dof, p = %.2g against the exact distribution", tc.name, chi2, dof, pv)
		}
		again, err := s.Shots(ctx, tc.c, tc.shots)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again.Memory(), r.Memory()) {
			t.Errorf("%s: per-shot memory differs between two runs with one seed", tc.name)
		}
	}
	c, known, certain := simtest.AncillaCircuit(4, 5)
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.NewWith(sv, sim.Options{Precision: p, Fuse: 3, Seed: 3}).Shots(ctx, c, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Stats; st.Splits != 0 || st.Certain != known+certain || st.Branches != 1 {
		t.Errorf("ancillas: %+v; want no split and %d certain resets", st, known+certain)
	}
	if chi2, dof, pv := simtest.ChiSquare(r.Counts(), dist); pv <= 1e-4 {
		t.Errorf("ancillas: χ² %.1f on %d dof, p = %.2g against the exact distribution", chi2, dof, pv)
	}
}

// checkGates applies gates to a random n-qubit state on the backend and
// to the same state on the host reference, and compares the results.
func checkGates(t *testing.T, sv backend.StateVector, p backend.Precision, rng *rand.Rand, n int, what string, gates []circuit.Gate) {
	t.Helper()
	st := newState(t, sv, n, p)
	ref := RandomState(rng, n)
	if err := st.Load(ref); err != nil {
		t.Fatal(err)
	}
	for i := range gates {
		if err := st.Apply(&gates[i]); err != nil {
			t.Fatalf("%s, gate %d (%+v): %v", what, i, gates[i], err)
		}
		circuit.ApplyToVector(ref, &gates[i])
	}
	if d := MaxDiff(read(t, st), ref); d > 10*Tol(p) {
		t.Errorf("%s on %d qubits: diff %g", what, n, d)
	}
}

// RandomCircuit returns a random circuit of standard gates with modifiers.
func RandomCircuit(rng *rand.Rand, n, gates int) *circuit.Circuit {
	names := circuit.StdGateNames()
	c := circuit.New(n)
	for len(c.Ops) < gates {
		def, _ := circuit.LookupGate(names[rng.IntN(len(names))])
		if def.NQubits > n {
			continue
		}
		perm := rng.Perm(n)
		op := circuit.Op{Kind: circuit.KindGate, Name: def.Name, Qubits: perm[:def.NQubits]}
		for i := 0; i < def.NParams; i++ {
			op.Params = append(op.Params, (rng.Float64()*2-1)*2*math.Pi)
		}
		free := perm[def.NQubits:]
		if len(free) > 0 && rng.IntN(4) == 0 {
			k := 1 + rng.IntN(min(len(free), 2))
			op.Controls, free = free[:k], free[k:]
		}
		if len(free) > 0 && rng.IntN(6) == 0 {
			op.NegControls = free[:1]
		}
		switch rng.IntN(6) {
		case 0:
			op.Pow = -1
		case 1:
			op.Pow = float64(rng.IntN(5) - 2)
			if op.Pow == 0 {
				op.Pow = 3
			}
		case 2:
			if def.BaseQubits() == 1 {
				op.Pow = rng.Float64()*4 - 2
			}
		}
		c.Ops = append(c.Ops, op)
	}
	return c
}

func testBadInput(t *testing.T, sv backend.StateVector, p backend.Precision) {
	st := newState(t, sv, 3, p)
	bad := []circuit.Gate{
		{Targets: []int{3}, Matrix: []complex128{1, 0, 0, 1}},
		{Targets: []int{-1}, Matrix: []complex128{1, 0, 0, 1}},
		{Targets: []int{0, 0}, Matrix: circuit.Identity(4)},
		{Targets: []int{0}, Controls: []int{0}, Matrix: []complex128{1, 0, 0, 1}},
		{Targets: []int{0}, Matrix: []complex128{1, 0, 0}},
		{Targets: []int{0}, Matrix: []complex128{complex(math.NaN(), 0), 0, 0, 1}},
		{Targets: []int{0}, Matrix: []complex128{1, 0}, Diagonal: true, Controls: []int{7}},
	}
	for i := range bad {
		if err := st.Apply(&bad[i]); err == nil {
			t.Errorf("bad gate %d (%+v) accepted", i, bad[i])
		}
	}
	if err := st.Load(make([]complex128, 5)); err == nil {
		t.Error("Load of the wrong length accepted")
	}
	nan := make([]complex128, 8)
	nan[3] = complex(math.NaN(), 0)
	if err := st.Load(nan); err == nil {
		t.Error("Load of a NaN amplitude accepted")
	}
	if err := st.Read(make([]complex128, 2)); err == nil {
		t.Error("Read into the wrong length accepted")
	}
	if _, err := sv.NewState(60, p); err == nil {
		t.Error("NewState(60 qubits) accepted")
	}
	zero := make([]complex128, 8)
	if err := st.Load(zero); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Measure(st, 0, 0.5); err == nil {
		t.Error("measuring the zero vector succeeded")
	}
}
