package orchestrator

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/internal/cbor"
	"github.com/prismai/mec/internal/strict"
	"github.com/prismai/mec/runtime/governance"
)

//go:embed scenario.yaml
var defaultScenario []byte

// DefaultScenario returns the text of the built-in scenario of `mec run`.
func DefaultScenario() []byte { return slices.Clone(defaultScenario) }

// Config is a runtime scenario. Files are YAML or JSON (read as YAML);
// LoadConfig starts from the built-in scenario, so a file only needs the
// fields it changes.
type Config struct {
	// Seed seeds every random choice of the runtime (federation noise,
	// initial weights, CMA-ES); the fusion network has its own seed.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Ticks is the default number of meta-epochs of a run.
	Ticks int `yaml:"ticks" json:"ticks"`
	// Features is d, the number of bins of the layers' feature vectors.
	Features int `yaml:"features" json:"features"`
	// Fusion configures the fusion layer (package fusion).
	Fusion fusion.Config `yaml:"fusion" json:"fusion"`
	// Ising, when set, builds Fusion.Hamiltonian (see Ising).
	Ising *Ising `yaml:"ising,omitempty" json:"ising,omitempty"`
	// Dynamics weighs L_int and S(t).
	Dynamics Weights `yaml:"dynamics" json:"dynamics"`
	// Step is the adaptive time step.
	Step StepControl `yaml:"step" json:"step"`
	// Grounding configures ContextualGrounding.
	Grounding GroundingConfig `yaml:"grounding" json:"grounding"`
	// Plasticity configures SemanticPlasticity.
	Plasticity PlasticityConfig `yaml:"plasticity" json:"plasticity"`
	// Federation configures FederatedNodeLearning.
	Federation FederationConfig `yaml:"federation" json:"federation"`
	// Causality configures MetaCausality.
	Causality CausalityConfig `yaml:"causality" json:"causality"`
	// Reflexive configures ReflexiveFeedback.
	Reflexive ReflexiveConfig `yaml:"reflexive" json:"reflexive"`
	// Meta configures the CMA-ES meta-optimisation.
	Meta MetaConfig `yaml:"meta" json:"meta"`
	// Checkpoint configures runtime checkpoints.
	Checkpoint CheckpointConfig `yaml:"checkpoint" json:"checkpoint"`
	// Governance is the constitution.
	Governance governance.Constitution `yaml:"governance" json:"governance"`
	// Faults are deliberate faults injected into the run.
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Reproducible makes the run a function of the scenario alone: the
	// ledger's records carry a logical clock (a fixed epoch plus the tick
	// in seconds), wall-clock facts (reflexive latency, commit lag,
	// signed tree sizes) go to the log and metrics instead of the records,
	// and the rules on them are not evaluated (suspended), so that two
	// runs of one seeded scenario write byte-identical records and the
	// same ledger root. `mec run --seed S` turns it on.
	Reproducible bool `yaml:"reproducible,omitempty" json:"reproducible,omitempty"`
}

// TimingMetrics are the metrics measured on the wall clock.
func TimingMetrics() []string { return []string{"reflex_latency_s", "ledger_commit_lag_ms"} }

// logicalEpoch is the logical clock's origin in reproducible runs.
var logicalEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Ising describes the Hamiltonian −J·Σ Z_k Z_{k+1} − h_z·Σ Z_k − h_x·Σ X_k
// plus the constant that gives |0…0⟩ zero energy (so that its phase, and
// the resonance with the spike spectrum, does not wind).
type Ising struct {
	J  float64 `yaml:"j" json:"j"`   // ZZ coupling
	HZ float64 `yaml:"hz" json:"hz"` // longitudinal field
	HX float64 `yaml:"hx" json:"hx"` // transverse field
}

// Hamiltonian returns the Pauli sum on n qubits.
func (is Ising) Hamiltonian(n int) circuit.PauliSum {
	var h circuit.PauliSum
	e0 := 0.0
	for k := 0; k < n; k++ {
		if k+1 < n {
			p := []byte(strings.Repeat("I", n))
			p[k], p[k+1] = 'Z', 'Z'
			h = append(h, circuit.PauliTerm{Coeff: -is.J, Pauli: string(p)})
			e0 -= is.J
		}
		p := []byte(strings.Repeat("I", n))
		p[k] = 'Z'
		h = append(h, circuit.PauliTerm{Coeff: -is.HZ, Pauli: string(p)})
		e0 -= is.HZ
		p[k] = 'X'
		h = append(h, circuit.PauliTerm{Coeff: -is.HX, Pauli: string(p)})
	}
	return append(h, circuit.PauliTerm{Coeff: -e0, Pauli: strings.Repeat("I", n)})
}

// GroundingConfig configures ContextualGrounding.
type GroundingConfig struct {
	Oscillators `yaml:",inline"`
	// Kappa is the initial grounding strength κ (part of Θ).
	Kappa float64 `yaml:"kappa" json:"kappa"`
	// PSN configures the phase synchronisation network (fusion §9).
	PSN PSNConfig `yaml:"psn" json:"psn"`
}

// PlasticityConfig configures SemanticPlasticity.
type PlasticityConfig struct {
	Plasticity `yaml:",inline"`
	// Eta is the initial learning rate η (part of Θ).
	Eta float64 `yaml:"eta" json:"eta"`
	// WInit is the initial diagonal of W.
	WInit float64 `yaml:"w_init" json:"w_init"`
}

// FederationConfig configures FederatedNodeLearning.
type FederationConfig struct {
	// Nodes is the number of nodes `mec run` starts (1: this process
	// alone; N > 1: N `mec node` processes federated through an embedded
	// NATS server, see package federation). A `mec node` takes its
	// federation from its roster and ignores it.
	Nodes int `yaml:"nodes" json:"nodes"`
	// Round is the number of ticks between federated averages.
	Round int `yaml:"round" json:"round"`
}

// CausalityConfig configures MetaCausality.
type CausalityConfig struct {
	// Window is the number of ticks of history (at least 6).
	Window int `yaml:"window" json:"window"`
	// Mutation configures the quantum mutations of the causal graph.
	Mutation CausalMutation `yaml:"mutation" json:"mutation"`
}

// CausalMutation configures MetaCausality's mutation logic (integration
// §10): every Every ticks a proposal flips each edge i → j of the causal
// graph whose ε_e, drawn from Shots measurement outcomes of the register
// (fusion.QuantumNoise, uniform variates seeded by Seed and the tick),
// exceeds Threshold in magnitude; it is kept when it lowers the graph's
// BIC on the window.
type CausalMutation struct {
	// Every is the number of ticks between proposals (0: off; the
	// Granger matrix then covers every edge, and a graph in Θ — a state
	// saved with mutations on — is kept but ignored).
	Every int `yaml:"every" json:"every"`
	// Shots is the number of measurement outcomes per round of ε (0: 64).
	Shots int `yaml:"shots,omitempty" json:"shots,omitempty"`
	// Threshold is the |ε_e| beyond which edge e flips (ε_e has mean 0 and
	// variance 1 while its qubit is not in a Z eigenstate).
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// Seed seeds the sampler's uniform variates.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// ReflexiveConfig configures ReflexiveFeedback.
type ReflexiveConfig struct {
	// HTarget is the coherence entropy the controller aims at.
	HTarget float64 `yaml:"h_target" json:"h_target"`
	// Gain is the controller gain.
	Gain float64 `yaml:"gain" json:"gain"`
	// GammaMin is the smallest γ the controller sets.
	GammaMin float64 `yaml:"gamma_min" json:"gamma_min"`
	// GammaMax is the largest γ the controller sets.
	GammaMax float64 `yaml:"gamma_max" json:"gamma_max"`
}

// MetaConfig configures the CMA-ES meta-optimisation.
type MetaConfig struct {
	// Every is K: the optimiser runs after every K committed ticks (0: never).
	Every int `yaml:"every" json:"every"`
	// Iterations bounds the CMA-ES generations.
	Iterations int `yaml:"iterations" json:"iterations"`
	// Population is the CMA-ES population (0: gonum's default).
	Population int `yaml:"population" json:"population"`
	// Step is the initial step size in log-parameter space.
	Step float64 `yaml:"step" json:"step"`
	// Trust weighs the penalty Σ (log p − log p₀)² that keeps each
	// update near the current parameters (p₀ each one's current value
	// clamped into its bounds, so one at 0 — γ at a gamma_min of 0, η = 0
	// — is still tuned, from its lower bound).
	Trust float64 `yaml:"trust" json:"trust"`
	// Params lists the optimised parameters, some of MetaParams():
	// "alpha", "beta", "gamma" (the fusion coupling; scored on a rollout
	// of the engine, see Horizon), "kappa", "eta".
	Params []string `yaml:"params" json:"params"`
	// Horizon is the number of engine steps rolled out from the current
	// register for each candidate coupling (needed, ≥ 1, when Params
	// names alpha, beta or gamma; at most 64).
	Horizon int `yaml:"horizon,omitempty" json:"horizon,omitempty"`
	// Min is the lower bound of every optimised parameter not in Bounds.
	Min float64 `yaml:"min" json:"min"`
	// Max is the upper bound of every optimised parameter not in Bounds.
	Max float64 `yaml:"max" json:"max"`
	// Bounds are per-parameter bounds [low, high], 0 < low ≤ high.
	Bounds map[string][2]float64 `yaml:"bounds,omitempty" json:"bounds,omitempty"`
}

// Bound returns the bounds of parameter p: Bounds[p] when set, else Min
// and Max.
func (m MetaConfig) Bound(p string) (lo, hi float64) {
	if b, ok := m.Bounds[p]; ok {
		return b[0], b[1]
	}
	return m.Min, m.Max
}

// tunesCoupling reports whether Params names a coupling parameter.
func (m MetaConfig) tunesCoupling() bool {
	for _, p := range m.Params {
		if slices.Contains(couplingParams, p) {
			return true
		}
	}
	return false
}

// CheckpointConfig configures runtime checkpoints.
type CheckpointConfig struct {
	// Every is the number of ticks between checkpoints.
	Every int `yaml:"every" json:"every"`
	// Keep is how many checkpoints are kept in memory.
	Keep int `yaml:"keep" json:"keep"`
}

// Fault kinds.
const (
	// FaultOverflowPsi loads ψ with an amplitude of 1e300 on the backend
	// (backends refuse NaN and Inf): its square overflows, so the next
	// fusion step meets non-finite values.
	FaultOverflowPsi = "overflow_psi"
	// FaultCoupling sets γ to Value (an environment shock).
	FaultCoupling = "coupling"
	// FaultNaNWeight writes NaN into W.
	FaultNaNWeight = "nan_weight"
	// FaultDecohere replaces ψ on the backend by the uniform
	// superposition (H_coh = 1), a decoherence event.
	FaultDecohere = "decohere"
	// FaultPhaseKick turns the phase Φ_0 of the first grounding
	// oscillator by Value radians (a kicked oscillator, which the PSN
	// pulls back within the tick).
	FaultPhaseKick = "phase_kick"
)

// Fault is a deliberate fault, injected once, at the start of the tick
// whose number (1-based) is Tick. Faults are part of the environment, not
// of Ξ: a rollback does not make them happen again.
type Fault struct {
	Tick  uint64  `yaml:"tick" json:"tick"`                       // 1-based tick number
	Kind  string  `yaml:"kind" json:"kind"`                       // one of the Fault* kinds
	Value float64 `yaml:"value,omitempty" json:"value,omitempty"` // γ for FaultCoupling, the angle (radians) for FaultPhaseKick
}

// DefaultConfig returns the built-in scenario.
func DefaultConfig() (Config, error) {
	var c Config
	if err := decodeStrict(defaultScenario, &c); err != nil {
		return Config{}, fmt.Errorf("orchestrator: built-in scenario: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("orchestrator: built-in scenario: %w", err)
	}
	return c, nil
}

// ParseConfig overlays a YAML or JSON document on the built-in scenario
// and validates the result. Unknown fields are errors.
func ParseConfig(data []byte) (Config, error) {
	c, err := DefaultConfig()
	if err != nil {
		return Config{}, err
	}
	if err := decodeStrict(data, &c); err != nil {
		return Config{}, fmt.Errorf("orchestrator: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// MaxConfigBytes bounds a scenario file.
const MaxConfigBytes = 16 << 20

// LoadConfig reads a scenario file (see ParseConfig), of at most
// MaxConfigBytes (reading /dev/zero stops there).
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("orchestrator: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("orchestrator: %s: %w", path, err)
	}
	if len(data) > MaxConfigBytes {
		return Config{}, fmt.Errorf("orchestrator: %s: more than %d bytes: not a scenario", path, MaxConfigBytes)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func decodeStrict(data []byte, v any) error {
	// An empty document changes nothing.
	if err := strict.YAML(data, v); err != nil && !errors.Is(err, strict.ErrEmpty) {
		return err
	}
	return nil
}

// InitialW returns the initial semantic weights W: w_init on the
// diagonal of the d×d matrix (the public starting point every node of a
// federation shares).
func (c *Config) InitialW() []float64 {
	d := c.Features
	w := make([]float64, d*d)
	for k := 0; k < d; k++ {
		w[k*d+k] = c.Plasticity.WInit
	}
	return w
}

// FusionConfig returns the fusion configuration with the Ising
// Hamiltonian filled in when set.
func (c *Config) FusionConfig() fusion.Config {
	f := c.Fusion
	if c.Ising != nil {
		q := f.Qubits
		if q == 0 {
			q = fusion.DefaultConfig().Qubits
		}
		f.Hamiltonian = c.Ising.Hamiltonian(q)
	}
	return f
}

// Validate checks every field and returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	nums := map[string]float64{
		"dynamics.lambda_h": c.Dynamics.LambdaH, "dynamics.lambda_g": c.Dynamics.LambdaG,
		"dynamics.alpha": c.Dynamics.Alpha, "dynamics.beta": c.Dynamics.Beta, "dynamics.gamma": c.Dynamics.Gamma,
		"step.min": c.Step.Min, "step.max": c.Step.Max, "step.exponent": c.Step.Exponent,
		"grounding.mu": c.Grounding.Mu, "grounding.omega": c.Grounding.Omega, "grounding.h": c.Grounding.H,
		"grounding.kappa": c.Grounding.Kappa, "plasticity.tau": c.Plasticity.Tau, "plasticity.w_max": c.Plasticity.WMax,
		"plasticity.eta": c.Plasticity.Eta, "plasticity.w_init": c.Plasticity.WInit,
		"reflexive.h_target": c.Reflexive.HTarget, "reflexive.gain": c.Reflexive.Gain,
		"reflexive.gamma_min": c.Reflexive.GammaMin, "reflexive.gamma_max": c.Reflexive.GammaMax,
		"meta.step": c.Meta.Step, "meta.trust": c.Meta.Trust, "meta.min": c.Meta.Min, "meta.max": c.Meta.Max,
	}
	for _, k := range cbor.SortedKeys(nums) {
		if v := nums[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			bad("%s is not finite", k)
		}
	}
	if c.Ticks < 1 {
		bad("ticks %d: want at least 1", c.Ticks)
	}
	q := c.Fusion.Qubits
	if q == 0 {
		q = fusion.DefaultConfig().Qubits
	}
	if q < 1 || q > 30 {
		bad("fusion.qubits %d: want 1..30", q)
	}
	if c.Features < 2 || c.Features > 256 || (q >= 1 && q <= 30 && c.Features > 1<<q) {
		bad("features %d: want 2..min(256, 2^qubits)", c.Features)
	}
	if !(c.Step.Min > 0) || c.Step.Max < c.Step.Min || c.Step.Exponent < 0 {
		bad("step: want 0 < min ≤ max and exponent ≥ 0 (got %v, %v, %v)", c.Step.Min, c.Step.Max, c.Step.Exponent)
	}
	if !(c.Grounding.H > 0) || c.Grounding.Kappa < 0 {
		bad("grounding: want h > 0 and kappa ≥ 0")
	}
	if err := c.Grounding.PSN.validate(); err != nil {
		errs = append(errs, err)
	}
	if !(c.Plasticity.Tau > 0) || !(c.Plasticity.WMax > 0) || c.Plasticity.Eta < 0 || math.Abs(c.Plasticity.WInit) > c.Plasticity.WMax {
		bad("plasticity: want tau > 0, w_max > 0, eta ≥ 0 and |w_init| ≤ w_max")
	}
	if c.Federation.Nodes < 1 || c.Federation.Nodes > 64 || c.Federation.Round < 1 {
		bad("federation: want 1 ≤ nodes ≤ 64 and round ≥ 1")
	}
	if c.Causality.Window < 6 || c.Causality.Window > 4096 {
		bad("causality.window %d: want 6..4096", c.Causality.Window)
	}
	if mu := c.Causality.Mutation; mu.Every < 0 || mu.Shots < 0 || mu.Shots > 1<<16 || math.IsNaN(mu.Threshold) || math.IsInf(mu.Threshold, 0) ||
		(mu.Every > 0 && !(mu.Threshold > 0)) {
		bad("causality.mutation: want every ≥ 0, 0 ≤ shots ≤ 65536 and, when on, a finite threshold > 0 (got %d, %d, %v)", mu.Every, mu.Shots, mu.Threshold)
	} else if mu.Every > 0 && c.Causality.Window < minMutationRows {
		bad("causality.window %d: mutations need at least %d ticks of history", c.Causality.Window, minMutationRows)
	}
	if c.Reflexive.Gain < 0 || !(c.Reflexive.GammaMin >= 0) || c.Reflexive.GammaMax < c.Reflexive.GammaMin {
		bad("reflexive: want gain ≥ 0 and 0 ≤ gamma_min ≤ gamma_max")
	}
	if c.Meta.Every < 0 || (c.Meta.Every > 0 && (c.Meta.Iterations < 1 || c.Meta.Population < 0 || c.Meta.Population == 1 || !(c.Meta.Step > 0) ||
		c.Meta.Trust < 0 || !(c.Meta.Min > 0) || c.Meta.Max < c.Meta.Min || len(c.Meta.Params) == 0)) {
		bad("meta: want every ≥ 0 and, when on, iterations ≥ 1, population 0 or ≥ 2, step > 0, trust ≥ 0, 0 < min ≤ max and some params")
	}
	for i, p := range c.Meta.Params {
		if !slices.Contains(MetaParams(), p) {
			bad("meta.params: %q: want one of %s", p, strings.Join(MetaParams(), ", "))
		} else if slices.Contains(c.Meta.Params[:i], p) {
			bad("meta.params: %q named twice", p)
		}
	}
	if c.Meta.Horizon < 0 || c.Meta.Horizon > 64 || (c.Meta.Every > 0 && c.Meta.tunesCoupling() && c.Meta.Horizon < 1) {
		bad("meta.horizon %d: want 0..64, and at least 1 when meta.params names alpha, beta or gamma", c.Meta.Horizon)
	}
	for _, p := range cbor.SortedKeys(c.Meta.Bounds) {
		b := c.Meta.Bounds[p]
		switch {
		case !slices.Contains(MetaParams(), p):
			bad("meta.bounds: %q: want one of %s", p, strings.Join(MetaParams(), ", "))
		case !(b[0] > 0) || !(b[1] >= b[0]) || math.IsInf(b[1], 0):
			bad("meta.bounds.%s %v: want 0 < low ≤ high, finite", p, b)
		}
	}
	// Caps on the CMA-ES work of one meta-optimisation (it runs on the
	// tick path): population × dimension vectors per generation, and
	// iterations generations. Each cap is raised by its environment
	// variable (a positive integer).
	metaCap := func(env string, def int) int {
		var v int
		if s := os.Getenv(env); s != "" {
			if _, err := fmt.Sscan(s, &v); err != nil || v < 1 {
				bad("%s=%q: want a positive integer", env, s)
				return def
			}
			return v
		}
		return def
	}
	if m := metaCap("MEC_META_MAX_POPULATION", 1000); c.Meta.Population > m {
		bad("meta.population %d: more than the limit of %d (raise it with MEC_META_MAX_POPULATION)", c.Meta.Population, m)
	}
	if m := metaCap("MEC_META_MAX_ITERATIONS", 10000); c.Meta.Iterations > m {
		bad("meta.iterations %d: more than the limit of %d (raise it with MEC_META_MAX_ITERATIONS)", c.Meta.Iterations, m)
	}
	if c.Checkpoint.Every < 1 || c.Checkpoint.Keep < 1 {
		bad("checkpoint: want every ≥ 1 and keep ≥ 1")
	}
	for i, f := range c.Faults {
		switch {
		case f.Tick < 1:
			bad("faults[%d]: tick %d: want ≥ 1", i, f.Tick)
		case f.Kind != FaultOverflowPsi && f.Kind != FaultCoupling && f.Kind != FaultNaNWeight && f.Kind != FaultDecohere && f.Kind != FaultPhaseKick:
			bad("faults[%d]: kind %q: want %s, %s, %s, %s or %s", i, f.Kind, FaultOverflowPsi, FaultCoupling, FaultNaNWeight, FaultDecohere, FaultPhaseKick)
		case f.Kind == FaultPhaseKick && (math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || f.Value == 0):
			bad("faults[%d]: value %v: a phase kick wants a finite, non-zero angle (radians)", i, f.Value)
		case math.IsNaN(f.Value) || math.IsInf(f.Value, 0):
			bad("faults[%d]: value is not finite", i)
		}
	}
	// The fusion section as fusion.New checks it (dt > 0, spike_steps
	// within limits.max_spike_steps, the network and Hamiltonian), so
	// that a bad scenario fails before anything runs.
	if q >= 1 && q <= 30 {
		if err := c.FusionConfig().Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Governance.Validate(knownMetric); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("orchestrator: config: %w", err)
	}
	return nil
}
