package snn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// brianCUBA is the JSON printed by brian2_cuba.py.
type brianCUBA struct {
	Synapses   int      `json:"synapses"`
	SimLoopS   *float64 `json:"sim_loop_s"`
	Spikes     int      `json:"spikes"`
	MeanRateHz float64  `json:"mean_rate_hz"`
	MeanCVISI  float64  `json:"mean_cv_isi"`
	FracActive float64  `json:"frac_active"`
}

var (
	brianMu    sync.Mutex
	brianCache = map[string]*brianCUBA{}
)

// runBrian runs the Brian2 peer once per (target, duration, seed) per test
// binary run.
func runBrian(tb testing.TB, target string, durationS float64, seed uint64) *brianCUBA {
	tb.Helper()
	key := fmt.Sprint(target, durationS, seed)
	brianMu.Lock()
	defer brianMu.Unlock()
	if r, ok := brianCache[key]; ok {
		return r
	}
	script, err := peers.Script("brian2_cuba.py")
	peertest.Require(tb, err)
	py, err := peers.Python()
	peertest.Require(tb, err)
	cmd := exec.Command(py, script, "--target", target, "--duration", strconv.FormatFloat(durationS, 'g', -1, 64),
		"--seed", strconv.FormatUint(seed, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		peertest.Require(tb, fmt.Errorf("brian2_cuba.py --target %s: %w: %s", target, err, stderr.String()))
	}
	var r brianCUBA
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("brian2_cuba.py output %q: %v", out, err)
	}
	brianCache[key] = &r
	return &r
}

// TestCUBAMatchesBrian2 compares the CUBA statistics with Brian2's (numpy
// target, same 1 s duration) averaged over three seeds: mean rate, mean
// CV(ISI) and fraction active must agree within 10%. Connectivity and initial
// voltages are random and drawn by different generators, so individual spike
// trains cannot match; only the statistics can.
func TestCUBAMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 three times (~20 s)")
	}
	seeds := []uint64{1, 2, 3}
	var ours, theirs [3]float64 // rate, cv, frac
	for _, s := range seeds {
		b := runBrian(t, "numpy", 1, s)
		r, err := RunCUBA(1, s, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: brian2 rate %.3f Hz cv %.3f active %.3f synapses %d | mec rate %.3f Hz cv %.3f active %.3f synapses %d",
			s, b.MeanRateHz, b.MeanCVISI, b.FracActive, b.Synapses, r.MeanRateHz, *r.MeanCVISI, r.FracActive, r.Synapses)
		theirs[0] += b.MeanRateHz / 3
		theirs[1] += b.MeanCVISI / 3
		theirs[2] += b.FracActive / 3
		ours[0] += r.MeanRateHz / 3
		ours[1] += *r.MeanCVISI / 3
		ours[2] += r.FracActive / 3
	}
	for k, name := range []string{"mean_rate_hz", "mean_cv_isi", "frac_active"} {
		rel := math.Abs(ours[k]-theirs[k]) / theirs[k]
		t.Logf("%s: mec %.4f, brian2 %.4f, rel diff %.3f", name, ours[k], theirs[k], rel)
		if rel > 0.10 {
			t.Errorf("%s: mec %.4f vs brian2 %.4f differ by %.1f%% (> 10%%)", name, ours[k], theirs[k], 100*rel)
		}
	}
}

var (
	cppOnce sync.Once
	cppLoop float64
)

// brianCPPLoop measures Brian2 C++ standalone's simulation loop (once per
// run; its build takes ~45 s). It returns 0 when the peer is unavailable or
// -short is set.
func brianCPPLoop(b *testing.B) float64 {
	cppOnce.Do(func() {
		if testing.Short() {
			return
		}
		script, err := peers.Script("brian2_cuba.py")
		if err != nil {
			return
		}
		py, err := peers.Python()
		if err != nil {
			return
		}
		out, err := exec.Command(py, script, "--target", "cpp_standalone", "--duration", "1", "--seed", "1").Output()
		if err != nil {
			b.Logf("brian2 cpp_standalone failed (%v): no ratio to Brian2 is reported", err)
			return
		}
		var r brianCUBA
		if json.Unmarshal(out, &r) == nil && r.SimLoopS != nil {
			cppLoop = *r.SimLoopS
		}
	})
	return cppLoop
}

// BenchmarkCUBA times the simulation loop of 1 s of biological time of the
// CUBA network (build excluded, as in Brian2's sim_loop_s) and reports
// sim_s (seconds per biological second) and the ratio to Brian2 C++
// standalone measured in this run, x_brian2_cpp (none when that peer
// cannot run or with -short: a time from another run is no reference).
// Below 1 is faster than Brian2.
func BenchmarkCUBA(b *testing.B) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", th), func(b *testing.B) {
			ref := brianCPPLoop(b)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				sim, err := CUBA(uint64(i + 1)).Build(Options{Threads: th})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				sim.Run(10000)
				total += time.Since(t0)
				b.StopTimer()
				sim.Close()
				b.StartTimer()
			}
			simS := total.Seconds() / float64(b.N)
			b.ReportMetric(simS, "sim_s")
			if ref > 0 {
				b.ReportMetric(ref, "brian2_cpp_s")
				b.ReportMetric(simS/ref, "x_brian2_cpp")
			}
		})
	}
}
