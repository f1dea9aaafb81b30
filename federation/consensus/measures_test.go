package consensus

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMeasuresByHand checks Mean, Disagreement and Drift on a worked
// example: states (0,0), (2,0), (1,3) have mean (1,1), squared distances
// 2, 2, 4, so Disagreement √8 and Drift 2 (to 1e-15).
func TestMeasuresByHand(t *testing.T) {
	s := [][]float64{{0, 0}, {2, 0}, {1, 3}}
	m, err := Mean(s)
	if err != nil || m[0] != 1 || m[1] != 1 {
		t.Errorf("Mean = %v, %v; want [1 1]", m, err)
	}
	d, err := Disagreement(s)
	if err != nil || math.Abs(d-math.Sqrt(8)) > 1e-15 {
		t.Errorf("Disagreement = %v, %v; want √8", d, err)
	}
	dr, err := Drift(s)
	if err != nil || math.Abs(dr-2) > 1e-15 {
		t.Errorf("Drift = %v, %v; want 2", dr, err)
	}
}

// TestMeasuresChunked compares the chunked Disagreement and Drift with a
// direct two-pass computation on lengths around the chunk size (to 1e-12
// relative).
func TestMeasuresChunked(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, d := range []int{0, 1, 511, 512, 513, 2000} {
		s := randomStates(r, 7, d, 5)
		m, _ := Mean(s)
		tot, mx := 0.0, 0.0
		for _, v := range s {
			e := dist(v, m)
			tot += e * e
			mx = max(mx, e)
		}
		got, _ := Disagreement(s)
		gdr, _ := Drift(s)
		if math.Abs(got-math.Sqrt(tot)) > 1e-12*math.Sqrt(tot) || math.Abs(gdr-mx) > 1e-12*mx {
			t.Errorf("d %d: Disagreement %v Drift %v; direct %v %v", d, got, gdr, math.Sqrt(tot), mx)
		}
	}
}

// TestMeasuresErrors checks empty and ragged inputs.
func TestMeasuresErrors(t *testing.T) {
	for _, s := range [][][]float64{nil, {{1, 2}, {3}}} {
		_, e1 := Mean(s)
		_, e2 := Disagreement(s)
		_, e3 := Drift(s)
		for _, err := range []error{e1, e2, e3} {
			if err == nil || !strings.HasPrefix(err.Error(), "consensus: ") {
				t.Errorf("states %v: error %v", s, err)
			}
		}
	}
}

// TestDisconnectedDoesNotConverge checks that on two disjoint triangles
// the disagreement converges to the gap between the component averages,
// not to 0: after 60 rounds at η = 1 it equals √(Σ_i ‖c(i) − Θ̄‖²), c(i)
// the average of i's component, to 1e-12 relative.
func TestDisconnectedDoesNotConverge(t *testing.T) {
	g, _ := FromEdges(6, [][2]int{{0, 1}, {1, 2}, {0, 2}, {3, 4}, {4, 5}, {3, 5}})
	w, _ := MetropolisHastings(g)
	r := rand.New(rand.NewPCG(71, 72))
	s := randomStates(r, 6, 3, 0)
	a, _ := Mean(s[:3])
	b, _ := Mean(s[3:])
	m, _ := Mean(s)
	want := math.Sqrt(3*dist(a, m)*dist(a, m) + 3*dist(b, m)*dist(b, m))
	next := newStates(6, 3)
	for range 60 {
		if err := Step(w, 1, s, next); err != nil {
			t.Fatal(err)
		}
		s, next = next, s
	}
	if got, _ := Disagreement(s); math.Abs(got-want) > 1e-12*want {
		t.Errorf("disagreement %v, want %v", got, want)
	}
}
