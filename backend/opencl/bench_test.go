package opencl_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/circuit"
)

// BenchmarkGate measures dense gates on k targets of a 22-qubit state
// (GB/s: the state read and written once per gate).
func BenchmarkGate(b *testing.B) {
	be := openCLB(b)
	sv := be.(backend.StateVector)
	const n = 22
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		for _, k := range []int{1, 2, 3, 4} {
			for _, diag := range []bool{false, true} {
				if diag && k > 1 {
					continue
				}
				name := fmt.Sprintf("%s/k=%d", p, k)
				g := circuit.Gate{Matrix: backendtest.RandomUnitary(rng, 1<<k)}
				if diag {
					name += "/diag"
					g.Matrix, g.Diagonal = []complex128{1, 1i}, true
				}
				for j := 0; j < k; j++ {
					g.Targets = append(g.Targets, 6+4*j)
				}
				b.Run(name, func(b *testing.B) {
					st, err := sv.NewState(n, p)
					if err != nil {
						b.Fatal(err)
					}
					defer st.Free()
					for b.Loop() {
						if err := st.Apply(&g); err != nil {
							b.Fatal(err)
						}
						if err := backend.Sync(st); err != nil {
							b.Fatal(err)
						}
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(2*float64(p.AmpBytes())*float64(int64(1)<<n)/sec/1e9, "GB/s")
					b.ReportMetric(sec*1e9/float64(int64(1)<<n), "ns/amp")
				})
			}
		}
	}
}

func openCLB(b *testing.B) backend.Backend {
	for _, r := range backend.Init() {
		if r.Name == "opencl" {
			if r.Status != backend.Loaded {
				b.Skipf("opencl %s: %s", r.Status, r.Reason)
			}
			return r.Backend
		}
	}
	b.Fatal("opencl driver not registered")
	return nil
}
