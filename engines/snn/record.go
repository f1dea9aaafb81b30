package snn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// MaxProbedNeurons bounds the number of neurons a network file's state
// monitors may sample (every sample of every probed neuron is kept).
const MaxProbedNeurons = 1024

// Monitors chooses what a run records: the spikes of some populations
// (with their statistics and binned population rates) and state variables
// of selected neurons. It is part of the network file (key "monitors") and
// does not change the simulation.
type Monitors struct {
	// Spikes names the populations whose spikes are recorded; the
	// statistics and rates are computed from them. Empty: every population.
	Spikes []string `json:"spikes,omitempty" yaml:"spikes,omitempty"`
	// RateBinMs is the bin width in ms of the population rates (default 1
	// ms); it must be a whole number of steps.
	RateBinMs float64 `json:"rate_bin_ms,omitempty" yaml:"rate_bin_ms,omitempty"`
	// State lists the neurons whose state variables are sampled.
	State []StateProbe `json:"state,omitempty" yaml:"state,omitempty"`
	// Weights lists the indices of sparse projections whose weights are
	// reported at the end of the run (those with stdp change).
	Weights []int `json:"weights,omitempty" yaml:"weights,omitempty"`
}

// StateProbe samples state variables of selected neurons of one population
// at the start of every EveryMs (the first sample is the initial state).
type StateProbe struct {
	// Population names the population.
	Population string `json:"population" yaml:"population"`
	// Neurons are indices local to the population (0..size-1).
	Neurons []int `json:"neurons" yaml:"neurons"`
	// Vars are the sampled variables: "v" (the membrane potential, mV;
	// the default, read out by every spiking backend), "u" (the recovery
	// variable of an izhikevich population) or "w" (the adaptation current
	// of an adex population, nA); u and w are read by backends with
	// backend.StateReader (every spiking backend: cpu, opencl, cuda).
	Vars []string `json:"vars,omitempty" yaml:"vars,omitempty"`
	// EveryMs is the sampling period in ms, a whole number of steps
	// (default: every step).
	EveryMs float64 `json:"every_ms,omitempty" yaml:"every_ms,omitempty"`
}

// stateVars are the variables a StateProbe may sample; modelVars the
// model each but "v" belongs to.
var (
	stateVars = []string{"v", "u", "w"}
	modelVars = map[string]string{"u": ModelIzhikevich, "w": ModelAdEx}
)

func (m *Monitors) validate(n *Network, dt float64) error {
	size := map[string]int{}
	model := map[string]string{}
	for _, p := range n.Populations {
		size[p.Name] = p.Size
		model[p.Name] = cmp.Or(p.Model, ModelLIF)
	}
	seen := map[string]bool{}
	for i, name := range m.Spikes {
		if _, ok := size[name]; !ok {
			return fmt.Errorf("monitors.spikes[%d]: unknown population %q", i, name)
		}
		if seen[name] {
			return fmt.Errorf("monitors.spikes[%d]: population %q listed twice", i, name)
		}
		seen[name] = true
	}
	if m.RateBinMs != 0 {
		if k, err := steps(m.RateBinMs, dt); err != nil || k == 0 {
			if err == nil {
				err = fmt.Errorf("must be > 0")
			}
			return fmt.Errorf("monitors.rate_bin_ms: %w", err)
		}
	}
	for i, k := range m.Weights {
		if k < 0 || k >= len(n.Projections) {
			return fmt.Errorf("monitors.weights[%d]: projection %d out of range [0, %d)", i, k, len(n.Projections))
		}
		if n.Projections[k].Dense {
			return fmt.Errorf("monitors.weights[%d]: projection %d is dense (its weights are fixed and not read back)", i, k)
		}
	}
	probed := 0
	for i, pr := range m.State {
		f := fmt.Sprintf("monitors.state[%d]", i)
		sz, ok := size[pr.Population]
		if !ok {
			return fmt.Errorf("%s.population: unknown population %q", f, pr.Population)
		}
		if len(pr.Neurons) == 0 {
			return fmt.Errorf("%s.neurons: at least one neuron is required", f)
		}
		for k, j := range pr.Neurons {
			if j < 0 || j >= sz {
				return fmt.Errorf("%s.neurons[%d]: %d out of range [0, %d) of population %q", f, k, j, sz, pr.Population)
			}
		}
		probed += len(pr.Neurons)
		if probed > MaxProbedNeurons {
			return fmt.Errorf("%s.neurons: more than %d probed neurons in all", f, MaxProbedNeurons)
		}
		for k, v := range pr.Vars {
			if !slices.Contains(stateVars, v) {
				return fmt.Errorf("%s.vars[%d]: unknown variable %q (want one of %v)", f, k, v, stateVars)
			}
			if m, ok := modelVars[v]; ok && model[pr.Population] != m {
				return fmt.Errorf("%s.vars[%d]: %q is a variable of %s populations; population %q is %s", f, k, v, m, pr.Population, model[pr.Population])
			}
			if slices.Contains(pr.Vars[:k], v) {
				return fmt.Errorf("%s.vars[%d]: %q listed twice", f, k, v)
			}
		}
		if pr.EveryMs != 0 {
			if k, err := steps(pr.EveryMs, dt); err != nil || k == 0 {
				if err == nil {
					err = fmt.Errorf("must be > 0")
				}
				return fmt.Errorf("%s.every_ms: %w", f, err)
			}
		}
	}
	return nil
}

// Recorder turns the spikes and voltages of a run, whatever backend steps
// it, into the statistics, population rates and state traces that its
// network's Monitors ask for. The runner calls, for every step k from 0:
// SampleV(k, V) when WantsV(k) (V at the start of the step), SampleState(k,
// state) when WantsState(k), then Spikes(k, the step's spikes); Summarise
// summarises the run.
type Recorder struct {
	dt       float64
	binSteps int64
	pops     []recPop
	probes   []recProbe
}

type recPop struct {
	name string
	mon  *SpikeMonitor
	bins []int64 // spikes per rate bin
}

type recProbe struct {
	pop     string
	v       string // the variable: "v", "u" or "w"
	local   []int
	global  []int
	every   int64
	t       []float64
	samples [][]float64 // per sample, per neuron
}

// NewRecorder validates n and prepares the monitors of n.Monitors (nil:
// every population's spikes and rates, no state).
func NewRecorder(n *Network) (*Recorder, error) {
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("snn: network: %w", err)
	}
	dt := n.dt()
	m := n.Monitors
	if m == nil {
		m = &Monitors{}
	}
	r := &Recorder{dt: dt, binSteps: 1}
	if bin := m.RateBinMs; bin != 0 {
		k, _ := steps(bin, dt)
		r.binSteps = int64(k)
	} else if k := int64(math.Round(1 / dt)); k > 1 {
		r.binSteps = k
	}
	lo := map[string][2]int{}
	g := 0
	for _, p := range n.Populations {
		lo[p.Name] = [2]int{g, g + p.Size}
		g += p.Size
	}
	names := m.Spikes
	if len(names) == 0 {
		for _, p := range n.Populations {
			names = append(names, p.Name)
		}
	}
	for _, name := range names {
		b := lo[name]
		r.pops = append(r.pops, recPop{name: name, mon: &SpikeMonitor{Lo: b[0], Hi: b[1], dt: dt}})
	}
	for _, pr := range m.State {
		every := int64(1)
		if pr.EveryMs != 0 {
			k, _ := steps(pr.EveryMs, dt)
			every = int64(k)
		}
		vars := pr.Vars
		if len(vars) == 0 {
			vars = []string{"v"}
		}
		for _, v := range vars {
			rp := recProbe{pop: pr.Population, v: v, local: slices.Clone(pr.Neurons), every: every}
			for _, j := range pr.Neurons {
				rp.global = append(rp.global, lo[pr.Population][0]+j)
			}
			r.probes = append(r.probes, rp)
		}
	}
	return r, nil
}

// WantsV reports whether SampleV must be called before step k.
func (r *Recorder) WantsV(k int64) bool { return r.wants(k, true) }

// WantsState reports whether SampleState must be called before step k.
func (r *Recorder) WantsState(k int64) bool { return r.wants(k, false) }

// NeedsState reports whether the monitors sample u or w (so the runner
// must read the model state with SampleState).
func (r *Recorder) NeedsState() bool {
	for _, p := range r.probes {
		if p.v != "v" {
			return true
		}
	}
	return false
}

// wants reports whether a probe of V (v) or of the model state (!v)
// samples at step k.
func (r *Recorder) wants(k int64, v bool) bool {
	for _, p := range r.probes {
		if (p.v == "v") == v && k%p.every == 0 {
			return true
		}
	}
	return false
}

// SampleV records the probed neurons' V (v holds every neuron's, mV) at
// the start of step k.
func (r *Recorder) SampleV(k int64, v []float64) { r.sample(k, v, true) }

// SampleState records the probed neurons' u or w at the start of step k;
// state holds every neuron's model state (Sim.States: u of izhikevich
// neurons, w of adex neurons).
func (r *Recorder) SampleState(k int64, state []float64) { r.sample(k, state, false) }

// sample records x for the probes of V (v) or of the model state (!v)
// that sample at step k.
func (r *Recorder) sample(k int64, x []float64, v bool) {
	for i := range r.probes {
		p := &r.probes[i]
		if (p.v == "v") != v || k%p.every != 0 {
			continue
		}
		s := make([]float64, len(p.global))
		for j, g := range p.global {
			s[j] = x[g]
		}
		p.t = append(p.t, float64(k)*r.dt)
		p.samples = append(p.samples, s)
	}
}

// Spikes records the spikes of step k (global indices, ascending).
func (r *Recorder) Spikes(k int64, spikes []int) {
	bin := int(k / r.binSteps)
	for i := range r.pops {
		p := &r.pops[i]
		n0 := p.mon.Len()
		p.mon.record(k, spikes)
		for len(p.bins) <= bin {
			p.bins = append(p.bins, 0)
		}
		p.bins[bin] += int64(p.mon.Len() - n0)
	}
}

// SpikeMonitors returns the monitor of each recorded population, in the
// order of Report's Populations.
func (r *Recorder) SpikeMonitors() []*SpikeMonitor {
	out := make([]*SpikeMonitor, len(r.pops))
	for i, p := range r.pops {
		out[i] = p.mon
	}
	return out
}

// PopulationStats are the spike statistics of one recorded population.
type PopulationStats struct {
	// Name is the population's.
	Name string `json:"name"`
	// Neurons is its size.
	Neurons int `json:"neurons"`
	// Spikes, MeanRateHz, MeanCVISI (null when no neuron has 3 spikes)
	// and FracActive are as in CUBAResult.
	Spikes     int      `json:"spikes"`
	MeanRateHz float64  `json:"mean_rate_hz"`
	MeanCVISI  *float64 `json:"mean_cv_isi"`
	FracActive float64  `json:"frac_active"`
}

// RateTrace is the binned firing rate of each recorded population.
type RateTrace struct {
	// BinMs is the bin width in ms; bin k covers [k·BinMs, (k+1)·BinMs).
	BinMs float64 `json:"bin_ms"`
	// TMs are the bins' start times in ms.
	TMs []float64 `json:"t_ms"`
	// Hz[p][k] is the mean rate of population p (Report's order) in bin k:
	// spikes / neurons / bin width. A last partial bin is divided by its
	// own width.
	Hz [][]float64 `json:"hz"`
}

// StateTrace holds the samples of one StateProbe's variable.
type StateTrace struct {
	// Population and Neurons (local indices) identify the neurons.
	Population string `json:"population"`
	Neurons    []int  `json:"neurons"`
	// Var is the variable: "v" (mV), "u" (izhikevich recovery, mV/ms
	// as Izhikevich's units) or "w" (adex adaptation current, nA).
	Var string `json:"var"`
	// TMs are the sample times in ms (the start of the sampled step).
	TMs []float64 `json:"t_ms"`
	// Values[j][k] is neuron Neurons[j]'s variable at TMs[k].
	Values [][]float64 `json:"values"`
}

// Recording is the summary a Recorder makes of a run of a given number
// of steps: statistics over every recorded population together and each
// apart, rates and state traces.
type Recording struct {
	// Stats are over the recorded populations together.
	Stats Stats
	// Populations are the recorded populations.
	Populations []PopulationStats
	// Rate are their binned rates.
	Rate RateTrace
	// State are the sampled traces, one per probe.
	State []StateTrace
}

// Summarise computes the Recording of a run of nsteps steps.
func (r *Recorder) Summarise(nsteps int64) *Recording {
	dur := float64(nsteps) * r.dt
	rec := &Recording{}
	var all [][]float64
	total := 0
	for _, p := range r.pops {
		st := p.mon.Stats(dur)
		ps := PopulationStats{Name: p.name, Neurons: p.mon.Hi - p.mon.Lo, Spikes: st.Spikes,
			MeanRateHz: round3(st.MeanRateHz), MeanCVISI: nanNil(st.MeanCVISI), FracActive: round3(st.FracActive)}
		rec.Populations = append(rec.Populations, ps)
		all = append(all, p.mon.Trains()...)
		total += st.Spikes
	}
	rec.Stats = trainStats(all, total, dur)
	nbins := int((nsteps + r.binSteps - 1) / r.binSteps)
	rec.Rate = RateTrace{BinMs: float64(r.binSteps) * r.dt, TMs: make([]float64, nbins)}
	for k := range rec.Rate.TMs {
		rec.Rate.TMs[k] = float64(int64(k)*r.binSteps) * r.dt
	}
	for _, p := range r.pops {
		hz := make([]float64, nbins)
		n := float64(p.mon.Hi - p.mon.Lo)
		for k := range hz {
			if k >= len(p.bins) {
				continue
			}
			w := min(r.binSteps, nsteps-int64(k)*r.binSteps)
			hz[k] = float64(p.bins[k]) / n / (float64(w) * r.dt / 1000)
		}
		rec.Rate.Hz = append(rec.Rate.Hz, hz)
	}
	for _, p := range r.probes {
		tr := StateTrace{Population: p.pop, Neurons: p.local, Var: p.v, TMs: p.t, Values: make([][]float64, len(p.local))}
		for j := range p.local {
			tr.Values[j] = make([]float64, len(p.samples))
			for k, s := range p.samples {
				tr.Values[j][k] = s[j]
			}
		}
		rec.State = append(rec.State, tr)
	}
	return rec
}

// nanNil returns nil for NaN, else a pointer to x rounded to 3 decimals.
func nanNil(x float64) *float64 {
	if math.IsNaN(x) {
		return nil
	}
	y := round3(x)
	return &y
}
