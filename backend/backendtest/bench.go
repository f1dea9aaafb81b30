package backendtest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// Loaded returns the named backend if it loaded, and skips tb with its
// reason otherwise (REQUIRE_BACKENDS in package all turns a skip of a
// required backend into a failure).
func Loaded(tb testing.TB, name string) backend.Backend {
	tb.Helper()
	for _, r := range backend.Init() {
		if r.Name == name {
			if r.Status != backend.Loaded {
				tb.Skipf("%s %s: %s", name, r.Status, r.Reason)
			}
			return r.Backend
		}
	}
	tb.Fatalf("%s driver not registered", name)
	return nil
}

// BenchmarkGates measures dense gates on k = 1..4 targets (and a diagonal
// one-qubit gate) of an n-qubit state in both precisions, the targets
// starting at qubit first, 4 apart, each gate synchronised: GB/s counts the
// state read and written once per gate.
func BenchmarkGates(b *testing.B, sv backend.StateVector, n, first int) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		for _, k := range []int{1, 2, 3, 4} {
			for _, diag := range []bool{false, true} {
				if diag && k > 1 {
					continue
				}
				name := fmt.Sprintf("%s/k=%d", p, k)
				g := circuit.Gate{Matrix: circuit.RandomUnitary(rng, 1<<k)}
				if diag {
					name += "/diag"
					g.Matrix, g.Diagonal = []complex128{1, 1i}, true
				}
				for j := 0; j < k; j++ {
					g.Targets = append(g.Targets, first+4*j)
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
