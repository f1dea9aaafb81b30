package qpu

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
)

// Two-qubit basis gates a Target can use.
const (
	BasisCX  = "cx"
	BasisECR = "ecr"
)

// Target describes a device for Transpile: its basis is {rz, sx, x} plus
// the two-qubit gate TwoQubit, on the undirected Coupling graph.
type Target struct {
	// TwoQubit is BasisCX (default) or BasisECR.
	TwoQubit string
	// Coupling lists the physical qubit pairs a two-qubit gate may act on
	// (either direction); nil means all-to-all.
	Coupling [][2]int
	// Directed makes Coupling's pairs ordered: a two-qubit gate runs only
	// as (control, target) = a listed pair; the other orientation gets
	// Hadamards around it (list both orientations for a symmetric pair).
	Directed bool
	// Qubits is the device's physical qubit count (0: the largest qubit of
	// Coupling plus one, or the circuit's count).
	Qubits int
}

// DefaultIBMTarget is IBM's Eagle-family basis {rz, sx, x, ecr}, all-to-all
// (set MEC_QPU_COUPLING for the device's coupling map).
func DefaultIBMTarget() Target { return Target{TwoQubit: BasisECR} }

// ParseTarget reads a basis list ("rz,sx,x,cx" or "rz,sx,x,ecr"; empty: cx)
// and a coupling map ("0-1,1-2,..."; empty: all-to-all). An edge written
// A>B is native only from A to B; when any edge is, the map is Directed and
// each A-B edge stands for both orientations.
func ParseTarget(basis, coupling string) (Target, error) {
	t := Target{TwoQubit: BasisCX}
	if basis != "" {
		two := ""
		have := map[string]bool{}
		for _, g := range strings.Split(basis, ",") {
			g = strings.ToLower(strings.TrimSpace(g))
			have[g] = true
			switch g {
			case "rz", "sx", "x":
			case BasisCX, BasisECR:
				if two != "" && two != g {
					return t, fmt.Errorf("qpu: basis %q: choose one of cx and ecr", basis)
				}
				two = g
			default:
				return t, fmt.Errorf("qpu: basis %q: gate %q is not supported (use rz, sx, x and cx or ecr)", basis, g)
			}
		}
		if !have["rz"] || !have["sx"] || two == "" {
			return t, fmt.Errorf("qpu: basis %q must contain rz, sx and cx or ecr", basis)
		}
		t.TwoQubit = two
	}
	var both []bool
	for _, e := range strings.Split(coupling, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		a, b, ok := strings.Cut(e, "-")
		if !ok {
			a, b, ok = strings.Cut(e, ">")
			t.Directed = t.Directed || ok
		}
		x, err1 := strconv.Atoi(strings.TrimSpace(a))
		y, err2 := strconv.Atoi(strings.TrimSpace(b))
		if !ok || err1 != nil || err2 != nil || x < 0 || y < 0 || x == y || x > 1<<16 || y > 1<<16 {
			return t, fmt.Errorf("qpu: coupling map edge %q: want A-B or A>B with distinct qubit numbers", e)
		}
		t.Coupling = append(t.Coupling, [2]int{x, y})
		both = append(both, strings.Contains(e, "-"))
	}
	if t.Directed {
		for i, e := range t.Coupling[:len(both)] {
			if both[i] {
				t.Coupling = append(t.Coupling, [2]int{e[1], e[0]})
			}
		}
	}
	return t, nil
}

// Layout maps logical qubits to physical ones: Initial at the start of the
// transpiled circuit, Final at its end (after the routing SWAPs).
type Layout struct {
	Initial, Final []int
}

// pop is a physical operation during transpiling.
type pop struct {
	kind   circuit.Kind
	two    string // "cx" or "ecr" for two-qubit gates, "" for 1q
	m      [4]complex128
	qubits []int
	clbit  int
}

const eps = 1e-10

var (
	matX  = [4]complex128{0, 1, 1, 0}
	matH  = [4]complex128{complex(1/math.Sqrt2, 0), complex(1/math.Sqrt2, 0), complex(1/math.Sqrt2, 0), complex(-1/math.Sqrt2, 0)}
	matI  = [4]complex128{1, 0, 0, 1}
	ecrMx = ecrMatrix()
)

// ecrMatrix is IBM's ECR gate, (X⊗I − Y⊗X)/√2 with operand 0 as bit 0:
// RZX(−π/2)·X₀ (x a; h b; cx a, b; rz(−π/2) b; cx a, b; h b).
func ecrMatrix() []complex128 {
	r := complex(1/math.Sqrt2, 0)
	i := complex(0, 1/math.Sqrt2)
	// rows/cols index = b0 + 2 b1 (operand 0 = bit 0)
	return []complex128{
		0, r, 0, i,
		r, 0, -i, 0,
		0, i, 0, r,
		-i, 0, r, 0,
	}
}

// Transpile rewrites c into t's basis: every gate becomes rz, sx, x and cx
// (or ecr) — one-qubit gates via ZYZ, controlled gates via the ABC
// construction, multi-controlled ones by the recursive construction of
// Barenco et al. (Lemma 7.5) — then routes the two-qubit gates on t's
// coupling map, inserting SWAPs (three two-qubit gates) along shortest paths,
// and finally merges adjacent one-qubit gates. Measurements, resets and
// barriers act on the physical qubit their logical qubit is on at that
// point, so shot counts need no relabelling; the returned Layout gives the
// state's final permutation. The result equals c up to global phase.
func Transpile(c *circuit.Circuit, t Target) (*circuit.Circuit, Layout, error) {
	if err := c.Validate(); err != nil {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: %w", err)
	}
	two := t.TwoQubit
	if two == "" {
		two = BasisCX
	}
	if two != BasisCX && two != BasisECR {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: two-qubit basis gate %q (want cx or ecr)", two)
	}
	if c.Dynamic() {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: %w", circuit.ErrDynamic)
	}
	nphys := t.Qubits
	for _, e := range t.Coupling {
		nphys = max(nphys, e[0]+1, e[1]+1)
	}
	if nphys == 0 {
		nphys = c.Qubits
	}
	if nphys < c.Qubits {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: %d qubits on a device of %d", c.Qubits, nphys)
	}
	// 1. decompose to 1q matrices and cx on logical qubits.
	var logical []pop
	emit := func(p pop) { logical = append(logical, p) }
	for i := range c.Ops {
		op := &c.Ops[i]
		switch op.Kind {
		case circuit.KindGate:
			if err := decomposeOp(op, emit); err != nil {
				return nil, Layout{}, fmt.Errorf("qpu: transpile: op %d (%s): %w", i, op.Name, err)
			}
		case circuit.KindMeasure, circuit.KindReset, circuit.KindBarrier:
			emit(pop{kind: op.Kind, qubits: slices.Clone(op.Qubits), clbit: op.Clbit})
		case circuit.KindDelay:
			// Idling: the simulated device's state does not change.
		default:
			return nil, Layout{}, fmt.Errorf("qpu: transpile: op %d: unsupported kind %v", i, op.Kind)
		}
	}
	// 2. route.
	phys, lay, err := route(logical, c.Qubits, nphys, t.Coupling, t.Directed)
	if err != nil {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: %w", err)
	}
	// 3. two-qubit basis.
	if two == BasisECR {
		phys = cxToECR(phys)
	}
	// 4. merge one-qubit gates and write the basis ops.
	out := &circuit.Circuit{Qubits: usedQubits(phys, c.Qubits), Clbits: c.Clbits}
	if err := emitBasis(phys, out); err != nil {
		return nil, Layout{}, fmt.Errorf("qpu: transpile: %w", err)
	}
	return out, lay, nil
}

func usedQubits(ops []pop, n int) int {
	for _, p := range ops {
		for _, q := range p.qubits {
			n = max(n, q+1)
		}
	}
	return n
}

// decomposeOp lowers one gate op into 1q matrices and cx.
func decomposeOp(op *circuit.Op, emit func(pop)) error {
	if (op.Name == "swap" || op.Name == "cswap") && (op.Pow == 0 || op.Pow == 1 || op.Pow == -1) {
		// (controlled) swap a, b = cx b, a; C…(cx a, b); cx b, a.
		ctrls := slices.Clone(op.Controls)
		qs := op.Qubits
		if op.Name == "cswap" {
			ctrls, qs = append(ctrls, qs[0]), qs[1:]
		}
		a, b := qs[0], qs[1]
		emit(cx(b, a))
		for _, q := range op.NegControls {
			emit(one(q, matX))
		}
		if err := mcu(append(append(ctrls, op.NegControls...), a), b, matX, emit); err != nil {
			return err
		}
		for _, q := range op.NegControls {
			emit(one(q, matX))
		}
		emit(cx(b, a))
		return nil
	}
	g, err := op.Lower()
	if err != nil {
		return err
	}
	parts, _, err := circuit.Decompose1Q(&g)
	if err != nil {
		return err
	}
	for _, p := range parts {
		for _, q := range p.NegControls {
			emit(pop{kind: circuit.KindGate, m: matX, qubits: []int{q}})
		}
		ctrls := append(slices.Clone(p.Controls), p.NegControls...)
		if err := mcu(ctrls, p.Target, p.Matrix, emit); err != nil {
			return err
		}
		for _, q := range p.NegControls {
			emit(pop{kind: circuit.KindGate, m: matX, qubits: []int{q}})
		}
	}
	return nil
}

func one(q int, m [4]complex128) pop { return pop{kind: circuit.KindGate, m: m, qubits: []int{q}} }
func cx(a, b int) pop                { return pop{kind: circuit.KindGate, two: BasisCX, qubits: []int{a, b}} }

func near(a, b [4]complex128) bool {
	for i := range a {
		if cmplx.Abs(a[i]-b[i]) > eps {
			return false
		}
	}
	return true
}

func rzM(a float64) [4]complex128 {
	return [4]complex128{cmplx.Exp(complex(0, -a/2)), 0, 0, cmplx.Exp(complex(0, a/2))}
}

func ryM(a float64) [4]complex128 {
	c, s := complex(math.Cos(a/2), 0), complex(math.Sin(a/2), 0)
	return [4]complex128{c, -s, s, c}
}

func phaseM(a float64) [4]complex128 { return [4]complex128{1, 0, 0, cmplx.Exp(complex(0, a))} }

func mul2(a, b [4]complex128) [4]complex128 {
	return [4]complex128{
		a[0]*b[0] + a[1]*b[2], a[0]*b[1] + a[1]*b[3],
		a[2]*b[0] + a[3]*b[2], a[2]*b[1] + a[3]*b[3],
	}
}

func dag2(a [4]complex128) [4]complex128 {
	return [4]complex128{cmplx.Conj(a[0]), cmplx.Conj(a[2]), cmplx.Conj(a[1]), cmplx.Conj(a[3])}
}

// mcu emits the 1-qubit unitary w on target controlled by every qubit of
// ctrls (all positive) exactly, relative phases included.
func mcu(ctrls []int, target int, w [4]complex128, emit func(pop)) error {
	switch len(ctrls) {
	case 0:
		emit(one(target, w))
		return nil
	case 1:
		c := ctrls[0]
		switch {
		case near(w, matX):
			emit(cx(c, target))
			return nil
		case near(w, matI):
			return nil
		}
		if u, alpha, ok := reflection(w); ok {
			// w = e^{iα} U X U†: one cx.
			emit(one(target, dag2(u)))
			emit(cx(c, target))
			emit(one(target, u))
			emit(one(c, phaseM(alpha)))
			return nil
		}
		theta, phi, lambda, gamma := circuit.ZYZ(w)
		// w = e^{iα} Rz(φ) Ry(θ) Rz(λ) with α = γ + (φ+λ)/2.
		alpha := gamma + (phi+lambda)/2
		a := mul2(rzM(phi), ryM(theta/2))
		b := mul2(ryM(-theta/2), rzM(-(lambda+phi)/2))
		cm := rzM((lambda - phi) / 2)
		emit(one(target, cm))
		emit(cx(c, target))
		emit(one(target, b))
		emit(cx(c, target))
		emit(one(target, a))
		emit(one(c, phaseM(alpha)))
		return nil
	}
	if len(ctrls) == 2 && near(w, matX) {
		toffoli(ctrls[0], ctrls[1], target, emit)
		return nil
	}
	// Lemma 7.5: C^k(W) = C(V)[ck,t] · C^{k-1}X[→ck] · C(V†)[ck,t] · C^{k-1}X[→ck] · C^{k-1}(V)[t], V² = W.
	vs, err := circuit.MatPow(w[:], 0.5)
	if err != nil {
		return err
	}
	var v [4]complex128
	copy(v[:], vs)
	k := len(ctrls)
	last, rest := ctrls[k-1], ctrls[:k-1]
	if err := mcu([]int{last}, target, v, emit); err != nil {
		return err
	}
	if err := mcu(rest, last, matX, emit); err != nil {
		return err
	}
	if err := mcu([]int{last}, target, dag2(v), emit); err != nil {
		return err
	}
	if err := mcu(rest, last, matX, emit); err != nil {
		return err
	}
	return mcu(rest, target, v, emit)
}

// reflection reports whether w = e^{iα} U X U† (trace 0: eigenvalues
// e^{iα} and −e^{iα}) and returns U and α.
func reflection(w [4]complex128) (u [4]complex128, alpha float64, ok bool) {
	if cmplx.Abs(w[0]+w[3]) > eps {
		return u, 0, false
	}
	// e^{2iα} = −det w; λ1 = e^{iα}, λ2 = −λ1.
	det := w[0]*w[3] - w[1]*w[2]
	alpha = cmplx.Phase(-det) / 2
	l1 := cmplx.Exp(complex(0, alpha))
	l2 := -l1
	// Eigenvector of λ1: a non-zero column of w − λ2 I.
	c0 := [2]complex128{w[0] - l2, w[2]}
	c1 := [2]complex128{w[1], w[3] - l2}
	v := c0
	if cmplx.Abs(c1[0])+cmplx.Abs(c1[1]) > cmplx.Abs(c0[0])+cmplx.Abs(c0[1]) {
		v = c1
	}
	n := math.Hypot(cmplx.Abs(v[0]), cmplx.Abs(v[1]))
	if n < eps {
		return u, 0, false
	}
	v[0], v[1] = v[0]/complex(n, 0), v[1]/complex(n, 0)
	// V = [v, v⊥] diagonalises w as e^{iα} Z; U = V·H turns Z into X.
	vm := [4]complex128{v[0], -cmplx.Conj(v[1]), v[1], cmplx.Conj(v[0])}
	u = mul2(vm, matH)
	// Check: w = e^{iα} U X U†.
	if !near(w, scale2(mul2(mul2(u, matX), dag2(u)), l1)) {
		return u, 0, false
	}
	return u, alpha, true
}

func scale2(a [4]complex128, s complex128) [4]complex128 {
	return [4]complex128{a[0] * s, a[1] * s, a[2] * s, a[3] * s}
}

// toffoli emits ccx a, b, t with six cx (Nielsen & Chuang, Fig. 4.9).
func toffoli(a, b, t int, emit func(pop)) {
	tg, tdg := phaseM(math.Pi/4), phaseM(-math.Pi/4)
	emit(one(t, matH))
	emit(cx(b, t))
	emit(one(t, tdg))
	emit(cx(a, t))
	emit(one(t, tg))
	emit(cx(b, t))
	emit(one(t, tdg))
	emit(cx(a, t))
	emit(one(b, tg))
	emit(one(t, tg))
	emit(one(t, matH))
	emit(cx(a, b))
	emit(one(a, tg))
	emit(one(b, tdg))
	emit(cx(a, b))
}

// route places logical qubit i on physical qubit i and moves qubits with
// SWAPs along shortest paths of the coupling graph until every cx acts on
// a coupled pair.
func route(ops []pop, nlog, nphys int, coupling [][2]int, directed bool) ([]pop, Layout, error) {
	l2p := make([]int, nlog)
	p2l := make([]int, nphys)
	for i := range p2l {
		p2l[i] = -1
	}
	for i := range l2p {
		l2p[i] = i
		p2l[i] = i
	}
	lay := Layout{Initial: slices.Clone(l2p)}
	var adj [][]int
	if coupling != nil {
		adj = make([][]int, nphys)
		for _, e := range coupling {
			adj[e[0]] = append(adj[e[0]], e[1])
			adj[e[1]] = append(adj[e[1]], e[0])
		}
	}
	var native map[[2]int]bool
	if directed && coupling != nil {
		native = map[[2]int]bool{}
		for _, e := range coupling {
			native[e] = true
		}
	}
	var out []pop
	// emitCX writes cx p, q in a native orientation: h p; h q; cx q, p; h p; h q otherwise.
	emitCX := func(p, q int) {
		if native == nil || native[[2]int{p, q}] {
			out = append(out, cx(p, q))
			return
		}
		out = append(out, one(p, matH), one(q, matH), cx(q, p), one(p, matH), one(q, matH))
	}
	swap := func(p, q int) {
		emitCX(p, q)
		emitCX(q, p)
		emitCX(p, q)
		lp, lq := p2l[p], p2l[q]
		p2l[p], p2l[q] = lq, lp
		if lp >= 0 {
			l2p[lp] = q
		}
		if lq >= 0 {
			l2p[lq] = p
		}
	}
	for _, op := range ops {
		if op.two != "" && adj != nil {
			pa, pb := l2p[op.qubits[0]], l2p[op.qubits[1]]
			path := shortestPath(adj, pa, pb)
			if path == nil {
				return nil, Layout{}, fmt.Errorf("physical qubits %d and %d are not connected in the coupling map", pa, pb)
			}
			for i := 0; i+2 < len(path); i++ {
				swap(path[i], path[i+1])
			}
		}
		q := make([]int, len(op.qubits))
		for i, l := range op.qubits {
			q[i] = l2p[l]
		}
		if op.two != "" {
			emitCX(q[0], q[1])
			continue
		}
		op.qubits = q
		out = append(out, op)
	}
	lay.Final = slices.Clone(l2p)
	return out, lay, nil
}

// shortestPath is a breadth-first path from a to b (both ends included).
func shortestPath(adj [][]int, a, b int) []int {
	if a == b {
		return []int{a}
	}
	prev := make([]int, len(adj))
	for i := range prev {
		prev[i] = -1
	}
	prev[a] = a
	queue := []int{a}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, y := range adj[x] {
			if prev[y] >= 0 {
				continue
			}
			prev[y] = x
			if y == b {
				var path []int
				for z := b; z != a; z = prev[z] {
					path = append(path, z)
				}
				path = append(path, a)
				slices.Reverse(path)
				return path
			}
			queue = append(queue, y)
		}
	}
	return nil
}

// cxToECR rewrites cx a,b as x a; ecr a,b; rz(π/2) a; sx b (exact up to
// global phase; the one-qubit gates merge with their neighbours later).
func cxToECR(ops []pop) []pop {
	var out []pop
	sx := [4]complex128{complex(0.5, 0.5), complex(0.5, -0.5), complex(0.5, -0.5), complex(0.5, 0.5)}
	for _, op := range ops {
		if op.two != BasisCX {
			out = append(out, op)
			continue
		}
		a, b := op.qubits[0], op.qubits[1]
		out = append(out, one(a, matX),
			pop{kind: circuit.KindGate, two: BasisECR, qubits: []int{a, b}},
			one(a, rzM(math.Pi/2)), one(b, sx))
	}
	return out
}

// emitBasis merges runs of one-qubit gates per qubit and appends the basis
// ops to out.
func emitBasis(ops []pop, out *circuit.Circuit) error {
	pending := map[int][4]complex128{}
	flush := func(q int) {
		m, ok := pending[q]
		if !ok {
			return
		}
		delete(pending, q)
		out.Ops = append(out.Ops, oneQubitBasis(q, m)...)
	}
	for _, op := range ops {
		if op.kind == circuit.KindGate && op.two == "" {
			q := op.qubits[0]
			m, ok := pending[q]
			if !ok {
				m = matI
			}
			pending[q] = mul2(op.m, m)
			continue
		}
		for _, q := range op.qubits {
			flush(q)
		}
		switch {
		case op.two == BasisCX:
			out.Ops = append(out.Ops, circuit.Op{Kind: circuit.KindGate, Name: "cx", Qubits: op.qubits})
		case op.two == BasisECR:
			out.Ops = append(out.Ops, circuit.Op{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: op.qubits, Matrix: slices.Clone(ecrMx)})
		default:
			out.Ops = append(out.Ops, circuit.Op{Kind: op.kind, Qubits: op.qubits, Clbit: op.clbit})
		}
	}
	qs := make([]int, 0, len(pending))
	for q := range pending {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	for _, q := range qs {
		flush(q)
	}
	return out.Validate()
}

// normAngle maps a to (−π, π].
func normAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a <= -math.Pi {
		a += 2 * math.Pi
	} else if a > math.Pi {
		a -= 2 * math.Pi
	}
	return a
}

// oneQubitBasis writes a 2×2 unitary as rz, sx and x gates (up to global
// phase): U(θ,φ,λ) ≅ rz(λ)·sx·rz(θ+π)·sx·rz(φ+π) in circuit order, with
// shorter forms for θ = 0, π/2 and π.
func oneQubitBasis(q int, w [4]complex128) []circuit.Op {
	theta, phi, lambda, _ := circuit.ZYZ(w)
	var ops []circuit.Op
	rz := func(a float64) {
		a = normAngle(a)
		if math.Abs(a) > eps {
			ops = append(ops, circuit.Op{Kind: circuit.KindGate, Name: "rz", Params: []float64{a}, Qubits: []int{q}})
		}
	}
	g := func(name string) {
		ops = append(ops, circuit.Op{Kind: circuit.KindGate, Name: name, Qubits: []int{q}})
	}
	switch {
	case math.Abs(normAngle(theta)) < eps:
		rz(phi + lambda)
	case math.Abs(normAngle(theta-math.Pi)) < eps:
		rz(lambda - phi + math.Pi)
		g("x")
	case math.Abs(normAngle(theta-math.Pi/2)) < eps:
		rz(lambda - math.Pi/2)
		g("sx")
		rz(phi + math.Pi/2)
	default:
		rz(lambda)
		g("sx")
		rz(theta + math.Pi)
		g("sx")
		rz(phi + math.Pi)
	}
	return ops
}

// ExportBasis writes a transpiled circuit as OpenQASM 3. With the cx basis
// this is qasm.Export3; ecr gates (not in stdgates.inc) are written with a
// gate definition in standard gates so that any OpenQASM 3 reader accepts
// them.
func ExportBasis(c *circuit.Circuit) (string, error) {
	hasECR := false
	for _, op := range c.Ops {
		if op.Name == circuit.UnitaryName {
			if len(op.Qubits) != 2 || !slices.Equal(op.Matrix, ecrMx) {
				return "", fmt.Errorf("qpu: export: dense unitary on %d qubits is not a basis gate", len(op.Qubits))
			}
			hasECR = true
		}
	}
	if !hasECR {
		return qasm.Export3(c)
	}
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n")
	b.WriteString("gate ecr a, b { x a; h b; cx a, b; rz(-pi/2) b; cx a, b; h b; }\n")
	fmt.Fprintf(&b, "qubit[%d] q;\n", c.Qubits)
	if c.Clbits > 0 {
		fmt.Fprintf(&b, "bit[%d] c;\n", c.Clbits)
	}
	for _, op := range c.Ops {
		switch op.Kind {
		case circuit.KindMeasure:
			fmt.Fprintf(&b, "c[%d] = measure q[%d];\n", op.Clbit, op.Qubits[0])
		case circuit.KindReset:
			fmt.Fprintf(&b, "reset q[%d];\n", op.Qubits[0])
		case circuit.KindBarrier:
			b.WriteString("barrier " + qlist(op.Qubits) + ";\n")
		case circuit.KindGate:
			name := op.Name
			if name == circuit.UnitaryName {
				name = "ecr"
			}
			if len(op.Controls)+len(op.NegControls) > 0 || (op.Pow != 0 && op.Pow != 1) {
				return "", fmt.Errorf("qpu: export: %s with modifiers is not a basis gate", op.Name)
			}
			switch name {
			case "rz", "sx", "x", "cx", "ecr":
			default:
				return "", fmt.Errorf("qpu: export: %s is not a basis gate", op.Name)
			}
			b.WriteString(name)
			if len(op.Params) > 0 {
				ps := make([]string, len(op.Params))
				for i, p := range op.Params {
					ps[i] = qasm.Angle(p)
				}
				b.WriteString("(" + strings.Join(ps, ", ") + ")")
			}
			b.WriteString(" " + qlist(op.Qubits) + ";\n")
		}
	}
	return b.String(), nil
}

func qlist(qs []int) string {
	s := make([]string, len(qs))
	for i, q := range qs {
		s[i] = "q[" + strconv.Itoa(q) + "]"
	}
	return strings.Join(s, ", ")
}
