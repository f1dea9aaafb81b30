package consensus

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// testGraphs returns a seeded family of random graphs: sizes 1..30,
// densities from empty to complete (so many are disconnected and have
// isolated vertices), plus a graph built to have isolated vertices.
func testGraphs(t testing.TB) []*Graph {
	r := rand.New(rand.NewPCG(11, 12))
	var gs []*Graph
	for range 150 {
		n := 1 + r.IntN(30)
		p := []float64{0, 0.05, 0.15, 0.3, 0.6, 1}[r.IntN(6)]
		gs = append(gs, randomGraph(t, r, n, p))
	}
	g, err := FromEdges(7, [][2]int{{0, 1}, {1, 2}, {4, 5}}) // 3 and 6 isolated
	if err != nil {
		t.Fatal(err)
	}
	return append(gs, g)
}

// TestMetropolisHastingsProperties checks, on random graphs (connected,
// disconnected, with isolated vertices): the formula for every entry
// (exact), exact symmetry, non-negativity, w_ii ≥ 1/(1+d_i) (to 1e-15),
// row and column sums 1 (to 1e-14; ~n rounding errors of 1.1e-16), w_ii = 1
// for an isolated vertex (exact).
func TestMetropolisHastingsProperties(t *testing.T) {
	for gi, g := range testGraphs(t) {
		w, err := MetropolisHastings(g)
		if err != nil {
			t.Fatal(err)
		}
		n, deg, m := g.N(), g.Degrees(), w.Matrix()
		adj := make([][]bool, n)
		for i := range adj {
			adj[i] = make([]bool, n)
		}
		for _, e := range g.Edges() {
			adj[e[0]][e[1]], adj[e[1]][e[0]] = true, true
		}
		for i := range n {
			row, col := 0.0, 0.0
			for j := range n {
				v := m[i][j]
				row += v
				col += m[j][i]
				if v != m[j][i] || v < 0 {
					t.Fatalf("graph %d: w[%d][%d] = %v, w[%d][%d] = %v", gi, i, j, v, j, i, m[j][i])
				}
				switch {
				case i == j:
				case adj[i][j]:
					if want := 1 / float64(1+max(deg[i], deg[j])); v != want {
						t.Fatalf("graph %d: w[%d][%d] = %v, want %v", gi, i, j, v, want)
					}
				case v != 0:
					t.Fatalf("graph %d: non-edge w[%d][%d] = %v", gi, i, j, v)
				}
			}
			if math.Abs(row-1) > 1e-14 || math.Abs(col-1) > 1e-14 {
				t.Fatalf("graph %d: row %d sums to %v, column to %v", gi, i, row, col)
			}
			if m[i][i] < 1/float64(1+deg[i])-1e-15 {
				t.Fatalf("graph %d: w[%d][%d] = %v < 1/(1+%d)", gi, i, i, m[i][i], deg[i])
			}
			if deg[i] == 0 && m[i][i] != 1 {
				t.Fatalf("graph %d: isolated vertex %d has w_ii = %v", gi, i, m[i][i])
			}
		}
		if w.Components() != g.Components() {
			t.Fatalf("graph %d: weights have %d components, graph %d", gi, w.Components(), g.Components())
		}
	}
	if _, err := MetropolisHastings(nil); err == nil {
		t.Error("MetropolisHastings(nil): no error")
	}
}

// TestMetropolisHastingsSpectrum checks on random graphs that Eigenvalues
// agrees with gonum's eigenvalues of the dense I − W (to 1e-12), that the
// spectrum lies in [0, 2 − 2·min w_ii] (to 1e-12) so StabilityBound > 1,
// that there are exactly as many zero eigenvalues as components, and that
// SpectralGap is 0 exactly when the graph is disconnected.
func TestMetropolisHastingsSpectrum(t *testing.T) {
	for gi, g := range testGraphs(t) {
		w, err := MetropolisHastings(g)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Eigenvalues(w)
		if err != nil {
			t.Fatal(err)
		}
		n, m := w.N(), w.Matrix()
		l := mat.NewSymDense(n, nil)
		minSelf := 1.0
		for i := range n {
			minSelf = min(minSelf, m[i][i])
			for j := i; j < n; j++ {
				v := -m[i][j]
				if i == j {
					v = 1 - m[i][i]
				}
				l.SetSym(i, j, v)
			}
		}
		var es mat.EigenSym
		if !es.Factorize(l, false) {
			t.Fatal("reference eigendecomposition failed")
		}
		ref := es.Values(nil)
		zeros := 0
		for k := range ev {
			if math.Abs(ev[k]-ref[k]) > 1e-12 {
				t.Fatalf("graph %d: λ_%d = %v, reference %v", gi, k+1, ev[k], ref[k])
			}
			if ev[k] < 0 || ev[k] > 2-2*minSelf+1e-12 {
				t.Fatalf("graph %d: λ_%d = %v outside [0, 2−2·%v]", gi, k+1, ev[k], minSelf)
			}
			if ev[k] == 0 {
				zeros++
			}
		}
		if zeros != g.Components() {
			t.Fatalf("graph %d: %d zero eigenvalues for %d components (%v)", gi, zeros, g.Components(), ev)
		}
		b, err := StabilityBound(w)
		if err != nil {
			t.Fatal(err)
		}
		if !(b > 1) {
			t.Fatalf("graph %d: stability bound %v ≤ 1", gi, b)
		}
		gap, err := SpectralGap(w)
		if err != nil {
			t.Fatal(err)
		}
		if (gap == 0) != (n == 1 || !g.Connected()) {
			t.Fatalf("graph %d (n %d, connected %t): gap %v", gi, n, g.Connected(), gap)
		}
	}
}

// TestClosedFormSpectra checks the spectra against closed forms (to
// 1e-12): K_n has L = I − J/n, eigenvalues 0 and 1 (n−1 times), bound 2
// and rate |1 − η|; the ring C_n (n ≥ 3) has w = 1/3 everywhere, so
// λ_k = (2/3)(1 − cos(2πk/n)), and for even n λ_n = 4/3, bound 1.5; a
// single node has spectrum {0}, gap 0, bound +Inf and rate 0; two
// disjoint triangles have gap exactly 0 and rate exactly 1 for η = 0.5.
func TestClosedFormSpectra(t *testing.T) {
	const tol = 1e-12
	for n := 2; n <= 9; n++ {
		g, _ := Complete(n)
		w, _ := MetropolisHastings(g)
		ev, err := Eigenvalues(w)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range ev {
			want := 1.0
			if k == 0 {
				want = 0
			}
			if math.Abs(v-want) > tol {
				t.Errorf("K_%d: λ_%d = %v, want %v", n, k+1, v, want)
			}
		}
		b, _ := StabilityBound(w)
		gap, _ := SpectralGap(w)
		rate, _ := Rate(w, 0.3)
		if math.Abs(b-2) > tol || math.Abs(gap-1) > tol || math.Abs(rate-0.7) > tol {
			t.Errorf("K_%d: bound %v gap %v rate(0.3) %v; want 2, 1, 0.7", n, b, gap, rate)
		}
	}
	for n := 3; n <= 12; n++ {
		g, _ := Ring(n)
		w, _ := MetropolisHastings(g)
		ev, err := Eigenvalues(w)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, n)
		for k := range want {
			want[k] = 2.0 / 3 * (1 - math.Cos(2*math.Pi*float64(k)/float64(n)))
		}
		slices.Sort(want)
		for k := range ev {
			if math.Abs(ev[k]-want[k]) > tol {
				t.Errorf("ring %d: λ_%d = %v, want %v", n, k+1, ev[k], want[k])
			}
		}
		if b, _ := StabilityBound(w); n%2 == 0 && math.Abs(b-1.5) > tol {
			t.Errorf("ring %d: bound %v, want 1.5", n, b)
		}
	}
	one, _ := Complete(1)
	w, _ := MetropolisHastings(one)
	ev, _ := Eigenvalues(w)
	gap, _ := SpectralGap(w)
	b, _ := StabilityBound(w)
	rate, _ := Rate(w, 1)
	if !slices.Equal(ev, []float64{0}) || gap != 0 || !math.IsInf(b, 1) || rate != 0 {
		t.Errorf("single node: spectrum %v gap %v bound %v rate %v", ev, gap, b, rate)
	}
	two, _ := FromEdges(6, [][2]int{{0, 1}, {1, 2}, {0, 2}, {3, 4}, {4, 5}, {3, 5}})
	w, _ = MetropolisHastings(two)
	gap, _ = SpectralGap(w)
	rate, _ = Rate(w, 0.5)
	if gap != 0 || rate != 1 {
		t.Errorf("two triangles: gap %v rate %v, want 0 and 1", gap, rate)
	}
}

// TestNewWeights checks acceptance of valid mixing matrices (the lazy
// ring w_ii = 1/2, w_{i,i±1} = 1/4: λ_k = (1 − cos(2πk/n))/2, so rate(η=1)
// = (1 + cos(2π/n))/2 for n ≥ 3, to 1e-12) and every rejection.
func TestNewWeights(t *testing.T) {
	const n = 8
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
		m[i][i] = 0.5
		m[i][(i+1)%n] = 0.25
		m[i][(i+n-1)%n] = 0.25
	}
	w, err := NewWeights(m)
	if err != nil {
		t.Fatal(err)
	}
	rate, _ := Rate(w, 1)
	if want := (1 + math.Cos(2*math.Pi/n)) / 2; math.Abs(rate-want) > 1e-12 {
		t.Errorf("lazy ring rate %v, want %v", rate, want)
	}
	mh, _ := Complete(4)
	wm, _ := MetropolisHastings(mh)
	if _, err := NewWeights(wm.Matrix()); err != nil {
		t.Errorf("MH matrix rejected: %v", err)
	}
	bad := []struct {
		name, want string
		m          [][]float64
	}{
		{"empty", "empty", nil},
		{"not square", "not square", [][]float64{{1, 0}, {0}}},
		{"nan", "not finite", [][]float64{{math.NaN(), 0}, {0, 1}}},
		{"inf", "not finite", [][]float64{{math.Inf(1), 0}, {0, 1}}},
		{"negative", "negative", [][]float64{{1.5, -0.5}, {-0.5, 1.5}}},
		{"asymmetric", "not symmetric", [][]float64{{0.5, 0.5, 0}, {0.25, 0.5, 0.25}, {0.25, 0, 0.75}}},
		{"row sum", "sums to", [][]float64{{0.5, 0.4}, {0.4, 0.5}}},
	}
	for _, c := range bad {
		if _, err := NewWeights(c.m); err == nil || !strings.HasPrefix(err.Error(), "consensus: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestClampEta checks clamping to margin·bound on the even ring (bound
// 1.5, exact to 1e-12), the unchanged case, the infinite bound of a graph
// without edges, and the argument errors.
func TestClampEta(t *testing.T) {
	g, _ := Ring(6)
	w, _ := MetropolisHastings(g)
	for _, c := range []struct {
		eta, want float64
		clamped   bool
	}{
		{0.5, 0.5, false},
		{1, 1, false},
		{1.45, 0.95 * 1.5, true}, // below the bound but above the margin
		{2, 0.95 * 1.5, true},
	} {
		got, clamped, err := ClampEta(w, c.eta, 0.95)
		if err != nil || clamped != c.clamped || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("ClampEta(%v) = %v, %t, %v; want %v, %t", c.eta, got, clamped, err, c.want, c.clamped)
		}
		if rate, _ := Rate(w, got); !(rate < 1) {
			t.Errorf("rate %v at clamped η %v", rate, got)
		}
	}
	iso, _ := FromEdges(3, nil)
	wi, _ := MetropolisHastings(iso)
	if got, clamped, err := ClampEta(wi, 5, 0.95); got != 5 || clamped || err != nil {
		t.Errorf("no edges: ClampEta(5) = %v, %t, %v", got, clamped, err)
	}
	for _, c := range [][2]float64{{0, 0.95}, {-1, 0.95}, {math.NaN(), 0.95}, {math.Inf(1), 0.95}, {1, 0}, {1, 1}, {1, math.NaN()}} {
		if _, _, err := ClampEta(w, c[0], c[1]); err == nil || !strings.HasPrefix(err.Error(), "consensus: ") {
			t.Errorf("ClampEta(η %v, margin %v): error %v", c[0], c[1], err)
		}
	}
	for _, eta := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := Rate(w, eta); err == nil {
			t.Errorf("Rate(%v): no error", eta)
		}
	}
	if _, err := Rate(nil, 1); err == nil {
		t.Error("Rate(nil): no error")
	}
	if _, _, err := ClampEta(nil, 1, 0.9); err == nil {
		t.Error("ClampEta(nil): no error")
	}
	if _, err := SpectralGap(nil); err == nil {
		t.Error("SpectralGap(nil): no error")
	}
}
