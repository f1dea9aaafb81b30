package noise_test

import (
	"math"
	"testing"

	"github.com/prismai/mec/noise"
	"github.com/prismai/mec/qasm"
)

// TestIdleDecay: a delay under a model with T1 and T2 decays the excited
// population as e^(−τ/T1) and a superposition's coherence as e^(−τ/T2)
// (a Ramsey sequence: P(0) = (1 + e^(−τ/T2))/2), exactly on the density
// matrix; without the model a delay is an identity.
func TestIdleDecay(t *testing.T) {
	m, err := noise.Parse([]byte("idle:\n  - t1: 50e-6\n    t2: 30e-6\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	const tau = 20e-6
	for _, tc := range []struct {
		name, src string
		key       string
		want      float64
	}{
		{"T1", "qubit q; x q; delay[20us] q; bit b = measure q;", "1", math.Exp(-tau / 50e-6)},
		{"T2", "qubit q; h q; duration d = 10us; delay[2 * d] q; h q; bit b = measure q;", "0", (1 + math.Exp(-tau/30e-6)) / 2},
		{"untouched", "qubit[2] q; x q; delay[20us] q[0]; bit[2] b = measure q;", "11", math.Exp(-tau / 50e-6)},
	} {
		c, err := qasm.Parse("OPENQASM 3.0; include \"stdgates.inc\";\n" + tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, ideal, err := noise.DensityMatrix(c)
		if err != nil {
			t.Fatal(err)
		}
		if p := ideal[tc.key]; math.Abs(p-1) > 1e-12 {
			t.Errorf("%s without noise: P(%s) = %v", tc.name, tc.key, p)
		}
		nc, err := m.Apply(c)
		if err != nil {
			t.Fatal(err)
		}
		_, dist, err := noise.DensityMatrix(nc)
		if err != nil {
			t.Fatal(err)
		}
		if got := dist[tc.key]; math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: P(%s) = %.12f, want %.12f", tc.name, tc.key, got, tc.want)
		}
	}
	for _, bad := range []string{"idle:\n  - t1: 10e-6\n    t2: 30e-6\n", "idle:\n  - {}\n", "idle:\n  - t1: -1\n", "idle:\n  - t1: 1\n    tt: 2\n"} {
		if _, err := noise.Parse([]byte(bad), false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
