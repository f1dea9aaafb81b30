package snn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// runTestdataPeer runs the Brian2 script testdata/NAME with args and
// decodes its JSON into out; a missing Brian2 skips (fails in CI).
func runTestdataPeer(tb testing.TB, name string, out any, args ...string) {
	tb.Helper()
	py, err := peers.Python()
	peertest.Require(tb, err)
	script, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := exec.Command(py, "-c", "import brian2").Run(); err != nil {
		peertest.Require(tb, fmt.Errorf("brian2 is not importable by %s (install python3-brian): %v", py, err))
	}
	cmd := exec.Command(py, append([]string{script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v: %s", name, err, lastLines(stderr.String(), 5))
	}
	if err := json.Unmarshal(b, out); err != nil {
		tb.Fatalf("%s output %q: %v", name, b, err)
	}
}

// TestCOBAMatchesBrian2 runs testdata/coba.yaml (the COBA benchmark) and
// its Brian2 twin testdata/brian2_coba.py (numpy target, forward Euler as
// here with MethodEuler) through matchBrian2.
func TestCOBAMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 three times (~10 s)")
	}
	matchBrian2(t, "coba.yaml", "brian2_coba.py")
}

// matchBrian2 runs the network file testdata/netFile with MethodEuler and
// its Brian2 twin testdata/script (numpy target) for 1 s on seeds 1, 2
// and 3: the mean rate, mean CV(ISI) and fraction active averaged over the
// seeds must agree within 10%, and each seed's synapse counts within 5
// standard deviations of the difference of two independent binomial
// counts (√(n_mec + n_brian2)). Connectivity, initial state and Poisson
// inputs come from different generators, so only statistics can agree.
func matchBrian2(t *testing.T, netFile, script string) {
	t.Helper()
	var ours, theirs [3]float64
	for _, seed := range []uint64{1, 2, 3} {
		var b brianCUBA
		runTestdataPeer(t, script, &b, "--seed", strconv.FormatUint(seed, 10))
		net, err := LoadFile(filepath.Join("testdata", netFile))
		if err != nil {
			t.Fatal(err)
		}
		net.Seed = seed
		sim, err := net.Build(Options{Method: MethodEuler})
		if err != nil {
			t.Fatal(err)
		}
		mon := sim.MonitorSpikes()
		sim.Run(int(math.Round(1000 / net.dt())))
		sim.Close()
		st := mon.Stats(1000)
		n := float64(sim.Synapses())
		if d, sd := math.Abs(n-float64(b.Synapses)), math.Sqrt(n+float64(b.Synapses)); d > 5*sd {
			t.Errorf("seed %d: %d synapses, brian2 %d (more than 5 × %.0f apart)", seed, sim.Synapses(), b.Synapses, sd)
		}
		t.Logf("seed %d: brian2 rate %.3f Hz cv %.3f active %.3f synapses %d | mec rate %.3f Hz cv %.3f active %.3f synapses %d",
			seed, b.MeanRateHz, b.MeanCVISI, b.FracActive, b.Synapses, st.MeanRateHz, st.MeanCVISI, st.FracActive, sim.Synapses())
		for k, x := range []float64{b.MeanRateHz, b.MeanCVISI, b.FracActive} {
			theirs[k] += x / 3
		}
		for k, x := range []float64{st.MeanRateHz, st.MeanCVISI, st.FracActive} {
			ours[k] += x / 3
		}
	}
	for k, name := range []string{"mean_rate_hz", "mean_cv_isi", "frac_active"} {
		rel := math.Abs(ours[k]-theirs[k]) / theirs[k]
		t.Logf("%s: mec %.4f, brian2 %.4f, rel diff %.3f", name, ours[k], theirs[k], rel)
		if !(rel <= 0.10) {
			t.Errorf("%s: mec %.4f vs brian2 %.4f differ by %.1f%% (> 10%%)", name, ours[k], theirs[k], 100*rel)
		}
	}
}

// TestIzhikevichMatchesBrian2 runs testdata/izhikevich.yaml (800
// regular-spiking and 200 fast-spiking Izhikevich neurons, sparse
// recurrent synapses, Poisson drive) and its Brian2 twin
// testdata/brian2_izhikevich.py (forward Euler for every variable, as
// mec) through matchBrian2.
func TestIzhikevichMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 three times (~10 s)")
	}
	matchBrian2(t, "izhikevich.yaml", "brian2_izhikevich.py")
}

// TestAdExMatchesBrian2 runs testdata/adex.yaml (800 adapting and 200
// tonic AdEx neurons with Brette & Gerstner's parameters, sparse recurrent
// synapses, Poisson drive) and its Brian2 twin testdata/brian2_adex.py
// (forward Euler for every variable, as mec) through matchBrian2.
func TestAdExMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 three times (~10 s)")
	}
	matchBrian2(t, "adex.yaml", "brian2_adex.py")
}

// BenchmarkCOBA times 1 s of the COBA benchmark (testdata/coba.yaml,
// forward Euler, build excluded) and reports sim_s and, when Brian2 runs
// (not with -short), brian2_cpp_s (C++ standalone's loop on its twin
// network in this run) and x_brian2_cpp = sim_s / brian2_cpp_s (below 1
// is faster than Brian2).
func BenchmarkCOBA(b *testing.B) {
	var ref brianCUBA
	if !testing.Short() {
		runTestdataPeer(b, "brian2_coba.py", &ref, "--target", "cpp_standalone")
	}
	net, err := LoadFile(filepath.Join("testdata", "coba.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	benchLoop(b, net, 10000, ref.SimLoopS)
}

// BenchmarkIzhikevich times 1 s of testdata/izhikevich.yaml as
// BenchmarkCOBA does, against its Brian2 twin in C++ standalone.
func BenchmarkIzhikevich(b *testing.B) { benchTwin(b, "izhikevich.yaml", "brian2_izhikevich.py") }

// BenchmarkAdEx times 1 s of testdata/adex.yaml as BenchmarkCOBA does,
// against its Brian2 twin in C++ standalone.
func BenchmarkAdEx(b *testing.B) { benchTwin(b, "adex.yaml", "brian2_adex.py") }

// benchTwin times 1 s of the network file testdata/netFile (forward
// Euler) and, unless -short, runs its Brian2 twin testdata/script in C++
// standalone in this run for the ratio.
func benchTwin(b *testing.B, netFile, script string) {
	var ref brianCUBA
	if !testing.Short() {
		runTestdataPeer(b, script, &ref, "--target", "cpp_standalone")
	}
	net, err := LoadFile(filepath.Join("testdata", netFile))
	if err != nil {
		b.Fatal(err)
	}
	benchLoop(b, net, int(math.Round(1000/net.dt())), ref.SimLoopS)
}

// BenchmarkSTDP times the Song–Miller–Abbott network (testdata/stdp_sma.yaml,
// 100 s, forward Euler) as BenchmarkCOBA does, against Brian2's STDP
// example in C++ standalone.
func BenchmarkSTDP(b *testing.B) {
	var ref struct {
		SimLoopS *float64 `json:"sim_loop_s"`
	}
	if !testing.Short() {
		runTestdataPeer(b, "brian2_stdp.py", &ref)
	}
	net, err := LoadFile(filepath.Join("testdata", "stdp_sma.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	benchLoop(b, net, 1_000_000, ref.SimLoopS)
}

// benchLoop times steps steps of net (built with MethodEuler outside the
// timer) and reports sim_s, with the ratio to ref when it is known.
func benchLoop(b *testing.B, net *Network, steps int, ref *float64) {
	var loop float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sim, err := net.Build(Options{Method: MethodEuler})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		sim.Run(steps)
		loop += time.Since(t0).Seconds()
		b.StopTimer()
		sim.Close()
		b.StartTimer()
	}
	simS := loop / float64(b.N)
	b.ReportMetric(simS, "sim_s")
	if ref != nil && *ref > 0 {
		b.ReportMetric(*ref, "brian2_cpp_s")
		b.ReportMetric(simS / *ref, "x_brian2_cpp")
	}
}
