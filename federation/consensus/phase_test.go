package consensus

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestAngleDiff checks wrapped differences (to 1e-15) including the ±π
// seam and the (−π, π] convention, NaN/Inf giving NaN, and on 10⁴ seeded
// random pairs in [−100, 100]² that the result lies in (−π, π] and
// differs from a − b by a multiple of 2π (to 1e-12).
func TestAngleDiff(t *testing.T) {
	cases := []struct{ a, b, want float64 }{
		{0.1, -0.1, 0.2},
		{math.Pi - 0.1, -math.Pi + 0.1, -0.2},
		{-math.Pi + 0.1, math.Pi - 0.1, 0.2},
		{0, math.Pi, math.Pi}, // −π maps to π
		{math.Pi, 0, math.Pi},
		{3 * math.Pi, 0, math.Pi},
		{7, 0, 7 - 2*math.Pi},
		{-7, 0, -7 + 2*math.Pi},
		{1, 1, 0},
	}
	for _, c := range cases {
		if got := AngleDiff(c.a, c.b); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("AngleDiff(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	for _, c := range [][2]float64{{math.NaN(), 0}, {0, math.Inf(1)}, {math.Inf(-1), 1}} {
		if got := AngleDiff(c[0], c[1]); !math.IsNaN(got) {
			t.Errorf("AngleDiff(%v, %v) = %v, want NaN", c[0], c[1], got)
		}
	}
	r := rand.New(rand.NewPCG(81, 82))
	for range 10000 {
		a, b := 200*r.Float64()-100, 200*r.Float64()-100
		d := AngleDiff(a, b)
		k := (a - b - d) / (2 * math.Pi)
		if !(d > -math.Pi && d <= math.Pi) || math.Abs(k-math.Round(k)) > 1e-12 {
			t.Fatalf("AngleDiff(%v, %v) = %v (k %v)", a, b, d, k)
		}
	}
}

// TestCircularMean checks the wrap-around at ±π (mean π, r = cos 0.1), a
// weighted mean (atan2(3, 1), r = √10/4), coincident and cancelling
// phases (r = 1 and r < 1e-15), and the errors (tolerance 1e-15).
func TestCircularMean(t *testing.T) {
	m, r, err := CircularMean([]float64{math.Pi - 0.1, -math.Pi + 0.1}, nil)
	if err != nil || math.Abs(AngleDiff(m, math.Pi)) > 1e-15 || math.Abs(r-math.Cos(0.1)) > 1e-15 || !(m > 0) {
		t.Errorf("seam: mean %v r %v err %v; want π, cos 0.1", m, r, err)
	}
	m, r, err = CircularMean([]float64{0, math.Pi / 2}, []float64{1, 3})
	if err != nil || math.Abs(m-math.Atan2(3, 1)) > 1e-15 || math.Abs(r-math.Sqrt(10)/4) > 1e-15 {
		t.Errorf("weighted: mean %v r %v err %v", m, r, err)
	}
	if _, r, _ = CircularMean([]float64{2, 2, 2}, nil); math.Abs(r-1) > 1e-15 {
		t.Errorf("coincident: r %v", r)
	}
	if _, r, _ = CircularMean([]float64{0.3, 0.3 + math.Pi}, nil); r > 1e-15 {
		t.Errorf("opposite: r %v", r)
	}
	bad := []struct {
		name    string
		p, w    []float64
		wantErr string
	}{
		{"empty", nil, nil, "no phases"},
		{"nan", []float64{0, math.NaN()}, nil, "phase 1"},
		{"inf", []float64{math.Inf(1)}, nil, "phase 0"},
		{"weights length", []float64{0, 1}, []float64{1}, "1 weights for 2"},
		{"negative weight", []float64{0, 1}, []float64{1, -1}, "weight 1"},
		{"nan weight", []float64{0, 1}, []float64{math.NaN(), 1}, "weight 0"},
		{"zero weights", []float64{0, 1}, []float64{0, 0}, "sum to 0"},
	}
	for _, c := range bad {
		if _, _, err := CircularMean(c.p, c.w); err == nil || !strings.HasPrefix(err.Error(), "consensus: ") || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		}
	}
}

// checkConsensus asserts the invariants of a Consensus result: outliers
// are exactly the phases farther than eps from the mean, and the mean is
// the circular mean of the others (to 1e-12).
func checkConsensus(t *testing.T, phases []float64, eps, mean float64, outliers []int) {
	t.Helper()
	var want []int
	var in []float64
	for i, p := range phases {
		if math.Abs(AngleDiff(p, mean)) > eps {
			want = append(want, i)
		} else {
			in = append(in, p)
		}
	}
	if !slices.Equal(outliers, want) {
		t.Fatalf("phases %v: outliers %v, want %v", phases, outliers, want)
	}
	m, _, err := CircularMean(in, nil)
	if err != nil || math.Abs(AngleDiff(m, mean)) > 1e-12 {
		t.Fatalf("phases %v: mean %v is not the mean %v of its inliers (%v)", phases, mean, m, err)
	}
}

// TestConsensusWrapAndOutlier checks a cluster straddling ±π with one
// outlier: the mean is the circular mean of the cluster (to 1e-12, near π)
// and the outlier is reported; then the outlier node moves: still out at
// 0.45 from the others' mean (eps 0.3), back in at 0.2, when it rejoins,
// and also in at 0.35: it pulls φ̄ by a fifth of its offset, leaving it
// 0.28 from φ̄ (the largest self-consistent set wins).
func TestConsensusWrapAndOutlier(t *testing.T) {
	const eps = 0.3
	p := []float64{math.Pi - 0.05, -math.Pi + 0.03, 0.5, math.Pi - 0.01, -math.Pi + 0.06}
	mean, out, err := Consensus(p, eps)
	if err != nil {
		t.Fatal(err)
	}
	cl, _, _ := CircularMean([]float64{p[0], p[1], p[3], p[4]}, nil)
	if math.Abs(AngleDiff(mean, cl)) > 1e-12 || math.Abs(AngleDiff(mean, math.Pi)) > 0.05 || !slices.Equal(out, []int{2}) {
		t.Fatalf("mean %v outliers %v; want %v and [2]", mean, out, cl)
	}
	checkConsensus(t, p, eps, mean, out)
	for _, c := range []struct {
		off  float64
		want []int
	}{{0.45, []int{2}}, {0.2, nil}, {-0.29, nil}, {0.35, nil}, {-0.5, []int{2}}} {
		p[2] = cl + c.off
		mean, out, err = Consensus(p, eps)
		if err != nil || !slices.Equal(out, c.want) {
			t.Errorf("node 2 at φ̄%+v: outliers %v err %v, want %v", c.off, out, err, c.want)
		}
		checkConsensus(t, p, eps, mean, out)
	}
}

// TestConsensusTies checks the documented tie-breaking: of two equally
// large clusters the tighter one wins whatever the order; of two exactly
// equal clusters the one of the lowest-numbered seed wins; with no
// majority the largest cluster is returned anyway.
func TestConsensusTies(t *testing.T) {
	a := []float64{0, 0.1, 2, 2.25}
	b := []float64{2, 2.25, 0, 0.1}
	for _, p := range [][]float64{a, b} {
		mean, _, err := Consensus(p, 0.3)
		if err != nil || math.Abs(mean-0.05) > 1e-12 {
			t.Errorf("%v: mean %v err %v, want 0.05 (the tighter cluster)", p, mean, err)
		}
	}
	for _, c := range []struct {
		p    []float64
		mean float64
		out  []int
	}{
		{[]float64{1, 1, -1, -1}, 1, []int{2, 3}},
		{[]float64{-1, -1, 1, 1}, -1, []int{2, 3}},
		{[]float64{-1, 1, 1, -1}, -1, []int{1, 2}},
	} {
		mean, out, err := Consensus(c.p, 0.5)
		if err != nil || math.Abs(mean-c.mean) > 1e-15 || !slices.Equal(out, c.out) {
			t.Errorf("%v: mean %v outliers %v err %v; want %v %v", c.p, mean, out, err, c.mean, c.out)
		}
	}
	p := []float64{0, 0.05, 2, 2.05, -2, -2.05, -2.1}
	mean, out, err := Consensus(p, 0.2)
	if err != nil || !slices.Equal(out, []int{0, 1, 2, 3}) || math.Abs(mean+2.05) > 1e-12 {
		t.Errorf("no majority: mean %v outliers %v err %v", mean, out, err)
	}
}

// TestConsensusTieFirstSeed: clusters of one shape around different
// centres tie (their resultant lengths differ only by rounding), and the
// tie goes to the lowest-numbered seed, so a node whose only peer
// disagrees is not told it is the outlier. 2000 pairs and 500 pairs of
// three-phase clusters (seeded); before the tie tolerance about half of
// them went to the other cluster.
func TestConsensusTieFirstSeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 2000 {
		a := rng.Float64()*2*math.Pi - math.Pi
		b := a + 0.6 + rng.Float64()*(2*math.Pi-1.2)
		mean, out, err := Consensus([]float64{a, b}, 0.3)
		if err != nil || !slices.Equal(out, []int{1}) || math.Abs(AngleDiff(mean, a)) > 1e-12 {
			t.Fatalf("pair %d (%v, %v): mean %v outliers %v err %v; want φ̄ = %v, outlier 1", i, a, b, mean, out, err, a)
		}
	}
	for i := range 500 {
		a := rng.Float64()*2*math.Pi - math.Pi
		b := a + 1.5 + rng.Float64()*(2*math.Pi-3)
		d := []float64{0, 0.05 + 0.1*rng.Float64(), -0.05 - 0.1*rng.Float64()}
		p := []float64{a + d[0], b + d[0], a + d[1], b + d[1], a + d[2], b + d[2]}
		mean, out, err := Consensus(p, 0.4)
		want := AngleDiff(a+(d[0]+d[1]+d[2])/3, 0)
		if err != nil || !slices.Equal(out, []int{1, 3, 5}) || math.Abs(AngleDiff(mean, want)) > 1e-3 {
			t.Fatalf("clusters %d %v: mean %v outliers %v err %v; want about %v, outliers [1 3 5]", i, p, mean, out, err, want)
		}
	}
}

// TestConsensusRandom checks the invariants on 300 seeded random inputs
// (a majority cluster of spread ≤ eps/2 around a random centre, plus
// uniform outliers): the invariants of checkConsensus hold, and every
// cluster member is an inlier.
func TestConsensusRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	for range 300 {
		eps := 0.05 + 1.2*r.Float64()
		n := 1 + r.IntN(25)
		k := n/2 + 1 // cluster size: a strict majority
		c := 2*math.Pi*r.Float64() - math.Pi
		p := make([]float64, n)
		for i := range p {
			if i < k {
				p[i] = c + eps/2*(2*r.Float64()-1)
			} else {
				p[i] = 2*math.Pi*r.Float64() - math.Pi
			}
		}
		r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
		mean, out, err := Consensus(p, eps)
		if err != nil {
			t.Fatal(err)
		}
		checkConsensus(t, p, eps, mean, out)
		if len(out) > n-k {
			t.Fatalf("eps %v phases %v: %d outliers, at most %d expected", eps, p, len(out), n-k)
		}
	}
}

// TestConsensusEdgeCases checks a single phase (wrapped to (−π, π]),
// eps = π (everything is an inlier: the plain circular mean), and the
// errors.
func TestConsensusEdgeCases(t *testing.T) {
	if mean, out, err := Consensus([]float64{3 * math.Pi}, 0.1); err != nil || math.Abs(mean-math.Pi) > 1e-15 || out != nil {
		t.Errorf("single phase: %v %v %v", mean, out, err)
	}
	p := []float64{0, 1, 2, 3, -2.5}
	cm, _, _ := CircularMean(p, nil)
	if mean, out, err := Consensus(p, math.Pi); err != nil || math.Abs(AngleDiff(mean, cm)) > 1e-12 || out != nil {
		t.Errorf("eps π: %v %v %v, want %v", mean, out, err, cm)
	}
	for _, c := range []struct {
		p    []float64
		eps  float64
		want string
	}{
		{nil, 0.5, "no phases"},
		{[]float64{0, math.NaN()}, 0.5, "phase 1 is NaN"},
		{[]float64{math.Inf(-1)}, 0.5, "phase 0 is -Inf"},
		{[]float64{0}, 0, "eps = 0"},
		{[]float64{0}, 4, "eps = 4"},
		{[]float64{0}, math.NaN(), "eps = NaN"},
	} {
		if _, _, err := Consensus(c.p, c.eps); err == nil || !strings.HasPrefix(err.Error(), "consensus: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v eps %v: error %v, want %q", c.p, c.eps, err, c.want)
		}
	}
}
