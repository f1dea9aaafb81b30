package bench

import (
	"context"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
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

// BenchmarkGate1Q applies one 1-qubit gate to a 24-qubit complex128 and
// complex64 state (touched once before timing) on every target qubit and
// reports bandwidth against the in-place stream bandwidth measured in the
// same run.
func BenchmarkGate1Q(b *testing.B) {
	const n = 24
	be := cpu.New(cpu.Options{})
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		st, err := be.NewState(n, p)
		if err != nil {
			b.Fatal(err)
		}
		stream := MeasureStream()
		g := circuit.Gate{Matrix: circuit.RandomUnitary(rand.New(rand.NewPCG(1, 2)), 2), Targets: []int{0}}
		// One pass before timing touches every page of the new state: with
		// -benchtime 1x the first target would otherwise be charged for
		// faulting in 2^n amplitudes (it read 0.02 of the stream bandwidth).
		if err := st.Apply(&g); err != nil {
			b.Fatal(err)
		}
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
// the ratio of the bandwidth bound of the applied passes (stream measured
// in the same run) to the time.
func BenchmarkRandomCircuit(b *testing.B) {
	c := RandomCircuit(24, 100, 1257, 1)
	be := cpu.New(cpu.Options{})
	stream := MeasureStream()
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
				bound := float64(applied) * 2 * float64(p.AmpBytes()) * float64(int64(1)<<c.Qubits) / (stream.InPlaceRW * 1e9)
				b.ReportMetric(bound/sec, "x_stream")
			})
		}
	}
}

// BenchmarkShots runs a circuit with mid-circuit resets and measurements
// for 1 and for 1000 shots side by side (sim.Simulator.Shots) and
// reports, for each, seconds, the passes over the state (applied gates
// read and write it; probability, sample and inner-product passes read
// it; copies read one and write another) and x_stream: the bandwidth
// bound of those passes (stream measured in the same run) over the time.
// The 1000-shot run also reports x_one_shot, its time over the 1-shot
// time of the same run. The circuit is $MEC_BENCH_QASM (for example
// QASMBench's medium/bwt_n21/bwt_n21.qasm) or a 20-qubit circuit of the
// same shape (simtest.AncillaCircuit: known and certain resets).
func BenchmarkShots(b *testing.B) {
	c, label := benchShotsCircuit(b)
	be := cpu.New(cpu.Options{})
	const p = backend.Complex128
	stream := MeasureStreamBytes(int64(p.AmpBytes()) << c.Qubits)
	one := 0.0
	for _, shots := range []int{1, 1000} {
		b.Run(fmt.Sprintf("backend=cpu/circuit=%s/shots=%d", label, shots), func(b *testing.B) {
			s := sim.NewWith(be, sim.Options{Precision: p, Fuse: sim.DefaultFuse, Seed: 1})
			var st sim.Stats
			start := time.Now()
			for i := 0; i < b.N; i++ {
				r, err := s.Shots(context.Background(), c, shots)
				if err != nil {
					b.Fatal(err)
				}
				st = r.Stats
			}
			sec := time.Since(start).Seconds() / float64(b.N)
			passes := 2*st.Applied + st.Reads + 2*st.Copies // one read or one write of the state each
			bound := float64(passes) * float64(p.AmpBytes()) * float64(int64(1)<<c.Qubits) / (stream.InPlaceRW * 1e9)
			b.ReportMetric(sec, "s/run")
			b.ReportMetric(float64(st.Applied), "applied")
			b.ReportMetric(float64(st.Splits), "splits")
			b.ReportMetric(bound/sec, "x_stream")
			if shots == 1 {
				one = sec
			} else if one > 0 {
				b.ReportMetric(sec/one, "x_one_shot")
			}
		})
	}
}

// benchShotsCircuit is BenchmarkShots' circuit and its label.
func benchShotsCircuit(b *testing.B) (*circuit.Circuit, string) {
	if path := os.Getenv("MEC_BENCH_QASM"); path != "" {
		c, err := qasm.ParseFileContext(context.Background(), path, qasm.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return c, strings.TrimSuffix(filepath.Base(path), ".qasm")
	}
	c, _, _ := simtest.AncillaCircuit(17, 400)
	return c, "ancillas20"
}

// gateBenchState returns a 21-qubit complex128 CPU state for the
// single-gate benchmarks (freed when b ends) and the time of one full
// read+write pass over it at the stream bandwidth measured now over a
// buffer of its size.
func gateBenchState(b *testing.B) (backend.State, float64) {
	const n = 21
	st, err := cpu.New(cpu.Options{}).NewState(n, backend.Complex128)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Free() })
	bytes := int64(backend.Complex128.AmpBytes()) << n
	stream := MeasureStreamBytes(bytes)
	return st, 2 * float64(bytes) / (stream.InPlaceRW * 1e9)
}

// timeGate applies g b.N times and reports ms/gate and x_stream, pass
// (one full read+write pass at the stream bandwidth) over the gate's time.
func timeGate(b *testing.B, st backend.State, g *circuit.Gate, pass float64) {
	for i := 0; i < b.N; i++ {
		if err := st.Apply(g); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e3, "ms/gate")
	b.ReportMetric(pass/sec, "x_stream")
}

// BenchmarkControlledX applies a (doubly) controlled X to a 21-qubit
// complex128 state with the controls on the lowest qubits, in the middle
// and on the highest, and reports x_stream: the time of one full
// read+write pass at the stream bandwidth measured in the same run (over
// a buffer of the state's size) over the gate's time (the gate touches a
// quarter to a half of the state, so it can exceed 1).
func BenchmarkControlledX(b *testing.B) {
	st, pass := gateBenchState(b)
	x := []complex128{0, 1, 1, 0}
	for q := range 2 { // touch every page before timing
		if err := st.Apply(&circuit.Gate{Targets: []int{q}, Matrix: x}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name     string
		target   int
		controls []int
	}{
		{"t10-c0", 10, []int{0}}, {"t10-c3", 10, []int{3}}, {"t10-c2,3", 10, []int{2, 3}}, {"t1-c0,2", 1, []int{0, 2}},
		{"t10-c5", 10, []int{5}}, {"t0-c8,9", 0, []int{8, 9}}, {"t19-c20,1", 19, []int{20, 1}}, {"t10-c15,16", 10, []int{15, 16}},
	} {
		g := circuit.Gate{Targets: []int{c.target}, Controls: c.controls, Matrix: x}
		b.Run("backend=cpu/gate=cx-"+c.name, func(b *testing.B) { timeGate(b, st, &g, pass) })
	}
}

// BenchmarkMonomial applies a 3-target monomial gate (a permutation of
// the basis states with phases, as fusing X, CX, CCX and T gives) to a
// 21-qubit complex128 state with the targets low, in the middle, high and
// spread, beside a dense 3-target gate on the same qubits (the kernel a
// monomial gate went through before), and reports x_stream: one full
// read+write pass at the stream bandwidth measured in the same run (over
// a buffer of the state's size) over the gate's time.
func BenchmarkMonomial(b *testing.B) {
	st, pass := gateBenchState(b)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kind := range []string{"permutation", "phases", "dense"} {
		m := make([]complex128, 64)
		for r, c := range rng.Perm(8) {
			m[r*8+c] = 1
			if kind == "phases" {
				m[r*8+c] = cmplx.Exp(complex(0, rng.Float64()*2*math.Pi))
			}
		}
		if kind == "dense" { // the dense kernel a monomial gate would otherwise go through
			m = circuit.RandomUnitary(rng, 8)
		}
		for _, ts := range [][]int{{0, 1, 2}, {8, 9, 10}, {18, 19, 20}, {0, 10, 20}} {
			g := circuit.Gate{Targets: ts, Matrix: m}
			b.Run(fmt.Sprintf("backend=cpu/matrix=%s/targets=%d,%d,%d", kind, ts[0], ts[1], ts[2]), func(b *testing.B) { timeGate(b, st, &g, pass) })
		}
	}
}
