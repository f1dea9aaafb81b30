package circuit

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"
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
	// Period is the smallest P > 0 with Base^P = I exactly, that is every
	// eigenphase of the base a multiple of 2π/P, so that pow(r) @ the gate
	// equals pow(r mod P) @ it for every real r (principal branch
	// included); 0 when the gate has parameters. Powers of gates with a
	// period are reduced exactly before they are taken, whatever their
	// size (see Op.Lower).
	Period float64
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
	"x":      {Name: "x", NQubits: 1, Base: fixed(matX), Period: 2},
	"y":      {Name: "y", NQubits: 1, Base: fixed(matY), Period: 2},
	"z":      {Name: "z", NQubits: 1, Base: fixed(matZ), Diagonal: true, Period: 2},
	"h":      {Name: "h", NQubits: 1, Base: fixed(matH), Period: 2},
	"s":      {Name: "s", NQubits: 1, Base: fixed(diag1(1, 1i)), Diagonal: true, Period: 4},
	"sdg":    {Name: "sdg", NQubits: 1, Base: fixed(diag1(1, -1i)), Diagonal: true, Period: 4},
	"t":      {Name: "t", NQubits: 1, Base: fixed(diag1(1, expi(math.Pi/4))), Diagonal: true, Period: 8},
	"tdg":    {Name: "tdg", NQubits: 1, Base: fixed(diag1(1, expi(-math.Pi/4))), Diagonal: true, Period: 8},
	"sx":     {Name: "sx", NQubits: 1, Base: fixed(matSX), Period: 4},
	"rx":     {Name: "rx", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return rx(p[0]) }},
	"ry":     {Name: "ry", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return ry(p[0]) }},
	"rz":     {Name: "rz", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return rz(p[0]) }, Diagonal: true},
	"cx":     {Name: "cx", NQubits: 2, NCtrl: 1, Base: fixed(matX), Period: 2},
	"CX":     {Name: "CX", NQubits: 2, NCtrl: 1, Base: fixed(matX), Period: 2},
	"cy":     {Name: "cy", NQubits: 2, NCtrl: 1, Base: fixed(matY), Period: 2},
	"cz":     {Name: "cz", NQubits: 2, NCtrl: 1, Base: fixed(matZ), Diagonal: true, Period: 2},
	"cp":     {Name: "cp", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"cphase": {Name: "cphase", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"crx":    {Name: "crx", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return rx(p[0]) }},
	"cry":    {Name: "cry", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return ry(p[0]) }},
	"crz":    {Name: "crz", NParams: 1, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 { return rz(p[0]) }, Diagonal: true},
	"ch":     {Name: "ch", NQubits: 2, NCtrl: 1, Base: fixed(matH), Period: 2},
	"swap":   {Name: "swap", NQubits: 2, Base: fixed(matSwap), Period: 2},
	"ccx":    {Name: "ccx", NQubits: 3, NCtrl: 2, Base: fixed(matX), Period: 2},
	"cswap":  {Name: "cswap", NQubits: 3, NCtrl: 1, Base: fixed(matSwap), Period: 2},
	"cu": {Name: "cu", NParams: 4, NQubits: 2, NCtrl: 1, Base: func(p []float64) []complex128 {
		return scale(U(p[0], p[1], p[2]), expi(p[3]))
	}},
	"phase": {Name: "phase", NParams: 1, NQubits: 1, Base: func(p []float64) []complex128 { return phase(p[0]) }, Diagonal: true},
	"id":    {Name: "id", NQubits: 1, Base: fixed(matI), Diagonal: true, Period: 1},
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

// MaxPowExponent is the largest |p| MatPow takes: the eigenphases θ of a
// matrix are known in float64 to about 1e-15 rad, and m^p multiplies that
// error by |p|, so up to 2^20 the phases of m^p are good to about 1e-9 rad,
// and beyond it the error grows until the result is arbitrary (for
// pow(1e300) @ rx(0.1) the angle would be undetermined by ~1e285 rad).
// Gates with a known period (GateDef.Period) are reduced exactly first, so
// the limit applies only to gates without one.
const MaxPowExponent = 1 << 20

// PowerError reports a power too large to take accurately: |p| is above
// MaxPowExponent for a matrix without a known period.
type PowerError struct{ Power float64 }

// Error explains the limit and why it exists.
func (e *PowerError) Error() string {
	return fmt.Sprintf("power %v of a gate without a known period: |power| may be at most 2^20 = %d, "+
		"because the gate's eigenphases are known to about 1e-15 rad and the power multiplies that error (here to about %.0e rad); "+
		"reduce the power by the gate's period yourself", e.Power, MaxPowExponent, math.Abs(e.Power)*1e-15)
}

// MatPow returns m^p for a unitary 2^k×2^k matrix m (row-major), using the
// principal branch of the logarithm for non-integer p as OpenQASM 3 pow(p)@
// does: m = V diag(e^{iθ_j}) V† with θ_j in (−π, π] gives
// m^p = V diag(e^{i·(pθ_j mod 2π)}) V†, the eigenvalues taken as unit
// complex numbers, so the result is unitary to rounding (1e-12) for every
// p. Small integer powers (|p| ≤ 16) are products, and −1 is m†. |p| above
// MaxPowExponent is a *PowerError.
func MatPow(m []complex128, p float64) ([]complex128, error) {
	d := dimOf(len(m))
	if d < 0 {
		return nil, fmt.Errorf("circuit: matrix of %d entries is not square with a power-of-two side", len(m))
	}
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return nil, fmt.Errorf("circuit: power %v is not finite", p)
	}
	switch {
	case p == 0:
		return Identity(d), nil
	case p == 1:
		return slices.Clone(m), nil
	case p == -1:
		return Dagger(m), nil
	case math.Abs(p) > MaxPowExponent:
		return nil, &PowerError{Power: p}
	}
	integer := p == math.Trunc(p)
	if integer && math.Abs(p) <= 16 {
		return intPow(m, d, int64(p)), nil
	}
	if isDiag(m, d) {
		out := make([]complex128, d*d)
		for i := 0; i < d; i++ {
			out[i*d+i] = unitPow(m[i*d+i], p)
		}
		return out, nil
	}
	vals, vecs, err := unitaryEig(m, d)
	if err != nil {
		if integer {
			return intPow(m, d, int64(p)), nil
		}
		return nil, err
	}
	// m^p = V diag(λ^p) V†
	out := make([]complex128, d*d)
	lp := make([]complex128, d)
	for k := range lp {
		lp[k] = unitPow(vals[k], p)
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			var s complex128
			for k := 0; k < d; k++ {
				s += vecs[i*d+k] * lp[k] * cmplx.Conj(vecs[j*d+k])
			}
			out[i*d+j] = s
		}
	}
	return out, nil
}

// intPow is m^n by repeated squaring (m^−n = (m†)^n for unitary m).
func intPow(m []complex128, d int, n int64) []complex128 {
	base := m
	if n < 0 {
		base = Dagger(m)
		n = -n
	}
	res := Identity(d)
	for n > 0 {
		if n&1 == 1 {
			res = MatMul(res, base)
		}
		n >>= 1
		if n > 0 {
			base = MatMul(base, base)
		}
	}
	return res
}

// unitPow is z^p for z on the unit circle (|z| is taken as 1) on the
// principal branch, arg z in (−π, π] (−1 gives e^{iπp}): e^{i·pθ} with pθ
// formed exactly as a sum of two doubles and reduced modulo 2π.
func unitPow(z complex128, p float64) complex128 {
	th := cmplx.Phase(z)
	if th == -math.Pi {
		th = math.Pi
	}
	hi := p * th
	lo := math.FMA(p, th, -hi)
	return expi(math.Remainder(hi, 2*math.Pi) + lo)
}

// MulExponent returns the exponent of (g^x)^e for integer e (or x = 1) as
// one power of g: x·e, reduced modulo the gate's period when it has one
// (period > 0), exactly up to one rounding: x·e is formed as a sum of two
// doubles and math.Mod is exact. A reduced exponent of 0 is returned as
// the period itself (g^P = I), since an Op's Pow of 0 means no power.
func MulExponent(x, e, period float64) float64 {
	hi := x * e
	if period <= 0 {
		return hi
	}
	lo := math.FMA(x, e, -hi)
	r := math.Mod(math.Mod(hi, period)+math.Mod(lo, period), period)
	if r == 0 {
		return period
	}
	return r
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
