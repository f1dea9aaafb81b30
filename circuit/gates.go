package circuit

import (
	"fmt"
	"math"
	"math/cmplx"
	"sort"
)

// GateDef describes one named gate of the OpenQASM 3 standard library
// (stdgates.inc) or a builtin (U, gphase).
//
// Every standard gate is "NCtrl controls on a base gate": cx is one control on
// x, ccx two on x, cu(θ,φ,λ,γ) one control on e^{iγ}U(θ,φ,λ). The first NCtrl
// operands are the controls; the base acts on the rest. Base returns the base
// matrix, row-major, with base operand j as bit j of the matrix index
// (little-endian, like the state).
type GateDef struct {
	Name    string
	NParams int
	NQubits int // operands, controls included
	NCtrl   int
	Base    func(p []float64) []complex128
	// Diagonal reports that the base matrix is diagonal for every parameter value.
	Diagonal bool
}

// BaseQubits is the number of qubits the base matrix acts on.
func (g *GateDef) BaseQubits() int { return g.NQubits - g.NCtrl }

// U returns the OpenQASM 3 builtin U(θ,φ,λ) matrix.
func U(theta, phi, lambda float64) []complex128 {
	c, s := math.Cos(theta/2), math.Sin(theta/2)
	return []complex128{
		complex(c, 0), -cmplx.Exp(complex(0, lambda)) * complex(s, 0),
		cmplx.Exp(complex(0, phi)) * complex(s, 0), cmplx.Exp(complex(0, phi+lambda)) * complex(c, 0),
	}
}

func expi(x float64) complex128 { s, c := math.Sincos(x); return complex(c, s) }

func diag1(a, b complex128) []complex128 { return []complex128{a, 0, 0, b} }

func scale(m []complex128, z complex128) []complex128 {
	out := make([]complex128, len(m))
	for i, v := range m {
		out[i] = v * z
	}
	return out
}

var (
	invSqrt2 = complex(1/math.Sqrt2, 0)
	matX     = []complex128{0, 1, 1, 0}
	matY     = []complex128{0, -1i, 1i, 0}
	matZ     = []complex128{1, 0, 0, -1}
	matH     = []complex128{invSqrt2, invSqrt2, invSqrt2, -invSqrt2}
	matSX    = []complex128{complex(0.5, 0.5), complex(0.5, -0.5), complex(0.5, -0.5), complex(0.5, 0.5)}
	matSwap  = []complex128{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1}
	matI     = []complex128{1, 0, 0, 1}
)

func fixed(m []complex128) func([]float64) []complex128 {
	return func([]float64) []complex128 { return append([]complex128(nil), m...) }
}

func rx(t float64) []complex128 {
	c, s := math.Cos(t/2), math.Sin(t/2)
	return []complex128{complex(c, 0), complex(0, -s), complex(0, -s), complex(c, 0)}
}
func ry(t float64) []complex128 {
	c, s := math.Cos(t/2), math.Sin(t/2)
	return []complex128{complex(c, 0), complex(-s, 0), complex(s, 0), complex(c, 0)}
}
func rz(l float64) []complex128     { return diag1(expi(-l/2), expi(l/2)) }
func phase(l float64) []complex128  { return diag1(1, expi(l)) }
func gphase(l float64) []complex128 { return []complex128{expi(l)} }

// stdGates is the OpenQASM 3 stdgates.inc library plus the builtins U and
// gphase, with the exact matrices (global phases included) that the
// definitions in stdgates.inc produce.
var stdGates = map[string]*GateDef{
	"U":      {Name: "U", NParams: 3, NQubits: 1, Base: func(p []float64) []complex128 { return U(p[0], p[1], p[2]) }},
	"gphase": {Name: "gphase", NParams: 1, NQubits: 0, Base: func(p []float64) []complex128 { return gphase(p[0]) }, Diagonal: true},
	"p":      {Name: "p", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"x":      {Name: "x", NQubits: 1, Base: fixed(matX)},
	"y":      {Name: "y", NQubits: 1, Base: fixed(matY)},
	"z":      {Name: "z", NQubits: 1, Base: fixed(matZ), Diagonal: true},
	"h":      {Name: "h", NQubits: 1, Base: fixed(matH)},
	"s":      {Name: "s", NQubits: 1, Base: fixed(diag1(1, 1i)), Diagonal: true},
	"sdg":    {Name: "sdg", NQubits: 1, Base: fixed(diag1(1, -1i)), Diagonal: true},
	"t":      {Name: "t", NQubits: 1, Base: fixed(diag1(1, expi(math.Pi/4))), Diagonal: true},
	"tdg":    {Name: "tdg", NQubits: 1, Base: fixed(diag1(1, expi(-math.Pi/4))), Diagonal: true},
	"sx":     {Name: "sx", NQubits: 1, Base: fixed(matSX)},
	"rx":     {Name: "rx", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return rx(p[0]) }},
	"ry":     {Name: "ry", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return ry(p[0]) }},
	"rz":     {Name: "rz", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return rz(p[0]) }, Diagonal: true},
	"cx":     {Name: "cx", NQubits: 2, NCtrl: 1, Base: fixed(matX)},
	"CX":     {Name: "CX", NQubits: 2, NCtrl: 1, Base: fixed(matX)},
	"cy":     {Name: "cy", NQubits: 2, NCtrl: 1, Base: fixed(matY)},
	"cz":     {Name: "cz", NQubits: 2, NCtrl: 1, Base: fixed(matZ), Diagonal: true},
	"cp":     {Name: "cp", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"cphase": {Name: "cphase", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"crx":    {Name: "crx", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return rx(p[0]) }},
	"cry":    {Name: "cry", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return ry(p[0]) }},
	"crz":    {Name: "crz", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return rz(p[0]) }, Diagonal: true},
	"ch":     {Name: "ch", NQubits: 2, NCtrl: 1, Base: fixed(matH)},
	"swap":   {Name: "swap", NQubits: 2, Base: fixed(matSwap)},
	"ccx":    {Name: "ccx", NQubits: 3, NCtrl: 2, Base: fixed(matX)},
	"cswap":  {Name: "cswap", NQubits: 3, NCtrl: 1, Base: fixed(matSwap)},
	"cu": {Name: "cu", NParams: 4, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 {
		return scale(U(p[0], p[1], p[2]), expi(p[3]))
	}},
	"phase": {Name: "phase", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"id":    {Name: "id", NQubits: 1, Base: fixed(matI), Diagonal: true},
	"u1":    {Name: "u1", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"u2": {Name: "u2", NParams: 2, NQubits: 1, Base: func(p []float64) []complex128 {
		return scale(U(math.Pi/2, p[0], p[1]), expi(-(p[0]+p[1])/2))
	}},
	"u3": {Name: "u3", NParams: 3, NQubits: 1, Base: func(p []float64) []complex128 {
		return scale(U(p[0], p[1], p[2]), expi(-(p[1]+p[2])/2))
	}},
}

// LookupGate returns the definition of a standard gate or builtin by its
// OpenQASM 3 name.
func LookupGate(name string) (*GateDef, bool) {
	g, ok := stdGates[name]
	return g, ok
}

// StdGateNames returns the names of every standard gate and builtin, sorted.
func StdGateNames() []string {
	names := make([]string, 0, len(stdGates))
	for n := range stdGates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MatPow returns m^p for a unitary 2^k×2^k matrix m (row-major), using the
// principal branch of the logarithm for non-integer p as OpenQASM 3 pow(p)@
// does. Integer powers are computed by repeated squaring, so they are exact
// up to rounding for any matrix.
func MatPow(m []complex128, p float64) ([]complex128, error) {
	d := dimOf(len(m))
	if d < 0 {
		return nil, fmt.Errorf("circuit: matrix of %d entries is not square with a power-of-two side", len(m))
	}
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return nil, fmt.Errorf("circuit: power %v is not finite", p)
	}
	if p == math.Trunc(p) && math.Abs(p) <= 1<<20 {
		base := m
		n := int64(p)
		if n < 0 {
			base = Dagger(m)
			n = -n
		}
		res := Identity(d)
		for n > 0 {
			if n&1 == 1 {
				res = MatMul(res, base)
			}
			base = MatMul(base, base)
			n >>= 1
		}
		return res, nil
	}
	if isDiag(m, d) {
		out := make([]complex128, d*d)
		for i := 0; i < d; i++ {
			out[i*d+i] = principalPow(m[i*d+i], p)
		}
		return out, nil
	}
	vals, vecs, err := unitaryEig(m, d)
	if err != nil {
		return nil, err
	}
	// m^p = V diag(λ^p) V†
	out := make([]complex128, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			var s complex128
			for k := 0; k < d; k++ {
				s += vecs[i*d+k] * principalPow(vals[k], p) * cmplx.Conj(vecs[j*d+k])
			}
			out[i*d+j] = s
		}
	}
	return out, nil
}

// principalPow is z^p on the principal branch, with arg z in (-π, π]; for a
// unit-modulus z on the negative real axis the branch gives e^{iπp}.
func principalPow(z complex128, p float64) complex128 {
	r, th := cmplx.Abs(z), cmplx.Phase(z)
	if th == -math.Pi {
		th = math.Pi
	}
	return complex(math.Pow(r, p), 0) * expi(th*p)
}

func dimOf(n int) int {
	for d := 1; d <= 1<<10; d <<= 1 {
		if d*d == n {
			return d
		}
	}
	return -1
}

func isDiag(m []complex128, d int) bool {
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if i != j && m[i*d+j] != 0 {
				return false
			}
		}
	}
	return true
}

// Identity returns the d×d identity.
func Identity(d int) []complex128 {
	m := make([]complex128, d*d)
	for i := 0; i < d; i++ {
		m[i*d+i] = 1
	}
	return m
}

// MatMul returns a·b for square row-major matrices of equal size.
func MatMul(a, b []complex128) []complex128 {
	d := dimOf(len(a))
	out := make([]complex128, d*d)
	for i := 0; i < d; i++ {
		for k := 0; k < d; k++ {
			aik := a[i*d+k]
			if aik == 0 {
				continue
			}
			for j := 0; j < d; j++ {
				out[i*d+j] += aik * b[k*d+j]
			}
		}
	}
	return out
}

// Dagger returns the conjugate transpose of a square row-major matrix.
func Dagger(m []complex128) []complex128 {
	d := dimOf(len(m))
	out := make([]complex128, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			out[j*d+i] = cmplx.Conj(m[i*d+j])
		}
	}
	return out
}
