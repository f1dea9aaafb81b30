package snn

import (
	"fmt"
	"math"
)

// SpikeMonitor records the spikes of the neurons with global index in
// [Lo, Hi).
type SpikeMonitor struct {
	// Lo and Hi bound the recorded global indices.
	Lo, Hi int
	// Index and Step hold, per spike in time order (ascending index within
	// a step), the global neuron index and the step it was detected in.
	Index []int32
	Step  []int64
	dt    float64
}

// MonitorSpikes starts recording every neuron's spikes.
func (s *Sim) MonitorSpikes() *SpikeMonitor {
	m, _ := s.MonitorSpikesRange(0, s.n)
	return m
}

// MonitorSpikesRange starts recording the spikes of global indices [lo, hi)
// (e.g. a range returned by Population).
func (s *Sim) MonitorSpikesRange(lo, hi int) (*SpikeMonitor, error) {
	if lo < 0 || hi > s.n || lo > hi {
		return nil, fmt.Errorf("snn: MonitorSpikesRange: [%d, %d) not within [0, %d)", lo, hi, s.n)
	}
	m := &SpikeMonitor{Lo: lo, Hi: hi, dt: s.dt}
	s.spikeMons = append(s.spikeMons, m)
	return m, nil
}

func (m *SpikeMonitor) record(step int64, spikes []int) {
	for _, g := range spikes {
		if g >= m.Lo && g < m.Hi {
			m.Index = append(m.Index, int32(g))
			m.Step = append(m.Step, step)
		}
	}
}

// Len returns the number of recorded spikes.
func (m *SpikeMonitor) Len() int { return len(m.Index) }

// Time returns the time of spike k in ms: the end of the step in which it
// was detected, (Step[k]+1)·dt.
func (m *SpikeMonitor) Time(k int) float64 { return float64(m.Step[k]+1) * m.dt }

// Times returns the times of all recorded spikes in ms.
func (m *SpikeMonitor) Times() []float64 {
	t := make([]float64, len(m.Step))
	for k := range t {
		t[k] = m.Time(k)
	}
	return t
}

// Trains returns the spike times (ms) of each neuron in [Lo, Hi), indexed by
// global index − Lo.
func (m *SpikeMonitor) Trains() [][]float64 {
	tr := make([][]float64, m.Hi-m.Lo)
	for k, g := range m.Index {
		tr[int(g)-m.Lo] = append(tr[int(g)-m.Lo], m.Time(k))
	}
	return tr
}

// StateMonitor samples V and the synaptic drive of selected neurons at the
// start of every Every-th step (the first sample is the initial state).
type StateMonitor struct {
	// Indices are the recorded global neuron indices.
	Indices []int
	// Every is the sampling period in steps.
	Every int
	// T holds the sample times in ms.
	T []float64
	// V[k][i] is V (mV) of Indices[i] at T[k].
	V [][]float64
	// Drive[k][i] is the synaptic drive Σ_c J_c (mV) of Indices[i] at T[k].
	Drive [][]float64
}

// MonitorState starts sampling V and the synaptic drive of the given global
// indices every `every` steps.
func (s *Sim) MonitorState(indices []int, every int) (*StateMonitor, error) {
	if every < 1 {
		return nil, fmt.Errorf("snn: MonitorState: every must be ≥ 1, got %d", every)
	}
	for _, i := range indices {
		if i < 0 || i >= s.n {
			return nil, fmt.Errorf("snn: MonitorState: neuron %d out of range [0, %d)", i, s.n)
		}
	}
	m := &StateMonitor{Indices: append([]int(nil), indices...), Every: every}
	s.stateMons = append(s.stateMons, m)
	return m, nil
}

func (m *StateMonitor) record(e *engine) {
	if e.step%int64(m.Every) != 0 {
		return
	}
	v := make([]float64, len(m.Indices))
	d := make([]float64, len(m.Indices))
	s := Sim{engine: e}
	for k, i := range m.Indices {
		v[k] = e.v[i]
		d[k] = s.Drive(i)
	}
	m.T = append(m.T, float64(e.step)*e.dt)
	m.V = append(m.V, v)
	m.Drive = append(m.Drive, d)
}

// Stats are the summary statistics of a spike recording, computed as
// brian2_cuba.py does.
type Stats struct {
	// Spikes is the number of spikes.
	Spikes int `json:"spikes"`
	// MeanRateHz is Spikes / neurons / duration.
	MeanRateHz float64 `json:"mean_rate_hz"`
	// MeanCVISI is the mean over neurons with at least 3 spikes of the
	// coefficient of variation (population standard deviation / mean) of
	// their inter-spike intervals; NaN when no neuron qualifies.
	MeanCVISI float64 `json:"mean_cv_isi"`
	// FracActive is the fraction of neurons that spiked at least once.
	FracActive float64 `json:"frac_active"`
}

// Stats computes the statistics of the recorded spikes over durationMs
// milliseconds.
func (m *SpikeMonitor) Stats(durationMs float64) Stats {
	return trainStats(m.Trains(), m.Len(), durationMs)
}

// trainStats computes Stats from per-neuron spike trains holding spikes
// spikes in all.
func trainStats(trains [][]float64, spikes int, durationMs float64) Stats {
	n := len(trains)
	st := Stats{Spikes: spikes, MeanCVISI: math.NaN()}
	if n == 0 {
		return st
	}
	st.MeanRateHz = float64(st.Spikes) / float64(n) / (durationMs / 1000)
	active, ncv, sumcv := 0, 0, 0.0
	for _, tr := range trains {
		if len(tr) > 0 {
			active++
		}
		if len(tr) < 3 {
			continue
		}
		mean, sq := 0.0, 0.0
		for k := 1; k < len(tr); k++ {
			mean += tr[k] - tr[k-1]
		}
		mean /= float64(len(tr) - 1)
		for k := 1; k < len(tr); k++ {
			d := tr[k] - tr[k-1] - mean
			sq += d * d
		}
		sumcv += math.Sqrt(sq/float64(len(tr)-1)) / mean
		ncv++
	}
	if ncv > 0 {
		st.MeanCVISI = sumcv / float64(ncv)
	}
	st.FracActive = float64(active) / float64(n)
	return st
}
