package circuit_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/circuit"
)

// unitarityError returns max |(m m†)_ij − δ_ij|.
func unitarityError(m []complex128) float64 {
	d := int(math.Sqrt(float64(len(m))))
	return maxDiff(circuit.MatMul(m, circuit.Dagger(m)), circuit.Identity(d))
}

// TestMatPowUnitary is issue 17 item 12: every power MatPow takes — small
// and large, integer and not, positive and negative, up to MaxPowExponent —
// of random unitaries on 1 to 6 qubits is unitary to 1e-12, and powers add:
// m^a·m^b = m^(a+b) on the principal branch (to 1e-9, the phase accuracy
// that MaxPowExponent promises).
func TestMatPowUnitary(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 12))
	exps := []float64{0.5, -0.37, 3.25, 17, -1000, 65537.5, 1e6 + 0.25, -circuit.MaxPowExponent, circuit.MaxPowExponent - 0.5}
	for k := 1; k <= circuit.MaxDenseQubits; k++ {
		m := circuit.RandomUnitary(rng, 1<<k)
		for _, p := range exps {
			r, err := circuit.MatPow(m, p)
			if err != nil {
				t.Fatalf("%d qubits, power %v: %v", k, p, err)
			}
			if e := unitarityError(r); e > 1e-12 {
				t.Errorf("%d qubits: m^%v is unitary only to %.2g", k, p, e)
			}
		}
		a, b := 1000.25*rng.Float64(), -70000.5*rng.Float64()
		ma, _ := circuit.MatPow(m, a)
		mb, _ := circuit.MatPow(m, b)
		mab, _ := circuit.MatPow(m, a+b)
		if e := maxDiff(circuit.MatMul(ma, mb), mab); e > 1e-9 {
			t.Errorf("%d qubits: m^%v·m^%v differs from m^%v by %.2g", k, a, b, a+b, e)
		}
	}
}

// TestMatPowLimit: beyond MaxPowExponent a matrix without a known period
// gives a *PowerError (pow(1e300) @ rx(0.1) has no meaningful answer in
// float64), not an arbitrary matrix.
func TestMatPowLimit(t *testing.T) {
	rx := base(t, "rx", 0.1)
	for _, p := range []float64{1e300, -1e300, circuit.MaxPowExponent + 1, 1e9} {
		_, err := circuit.MatPow(rx, p)
		var pe *circuit.PowerError
		if !errors.As(err, &pe) || pe.Power != p {
			t.Errorf("rx(0.1)^%v: got %v, want a *PowerError", p, err)
		}
	}
	if _, err := circuit.MatPow(rx, circuit.MaxPowExponent); err != nil {
		t.Errorf("rx(0.1)^2^20: %v", err)
	}
	// rx(t)^r = rx(r·t): the phases stay accurate at the limit.
	r, _ := circuit.MatPow(rx, 1<<20)
	if e := maxDiff(r, base(t, "rx", 0.1*(1<<20))); e > 1e-9 {
		t.Errorf("rx(0.1)^2^20 differs from rx(0.1·2^20) by %.2g", e)
	}
}

// TestLowerReducesByPeriod is issue 17 item 12: a power of a standard gate
// with a period is reduced modulo it exactly before it is taken, so
// x^(1e9+0.5) is x^0.5 to rounding, t^1e300 is the identity, and the
// result is unitary.
func TestLowerReducesByPeriod(t *testing.T) {
	cases := []struct {
		name  string
		pow   float64
		equiv float64 // the reduced power
	}{
		{"x", 1e9 + 0.5, 0.5}, {"x", -1e9 - 0.5, -0.5}, {"t", 1e300, 8}, {"sx", 1<<50 + 3, 3},
		{"h", 2e15 + 1.25, 1.25}, {"cx", 1e300, 2}, {"s", -4e9 - 1, -1}, {"swap", 123456789.5, 1.5},
	}
	for _, c := range cases {
		def, _ := circuit.LookupGate(c.name)
		qs := make([]int, def.NQubits)
		for i := range qs {
			qs[i] = i
		}
		op := circuit.Op{Kind: circuit.KindGate, Name: c.name, Qubits: qs, Pow: c.pow}
		g, err := op.Lower()
		if err != nil {
			t.Fatalf("%s^%v: %v", c.name, c.pow, err)
		}
		want := circuit.Op{Kind: circuit.KindGate, Name: c.name, Qubits: qs, Pow: c.equiv}
		w, _ := want.Lower()
		if e := maxDiff(g.Dense(), w.Dense()); e > 1e-15 {
			t.Errorf("%s^%v differs from %s^%v by %.2g", c.name, c.pow, c.name, c.equiv, e)
		}
		if e := unitarityError(g.Dense()); e > 1e-12 {
			t.Errorf("%s^%v is unitary only to %.2g", c.name, c.pow, e)
		}
	}
	op := circuit.Op{Kind: circuit.KindGate, Name: "rx", Params: []float64{0.1}, Qubits: []int{0}, Pow: 1e300}
	var pe *circuit.PowerError
	if _, err := op.Lower(); !errors.As(err, &pe) {
		t.Errorf("rx(0.1)^1e300: got %v, want a *PowerError", err)
	}
}

// TestMulExponent: (g^x)^e is one power x·e reduced exactly modulo the
// period; 0 comes back as the period (Pow 0 means no power).
func TestMulExponent(t *testing.T) {
	cases := []struct{ x, e, period, want float64 }{
		{0.5, 2e9 + 1, 2, 0.5},
		{3, 1e300, 8, 8},
		{1, 2, 2, 2},
		{0.1, 3, 0, 0.30000000000000004}, // no period: the rounded product
		{-0.25, 1e16 + 2, 4, -0.5},
		{0.375, -(1 << 50) - 1, 8, -0.375},
	}
	for _, c := range cases {
		if got := circuit.MulExponent(c.x, c.e, c.period); got != c.want {
			t.Errorf("MulExponent(%v, %v, %v) = %v, want %v", c.x, c.e, c.period, got, c.want)
		}
	}
}
