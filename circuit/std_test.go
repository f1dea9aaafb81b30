package circuit_test

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/circuit"
)

func base(t *testing.T, name string, p ...float64) []complex128 {
	t.Helper()
	d, ok := circuit.LookupGate(name)
	if !ok {
		t.Fatalf("no gate %q", name)
	}
	return d.Base(p)
}

func maxDiff(a, b []complex128) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, cmplx.Abs(a[i]-b[i]))
	}
	return m
}

func scaled(m []complex128, z complex128) []complex128 {
	out := make([]complex128, len(m))
	for i, v := range m {
		out[i] = v * z
	}
	return out
}

// TestStdGatesUnitaryAndDiagonal: every standard gate's base matrix is
// unitary (1e-14) for random parameters, and the Diagonal flag is true
// exactly when it is diagonal for every parameter value tried.
func TestStdGatesUnitaryAndDiagonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, name := range circuit.StdGateNames() {
		d, _ := circuit.LookupGate(name)
		alwaysDiag := true
		for trial := 0; trial < 5; trial++ {
			p := make([]float64, d.NParams)
			for i := range p {
				p[i] = (rng.Float64()*2 - 1) * 4
			}
			m := d.Base(p)
			k := 1 << d.BaseQubits()
			if len(m) != k*k {
				t.Fatalf("%s: %d entries for %d base qubits", name, len(m), d.BaseQubits())
			}
			if e := maxDiff(circuit.MatMul(m, circuit.Dagger(m)), circuit.Identity(k)); e > 1e-14 {
				t.Errorf("%s%v is not unitary: %g", name, p, e)
			}
			for i := 0; i < k; i++ {
				for j := 0; j < k; j++ {
					if i != j && m[i*k+j] != 0 {
						alwaysDiag = false
					}
				}
			}
		}
		if alwaysDiag != d.Diagonal {
			t.Errorf("%s: Diagonal flag %v, matrices diagonal: %v", name, d.Diagonal, alwaysDiag)
		}
	}
}

// TestStdGateIdentities checks relations stated by stdgates.inc (1e-14).
func TestStdGateIdentities(t *testing.T) {
	pi := math.Pi
	I := circuit.Identity(2)
	pauliX := []complex128{0, 1, 1, 0}
	pauliY := []complex128{0, -1i, 1i, 0}
	mm := circuit.MatMul
	th, ph, la, ga := 0.7, -1.3, 2.1, 0.4
	expm := func(theta float64, p []complex128) []complex128 { // exp(-iθP/2) for P² = I
		c, s := math.Cos(theta/2), math.Sin(theta/2)
		out := make([]complex128, 4)
		for i := range out {
			out[i] = complex(c, 0)*I[i] - complex(0, s)*p[i]
		}
		return out
	}
	cases := []struct {
		name      string
		got, want []complex128
	}{
		{"s·s = z", mm(base(t, "s"), base(t, "s")), base(t, "z")},
		{"t·t = s", mm(base(t, "t"), base(t, "t")), base(t, "s")},
		{"sx·sx = x", mm(base(t, "sx"), base(t, "sx")), base(t, "x")},
		{"sdg = s†", base(t, "sdg"), circuit.Dagger(base(t, "s"))},
		{"tdg = t†", base(t, "tdg"), circuit.Dagger(base(t, "t"))},
		{"h·h = I", mm(base(t, "h"), base(t, "h")), I},
		{"rx = exp(-iθX/2)", base(t, "rx", th), expm(th, pauliX)},
		{"ry = exp(-iθY/2)", base(t, "ry", th), expm(th, pauliY)},
		{"rz = exp(-iθZ/2)", base(t, "rz", th), expm(th, base(t, "z"))},
		{"u3 = e^{-i(φ+λ)/2} U", base(t, "u3", th, ph, la), scaled(circuit.U(th, ph, la), cmplx.Exp(complex(0, -(ph+la)/2)))},
		{"u2 = u3(π/2, φ, λ)", base(t, "u2", ph, la), base(t, "u3", pi/2, ph, la)},
		{"u1 = p", base(t, "u1", la), base(t, "p", la)},
		{"phase = p", base(t, "phase", la), base(t, "p", la)},
		{"cu base = e^{iγ} U", base(t, "cu", th, ph, la, ga), scaled(circuit.U(th, ph, la), cmplx.Exp(complex(0, ga)))},
		{"x = U(π, 0, π)", base(t, "x"), circuit.U(pi, 0, pi)},
		{"h = U(π/2, 0, π)", base(t, "h"), circuit.U(pi/2, 0, pi)},
		{"y = i·x·z", base(t, "y"), scaled(mm(base(t, "x"), base(t, "z")), 1i)},
		{"gphase", base(t, "gphase", ga), []complex128{cmplx.Exp(complex(0, ga))}},
	}
	for _, c := range cases {
		if e := maxDiff(c.got, c.want); e > 1e-14 {
			t.Errorf("%s: differs by %g\n got %v\nwant %v", c.name, e, c.got, c.want)
		}
	}
}

// TestMatPow: integer powers are products, −1 the adjoint, and principal
// square roots square back — also for degenerate spectra (x, swap, I, a
// diagonal with −1 twice).
func TestMatPow(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	mats := [][]complex128{base(t, "x"), base(t, "swap"), circuit.Identity(4), {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1i, 0, 0, 0, 0, 1}}
	for d := 2; d <= 8; d *= 2 {
		mats = append(mats, circuit.RandomUnitary(rng, d))
	}
	for i, m := range mats {
		sq, err := circuit.MatPow(m, 2)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxDiff(sq, circuit.MatMul(m, m)); e > 1e-13 {
			t.Errorf("matrix %d: m^2 differs from m·m by %g", i, e)
		}
		inv, _ := circuit.MatPow(m, -1)
		if e := maxDiff(inv, circuit.Dagger(m)); e > 1e-13 {
			t.Errorf("matrix %d: m^-1 differs from m† by %g", i, e)
		}
		r, err := circuit.MatPow(m, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxDiff(circuit.MatMul(r, r), m); e > 1e-10 {
			t.Errorf("matrix %d: (m^0.5)^2 differs from m by %g", i, e)
		}
		k := int(math.Sqrt(float64(len(m))))
		if e := maxDiff(circuit.MatMul(r, circuit.Dagger(r)), circuit.Identity(k)); e > 1e-10 {
			t.Errorf("matrix %d: m^0.5 is not unitary (%g)", i, e)
		}
	}
	// Principal branch: z^0.5 = s, x^0.5 = sx.
	if r, _ := circuit.MatPow(base(t, "z"), 0.5); maxDiff(r, base(t, "s")) > 1e-12 {
		t.Errorf("z^0.5 = %v, want s", r)
	}
	if r, _ := circuit.MatPow(base(t, "x"), 0.5); maxDiff(r, base(t, "sx")) > 1e-12 {
		t.Errorf("x^0.5 = %v, want sx", r)
	}
	if _, err := circuit.MatPow([]complex128{1, 2, 3}, 2); err == nil {
		t.Error("non-square matrix accepted")
	}
	if _, err := circuit.MatPow(base(t, "x"), math.NaN()); err == nil {
		t.Error("NaN power accepted")
	}
}

// fullMatrix builds the 2^n matrix of a lowered gate independently of
// ApplyToVector: entry (r, c) is Matrix[rt, ct] when r and c agree off the
// targets and the controls hold, identity otherwise.
func fullMatrix(g *circuit.Gate, n int) []complex128 {
	d := 1 << n
	out := make([]complex128, d*d)
	m := g.Dense()
	k := 1 << len(g.Targets)
	var tmask int
	for _, q := range g.Targets {
		tmask |= 1 << q
	}
	sub := func(i int) int {
		s := 0
		for j, q := range g.Targets {
			s |= (i >> q & 1) << j
		}
		return s
	}
	for r := 0; r < d; r++ {
		for c := 0; c < d; c++ {
			if r&^tmask != c&^tmask {
				continue
			}
			on := true
			for _, q := range g.Controls {
				on = on && c>>q&1 == 1
			}
			for _, q := range g.NegControls {
				on = on && c>>q&1 == 0
			}
			switch {
			case on:
				out[r*d+c] = m[sub(r)*k+sub(c)]
			case r == c:
				out[r*d+c] = 1
			}
		}
	}
	return out
}

func applyFull(m, v []complex128) []complex128 {
	d := len(v)
	out := make([]complex128, d)
	for r := 0; r < d; r++ {
		for c := 0; c < d; c++ {
			out[r] += m[r*d+c] * v[c]
		}
	}
	return out
}

// TestLowerAndApplyReference checks Lower for modifier combinations and
// ApplyToVector against explicit full matrices (1e-12).
func TestLowerAndApplyReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 5
	ops := []circuit.Op{
		{Kind: circuit.KindGate, Name: "cx", Qubits: []int{3, 1}},
		{Kind: circuit.KindGate, Name: "ccx", Qubits: []int{0, 4, 2}},
		{Kind: circuit.KindGate, Name: "rx", Params: []float64{0.3}, Qubits: []int{2}, Controls: []int{0, 1}, NegControls: []int{4}},
		{Kind: circuit.KindGate, Name: "swap", Qubits: []int{1, 4}, Pow: 0.5},
		{Kind: circuit.KindGate, Name: "crz", Params: []float64{1.1}, Qubits: []int{2, 0}, Pow: -1},
		{Kind: circuit.KindGate, Name: "gphase", Params: []float64{0.9}, Controls: []int{3}},
		{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: []int{4, 0}, Matrix: circuit.RandomUnitary(rng, 4), NegControls: []int{2}},
	}
	// The expected full matrices, built from the definitions.
	x := []complex128{0, 1, 1, 0}
	rx := base(t, "rx", 0.3)
	sw, _ := circuit.MatPow(base(t, "swap"), 0.5)
	crzInv := circuit.Dagger(base(t, "rz", 1.1))
	want := []*circuit.Gate{
		{Targets: []int{1}, Controls: []int{3}, Matrix: x},
		{Targets: []int{2}, Controls: []int{0, 4}, Matrix: x},
		{Targets: []int{2}, Controls: []int{0, 1}, NegControls: []int{4}, Matrix: rx},
		{Targets: []int{1, 4}, Matrix: sw},
		{Targets: []int{0}, Controls: []int{2}, Matrix: crzInv},
		{Targets: []int{3}, Matrix: []complex128{1, 0, 0, cmplx.Exp(0.9i)}},
		{Targets: []int{4, 0}, NegControls: []int{2}, Matrix: ops[6].Matrix},
	}
	for i := range ops {
		g, err := ops[i].Lower()
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		got, exp := fullMatrix(&g, n), fullMatrix(want[i], n)
		if e := maxDiff(got, exp); e > 1e-12 {
			t.Errorf("op %d (%s): lowered matrix differs by %g", i, ops[i].Name, e)
		}
		v := backendtest.RandomState(rng, n)
		ref := applyFull(got, v)
		circuit.ApplyToVector(v, &g)
		if e := maxDiff(v, ref); e > 1e-12 {
			t.Errorf("op %d: ApplyToVector differs from the full matrix by %g", i, e)
		}
	}
	mask, val := want[2].CtrlMasks()
	if mask != 1|2|16 || val != 1|2 {
		t.Errorf("CtrlMasks = %b, %b", mask, val)
	}
}

func TestValidateRejects(t *testing.T) {
	bad := []circuit.Op{
		{Kind: circuit.KindGate, Name: "nope", Qubits: []int{0}},
		{Kind: circuit.KindGate, Name: "rx", Qubits: []int{0}},
		{Kind: circuit.KindGate, Name: "cx", Qubits: []int{0}},
		{Kind: circuit.KindGate, Name: "h", Qubits: []int{3}},
		{Kind: circuit.KindGate, Name: "cx", Qubits: []int{1, 1}},
		{Kind: circuit.KindGate, Name: "h", Qubits: []int{0}, Controls: []int{0}},
		{Kind: circuit.KindGate, Name: "rx", Params: []float64{math.NaN()}, Qubits: []int{0}},
		{Kind: circuit.KindGate, Name: "h", Qubits: []int{0}, Pow: math.Inf(1)},
		{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: []int{0}, Matrix: []complex128{1, 0, 0}},
		{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: []int{0}, Matrix: []complex128{1, 1, 0, 1}},
		{Kind: circuit.KindMeasure, Qubits: []int{0}, Clbit: 5},
		{Kind: circuit.KindReset, Qubits: []int{0, 1}},
	}
	for i, op := range bad {
		c := &circuit.Circuit{Qubits: 3, Clbits: 3, Ops: []circuit.Op{op}}
		if err := c.Validate(); err == nil {
			t.Errorf("op %d (%+v) accepted", i, op)
		}
	}
}

// TestFuseEquivalence: for random gate lists (1–8 qubits, controls,
// diagonal and dense gates) and every block size, fused gates act like the
// originals (1e-12), stay within the block size and never outnumber them.
func TestFuseEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := 0; trial < 60; trial++ {
		n := 1 + rng.IntN(8)
		gates := make([]circuit.Gate, 40)
		for i := range gates {
			gates[i] = backendtest.RandomGate(rng, n)
		}
		v0 := backendtest.RandomState(rng, n)
		ref := slices.Clone(v0)
		for i := range gates {
			circuit.ApplyToVector(ref, &gates[i])
		}
		for f := 1; f <= circuit.MaxDenseQubits; f++ {
			fused, err := circuit.Fuse(gates, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(fused) > len(gates) {
				t.Errorf("fuse %d made %d gates from %d", f, len(fused), len(gates))
			}
			v := slices.Clone(v0)
			for i := range fused {
				g := &fused[i]
				if q := len(g.Targets) + len(g.Controls) + len(g.NegControls); f >= 2 && q > f && !isOriginal(g, gates) {
					t.Errorf("fuse %d: block on %d qubits", f, q)
				}
				circuit.ApplyToVector(v, g)
			}
			if e := maxDiff(v, ref); e > 1e-12 {
				t.Fatalf("trial %d n=%d fuse %d: state differs by %g", trial, n, f, e)
			}
		}
	}
	if _, err := circuit.Fuse(nil, circuit.MaxDenseQubits+1); err == nil {
		t.Error("block size above MaxDenseQubits accepted")
	}
}

// isOriginal reports whether g is one of the input gates passed through
// unchanged (a single gate wider than the block size is emitted as is).
func isOriginal(g *circuit.Gate, gates []circuit.Gate) bool {
	for i := range gates {
		if slices.Equal(g.Targets, gates[i].Targets) && slices.Equal(g.Controls, gates[i].Controls) && slices.Equal(g.Matrix, gates[i].Matrix) {
			return true
		}
	}
	return false
}

// hamiltonian returns the dense matrix of a Pauli sum.
func hamiltonian(t *testing.T, h circuit.PauliSum, n int) *mat.CDense {
	d := 1 << n
	m := mat.NewCDense(d, d, nil)
	for _, term := range h {
		pm, err := term.Masks(n)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < d; i++ {
			j := i ^ int(pm.X)
			// P|i⟩ = phase·(−1)^{|i∧Z|}|i⊕X⟩ per PauliMasks; row j, column i.
			s := 1.0
			if popcount(uint64(i)&pm.Z)%2 == 1 {
				s = -1
			}
			m.Set(j, i, m.At(j, i)+complex(term.Coeff*s, 0)*pm.Phase)
		}
	}
	return m
}

func popcount(x uint64) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// exactEvolve returns exp(−iHt)v via the eigendecomposition of the real
// symmetric embedding [[Re H, −Im H], [Im H, Re H]] of the Hermitian H.
func exactEvolve(t *testing.T, h *mat.CDense, tt float64, v []complex128) []complex128 {
	d, _ := h.Dims()
	emb := mat.NewSymDense(2*d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			z := h.At(i, j)
			emb.SetSym(i, j, real(z))
			emb.SetSym(d+i, d+j, real(z))
			emb.SetSym(i, d+j, -imag(z))
			emb.SetSym(j, d+i, imag(z))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(emb, true) {
		t.Fatal("eigendecomposition failed")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	// exp(−iHt) on the embedding: real vector (Re v, Im v) → rotate each
	// eigencomponent; the embedding's eigenvectors come in pairs, so
	// compute cos and sin parts separately: e^{−iHt}v = cos(Ht)v − i sin(Ht)v.
	x := make([]float64, 2*d)
	for i := 0; i < d; i++ {
		x[i], x[d+i] = real(v[i]), imag(v[i])
	}
	cosPart, sinPart := make([]float64, 2*d), make([]float64, 2*d)
	for k := 0; k < 2*d; k++ {
		var dot float64
		for i := 0; i < 2*d; i++ {
			dot += vecs.At(i, k) * x[i]
		}
		c, s := math.Cos(vals[k]*tt)*dot, math.Sin(vals[k]*tt)*dot
		for i := 0; i < 2*d; i++ {
			cosPart[i] += vecs.At(i, k) * c
			sinPart[i] += vecs.At(i, k) * s
		}
	}
	// In the embedding, multiplication by i is J: (a, b) → (−b, a).
	out := make([]complex128, d)
	for i := 0; i < d; i++ {
		re := cosPart[i] + sinPart[d+i]
		im := cosPart[d+i] - sinPart[i]
		out[i] = complex(re, im)
	}
	return out
}

// TestTrotterOrder: the Trotter error falls at the formula's order (log–log
// slope within ±0.35 of 1, 2, 4) against an exact evolution, and a
// commuting Hamiltonian is exact in one step.
func TestTrotterOrder(t *testing.T) {
	const n = 3
	h := circuit.PauliSum{{Coeff: 0.9, Pauli: "XZI"}, {Coeff: -0.6, Pauli: "IYY"}, {Coeff: 0.4, Pauli: "ZIX"}, {Coeff: 0.3, Pauli: "YXZ"}}
	rng := rand.New(rand.NewPCG(5, 5))
	v0 := backendtest.RandomState(rng, n)
	const tt = 1.0
	exact := exactEvolve(t, hamiltonian(t, h, n), tt, v0)
	run := func(steps, order int) float64 {
		c, err := circuit.Trotter(h, n, tt, steps, order)
		if err != nil {
			t.Fatal(err)
		}
		v := slices.Clone(v0)
		for i := range c.Ops {
			g, err := c.Ops[i].Lower()
			if err != nil {
				t.Fatal(err)
			}
			circuit.ApplyToVector(v, &g)
		}
		return maxDiff(v, exact)
	}
	for _, tc := range []struct{ order, s1, s2 int }{{1, 8, 64}, {2, 8, 64}, {4, 4, 16}} {
		e1, e2 := run(tc.s1, tc.order), run(tc.s2, tc.order)
		slope := math.Log(e1/e2) / math.Log(float64(tc.s2)/float64(tc.s1))
		if math.Abs(slope-float64(tc.order)) > 0.35 {
			t.Errorf("order %d: error %g → %g, slope %.2f", tc.order, e1, e2, slope)
		}
	}
	zz := circuit.PauliSum{{Coeff: 0.7, Pauli: "ZZI"}, {Coeff: -0.2, Pauli: "IZZ"}, {Coeff: 0.5, Pauli: "ZII"}}
	exactZ := exactEvolve(t, hamiltonian(t, zz, n), tt, v0)
	c, err := circuit.Trotter(zz, n, tt, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	v := slices.Clone(v0)
	for i := range c.Ops {
		g, _ := c.Ops[i].Lower()
		circuit.ApplyToVector(v, &g)
	}
	if e := maxDiff(v, exactZ); e > 1e-12 {
		t.Errorf("commuting Hamiltonian: one Trotter step off by %g", e)
	}
	if _, err := circuit.Trotter(h, n, tt, 0, 2); err == nil {
		t.Error("zero steps accepted")
	}
	if _, err := circuit.Trotter(h, n, tt, 1, 3); err == nil {
		t.Error("order 3 accepted")
	}
	if _, err := circuit.Trotter(circuit.PauliSum{{Coeff: 1, Pauli: "XQ"}}, 2, tt, 1, 1); err == nil {
		t.Error("bad Pauli string accepted")
	}
}
