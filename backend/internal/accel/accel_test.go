package accel

import (
	"bytes"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/engines/kuramoto"
	"github.com/prismai/mec/engines/snn"
)

func TestRadices(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []int
	}{
		{2, []int{2}}, {4, []int{4}}, {8, []int{4, 2}}, {12, []int{4, 3}}, {16, []int{4, 4}},
		{338, []int{2, 13, 13}}, {3 * 5 * 7 * 11, []int{3, 5, 7, 11}}, {17, nil}, {2 * 19, nil},
	} {
		if got := Radices(c.n); !slices.Equal(got, c.want) {
			t.Errorf("Radices(%d) = %v, want %v", c.n, got, c.want)
		}
		if rs := Radices(c.n); rs != nil {
			p := 1
			for _, r := range rs {
				if r > FFTMaxR {
					t.Errorf("Radices(%d): radix %d > %d", c.n, r, FFTMaxR)
				}
				p *= r
			}
			if p != c.n {
				t.Errorf("Radices(%d) multiply to %d", c.n, p)
			}
		}
	}
	if rs := Radices(1); len(rs) != 0 {
		t.Errorf("Radices(1) = %v, want no stages", rs)
	}
}

func TestTwiddles(t *testing.T) {
	n := 12
	tw := Twiddles(n)
	for k, w := range tw {
		if d := cmplx.Abs(w - cmplx.Exp(complex(0, -2*math.Pi*float64(k)/float64(n)))); d > 1e-15 {
			t.Errorf("twiddle %d off by %g", k, d)
		}
	}
}

// TestChirp checks the chirp's exact angle reduction: c_k depends on k²
// mod 2n only, so for even n c_{n-k} = c_k bit for bit, and it stays a
// unit phasor for k far beyond where k² loses precision in float64.
func TestChirp(t *testing.T) {
	for _, n := range []int{6, 34, 1000, 1 << 20 * 3} {
		c := Chirp(n)
		if len(c) != n || c[0] != 1 {
			t.Fatalf("Chirp(%d): %d values, c_0 = %v", n, len(c), c[0])
		}
		for _, k := range []int{1, 2, 5, n / 2, n - 1} {
			if n%2 == 0 && c[n-k] != c[k] {
				t.Errorf("n=%d: c_%d = %v, c_%d = %v, want equal", n, n-k, c[n-k], k, c[k])
			}
			e := (uint64(k) * uint64(k)) % uint64(2*n)
			s, co := math.Sincos(-math.Pi * float64(e) / float64(n))
			if c[k] != complex(co, s) {
				t.Errorf("n=%d: c_%d = %v, want %v", n, k, c[k], complex(co, s))
			}
			if k < 1000 {
				want := cmplx.Exp(complex(0, -math.Pi*float64(k*k)/float64(n)))
				if d := cmplx.Abs(c[k] - want); d > 1e-9 {
					t.Errorf("n=%d: c_%d off by %g", n, k, d)
				}
			}
		}
	}
}

func TestBluestein(t *testing.T) {
	for _, n := range []int{17, 19, 23 * 2, 1000} {
		m, chirp, spec := Bluestein(n)
		if m&(m-1) != 0 || m < 2*n-1 || m/2 >= 2*n-1 {
			t.Errorf("n=%d: inner length %d", n, m)
		}
		if len(chirp) != n || len(spec) != m {
			t.Fatalf("n=%d: %d chirp and %d spectrum values", n, len(chirp), len(spec))
		}
		// The spectrum is the DFT of the wrapped conj(chirp).
		conv := make([]complex128, m)
		for k := 0; k < n; k++ {
			conv[k] = cmplx.Conj(chirp[k])
			if k > 0 {
				conv[m-k] = cmplx.Conj(chirp[k])
			}
		}
		want := dft(conv)
		for k := range spec {
			if d := cmplx.Abs(spec[k] - want[k]); d > 1e-9*float64(m) {
				t.Fatalf("n=%d: spectrum %d off by %g", n, k, d)
			}
		}
		if !slices.Equal(spec, ChirpSpectrum(chirp, m)) {
			t.Errorf("n=%d: Bluestein's spectrum differs from ChirpSpectrum's", n)
		}
		// A length-n DFT through the chirp convolution matches the direct one.
		x := make([]complex128, n)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range x {
			x[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
		a := make([]complex128, m)
		for j := range x {
			a[j] = x[j] * chirp[j]
		}
		fa := HostFFT(a)
		for k := range fa {
			fa[k] *= spec[k]
		}
		conj := make([]complex128, m)
		for k := range fa {
			conj[k] = cmplx.Conj(fa[k])
		}
		inv := HostFFT(conj)
		direct := dft(x)
		for k := 0; k < n; k++ {
			got := chirp[k] * cmplx.Conj(inv[k]) / complex(float64(m), 0)
			if d := cmplx.Abs(got - direct[k]); d > 1e-9*float64(n) {
				t.Fatalf("n=%d: Bluestein X_%d off by %g", n, k, d)
			}
		}
	}
}

func TestHostFFT(t *testing.T) {
	for _, n := range []int{1, 2, 8, 64} {
		x := make([]complex128, n)
		r := rand.New(rand.NewPCG(2, uint64(n)))
		for i := range x {
			x[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
		got, want := HostFFT(x), dft(x)
		for k := range got {
			if d := cmplx.Abs(got[k] - want[k]); d > 1e-12*float64(n) {
				t.Errorf("n=%d: X_%d off by %g", n, k, d)
			}
		}
	}
}

func dft(x []complex128) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	for k := range out {
		for j, v := range x {
			e := (uint64(j) * uint64(k)) % uint64(n)
			out[k] += v * cmplx.Exp(complex(0, -2*math.Pi*float64(e)/float64(n)))
		}
	}
	return out
}

// sample runs the block sampler as the backends do, block sums and block
// reads taken from a.
func sample(t *testing.T, a []complex128, u []float64) []uint64 {
	t.Helper()
	blen, blocks := SampleBlocks(len(a))
	bs := make([]float64, blocks)
	for b := range bs {
		for _, v := range a[b*blen : (b+1)*blen] {
			bs[b] += real(v)*real(v) + imag(v)*imag(v)
		}
	}
	sm, err := NewBlockSampler(bs, blen)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint64, len(u))
	reads := map[int]int{}
	err = sm.Sample(u, out, func(off int, dst []complex128) error {
		reads[off]++
		copy(dst, a[off:off+len(dst)])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for off, k := range reads {
		if k != 1 {
			t.Fatalf("block at %d read %d times", off, k)
		}
	}
	return out
}

// TestSampleBlocks checks sampling from block sums against
// backend.SampleHost: on states whose probabilities are dyadic (so every
// partial sum is exact and the two summation orders agree), with zero
// blocks and zero amplitudes, and on a random state within one block.
func TestSampleBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	u := make([]float64, 2000)
	for i := range u {
		u[i] = r.Float64()
	}
	u = append(u, 0, math.Nextafter(1, 0))
	check := func(name string, a []complex128) {
		want := make([]uint64, len(u))
		if err := backend.SampleHost(a, u, want); err != nil {
			t.Fatal(err)
		}
		if got := sample(t, a, u); !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: variate %v: outcome %d, SampleHost %d", name, u[i], got[i], want[i])
				}
			}
		}
	}
	for _, n := range []int{1, 5, 10, 12, 14} {
		a := make([]complex128, 1<<n)
		for i := range a {
			switch {
			case i%7 == 3 || (i >= 1024 && i < 3072):
				// zeros, whole blocks of them when n > 10
			default:
				a[i] = complex(float64(1+i%4)/8, float64(i%3)/4)
			}
		}
		check("dyadic", a)
	}
	a := make([]complex128, 1024)
	for i := range a {
		a[i] = complex(r.NormFloat64(), r.NormFloat64())
	}
	check("random", a)

	if _, err := NewBlockSampler([]float64{0, 0}, 4); err == nil {
		t.Error("zero state sampled")
	}
	for _, x := range []float64{-0.1, 1, math.NaN()} {
		if CheckVariate(x) == nil {
			t.Errorf("variate %v accepted", x)
		}
	}
}

func TestMarginal(t *testing.T) {
	const n = 9
	r := rand.New(rand.NewPCG(5, 6))
	a := make([]complex128, 1<<n)
	for i := range a {
		a[i] = complex(r.NormFloat64(), r.NormFloat64())
	}
	for _, qubits := range [][]int{{0}, {3, 1}, {8, 0, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8}} {
		mg := NewMarginal(len(a), qubits)
		if mg.Total != uint64(mg.Outcomes)*mg.Chunks || mg.Chunks*mg.Clen < mg.Rest || !slices.IsSorted(mg.Sorted) {
			t.Fatalf("%v: geometry %+v", qubits, mg)
		}
		// Emulate the kernel: item (o, c) sums the rest indices of chunk c.
		p := make([]float64, mg.Total)
		for o := 0; o < mg.Outcomes; o++ {
			for c := uint64(0); c < mg.Chunks; c++ {
				for j := c * mg.Clen; j < min((c+1)*mg.Clen, mg.Rest); j++ {
					v := a[insert(j, o, qubits, mg.Sorted)]
					p[uint64(o)*mg.Chunks+c] += real(v)*real(v) + imag(v)*imag(v)
				}
			}
		}
		got, want := make([]float64, mg.Outcomes), make([]float64, mg.Outcomes)
		mg.Sum(p, got)
		backend.MarginalProbabilities(a, qubits, want)
		for o := range got {
			if math.Abs(got[o]-want[o]) > 1e-12*float64(len(a)) {
				t.Errorf("%v: outcome %d: %v, want %v", qubits, o, got[o], want[o])
			}
		}
	}
	if Pack([]int{3, 1, 63}) != 3|1<<6|63<<12 {
		t.Error("Pack")
	}
}

// insert spreads rest index j over the bits other than sorted and sets
// qubit qubits[b] to bit b of outcome o.
func insert(j uint64, o int, qubits, sorted []int) int {
	for _, q := range sorted {
		lo := j & (1<<uint(q) - 1)
		j = (j-lo)<<1 | lo
	}
	for b, q := range qubits {
		if o>>uint(b)&1 == 1 {
			j |= 1 << uint(q)
		}
	}
	return int(j)
}

func TestReduce(t *testing.T) {
	if ReduceGroups(0) != 1 || ReduceGroups(WG*8*3) != 3 || ReduceGroups(1<<30) != 512 {
		t.Error("ReduceGroups")
	}
	p := []float64{1, 2, 3, 4, 5, 6}
	if got := SumPartials(p, 3, 2); !slices.Equal(got, []float64{9, 12}) {
		t.Errorf("SumPartials = %v", got)
	}
}

// TestNetSnapshot restores a CPU network's snapshot (mid-run: spikes in
// the delay rings, Poisson streams advanced) into the host side of a
// device network and encodes it again: the bytes must round-trip, and the
// host generators then draw the CPU network's Poisson spikes.
func TestNetSnapshot(t *testing.T) {
	net := backendtest.ConformanceNetwork(7)
	sim, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for range 50 {
		sim.Step()
	}
	snap, err := sim.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	nw, err := NewNet(sim.Layout(), sim.N(), sim.Dt(), WG)
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.NewGenerator(net); err != nil {
		t.Fatal(err)
	}
	if nw.Groups != (sim.N()+WG-1)/WG || len(nw.Inptr) != sim.N()+1 || int(nw.Inptr[sim.N()]) != len(nw.Src) || len(nw.Src) == 0 {
		t.Fatalf("tables: %d groups, %d row pointers, %d synapses", nw.Groups, len(nw.Inptr), len(nw.Src))
	}
	for p := 0; p < len(nw.Pint)/5; p++ {
		lo, size := int(nw.Pint[5*p]), int(nw.Pint[5*p+1])
		for i := lo; i < lo+size; i++ {
			if nw.Pid[i] != int32(p) {
				t.Fatalf("neuron %d in population %d, table says %d", i, p, nw.Pid[i])
			}
		}
	}
	st, err := nw.DecodeSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	nw.Commit(st)
	if nw.Now != 50 {
		t.Fatalf("step %d after restore, want 50", nw.Now)
	}
	again, err := nw.EncodeSnapshot(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, snap) {
		t.Fatalf("snapshot does not round-trip: %d bytes, want %d", len(again), len(snap))
	}
	// Poisson lockstep.
	prev := slices.Clone(sim.PoissonCounts("P"))
	off := nw.PoissonChunk(20)
	for s := 0; s < 20; s++ {
		sim.Step()
		cur := sim.PoissonCounts("P")
		var want []int32
		for k := range cur {
			if cur[k] != prev[k] {
				want = append(want, int32(nw.Goff[0]+k))
			}
		}
		prev = slices.Clone(cur)
		if got := nw.Pbuf[off[s]:off[s+1]]; !slices.Equal(got, want) {
			t.Fatalf("step %d: Poisson spikes %v, CPU %v", s, got, want)
		}
	}
	if _, err := nw.DecodeSnapshot([]byte("MECSNN")); err == nil {
		t.Error("truncated snapshot accepted")
	}
	// Forced spikes come back sorted, once each.
	nw.Force = []int{5, 1, 5, 3}
	if got := nw.TakeForced(); !slices.Equal(got, []int32{1, 3, 5}) || nw.TakeForced() != nil {
		t.Errorf("TakeForced = %v", got)
	}
}

func TestKuStep(t *testing.T) {
	type call struct {
		phasor bool
		mode   int32
		h      float64
		buf    KuBuf
	}
	run := func(m kuramoto.Method, fresh bool) []call {
		var cs []call
		err := KuStep(m, 0.1, fresh,
			func(x KuBuf) error { cs = append(cs, call{phasor: true, buf: x}); return nil },
			func(mode int32, h float64, k KuBuf) error {
				cs = append(cs, call{mode: mode, h: h, buf: k})
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	euler := run(kuramoto.Euler, true)
	if !slices.Equal(euler, []call{{mode: 1, h: 0.1, buf: KuK1}, {phasor: true, buf: KuPhi}}) {
		t.Errorf("Euler schedule %v", euler)
	}
	rk4 := run(kuramoto.RK4, false)
	want := []call{{phasor: true, buf: KuPhi}, {mode: 0, h: 0.05, buf: KuK1}, {phasor: true, buf: KuTmp},
		{mode: 0, h: 0.05, buf: KuK2}, {phasor: true, buf: KuTmp}, {mode: 0, h: 0.1, buf: KuK3},
		{phasor: true, buf: KuTmp}, {mode: 2, h: 0.1 / 6, buf: KuK1}, {phasor: true, buf: KuPhi}}
	if !slices.Equal(rk4, want) {
		t.Errorf("RK4 schedule %v", rk4)
	}
	r, psi := OrderParameter([]float64{1, 0, 1, 0}, 2, 2)
	if r != 1 || psi != 0 {
		t.Errorf("order parameter %v, %v", r, psi)
	}
	if CheckDt(0) == nil || CheckDt(math.Inf(1)) == nil || CheckDt(0.1) != nil {
		t.Error("CheckDt")
	}
	if KuGroups(1) != 1 || KuGroups(1<<30) != KuGroupsMax {
		t.Error("KuGroups")
	}
}

func TestHostAmps(t *testing.T) {
	a := []complex128{1 + 2i, 1.0 / 3}
	if p := HostAmps(backend.Complex128, a); p != unsafe.Pointer(&a[0]) {
		t.Error("Complex128 amplitudes copied")
	}
	c := unsafe.Slice((*complex64)(HostAmps(backend.Complex64, a)), len(a))
	if c[0] != 1+2i || c[1] != complex64(complex(1.0/3, 0)) {
		t.Errorf("Complex64 amplitudes %v", c)
	}
	dst := make([]complex128, 2)
	Widen(dst, c)
	if dst[0] != 1+2i || dst[1] != complex128(c[1]) {
		t.Errorf("Widen = %v", dst)
	}
}

func TestFold(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	a := make([]complex128, 1<<10)
	for i := range a {
		a[i] = complex(r.NormFloat64(), r.NormFloat64())
	}
	for _, n := range []int{1, 2, 8, 1 << 10} {
		fd := NewFold(len(a), n)
		if fd.Items != uint64(n)*fd.Chunks || fd.Chunks*fd.Clen < fd.Per {
			t.Fatalf("n=%d: geometry %+v", n, fd)
		}
		// Emulate the kernel: item (i, c) sums ψ_{i + n·j} over chunk c's j.
		p := make([]float64, 2*fd.Items)
		for i := 0; i < n; i++ {
			for c := uint64(0); c < fd.Chunks; c++ {
				w := uint64(i)*fd.Chunks + c
				for j := c * fd.Clen; j < min((c+1)*fd.Clen, fd.Per); j++ {
					v := a[i+n*int(j)]
					p[2*w] += real(v)
					p[2*w+1] += imag(v)
				}
			}
		}
		u := fd.Sum(p)
		for i := range u {
			var want complex128
			for k := i; k < len(a); k += n {
				want += a[k]
			}
			if d := cmplx.Abs(u[i] - want); d > 1e-12*float64(len(a)) {
				t.Errorf("n=%d: u_%d off by %g", n, i, d)
			}
		}
	}
}

// TestCheckFFT: the limits every accelerator's FFT refuses at.
func TestCheckFFT(t *testing.T) {
	for _, c := range []struct {
		n, batch int
		p        backend.Precision
		ok       bool
	}{
		{1, 1, backend.Complex128, true}, {37, 3, backend.Complex64, true},
		{0, 1, backend.Complex128, false}, {4, 0, backend.Complex128, false},
		{4, 1, backend.Precision(99), false}, {1 << 20, 1 << 11, backend.Complex64, false},
	} {
		if err := CheckFFT(c.n, c.batch, c.p); (err == nil) != c.ok {
			t.Errorf("CheckFFT(%d, %d, %v) = %v, want ok=%v", c.n, c.batch, c.p, err, c.ok)
		}
	}
}

// TestFitLocal: a group size that divides the items, at most the one
// preferred.
func TestFitLocal(t *testing.T) {
	for _, c := range []struct{ pref, items, want uint64 }{{256, 1024, 256}, {256, 64, 64}, {4096, 2, 2}, {128, 1, 1}, {0, 8, 1}} {
		if got := FitLocal(c.pref, c.items); got != c.want {
			t.Errorf("FitLocal(%d, %d) = %d, want %d", c.pref, c.items, got, c.want)
		}
	}
}
