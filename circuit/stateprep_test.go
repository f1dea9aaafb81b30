package circuit

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func runOnZero(t *testing.T, c *Circuit) []complex128 {
	t.Helper()
	v := make([]complex128, 1<<c.Qubits)
	v[0] = 1
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			t.Fatal(err)
		}
		ApplyToVector(v, &g)
	}
	return v
}

func randomState(rng *rand.Rand, n int, sparse bool) []complex128 {
	v := make([]complex128, 1<<n)
	var norm float64
	for i := range v {
		if sparse && rng.IntN(3) != 0 {
			continue
		}
		v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		norm += real(v[i])*real(v[i]) + imag(v[i])*imag(v[i])
	}
	if norm == 0 {
		v[rng.IntN(len(v))] = 1
		return v
	}
	for i := range v {
		v[i] /= complex(math.Sqrt(norm), 0)
	}
	return v
}

func TestPrepareState(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 13))
	worst, worstDiff := 1.0, 0.0
	for n := 1; n <= 8; n++ {
		for trial := 0; trial < 12; trial++ {
			var want []complex128
			switch trial {
			case 0: // a basis state
				want = make([]complex128, 1<<n)
				want[rng.IntN(len(want))] = cmplx.Exp(complex(0, rng.Float64()*6))
			case 1: // real, with signs
				want = randomState(rng, n, false)
				for i := range want {
					want[i] = complex(cmplx.Abs(want[i])*float64(1-2*rng.IntN(2)), 0)
				}
			default:
				want = randomState(rng, n, trial%3 == 0)
			}
			c, err := PrepareState(want)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range c.Ops {
				if op.Name != "ry" && op.Name != "rz" && op.Name != "cx" && op.Name != "gphase" {
					t.Fatalf("gate %s", op.Name)
				}
			}
			got := runOnZero(t, c)
			var ov complex128
			var diff float64
			for i := range got {
				ov += cmplx.Conj(want[i]) * got[i]
				diff = math.Max(diff, cmplx.Abs(want[i]-got[i]))
			}
			f := real(ov)*real(ov) + imag(ov)*imag(ov)
			worst, worstDiff = math.Min(worst, f), math.Max(worstDiff, diff)
			if f < 1-1e-10 || diff > 1e-9 {
				t.Fatalf("n=%d trial %d: fidelity %.15f, max |Δ| %g", n, trial, f, diff)
			}
		}
	}
	t.Logf("n=1..8, 96 states: worst fidelity 1-%.2g, worst amplitude error %.2g (global phase included)", 1-worst, worstDiff)
}

func TestPrepareStateErrors(t *testing.T) {
	for _, amps := range [][]complex128{nil, {1}, {1, 0, 0}, {1, 1}, {complex(math.NaN(), 0), 0}, {0, 0}} {
		if _, err := PrepareState(amps); err == nil {
			t.Errorf("PrepareState(%v) accepted", amps)
		}
	}
}

func TestPrepareStateCXCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	c, err := PrepareState(randomState(rng, 6, false))
	if err != nil {
		t.Fatal(err)
	}
	cx := 0
	for _, op := range c.Ops {
		if op.Name == "cx" {
			cx++
		}
	}
	// Σ_{t<n-1} 2^{n-1-t} = 2^n − 2 for each of the Ry and Rz stages.
	if limit := 2 * (1<<6 - 2); cx > limit {
		t.Fatalf("%d cx for 6 qubits, want ≤ %d", cx, limit)
	}
	t.Logf("6-qubit random state: %d cx, %d ops", cx, len(c.Ops))
}
