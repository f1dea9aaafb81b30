package cli

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/devices/lava"
	"github.com/prismai/mec/engines/snn"
)

// snnRun is what runSNN needs besides the network.
type snnRun struct {
	durationS float64
	opt       snn.Options
	backend   string    // --backend ("" : $MEC_BACKEND, else automatic)
	progress  io.Writer // a terminal for a progress bar, or nil (quiet)
}

// snnResult is a run's outcome: the report's summary, the recorder (for
// the spikes file and the plot) and its summary.
type snnResult struct {
	summary snn.CUBAResult
	auto    bool
	rec     *snn.Recorder
	sum     *snn.Recording
	weights []weightReport
}

// weightReport is a projection's weights at the end of a run
// (monitors.weights).
type weightReport struct {
	Projection int    `json:"projection"`
	From       string `json:"from"`
	To         string `json:"to"`
	// Values are the weights in the file's unit (mV or nS), in the order
	// of the projection's synapses.
	Values []float64 `json:"values"`
	// WMax is the stdp bound (absent for fixed weights).
	WMax *float64 `json:"w_max,omitempty"`
	// Hist counts the weights in 10 equal bins over [0, w_max] (stdp) or
	// [min, max].
	Hist []int `json:"hist"`
	// FracLow and FracHigh are the fractions of weights below 0.1·w_max
	// and above 0.9·w_max (stdp only).
	FracLow  *float64 `json:"frac_low,omitempty"`
	FracHigh *float64 `json:"frac_high,omitempty"`
}

// readWeights reports the weights of the projections of monitors.weights.
func readWeights(net *snn.Network, nw backend.Network, name string) ([]weightReport, error) {
	if net.Monitors == nil || len(net.Monitors.Weights) == 0 {
		return nil, nil
	}
	wr, ok := nw.(backend.WeightReader)
	if !ok {
		return nil, fmt.Errorf("backend %s cannot read synaptic weights back (monitors.weights)", name)
	}
	var out []weightReport
	for _, k := range net.Monitors.Weights {
		w, err := wr.Weights(k)
		if err != nil {
			return nil, fmt.Errorf("backend %s: monitors.weights: %w", name, err)
		}
		p := net.Projections[k]
		r := weightReport{Projection: k, From: p.From, To: p.To, Values: w}
		if p.STDP != nil {
			wm := p.STDP.WMax
			r.WMax = &wm
			r.Hist = snn.WeightHistogram(w, 0, wm, 10)
			lo, hi := 0, 0
			for _, x := range w {
				if x < 0.1*wm {
					lo++
				}
				if x > 0.9*wm {
					hi++
				}
			}
			fl, fh := float64(lo)/float64(max(len(w), 1)), float64(hi)/float64(max(len(w), 1))
			r.FracLow, r.FracHigh = &fl, &fh
		} else if len(w) > 0 {
			r.Hist = snn.WeightHistogram(w, slices.Min(w), slices.Max(w), 10)
		}
		out = append(out, r)
	}
	return out, nil
}

// selectSpiking returns the backend that runs spiking networks: the one
// named (or $MEC_BACKEND), which must have the spiking capability — there
// is no silent fallback to another backend — or, with neither set, the
// highest-priority loaded backend that has it (auto is then true).
func selectSpiking(name string) (sp backend.Spiking, b backend.Backend, auto bool, err error) {
	if name == "" && os.Getenv(backend.EnvBackend) == "" {
		sp, b, err = backend.WithCapability[backend.Spiking]("")
		return sp, b, true, err
	}
	b, err = backend.Select(name)
	if err != nil {
		return nil, nil, false, err
	}
	sp, ok := b.(backend.Spiking)
	if !ok {
		var can []string
		for _, l := range backend.LoadedBackends() {
			if _, ok := l.(backend.Spiking); ok {
				can = append(can, l.Name())
			}
		}
		caps := strings.Join(backend.Capabilities(b), ", ")
		if caps == "" {
			caps = "none"
		}
		return nil, nil, false, fmt.Errorf("backend %q cannot run spiking networks: it lacks the spiking capability (it has: %s); backends that can: %s, or leave --backend and $%s empty for automatic choice",
			b.Name(), caps, strings.Join(can, ", "), backend.EnvBackend)
	}
	return sp, b, false, nil
}

// stateReader returns nw's reader of the model state u and w, or, before
// any step, an error naming the backend when it has none (the cpu, opencl
// and cuda backends have one).
func stateReader(nw backend.Network, name string) (backend.StateReader, error) {
	sr, ok := nw.(backend.StateReader)
	if !ok {
		return nil, fmt.Errorf("backend %s cannot read the model state u or w back (monitors.state vars, --monitor-u, --monitor-w)", name)
	}
	return sr, nil
}

// snnChunk is the number of network steps between context checks.
const snnChunk = 1000

// runSNN simulates net for r.durationS biological seconds on the selected
// backend, recording what net.Monitors asks for, and stops with ctx's
// error when it is done.
func runSNN(ctx context.Context, net *snn.Network, r snnRun) (*snnResult, error) {
	rec, err := snn.NewRecorder(net)
	if err != nil {
		return nil, err
	}
	sp, b, auto, err := selectSpiking(r.backend)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	nw, err := sp.NewNetwork(net, r.opt)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", b.Name(), err)
	}
	defer nw.Free()
	nsteps := int64(math.Round(r.durationS * 1000 / nw.DtMs()))
	if nsteps < 1 {
		return nil, fmt.Errorf("duration %v s is less than one time step of %v ms", r.durationS, nw.DtMs())
	}
	var v, st []float64
	var sr backend.StateReader
	if rec.NeedsState() {
		if sr, err = stateReader(nw, b.Name()); err != nil {
			return nil, err
		}
		st = make([]float64, nw.N())
	}
	var bar *progressbar.ProgressBar
	if r.progress != nil && nsteps >= 10*snnChunk {
		bar = progressbar.NewOptions64(nsteps/snnChunk, progressbar.OptionSetWriter(r.progress),
			progressbar.OptionSetDescription("network steps (thousands)"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	t1 := time.Now()
	for k := range nsteps {
		if k%snnChunk == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("stopped at %.1f of %g s: %w", float64(k)*nw.DtMs()/1000, r.durationS, err)
			}
			if bar != nil && k > 0 {
				_ = bar.Add(1)
			}
		}
		if rec.WantsV(k) {
			if v == nil {
				v = make([]float64, nw.N())
			}
			if err := nw.Voltages(v); err != nil {
				return nil, fmt.Errorf("backend %s: step %d: %w", b.Name(), k, err)
			}
			rec.SampleV(k, v)
		}
		if sr != nil && rec.WantsState(k) {
			if err := sr.States(st); err != nil {
				return nil, fmt.Errorf("backend %s: step %d: %w", b.Name(), k, err)
			}
			rec.SampleState(k, st)
		}
		spikes, err := nw.Step()
		if err != nil {
			return nil, fmt.Errorf("backend %s: step %d: %w", b.Name(), k, err)
		}
		rec.Spikes(k, spikes)
	}
	loop := time.Since(t1).Seconds()
	wall := time.Since(t0).Seconds()
	weights, err := readWeights(net, nw, b.Name())
	if err != nil {
		return nil, err
	}
	sum := rec.Summarise(nsteps)
	res := &snnResult{auto: auto, rec: rec, sum: sum, weights: weights}
	res.summary = snn.CUBAResult{
		Engine: "mec snn", Target: b.Name(), Neurons: nw.N(), DurationS: r.durationS, Seed: net.Seed,
		WallS: round3(wall), SimLoopS: loop, Spikes: sum.Stats.Spikes,
		MeanRateHz: round3(sum.Stats.MeanRateHz), FracActive: round3(sum.Stats.FracActive),
	}
	if info, ok := nw.(backend.NetworkInfo); ok {
		res.summary.Synapses, res.summary.Threads = info.Synapses(), info.Threads()
	}
	if !math.IsNaN(sum.Stats.MeanCVISI) {
		cv := round3(sum.Stats.MeanCVISI)
		res.summary.MeanCVISI = &cv
	}
	return res, nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// writeSpikes writes one "index time_ms" line per recorded spike, in time
// order (ascending index within a step).
func writeSpikes(w io.Writer, rec *snn.Recorder) error {
	type ev struct {
		step int64
		i    int32
		t    float64
	}
	var evs []ev
	for _, m := range rec.SpikeMonitors() {
		for k := range m.Index {
			evs = append(evs, ev{m.Step[k], m.Index[k], m.Time(k)})
		}
	}
	slices.SortFunc(evs, func(a, b ev) int { return cmp.Or(cmp.Compare(a.step, b.step), cmp.Compare(a.i, b.i)) })
	bw := bufio.NewWriter(w)
	for _, e := range evs {
		fmt.Fprintf(bw, "%d %.1f\n", e.i, e.t)
	}
	return bw.Flush()
}

// loadSNNNetwork reads a network file by its name: YAML (.yaml, .yml),
// NIR as HDF5 (.nir, as nir.write writes it) or in mec's JSON form
// (.nir.json), or JSON (.json and anything else).
func loadSNNNetwork(path string) (*snn.Network, error) {
	data, err := readInput("network", path)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(path)
	var net *snn.Network
	switch {
	case strings.HasSuffix(lower, ".nir.json"):
		var f *lava.NIRFile
		if f, err = lava.UnmarshalNIR(data); err == nil {
			net, err = lava.ImportNIR(f)
		}
	case filepath.Ext(lower) == ".nir":
		var f *lava.NIRFile
		if f, err = lava.DecodeNIRHDF5(data); err == nil {
			net, err = lava.ImportNIR(f)
		}
	case filepath.Ext(lower) == ".yaml" || filepath.Ext(lower) == ".yml":
		net, err = snn.ParseYAML(data)
	default:
		net, err = snn.ParseJSON(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// probeVars are the variables of the --monitor-v, --monitor-u and
// --monitor-w flags, in the order their probes are added.
var probeVars = []string{"v", "u", "w"}

// applyMonitorFlags replaces the file's monitors with the flags' where set;
// probes[x] are the POPULATION:I,J,... values of --monitor-x.
func applyMonitorFlags(net *snn.Network, spikes string, probes map[string][]string, everyMs, binMs float64) error {
	nprobes := 0
	for _, ps := range probes {
		nprobes += len(ps)
	}
	if spikes == "" && nprobes == 0 && everyMs == 0 && binMs == 0 {
		return nil
	}
	m := snn.Monitors{}
	if net.Monitors != nil {
		m = *net.Monitors
	}
	if spikes != "" {
		m.Spikes = strings.Split(spikes, ",")
	}
	if binMs != 0 {
		m.RateBinMs = binMs
	}
	if nprobes > 0 {
		m.State = nil
		for _, v := range probeVars {
			for _, p := range probes[v] {
				pop, list, ok := strings.Cut(p, ":")
				if !ok || pop == "" || list == "" {
					return fmt.Errorf("--monitor-%s %q: want POPULATION:I,J,... (local neuron indices)", v, p)
				}
				pr := snn.StateProbe{Population: pop, Vars: []string{v}}
				for _, s := range strings.Split(list, ",") {
					j, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil {
						return fmt.Errorf("--monitor-%s %q: neuron %q is not an integer", v, p, s)
					}
					pr.Neurons = append(pr.Neurons, j)
				}
				m.State = append(m.State, pr)
			}
		}
	}
	if everyMs != 0 {
		for i := range m.State {
			m.State[i].EveryMs = everyMs
		}
	}
	net.Monitors = &m
	if err := net.Validate(); err != nil {
		return fmt.Errorf("monitors from the flags: %w", err)
	}
	return nil
}

// snnRunReport is the JSON of mec snn run: the keys of mec snn cuba (and
// brian2_cuba.py) over the recorded populations, then the backend choice,
// per-population statistics, binned rates and state traces.
type snnRunReport struct {
	snn.CUBAResult
	// BackendAuto is true when the backend (Target) was chosen
	// automatically.
	BackendAuto bool                  `json:"backend_auto"`
	Populations []snn.PopulationStats `json:"populations"`
	Rate        snn.RateTrace         `json:"rate"`
	State       []snn.StateTrace      `json:"state,omitempty"`
	Weights     []weightReport        `json:"weights,omitempty"`
}

func newSNNRunCmd() *cobra.Command {
	var (
		duration, maxDuration float64
		threads               int
		method                string
		spikesFile, svg       string
		asJSON                bool
		monSpikes             string
		monV, monU, monW      []string
		everyMs, binMs        float64
	)
	cmd := &cobra.Command{
		Use:   "run NET.yaml|NET.json|NET.nir|NET.nir.json",
		Short: "Simulate a spiking network file and report spikes, rates and state traces",
		Long: `Simulate the network in NET (YAML, JSON, or NIR: a .nir file as nir.write
writes it, or mec's JSON form *.nir.json; see README
"Spiking networks") for --duration biological seconds and print the keys of
mec snn cuba — over the recorded populations — with the backend that ran
(target; backend_auto tells whether it was chosen automatically), each
population's statistics, their rates in bins of rate_bin_ms, and the sampled
membrane potentials.

What is recorded comes from the file's monitors section, or from the flags,
which replace it: --monitor-spikes POP,POP records only those populations;
--monitor-v POP:I,J,... samples V of those neurons (repeatable), every
--every-ms; --monitor-u and --monitor-w sample the recovery variable u of
an izhikevich population and the adaptation current w (nA) of an adex one
the same way (on backends that read the model state back: the CPU; others
fail naming themselves). A backend named by --backend or $MEC_BACKEND must have the spiking
capability, else the command fails (no fallback to another backend).
--svg FILE draws the spike raster, the population rates, the sampled
voltages and the final weights of monitors.weights (with their values and
histogram in the JSON). --spikes FILE writes one "index time_ms" line per
recorded spike. Models, plasticity and monitors: README "Spiking networks".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !(duration > 0) || math.IsInf(duration, 0) {
				return fmt.Errorf("--duration %v: want a positive number of seconds", duration)
			}
			if duration > maxDuration {
				return fmt.Errorf("--duration %v: more than the limit of %v s of biological time (raise it with --max-duration)", duration, maxDuration)
			}
			m, err := snn.ParseMethod(method)
			if err != nil {
				return fmt.Errorf("--method: %w", err)
			}
			if svg != "" && filepath.Ext(svg) != ".svg" {
				return fmt.Errorf("--svg %s: the file name must end in .svg", svg)
			}
			net, err := loadSNNNetwork(args[0])
			if err != nil {
				return err
			}
			if err := applyMonitorFlags(net, monSpikes, map[string][]string{"v": monV, "u": monU, "w": monW}, everyMs, binMs); err != nil {
				return err
			}
			res, err := runSNN(cmd.Context(), net, snnRun{durationS: duration, opt: snn.Options{Threads: threads, Method: m}, backend: backendFlag(cmd),
				progress: terminal(cmd.ErrOrStderr())})
			if err != nil {
				return fmt.Errorf("snn run %s: %w", args[0], err)
			}
			if spikesFile != "" {
				if err := writeFileWith(spikesFile, func(w io.Writer) error { return writeSpikes(w, res.rec) }); err != nil {
					return err
				}
			}
			if svg != "" {
				if err := plotSNN(res, svg); err != nil {
					return fmt.Errorf("--svg %s: %w", svg, err)
				}
			}
			rep := snnRunReport{CUBAResult: res.summary, BackendAuto: res.auto, Populations: res.sum.Populations,
				Rate: res.sum.Rate, State: res.sum.State, Weights: res.weights}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			printSNNSummary(cmd.OutOrStdout(), args[0], res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&duration, "duration", 1.0, "biological time to simulate, in seconds")
	fl.Float64Var(&maxDuration, "max-duration", defaultMaxCUBADuration, "largest --duration accepted, in seconds (every recorded spike is kept in memory)")
	fl.IntVar(&threads, "threads", 0, "CPU goroutines for the neuron update (0: automatic; results do not depend on it)")
	fl.StringVar(&method, "method", "exact", "membrane integrator: exact or euler")
	fl.StringVar(&spikesFile, "spikes", "", "write \"index time_ms\" lines for every recorded spike to FILE")
	fl.StringVar(&svg, "svg", "", "plot the spike raster, population rates and sampled voltages to this SVG file")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	fl.StringVar(&monSpikes, "monitor-spikes", "", "record only these populations' spikes (comma-separated names; replaces the file's monitors.spikes)")
	fl.StringArrayVar(&monV, "monitor-v", nil, "sample V of POPULATION:I,J,... (local indices; repeatable; replaces the file's monitors.state)")
	fl.StringArrayVar(&monU, "monitor-u", nil, "sample the recovery variable u of POPULATION:I,J,... of an izhikevich population (as --monitor-v; backends that read the model state: cpu)")
	fl.StringArrayVar(&monW, "monitor-w", nil, "sample the adaptation current w (nA) of POPULATION:I,J,... of an adex population (as --monitor-v; backends that read the model state: cpu)")
	fl.Float64Var(&everyMs, "every-ms", 0, "sampling period of the voltage monitors in ms (default: every step)")
	fl.Float64Var(&binMs, "rate-bin-ms", 0, "bin of the population rates in ms (default 1 ms)")
	return cmd
}

// printSNNSummary prints a run's result as text.
func printSNNSummary(w io.Writer, name string, res *snnResult) {
	s := res.summary
	how := "requested"
	if res.auto {
		how = "automatic choice"
	}
	fmt.Fprintf(w, "%s: %d neurons, %d synapses, %g s simulated on backend %s (%s)\n",
		name, s.Neurons, s.Synapses, s.DurationS, s.Target, how)
	for _, p := range res.sum.Populations {
		fmt.Fprintf(w, "  %-12s %7d neurons  %9d spikes  %8.3f Hz  CV(ISI) %s  active %.3f\n",
			p.Name, p.Neurons, p.Spikes, p.MeanRateHz, cvText(p.MeanCVISI), p.FracActive)
	}
	fmt.Fprintf(w, "  all recorded: %d spikes, mean rate %.3f Hz, mean CV(ISI) %s, fraction active %.3f\n"+
		"  simulation loop %.3f s, wall %.3f s\n",
		s.Spikes, s.MeanRateHz, cvText(s.MeanCVISI), s.FracActive, s.SimLoopS, s.WallS)
	for _, r := range res.weights {
		fmt.Fprintf(w, "  weights of projection %d (%s → %s): %d synapses, histogram %v", r.Projection, r.From, r.To, len(r.Values), r.Hist)
		if r.FracLow != nil {
			fmt.Fprintf(w, " over [0, w_max = %g], below 0.1·w_max %.3f, above 0.9·w_max %.3f", *r.WMax, *r.FracLow, *r.FracHigh)
		}
		fmt.Fprintln(w)
	}
}

func cvText(cv *float64) string {
	if cv == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *cv)
}

// writeFileWith creates path, writes it with fn and closes it, reporting
// the first error with the file's name.
func writeFileWith(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// terminal returns w when it is a terminal (where a progress bar belongs),
// else nil.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}
