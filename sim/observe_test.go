package sim_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// TestObserve checks exact expectation values against closed forms and
// the sampled estimates against them within 5 standard errors (and the
// standard errors against their formula), for a product state
// ry(a)|0⟩ ⊗ ry(b)|0⟩ with a final measurement that is ignored.
func TestObserve(t *testing.T) {
	const a, b = 0.9, 2.1
	c := circuit.New(2)
	c.Append("ry", []float64{a}, 0).Append("ry", []float64{b}, 1).Append("s", nil, 1)
	c.Measure(0, 0).Measure(1, 1)
	// ⟨Z⟩ = cos θ, ⟨X⟩ = sin θ; s on qubit 1 turns its X into Y.
	obs := []string{"ZI", "XI + 0.5*IY", "2*ZZ - II", "IX"}
	want := []float64{math.Cos(a), math.Sin(a) + 0.5*math.Sin(b), 2*math.Cos(a)*math.Cos(b) - 1, 0}
	var hs []circuit.PauliSum
	for _, o := range obs {
		h, err := circuit.ParsePauliSum(o)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	const shots = 20000
	for seed := uint64(1); seed <= 5; seed++ {
		est, err := newSim(2, 0, seed).Observe(context.Background(), c, hs, shots)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range est {
			if math.Abs(e.Exact-want[i]) > 1e-12 {
				t.Errorf("%s: exact %v, want %v", obs[i], e.Exact, want[i])
			}
			if e.StdErr <= 0 || math.Abs(e.Mean-want[i]) > 5*e.StdErr {
				t.Errorf("seed %d %s: estimate %v ± %v, want %v", seed, obs[i], e.Mean, e.StdErr, want[i])
			}
			if e.ShotsPerTerm != shots {
				t.Errorf("%s: %d shots per term", obs[i], e.ShotsPerTerm)
			}
		}
		// Var(ZI) = 1 − cos²a: the reported error is its formula.
		if se := math.Sqrt((1 - math.Pow(est[0].Mean, 2)) / shots); math.Abs(est[0].StdErr-se) > 1e-12 {
			t.Errorf("stderr %v, want %v", est[0].StdErr, se)
		}
	}
	// Exact only, and errors.
	est, err := newSim(1, 0, 1).Observe(context.Background(), c, hs[:1], 0)
	if err != nil || est[0].Mean != 0 || est[0].StdErr != 0 || math.Abs(est[0].Exact-want[0]) > 1e-12 {
		t.Errorf("exact only: %+v, %v", est, err)
	}
	dyn := circuit.New(2)
	dyn.Append("h", nil, 0).Measure(0, 0).Append("x", nil, 0)
	if _, err := newSim(1, 0, 1).Observe(context.Background(), dyn, hs[:1], 0); !errors.Is(err, sim.ErrObserveDynamic) {
		t.Errorf("mid-circuit measurement: %v", err)
	}
	if _, err := newSim(1, 0, 1).Observe(context.Background(), c, []circuit.PauliSum{{{Coeff: 1, Pauli: "ZZZ"}}}, 0); err == nil {
		t.Error("3-qubit observable on 2 qubits: no error")
	}
	if _, err := newSim(1, 0, 1).Observe(context.Background(), c, hs, -1); err == nil {
		t.Error("negative shots: no error")
	}
}
