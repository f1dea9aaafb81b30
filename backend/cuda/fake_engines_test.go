package cuda

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/engines/kuramoto"
	"github.com/prismai/mec/engines/snn"
)

// launchRec is a launch of a kernel the fake does not run: its grid,
// block and parameters decoded by the signature table (p and u as uint64,
// i as int32, r as float64).
type launchRec struct {
	base        string
	grid, block uint64
	args        []any
}

// fakeEngineBackend opens the backend on the emulated driver of
// fake_test.go with Go ports of the fusion kernels (fu_fold, fu_kick,
// fu_stats) added in front of its launcher. Launches of the fft, kuramoto
// and lif kernels are decoded and recorded in *recs but not run (their
// outputs stay as they were); every other launch goes to the statevector
// emulation.
func fakeEngineBackend(t *testing.T, ccMajor int) (*Backend, *fakeGPU, *[]launchRec) {
	l, g := newFakeLib(t)
	inner := l.LaunchKernel
	recs := new([]launchRec)
	l.LaunchKernel = func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params, extra unsafe.Pointer) int32 {
		name := g.funcs[f]
		cut := strings.LastIndex(name, "_f")
		if strings.HasPrefix(name, "sv_") || cut < 0 {
			return inner(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra)
		}
		g.onThread("cuLaunchKernel")
		if gy != 1 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > 1024 || gx == 0 || shared != 0 || stream != fakeStream || extra != nil {
			return g.fail("cuLaunchKernel %s: grid (%d,%d,%d) block (%d,%d,%d) shared %d stream %#x", name, gx, gy, gz, bx, by, bz, shared, stream)
		}
		base, ps := name[:cut], name[cut+2:]
		sig, ok := signature(base)
		if !ok {
			return g.fail("%s: no signature", name)
		}
		pp := unsafe.Slice((*unsafe.Pointer)(params), len(sig))
		if !strings.HasPrefix(name, "fu_") {
			rec := launchRec{base: base, grid: uint64(gx), block: uint64(bx)}
			for _, c := range sig {
				switch {
				case c == 'i':
					rec.args = append(rec.args, *(*int32)(pp[len(rec.args)]))
				case c == 'r' && ps == "32":
					rec.args = append(rec.args, float64(*(*float32)(pp[len(rec.args)])))
				case c == 'r':
					rec.args = append(rec.args, *(*float64)(pp[len(rec.args)]))
				default:
					rec.args = append(rec.args, *(*uint64)(pp[len(rec.args)]))
				}
			}
			*recs = append(*recs, rec)
			return 0
		}
		g.launches[name]++
		args := make([]uint64, len(sig))
		for i, c := range sig {
			if c != 'p' && c != 'u' {
				return g.fail("%s: parameter %d of kind %c in a fusion kernel", name, i, c)
			}
			args[i] = *(*uint64)(pp[i])
		}
		var err error
		if ps == "64" {
			err = emulateFusion[complex128](g, base, uint64(gx), uint64(bx), args)
		} else {
			err = emulateFusion[complex64](g, base, uint64(gx), uint64(bx), args)
		}
		if err != nil {
			return g.fail("%s: %v", name, err)
		}
		return 0
	}
	dev := &Device{Name: "Fake GPU", CCMajor: ccMajor, TotalMem: 1 << 30, SMs: 1, MaxGridX: 1<<31 - 1}
	b, err := open(l, dev, []*Device{dev}, 12020)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
		for _, e := range g.errs {
			t.Errorf("driver misuse: %s", e)
		}
	})
	return b, g, recs
}

// emulateFusion runs fusion kernel base as CUDA would over grid×block
// threads (kernels/fusion.cl, accumulating in double as every CUDA build
// does).
func emulateFusion[T amp](g *fakeGPU, base string, grid, block uint64, u []uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("emulated kernel: %v (grid %d, block %d)", r, grid, block)
		}
	}()
	threads := grid * block
	switch base {
	case kFold:
		a := view[T](g, u[0])
		n, per, chunks, clen, out := u[1], u[2], u[3], u[4], view[float64](g, u[5])
		for w := uint64(0); w < threads; w++ {
			if w >= n*chunks {
				continue
			}
			i, c := w/chunks, w%chunks
			lo, hi := c*clen, min(c*clen+clen, per)
			var re, im float64
			for j := lo; j < hi; j++ {
				v := complex128(a[i+n*j])
				re += real(v)
				im += imag(v)
			}
			out[2*w], out[2*w+1] = re, im
		}
	case kKick:
		a, v := view[T](g, u[0]), view[T](g, u[1])
		stride, count, out := u[2], u[3], view[T](g, u[4])
		for k := uint64(0); k < threads; k++ {
			if k >= count {
				continue
			}
			x := a[k*stride] + v[k]
			a[k*stride] = x
			out[k] = x
		}
	case kStats:
		if block != wg {
			return fmt.Errorf("reduction launched with blocks of %d, MEC_WG is %d", block, wg)
		}
		a, n, out := view[T](g, u[0]), u[1], view[float64](g, u[2])
		for grp := uint64(0); grp < grid; grp++ {
			var t [4]float64
			for lid := uint64(0); lid < block; lid++ {
				for i := grp*block + lid; i < n; i += threads {
					v := complex128(a[i])
					p := real(v)*real(v) + imag(v)*imag(v)
					t[0] += p
					if p > 0 {
						t[1] += p * math.Log(p)
					}
					m := math.Sqrt(p)
					t[2] += m * real(v)
					t[3] += m * imag(v)
				}
			}
			copy(out[4*grp:4*grp+4], t[:])
		}
	default:
		return fmt.Errorf("no emulation")
	}
	return nil
}

// TestFakeFusionCoupler runs the FusionCoupler conformance suite on the
// emulated driver: launch geometry (the fold and kick covering their
// items in whole blocks, the statistics in whole MEC_WG blocks),
// kernelParams, the scratch layout and the host's partial sums, for both
// PTX architectures and both precisions.
func TestFakeFusionCoupler(t *testing.T) {
	for _, cc := range []int{8, 9} {
		t.Run(fmt.Sprintf("cc%d", cc), func(t *testing.T) {
			b, g, _ := fakeEngineBackend(t, cc)
			backendtest.RunFusionCoupler(t, b)
			for _, base := range familyKernels()[fusionFamily] {
				if g.launches[base+"_f64"] == 0 || g.launches[base+"_f32"] == 0 {
					t.Errorf("the suite never launched %s in both precisions (%d, %d)", base, g.launches[base+"_f32"], g.launches[base+"_f64"])
				}
			}
		})
	}
}

// TestFakeEnginesHost exercises, on the emulated driver and without
// launching a kernel (the fft, kuramoto and lif kernels are not emulated),
// the host side of the other engines: allocation, upload and readback of
// an FFT plan (radix and Bluestein) and of oscillators, the spiking
// network's device tables and initial state (its snapshot at t = 0 must
// equal package snn's byte for byte, also after AddVoltages), Free, use
// after Free, and that every buffer is released.
func TestFakeEnginesHost(t *testing.T) {
	b, g, recs := fakeEngineBackend(t, 9)
	base := len(g.bufs)
	rng := rand.New(rand.NewPCG(5, 6))

	for _, c := range []struct {
		n, batch int
		p        backend.Precision
	}{{12, 2, backend.Complex128}, {37, 3, backend.Complex64}, {1, 1, backend.Complex128}} {
		f, err := b.NewFFT(c.n, c.batch, c.p)
		if err != nil {
			t.Fatal(err)
		}
		zero := make([]complex128, c.n*c.batch)
		if err := f.Read(zero); err != nil {
			t.Fatal(err)
		}
		for i, v := range zero {
			if v != 0 {
				t.Fatalf("FFT(%d) buffer not zeroed: [%d] = %v", c.n, i, v)
			}
		}
		x := make([]complex128, c.n*c.batch)
		for i := range x {
			x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		if err := f.Load(x); err != nil {
			t.Fatal(err)
		}
		got := make([]complex128, len(x))
		if err := f.Read(got); err != nil {
			t.Fatal(err)
		}
		if d := backendtest.MaxDiff(got, x); d > backendtest.Tol(c.p) {
			t.Errorf("FFT(%d) %s Load/Read differs by %g", c.n, c.p, d)
		}
		if err := f.(backend.Syncer).Sync(); err != nil {
			t.Error(err)
		}
		if c.n == 1 {
			if err := f.Forward(); err != nil { // the identity: no launch
				t.Error(err)
			}
		}
		if err := f.Free(); err != nil {
			t.Fatal(err)
		}
		if err := f.Free(); err != nil {
			t.Errorf("second Free: %v", err)
		}
		if err := f.Load(x); err == nil {
			t.Error("FFT Load after Free accepted")
		}
		if err := f.Forward(); err == nil {
			t.Error("FFT Forward after Free accepted")
		}
	}
	if _, err := b.NewFFT(0, 1, backend.Complex128); err == nil {
		t.Error("NewFFT(0) accepted")
	}

	omega := []float64{0.1, -0.2, 0.3, 0.05, 0}
	phase0 := []float64{1, 2, 3, -1, 0.5}
	csr, err := kuramoto.NewCSR(5, []int{0, 1, 4}, []int{1, 2, 0}, []float64{0.5, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*kuramoto.CSR{nil, csr} {
		o, err := b.NewOscillators(kuramoto.Network{Omega: omega, K: 1, Coupling: c}, phase0, kuramoto.RK4)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, 5)
		if err := o.Phases(got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, phase0) {
			t.Errorf("phases %v, want %v", got, phase0)
		}
		if _, _, err := o.Step(-1); err == nil {
			t.Error("Step(-1) accepted")
		}
		if err := o.Free(); err != nil {
			t.Fatal(err)
		}
		if err := o.Phases(got); err == nil {
			t.Error("Phases after Free accepted")
		}
		if _, _, err := o.Step(0.1); err == nil {
			t.Error("Step after Free accepted")
		}
	}
	if _, err := b.NewOscillators(kuramoto.Network{Omega: omega, K: 1}, phase0[:2], kuramoto.Euler); err == nil {
		t.Error("2 phases for 5 oscillators accepted")
	}

	net := backendtest.ConformanceNetwork(3)
	ref, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	nw, err := b.NewNetwork(net, snn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	same := func(when string) {
		t.Helper()
		v := make([]float64, nw.N())
		if err := nw.Voltages(v); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v, ref.V()) {
			t.Errorf("%s: voltages differ from snn's", when)
		}
		cnt := make([]int64, nw.N())
		if err := nw.SpikeCounts(cnt); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cnt, ref.SpikeCounts()) {
			t.Errorf("%s: spike counts differ from snn's", when)
		}
		got, err := nw.(backend.NetworkSnapshotter).Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: snapshot of %d bytes differs from snn's (%d bytes)", when, len(got), len(want))
		}
		if err := nw.(backend.NetworkSnapshotter).Restore(want); err != nil {
			t.Errorf("%s: restoring snn's snapshot: %v", when, err)
		}
	}
	same("t = 0")
	dv := make([]float64, nw.N())
	v := make([]float64, nw.N())
	if err := nw.Voltages(v); err != nil {
		t.Fatal(err)
	}
	dv[7], dv[11] = -50-v[7]+1e-6, 0.25
	if err := nw.AddVoltages(dv); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{7, 11} {
		if err := ref.AddVoltage(i, dv[i]); err != nil {
			t.Fatal(err)
		}
	}
	same("after AddVoltages")
	if err := nw.(backend.NetworkSnapshotter).Restore([]byte("MECSNN")); err == nil {
		t.Error("Restore of a truncated snapshot accepted")
	}
	if err := nw.AddVoltages(make([]float64, 2)); err == nil {
		t.Error("AddVoltages of the wrong length accepted")
	}
	if err := nw.Free(); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Step(); err == nil {
		t.Error("Step after Free accepted")
	}
	if len(g.bufs) != base {
		t.Errorf("%d device buffers left after Free (%d before)", len(g.bufs), base)
	}
	for name, n := range g.launches {
		t.Errorf("%s launched %d times: the host-side test must not launch", name, n)
	}
	if len(*recs) != 0 {
		t.Errorf("%d launches (the first %s): the host-side test must not launch", len(*recs), (*recs)[0].base)
	}
}

// covers reports whether a launch is the fewest whole blocks covering
// items threads.
func (r launchRec) covers(items uint64) bool {
	return r.grid*r.block >= items && (r.grid-1)*r.block < items
}

func (r launchRec) u(i int) uint64  { return r.args[i].(uint64) }
func (r launchRec) i(i int) int32   { return r.args[i].(int32) }
func (r launchRec) r(i int) float64 { return r.args[i].(float64) }

// TestFakeEngineLaunches checks, on the emulated driver, what the engines
// launch without running the fft, kuramoto and lif kernels: the sequence
// of kernels, their geometry (MEC_WG blocks where the kernel's group
// arrays need them, the fewest whole blocks covering the items
// elsewhere) and the arguments that steer them (radices, strides,
// ping-pong buffers, scales, modes, steps, Poisson offsets).
func TestFakeEngineLaunches(t *testing.T) {
	b, _, recs := fakeEngineBackend(t, 8)
	take := func() []launchRec {
		r := *recs
		*recs = nil
		return r
	}
	names := func(rs []launchRec) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.base)
		}
		return strings.Join(s, " ")
	}
	checkStages := func(rs []launchRec, n, batch uint64, radices []int32, inverse int32, lastScale float64) {
		t.Helper()
		if len(rs) != len(radices) {
			t.Fatalf("n=%d: %d stage launches (%s), want %d", n, len(rs), names(rs), len(radices))
		}
		ns := int32(1)
		for k, r := range rs {
			total := n / uint64(radices[k]) * batch
			if r.base != kFFTStage || uint64(r.i(3)) != n || uint64(r.i(4)) != total || r.i(5) != radices[k] || r.i(6) != ns || r.i(7) != inverse || !r.covers(total) {
				t.Errorf("n=%d stage %d: %+v", n, k, r)
			}
			if k > 0 && (r.u(0) != rs[k-1].u(1) || r.u(1) != rs[k-1].u(0)) {
				t.Errorf("n=%d stage %d does not ping-pong: %+v after %+v", n, k, r, rs[k-1])
			}
			sc := 1.0
			if k == len(rs)-1 {
				sc = lastScale
			}
			if math.Abs(r.r(8)-sc) > 1e-7*sc {
				t.Errorf("n=%d stage %d scale %v, want %v", n, k, r.r(8), sc)
			}
			ns *= radices[k]
		}
	}

	// A radix plan: 12 = 4·3.
	f, err := b.NewFFT(12, 2, backend.Complex128)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Forward(); err != nil {
		t.Fatal(err)
	}
	fwd := take()
	checkStages(fwd, 12, 2, []int32{4, 3}, 0, 1)
	if err := f.Inverse(); err != nil {
		t.Fatal(err)
	}
	inv := take()
	checkStages(inv, 12, 2, []int32{4, 3}, 1, 1.0/12)
	if len(fwd) == 2 && len(inv) == 2 && inv[0].u(0) != fwd[1].u(1) {
		t.Error("the inverse does not start from the forward's output")
	}
	f.Free()

	// Bluestein: 37 is prime, m = 128 = 4·4·4·2.
	f, err = b.NewFFT(37, 3, backend.Complex64)
	if err != nil {
		t.Fatal(err)
	}
	for _, inverse := range []int32{0, 1} {
		if inverse == 1 {
			err = f.Inverse()
		} else {
			err = f.Forward()
		}
		if err != nil {
			t.Fatal(err)
		}
		rs := take()
		if len(rs) != 11 {
			t.Fatalf("Bluestein launches: %s", names(rs))
		}
		in, pw, out := rs[0], rs[5], rs[10]
		if in.base != kFFTChirpIn || in.u(3) != 37 || in.u(4) != 128 || in.u(5) != 384 || in.i(6) != inverse || !in.covers(384) {
			t.Errorf("chirp_in: %+v", in)
		}
		checkStages(rs[1:5], 128, 3, []int32{4, 4, 4, 2}, 0, 1)
		if pw.base != kFFTPointwise || pw.u(0) != rs[4].u(1) || pw.u(2) != 128 || pw.u(3) != 384 || !pw.covers(384) {
			t.Errorf("pointwise: %+v", pw)
		}
		checkStages(rs[6:10], 128, 3, []int32{4, 4, 4, 2}, 1, 1)
		scale := 1.0 / 128
		if inverse == 1 {
			scale /= 37
		}
		if out.base != kFFTChirpOut || out.u(0) != rs[9].u(1) || out.u(1) != in.u(0) || out.u(3) != 37 || out.u(4) != 128 || out.u(5) != 111 ||
			math.Abs(out.r(6)-scale) > 1e-7*scale || out.i(7) != inverse || !out.covers(111) {
			t.Errorf("chirp_out: %+v (scale want %v)", out, scale)
		}
		if rs[1].u(0) != in.u(1) {
			t.Error("the inner transform does not start from chirp_in's output")
		}
	}
	f.Free()

	// Kuramoto: 300 oscillators are 2 blocks.
	omega := make([]float64, 300)
	for _, m := range []kuramoto.Method{kuramoto.RK4, kuramoto.Euler} {
		o, err := b.NewOscillators(kuramoto.Network{Omega: omega, K: 1}, nil, m)
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 2; step++ {
			if _, _, err := o.Step(0.1); err != nil {
				t.Fatal(err)
			}
			rs := take()
			want := "ku_phasor ku_deriv ku_phasor ku_deriv ku_phasor ku_deriv ku_phasor ku_deriv ku_phasor"
			modes, hs := []int32{0, 0, 0, 2}, []float64{0.05, 0.05, 0.1, 0.1 / 6}
			if m == kuramoto.Euler {
				want, modes, hs = "ku_phasor ku_deriv ku_phasor", []int32{1}, []float64{0.1}
			}
			if step == 1 { // the last step's phasors are reused
				want = want[len("ku_phasor "):]
			}
			if got := names(rs); got != want {
				t.Fatalf("%v step %d launches %s, want %s", m, step, got, want)
			}
			k := 0
			for _, r := range rs {
				if r.grid != 2 || r.block != wg {
					t.Errorf("%s: grid %d block %d, want 2 blocks of %d", r.base, r.grid, r.block, wg)
				}
				if r.base == kKuPhasor {
					if r.i(1) != 300 {
						t.Errorf("ku_phasor n = %d", r.i(1))
					}
					continue
				}
				if r.i(5) != 2 || r.i(10) != 300 || r.i(11) != 0 || r.i(12) != modes[k] || math.Abs(r.r(13)-hs[k]) > 1e-15 {
					t.Errorf("ku_deriv %d: %+v", k, r)
				}
				k++
			}
		}
		o.Free()
	}

	// Spiking: ConformanceNetwork has 80 neurons (one block) and 30
	// Poisson sources, stepped here in lockstep with package snn's
	// generators.
	net := backendtest.ConformanceNetwork(4)
	ref, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	nw, err := b.NewNetwork(net, snn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prev := slices.Clone(ref.PoissonCounts("P"))
	poisson := func() int32 {
		ref.Step()
		var k int32
		for i, c := range ref.PoissonCounts("P") {
			if c != prev[i] {
				k++
			}
			prev[i] = c
		}
		return k
	}
	checkStep := func(rs []launchRec, step uint64, forced int32, poff int32) int32 {
		t.Helper()
		want := "lif_update lif_compact lif_deliver"
		if forced > 0 {
			want = "lif_update lif_force lif_count lif_compact lif_deliver"
		}
		if got := names(rs); got != want {
			t.Fatalf("step %d launches %s, want %s", step, got, want)
		}
		for _, r := range rs {
			switch r.base {
			case kLIFUpdate, kLIFCount, kLIFCompact:
				if r.grid != 1 || r.block != wg {
					t.Errorf("%s: grid %d block %d, want 1 block of %d", r.base, r.grid, r.block, wg)
				}
			}
		}
		up, dl := rs[0], rs[len(rs)-1]
		if up.u(14) != step || up.i(15) != 80 {
			t.Errorf("lif_update step %d n %d, want %d, 80", up.u(14), up.i(15), step)
		}
		if forced > 0 && (rs[1].i(7) != forced || rs[1].u(8) != step || !rs[1].covers(uint64(forced))) {
			t.Errorf("lif_force: %+v", rs[1])
		}
		if c := rs[len(rs)-2]; c.i(1) != 80 || c.i(3) != 1 {
			t.Errorf("lif_compact: %+v", c)
		}
		npois := poisson()
		if dl.i(10) != poff || dl.i(11) != npois || dl.u(16) != step || dl.i(17) != 80 || !dl.covers(80) {
			t.Errorf("lif_deliver at step %d: poff %d npois %d step %d (want %d, %d)", step, dl.i(10), dl.i(11), dl.u(16), poff, npois)
		}
		return npois
	}
	if _, err := nw.Step(); err != nil {
		t.Fatal(err)
	}
	checkStep(take(), 0, 0, 0)
	dv := make([]float64, 80)
	dv[3] = 100 // far past threshold
	if err := nw.AddVoltages(dv); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Step(); err != nil {
		t.Fatal(err)
	}
	checkStep(take(), 1, 1, 0)
	if err := nw.Run(5); err != nil {
		t.Fatal(err)
	}
	rs := take()
	if len(rs) != 15 {
		t.Fatalf("Run(5) launches %s", names(rs))
	}
	poff := int32(0)
	for s := 0; s < 5; s++ {
		poff += checkStep(rs[3*s:3*s+3], uint64(2+s), 0, poff)
	}
	nw.Free()
}
