package kuramoto

import (
	"math"
	"testing"
)

// direct is the O(N²) right-hand side: ω_i + K Σ_j W_ij sin(φ_j − φ_i),
// with W_ij = 1/N when w is nil.
func direct(omega, phi []float64, k float64, w *CSR) []float64 {
	n := len(phi)
	d := make([]float64, n)
	for i := range phi {
		s := 0.0
		if w == nil {
			for j := range phi {
				s += math.Sin(phi[j] - phi[i])
			}
			s /= float64(n)
		} else {
			for q := w.RowPtr[i]; q < w.RowPtr[i+1]; q++ {
				s += w.Val[q] * math.Sin(phi[w.Col[q]]-phi[i])
			}
		}
		d[i] = omega[i] + k*s
	}
	return d
}

// randomCSR returns a sparse matrix with about deg entries per row.
func randomCSR(t *testing.T, n, deg int, seed uint64) *CSR {
	ph := RandomPhases(2*n*deg, seed) // reuse the seeded generator for indices/weights
	var rows, cols []int
	var vals []float64
	for i := 0; i < n; i++ {
		for k := 0; k < deg; k++ {
			q := 2 * (i*deg + k)
			rows = append(rows, i)
			cols = append(cols, int(ph[q]/(2*math.Pi)*float64(n)))
			vals = append(vals, ph[q+1]/math.Pi-1)
		}
	}
	m, err := NewCSR(n, rows, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDerivativeMatchesDirect(t *testing.T) {
	n := 500
	omega := LorentzianQuantiles(n, 1, 0.3)
	phi := RandomPhases(n, 7)
	for _, c := range []struct {
		name string
		w    *CSR
	}{{"all-to-all O(N)", nil}, {"sparse", randomCSR(t, n, 20, 3)}} {
		s, err := New(Network{Omega: omega, K: 1.7, Coupling: c.w}, phi, RK4)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, n)
		s.Derivative(got)
		want := direct(omega, phi, 1.7, c.w)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("%s: dφ[%d]/dt = %.17g, direct O(N²) %.17g", c.name, i, got[i], want[i])
			}
		}
	}
}

// TestAllToAllMatchesDenseCSR integrates the O(N) mean-field form and the
// O(N²) form (a dense CSR with W_ij = 1/N) side by side.
func TestAllToAllMatchesDenseCSR(t *testing.T) {
	n := 300
	omega := LorentzianQuantiles(n, 0.5, 0.2)
	var rows, cols []int
	var vals []float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			rows, cols, vals = append(rows, i), append(cols, j), append(vals, 1/float64(n))
		}
	}
	w, err := NewCSR(n, rows, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Method{RK4, Euler} {
		phi0 := RandomPhases(n, 11)
		a, _ := New(Network{Omega: omega, K: 1.5}, phi0, m)
		b, _ := New(Network{Omega: omega, K: 1.5, Coupling: w}, phi0, m)
		for k := 0; k < 200; k++ {
			ra, pa := a.Step(0.01)
			rb, pb := b.Step(0.01)
			if math.Abs(ra-rb) > 1e-12 || math.Abs(math.Remainder(pa-pb, 2*math.Pi)) > 1e-11 {
				t.Fatalf("%v step %d: O(N) r=%v ψ=%v, O(N²) r=%v ψ=%v", m, k, ra, pa, rb, pb)
			}
		}
		for i := range a.Phases() {
			if d := math.Abs(math.Remainder(a.Phases()[i]-b.Phases()[i], 2*math.Pi)); d > 1e-12 {
				t.Fatalf("%v: phase %d differs by %g", m, i, d)
			}
		}
	}
}

// TestLorentzianOrderParameter checks the Kuramoto result for Lorentzian
// frequencies of half-width γ: r → sqrt(1 − K_c/K), K_c = 2γ, for K > K_c, and
// r ≈ 0 (O(N^−½)) below. ω are deterministic quantiles, N = 4000, RK4 with
// dt = 0.05; r is averaged over t ∈ [40, 60]. Tolerance 0.01 (finite N and the
// transient).
func TestLorentzianOrderParameter(t *testing.T) {
	n, gamma := 4000, 0.5
	if testing.Short() {
		n = 2000
	}
	omega := LorentzianQuantiles(n, 0, gamma)
	for _, k := range []float64{1.5, 2, 4, 0.5} {
		s, err := New(Network{Omega: omega, K: k}, RandomPhases(n, 1), RK4)
		if err != nil {
			t.Fatal(err)
		}
		dt, sum, cnt := 0.05, 0.0, 0
		for step := 1; step <= 1200; step++ {
			r, _ := s.Step(dt)
			if float64(step)*dt > 40 {
				sum += r
				cnt++
			}
		}
		r := sum / float64(cnt)
		want := 0.0
		if k > 2*gamma {
			want = math.Sqrt(1 - 2*gamma/k)
		}
		t.Logf("K = %v (K_c = %v): r = %.4f, analytic %.4f", k, 2*gamma, r, want)
		tol := 0.01
		if want == 0 {
			tol = 0.05
		}
		if math.Abs(r-want) > tol {
			t.Errorf("K = %v: r = %.4f, analytic %.4f (tolerance %v)", k, r, want, tol)
		}
	}
}

func TestRK4Order(t *testing.T) {
	// Global error of RK4 falls ~16× when dt halves (Euler ~2×).
	n := 50
	omega := LorentzianQuantiles(n, 0.3, 0.1)
	phi0 := RandomPhases(n, 3)
	run := func(m Method, dt float64) []float64 {
		s, _ := New(Network{Omega: omega, K: 2}, phi0, m)
		for k := 0; k < int(math.Round(2/dt)); k++ {
			s.Step(dt)
		}
		return append([]float64(nil), s.Phases()...)
	}
	errAt := func(m Method, dt float64, ref []float64) float64 {
		p, e := run(m, dt), 0.0
		for i := range p {
			e = math.Max(e, math.Abs(math.Remainder(p[i]-ref[i], 2*math.Pi)))
		}
		return e
	}
	ref := run(RK4, 0.0005)
	if q := errAt(RK4, 0.04, ref) / errAt(RK4, 0.02, ref); q < 12 || q > 20 {
		t.Errorf("RK4 error ratio for dt/2: %v, want ~16", q)
	}
	if q := errAt(Euler, 0.02, ref) / errAt(Euler, 0.01, ref); q < 1.7 || q > 2.3 {
		t.Errorf("Euler error ratio for dt/2: %v, want ~2", q)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(Network{}, nil, RK4); err == nil {
		t.Error("empty network accepted")
	}
	if _, err := New(Network{Omega: []float64{1, 2}}, []float64{0}, RK4); err == nil {
		t.Error("wrong phase count accepted")
	}
	if _, err := New(Network{Omega: []float64{1, math.NaN()}}, nil, RK4); err == nil {
		t.Error("NaN omega accepted")
	}
	if _, err := NewCSR(2, []int{0}, []int{2}, []float64{1}); err == nil {
		t.Error("out-of-range column accepted")
	}
	w, _ := NewCSR(3, nil, nil, nil)
	if _, err := New(Network{Omega: []float64{1, 2}, Coupling: w}, nil, RK4); err == nil {
		t.Error("coupling of the wrong size accepted")
	}
	if _, err := New(Network{Omega: []float64{1}}, nil, Method(9)); err == nil {
		t.Error("unknown method accepted")
	}
}

func BenchmarkStepAllToAll(b *testing.B) {
	n := 100000
	s, _ := New(Network{Omega: LorentzianQuantiles(n, 0, 0.5), K: 2}, RandomPhases(n, 1), RK4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Step(0.01)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/oscillator")
}
