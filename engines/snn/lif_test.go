package snn

import (
	"math"
	"reflect"
	"testing"
)

// TestLIFSIMDBitIdentical runs networks with one and two synaptic channels
// per population through the AVX2 LIF kernels and through the pure-Go
// loops: spike trains and every voltage must agree bit for bit.
func TestLIFSIMDBitIdentical(t *testing.T) {
	if !setLIFSIMD(true) && !lifSIMD {
		t.Skip("AVX2 LIF kernels not in this build (purego, not amd64, or no AVX2)")
	}
	defer setLIFSIMD(true)
	nets := map[string]func() *Network{
		"cuba":  func() *Network { return CUBA(3) },
		"mixed": func() *Network { return mixed(5) },
		"delta": func() *Network { // a delta and an exponential channel
			n := mixed(5)
			p := &n.Projections[len(n.Projections)-1]
			p.Synapse, p.TauSynMs, p.WeightMV = SynapseDelta, 0, 2
			return n
		},
	}
	for name, mk := range nets {
		type run struct {
			idx  []int32
			step []int64
			v    []float64
		}
		var runs [2]run
		for k, simd := range []bool{true, false} {
			setLIFSIMD(simd)
			sim, err := mk().Build(Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			mon := sim.MonitorSpikes()
			sim.Run(1500)
			runs[k] = run{mon.Index, mon.Step, append([]float64(nil), sim.V()...)}
			sim.Close()
		}
		if len(runs[0].idx) < 100 {
			t.Fatalf("%s: only %d spikes: the comparison would be weak", name, len(runs[0].idx))
		}
		if !reflect.DeepEqual(runs[0].idx, runs[1].idx) || !reflect.DeepEqual(runs[0].step, runs[1].step) {
			t.Fatalf("%s: spike trains differ between AVX2 (%d spikes) and Go (%d)", name, len(runs[0].idx), len(runs[1].idx))
		}
		for i := range runs[0].v {
			if math.Float64bits(runs[0].v[i]) != math.Float64bits(runs[1].v[i]) {
				t.Fatalf("%s: V[%d] = %v with AVX2, %v with Go", name, i, runs[0].v[i], runs[1].v[i])
			}
		}
	}
}

// BenchmarkLIFUpdate compares the CUBA simulation loop with and without the
// AVX2 LIF kernels (100 ms of biological time per op).
func BenchmarkLIFUpdate(b *testing.B) {
	for _, simd := range []bool{true, false} {
		name := "go"
		if simd {
			name = "avx2"
		}
		b.Run(name, func(b *testing.B) {
			old := setLIFSIMD(simd)
			defer setLIFSIMD(old)
			if simd && !lifSIMD {
				b.Skip("no AVX2 kernels")
			}
			sim, err := CUBA(1).Build(Options{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer sim.Close()
			for b.Loop() {
				sim.Run(1000)
			}
			b.ReportMetric(float64(sim.N())*1000*float64(b.N)/b.Elapsed().Seconds(), "neuron-steps/s")
		})
	}
}
