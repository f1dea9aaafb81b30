package backendtest

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/kuramoto"
	"github.com/prismai/mec/engines/snn"
)

// RunSpectral is the conformance suite of the FFT capability: transforms of
// many lengths (powers of two, products of small primes, primes, 1) and
// batches against a direct DFT computed here, round trips, and bad input.
// Tolerance: max |X − DFT(x)| ≤ tol·log2(n+1)·max|DFT(x)| with tol 1e-14
// for complex128 and 2e-6 for complex64.
func RunSpectral(t *testing.T, sp backend.Spectral) {
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		t.Run(p.String(), func(t *testing.T) {
			tol := 1e-14
			if p == backend.Complex64 {
				tol = 2e-6
			}
			rng := rand.New(rand.NewPCG(21, uint64(p)))
			for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 12, 16, 31, 37, 60, 64, 97, 100, 128, 243, 256, 1000, 1024, 1031} {
				for _, batch := range []int{1, 3} {
					f, err := sp.NewFFT(n, batch, p)
					if err != nil {
						t.Fatalf("NewFFT(%d, %d): %v", n, batch, err)
					}
					var x []complex128
					for i := 0; i < n*batch; i++ {
						x = append(x, complex(rng.NormFloat64(), rng.NormFloat64()))
					}
					if err := f.Load(x); err != nil {
						t.Fatal(err)
					}
					if err := f.Forward(); err != nil {
						t.Fatal(err)
					}
					got := make([]complex128, n*batch)
					if err := f.Read(got); err != nil {
						t.Fatal(err)
					}
					for b := 0; b < batch; b++ {
						want := dft(x[b*n : (b+1)*n])
						scale := 0.0
						for _, v := range want {
							scale = max(scale, cmplx.Abs(v))
						}
						if d := MaxDiff(got[b*n:(b+1)*n], want); d > tol*math.Log2(float64(n)+1)*scale*4 {
							t.Errorf("n=%d batch %d/%d: forward differs from the DFT by %.3g (scale %.3g)", n, b, batch, d, scale)
						}
					}
					if err := f.Inverse(); err != nil {
						t.Fatal(err)
					}
					if err := f.Read(got); err != nil {
						t.Fatal(err)
					}
					if d := MaxDiff(got, x); d > tol*math.Log2(float64(n)+1)*8*math.Sqrt(float64(n)) {
						t.Errorf("n=%d batch %d: round trip differs by %.3g", n, batch, d)
					}
					if err := f.Free(); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Bad input.
			if _, err := sp.NewFFT(0, 1, p); err == nil {
				t.Error("NewFFT(0) accepted")
			}
			f, err := sp.NewFFT(8, 2, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Load(make([]complex128, 8)); err == nil {
				t.Error("Load of 8 values into an 8×2 buffer accepted")
			}
			bad := make([]complex128, 16)
			bad[3] = complex(math.NaN(), 0)
			if err := f.Load(bad); err == nil {
				t.Error("Load of NaN accepted")
			}
			if err := f.Read(make([]complex128, 3)); err == nil {
				t.Error("Read into 3 values accepted")
			}
			f.Free()
			if err := f.Forward(); err == nil {
				t.Error("Forward after Free accepted")
			}
		})
	}
	if rs, ok := sp.(backend.RealSpectral); ok {
		t.Run("real", func(t *testing.T) { RunRealSpectral(t, rs) })
	}
}

// RunRealSpectral is the conformance suite of real transforms (run by
// RunSpectral when the backend has them): the n/2+1 coefficients of real
// signals of many lengths and batches against the direct DFT, the inverse
// back to the samples, and bad input. Tolerances as RunSpectral's.
func RunRealSpectral(t *testing.T, rs backend.RealSpectral) {
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		t.Run(p.String(), func(t *testing.T) {
			tol := 1e-14
			if p == backend.Complex64 {
				tol = 2e-6
			}
			rng := rand.New(rand.NewPCG(22, uint64(p)))
			for _, n := range []int{1, 2, 3, 4, 5, 8, 12, 16, 31, 64, 100, 128, 256, 1000, 1024, 4096} {
				for _, batch := range []int{1, 3} {
					f, err := rs.NewRealFFT(n, batch, p)
					if err != nil {
						t.Fatalf("NewRealFFT(%d, %d): %v", n, batch, err)
					}
					h := n/2 + 1
					x := make([]float64, n*batch)
					for i := range x {
						x[i] = rng.NormFloat64()
					}
					if err := f.LoadReal(x); err != nil {
						t.Fatal(err)
					}
					if err := f.Forward(); err != nil {
						t.Fatal(err)
					}
					got := make([]complex128, h*batch)
					if err := f.Read(got); err != nil {
						t.Fatal(err)
					}
					for b := 0; b < batch; b++ {
						z := make([]complex128, n)
						for i := range z {
							z[i] = complex(x[b*n+i], 0)
						}
						want := dft(z)[:h]
						scale := 0.0
						for _, v := range want {
							scale = max(scale, cmplx.Abs(v))
						}
						if d := MaxDiff(got[b*h:(b+1)*h], want); d > tol*math.Log2(float64(n)+1)*scale*4 {
							t.Errorf("n=%d batch %d/%d: forward differs from the DFT by %.3g (scale %.3g)", n, b, batch, d, scale)
						}
					}
					if err := f.Inverse(); err != nil {
						t.Fatal(err)
					}
					back := make([]float64, n*batch)
					if err := f.ReadReal(back); err != nil {
						t.Fatal(err)
					}
					d := 0.0
					for i := range back {
						d = max(d, math.Abs(back[i]-x[i]))
					}
					if d > tol*math.Log2(float64(n)+1)*8*math.Sqrt(float64(n)) {
						t.Errorf("n=%d batch %d: round trip differs by %.3g", n, batch, d)
					}
					if err := f.Free(); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Bad input.
			if _, err := rs.NewRealFFT(0, 1, p); err == nil {
				t.Error("NewRealFFT(0) accepted")
			}
			f, err := rs.NewRealFFT(8, 2, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.LoadReal(make([]float64, 8)); err == nil {
				t.Error("LoadReal of 8 values into an 8×2 buffer accepted")
			}
			if err := f.LoadReal(append(make([]float64, 15), math.Inf(1))); err == nil {
				t.Error("LoadReal of +Inf accepted")
			}
			if err := f.LoadReal(append(make([]float64, 15), 1e300)); p == backend.Complex64 && err == nil {
				t.Error("LoadReal of 1e300 in complex64 accepted")
			}
			if err := f.Load(make([]complex128, 9)); err == nil {
				t.Error("Load of 9 coefficients into a 5×2 buffer accepted")
			}
			if err := f.Read(make([]complex128, 3)); err == nil {
				t.Error("Read into 3 coefficients accepted")
			}
			if err := f.ReadReal(make([]float64, 3)); err == nil {
				t.Error("ReadReal into 3 values accepted")
			}
			f.Free()
			if err := f.Forward(); err == nil {
				t.Error("Forward after Free accepted")
			}
		})
	}
}

// dft is the O(n²) definition, with twiddles from exact integer fractions.
func dft(x []complex128) []complex128 {
	n := len(x)
	out := make([]complex128, n)
	for k := 0; k < n; k++ {
		var s complex128
		for j, v := range x {
			jk := (j * k) % n
			sn, cs := math.Sincos(-2 * math.Pi * float64(jk) / float64(n))
			s += v * complex(cs, sn)
		}
		out[k] = s
	}
	return out
}

// ConformanceNetwork is the small network of RunSpiking: an excitatory and
// an inhibitory population with biased neurons, random and list
// projections with delays and two synaptic time constants, and Poisson input.
func ConformanceNetwork(seed uint64) *snn.Network {
	exc := snn.LIF{TauMMs: 20, VRestMV: -60, VThMV: -50, VResetMV: -60, TRefMs: 2, IBiasNA: 12}
	inh := exc
	inh.IBiasNA = 11
	net := &snn.Network{DtMs: 0.1, Seed: seed}
	net.AddPopulation(snn.Population{Name: "E", Size: 60, Neuron: exc, TauSynMs: 5, VInit: snn.VInit{UniformMV: []float64{-60, -50}}})
	net.AddPopulation(snn.Population{Name: "I", Size: 20, Neuron: inh, TauSynMs: 10, VInit: snn.VInit{UniformMV: []float64{-60, -50}}})
	net.AddPoisson(snn.PoissonGroup{Name: "P", Size: 30, RateHz: 200, TauSynMs: 3})
	net.Connect(snn.Projection{From: "E", To: "E", Rule: snn.RuleFixedProbability, P: 0.1, WeightMV: 0.8, DelayMs: 0.3})
	net.Connect(snn.Projection{From: "E", To: "I", Rule: snn.RuleFixedProbability, P: 0.2, WeightMV: 0.6})
	net.Connect(snn.Projection{From: "I", To: "E", Rule: snn.RuleAllToAll, WeightMV: -0.4, DelayMs: 1, Dense: true})
	pairs := make([][2]int, 30)
	w, d := make([]float64, 30), make([]float64, 30)
	for k := range pairs {
		pairs[k] = [2]int{k, 2 * k}
		w[k], d[k] = 1.5+0.05*float64(k), 0.1*float64(k%4)
	}
	net.Connect(snn.Projection{From: "P", To: "E", Rule: snn.RuleList, Pairs: pairs, WeightsMV: w, DelaysMs: d})
	return net
}

// ConformanceNetworkCOBA is ConformanceNetwork with a conductance-based
// (coba) excitatory population: three conductances (excitatory recurrent
// with a delay, inhibitory dense with a delay, Poisson list with per-pair
// conductances and delays) with reversal potentials 0 and −80 mV, beside
// the current-based inhibitory population.
func ConformanceNetworkCOBA(seed uint64) *snn.Network {
	net := ConformanceNetwork(seed)
	e := &net.Populations[0]
	e.Model = snn.ModelCOBA
	e.Neuron.RMOhm, e.Neuron.IBiasNA = 100, 0.12 // g_L = 10 nS, R·I = 12 mV
	exc, inh := 0.0, -80.0
	for k := range net.Projections {
		p := &net.Projections[k]
		if p.To != "E" {
			continue
		}
		switch p.From {
		case "E":
			p.WeightMV, p.WeightNS, p.ERevMV = 0, 4, &exc
		case "I":
			p.WeightMV, p.WeightNS, p.ERevMV = 0, 1.5, &inh
		case "P":
			p.WeightsNS = make([]float64, len(p.WeightsMV))
			for i := range p.WeightsNS {
				p.WeightsNS[i] = 20 + float64(i)
			}
			p.WeightsMV, p.ERevMV = nil, &exc
		}
	}
	return net
}

// ConformanceNetworkSTDP makes base's E→E projection (additive) and P→E
// list projection (multiplicative) plastic, without their delays
// (plastic projections have none).
func ConformanceNetworkSTDP(base *snn.Network) *snn.Network {
	for k := range base.Projections {
		p := &base.Projections[k]
		switch {
		case p.From == "E" && p.To == "E":
			p.DelayMs = 0
			p.STDP = &snn.STDP{Rule: snn.STDPAdditive, TauPlusMs: 20, TauMinusMs: 30, APlus: 0.05, AMinus: 0.06, WMax: 2}
			if p.WeightNS != 0 {
				p.STDP.WMax, p.STDP.APlus, p.STDP.AMinus = 10, 0.4, 0.5
			}
		case p.From == "P" && p.To == "E":
			p.DelaysMs = nil
			p.STDP = &snn.STDP{Rule: snn.STDPMultiplicative, TauPlusMs: 15, TauMinusMs: 25, APlus: 0.1, AMinus: 0.12, WMax: 3}
			if p.WeightsNS != nil {
				p.STDP.WMax = 60
			}
		}
	}
	return base
}

// ConformanceNetworkModels is ConformanceNetwork with an izhikevich
// excitatory population (regular spiking, V cutoff 30 mV) and an adex
// inhibitory one.
func ConformanceNetworkModels(seed uint64) *snn.Network {
	net := ConformanceNetwork(seed)
	e, i := &net.Populations[0], &net.Populations[1]
	e.Model, e.Izhikevich = snn.ModelIzhikevich, &snn.Izhikevich{A: 0.02, B: 0.2, D: 8}
	e.Neuron.VThMV, e.Neuron.VResetMV = 30, -65
	i.Model, i.AdEx = snn.ModelAdEx, &snn.AdEx{DeltaTMV: 2, VTMV: -50, ANS: 4, BNA: 0.5, TauWMs: 100}
	i.Neuron.VThMV = 0
	return net
}

// ConformanceNetworkDelta is ConformanceNetwork with delta (instantaneous)
// synapses: E's recurrent and Poisson inputs are delta synapses (with
// their delays) beside the exponential inhibitory one, so E has one delta
// and one exponential channel; I is a perfect integrator (leak "none",
// v_rest 0) driven by its bias and a delta E→I projection.
func ConformanceNetworkDelta(seed uint64) *snn.Network {
	net := ConformanceNetwork(seed)
	i := &net.Populations[1]
	i.Neuron.Leak, i.Neuron.VRestMV = snn.LeakNone, 0
	for k := range net.Projections {
		p := &net.Projections[k]
		if p.From != "I" {
			p.Synapse = snn.SynapseDelta
		}
		if p.From == "E" && p.To == "E" {
			p.WeightMV = 0.3
		}
	}
	return net
}

// ConformanceNetworkLeaks is ConformanceNetworkDelta with the other two
// leaks and a graded population: T (leak "instant", NIR's Threshold: V is
// the step's summed delta input plus R·I_bias, a spike when it reaches
// V_th), fed by E and the Poisson group and feeding I; and S (no_spikes,
// NIR's LI), a leaky integrator of E's spikes that never fires.
func ConformanceNetworkLeaks(seed uint64) *snn.Network {
	net := ConformanceNetworkDelta(seed)
	net.AddPopulation(snn.Population{Name: "T", Size: 15, Neuron: snn.LIF{Leak: snn.LeakInstant, VThMV: 2, VResetMV: -1, IBiasNA: 0.5, TRefMs: 0.2}})
	net.AddPopulation(snn.Population{Name: "S", Size: 10, Neuron: snn.LIF{TauMMs: 8, VRestMV: -2, IBiasNA: 1, NoSpikes: true}})
	d := snn.SynapseDelta
	net.Connect(snn.Projection{From: "E", To: "T", Rule: snn.RuleFixedProbability, P: 0.3, WeightMV: 0.7, Synapse: d, DelayMs: 0.2})
	net.Connect(snn.Projection{From: "P", To: "T", Rule: snn.RuleFixedProbability, P: 0.2, WeightMV: 0.9, Synapse: d})
	net.Connect(snn.Projection{From: "T", To: "I", Rule: snn.RuleAllToAll, WeightMV: 0.05, Synapse: d})
	net.Connect(snn.Projection{From: "E", To: "S", Rule: snn.RuleFixedProbability, P: 0.25, WeightMV: 0.4, Synapse: d})
	return net
}

// adexTolMV is the voltage tolerance of networks with adex neurons: their
// exponential is the device's exp, which may differ from Go's math.Exp in
// the last bits (every other operation is the same IEEE arithmetic).
const adexTolMV = 1e-6

// adexTolNA is the tolerance of adex neurons' w (nA): w follows V through
// a/1000 (4e-3 nA/mV in ConformanceNetworkModels), so V's adexTolMV
// bounds w's drift far below it; 1e-8 nA leaves a wide margin. Izhikevich
// u, whose arithmetic is the same IEEE operations on every backend, must
// be bit-identical.
const adexTolNA = 1e-8

// checkStates compares the backend's model states (u, w) with the
// oracle's: bit-identical for izhikevich neurons, within adexTolNA for
// adex ones, 0 for the other models. It fails when the network has
// izhikevich or adex neurons and the backend cannot read their state.
func checkStates(t *testing.T, net *snn.Network, got backend.Network, ref *snn.Sim, when string) {
	t.Helper()
	sr, ok := got.(backend.StateReader)
	if !ok {
		for _, p := range net.Populations {
			if p.Model == snn.ModelIzhikevich || p.Model == snn.ModelAdEx {
				t.Fatalf("%s: the backend runs %s neurons but cannot read their state u or w back (backend.StateReader)", when, p.Model)
			}
		}
		return
	}
	st, want := make([]float64, got.N()), make([]float64, ref.N())
	if err := sr.States(st); err != nil {
		t.Fatalf("%s: States: %v", when, err)
	}
	ref.States(want)
	lo := 0
	for _, p := range net.Populations {
		for i := lo; i < lo+p.Size; i++ {
			switch p.Model {
			case snn.ModelAdEx:
				if d := math.Abs(st[i] - want[i]); !(d <= adexTolNA) {
					t.Fatalf("%s: w[%d] = %v nA, oracle %v (|Δ| %g > %g)", when, i, st[i], want[i], d, adexTolNA)
				}
			default: // u of izhikevich neurons, 0 for the others
				if math.Float64bits(st[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s: state of neuron %d (model %q) = %v, oracle %v (want bit-identical)", when, i, p.Model, st[i], want[i])
				}
			}
		}
		lo += p.Size
	}
	if err := sr.States(make([]float64, 1)); err == nil {
		t.Errorf("%s: States into a short slice accepted", when)
	}
}

// RunSpiking is the conformance suite of the spiking capability. The CPU
// engine (package snn) is the oracle: the backend's network must spike in
// the same steps, neuron for neuron, and keep voltages within 1e-9 mV of
// it over 1000 steps of ConformanceNetwork and ConformanceNetworkCOBA (and
// their STDP variants, whose weights must be the oracle's), on any thread
// count; on ConformanceNetworkModels, voltages within adexTolMV and the
// model state read back (backend.StateReader, required there) at several
// steps as checkStates says. It also
// checks invariants that do not depend on the oracle: V < V_th after every
// step (the voltage cap), no neuron spiking twice within its refractory
// period, a kick to threshold spiking in the next step, bad input, and
// the weights of a fixed projection named in monitors.weights.
func RunSpiking(t *testing.T, sp backend.Spiking) {
	for k, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		net := ConformanceNetwork(seed)
		switch k {
		case 7:
			net = ConformanceNetworkDelta(seed)
		case 6:
			net = ConformanceNetworkModels(seed)
		case 2, 3:
			net = ConformanceNetworkCOBA(seed)
		case 4:
			net = ConformanceNetworkSTDP(ConformanceNetwork(seed))
		case 5:
			net = ConformanceNetworkSTDP(ConformanceNetworkCOBA(seed))
		}
		ref, err := net.Build(snn.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		got, err := sp.NewNetwork(net, snn.Options{Threads: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer got.Free()
		n := got.N()
		if n != ref.N() || got.DtMs() != ref.Dt() {
			t.Fatalf("network has %d neurons, dt %v; want %d, %v", n, got.DtMs(), ref.N(), ref.Dt())
		}
		v := make([]float64, n)
		vth := make([]float64, 0, n) // each neuron's threshold (spike cutoff)
		tol := 1e-9
		for _, p := range net.Populations {
			for range p.Size {
				vth = append(vth, p.Neuron.VThMV)
			}
			if p.Model == snn.ModelAdEx {
				tol = adexTolMV
			}
		}
		lastSpike := make([]int, n)
		for i := range lastSpike {
			lastSpike[i] = -1000
		}
		total := 0
		for step := 0; step < 1000; step++ {
			if step == 500 { // kick neuron 5 to threshold on both
				dv := make([]float64, n)
				if err := got.Voltages(v); err != nil {
					t.Fatal(err)
				}
				dv[5] = vth[5] - v[5] + 1e-6
				if err := got.AddVoltages(dv); err != nil {
					t.Fatal(err)
				}
				if err := ref.AddVoltage(5, dv[5]); err != nil {
					t.Fatal(err)
				}
			}
			spikes, err := got.Step()
			if err != nil {
				t.Fatal(err)
			}
			want := ref.Step()
			if !slices.Equal(spikes, want) {
				t.Fatalf("seed %d step %d: spikes %v, oracle %v", seed, step, spikes, want)
			}
			if step == 500 && !slices.Contains(spikes, 5) && lastSpike[5] < step-20 {
				t.Errorf("neuron 5 kicked to threshold did not spike")
			}
			for _, i := range spikes {
				if step-lastSpike[i] <= 20 { // t_ref = 2 ms = 20 steps
					t.Errorf("neuron %d spiked at steps %d and %d, inside its refractory period", i, lastSpike[i], step)
				}
				lastSpike[i] = step
			}
			total += len(spikes)
			switch step {
			case 0, 1, 250, 499, 500, 501, 999:
				checkStates(t, net, got, ref, fmt.Sprintf("seed %d step %d", seed, step))
			}
			if err := got.Voltages(v); err != nil {
				t.Fatal(err)
			}
			for i, x := range v {
				if x >= vth[i] || math.IsNaN(x) {
					t.Fatalf("step %d: V[%d] = %v at or above threshold after the step", step, i, x)
				}
				if d := math.Abs(x - ref.V()[i]); d > tol {
					t.Fatalf("seed %d step %d: V[%d] = %v, oracle %v", seed, step, i, x, ref.V()[i])
				}
			}
		}
		if total < 100 {
			t.Errorf("seed %d: only %d spikes in 100 ms: the test network is too quiet to test anything", seed, total)
		}
		counts := make([]int64, n)
		if err := got.SpikeCounts(counts); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(counts, ref.SpikeCounts()) {
			t.Errorf("spike counts differ from the oracle")
		}
		for pk, p := range net.Projections {
			if p.STDP == nil {
				continue
			}
			wr, ok := got.(backend.WeightReader)
			if !ok {
				t.Fatalf("seed %d: the backend runs plastic synapses but cannot read their weights", seed)
			}
			w, err := wr.Weights(pk)
			if err != nil {
				t.Fatal(err)
			}
			want := ref.Weights(pk)
			if !slices.Equal(w, want) {
				t.Errorf("seed %d: plastic weights of projection %d differ from the oracle", seed, pk)
			}
			if slices.Equal(want, ConformanceWeights(net, pk)) {
				t.Errorf("seed %d: the weights of projection %d did not change: STDP is not tested", seed, pk)
			}
		}
		if err := got.Run(50); err != nil {
			t.Fatal(err)
		}
		ref.Run(50)
		if err := got.Voltages(v); err != nil {
			t.Fatal(err)
		}
		if d := MaxDiffReal(v, ref.V()); d > tol {
			t.Errorf("after Run(50) voltages differ by %g", d)
		}
		checkStates(t, net, got, ref, fmt.Sprintf("seed %d after Run(50)", seed))
	}
	// Bad input.
	got, err := sp.NewNetwork(ConformanceNetwork(1), snn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := got.AddVoltages(make([]float64, 3)); err == nil {
		t.Error("AddVoltages of the wrong length accepted")
	}
	bad := make([]float64, got.N())
	bad[1] = math.Inf(1)
	if err := got.AddVoltages(bad); err == nil {
		t.Error("AddVoltages of +Inf accepted")
	}
	if err := got.Voltages(make([]float64, 1)); err == nil {
		t.Error("Voltages into a short slice accepted")
	}
	got.Free()
	if _, err := got.Step(); err == nil {
		t.Error("Step after Free accepted")
	}
	// monitors.weights on a fixed sparse projection (0: E→E): its weights
	// are read back as the oracle's, after steps too.
	fixed := ConformanceNetwork(1)
	fixed.Monitors = &snn.Monitors{Weights: []int{0}}
	fw, err := sp.NewNetwork(fixed, snn.Options{})
	if err != nil {
		t.Fatalf("monitors.weights on a fixed projection: %v", err)
	}
	wr, ok := fw.(backend.WeightReader)
	if !ok {
		t.Fatalf("the backend cannot read weights back (monitors.weights)")
	}
	if err := fw.Run(20); err != nil {
		t.Fatal(err)
	}
	switch w, err := wr.Weights(0); {
	case err != nil:
		t.Errorf("weights of fixed projection 0 (monitors.weights): %v", err)
	case len(w) == 0 || !slices.Equal(w, ConformanceWeights(fixed, 0)):
		t.Errorf("the weights of fixed projection 0 differ from the oracle's")
	}
	fw.Free()
	broken := ConformanceNetwork(1)
	broken.Populations[0].Neuron.TauMMs = -1
	if _, err := sp.NewNetwork(broken, snn.Options{}); err == nil {
		t.Error("network with τ_m < 0 accepted")
	}
}

// ConformanceWeights returns projection pk's initial weights as snn
// builds them (a fresh build of net).
func ConformanceWeights(net *snn.Network, pk int) []float64 {
	s, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		return nil
	}
	defer s.Close()
	return s.Weights(pk)
}

// MaxDiffReal returns max |a[i] − b[i]| (+Inf on a length mismatch).
func MaxDiffReal(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// RunPhase is the conformance suite of the phase capability: all-to-all
// and sparse weighted Kuramoto networks integrated by the backend agree
// with an O(N²) RK4 / Euler integration written here (phases modulo 2π and
// order parameter within 1e-9 after 300 steps), and bad input is rejected.
func RunPhase(t *testing.T, ph backend.Phase) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n, dt, steps = 40, 0.01, 300
	omega := make([]float64, n)
	phase0 := make([]float64, n)
	for i := range omega {
		omega[i] = rng.NormFloat64() * 0.5
		phase0[i] = rng.Float64() * 2 * math.Pi
	}
	// A sparse weighted coupling: each oscillator hears 5 others.
	var rows, cols []int
	var vals []float64
	w := make([][]float64, n)
	for i := range w {
		w[i] = make([]float64, n)
		for k := 0; k < 5; k++ {
			j := rng.IntN(n)
			x := rng.Float64()
			rows, cols, vals = append(rows, i), append(cols, j), append(vals, x)
			w[i][j] += x
		}
	}
	csr, err := kuramoto.NewCSR(n, rows, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	all := make([][]float64, n)
	for i := range all {
		all[i] = make([]float64, n)
		for j := range all[i] {
			all[i][j] = 1 / float64(n)
		}
	}
	for _, tc := range []struct {
		name   string
		net    kuramoto.Network
		w      [][]float64
		method kuramoto.Method
	}{
		{"all-to-all/rk4", kuramoto.Network{Omega: omega, K: 2}, all, kuramoto.RK4},
		{"all-to-all/euler", kuramoto.Network{Omega: omega, K: 2}, all, kuramoto.Euler},
		{"sparse/rk4", kuramoto.Network{Omega: omega, K: 0.7, Coupling: csr}, w, kuramoto.RK4},
	} {
		o, err := ph.NewOscillators(tc.net, phase0, tc.method)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		phi := slices.Clone(phase0)
		var r, psi float64
		for s := 0; s < steps; s++ {
			if r, psi, err = o.Step(dt); err != nil {
				t.Fatal(err)
			}
			phi = kuramotoStep(phi, omega, tc.net.K, tc.w, dt, tc.method)
		}
		got := make([]float64, n)
		if err := o.Phases(got); err != nil {
			t.Fatal(err)
		}
		d := 0.0
		for i := range got {
			d = max(d, math.Abs(math.Remainder(got[i]-phi[i], 2*math.Pi)))
		}
		if d > 1e-9 {
			t.Errorf("%s: phases differ from the O(N²) reference by %g", tc.name, d)
		}
		var re, im float64
		for _, x := range phi {
			re += math.Cos(x) / n
			im += math.Sin(x) / n
		}
		if math.Abs(r-math.Hypot(re, im)) > 1e-9 || math.Abs(math.Remainder(psi-math.Atan2(im, re), 2*math.Pi)) > 1e-7 {
			t.Errorf("%s: order parameter (%v, %v), reference (%v, %v)", tc.name, r, psi, math.Hypot(re, im), math.Atan2(im, re))
		}
		o.Free()
	}
	if _, err := ph.NewOscillators(kuramoto.Network{Omega: omega, K: 1}, phase0[:3], kuramoto.RK4); err == nil {
		t.Error("3 initial phases for 40 oscillators accepted")
	}
	if _, err := ph.NewOscillators(kuramoto.Network{Omega: []float64{1, math.NaN()}, K: 1}, nil, kuramoto.RK4); err == nil {
		t.Error("NaN frequency accepted")
	}
	o, err := ph.NewOscillators(kuramoto.Network{Omega: omega, K: 1}, nil, kuramoto.RK4)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Step(math.NaN()); err == nil {
		t.Error("Step(NaN) accepted")
	}
}

// kuramotoStep is one RK4 or Euler step of dφ_i/dt = ω_i + K Σ_j W_ij sin(φ_j − φ_i).
func kuramotoStep(phi, omega []float64, k float64, w [][]float64, dt float64, m kuramoto.Method) []float64 {
	n := len(phi)
	f := func(p []float64) []float64 {
		d := make([]float64, n)
		for i := range d {
			s := 0.0
			for j := range p {
				if w[i][j] != 0 {
					s += w[i][j] * math.Sin(p[j]-p[i])
				}
			}
			d[i] = omega[i] + k*s
		}
		return d
	}
	add := func(p, d []float64, h float64) []float64 {
		out := make([]float64, n)
		for i := range p {
			out[i] = p[i] + h*d[i]
		}
		return out
	}
	if m == kuramoto.Euler {
		return add(phi, f(phi), dt)
	}
	k1 := f(phi)
	k2 := f(add(phi, k1, dt/2))
	k3 := f(add(phi, k2, dt/2))
	k4 := f(add(phi, k3, dt))
	out := make([]float64, n)
	for i := range out {
		out[i] = phi[i] + dt/6*(k1[i]+2*k2[i]+2*k3[i]+k4[i])
	}
	return out
}
