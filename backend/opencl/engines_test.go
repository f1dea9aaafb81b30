package opencl_test

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/prismai/mec/engines/snn"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/engines/kuramoto"
)

func TestPhaseConformance(t *testing.T) {
	b := openCL(t)
	ph, ok := b.(backend.Phase)
	if !ok {
		t.Fatal("opencl backend lacks the Phase capability")
	}
	backendtest.RunPhase(t, ph)
}

// BenchmarkKuramoto measures RK4 steps of all-to-all and sparse (8 per
// row) networks on the device and, as the reference on the same machine,
// on package kuramoto (the CPU backend's engine); oscillator·steps/s.
func BenchmarkKuramoto(b *testing.B) {
	be := backendtest.Loaded(b, "opencl")
	ph := be.(backend.Phase)
	for _, n := range []int{1 << 10, 1 << 16} {
		omega := kuramoto.LorentzianQuantiles(n, 0, 0.5)
		phase0 := kuramoto.RandomPhases(n, 1)
		var rows, cols []int
		var vals []float64
		for i := 0; i < n; i++ {
			for k := 1; k <= 8; k++ {
				rows, cols, vals = append(rows, i), append(cols, (i+k*k*37)%n), append(vals, 1.0/8)
			}
		}
		csr, err := kuramoto.NewCSR(n, rows, cols, vals)
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			c    *kuramoto.CSR
		}{{"all-to-all", nil}, {"sparse8", csr}} {
			b.Run("opencl/"+tc.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				o, err := ph.NewOscillators(kuramoto.Network{Omega: omega, K: 1.5, Coupling: tc.c}, phase0, kuramoto.RK4)
				if err != nil {
					b.Fatal(err)
				}
				defer o.Free()
				for b.Loop() {
					if _, _, err := o.Step(0.01); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "osc·steps/s")
			})
			b.Run("kuramoto/"+tc.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				s, err := kuramoto.New(kuramoto.Network{Omega: omega, K: 1.5, Coupling: tc.c}, phase0, kuramoto.RK4)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					s.Step(0.01)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "osc·steps/s")
			})
		}
	}
}

func TestSpikingConformance(t *testing.T) {
	b := openCL(t)
	sp, ok := b.(backend.Spiking)
	if !ok {
		t.Fatal("opencl backend lacks the Spiking capability")
	}
	backendtest.RunSpiking(t, sp)
}

// TestSpikingBitExact checks what the conformance suite's tolerance
// leaves open: voltages identical to package snn's (==, not 1e-9), and the
// whole dynamic state identical byte for byte through Snapshot, on the
// conformance network (Poisson input, delays, two channels), CUBA, its
// delta-synapse variant and the one with leak "instant" and no_spikes
// populations (NIR's Threshold and LI), each also with Euler; and
// that snapshots move between the CPU engine and this backend.
func TestSpikingBitExact(t *testing.T) {
	b := openCL(t)
	sp := b.(backend.Spiking)
	for _, tc := range []struct {
		name  string
		net   *snn.Network
		opt   snn.Options
		steps int
	}{
		{"conformance", backendtest.ConformanceNetwork(7), snn.Options{}, 600},
		{"conformance/euler", backendtest.ConformanceNetwork(8), snn.Options{Method: snn.MethodEuler}, 400},
		{"cuba", snn.CUBA(3), snn.Options{}, 300},
		{"delta", backendtest.ConformanceNetworkDelta(9), snn.Options{}, 600},
		{"delta/euler", backendtest.ConformanceNetworkDelta(10), snn.Options{Method: snn.MethodEuler}, 400},
		{"leaks", backendtest.ConformanceNetworkLeaks(11), snn.Options{}, 600},
		{"leaks/euler", backendtest.ConformanceNetworkLeaks(12), snn.Options{Method: snn.MethodEuler}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := tc.net.Build(snn.Options{Threads: 1, Method: tc.opt.Method})
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			got, err := sp.NewNetwork(tc.net, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Free()
			snapper := got.(backend.NetworkSnapshotter)
			v := make([]float64, got.N())
			sameState := func(when string) {
				t.Helper()
				a, err := snapper.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				w, err := ref.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, w) {
					t.Fatalf("%s: snapshot differs from the CPU engine's (%d vs %d bytes)", when, len(a), len(w))
				}
			}
			sameState("at t = 0")
			var mid []byte
			spikes := 0
			for s := 0; s < tc.steps; s++ {
				if s == tc.steps/2 {
					if mid, err = ref.Snapshot(); err != nil {
						t.Fatal(err)
					}
				}
				a, err := got.Step()
				if err != nil {
					t.Fatal(err)
				}
				w := ref.Step()
				if !slices.Equal(a, w) {
					t.Fatalf("step %d: spikes %v, snn %v", s, a, w)
				}
				spikes += len(a)
				if err := got.Voltages(v); err != nil {
					t.Fatal(err)
				}
				for i, x := range v {
					if x != ref.V()[i] {
						t.Fatalf("step %d: V[%d] = %v, snn %v", s, i, x, ref.V()[i])
					}
				}
			}
			sameState("after the run")
			t.Logf("%d neurons, %d steps, %d spikes: identical", got.N(), tc.steps, spikes)
			// A CPU snapshot from mid-run restored here replays the second half.
			if err := snapper.Restore(mid); err != nil {
				t.Fatal(err)
			}
			if err := ref.Restore(mid); err != nil {
				t.Fatal(err)
			}
			if err := got.Run(tc.steps - tc.steps/2); err != nil {
				t.Fatal(err)
			}
			ref.Run(tc.steps - tc.steps/2)
			sameState("after restoring the CPU's mid-run snapshot and running")
			if err := snapper.Restore([]byte("MECSNN\x00\x01 truncated")); err == nil {
				t.Error("truncated snapshot accepted")
			}
		})
	}
}

// BenchmarkSpiking runs the CUBA network (4000 LIF neurons, ~320k
// synapses) for 1000 steps (100 ms) per iteration, on the device and, as
// the reference on the same machine, on package snn (the CPU backend's
// engine, one thread).
func BenchmarkSpiking(b *testing.B) {
	be := backendtest.Loaded(b, "opencl")
	sp := be.(backend.Spiking)
	const steps = 1000
	report := func(b *testing.B, n int) {
		sec := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(n)*steps/sec, "neuron-updates/s")
		b.ReportMetric(steps/sec, "steps/s")
	}
	b.Run("opencl/cuba", func(b *testing.B) {
		net, err := sp.NewNetwork(snn.CUBA(1), snn.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer net.Free()
		for b.Loop() {
			if err := net.Run(steps); err != nil {
				b.Fatal(err)
			}
		}
		report(b, net.N())
	})
	b.Run("opencl/cuba/step", func(b *testing.B) {
		net, err := sp.NewNetwork(snn.CUBA(1), snn.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer net.Free()
		for b.Loop() {
			for s := 0; s < steps; s++ {
				if _, err := net.Step(); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, net.N())
	})
	b.Run("snn/cuba", func(b *testing.B) {
		sim, err := snn.CUBA(1).Build(snn.Options{Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer sim.Close()
		for b.Loop() {
			sim.Run(steps)
		}
		report(b, sim.N())
	})
}

// TestPhaseAgainstCPU compares larger networks than the conformance suite
// with package kuramoto step for step (phases modulo 2π and r, after 1000
// RK4 steps), several work-groups in the reductions.
func TestPhaseAgainstCPU(t *testing.T) {
	b := openCL(t)
	ph := b.(backend.Phase)
	const n, steps, dt = 5000, 1000, 0.01
	omega := kuramoto.LorentzianQuantiles(n, 1, 0.3)
	phase0 := kuramoto.RandomPhases(n, 9)
	var rows, cols []int
	var vals []float64
	for i := 0; i < n; i++ {
		for k := 1; k <= 6; k++ {
			rows, cols, vals = append(rows, i), append(cols, (i*7+k*k*131)%n), append(vals, 0.1*float64(k))
		}
	}
	csr, err := kuramoto.NewCSR(n, rows, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *kuramoto.CSR
		m    kuramoto.Method
	}{{"all-to-all/rk4", nil, kuramoto.RK4}, {"all-to-all/euler", nil, kuramoto.Euler}, {"sparse/rk4", csr, kuramoto.RK4}, {"sparse/euler", csr, kuramoto.Euler}} {
		net := kuramoto.Network{Omega: omega, K: 0.8, Coupling: tc.c}
		ref, err := kuramoto.New(net, phase0, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ph.NewOscillators(net, phase0, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		dr := 0.0
		for s := 0; s < steps; s++ {
			r, _, err := o.Step(dt)
			if err != nil {
				t.Fatal(err)
			}
			wr, _ := ref.Step(dt)
			dr = max(dr, math.Abs(r-wr))
		}
		got := make([]float64, n)
		if err := o.Phases(got); err != nil {
			t.Fatal(err)
		}
		d := 0.0
		for i, x := range ref.Phases() {
			d = max(d, math.Abs(math.Remainder(got[i]-x, 2*math.Pi)))
		}
		t.Logf("%s: n=%d, %d steps: max |Δφ| = %.2g, max |Δr| = %.2g", tc.name, n, steps, d, dr)
		if d > 1e-9 || dr > 1e-9 {
			t.Errorf("%s: differs from package kuramoto by %g (phases), %g (r)", tc.name, d, dr)
		}
		o.Free()
	}
}
