package consensus

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomStates returns n vectors of length d with entries offset + N(0,1).
func randomStates(r *rand.Rand, n, d int, offset float64) [][]float64 {
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, d)
		for k := range s[i] {
			s[i][k] = offset + r.NormFloat64()
		}
	}
	return s
}

// newStates allocates n zero vectors of length d.
func newStates(n, d int) [][]float64 {
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, d)
	}
	return s
}

// TestMixMatchesMatrix checks Mix against the dense product
// (I − η(I − W))·Θ computed independently, on random graphs, lengths not
// a multiple of the chunk, and η ∈ {0.3, 1, 1.7}: agreement to 1e-13
// absolute (entries of size ~1). It also checks that the in-place update
// (out = states[i]) and an update written over a neighbour's state are
// bitwise equal to the out-of-place one, and that non-neighbours' states
// may be nil.
func TestMixMatchesMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for trial := range 60 {
		n := 1 + r.IntN(12)
		g := randomGraph(t, r, n, []float64{0.2, 0.5, 1}[trial%3])
		w, _ := MetropolisHastings(g)
		m := w.Matrix()
		d := []int{0, 1, 7, 511, 512, 513, 1500}[r.IntN(7)]
		eta := []float64{0.3, 1, 1.7}[r.IntN(3)]
		s := randomStates(r, n, d, 0)
		out := make([]float64, d)
		for i := range n {
			if err := Mix(i, w, eta, s, out); err != nil {
				t.Fatal(err)
			}
			for k := range d {
				want := 0.0
				for j := range n {
					a := eta * m[i][j]
					if j == i {
						a = 1 - eta*(1-m[i][i])
					}
					want += a * s[j][k]
				}
				if math.Abs(out[k]-want) > 1e-13 {
					t.Fatalf("trial %d node %d coord %d: %v, want %v", trial, i, k, out[k], want)
				}
			}
			// Only i and its neighbours are read.
			sparse := make([][]float64, n)
			sparse[i] = append([]float64(nil), s[i]...)
			for j := range n {
				if m[i][j] != 0 && j != i {
					sparse[j] = s[j]
				}
			}
			if err := Mix(i, w, eta, sparse, sparse[i]); err != nil {
				t.Fatal(err)
			}
			for k := range d {
				if sparse[i][k] != out[k] {
					t.Fatalf("trial %d node %d: in-place result differs at %d", trial, i, k)
				}
			}
			// Writing over a neighbour's state is allowed too.
			for j := range n {
				if m[i][j] == 0 || j == i {
					continue
				}
				cp := make([][]float64, n)
				for q := range cp {
					cp[q] = append([]float64(nil), s[q]...)
				}
				if err := Mix(i, w, eta, cp, cp[j]); err != nil {
					t.Fatal(err)
				}
				for k := range d {
					if cp[j][k] != out[k] {
						t.Fatalf("trial %d node %d: result written over neighbour %d differs at %d", trial, i, j, k)
					}
				}
				break
			}
		}
	}
}

// TestMixErrors checks that every invalid call is an error, not a panic.
func TestMixErrors(t *testing.T) {
	g, _ := Ring(4)
	w, _ := MetropolisHastings(g)
	s := newStates(4, 3)
	out := make([]float64, 3)
	short := [][]float64{s[0], s[1], make([]float64, 2), s[3]}
	cases := []struct {
		name, want string
		err        error
	}{
		{"nil weights", "nil weights", Mix(0, nil, 1, s, out)},
		{"node range", "out of range", Mix(4, w, 1, s, out)},
		{"negative node", "out of range", Mix(-1, w, 1, s, out)},
		{"eta nan", "not finite", Mix(0, w, math.NaN(), s, out)},
		{"eta inf", "not finite", Mix(0, w, math.Inf(-1), s, out)},
		{"states count", "3 states for 4 nodes", Mix(0, w, 1, s[:3], out)},
		{"out length", "output of length 2", Mix(0, w, 1, s, out[:2])},
		{"neighbour length", "neighbour 2", Mix(1, w, 1, short, out)},
		{"nil neighbour", "neighbour 1", Mix(0, w, 1, [][]float64{s[0], nil, s[2], s[3]}, out)},
		{"step nil", "nil weights", Step(nil, 1, s, newStates(4, 3))},
		{"step count", "outputs for 4 nodes", Step(w, 1, s, newStates(3, 3))},
		{"step length", "node 2", Step(w, 1, short, newStates(4, 3))},
		{"step alias", "output 0 aliases state 2", Step(w, 1, s, [][]float64{s[2], out, out, out})},
	}
	for _, c := range cases {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), "consensus: ") || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// TestMixAllocs checks that Mix does not allocate (over 1M-long states).
func TestMixAllocs(t *testing.T) {
	g, _ := Complete(5)
	w, _ := MetropolisHastings(g)
	s := benchStates(5, 1<<20)
	out := make([]float64, 1<<20)
	if a := testing.AllocsPerRun(3, func() {
		if err := Mix(2, w, 1, s, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Mix allocates %v times per call", a)
	}
}

// TestStepPreservesMean runs 200 rounds on random graphs (connected or
// not) with states offset by 100 and checks that the average stays within
// 1e-12·‖Θ̄‖ of the initial one.
func TestStepPreservesMean(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for trial := range 20 {
		n := 2 + r.IntN(15)
		g := randomGraph(t, r, n, []float64{0.1, 0.3, 0.7}[trial%3])
		w, _ := MetropolisHastings(g)
		b, _ := StabilityBound(w)
		if math.IsInf(b, 1) {
			b = 1 // no edges: every η is stable
		}
		eta := []float64{0.3, 1, 0.95 * b}[r.IntN(3)]
		s := randomStates(r, n, 700, 100)
		m0, _ := Mean(s)
		next := newStates(n, 700)
		for range 200 {
			if err := Step(w, eta, s, next); err != nil {
				t.Fatal(err)
			}
			s, next = next, s
		}
		m, _ := Mean(s)
		if e, ref := dist(m, m0), norm(m0); e > 1e-12*ref {
			t.Errorf("trial %d (n %d, η %v): mean moved by %v (‖Θ̄‖ %v)", trial, n, eta, e, ref)
		}
	}
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func dist(a, b []float64) float64 {
	s := 0.0
	for k := range a {
		s += (a[k] - b[k]) * (a[k] - b[k])
	}
	return math.Sqrt(s)
}

// modal holds the eigendecomposition of L and the modal coefficients of
// an initial state, for the exact prediction of (I − ηL)^k Θ.
type modal struct {
	lambda []float64   // eigenvalues of L, ascending
	coef   [][]float64 // coef[m] = u_mᵀ Θ (a d-vector)
	u      *mat.Dense
}

func newModal(t *testing.T, w *Weights, s [][]float64) *modal {
	t.Helper()
	n, m := w.N(), w.Matrix()
	l := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := -m[i][j]
			if i == j {
				v = 1 - m[i][i]
			}
			l.SetSym(i, j, v)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(l, true) {
		t.Fatal("eigendecomposition failed")
	}
	md := &modal{lambda: es.Values(nil), u: new(mat.Dense)}
	es.VectorsTo(md.u)
	d := len(s[0])
	md.coef = make([][]float64, n)
	for k := range n {
		md.coef[k] = make([]float64, d)
		for i := range n {
			for c := range d {
				md.coef[k][c] += md.u.At(i, k) * s[i][c]
			}
		}
	}
	return md
}

// predict returns the exact Disagreement of (I − ηL)^k Θ: the consensus
// modes (λ = 0, the constant vector and, on a disconnected graph, the
// component indicators) are kept and the mean removed.
func (md *modal) predict(eta float64, k int) float64 {
	n, d := len(md.lambda), len(md.coef[0])
	st := newStates(n, d)
	for m, lam := range md.lambda {
		f := math.Pow(1-eta*lam, float64(k))
		for i := range n {
			a := f * md.u.At(i, m)
			for c := range d {
				st[i][c] += a * md.coef[m][c]
			}
		}
	}
	v, _ := Disagreement(st)
	return v
}

// excess returns Σ_m p_m(k)·|log(f_m/ρ)| over the non-consensus modes,
// f_m = |1 − ηλ_m| and p_m(k) their shares of the disagreement energy at
// round k: the gap between the exact instantaneous log decay factor and
// log ρ is at most this, so it measures how far the slowest modes are
// from dominating.
func (md *modal) excess(eta, rho float64, k int) float64 {
	var tot, acc float64
	for m, lam := range md.lambda {
		if m == 0 {
			continue // the consensus direction (connected graphs only here)
		}
		f := math.Abs(1 - eta*lam)
		e := math.Pow(f, 2*float64(k)) * dot(md.coef[m], md.coef[m])
		if e == 0 {
			continue
		}
		tot += e
		acc += e * math.Abs(math.Log(f/rho))
	}
	return acc / tot
}

func dot(a, b []float64) float64 {
	s := 0.0
	for k := range a {
		s += a[k] * b[k]
	}
	return s
}

// slope is the least-squares slope of y against 0, 1, 2, ….
func slope(y []float64) float64 {
	n := float64(len(y))
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// TestDecayMatchesRate iterates Step from random states on rings,
// complete and random connected graphs, at η below 1, at 1 and close to
// the stability bound, and checks
//
//   - every round's Disagreement against the exact (I − ηL)^k prediction
//     from the eigendecomposition, to 1e-9 relative plus 1e-13·D_0
//     (accumulated rounding);
//   - the measured per-round factor exp(slope of log D_k), fitted over 30
//     rounds, against Rate within 2%. The fit starts once the slowest
//     modes dominate, defined as: the exact instantaneous factor is within
//     0.5% of Rate (see excess), and stops early if D_k < 1e-10·D_0.
func TestDecayMatchesRate(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	type tc struct {
		name string
		g    *Graph
		eta  float64 // if ≤ 0: −eta × the stability bound
	}
	ring10, _ := Ring(10)
	ring16, _ := Ring(16)
	ring9, _ := Ring(9)
	k8, _ := Complete(8)
	cases := []tc{
		{"ring10 η=1", ring10, 1},
		{"ring16 η=1.4", ring16, 1.4},
		{"ring9 η=0.5", ring9, 0.5},
		{"K8 η=0.5", k8, 0.5},
		{"K8 η=1.5", k8, 1.5},
	}
	for i := range 6 {
		g := randomConnected(t, r, 8+r.IntN(10), 0.3)
		cases = append(cases, tc{"random η=0.7", g, 0.7}, tc{"random η=1", g, 1}, tc{"random η=0.9·bound", g, -0.9})
		_ = i
	}
	for _, c := range cases {
		w, _ := MetropolisHastings(c.g)
		eta := c.eta
		if eta <= 0 {
			b, _ := StabilityBound(w)
			eta = -eta * b
		}
		rho, err := Rate(w, eta)
		if err != nil {
			t.Fatal(err)
		}
		n := c.g.N()
		s := randomStates(r, n, 5, 3)
		md := newModal(t, w, s)
		d0, _ := Disagreement(s)
		k0 := 0
		for md.excess(eta, rho, k0) > 0.005 {
			k0++
		}
		if k0 > 300 {
			t.Fatalf("%s: slowest mode dominates only after %d rounds", c.name, k0)
		}
		next := newStates(n, 5)
		var logs []float64
		for k := 0; k <= k0+30; k++ {
			dk, _ := Disagreement(s)
			if want := md.predict(eta, k); math.Abs(dk-want) > 1e-9*want+1e-13*d0 {
				t.Fatalf("%s: round %d: disagreement %v, exact %v", c.name, k, dk, want)
			}
			if dk < 1e-10*d0 {
				break
			}
			if k >= k0 {
				logs = append(logs, math.Log(dk))
			}
			if err := Step(w, eta, s, next); err != nil {
				t.Fatal(err)
			}
			s, next = next, s
		}
		if len(logs) < 10 {
			t.Fatalf("%s: only %d rounds to fit", c.name, len(logs))
		}
		got := math.Exp(slope(logs))
		if math.Abs(got/rho-1) > 0.02 {
			t.Errorf("%s: measured factor %.5f over %d rounds from %d, Rate %.5f", c.name, got, len(logs), k0, rho)
		}
		t.Logf("%s: n %d η %.3f Rate %.5f measured %.5f (rounds %d..%d)", c.name, n, eta, rho, got, k0, k0+len(logs)-1)
	}
}

// TestInstability checks that above the stability bound the disagreement
// grows: η = 1.1·bound on an even ring (bound 1.5) and on random graphs
// gives Rate > 1, D_40 > D_0, and a measured growth factor over rounds
// 20..40 within 2% of Rate; η = 0.95·bound contracts (D_40 < D_0).
func TestInstability(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	ring, _ := Ring(8)
	graphs := []*Graph{ring}
	for range 3 {
		graphs = append(graphs, randomConnected(t, r, 10, 0.4))
	}
	for gi, g := range graphs {
		w, _ := MetropolisHastings(g)
		b, _ := StabilityBound(w)
		for _, f := range []float64{1.1, 0.95} {
			eta := f * b
			rho, _ := Rate(w, eta)
			s := randomStates(r, g.N(), 4, 0)
			d0, _ := Disagreement(s)
			next := newStates(g.N(), 4)
			var logs []float64
			for k := 0; k <= 40; k++ {
				dk, _ := Disagreement(s)
				if k >= 20 {
					logs = append(logs, math.Log(dk))
				}
				if err := Step(w, eta, s, next); err != nil {
					t.Fatal(err)
				}
				s, next = next, s
			}
			d40 := math.Exp(logs[len(logs)-1])
			if f > 1 {
				got := math.Exp(slope(logs))
				if !(rho > 1) || !(d40 > d0) || math.Abs(got/rho-1) > 0.02 {
					t.Errorf("graph %d η %v > bound %v: Rate %v, D_0 %v, D_40 %v, measured factor %v", gi, eta, b, rho, d0, d40, got)
				}
			} else if !(rho < 1) || !(d40 < d0) {
				t.Errorf("graph %d η %v < bound %v: Rate %v, D_0 %v, D_40 %v", gi, eta, b, rho, d0, d40)
			}
		}
	}
}
