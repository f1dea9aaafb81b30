package orchestrator

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/engines/kuramoto"
)

// PSNConfig configures the phase synchronisation network (fusion §9): a
// Kuramoto array with one oscillator per phase channel Φ_k of the
// grounding layer, coupling the channels' phases so that they stay
// together.
type PSNConfig struct {
	// K is the Kuramoto coupling strength (per unit time); 0 turns the
	// PSN off. The coupling of source j is K·p_j, p_j its share of the
	// oscillators' power (see PSN).
	K float64 `yaml:"k" json:"k"`
	// H is the largest RK4 step of the array.
	H float64 `yaml:"h" json:"h"`
}

// PSN runs the phase synchronisation network after each grounding step.
// The grounding step (Stuart–Landau, driven by ψ's bins) gives each
// channel its phase velocity over the tick, ω_k = wrap(Φ_k′ − Φ_k)/Δt;
// the PSN then integrates
//
//	dφ_k/dt = ω_k + (K/d) Σ_j sin(φ_j − φ_k)
//
// with each source weighted by its share of the oscillators' power,
//
//	dφ_k/dt = ω_k + K Σ_j p_j sin(φ_j − φ_k),   p_j = |Z_j′|² / Σ_l |Z_l′|²,
//
// (the phase reduction of a mean-field coupling of the complex
// amplitudes, normalised so that K·h bounds the RK4 step whatever the
// amplitudes: a weakly driven channel follows the strongly driven ones
// rather than dragging them against their drive), from φ_k = Φ_k over Δt
// on the backend's phase capability (Kuramoto engine, sparse coupling:
// CPU, OpenCL or CUDA; engines/kuramoto when the backend has none), and
// the channels keep their amplitudes |Z_k′| with the phases φ_k (Lie
// splitting of grounding and synchronisation). With equal amplitudes this
// is the all-to-all array (K/d) Σ_j sin(φ_j − φ_k).
type PSN struct {
	cfg   PSNConfig
	phase backend.Phase
}

// PSNStep is what one PSN step reports.
type PSNStep struct {
	// R is the order parameter of the phases after the step.
	R float64
	// Spread is the largest |wrap(Φ_k − Φ̄)| after the step (Φ̄ the mean
	// phase), radians.
	Spread float64
	// MCCRate is max_{i,j} |d/dt(Φ_i − Φ_j)| over the step
	// (integration §3).
	MCCRate float64
}

// Step returns Z′ with its phases synchronised, from the phases of z
// (start of the tick) and the grounded oscillators zn (end of the tick).
// With K = 0 zn is returned unchanged (and the figures measured on it).
func (p *PSN) Step(z, zn []complex128, dt float64) ([]complex128, PSNStep, error) {
	d := len(z)
	if len(zn) != d || d == 0 {
		return nil, PSNStep{}, fmt.Errorf("orchestrator: PSN: %d phases before, %d after", d, len(zn))
	}
	phi0 := make([]float64, d)
	omega := make([]float64, d)
	for k := range z {
		phi0[k] = cmplx.Phase(z[k])
		omega[k] = circuit.WrapAngle(cmplx.Phase(zn[k])-phi0[k]) / dt
	}
	out := zn
	if p.cfg.K != 0 && dt > 0 {
		csr, err := powerCoupling(zn)
		if err != nil {
			return nil, PSNStep{}, err
		}
		phi, err := p.integrate(kuramoto.Network{Omega: omega, K: p.cfg.K, Coupling: csr}, phi0, dt)
		if err != nil {
			return nil, PSNStep{}, err
		}
		out = make([]complex128, d)
		for k := range zn {
			out[k] = cmplx.Rect(cmplx.Abs(zn[k]), phi[k])
		}
	}
	return out, measurePSN(z, out, dt), nil
}

// powerCoupling returns the d×d coupling W_kj = p_j = |z_j|²/Σ_l |z_l|²
// (every row the same: each oscillator is pulled towards the
// power-weighted mean phase); uniform weights 1/d when z has no power.
func powerCoupling(z []complex128) (*kuramoto.CSR, error) {
	d := len(z)
	p := make([]float64, d)
	sum := 0.0
	for j, x := range z {
		p[j] = real(x)*real(x) + imag(x)*imag(x)
		sum += p[j]
	}
	for j := range p {
		if sum > 0 && !math.IsInf(sum, 0) {
			p[j] /= sum
		} else {
			p[j] = 1 / float64(d)
		}
	}
	rows, cols, vals := make([]int, 0, d*d), make([]int, 0, d*d), make([]float64, 0, d*d)
	for k := 0; k < d; k++ {
		for j := 0; j < d; j++ {
			rows, cols, vals = append(rows, k), append(cols, j), append(vals, p[j])
		}
	}
	csr, err := kuramoto.NewCSR(d, rows, cols, vals)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: PSN: %w", err)
	}
	return csr, nil
}

// integrate advances the array from phi0 over dt in steps of at most H.
func (p *PSN) integrate(net kuramoto.Network, phi0 []float64, dt float64) ([]float64, error) {
	n := int(math.Ceil(dt/p.cfg.H - 1e-9))
	if n < 1 {
		n = 1
	}
	h := dt / float64(n)
	if p.phase == nil {
		sim, err := kuramoto.New(net, phi0, kuramoto.RK4)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: PSN: %w", err)
		}
		for i := 0; i < n; i++ {
			sim.Step(h)
		}
		return sim.Phases(), nil
	}
	osc, err := p.phase.NewOscillators(net, phi0, kuramoto.RK4)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: PSN: %w", err)
	}
	defer osc.Free()
	for i := 0; i < n; i++ {
		if _, _, err := osc.Step(h); err != nil {
			return nil, fmt.Errorf("orchestrator: PSN: %w", err)
		}
	}
	phi := make([]float64, len(phi0))
	if err := osc.Phases(phi); err != nil {
		return nil, fmt.Errorf("orchestrator: PSN: %w", err)
	}
	return phi, nil
}

// measurePSN returns the order parameter and spread of zn's phases and
// the largest rate of a phase difference from z to zn over dt.
func measurePSN(z, zn []complex128, dt float64) PSNStep {
	var s complex128
	for _, x := range zn {
		s += cmplx.Rect(1, cmplx.Phase(x))
	}
	st := PSNStep{R: cmplx.Abs(s) / float64(len(zn))}
	mean := cmplx.Phase(s)
	lo, hi := math.Inf(1), math.Inf(-1)
	for k := range zn {
		st.Spread = math.Max(st.Spread, math.Abs(circuit.WrapAngle(cmplx.Phase(zn[k])-mean)))
		r := circuit.WrapAngle(cmplx.Phase(zn[k])-cmplx.Phase(z[k])) / dt
		lo, hi = math.Min(lo, r), math.Max(hi, r)
	}
	if dt > 0 {
		st.MCCRate = hi - lo
	}
	return st
}

func (c PSNConfig) validate() error {
	if math.IsNaN(c.K) || math.IsInf(c.K, 0) || c.K < 0 {
		return errors.New("grounding.psn.k: want a finite k ≥ 0")
	}
	if c.K > 0 && !(c.H > 0 && c.H < math.Inf(1)) {
		return errors.New("grounding.psn.h: want h > 0")
	}
	return nil
}
