package fusion

import (
	"fmt"
	"time"
)

// The phases of a fusion step, in the order they run (see the package doc).
const (
	// PhaseTrotter is step 1: the fused gates of one Trotter step, each a
	// pass that reads and writes the state.
	PhaseTrotter = "trotter"
	// PhaseFold is step 2's u = Mψ: one pass reading the state (the
	// coupled path), or the readout of ψ to the host and the map (the
	// host path).
	PhaseFold = "fold"
	// PhaseSpiking is steps 2–3 on the network: the voltage kick and the
	// spiking steps (neuron-sized; no pass over the state).
	PhaseSpiking = "spiking"
	// PhaseFFT is step 4's spectrum: the N-point transform of S,
	// normalised (F[S] is it at stride D/N; see the package doc), or the
	// D-point transform of MᵀS when N does not divide D.
	PhaseFFT = "fft"
	// PhaseKick is step 4's ψ += γ·F[S]: N amplitudes (D on the host path
	// when N does not divide D), and with phase locking its second kick
	// (the coupled path) or its scaling pass over ψ (the host path).
	PhaseKick = "kick"
	// PhaseStats is step 5: the norm, entropy and order parameter (one
	// pass reading the state) and the renormalisation (one pass reading
	// and writing it), or the host path's passes over ψ.
	PhaseStats = "statistics"
)

// Phases lists the phases in run order.
var Phases = []string{PhaseTrotter, PhaseFold, PhaseSpiking, PhaseFFT, PhaseKick, PhaseStats}

// PhaseCost is the measured cost of one phase of the fusion step.
type PhaseCost struct {
	Phase string `json:"phase"`
	// Seconds is the wall time spent in the phase over Costs.Steps steps
	// (on devices the phase ends with the device synchronised).
	Seconds float64 `json:"seconds"`
	// MsPerStep is Seconds per step, in milliseconds.
	MsPerStep float64 `json:"ms_per_step"`
	// BytesPerStep is the memory traffic of the phase's passes over
	// state-sized vectors in the last step: the bytes they read plus the
	// bytes they write (0 for a phase on neuron-sized data only).
	BytesPerStep float64 `json:"bytes_per_step"`
	// Passes is the number of passes over the state in the last step (the
	// fused gates for the Trotter phase).
	Passes int `json:"passes,omitempty"`
	// FFTLen and FFTKind describe the fft phase's transform: its length
	// and "c128" (complex) or "r2c128" (real input); empty elsewhere.
	FFTLen  int    `json:"fft_len,omitempty"`
	FFTKind string `json:"fft_kind,omitempty"`
	// Bound names the phase's bound (set by Costs.WithBounds): the
	// bandwidth bound of its passes, or the reference transform's time;
	// BoundMs is that bound per step and TimeOverBound is MsPerStep over
	// it (1: at the bound; 0 when the phase has none).
	Bound         string  `json:"bound,omitempty"`
	BoundMs       float64 `json:"bound_ms,omitempty"`
	TimeOverBound float64 `json:"time_over_bound,omitempty"`
}

// Costs is the cost breakdown of the steps run since the system was built
// or ResetCosts was called.
type Costs struct {
	Steps  int         `json:"steps"`
	Phases []PhaseCost `json:"phases"`
	// MsPerStep is the phases' time per step; BoundMs the bandwidth bound
	// of all the step's passes (their bytes at the bandwidth given to
	// WithBounds) and TimeOverBound the one over the other (set by
	// WithBounds).
	MsPerStep     float64 `json:"ms_per_step"`
	BoundMs       float64 `json:"bound_ms,omitempty"`
	TimeOverBound float64 `json:"time_over_bound,omitempty"`
}

// WithBounds returns c with each phase's bound and its time over it: the
// passes over the state at gbs (bytes per second of in-place read and
// write, measured in the same run), and the fft phase against fftNs: a
// reference's nanoseconds for one transform of the phase's kind and length,
// and the reference's name (nil, or ns ≤ 0: no bound). The whole step's
// bound is all its passes' bytes at gbs.
func (c Costs) WithBounds(gbs float64, fftNs func(kind string, n int) (ns float64, ref string)) Costs {
	c.Phases = append([]PhaseCost(nil), c.Phases...)
	var bytes float64
	for i := range c.Phases {
		p := &c.Phases[i]
		bytes += p.BytesPerStep
		switch {
		case p.BytesPerStep > 0 && gbs > 0:
			p.Bound = fmt.Sprintf("bandwidth bound of its %d pass(es)", p.Passes)
			p.BoundMs = p.BytesPerStep / gbs * 1e3
		case p.Phase == PhaseFFT && p.FFTLen > 0 && fftNs != nil:
			if ns, ref := fftNs(p.FFTKind, p.FFTLen); ns > 0 {
				p.Bound = ref
				p.BoundMs = ns / 1e6
			}
		}
		if p.BoundMs > 0 {
			p.TimeOverBound = p.MsPerStep / p.BoundMs
		}
	}
	if gbs > 0 && bytes > 0 {
		c.BoundMs = bytes / gbs * 1e3
		c.TimeOverBound = c.MsPerStep / c.BoundMs
	}
	return c
}

// Phase returns the named phase's cost (zero if absent).
func (c Costs) Phase(name string) PhaseCost {
	for _, p := range c.Phases {
		if p.Phase == name {
			return p
		}
	}
	return PhaseCost{}
}

// phaseClock accumulates the cost of each phase.
type phaseClock struct {
	steps  int
	dur    [6]time.Duration
	bytes  [6]float64
	passes [6]int
	fftLen int
	fftKnd string
	t      time.Time
}

// Indices of the phases in Phases.
const (
	iTrotter = iota
	iFold
	iSpiking
	iFFT
	iKick
	iStats
)

// start marks the beginning of a phase.
func (c *phaseClock) start() { c.t = time.Now() }

// stop charges the time since start (or the last stop) to phase and
// records its traffic for this step; the next phase starts now.
func (c *phaseClock) stop(i int, bytes float64, passes int) {
	now := time.Now()
	c.dur[i] += now.Sub(c.t)
	c.bytes[i], c.passes[i] = bytes, passes
	c.t = now
}

// Costs returns the cost breakdown of the steps run since New or the last
// ResetCosts.
func (s *System) Costs() Costs {
	c := Costs{Steps: s.clock.steps}
	for i, name := range Phases {
		pc := PhaseCost{Phase: name, Seconds: s.clock.dur[i].Seconds(), BytesPerStep: s.clock.bytes[i], Passes: s.clock.passes[i]}
		if c.Steps > 0 {
			pc.MsPerStep = pc.Seconds * 1e3 / float64(c.Steps)
		}
		if name == PhaseFFT {
			pc.FFTLen, pc.FFTKind = s.clock.fftLen, s.clock.fftKnd
		}
		c.Phases = append(c.Phases, pc)
		c.MsPerStep += pc.MsPerStep
	}
	return c
}

// ResetCosts zeroes the cost breakdown (a benchmark calls it after its
// warm-up steps).
func (s *System) ResetCosts() { s.clock = phaseClock{} }
