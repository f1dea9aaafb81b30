package opencl_test

import (
	"strconv"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/kuramoto"
)

func TestPhaseConformance(t *testing.T) {
	b := openCL(t)
	ph, ok := b.(backend.Phase)
	if !ok {
		t.Fatal("opencl backend lacks the Phase capability")
	}
	backendtest.RunPhase(t, ph)
}

// BenchmarkKuramoto measures RK4 steps of all-to-all and sparse networks
// (oscillator·steps/s).
func BenchmarkKuramoto(b *testing.B) {
	be := openCLB(b)
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
			b.Run(tc.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
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
