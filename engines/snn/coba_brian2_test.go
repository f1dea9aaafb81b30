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
// here with MethodEuler) for 1 s on three seeds: the mean rate, mean
// CV(ISI) and fraction active averaged over the seeds must agree within
// 10%, and the synapse counts within 5 binomial standard deviations.
// Connectivity and initial voltages come from different generators, so
// only statistics can agree.
func TestCOBAMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 three times (~10 s)")
	}
	var ours, theirs [3]float64
	for _, seed := range []uint64{1, 2, 3} {
		var b brianCUBA
		runTestdataPeer(t, "brian2_coba.py", &b, "--seed", strconv.FormatUint(seed, 10))
		net, err := LoadFile(filepath.Join("testdata", "coba.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		net.Seed = seed
		sim, err := net.Build(Options{Method: MethodEuler})
		if err != nil {
			t.Fatal(err)
		}
		mon := sim.MonitorSpikes()
		sim.Run(10000)
		sim.Close()
		st := mon.Stats(1000)
		mean := 0.02 * 4000 * 4000
		if d := math.Abs(float64(sim.Synapses()) - mean); d > 5*math.Sqrt(mean) {
			t.Errorf("seed %d: %d synapses, want %.0f ± %.0f", seed, sim.Synapses(), mean, 5*math.Sqrt(mean))
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
