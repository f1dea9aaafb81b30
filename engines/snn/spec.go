package snn

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prismai/mec/internal/strict"
)

// Network is the declarative description of a spiking network. It is both
// the builder (AddPopulation, AddPoisson, Connect, then Build) and the schema
// of network files (JSON or YAML, same field names; see LoadFile).
type Network struct {
	// DtMs is the time step in ms (default 0.1).
	DtMs float64 `json:"dt_ms,omitempty" yaml:"dt_ms,omitempty"`
	// Seed selects the random streams of connectivity, initial voltages and
	// Poisson generators.
	Seed uint64 `json:"seed,omitempty" yaml:"seed,omitempty"`
	// Populations are the LIF populations; global neuron indices follow
	// their order (the first population has indices 0..Size-1, and so on).
	Populations []Population `json:"populations" yaml:"populations"`
	// Poisson are the Poisson generator groups (spike sources only).
	Poisson []PoissonGroup `json:"poisson,omitempty" yaml:"poisson,omitempty"`
	// Projections connect populations and Poisson groups to populations.
	Projections []Projection `json:"projections,omitempty" yaml:"projections,omitempty"`
	// Monitors chooses what a run records (`mec snn run`, NewRecorder);
	// nil records every population's spikes and rates and no state. It
	// does not change the simulation.
	Monitors *Monitors `json:"monitors,omitempty" yaml:"monitors,omitempty"`
}

// LIF holds the parameters of a leaky integrate-and-fire neuron.
type LIF struct {
	// TauMMs is the membrane time constant τ_m in ms (> 0).
	TauMMs float64 `json:"tau_m_ms" yaml:"tau_m_ms"`
	// VRestMV is the resting (leak reversal) potential in mV.
	VRestMV float64 `json:"v_rest_mv" yaml:"v_rest_mv"`
	// VThMV is the spike threshold in mV.
	VThMV float64 `json:"v_th_mv" yaml:"v_th_mv"`
	// VResetMV is the reset potential in mV (< VThMV).
	VResetMV float64 `json:"v_reset_mv" yaml:"v_reset_mv"`
	// TRefMs is the absolute refractory period in ms (≥ 0, rounded to steps).
	TRefMs float64 `json:"t_ref_ms" yaml:"t_ref_ms"`
	// RMOhm is the membrane resistance in MΩ used for external currents
	// (R·I in mV for I in nA); 0 means 1 MΩ.
	RMOhm float64 `json:"r_mohm,omitempty" yaml:"r_mohm,omitempty"`
	// IBiasNA is a constant external current in nA applied to every neuron.
	IBiasNA float64 `json:"i_bias_na,omitempty" yaml:"i_bias_na,omitempty"`
	// Leak is "" (leaky: the membrane relaxes to V_rest with τ_m), "none"
	// (a perfect integrator, τ_m dV/dt = R·I_ext + synaptic input: NIR's
	// IF and I; v_rest_mv must be 0 and tau_m_ms only scales R·I_ext) or
	// "instant" (no memory: after each step V = V_rest + R·I_ext + the
	// step's delta-synapse input, NIR's Threshold; tau_m_ms must be 0 and
	// every incoming projection a delta synapse). Model lif only.
	Leak string `json:"leak,omitempty" yaml:"leak,omitempty"`
	// NoSpikes turns the threshold off: V is a graded state read through
	// state monitors (NIR's LI and I). v_th_mv, v_reset_mv and t_ref_ms
	// must then be 0. Model lif only.
	NoSpikes bool `json:"no_spikes,omitempty" yaml:"no_spikes,omitempty"`
}

// Leak modes of LIF.Leak (the empty string is the leaky default).
const (
	LeakNone    = "none"    // perfect integrator
	LeakInstant = "instant" // memoryless: V is the step's input
)

// VInit sets the initial membrane potentials of a population. With neither
// field set, V starts at V_reset.
type VInit struct {
	// MV is a single initial value in mV.
	MV *float64 `json:"mv,omitempty" yaml:"mv,omitempty"`
	// UniformMV [lo, hi] draws each V uniformly from [lo, hi) in mV.
	UniformMV []float64 `json:"uniform_mv,omitempty" yaml:"uniform_mv,omitempty"`
}

// Neuron models of a Population.
const (
	ModelLIF  = "lif"  // current-based LIF: synaptic drives in mV (the default)
	ModelCOBA = "coba" // conductance-based LIF: synaptic conductances with reversal potentials
	// ModelIzhikevich is Izhikevich's (2003) quadratic model with recovery u.
	ModelIzhikevich = "izhikevich"
	// ModelAdEx is the adaptive exponential integrate-and-fire model
	// (Brette & Gerstner 2005) with adaptation current w.
	ModelAdEx = "adex"
)

// models lists the neuron models, for validation and messages.
var models = []string{ModelLIF, ModelCOBA, ModelIzhikevich, ModelAdEx}

// Izhikevich holds the parameters of model "izhikevich" besides the
// neuron's v_th_mv (the spike cutoff, 30 mV in Izhikevich's paper),
// v_reset_mv (c), r_mohm and i_bias_na:
//
//	dv/dt = 0.04·v² + 5·v + 140 − u + I,   du/dt = a·(b·v − u)
//	v ≥ v_th: v ← c, u ← u + d
//
// with t in ms, v in mV and I = R·I_bias + Σ_c J_c in Izhikevich's units
// (mV/ms): a spike through weight_mv w makes J jump by w. u starts at b·v.
type Izhikevich struct {
	// A is the recovery rate (1/ms), B the coupling of u to v, D the jump
	// of u at a spike.
	A float64 `json:"a" yaml:"a"`
	B float64 `json:"b" yaml:"b"`
	D float64 `json:"d" yaml:"d"`
}

// AdEx holds the parameters of model "adex" besides the neuron's tau_m_ms,
// v_rest_mv (E_L), v_th_mv (the spike cutoff V_peak), v_reset_mv, t_ref_ms,
// r_mohm (R = 1/g_L) and i_bias_na:
//
//	τ_m dV/dt = −(V − E_L) + Δ_T·exp((V − V_T)/Δ_T) − R·w + R·I + Σ_c J_c
//	τ_w dw/dt = a·(V − E_L) − w
//	V ≥ V_peak: V ← V_reset, w ← w + b
//
// with w in nA (a in nS, so a·(V − E_L) is in pA and is divided by 1000)
// and J in mV as for LIF. w starts at 0.
type AdEx struct {
	// DeltaTMV is the slope factor Δ_T (mV, > 0), VTMV the threshold V_T
	// (mV, below v_th_mv).
	DeltaTMV float64 `json:"delta_t_mv" yaml:"delta_t_mv"`
	VTMV     float64 `json:"v_t_mv" yaml:"v_t_mv"`
	// ANS is the subthreshold adaptation a (nS), BNA the spike-triggered
	// adaptation b (nA), TauWMs the adaptation time constant (ms, > 0).
	ANS    float64 `json:"a_ns" yaml:"a_ns"`
	BNA    float64 `json:"b_na" yaml:"b_na"`
	TauWMs float64 `json:"tau_w_ms" yaml:"tau_w_ms"`
}

// Population is a group of identical LIF neurons.
type Population struct {
	// Name identifies the population in projections and monitors.
	Name string `json:"name" yaml:"name"`
	// Size is the number of neurons (> 0).
	Size int `json:"size" yaml:"size"`
	// Model is "lif" (current-based, the default) or "coba"
	// (conductance-based: each incoming projection opens a conductance
	// with reversal potential e_rev_mv; see the package doc).
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// Izhikevich and AdEx are the parameters of those models (required
	// with them, not allowed otherwise). Both integrate with forward Euler
	// whatever Options.Method says.
	Izhikevich *Izhikevich `json:"izhikevich,omitempty" yaml:"izhikevich,omitempty"`
	AdEx       *AdEx       `json:"adex,omitempty" yaml:"adex,omitempty"`
	// Neuron holds the LIF parameters.
	Neuron LIF `json:"neuron" yaml:"neuron"`
	// TauSynMs is the decay time constant in ms of the synaptic current that
	// this population's spikes cause in their targets (the default of its
	// outgoing projections, which may override it).
	TauSynMs float64 `json:"tau_syn_ms,omitempty" yaml:"tau_syn_ms,omitempty"`
	// VInit sets the initial membrane potentials.
	VInit VInit `json:"v_init,omitempty" yaml:"v_init,omitempty"`
}

// PoissonGroup is a group of independent Poisson spike sources: in each step
// every source spikes with probability rate·dt (Brian2's PoissonGroup).
type PoissonGroup struct {
	// Name identifies the group as a projection source.
	Name string `json:"name" yaml:"name"`
	// Size is the number of sources (> 0).
	Size int `json:"size" yaml:"size"`
	// RateHz is the firing rate of each source in Hz (0 ≤ rate·dt ≤ 1).
	RateHz float64 `json:"rate_hz" yaml:"rate_hz"`
	// TauSynMs is the default synaptic time constant (ms) of the group's
	// outgoing projections.
	TauSynMs float64 `json:"tau_syn_ms,omitempty" yaml:"tau_syn_ms,omitempty"`
}

// Connection rules of a Projection.
const (
	RuleFixedProbability = "fixed_probability" // each (source, target) pair with probability P
	RuleAllToAll         = "all_to_all"        // every (source, target) pair
	RuleOneToOne         = "one_to_one"        // source k to target k (equal sizes)
	RuleList             = "list"              // explicit Pairs
)

// Projection connects a source (population or Poisson group) to a target
// population.
type Projection struct {
	// From names the source population or Poisson group.
	From string `json:"from" yaml:"from"`
	// To names the target population.
	To string `json:"to" yaml:"to"`
	// Rule is one of fixed_probability, all_to_all, one_to_one, list.
	Rule string `json:"rule" yaml:"rule"`
	// P is the connection probability of fixed_probability.
	P float64 `json:"p,omitempty" yaml:"p,omitempty"`
	// NoAutapses drops i→i synapses when From == To (they are allowed by
	// default, as in Brian2's connect(p=...)).
	NoAutapses bool `json:"no_autapses,omitempty" yaml:"no_autapses,omitempty"`
	// WeightMV is the jump of the target's synaptic drive R·I_syn per spike,
	// in mV (negative: inhibitory).
	WeightMV float64 `json:"weight_mv" yaml:"weight_mv"`
	// DelayMs is the synaptic delay in ms; it must be a whole number of steps.
	DelayMs float64 `json:"delay_ms,omitempty" yaml:"delay_ms,omitempty"`
	// TauSynMs overrides the source's synaptic time constant (ms).
	TauSynMs float64 `json:"tau_syn_ms,omitempty" yaml:"tau_syn_ms,omitempty"`
	// WeightNS is, onto a coba population, the jump of the synaptic
	// conductance per spike in nS (≥ 0); weight_mv is then not allowed.
	WeightNS float64 `json:"weight_ns,omitempty" yaml:"weight_ns,omitempty"`
	// WeightsNS optionally gives one conductance per pair (rule "list",
	// coba target).
	WeightsNS []float64 `json:"weights_ns,omitempty" yaml:"weights_ns,omitempty"`
	// ERevMV is, onto a coba population, the reversal potential of the
	// conductance in mV (required there, not allowed otherwise).
	ERevMV *float64 `json:"e_rev_mv,omitempty" yaml:"e_rev_mv,omitempty"`
	// Pairs lists the (source, target) local indices of rule "list";
	// repeated pairs make multiple synapses.
	Pairs [][2]int `json:"pairs,omitempty" yaml:"pairs,omitempty"`
	// WeightsMV optionally gives one weight per pair (rule "list").
	WeightsMV []float64 `json:"weights_mv,omitempty" yaml:"weights_mv,omitempty"`
	// DelaysMs optionally gives one delay per pair (rule "list").
	DelaysMs []float64 `json:"delays_ms,omitempty" yaml:"delays_ms,omitempty"`
	// Dense stores the projection as a dense source×target weight matrix
	// (one delay for the whole projection); spikes add whole matrix rows.
	Dense bool `json:"dense,omitempty" yaml:"dense,omitempty"`
	// STDP makes the projection's weights plastic (nil: fixed).
	STDP *STDP `json:"stdp,omitempty" yaml:"stdp,omitempty"`
	// Synapse is "exponential" (the default, also ""): a spike makes the
	// target's synaptic drive J jump by the weight, and J decays with
	// tau_syn_ms; or "delta": the weights delivered for a step enter V
	// in the next integration step, V ← V·e_m + c + Σw, and do not
	// persist (an instantaneous synapse; tau_syn_ms is then not allowed).
	// Delta synapses target model lif populations only.
	Synapse string `json:"synapse,omitempty" yaml:"synapse,omitempty"`
}

// Synapse kinds of Projection.Synapse.
const (
	SynapseExponential = "exponential"
	SynapseDelta       = "delta"
)

// delta reports whether the projection is an instantaneous synapse.
func (p *Projection) delta() bool { return p.Synapse == SynapseDelta }

// STDP rules.
const (
	STDPAdditive       = "additive"       // Δw = ±a, clipped to [0, w_max]
	STDPMultiplicative = "multiplicative" // potentiation a₊·(w_max − w), depression a₋·w
)

// STDP is pair-based spike-timing-dependent plasticity with traces (Song,
// Miller & Abbott 2000; Brian2's STDP example). Every source and target
// neuron of the projection has a trace that jumps by 1 at its spikes and
// decays with τ₊ (sources) or τ₋ (targets). A source spike is delivered
// with the current weight, then depresses each of its synapses using its
// target's trace x₋; a target spike potentiates each of its incoming
// synapses using its source's trace x₊ (sources first within a step, so a
// pre and a post spike in the same step potentiate):
//
//	additive:        w ← clip(w − a₋·x₋, 0, w_max),  w ← clip(w + a₊·x₊, 0, w_max)
//	multiplicative:  w ← w − a₋·x₋·w,                 w ← w + a₊·x₊·(w_max − w)
//
// Weights and w_max are in the projection's weight unit (mV, or nS onto a
// coba population) and must lie in [0, w_max]; a₊ and a₋ are in that unit
// (additive) or dimensionless (multiplicative, at most 1). Plastic
// projections are sparse (not dense) and have no delay.
type STDP struct {
	// Rule is "additive" or "multiplicative".
	Rule string `json:"rule" yaml:"rule"`
	// TauPlusMs and TauMinusMs are the source and target trace time
	// constants in ms (> 0).
	TauPlusMs  float64 `json:"tau_plus_ms" yaml:"tau_plus_ms"`
	TauMinusMs float64 `json:"tau_minus_ms" yaml:"tau_minus_ms"`
	// APlus and AMinus scale potentiation and depression (≥ 0).
	APlus  float64 `json:"a_plus" yaml:"a_plus"`
	AMinus float64 `json:"a_minus" yaml:"a_minus"`
	// WMax is the largest weight (> 0).
	WMax float64 `json:"w_max" yaml:"w_max"`
}

// validate checks the rule and the projection's weights against it; f
// names the projection.
func (st *STDP) validate(f string, p *Projection, coba bool) error {
	for _, c := range []struct {
		name string
		v    float64
		pos  bool
	}{{"tau_plus_ms", st.TauPlusMs, true}, {"tau_minus_ms", st.TauMinusMs, true}, {"a_plus", st.APlus, false},
		{"a_minus", st.AMinus, false}, {"w_max", st.WMax, true}} {
		if !finite(c.v) || c.v < 0 || (c.pos && c.v == 0) {
			return fmt.Errorf("%s.stdp.%s: must be finite and positive (a_plus, a_minus may be 0), got %v", f, c.name, c.v)
		}
	}
	switch st.Rule {
	case STDPAdditive:
	case STDPMultiplicative:
		if st.APlus > 1 || st.AMinus > 1 {
			return fmt.Errorf("%s.stdp: multiplicative a_plus and a_minus are fractions, at most 1 (got %v, %v)", f, st.APlus, st.AMinus)
		}
	default:
		return fmt.Errorf("%s.stdp.rule: want %s or %s, got %q", f, STDPAdditive, STDPMultiplicative, st.Rule)
	}
	if p.Dense {
		return fmt.Errorf("%s.dense: plastic (stdp) projections cannot be dense", f)
	}
	if p.DelayMs != 0 {
		return fmt.Errorf("%s.delay_ms: plastic (stdp) projections have no delay", f)
	}
	for k, d := range p.DelaysMs {
		if d != 0 {
			return fmt.Errorf("%s.delays_ms[%d]: plastic (stdp) projections have no delay", f, k)
		}
	}
	w, ws, name := p.WeightMV, p.WeightsMV, "weight_mv"
	if coba {
		w, ws, name = p.WeightNS, p.WeightsNS, "weight_ns"
	}
	if ws == nil && (w < 0 || w > st.WMax) {
		return fmt.Errorf("%s.%s: a plastic weight must lie in [0, w_max = %v], got %v", f, name, st.WMax, w)
	}
	for k, x := range ws {
		if x < 0 || x > st.WMax {
			return fmt.Errorf("%s.%s[%d]: a plastic weight must lie in [0, w_max = %v], got %v", f, strings.Replace(name, "weight_", "weights_", 1), k, st.WMax, x)
		}
	}
	return nil
}

// AddPopulation appends a LIF population and returns n for chaining.
func (n *Network) AddPopulation(p Population) *Network {
	n.Populations = append(n.Populations, p)
	return n
}

// AddPoisson appends a Poisson generator group and returns n for chaining.
func (n *Network) AddPoisson(g PoissonGroup) *Network {
	n.Poisson = append(n.Poisson, g)
	return n
}

// Connect appends a projection and returns n for chaining.
func (n *Network) Connect(p Projection) *Network {
	n.Projections = append(n.Projections, p)
	return n
}

// dt returns the time step in ms.
func (n *Network) dt() float64 {
	if n.DtMs == 0 {
		return 0.1
	}
	return n.DtMs
}

// source describes a projection source during validation and build.
type source struct {
	poisson bool
	index   int // into Populations or Poisson
	size    int
	tauSyn  float64
	coba    bool   // a coba population
	model   string // the population's model ("" for lif and Poisson groups)
	leak    string // the population's LIF.Leak
}

func (n *Network) lookup() (map[string]source, error) {
	m := make(map[string]source)
	for i, p := range n.Populations {
		if _, dup := m[p.Name]; dup {
			return nil, fmt.Errorf("populations[%d].name: duplicate name %q", i, p.Name)
		}
		m[p.Name] = source{index: i, size: p.Size, tauSyn: p.TauSynMs, coba: p.Model == ModelCOBA, model: p.Model, leak: p.Neuron.Leak}
	}
	for i, g := range n.Poisson {
		if _, dup := m[g.Name]; dup {
			return nil, fmt.Errorf("poisson[%d].name: duplicate name %q", i, g.Name)
		}
		m[g.Name] = source{poisson: true, index: i, size: g.Size, tauSyn: g.TauSynMs}
	}
	return m, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// steps converts a duration in ms into a whole number of steps, or fails.
func steps(ms, dt float64) (int, error) {
	if !finite(ms) || ms < 0 {
		return 0, fmt.Errorf("must be a finite number ≥ 0, got %v", ms)
	}
	k := math.Round(ms / dt)
	if math.Abs(k*dt-ms) > 1e-6*dt {
		return 0, fmt.Errorf("%v ms is not a whole number of %v ms steps", ms, dt)
	}
	if k > math.MaxUint16 {
		return 0, fmt.Errorf("%v ms is more than %d steps", ms, math.MaxUint16)
	}
	return int(k), nil
}

// Validate checks the network and returns an error naming the first bad
// field (e.g. "populations[1].neuron.tau_m_ms: must be > 0").
func (n *Network) Validate() error {
	dt := n.dt()
	if !finite(dt) || dt <= 0 {
		return fmt.Errorf("dt_ms: must be > 0, got %v", n.DtMs)
	}
	if len(n.Populations) == 0 {
		return errors.New("populations: at least one population is required")
	}
	for i, p := range n.Populations {
		f := fmt.Sprintf("populations[%d]", i)
		if p.Name == "" {
			return fmt.Errorf("%s.name: must not be empty", f)
		}
		if p.Size <= 0 || p.Size > math.MaxInt32 {
			return fmt.Errorf("%s.size: must be in 1..%d, got %d", f, math.MaxInt32, p.Size)
		}
		if p.Model != "" && !slices.Contains(models, p.Model) {
			return fmt.Errorf("%s.model: unknown model %q (want one of %s)", f, p.Model, strings.Join(models, ", "))
		}
		if err := p.Neuron.validate(f+".neuron", dt, p.Model); err != nil {
			return err
		}
		if err := p.validateModel(f); err != nil {
			return err
		}
		if p.TauSynMs < 0 || !finite(p.TauSynMs) {
			return fmt.Errorf("%s.tau_syn_ms: must be > 0, got %v", f, p.TauSynMs)
		}
		if p.VInit.MV != nil && p.VInit.UniformMV != nil {
			return fmt.Errorf("%s.v_init: set mv or uniform_mv, not both", f)
		}
		if v := p.VInit.MV; v != nil && (!finite(*v) || *v >= p.Neuron.vth()) {
			return fmt.Errorf("%s.v_init.mv: must be < v_th_mv (%v), got %v", f, p.Neuron.VThMV, *v)
		}
		if u := p.VInit.UniformMV; u != nil {
			if len(u) != 2 || !finite(u[0]) || !finite(u[1]) || u[0] > u[1] || u[1] > p.Neuron.vth() {
				return fmt.Errorf("%s.v_init.uniform_mv: need [lo, hi] with lo ≤ hi ≤ v_th_mv (%v), got %v", f, p.Neuron.VThMV, u)
			}
		}
	}
	for i, g := range n.Poisson {
		f := fmt.Sprintf("poisson[%d]", i)
		if g.Name == "" {
			return fmt.Errorf("%s.name: must not be empty", f)
		}
		if g.Size <= 0 || g.Size > math.MaxInt32 {
			return fmt.Errorf("%s.size: must be in 1..%d, got %d", f, math.MaxInt32, g.Size)
		}
		if !finite(g.RateHz) || g.RateHz < 0 || g.RateHz*dt/1000 > 1 {
			return fmt.Errorf("%s.rate_hz: need 0 ≤ rate·dt ≤ 1, got %v Hz", f, g.RateHz)
		}
		if g.TauSynMs < 0 || !finite(g.TauSynMs) {
			return fmt.Errorf("%s.tau_syn_ms: must be > 0, got %v", f, g.TauSynMs)
		}
	}
	names, err := n.lookup()
	if err != nil {
		return err
	}
	for i, p := range n.Projections {
		if err := p.validate(fmt.Sprintf("projections[%d]", i), names, dt); err != nil {
			return err
		}
	}
	if n.Monitors != nil {
		return n.Monitors.validate(n, dt)
	}
	return nil
}

// validateModel checks the model parameters of p.
func (p *Population) validateModel(f string) error {
	if p.Izhikevich != nil && p.Model != ModelIzhikevich {
		return fmt.Errorf("%s.izhikevich: parameters for model %q, but model is %q", f, ModelIzhikevich, p.Model)
	}
	if p.AdEx != nil && p.Model != ModelAdEx {
		return fmt.Errorf("%s.adex: parameters for model %q, but model is %q", f, ModelAdEx, p.Model)
	}
	switch p.Model {
	case ModelIzhikevich:
		z := p.Izhikevich
		if z == nil {
			return fmt.Errorf("%s.izhikevich: required with model %q (a, b, d)", f, ModelIzhikevich)
		}
		for _, c := range []struct {
			name string
			v    float64
		}{{"a", z.A}, {"b", z.B}, {"d", z.D}} {
			if !finite(c.v) {
				return fmt.Errorf("%s.izhikevich.%s: must be finite, got %v", f, c.name, c.v)
			}
		}
	case ModelAdEx:
		x := p.AdEx
		if x == nil {
			return fmt.Errorf("%s.adex: required with model %q (delta_t_mv, v_t_mv, a_ns, b_na, tau_w_ms)", f, ModelAdEx)
		}
		for _, c := range []struct {
			name string
			v    float64
		}{{"delta_t_mv", x.DeltaTMV}, {"v_t_mv", x.VTMV}, {"a_ns", x.ANS}, {"b_na", x.BNA}, {"tau_w_ms", x.TauWMs}} {
			if !finite(c.v) {
				return fmt.Errorf("%s.adex.%s: must be finite, got %v", f, c.name, c.v)
			}
		}
		if x.DeltaTMV <= 0 {
			return fmt.Errorf("%s.adex.delta_t_mv: must be > 0, got %v", f, x.DeltaTMV)
		}
		if x.TauWMs <= 0 {
			return fmt.Errorf("%s.adex.tau_w_ms: must be > 0, got %v", f, x.TauWMs)
		}
		if x.VTMV >= p.Neuron.VThMV {
			return fmt.Errorf("%s.adex.v_t_mv: must be < v_th_mv (the spike cutoff, %v), got %v", f, p.Neuron.VThMV, x.VTMV)
		}
	}
	return nil
}

// vth returns the threshold in mV: +Inf with NoSpikes.
func (l *LIF) vth() float64 {
	if l.NoSpikes {
		return math.Inf(1)
	}
	return l.VThMV
}

func (l *LIF) validate(f string, dt float64, model string) error {
	if (l.Leak != "" || l.NoSpikes) && model != "" && model != ModelLIF {
		return fmt.Errorf("%s.leak: leak and no_spikes need model lif, got model %q", f, model)
	}
	noTau := model == ModelIzhikevich
	switch l.Leak {
	case "":
	case LeakNone:
		if l.VRestMV != 0 {
			return fmt.Errorf("%s.v_rest_mv: a neuron with leak %q has no resting potential; leave it 0, got %v", f, LeakNone, l.VRestMV)
		}
	case LeakInstant:
		if l.TauMMs != 0 {
			return fmt.Errorf("%s.tau_m_ms: a neuron with leak %q has no time constant; leave it 0, got %v", f, LeakInstant, l.TauMMs)
		}
		noTau = true
	default:
		return fmt.Errorf("%s.leak: want \"\", %q or %q, got %q", f, LeakNone, LeakInstant, l.Leak)
	}
	if l.NoSpikes {
		for _, c := range []struct {
			name string
			v    float64
		}{{"v_th_mv", l.VThMV}, {"v_reset_mv", l.VResetMV}, {"t_ref_ms", l.TRefMs}} {
			if c.v != 0 {
				return fmt.Errorf("%s.%s: unused with no_spikes; leave it 0, got %v", f, c.name, c.v)
			}
		}
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"tau_m_ms", l.TauMMs}, {"v_rest_mv", l.VRestMV}, {"v_th_mv", l.VThMV}, {"v_reset_mv", l.VResetMV},
		{"t_ref_ms", l.TRefMs}, {"r_mohm", l.RMOhm}, {"i_bias_na", l.IBiasNA}} {
		if !finite(c.v) {
			return fmt.Errorf("%s.%s: must be finite, got %v", f, c.name, c.v)
		}
	}
	if l.TauMMs <= 0 && !(noTau && l.TauMMs == 0) {
		return fmt.Errorf("%s.tau_m_ms: must be > 0, got %v", f, l.TauMMs)
	}
	if l.VResetMV >= l.VThMV && !l.NoSpikes {
		return fmt.Errorf("%s.v_reset_mv: must be < v_th_mv (%v), got %v", f, l.VThMV, l.VResetMV)
	}
	if l.RMOhm < 0 {
		return fmt.Errorf("%s.r_mohm: must be ≥ 0, got %v", f, l.RMOhm)
	}
	if _, err := steps(l.TRefMs, dt); err != nil {
		return fmt.Errorf("%s.t_ref_ms: %w", f, err)
	}
	return nil
}

func (p *Projection) validate(f string, names map[string]source, dt float64) error {
	src, ok := names[p.From]
	if !ok {
		return fmt.Errorf("%s.from: unknown population or poisson group %q", f, p.From)
	}
	tgt, ok := names[p.To]
	if !ok || tgt.poisson {
		return fmt.Errorf("%s.to: unknown population %q", f, p.To)
	}
	switch p.Synapse {
	case "", SynapseExponential:
		tau := p.TauSynMs
		if tau == 0 {
			tau = src.tauSyn
		}
		if !finite(tau) || tau <= 0 {
			return fmt.Errorf("%s.tau_syn_ms: must be > 0 (here or on source %q), got %v", f, p.From, tau)
		}
		if tgt.leak == LeakInstant {
			return fmt.Errorf("%s.synapse: target %q has leak %q and takes delta synapses only", f, p.To, LeakInstant)
		}
	case SynapseDelta:
		if p.TauSynMs != 0 {
			return fmt.Errorf("%s.tau_syn_ms: a delta synapse has no time constant; leave it 0, got %v", f, p.TauSynMs)
		}
		if tgt.model != "" && tgt.model != ModelLIF {
			return fmt.Errorf("%s.synapse: delta synapses need a target of model lif, %q is %s", f, p.To, tgt.model)
		}
	default:
		return fmt.Errorf("%s.synapse: want %s or %s, got %q", f, SynapseExponential, SynapseDelta, p.Synapse)
	}
	if !finite(p.WeightMV) {
		return fmt.Errorf("%s.weight_mv: must be finite, got %v", f, p.WeightMV)
	}
	if err := p.validateModel(f, tgt.coba); err != nil {
		return err
	}
	if _, err := steps(p.DelayMs, dt); err != nil {
		return fmt.Errorf("%s.delay_ms: %w", f, err)
	}
	if p.Rule != RuleList && (p.Pairs != nil || p.WeightsMV != nil || p.WeightsNS != nil || p.DelaysMs != nil) {
		return fmt.Errorf("%s.pairs: pairs, weights_mv, weights_ns and delays_ms need rule %q", f, RuleList)
	}
	switch p.Rule {
	case RuleFixedProbability:
		if !(p.P >= 0 && p.P <= 1) {
			return fmt.Errorf("%s.p: must be in [0, 1], got %v", f, p.P)
		}
	case RuleAllToAll:
	case RuleOneToOne:
		if src.size != tgt.size {
			return fmt.Errorf("%s.rule: one_to_one needs equal sizes, %q has %d and %q has %d", f, p.From, src.size, p.To, tgt.size)
		}
	case RuleList:
		if p.Dense {
			return fmt.Errorf("%s.dense: not supported with rule %q", f, RuleList)
		}
		for k, pr := range p.Pairs {
			if pr[0] < 0 || pr[0] >= src.size || pr[1] < 0 || pr[1] >= tgt.size {
				return fmt.Errorf("%s.pairs[%d]: (%d, %d) out of range (%d sources, %d targets)", f, k, pr[0], pr[1], src.size, tgt.size)
			}
		}
		if p.WeightsMV != nil && len(p.WeightsMV) != len(p.Pairs) {
			return fmt.Errorf("%s.weights_mv: %d weights for %d pairs", f, len(p.WeightsMV), len(p.Pairs))
		}
		for k, w := range p.WeightsMV {
			if !finite(w) {
				return fmt.Errorf("%s.weights_mv[%d]: must be finite, got %v", f, k, w)
			}
		}
		if p.WeightsNS != nil && len(p.WeightsNS) != len(p.Pairs) {
			return fmt.Errorf("%s.weights_ns: %d weights for %d pairs", f, len(p.WeightsNS), len(p.Pairs))
		}
		for k, w := range p.WeightsNS {
			if !finite(w) || w < 0 {
				return fmt.Errorf("%s.weights_ns[%d]: must be a finite conductance ≥ 0, got %v", f, k, w)
			}
		}
		if p.DelaysMs != nil && len(p.DelaysMs) != len(p.Pairs) {
			return fmt.Errorf("%s.delays_ms: %d delays for %d pairs", f, len(p.DelaysMs), len(p.Pairs))
		}
		for k, d := range p.DelaysMs {
			if _, err := steps(d, dt); err != nil {
				return fmt.Errorf("%s.delays_ms[%d]: %w", f, k, err)
			}
		}
	default:
		return fmt.Errorf("%s.rule: want %s, %s, %s or %s, got %q", f, RuleFixedProbability, RuleAllToAll, RuleOneToOne, RuleList, p.Rule)
	}
	if p.Dense && int64(src.size)*int64(tgt.size) > 1<<28 {
		return fmt.Errorf("%s.dense: %d×%d matrix is too large", f, src.size, tgt.size)
	}
	if p.STDP != nil {
		return p.STDP.validate(f, p, tgt.coba)
	}
	return nil
}

// validateModel checks the weight fields against the target's model.
func (p *Projection) validateModel(f string, coba bool) error {
	if !coba {
		switch {
		case p.WeightNS != 0:
			return fmt.Errorf("%s.weight_ns: target %q is current-based (model lif): give weight_mv", f, p.To)
		case p.WeightsNS != nil:
			return fmt.Errorf("%s.weights_ns: target %q is current-based (model lif): give weights_mv", f, p.To)
		case p.ERevMV != nil:
			return fmt.Errorf("%s.e_rev_mv: target %q is current-based (model lif): reversal potentials need model coba", f, p.To)
		}
		return nil
	}
	switch {
	case p.WeightMV != 0:
		return fmt.Errorf("%s.weight_mv: target %q is conductance-based (model coba): give weight_ns and e_rev_mv", f, p.To)
	case p.WeightsMV != nil:
		return fmt.Errorf("%s.weights_mv: target %q is conductance-based (model coba): give weights_ns", f, p.To)
	case p.ERevMV == nil:
		return fmt.Errorf("%s.e_rev_mv: required: target %q is conductance-based (model coba)", f, p.To)
	case !finite(*p.ERevMV):
		return fmt.Errorf("%s.e_rev_mv: must be finite, got %v", f, *p.ERevMV)
	case !finite(p.WeightNS) || p.WeightNS < 0:
		return fmt.Errorf("%s.weight_ns: must be a finite conductance ≥ 0, got %v", f, p.WeightNS)
	}
	return nil
}

// ParseJSON decodes a network file in JSON; unknown fields are errors.
func ParseJSON(data []byte) (*Network, error) {
	var n Network
	if err := strict.JSON(data, &n); err != nil {
		return nil, fmt.Errorf("snn: network JSON: %w", err)
	}
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("snn: network: %w", err)
	}
	return &n, nil
}

// ParseYAML decodes a network file in YAML (same schema as JSON); unknown
// fields are errors.
func ParseYAML(data []byte) (*Network, error) {
	var n Network
	if err := strict.YAML(data, &n); err != nil {
		return nil, fmt.Errorf("snn: network YAML: %w", err)
	}
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("snn: network: %w", err)
	}
	return &n, nil
}

// LoadFile reads a network file: YAML for .yaml/.yml, JSON otherwise.
func LoadFile(path string) (*Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snn: %w", err)
	}
	var n *Network
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		n, err = ParseYAML(data)
	default:
		n, err = ParseJSON(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}
