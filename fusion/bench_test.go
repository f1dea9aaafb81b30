package fusion_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prismai/mec/fusion"
)

// BenchmarkFusionStep reports fusion steps per second of the default
// scenario (64 neurons, 10 network steps per fusion step) at 16, 20 and 24
// qubits on the CPU backend.
func BenchmarkFusionStep(b *testing.B) {
	for _, n := range []int{16, 20, 24} {
		b.Run(fmt.Sprintf("backend=cpu/qubits=%d", n), func(b *testing.B) {
			cfg := fusion.DefaultConfig()
			cfg.Qubits = n
			cfg.Hamiltonian = fusion.DefaultHamiltonian(n)
			cfg.Limits.Resonance, cfg.Limits.VCapMV = 10, 1e9 // measure speed, not limits
			cfg.Learning = fusion.Learning{}                  // learning runs on at most MaxLearningQubits
			sys, err := fusion.New(cfg, engines())
			if err != nil {
				b.Fatal(err)
			}
			defer sys.Close()
			if _, _, err := sys.Step(context.Background()); err != nil { // warm-up
				b.Fatal(err)
			}
			sys.ResetCosts()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := sys.Step(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
			for _, p := range sys.Costs().Phases {
				b.ReportMetric(p.Seconds*1e3/float64(b.N), "ms/"+p.Phase)
			}
		})
	}
}
