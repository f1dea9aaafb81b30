package bench

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/qsimfile"
)

// TestParseQsimOutput reads the lines qsim_base -v 3 prints, and refuses
// output without a simulation time or with a garbled amplitude.
func TestParseQsimOutput(t *testing.T) {
	out := "init time is 1.2e-06 seconds.\n" +
		"783 1-qubit, 474 2-qubit gates are fused into 255 gates\n" +
		"fuse time is 0.001 seconds.\n" +
		"simu time is 1.97341 seconds.\n" +
		"000:   0.00010311232   7.1349968e-06    1.068306e-08\n" +
		"001:   9.1423928e-05    0.0002997097   9.8184238e-08\n" +
		"010:  -0.00011130815   4.4225781e-05   1.4345424e-08\n"
	r, err := parseQsimOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seconds != 1.97341 || r.Blocks != 255 || len(r.Amplitudes) != 3 || r.Amplitudes[2] != complex(-0.00011130815, 4.4225781e-05) {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{"fuse time is 0.1 seconds.\n", "simu time is x seconds.\n", "simu time is 1 seconds.\n001: 1 2 3\n"} {
		if _, err := parseQsimOutput([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzQsimOutput: any output of a qsim binary parses into figures or
// fails with an error, never a panic; parsed figures are non-negative.
func FuzzQsimOutput(f *testing.F) {
	f.Add("783 1-qubit, 474 2-qubit gates are fused into 255 gates\nsimu time is 1.97 seconds.\n000:   0.1   7e-06    1e-08\n")
	f.Add("simu time is 0 seconds.\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseQsimOutput([]byte(out))
		if err != nil {
			return
		}
		if r.Seconds < 0 || len(r.Amplitudes) > 256 {
			t.Fatalf("parsed %+v", r)
		}
	})
}

// TestPhaseDistance: a global phase costs nothing; a changed amplitude
// shows.
func TestPhaseDistance(t *testing.T) {
	a := []complex128{0.6, 0.8i, 0}
	ph := complex(math.Cos(1.1), math.Sin(1.1))
	b := []complex128{a[0] * ph, a[1] * ph, a[2] * ph}
	if d := PhaseDistance(a, b); d > 1e-15 {
		t.Errorf("same state up to phase: distance %g", d)
	}
	b[2] = 1e-3
	if d := PhaseDistance(a, b); math.Abs(d-1e-3) > 1e-12 {
		t.Errorf("distance %g, want 1e-3", d)
	}
}

// qsimBin returns $MEC_QSIM or skips.
func qsimBin(tb testing.TB) string {
	bin := os.Getenv(QsimEnv)
	if bin == "" {
		tb.Skipf("qsim peer absent: set %s to a qsim_base binary (see the peers' README) to compare with qsim", QsimEnv)
	}
	return bin
}

// TestQsimAgrees runs the random circuit (12 qubits, written in qsim's
// format) in qsim and in mec complex128 with fusion 3 and 5: the first
// amplitudes agree to 1e-6 up to global phase (qsim computes in
// complex64). Needs $MEC_QSIM.
func TestQsimAgrees(t *testing.T) {
	bin := qsimBin(t)
	c := RandomCircuit(12, 40, 300, 3)
	file := t.TempDir() + "/random.qsim"
	fh, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := qsimfile.Write(fh, c); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	q, err := RunQsim(context.Background(), bin, file, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New(cpu.Options{})
	for _, fuse := range []int{3, 5} {
		_, amps, err := circuitRun(context.Background(), be, "cpu", "t", c, backend.Complex128, fuse, Stream{InPlaceRW: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Amplitudes) != 8 {
			t.Fatalf("qsim printed %d amplitudes", len(q.Amplitudes))
		}
		if d := PhaseDistance(amps, q.Amplitudes); d > 1e-6 {
			t.Errorf("fuse %d: distance to qsim %g > 1e-6\nmec  %v\nqsim %v", fuse, d, amps, q.Amplitudes)
		}
	}
}

// BenchmarkQsimCircuit runs $MEC_QSIM_CIRCUIT (a qsim circuit file such as
// qsim's circuits/circuit_q24; default the 24-qubit random circuit written
// in qsim's format) in mec, complex64 and complex128 at fuse 3, 4 and 5, and
// in the qsim binary $MEC_QSIM at -f 2…6 in the same run, reporting mec's
// seconds, x_qsim (over qsim's -f 3 time), x_qsim_best (over qsim's best)
// and the distance of the first amplitudes to qsim's. Both run on
// GOMAXPROCS threads.
func BenchmarkQsimCircuit(b *testing.B) {
	bin := qsimBin(b)
	be := cpu.New(cpu.Options{})
	stream := MeasureStream()
	ws := qsimWorkloads(be, be, stream, bin, os.Getenv("MEC_QSIM_CIRCUIT"), false)
	for i := 0; i < b.N; i++ {
		figs, err := ws[0].run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range figs {
			b.Logf("%s: %.3f s, %.3f x_qsim, %.3f x_qsim_best, %.0f passes, amplitudes %.2g from qsim's (%s)",
				f.Workload, f.Value, f.Ratio, f.Metrics["x_qsim_best"], f.Metrics["applied"], f.Metrics["amp_dist_qsim"], f.Ref)
			b.ReportMetric(f.Ratio, "x_qsim:"+strings.ReplaceAll(strings.TrimPrefix(f.Workload, "qsim-circuit/"), "/", ":"))
		}
	}
}

// TestRandomCircuitPrecision: the random circuit (qsim's circuit_q24
// shape, here on 18 qubits) run in complex64 at every fusion size equals
// the unfused complex128 run to 1e-5 per amplitude up to global phase,
// and fused complex128 runs equal it to 1e-6: what the issue asks of
// circuit_q24 against qsim's printed amplitudes, checked against mec's own
// complex128 (qsim by hand: TestQsimAgrees, BenchmarkQsimCircuit).
func TestRandomCircuitPrecision(t *testing.T) {
	c := RandomCircuit(18, 100, 1257, 1)
	be := cpu.New(cpu.Options{})
	state := func(p backend.Precision, fuse int) []complex128 {
		var v []complex128
		_, err := circuitTimed(context.Background(), be, "cpu", "t", c, p, fuse, Stream{InPlaceRW: 1}, func(st backend.State) error {
			v = make([]complex128, 1<<c.Qubits)
			return st.Read(v)
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ref := state(backend.Complex128, 0)
	for _, f := range []int{3, 4, 6} {
		d := PhaseDistance(state(backend.Complex64, f), ref)
		t.Logf("complex64 fuse %d: %.3g from the unfused complex128 state", f, d)
		if d > 1e-5 {
			t.Errorf("complex64 fuse %d: %.3g from the unfused complex128 state", f, d)
		}
	}
	for _, f := range []int{3, 5} {
		d := PhaseDistance(state(backend.Complex128, f), ref)
		t.Logf("complex128 fuse %d: %.3g from the unfused state", f, d)
		if d > 1e-6 {
			t.Errorf("complex128 fuse %d: %.3g from the unfused state", f, d)
		}
	}
}
