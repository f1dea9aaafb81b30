package snn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// The scale network: 10^5 neurons, p = 0.001, 10^7 synapses expected.
const (
	scaleNeurons = 100_000
	scaleP       = 0.001
)

// outDegrees returns each neuron's number of outgoing synapses (the
// synaptic events one of its spikes causes).
func outDegrees(s *Sim) []int64 {
	lay := s.Layout()
	deg := make([]int64, s.N())
	for _, e := range lay.Edges {
		if e.FromPoisson {
			continue
		}
		lo := lay.Populations[e.From].Lo
		if e.Dense != nil {
			nt := lay.Populations[e.To].Hi - lay.Populations[e.To].Lo
			for k, w := range e.Dense {
				if w != 0 {
					deg[lo+k/nt]++
				}
			}
			continue
		}
		for src := 0; src+1 < len(e.RowPtr); src++ {
			deg[lo+src] += int64(e.RowPtr[src+1] - e.RowPtr[src])
		}
	}
	return deg
}

// synEvents returns Σ_i spikes_i·outdeg_i: the synaptic events delivered.
func synEvents(s *Sim, deg []int64) int64 {
	var ev int64
	for i, c := range s.SpikeCounts() {
		ev += c * deg[i]
	}
	return ev
}

// brianScaleResult is the JSON of testdata/brian2_scale.py.
type brianScaleResult struct {
	Synapses   int      `json:"synapses"`
	SimLoopS   float64  `json:"sim_loop_s"`
	Spikes     int      `json:"spikes"`
	SynEvents  int64    `json:"syn_events"`
	MeanRateHz float64  `json:"mean_rate_hz"`
	MeanCVISI  *float64 `json:"mean_cv_isi"`
	FracActive float64  `json:"frac_active"`
}

var (
	scaleOnce  sync.Once
	scaleBrian *brianScaleResult
	scaleErr   error
)

// runBrianScale runs testdata/brian2_scale.py (C++ standalone, the scale
// network, 1 s) once per test binary; its code generation and compilation
// take a minute or more.
func runBrianScale() (*brianScaleResult, error) {
	scaleOnce.Do(func() {
		py, err := peers.Python()
		if err != nil {
			scaleErr = err
			return
		}
		script, err := filepath.Abs(filepath.Join("testdata", "brian2_scale.py"))
		if err != nil {
			scaleErr = err
			return
		}
		cmd := exec.Command(py, script, "--target", "cpp_standalone", "--neurons", strconv.Itoa(scaleNeurons),
			"--p", strconv.FormatFloat(scaleP, 'g', -1, 64), "--duration", "1", "--seed", "1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			scaleErr = fmt.Errorf("brian2_scale.py: %w: %s", err, lastLines(stderr.String(), 5))
			return
		}
		var r brianScaleResult
		if err := json.Unmarshal(out, &r); err != nil {
			scaleErr = fmt.Errorf("brian2_scale.py output %q: %w", out, err)
			return
		}
		scaleBrian = &r
	})
	return scaleBrian, scaleErr
}

func lastLines(s string, n int) string {
	b := []byte(s)
	for i, k := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' {
			k++
			if k > n {
				return string(b[i+1:])
			}
		}
	}
	return s
}

// TestScaleMatchesBrian2 builds the 10^5-neuron, 10^7-synapse network,
// simulates 1 s and compares with Brian2 (C++ standalone) on the same
// network: the synapse count within 5 binomial standard deviations of
// p·N² (both), and the mean rate, mean CV(ISI) and fraction active within
// 10% (one seed each: with 10^5 neurons the population statistics vary
// far less between seeds than CUBA's).
func TestScaleMatchesBrian2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10^7-synapse network and runs Brian2 C++ standalone on it (minutes)")
	}
	sim, err := CUBAScaled(scaleNeurons, scaleP, 1).Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	mean := scaleP * scaleNeurons * scaleNeurons
	sd := math.Sqrt(mean * (1 - scaleP))
	if d := math.Abs(float64(sim.Synapses()) - mean); d > 5*sd {
		t.Fatalf("%d synapses, want %.0f ± %.0f", sim.Synapses(), mean, 5*sd)
	}
	mon := sim.MonitorSpikes()
	sim.Run(10000)
	st := mon.Stats(1000)
	b, err := runBrianScale()
	peertest.Require(t, err)
	if d := math.Abs(float64(b.Synapses) - mean); d > 5*sd {
		t.Errorf("brian2: %d synapses, want %.0f ± %.0f", b.Synapses, mean, 5*sd)
	}
	t.Logf("mec: %d synapses, %d spikes, rate %.3f Hz, cv %.3f, active %.3f | brian2: %d synapses, %d spikes, rate %.3f Hz, cv %.3f, active %.3f",
		sim.Synapses(), st.Spikes, st.MeanRateHz, st.MeanCVISI, st.FracActive, b.Synapses, b.Spikes, b.MeanRateHz, deref(b.MeanCVISI), b.FracActive)
	if b.MeanCVISI == nil {
		t.Fatal("brian2: no neuron fired 3 times")
	}
	for _, c := range []struct {
		name        string
		ours, their float64
	}{{"mean_rate_hz", st.MeanRateHz, b.MeanRateHz}, {"mean_cv_isi", st.MeanCVISI, *b.MeanCVISI}, {"frac_active", st.FracActive, b.FracActive}} {
		if rel := math.Abs(c.ours-c.their) / c.their; !(rel <= 0.10) {
			t.Errorf("%s: mec %.4f vs brian2 %.4f differ by %.1f%% (> 10%%)", c.name, c.ours, c.their, 100*rel)
		}
	}
}

// BenchmarkScale times 1 s of biological time of the 10^5-neuron,
// 10^7-synapse network (build excluded) and reports sim_s, synapses and
// syn_events_per_s (synaptic events delivered per second of simulation
// loop); when Brian2 runs (not with -short), also Brian2 C++ standalone's
// brian2_cpp_s and brian2_events_per_s on the same network measured in
// this run, and x_brian2_cpp = sim_s / brian2_cpp_s (below 1 is faster
// than Brian2). Without the peer no ratio is reported.
func BenchmarkScale(b *testing.B) {
	var ref *brianScaleResult
	if !testing.Short() {
		r, err := runBrianScale()
		if err != nil {
			b.Logf("no Brian2 reference: %v", err)
		}
		ref = r
	}
	var loop float64
	var events int64
	syn := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sim, err := CUBAScaled(scaleNeurons, scaleP, uint64(i+1)).Build(Options{})
		if err != nil {
			b.Fatal(err)
		}
		deg := outDegrees(sim)
		syn = sim.Synapses()
		b.StartTimer()
		t0 := time.Now()
		sim.Run(10000)
		loop += time.Since(t0).Seconds()
		b.StopTimer()
		events += synEvents(sim, deg)
		sim.Close()
		b.StartTimer()
	}
	simS := loop / float64(b.N)
	b.ReportMetric(simS, "sim_s")
	b.ReportMetric(float64(syn), "synapses")
	b.ReportMetric(float64(events)/loop, "syn_events_per_s")
	if ref != nil && ref.SimLoopS > 0 {
		b.ReportMetric(ref.SimLoopS, "brian2_cpp_s")
		b.ReportMetric(float64(ref.SynEvents)/ref.SimLoopS, "brian2_events_per_s")
		b.ReportMetric(simS/ref.SimLoopS, "x_brian2_cpp")
	}
}

// deref returns *p, or NaN for nil.
func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
