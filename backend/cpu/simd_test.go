package cpu

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prismai/mec/circuit"
)

// Tolerances of the kernels against the pure-Go reference loops. FMA rounds
// each a·b + c once instead of twice, and the assembly sums the four
// products of an output in a different order, so results differ from the
// reference in the last bits: the bound is relative to the size of the
// terms, |m0|·|u| + |m1|·|v| (at most a few ulps of it).
const (
	tol128 = 1e-15
	tol64  = 1e-6
)

// guard is the number of NaN elements either side of every slice a kernel
// gets in these tests: it must never read them into a result, nor write them.
const guard = 9

func randC(r *rand.Rand) complex128 {
	return complex(2*r.Float64()-1, 2*r.Float64()-1)
}

func randMatrix(r *rand.Rand) [4]complex128 {
	return [4]complex128{randC(r), randC(r), randC(r), randC(r)}
}

// padded returns a slice of n random values with guard NaNs either side in
// the backing array, and the backing array.
func padded[T amp](r *rand.Rand, n int) (s, back []T) {
	back = make([]T, n+2*guard)
	nan := T(complex(math.NaN(), math.NaN()))
	for i := range back {
		back[i] = nan
	}
	for i := guard; i < guard+n; i++ {
		back[i] = T(randC(r))
	}
	return back[guard : guard+n : guard+n], back
}

func checkGuards[T amp](t *testing.T, back []T, what string) {
	t.Helper()
	n := len(back) - 2*guard
	for _, i := range append(seq(0, guard), seq(guard+n, len(back))...) {
		c := complex128(back[i])
		if !math.IsNaN(real(c)) || !math.IsNaN(imag(c)) {
			t.Fatalf("%s: guard element %d (slice length %d) overwritten with %v", what, i-guard, n, c)
		}
	}
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func tolOf[T amp]() float64 {
	var z T
	if _, ok := any(z).(complex64); ok {
		return tol64
	}
	return tol128
}

// closeTo reports whether got is within the kernel tolerance of want, where
// scale bounds the size of the terms that were summed.
func closeTo[T amp](got, want T, scale float64) bool {
	d := cmplx.Abs(complex128(got) - complex128(want))
	return d <= tolOf[T]()*(scale+1e-300) && !cmplx.IsNaN(complex128(got))
}

func cabs[T amp](v T) float64 { return cmplx.Abs(complex128(v)) }

func lengths() []int {
	ls := seq(0, 68)
	return append(ls, 127, 128, 129, 1000, 1023, 4096+5)
}

// forKernels runs f for every kernel path this build has.
func forKernels(t *testing.T, f func(t *testing.T)) {
	for _, mode := range kernelModes() {
		t.Run(mode, func(t *testing.T) { withKernels(mode, func() { f(t) }) })
	}
}

func testRun[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range lengths() {
		for trial := 0; trial < 3; trial++ {
			m128 := randMatrix(r)
			var m [4]T
			for i, v := range m128 {
				m[i] = T(v)
			}
			mc := m
			x, xb := padded[T](r, n)
			y, yb := padded[T](r, n+trial) // y may be longer than x
			x0, y0 := append([]T(nil), x...), append([]T(nil), y...)
			wx, wy := append([]T(nil), x...), append([]T(nil), y...)
			apply1RunGeneric(wx, wy, &m)
			apply1Run(x, y, &m)
			what := fmt.Sprintf("apply1Run n=%d trial=%d", n, trial)
			if m != mc {
				t.Fatalf("%s: matrix changed", what)
			}
			checkGuards(t, xb, what+" x")
			checkGuards(t, yb, what+" y")
			for i := range x {
				sx := cabs(m[0])*cabs(x0[i]) + cabs(m[1])*cabs(y0[i])
				sy := cabs(m[2])*cabs(x0[i]) + cabs(m[3])*cabs(y0[i])
				if !closeTo(x[i], wx[i], sx) || !closeTo(y[i], wy[i], sy) {
					t.Fatalf("%s: element %d: got (%v, %v), want (%v, %v)", what, i, x[i], y[i], wx[i], wy[i])
				}
			}
			for i := n; i < len(y); i++ {
				if y[i] != y0[i] {
					t.Fatalf("%s: y[%d] beyond len(x) changed", what, i)
				}
			}
		}
	}
}

func testLow[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range lengths() {
		m128 := randMatrix(r)
		var m [4]T
		for i, v := range m128 {
			m[i] = T(v)
		}
		mc := m
		a, ab := padded[T](r, n)
		a0 := append([]T(nil), a...)
		w := append([]T(nil), a...)
		apply1LowGeneric(w, &m)
		apply1Low(a, &m)
		what := fmt.Sprintf("apply1Low n=%d", n)
		if m != mc {
			t.Fatalf("%s: matrix changed", what)
		}
		checkGuards(t, ab, what)
		for i := 0; i+1 < n; i += 2 {
			s0 := cabs(m[0])*cabs(a0[i]) + cabs(m[1])*cabs(a0[i+1])
			s1 := cabs(m[2])*cabs(a0[i]) + cabs(m[3])*cabs(a0[i+1])
			if !closeTo(a[i], w[i], s0) || !closeTo(a[i+1], w[i+1], s1) {
				t.Fatalf("%s: pair %d: got (%v, %v), want (%v, %v)", what, i/2, a[i], a[i+1], w[i], w[i+1])
			}
		}
		if n%2 == 1 && a[n-1] != a0[n-1] {
			t.Fatalf("%s: odd last element changed", what)
		}
	}
}

// testApply1 checks apply1 (with the block kernels) on every target of a
// 10-qubit state, over whole and split group ranges, against a plain loop.
func testApply1[T amp](t *testing.T) {
	const n = 10
	r := rand.New(rand.NewPCG(5, 6))
	for q := uint(0); q < n; q++ {
		for _, rng := range [][2]int{{0, 1 << (n - 1)}, {0, 5}, {3, 300}, {257, 512}, {1, 2}, {100, 101}} {
			m128 := randMatrix(r)
			var m [4]T
			for i, v := range m128 {
				m[i] = T(v)
			}
			mc := m
			a, ab := padded[T](r, 1<<n)
			a0 := append([]T(nil), a...)
			w := append([]T(nil), a...)
			for g := rng[0]; g < rng[1]; g++ {
				i := (g>>q)<<(q+1) | g&(1<<q-1)
				j := i | 1<<q
				u, v := w[i], w[j]
				w[i] = m[0]*u + m[1]*v
				w[j] = m[2]*u + m[3]*v
			}
			apply1(a, q, &m, rng[0], rng[1])
			what := fmt.Sprintf("apply1 q=%d groups=%v", q, rng)
			if m != mc {
				t.Fatalf("%s: matrix changed", what)
			}
			checkGuards(t, ab, what)
			for i := range a {
				p := i ^ 1<<q
				var s float64
				if i>>q&1 == 0 {
					s = cabs(m[0])*cabs(a0[i]) + cabs(m[1])*cabs(a0[p])
				} else {
					s = cabs(m[2])*cabs(a0[p]) + cabs(m[3])*cabs(a0[i])
				}
				if !closeTo(a[i], w[i], s) {
					t.Fatalf("%s: amplitude %d: got %v, want %v", what, i, a[i], w[i])
				}
			}
		}
	}
}

// testBlocks checks the block kernels directly for every half up to 64 and
// several block counts.
func testBlocks[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for half := 1; half <= 64; half++ {
		for _, nb := range []int{0, 1, 2, 3, 7} {
			m128 := randMatrix(r)
			var m [4]T
			for i, v := range m128 {
				m[i] = T(v)
			}
			extra := r.IntN(2 * half) // a partial block at the end is left alone
			a, ab := padded[T](r, 2*half*nb+extra)
			a0 := append([]T(nil), a...)
			w := append([]T(nil), a...)
			apply1BlocksGeneric(w, half, &m)
			switch a := any(a).(type) {
			case []complex128:
				apply1BlocksC128(a, half, any(&m).(*[4]complex128))
			case []complex64:
				apply1BlocksC64(a, half, any(&m).(*[4]complex64))
			}
			what := fmt.Sprintf("apply1Blocks half=%d nb=%d extra=%d", half, nb, extra)
			checkGuards(t, ab, what)
			for i := range a {
				s := cabs(m[0]) + cabs(m[1]) + cabs(m[2]) + cabs(m[3])
				s *= max(cabs(a0[i]), cabs(a0[min(i+half, len(a0)-1)]), cabs(a0[max(i-half, 0)]))
				if !closeTo(a[i], w[i], s) {
					t.Fatalf("%s: element %d: got %v, want %v", what, i, a[i], w[i])
				}
			}
		}
	}
}

func TestSIMDApply1Run(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testRun[complex128])
		t.Run("c64", testRun[complex64])
	})
}

func TestSIMDApply1Low(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testLow[complex128])
		t.Run("c64", testLow[complex64])
	})
}

func TestSIMDApply1(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testApply1[complex128])
		t.Run("c64", testApply1[complex64])
	})
}

func TestSIMDBlocks(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testBlocks[complex128])
		t.Run("c64", testBlocks[complex64])
	})
}

func TestSIMDKernelName(t *testing.T) {
	want := simdGoName
	if useAVX2 {
		want = simdAsmName
	}
	if useAVX2 && useAVX512 {
		want = simd512Name
	}
	if got := kernelName(); got != want {
		t.Fatalf("kernelName() = %q, want %q", got, want)
	}
	t.Logf("kernels: %s (AVX2+FMA available to this build: %v)", kernelName(), hasAVX2FMA)
}

// TestSIMDNoAlloc checks that the dispatch does not allocate.
func TestSIMDNoAlloc(t *testing.T) {
	x, y := make([]complex128, 64), make([]complex64, 64)
	m := [4]complex128{1, 2, 3, 4}
	m64 := [4]complex64{1, 2, 3, 4}
	allocs := testing.AllocsPerRun(10, func() {
		apply1Run(x[:32], x[32:], &m)
		apply1Run(y[:32], y[32:], &m64)
		apply1Low(x, &m)
		apply1Low(y, &m64)
		apply1(x, 2, &m, 0, 32)
		apply1(y, 3, &m64, 0, 32)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}

// testDense checks applyDense (with the assembly dense kernels where the
// shape suits them) against a brute-force loop over the amplitude indices,
// for random targets and controls on 10- and 13-qubit states, whole and partial
// group ranges.
func testDense[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 300; trial++ {
		k := 2 + trial%5 // 2..6
		n := 10
		if trial%50 < 3 || trial%7 == 0 && k >= 5 { // more than one batch of bases per kernel call
			n = 13
		}
		perm := r.Perm(n)
		nc := r.IntN(3)
		if k+nc > n {
			nc = 0
		}
		if free := [7]int{2, 3}[trial%7]; free > 0 && k+nc <= n-free {
			// Keep qubits 0 and 1 free (the AVX2 kernels' case), or 0 to 2
			// (the AVX-512 kernels' in complex64).
			p := r.Perm(n - free)
			for i := range p {
				p[i] += free
			}
			perm = p
		}
		targets, controls := perm[:k], perm[k:k+nc]
		var mask, val uint64
		for i, c := range controls {
			mask |= 1 << uint(c)
			if i%2 == 0 {
				val |= 1 << uint(c)
			}
		}
		d := 1 << k
		m := make([]T, d*d)
		for i := range m {
			m[i] = T(randC(r))
		}
		mc := append([]T(nil), m...)
		sh := newShape(n, targets, mask, val)
		ranges := [][2]int{{0, sh.groups}, {1, sh.groups - 3}, {3, 4}, {sh.groups / 2, sh.groups/2 + 7}}
		rng := ranges[trial%len(ranges)]
		rng[1] = min(rng[1], sh.groups)
		if rng[1] <= rng[0] {
			rng = [2]int{0, sh.groups}
		}
		a, ab := padded[T](r, 1<<n)
		a0 := append([]T(nil), a...)
		w := append([]T(nil), a...)
		scale := make([]float64, len(a))
		// Reference: the groups of [lo,hi) in compressed order.
		g := 0
		for i := 0; i < len(a); i++ {
			u := uint64(i)
			if u&mask != val || u&sh.offsets[d-1] != 0 {
				continue
			}
			if g >= rng[0] && g < rng[1] {
				in := make([]T, d)
				for j := range in {
					in[j] = a0[u+sh.offsets[j]]
				}
				for i2 := 0; i2 < d; i2++ {
					var acc T
					var s float64
					for j := 0; j < d; j++ {
						acc += m[i2*d+j] * in[j]
						s += cabs(m[i2*d+j]) * cabs(in[j])
					}
					w[u+sh.offsets[i2]] = acc
					scale[u+sh.offsets[i2]] = s
				}
			}
			g++
		}
		applyDense(a, &sh, m, rng[0], rng[1])
		what := fmt.Sprintf("applyDense targets=%v controls=%v val=%b groups=%v", targets, controls, val, rng)
		checkGuards(t, ab, what)
		for j := range m {
			if m[j] != mc[j] {
				t.Fatalf("%s: matrix changed", what)
			}
		}
		for i := range a {
			if !closeTo(a[i], w[i], 4*scale[i]) {
				t.Fatalf("%s: amplitude %d: got %v, want %v", what, i, a[i], w[i])
			}
		}
	}
}

func TestSIMDDense(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testDense[complex128])
		t.Run("c64", testDense[complex64])
	})
}

// TestDenseLowLanes: dense gates of 2–6 targets on the lane qubits
// (qubit 0, 1 or both in complex64, qubit 0 in complex128; with AVX-512's
// ZMM registers qubits 0–2 and 0–1), with high and
// low (positive and negative) controls, through the lane kernels' plan, in
// their pure-Go loop and (where the build and CPU have them) assembly, and
// through Apply, equal the reference circuit.ApplyToVector to 2e-5·√k
// (complex64) or 1e-12 (complex128) on 10- and 13-qubit states.
func TestDenseLowLanes(t *testing.T) {
	t.Run("c64", func(t *testing.T) { testDenseLow[complex64](t, 2, 32, 2e-5) })
	t.Run("c64/lanes=8", func(t *testing.T) { testDenseLow[complex64](t, 3, 64, 2e-5) })
	t.Run("c128", func(t *testing.T) { testDenseLow[complex128](t, 1, 32, 1e-12) })
	t.Run("c128/lanes=4", func(t *testing.T) { testDenseLow[complex128](t, 2, 64, 1e-12) })
}

// testDenseLow checks lane plans of laneBits lanes in vectors of vec bytes.
func testDenseLow[T amp](t *testing.T, laneBits, vec int, tol float64) {
	r := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 120; trial++ {
		n := 10
		if trial%5 == 0 {
			n = 13
		}
		k := 2 + trial%5
		var targets []int
		switch trial % 3 {
		case 0:
			targets = []int{0}
		case 1:
			targets = []int{1}
		default:
			targets = []int{1, 0}
		}
		for _, q := range r.Perm(n - 2) {
			if len(targets) == k {
				break
			}
			targets = append(targets, q+2)
		}
		r.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
		g := circuit.Gate{Targets: targets, Matrix: circuit.RandomUnitary(r, 1<<len(targets))}
		free := []int{}
		for q := 0; q < n; q++ {
			if !slices.Contains(targets, q) {
				free = append(free, q)
			}
		}
		if trial%4 == 1 && len(free) > 0 {
			g.Controls = []int{free[r.IntN(len(free))]}
		}
		if trial%4 == 2 && len(free) > 1 {
			g.NegControls = []int{free[0]} // the lowest free qubit: often a lane
			if free[1] >= 2 {
				g.Controls = []int{free[len(free)-1]}
			}
		}
		psi := make([]complex128, 1<<n)
		for i := range psi {
			psi[i] = randC(r)
		}
		want := slices.Clone(psi)
		circuit.ApplyToVector(want, &g)
		mask, val := g.CtrlMasks()
		p, ok := newLowPlan(n, g.Targets, mask, val, g.Matrix, laneBits, vec)
		if !ok {
			if laneBits == 1 && !slices.Contains(targets, 0) && mask&1 == 0 {
				continue // off the lane in complex128
			}
			t.Fatalf("targets %v: no lane plan", targets)
		}
		check := func(what string, got []T) {
			t.Helper()
			for i := range got {
				if d := cmplx.Abs(complex128(got[i]) - want[i]); d > tol*math.Sqrt(float64(len(targets))) {
					t.Fatalf("%s: targets %v controls %v neg %v, amplitude %d: got %v want %v", what, targets, g.Controls, g.NegControls, i, got[i], want[i])
				}
			}
		}
		a := convert[T](psi)
		applyDenseLowGeneric(a, &p, 0, p.sh.groups)
		check("pure Go", a)
		for _, mode := range kernelModes() {
			a := convert[T](psi)
			withKernels(mode, func() { applyDenseLow(a, &p, 0, p.sh.groups) })
			check("applyDenseLow/"+mode, a)
			if p.sh.groups > 2 { // odd ranges: [0,1), then [1,groups)
				a := convert[T](psi)
				withKernels(mode, func() {
					applyDenseLow(a, &p, 0, 1)
					applyDenseLow(a, &p, 1, p.sh.groups)
				})
				check("applyDenseLow/split/"+mode, a)
			}
			st := newState[T](New(Options{}), n)
			copy(st.amps, convert[T](psi))
			withKernels(mode, func() {
				if err := st.Apply(&g); err != nil {
					t.Fatal(err)
				}
			})
			check("Apply/"+mode, st.amps)
		}
	}
}

// TestSIMDDiag: applyDiagGroups (the diagonal kernels on runs of four or
// more amplitudes, its own loop otherwise) equals a brute-force loop over
// the amplitude indices for random diagonals of 1–4 targets (some entries
// exactly 1, which are skipped) with random controls on 10- and 13-qubit
// states, whole and partial group ranges; the guards around the state stay
// untouched.
func TestSIMDDiag(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testDiag[complex128])
		t.Run("c64", testDiag[complex64])
	})
}

func testDiag[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for trial := 0; trial < 200; trial++ {
		n := 10 + 3*(trial%2)
		k := 1 + trial%4
		perm := r.Perm(n)
		if trial%3 == 0 { // runs of four or more
			p := r.Perm(n - 2)
			for i := range p {
				p[i] += 2
			}
			perm = p
		}
		nc := r.IntN(3)
		targets, controls := perm[:k], perm[k:k+nc]
		var mask, val uint64
		for i, c := range controls {
			mask |= 1 << uint(c)
			if i%2 == 0 {
				val |= 1 << uint(c)
			}
		}
		d := make([]T, 1<<k)
		for i := range d {
			d[i] = T(randC(r))
			if r.IntN(4) == 0 {
				d[i] = 1
			}
		}
		sh := newShape(n, targets, mask, val)
		rng := [][2]int{{0, sh.groups}, {1, sh.groups - 3}, {3, 4}, {sh.groups / 2, sh.groups/2 + 7}}[trial%4]
		a, ab := padded[T](r, 1<<n)
		w := append([]T(nil), a...)
		g := 0
		for i := range a {
			u := uint64(i)
			if u&mask != val || u&sh.offsets[len(d)-1] != 0 {
				continue
			}
			if g >= rng[0] && g < rng[1] {
				for j := range d {
					w[u+sh.offsets[j]] *= d[j]
				}
			}
			g++
		}
		applyDiagGroups(a, &sh, newDiagGate(&sh, d), rng[0], rng[1])
		what := fmt.Sprintf("applyDiagGroups targets=%v controls=%v groups=%v", targets, controls, rng)
		checkGuards(t, ab, what)
		for i := range a {
			if !closeTo(a[i], w[i], 2*cabs(w[i])+1e-30) {
				t.Fatalf("%s: amplitude %d: got %v, want %v", what, i, a[i], w[i])
			}
		}
	}
}

// TestKernelAllocs: applying a planned diagonal gate (applyDiagGroups on
// runs of four: the diagonal kernels) and a dense 3-qubit block above the
// lane qubits (applyDense: the AVX-512 kernels where the CPU has them)
// allocates nothing a call, in every kernel mode.
func TestKernelAllocs(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		t.Run("c128", testKernelAllocs[complex128])
		t.Run("c64", testKernelAllocs[complex64])
	})
}

func testKernelAllocs[T amp](t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const n = 12
	a := make([]T, 1<<n)
	for i := range a {
		a[i] = T(randC(r))
	}
	sh := newShape(n, []int{4, 7}, 0, 0)
	dg := newDiagGate(&sh, []T{1, T(randC(r)), T(randC(r)), T(randC(r))})
	if got := testing.AllocsPerRun(10, func() { applyDiagGroups(a, &sh, dg, 0, sh.groups) }); got != 0 {
		t.Errorf("applyDiagGroups: %v allocations a call, want 0", got)
	}
	dsh := newShape(n, []int{3, 6, 9}, 0, 0)
	m := make([]T, 64)
	for i := range m {
		m[i] = T(randC(r))
	}
	dsh.consts = denseConsts(m, len(dsh.offsets))
	if got := testing.AllocsPerRun(10, func() { applyDense(a, &dsh, m, 0, dsh.groups) }); got != 0 {
		t.Errorf("applyDense (3 targets): %v allocations a call, want 0", got)
	}
}
