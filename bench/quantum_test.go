package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

func TestRandomCircuitShape(t *testing.T) {
	c := RandomCircuit(24, 100, 1257, 1)
	if got := c.GateCount(); got != 1257 {
		t.Fatalf("random circuit has %d gates, want 1257", got)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGate1Q applies one 1-qubit gate to a 24-qubit complex128 state on
// every target qubit and reports bandwidth against the in-place stream
// bandwidth measured in the same run.
func BenchmarkGate1Q(b *testing.B) {
	const n = 24
	be := cpu.New(cpu.Options{})
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		st, err := be.NewState(n, p)
		if err != nil {
			b.Fatal(err)
		}
		stream := MeasureStream()
		g := circuit.Gate{Matrix: circuit.RandomUnitary(rand.New(rand.NewPCG(1, 2)), 2)}
		bytes := 2 * float64(p.AmpBytes()) * float64(int64(1)<<n)
		for q := 0; q < n; q++ {
			g.Targets = []int{q}
			b.Run(fmt.Sprintf("backend=cpu/prec=%s/qubits=%d/target=%d", p, n, q), func(b *testing.B) {
				b.SetBytes(int64(bytes))
				for i := 0; i < b.N; i++ {
					if err := st.Apply(&g); err != nil {
						b.Fatal(err)
					}
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				gbs := bytes / sec / 1e9
				b.ReportMetric(sec*1e3, "ms/gate")
				b.ReportMetric(gbs, "GB/s")
				b.ReportMetric(gbs/stream.InPlaceRW, "x_stream")
				b.ReportMetric(sec*1e9/float64(int64(1)<<n), "ns/amp")
			})
		}
		st.Free()
	}
}

// BenchmarkRandomCircuit runs the 24-qubit depth-100 random circuit (1257
// gates) with and without fusion, reporting seconds per circuit, gates/s and
// the ratio to qsim's 3.2 s.
func BenchmarkRandomCircuit(b *testing.B) {
	c := RandomCircuit(24, 100, 1257, 1)
	be := cpu.New(cpu.Options{})
	for _, p := range []backend.Precision{backend.Complex64, backend.Complex128} {
		for _, f := range []int{0, 2, 3, 4, 5} {
			b.Run(fmt.Sprintf("backend=cpu/prec=%s/fuse=%d", p, f), func(b *testing.B) {
				s := sim.NewWith(be, sim.Options{Precision: p, Fuse: f})
				var applied int
				start := time.Now()
				for i := 0; i < b.N; i++ {
					res, err := s.Run(context.Background(), c)
					if err != nil {
						b.Fatal(err)
					}
					applied = res.Applied
					res.State.Free()
				}
				sec := time.Since(start).Seconds() / float64(b.N)
				b.ReportMetric(sec, "s/circuit")
				b.ReportMetric(float64(c.GateCount())/sec, "gates/s")
				b.ReportMetric(float64(applied), "applied")
				b.ReportMetric(sec/qsimSeconds, "x_qsim")
			})
		}
	}
}
