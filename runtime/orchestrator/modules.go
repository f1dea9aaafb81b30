package orchestrator

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/cmplx"
	"slices"
	"strings"
	"time"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/governance"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// Module names, in tick order.
const (
	QuantumFusion         = "QuantumFusion"
	ContextualGrounding   = "ContextualGrounding"
	SemanticPlasticity    = "SemanticPlasticity"
	FederatedNodeLearning = "FederatedNodeLearning"
	MetaCausality         = "MetaCausality"
	ReflexiveFeedback     = "ReflexiveFeedback"
	Governance            = "Governance"
	BlockchainTelemetry   = "BlockchainTelemetry"
)

// ModuleOrder returns the tick order of the modules.
func ModuleOrder() []string {
	return []string{QuantumFusion, ContextualGrounding, SemanticPlasticity, FederatedNodeLearning,
		MetaCausality, ReflexiveFeedback, Governance, BlockchainTelemetry}
}

// Target is the bus name of the orchestrator, to which modules address
// their messages.
const Target = "orchestrator"

// Module is one component of the runtime. Step reads the tick's
// telemetry (a copy of Ξ and the metrics reported so far) and returns the
// message to send — an encoded Update addressed to Target. A module never
// writes Ξ itself: the orchestrator applies the Update after the bus has
// verified the message's signature, and only to the paths the module owns.
type Module interface {
	// Name is the module's bus identity.
	Name() string
	// Step runs the module for one tick.
	Step(ctx context.Context, tel *Telemetry) (bus.Message, error)
}

// Telemetry is what a module sees during a tick.
type Telemetry struct {
	// Tick is the number of the tick being run (1-based).
	Tick uint64
	// Dt is the tick's time step.
	Dt float64
	// State is a copy of Ξ with the updates of the modules that ran
	// earlier in the tick applied.
	State *State
	// Metrics holds the metrics reported so far in this tick, on top of
	// the previous tick's (a module that did not run keeps its values).
	Metrics map[string]float64
	// Ran lists the modules that ran earlier in the tick.
	Ran []string
	// FusionTime is the timestamp of QuantumFusion's message of this tick
	// (zero when it did not run).
	FusionTime time.Time
	// Messages and Origins are the leaves (ledger.MessageLeaf) and senders
	// of the bus messages sealed since the last tick record, for
	// BlockchainTelemetry's record (nil for the other modules and in
	// reproducible runs).
	Messages []ledger.Hash
	Origins  []string
}

func reply(u *Update) bus.Message { return bus.Message{Target: Target, Body: u.Marshal()} }

// owners lists, for each writable path of Ξ, the modules allowed to write it.
var owners = map[string][]string{
	"psi.prob":       {QuantumFusion},
	"psi.bins":       {QuantumFusion},
	"s.rate":         {QuantumFusion},
	"theta.coupling": {QuantumFusion, ReflexiveFeedback},
	"phi.z":          {ContextualGrounding},
	"s.field":        {SemanticPlasticity},
	"theta.w":        {SemanticPlasticity, FederatedNodeLearning},
	"fed.drift":      {FederatedNodeLearning},
	"theta.causal":   {MetaCausality},
	"theta.graph":    {MetaCausality},
	"gov.history":    {MetaCausality},
	"gov.governance": {Governance},
}

// apply writes v at path in s after checking ownership and size.
func (s *State) apply(origin, path string, v []float64, d, window int) error {
	if !slices.Contains(owners[path], origin) {
		return fmt.Errorf("%s may not write %q", origin, path)
	}
	want := map[string]int{"psi.prob": d, "psi.bins": 2 * d, "s.rate": 1, "theta.coupling": 3, "phi.z": 2 * d,
		"s.field": d, "theta.w": d * d, "fed.drift": 1,
		"theta.causal": len(causalSeries) * len(causalSeries), "theta.graph": len(causalSeries) * len(causalSeries),
		"gov.governance": 8}[path]
	m := len(causalSeries)
	if path == "gov.history" {
		if len(v)%m != 0 || len(v) > window*m {
			return fmt.Errorf("%s: gov.history of %d values", origin, len(v))
		}
	} else if len(v) != want {
		return fmt.Errorf("%s: %q takes %d values, got %d", origin, path, want, len(v))
	}
	switch path {
	case "psi.prob":
		s.Prob = slices.Clone(v)
	case "psi.bins":
		s.Bins = unpackC(v)
	case "s.rate":
		s.Rate = v[0]
	case "theta.coupling":
		s.Theta.Alpha, s.Theta.Beta, s.Theta.Gamma = v[0], v[1], v[2]
	case "phi.z":
		s.Z = unpackC(v)
	case "s.field":
		s.Field = slices.Clone(v)
	case "theta.w":
		s.Theta.W = slices.Clone(v)
	case "fed.drift":
		s.Gov.FedDrift = v[0]
	case "theta.causal":
		s.Theta.Causal = slices.Clone(v)
	case "theta.graph":
		for _, x := range v {
			if x != 0 && x != 1 {
				return fmt.Errorf("%s: theta.graph holds %v, not 0 or 1", origin, x)
			}
		}
		s.Theta.Graph = slices.Clone(v)
	case "gov.history":
		s.Gov.History = slices.Clone(v)
	case "gov.governance":
		g := &s.Gov
		g.C, g.Health, g.Stability, g.DStability, g.LInt, g.EDiv = v[0], v[1], v[2], v[3], v[4], v[5]
		if !(v[6] >= 0 && v[7] >= v[6] && v[7] < 1<<53) {
			return fmt.Errorf("%s: bad evaluation counts %v, %v", origin, v[6], v[7])
		}
		g.Satisfied, g.Evaluated = uint64(v[6]), uint64(v[7])
	}
	return nil
}

func packC(z []complex128) []float64 {
	v := make([]float64, 0, 2*len(z))
	for _, x := range z {
		v = append(v, real(x), imag(x))
	}
	return v
}

func unpackC(v []float64) []complex128 {
	z := make([]complex128, len(v)/2)
	for i := range z {
		z[i] = complex(v[2*i], v[2*i+1])
	}
	return z
}

// MetricNames returns every metric the runtime reports, with its meaning;
// rules may name any of them, and "rule.<name>" for a rule's last outcome.
func MetricNames() map[string]string { return maps.Clone(metricDocs) }

var metricDocs = map[string]string{
	"h_coh":                    "QuantumFusion: coherence entropy H_coh of ψ (0: basis state, 1: uniform)",
	"dh_coh_dt":                "QuantumFusion: dH_coh/dt over the fusion step",
	"h_phase":                  "QuantumFusion: quantum–neural phase entropy H_φ (integration §19's coherence entropy): the weighted entropy of arg ψ_a − arg F[S]_a (fusion.PhaseEntropy)",
	"phase_diff":               "QuantumFusion: |φ_ψ − φ_S|, the phase of ⟨F[S], ψ⟩",
	"phase":                    "QuantumFusion: φ_ψ − φ_S (signed)",
	"e_coh":                    "QuantumFusion: coherence functional E_coh",
	"r":                        "QuantumFusion: order parameter r of ψ",
	"rate_hz":                  "QuantumFusion: firing rate of the spiking network (Hz)",
	"norm_drift":               "QuantumFusion: ‖ψ‖ − 1 before renormalisation",
	"v_max_mv":                 "QuantumFusion: highest membrane potential after the step (mV)",
	"voltage_violations":       "QuantumFusion: voltage-cap violations reported by the fusion layer",
	"resonance_violations":     "QuantumFusion: resonance violations reported by the fusion layer",
	"ace_recalibrated":         "QuantumFusion: 1 when the fusion layer's ACE recalibrated in the step",
	"grad_exchanged":           "QuantumFusion: 1 when the gradient exchange ∇θ_fusion = λ_Q∇L_Q + λ_N∇L_N + λ_P∇L_P updated Θ (H's coefficients, α, β, γ) after the step",
	"grad_loss":                "QuantumFusion: the fused loss λ_Q·L_Q + λ_N·L_N + λ_P·L_P before the gradient exchange",
	"grad_loss_after":          "QuantumFusion: the fused loss after the gradient exchange (same ψ and spike spectrum)",
	"meta_mutated":             "QuantumFusion: 1 when meta-evolution Θ ← Θ + η_Q·ε_Q − η_N·∇L_N mutated Θ after the step (recorded as a \"mutation\" ledger event)",
	"meta_outcomes":            "QuantumFusion: measurement outcomes sampled from ψ by the backend for the last mutation's ε_Q",
	"theta_change":             "QuantumFusion: ‖ΔΘ‖/‖Θ‖ of the learning after the step",
	"lambda_q":                 "QuantumFusion: λ_Q after inject_meta_graph (MetaCausality's graph of the last tick)",
	"lambda_n":                 "QuantumFusion: λ_N after inject_meta_graph",
	"lambda_p":                 "QuantumFusion: λ_P after inject_meta_graph",
	"semantic_phase_div":       "QuantumFusion: ‖phase_to_semantic(ψ) − f_Q‖², how far the phase-weighted semantic activities are from f_Q",
	"monitor_entropy":          "QuantumFusion: monitor_entropy, H_coh of ψ after the step as the fusion layer reports it",
	"grounding_error":          "ContextualGrounding: Σ_k |Z_k − u_k|²",
	"memory_stored":            "QuantumFusion: 1 when the step's spike pattern joined the memory store as a projector P_S = |S⟩⟨S| (fusion §10)",
	"memory_size":              "QuantumFusion: patterns in the memory store",
	"memory_recall":            "QuantumFusion: recall accuracy by overlap of the stored patterns, each with two bits flipped (MemoryProbeFlips) and every qubit rotated by R_y(0.3)",
	"det_j":                    "QuantumFusion: det J of the last fusion step map (fusion §13: > 0)",
	"det_j_skipped":            "QuantumFusion: 1 when the register is too large for the Jacobian or the engine cannot evaluate it (rules on det_j are then suspended)",
	"phase_order":              "ContextualGrounding: Kuramoto order parameter of Φ",
	"psn_order":                "ContextualGrounding: order parameter r of Φ's phases after the PSN step (fusion §9)",
	"psn_spread":               "ContextualGrounding: largest |Φ_k − Φ̄| after the PSN step (radians)",
	"mcc_rate":                 "ContextualGrounding: max_{i,j} |d/dt(Φ_i − Φ_j)| over the tick (integration §3, Meta-Causal Consistency)",
	"plasticity_error":         "SemanticPlasticity: ‖f_Q − f_S‖²",
	"w_norm":                   "SemanticPlasticity: Frobenius norm of W",
	"federated_drift":          "FederatedNodeLearning: max_j ‖W_j − W̄‖_F over the public parameters of the nodes averaged in the last round (0 alone)",
	"federated_nodes":          "FederatedNodeLearning: nodes averaged in the last round (this one included)",
	"federated_rounds_skipped": "FederatedNodeLearning: round ticks skipped because the previous round was still out",
	"federated_eta":            "FederatedNodeLearning: consensus step η of the last round (clamped to the graph's stability bound)",
	"federated_rate":           "FederatedNodeLearning: predicted contraction of the disagreement per round, max_{k≥2} |1 − ηλ_k|",
	"dp_epsilon":               "FederatedNodeLearning: this node's running differential-privacy ε (0 without DP)",
	"phase_consensus":          "QuantumFusion: the federation's consensus phase φ̄ (federated nodes)",
	"phase_offset":             "QuantumFusion: φ_i − φ̄, this node's phase offset from the consensus",
	"phase_outlier":            "QuantumFusion: 1 while this node is farther than ε_φ from φ̄ (decoupled)",
	"phase_resync":             "QuantumFusion: 1 on the tick the ACE resynchronised ψ's phase to φ̄",
	"phase_recentred":          "QuantumFusion: 1 on the tick the ACE turned ψ's global phase back onto φ_S (|φ_ψ − φ_S| past half the resonance band)",
	"causal_n_to_q":            "MetaCausality: Granger influence of the firing rate on H_coh",
	"causal_q_to_n":            "MetaCausality: Granger influence of H_coh on the firing rate",
	"causal_max":               "MetaCausality: largest off-diagonal Granger influence",
	"causal_proposed":          "MetaCausality: 1 when it proposed a quantum mutation of its causal graph in the tick (integration §10; recorded as a \"causal-mutation\" ledger event with its ε)",
	"causal_mutated":           "MetaCausality: 1 when the proposed mutation lowered the graph's BIC and was accepted",
	"causal_outcomes":          "MetaCausality: measurement outcomes sampled from ψ by the backend for the last proposal's ε",
	"causal_edges":             "MetaCausality: edges in its causal graph (of m(m−1))",
	"causal_bic":               "MetaCausality: BIC of the VAR(1) fit of its series under the causal graph in use",
	"reflex_error":             "ReflexiveFeedback: H_coh − H_target",
	"reflex_gamma":             "ReflexiveFeedback: the γ it set",
	"c":                        "Governance: compliance C(t) of the tick",
	"health":                   "Governance: health score",
	"stability":                "Governance: S(t) = αC − βH_coh − γE_div",
	"dstability_dt":            "Governance: dS/dt",
	"l_int":                    "Governance: L_int = E_div + λ_H·H_coh + λ_G·(1 − C)",
	"e_div":                    "Governance: E_div = Σ_{i<j} ‖f_i − f_j‖²",
	"decision_rollback":        "Governance: 1 when the tick is rolled back",
	"rules_suspended":          "Governance: rules not evaluated because their module is isolated",
	"ledger_commit_lag_ms":     "BlockchainTelemetry: longest append-to-durable time of the previous tick (ms)",
	"ledger_size":              "BlockchainTelemetry: records in the ledger",
	"compliance":               "orchestrator: satisfied / evaluated rules over the committed ticks before this one",
	"reflex_latency_s":         "orchestrator: wall time from QuantumFusion's message to ReflexiveFeedback's update being applied (s)",
	"state_finite":             "orchestrator: 1 when every value of Ξ is finite",
	"module_errors":            "orchestrator: modules that failed in the tick (error, rejected message, forbidden write)",
	"bus_rejected":             "orchestrator: messages the bus has rejected so far",
	"dt":                       "orchestrator: the tick's time step Δt",
}

func knownMetric(name string) bool {
	_, ok := metricDocs[name]
	return ok || strings.HasPrefix(name, "rule.") || strings.HasPrefix(name, "mutation.") || strings.HasPrefix(name, "causal_mutation.")
}

// quantumFusion steps the fusion engine and, in a federation, takes part
// in the phase consensus.
type quantumFusion struct {
	eng   Engine
	d     int
	fed   Federation
	every uint64  // publish the phase every this many ticks
	band  float64 // the resonance limit |φ_ψ − φ_S| < band (0: none)
}

func (m *quantumFusion) Name() string { return QuantumFusion }

func (m *quantumFusion) Step(ctx context.Context, tel *Telemetry) (bus.Message, error) {
	th := tel.State.Theta
	if a, b, g := m.eng.Coupling(); a != th.Alpha || b != th.Beta || g != th.Gamma {
		m.eng.SetCoupling(th.Alpha, th.Beta, th.Gamma)
	}
	if tel.Dt != m.eng.Dt() {
		if err := m.eng.SetDt(tel.Dt); err != nil {
			return bus.Message{}, err
		}
	}
	var u Update
	fi, hasFI := m.eng.(FusionInterfaces)
	if hasFI {
		// inject_meta_graph: MetaCausality's matrix of the last tick.
		w, err := fi.InjectMetaGraph(metaGraph(th.Causal))
		if err != nil {
			return bus.Message{}, err
		}
		u.Metric("lambda_q", w.Q)
		u.Metric("lambda_n", w.N)
		u.Metric("lambda_p", w.P)
	}
	r, err := m.eng.Step(ctx)
	if err != nil {
		return bus.Message{}, err
	}
	learningMetrics(&u, r.Learning)
	if sz, ok := m.eng.(Stabilizer); !ok || m.eng.Qubits() > fusion.MaxJacobianQubits {
		u.Metric("det_j_skipped", 1) // its rules are suspended
	} else {
		det, err := sz.DetJ()
		if err != nil {
			return bus.Message{}, fmt.Errorf("stability: %w", err)
		}
		u.Metric("det_j", det)
		u.Metric("det_j_skipped", 0)
	}
	if mz, ok := m.eng.(Memorizer); ok && mz.Memory() != nil {
		st := 0.0
		if r.Memory != nil && r.Memory.Stored {
			st = 1
		}
		mem := mz.Memory()
		u.Metric("memory_stored", st)
		u.Metric("memory_size", float64(len(mem.Patterns())))
		if acc := mem.RecallAccuracy(MemoryProbeFlips, MemoryProbeNoise, tel.Tick); !math.IsNaN(acc) {
			u.Metric("memory_recall", acc)
		}
	}
	if hasFI {
		a, err := fi.PhaseToSemantic(m.d)
		if err != nil {
			return bus.Message{}, err
		}
		u.Metric("semantic_phase_div", sqDist(a, foldProb(m.eng.Psi(), m.d)))
		u.Metric("monitor_entropy", fi.MonitorEntropy())
	}
	// turn rotates ψ by the global phase −by (|ψ|² is unchanged), which
	// moves arg⟨F[S], ψ⟩ = φ_ψ − φ_S by −by.
	turn := func(by float64, what string) error {
		psi := slices.Clone(m.eng.Psi())
		rot := cmplx.Rect(1, -by)
		for i := range psi {
			psi[i] *= rot
		}
		if err := m.eng.Load(psi); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	turned := false
	if m.fed != nil {
		pr, err := m.fed.Phase(tel.Tick, r.Phase, tel.Tick%max(m.every, 1) == 0)
		if err != nil {
			return bus.Message{}, err
		}
		u.Metric("phase_consensus", pr.Mean)
		u.Metric("phase_offset", pr.Offset)
		u.Metric("phase_outlier", float64(boolU64(pr.Outlier)))
		resync := 0.0
		if pr.Outlier {
			// The node's ACE resynchronises it: ψ turns by −(φ_i − φ̄),
			// which moves arg⟨F[S], ψ⟩ onto the consensus; on decoupling
			// the ACE also recalibrates. It follows the consensus only as
			// far as the node's own resonance band allows: φ̄ is clamped
			// to ±band/2 (a margin for the next step), so that a
			// consensus near the band's edge (peers' phases of ticks they
			// then rolled back) cannot push the node out of resonance
			// tick after tick.
			target := pr.Mean
			if m.band > 0 {
				target = max(-m.band/2, min(m.band/2, target))
			}
			if err := turn(consensus.AngleDiff(r.Phase, target), "phase resynchronisation"); err != nil {
				return bus.Message{}, err
			}
			if pr.Decoupled {
				m.eng.Recalibrate()
			}
			resync, turned = 1, true
		}
		u.Metric("phase_resync", resync)
	}
	recentred := 0.0
	if !turned && m.band > 0 && math.Abs(r.Phase) > m.band/2 {
		// The ACE recentres the phase: ψ's global phase winds at its
		// energy offset (the shifted Ising Hamiltonian leaves |0…0⟩'s
		// second-order shift, about 10⁻² per unit time), so φ_ψ − φ_S
		// drifts slowly out of the resonance band over a long run, and
		// rolling back replays the same drift. Once past half the band
		// ψ turns back onto φ_S; a jump past the band within one tick
		// is still a violation.
		if err := turn(r.Phase, "phase recentring"); err != nil {
			return bus.Message{}, err
		}
		recentred = 1
	}
	u.Metric("phase_recentred", recentred)
	prob, bins := Fold(m.eng.Psi(), m.d)
	u.Write("psi.prob", prob)
	u.Write("psi.bins", packC(bins))
	u.Write("s.rate", []float64{r.RateHz})
	if a, b, g := m.eng.Coupling(); a != th.Alpha || b != th.Beta || g != th.Gamma {
		u.Write("theta.coupling", []float64{a, b, g})
	}
	volt, res := float64(r.VoltageViolations), float64(r.ResonanceViolations)
	for k, v := range map[string]float64{"h_coh": r.HCoh, "h_phase": r.HPhase, "dh_coh_dt": r.DHCohDt, "phase_diff": r.PhaseDiff, "phase": r.Phase, "e_coh": r.ECoh,
		"r": r.R, "rate_hz": r.RateHz, "norm_drift": r.NormDrift, "v_max_mv": r.VMaxMV,
		"voltage_violations": volt, "resonance_violations": res, "ace_recalibrated": float64(boolU64(r.Recalibrated))} {
		u.Metric(k, v)
	}
	return reply(&u), nil
}

// metaGraph reads the fusion layer's meta graph off Θ's causal matrix
// (rows: cause, over CausalSeries()): quantum is h_coh, neural rate_hz,
// phase grounding_error. A matrix of another size (none yet) is the zero
// graph; influences are clamped into [0, 1].
func metaGraph(causal []float64) fusion.MetaGraph {
	var g fusion.MetaGraph
	m := len(causalSeries)
	if len(causal) != m*m {
		return g
	}
	for i := range 3 {
		for j := range 3 {
			if v := causal[i*m+j]; v > 0 {
				g.Influence[i][j] = min(v, 1)
			}
		}
	}
	return g
}

// learningMetrics reports the fusion layer's learning after the step.
// The mutation's ε_Q and ΔΘ go in as "mutation.eps.k" and
// "mutation.dtheta.k", which BlockchainTelemetry records as a "mutation"
// event.
func learningMetrics(u *Update, l *fusion.LearningStep) {
	var grad, mut, loss, after, rel float64
	if l != nil {
		if l.Gradient {
			grad, loss, after = 1, l.Loss, l.LossAfter
		}
		var d2, n2 float64
		for k := range l.Theta {
			d2 += l.DTheta[k] * l.DTheta[k]
			n2 += (l.Theta[k] - l.DTheta[k]) * (l.Theta[k] - l.DTheta[k])
		}
		if n2 > 0 {
			rel = math.Sqrt(d2 / n2)
		}
		if l.Mutated {
			mut = 1
			u.Metric("meta_outcomes", float64(l.Shots))
			for k, e := range l.Epsilon {
				u.Metric(fmt.Sprintf("mutation.eps.%d", k), e)
				u.Metric(fmt.Sprintf("mutation.dtheta.%d", k), l.DTheta[k])
			}
		}
	}
	u.Metric("grad_exchanged", grad)
	u.Metric("grad_loss", loss)
	u.Metric("grad_loss_after", after)
	u.Metric("meta_mutated", mut)
	u.Metric("theta_change", rel)
}

func foldProb(psi []complex128, d int) []float64 {
	p, _ := Fold(psi, d)
	return p
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for k := range a {
		s += (a[k] - b[k]) * (a[k] - b[k])
	}
	return s
}

// contextualGrounding advances the Stuart–Landau oscillators Φ and
// synchronises their phases through the PSN.
type contextualGrounding struct {
	osc Oscillators
	psn PSN
}

func (m *contextualGrounding) Name() string { return ContextualGrounding }

func (m *contextualGrounding) Step(_ context.Context, tel *Telemetry) (bus.Message, error) {
	s := tel.State
	z, ps, err := m.psn.Step(s.Z, m.osc.Advance(s.Z, s.Bins, s.Theta.Kappa, tel.Dt), tel.Dt)
	if err != nil {
		return bus.Message{}, err
	}
	e := 0.0
	for k := range z {
		d := z[k] - s.Bins[k]
		e += real(d)*real(d) + imag(d)*imag(d)
	}
	var u Update
	u.Write("phi.z", packC(z))
	u.Metric("grounding_error", e)
	u.Metric("phase_order", PhaseOrder(z))
	u.Metric("psn_order", ps.R)
	u.Metric("psn_spread", ps.Spread)
	u.Metric("mcc_rate", ps.MCCRate)
	return reply(&u), nil
}

// semanticPlasticity learns W and relaxes the neural field S.
type semanticPlasticity struct{ p Plasticity }

func (m *semanticPlasticity) Name() string { return SemanticPlasticity }

func (m *semanticPlasticity) Step(_ context.Context, tel *Telemetry) (bus.Message, error) {
	s := tel.State
	x := normalise(s.Prob)
	w := slices.Clone(s.Theta.W)
	y := m.p.Learn(w, x, s.Theta.Eta, tel.Dt)
	field := slices.Clone(s.Field)
	m.p.Relax(field, y, tel.Dt)
	nw := 0.0
	for _, v := range w {
		nw += v * v
	}
	var u Update
	u.Write("theta.w", w)
	u.Write("s.field", field)
	u.Metric("plasticity_error", sqdist(x, normalise(field)))
	u.Metric("w_norm", math.Sqrt(nw))
	return reply(&u), nil
}

// RoundWait is how long a round tick waits for its federated round to
// complete; a round that takes longer (slow or missing peers) completes in
// the background and is applied at a later tick, so that the network never
// holds up the runtime's reflexes.
const RoundWait = 20 * time.Millisecond

// federatedNodeLearning averages W with the other nodes of the
// federation (package federation) every Round ticks; alone it measures a
// drift of 0.
//
// A round starts at a round tick with the current W and runs in the
// background; when it completes (within RoundWait of the same tick, or at
// a later tick) its consensus step — the round's result minus the W it
// started from — is added to the W of that tick, so local learning in
// between is kept. A node is at most one round ahead of its federation:
// the next round tick first waits for the round still out (pace, before
// the tick's QuantumFusion step, so the wait is not part of the reflexive
// latency; the federation bounds a round by its round timeout). A
// rollback abandons a round in flight: its result is dropped, and the
// next round starts only once it returned (never two rounds at once).
type federatedNodeLearning struct {
	cfg       FederationConfig
	fed       Federation
	inflight  *roundCall
	abandoned *roundCall
	skipped   uint64
}

type roundCall struct {
	sent []float64
	done chan struct{}
	res  *federation.RoundResult
	err  error
}

func (m *federatedNodeLearning) Name() string { return FederatedNodeLearning }

// reset abandons the round in flight (after a rollback).
func (m *federatedNodeLearning) reset() {
	if m.inflight != nil {
		m.abandoned = m.inflight
	}
	m.inflight = nil
}

// pace waits, before a round tick runs, for the round still in flight
// (and for an abandoned one to return).
func (m *federatedNodeLearning) pace(ctx context.Context, tick uint64) error {
	if m.fed == nil || tick%uint64(m.cfg.Round) != 0 {
		return nil
	}
	for _, c := range []*roundCall{m.abandoned, m.inflight} {
		if c == nil {
			continue
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.abandoned = nil
	return nil
}

func (m *federatedNodeLearning) Step(ctx context.Context, tel *Telemetry) (bus.Message, error) {
	var u Update
	if m.fed == nil {
		u.Write("fed.drift", []float64{0})
		u.Metric("federated_drift", 0)
		u.Metric("federated_nodes", 1)
		return reply(&u), nil
	}
	w := tel.State.Theta.W
	u.Metric("federated_drift", tel.State.Gov.FedDrift) // the last round's, until a round completes
	if tel.Tick%uint64(m.cfg.Round) == 0 {
		if c := m.inflight; c != nil {
			select {
			case <-c.done: // paced: apply it, then start the next
				if err := m.apply(&u, w, c); err != nil {
					return bus.Message{}, err
				}
				w = u.Writes["theta.w"]
			default:
			}
		}
		if a := m.abandoned; a != nil {
			select {
			case <-a.done:
				m.abandoned = nil
			case <-ctx.Done():
				return bus.Message{}, ctx.Err()
			}
		}
		if m.inflight == nil {
			c := &roundCall{sent: slices.Clone(w), done: make(chan struct{})}
			r := tel.Tick / uint64(m.cfg.Round)
			go func() {
				defer close(c.done)
				c.res, c.err = m.fed.Round(ctx, r, c.sent)
			}()
			m.inflight = c
			select {
			case <-c.done:
			case <-time.After(RoundWait):
			case <-ctx.Done():
				return bus.Message{}, ctx.Err()
			}
		} else {
			m.skipped++ // only when pace was skipped: a round that failed to finish
		}
	}
	u.Metric("federated_rounds_skipped", float64(m.skipped))
	c := m.inflight
	if c == nil {
		return reply(&u), nil
	}
	select {
	case <-c.done:
	default:
		return reply(&u), nil // still out: applied at a later tick
	}
	if err := m.apply(&u, w, c); err != nil {
		return bus.Message{}, err
	}
	return reply(&u), nil
}

// apply adds a completed round's consensus step to W.
func (m *federatedNodeLearning) apply(u *Update, w []float64, c *roundCall) error {
	m.inflight = nil
	if c.err != nil {
		return c.err
	}
	res := c.res
	nw := slices.Clone(w)
	for i := range nw {
		nw[i] += res.Theta[i] - c.sent[i]
	}
	u.Write("theta.w", nw)
	u.Write("fed.drift", []float64{res.Drift})
	u.Metric("federated_drift", res.Drift)
	u.Metric("federated_nodes", float64(len(res.Members)))
	u.Metric("federated_eta", res.Eta)
	u.Metric("federated_rate", res.Rate)
	u.Metric("dp_epsilon", res.Epsilon)
	return nil
}

// metaCausality estimates lag-1 Granger influences between the layers
// and, with mutations on, evolves its causal graph by quantum mutations.
type metaCausality struct {
	window int
	mut    CausalMutation
	noise  QuantumSampler // ε's source; nil with mutations off
	qubits int            // the register's size
}

func (m *metaCausality) Name() string { return MetaCausality }

func (m *metaCausality) Step(_ context.Context, tel *Telemetry) (bus.Message, error) {
	k := len(causalSeries)
	h := slices.Clone(tel.State.Gov.History)
	for _, name := range causalSeries {
		v, ok := tel.Metrics[name]
		if !ok {
			v = 0
		}
		h = append(h, v)
	}
	if len(h) > m.window*k {
		h = h[len(h)-m.window*k:]
	}
	rows := len(h) / k
	series := make([][]float64, k)
	for i := range series {
		series[i] = make([]float64, rows)
		for t := 0; t < rows; t++ {
			series[i][t] = h[t*k+i]
		}
	}
	var u Update
	graph := tel.State.Theta.Graph
	if m.mut.Every > 0 {
		if graph == nil {
			graph = fullGraph(k)
		}
		proposed := 0.0
		if rows >= minMutationRows && tel.Tick%uint64(m.mut.Every) == 0 {
			g, err := m.mutate(&u, tel.Tick, series, graph)
			if err != nil {
				return bus.Message{}, err
			}
			graph, proposed = g, 1
		}
		edges := 0.0
		for _, e := range graph {
			edges += e
		}
		u.Metric("causal_proposed", proposed)
		u.Metric("causal_edges", edges)
		u.Metric("causal_bic", GraphBIC(series, graph))
		if proposed == 0 {
			u.Metric("causal_mutated", 0)
		}
		u.Write("theta.graph", graph)
	} else {
		// Mutations off: a graph kept in Θ (a state saved with them on)
		// is left there but prunes nothing.
		graph = nil
	}
	g := make([]float64, k*k)
	mx := 0.0
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			if i != j && (graph == nil || graph[i*k+j] == 1) {
				g[i*k+j] = Granger(series[i], series[j])
				mx = math.Max(mx, g[i*k+j])
			}
		}
	}
	u.Write("gov.history", h)
	u.Write("theta.causal", g)
	u.Metric("causal_n_to_q", g[1*k+0])
	u.Metric("causal_q_to_n", g[0*k+1])
	u.Metric("causal_max", mx)
	return reply(&u), nil
}

// minMutationRows is the window a mutation needs: the VAR(1) fit of a
// target with every cause has 2 + (m − 1) coefficients, and the BIC
// wants more residuals than that.
const minMutationRows = 2 * (len(causalSeries) + 1)

// fullGraph is the graph with every edge i → j, i ≠ j.
func fullGraph(k int) []float64 {
	g := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			if i != j {
				g[i*k+j] = 1
			}
		}
	}
	return g
}

// mutate proposes a quantum mutation of the causal graph (integration
// §10): ε, one component per edge i → j (i ≠ j, row-major), is drawn from
// measurement outcomes of the register by the backend's sampler
// (fusion.QuantumNoise: 0 for a qubit in a Z eigenstate), and the
// proposal flips every edge with |ε_e| > Threshold. It is accepted when it
// lowers the graph's BIC on the window (GraphBIC). The proposal, its ε,
// the flips and both scores go into the update as causal_mutation.*
// metrics, which BlockchainTelemetry records as a "causal-mutation" event.
func (m *metaCausality) mutate(u *Update, tick uint64, series [][]float64, graph []float64) ([]float64, error) {
	k := len(series)
	shots := m.mut.Shots
	if shots == 0 {
		shots = 64
	}
	eps, err := m.noise.QuantumNoise(k*(k-1), shots, m.mut.Seed, tick)
	if err != nil {
		return nil, fmt.Errorf("causal mutation: %w", err)
	}
	prop := slices.Clone(graph)
	flips, e := 0, 0
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			if i == j {
				continue
			}
			u.Metric(fmt.Sprintf("causal_mutation.eps.%d", e), eps[e])
			if math.Abs(eps[e]) > m.mut.Threshold {
				prop[i*k+j] = 1 - prop[i*k+j]
				flips++
			}
			e++
		}
	}
	before, after := GraphBIC(series, graph), GraphBIC(series, prop)
	accepted := flips > 0 && after < before
	u.Metric("causal_mutation.flips", float64(flips))
	u.Metric("causal_mutation.bic_before", before)
	u.Metric("causal_mutation.bic_after", after)
	u.Metric("causal_mutation.accepted", float64(boolU64(accepted)))
	u.Metric("causal_mutated", float64(boolU64(accepted)))
	// fusion.QuantumNoise reads component e on qubit e mod n, from a
	// fresh set of shots per round of n components
	u.Metric("causal_outcomes", float64(shots*((k*(k-1)+m.qubits-1)/m.qubits)))
	if accepted {
		return prop, nil
	}
	return graph, nil
}

// GraphBIC scores a causal graph on the series (each oldest first, of
// equal length n + 1): Σ_j [n·ln(RSS_j/n) + p_j·ln n] for the
// least-squares VAR(1) fits y_j(t+1) ~ 1 + y_j(t) + Σ_{i → j in graph}
// y_i(t), with p_j = 1 + the number of regressors the fit used (its own
// lag and its causes; fitRSS: a design that cannot be solved drops causes
// until it can). RSS_j is floored at 1e-12·TSS_j (TSS_j the total sum of
// squares of y_j(t+1)), so that on a series predicted exactly rounding
// noise does not decide between graphs, and a constant target (TSS_j = 0)
// is left out: no graph explains it better than another.
func GraphBIC(series [][]float64, graph []float64) float64 {
	k := len(series)
	n := len(series[0]) - 1
	if n < 1 {
		return 0
	}
	bic := 0.0
	for j := 0; j < k; j++ {
		cols := []int{j}
		for i := 0; i < k; i++ {
			if i != j && graph[i*k+j] == 1 {
				cols = append(cols, i)
			}
		}
		t := tss(series[j][1:])
		if !(t > 0) {
			continue
		}
		rss, used := fitRSS(series, j, cols)
		bic += float64(n)*math.Log(math.Max(rss, 1e-12*t)/float64(n)) + float64(1+used)*math.Log(float64(n))
	}
	return bic
}

// reflexiveFeedback steers γ toward the entropy target.
type reflexiveFeedback struct{ cfg ReflexiveConfig }

func (m *reflexiveFeedback) Name() string { return ReflexiveFeedback }

func (m *reflexiveFeedback) Step(_ context.Context, tel *Telemetry) (bus.Message, error) {
	th := tel.State.Theta
	h, ok := tel.Metrics["h_coh"]
	if !ok || !finite(h) {
		return bus.Message{}, fmt.Errorf("reflexive feedback: no finite h_coh to act on")
	}
	e := h - m.cfg.HTarget
	c := 0.0
	if k := len(causalSeries); len(th.Causal) == k*k {
		c = th.Causal[1*k+0] // firing rate → H_coh
	}
	g := math.Max(m.cfg.GammaMin, math.Min(m.cfg.GammaMax, th.Gamma*math.Exp(-m.cfg.Gain*(1+c)*e)))
	var u Update
	u.Write("theta.coupling", []float64{th.Alpha, th.Beta, g})
	u.Metric("reflex_error", e)
	u.Metric("reflex_gamma", g)
	return reply(&u), nil
}

// governanceModule evaluates the constitution and the integration dynamics.
type governanceModule struct {
	cons         *governance.Constitution
	w            Weights
	reproducible bool // rules on wall-clock metrics are not evaluated
}

func (m *governanceModule) Name() string { return Governance }

func (m *governanceModule) Step(_ context.Context, tel *Telemetry) (bus.Message, error) {
	s := tel.State
	var isolated []string
	for _, iso := range s.Gov.Isolated {
		if s.IsIsolated(iso.Module) {
			isolated = append(isolated, iso.Module)
		}
	}
	var skip []string
	if tel.Metrics["det_j_skipped"] == 1 {
		skip = append(skip, "det_j")
	}
	if m.reproducible {
		skip = append(skip, TimingMetrics()...)
	}
	// S(t) uses C'(t), the compliance of the rules on figures other than
	// Governance's own (a rule on dS/dt cannot be part of the S it
	// judges); the rules are then evaluated on this tick's figures.
	pre := m.cons.EvaluateExcept(tel.Metrics, isolated, append(slices.Clone(skip), governanceOutputs...))
	fq, fs, fp := Features(s.Prob, s.Field, s.Z)
	ediv := Divergence(fq, fs, fp)
	h := tel.Metrics["h_coh"]
	st := m.w.Stability(pre.C, h, ediv)
	ds := 0.0
	if s.Gov.Evaluated > 0 {
		ds = (st - s.Gov.Stability) / tel.Dt
	}
	now := maps.Clone(tel.Metrics)
	now["c"], now["stability"], now["dstability_dt"], now["e_div"] = pre.C, st, ds, ediv
	now["l_int"] = m.w.LInt(ediv, h, pre.C)
	now["health"] = governance.Health(pre.C, st, tel.Metrics["state_finite"] == 1)
	res := m.cons.EvaluateExcept(now, isolated, skip)
	l := m.w.LInt(ediv, h, res.C)
	health := governance.Health(res.C, st, tel.Metrics["state_finite"] == 1)
	rollback := res.Rollback || health < m.cons.TauSafe
	var u Update
	u.Write("gov.governance", []float64{res.C, health, st, ds, l, ediv,
		float64(s.Gov.Satisfied + uint64(res.Satisfied)), float64(s.Gov.Evaluated + uint64(len(res.Outcomes)-res.Suspended))})
	for k, v := range map[string]float64{"c": res.C, "health": health, "stability": st, "dstability_dt": ds,
		"l_int": l, "e_div": ediv, "decision_rollback": float64(boolU64(rollback))} {
		u.Metric(k, v)
	}
	for _, o := range res.Outcomes {
		if o.Suspended {
			u.Metric("rule."+o.Rule.Name, -1) // suspended: its module is isolated
			continue
		}
		u.Metric("rule."+o.Rule.Name, float64(boolU64(o.OK)))
	}
	u.Metric("rules_suspended", float64(res.Suspended))
	return reply(&u), nil
}

// MemoryProbeFlips and MemoryProbeNoise are the perturbation of the
// recall accuracy QuantumFusion reports: every stored spike pattern with
// two bits flipped and each qubit rotated by R_y(0.3). Patterns are stored
// at least min_distance (default 3) apart, so one flip is always recalled;
// two flips can land nearer another pattern, so the figure measures the
// store rather than restating its guarantee.
const (
	MemoryProbeFlips = 2
	MemoryProbeNoise = 0.3
)

// governanceOutputs are the metrics Governance computes itself; rules on
// them see this tick's values, computed with the compliance C' of the
// other rules.
var governanceOutputs = []string{"c", "health", "stability", "dstability_dt", "l_int", "e_div"}

// blockchainTelemetry writes the tick to the ledger.
type blockchainTelemetry struct {
	rec *Recorder
	o   *Orchestrator // its clock and mode (nil in unit tests: wall clock)
}

func (m *blockchainTelemetry) stamp(tick uint64, wall time.Time) time.Time {
	if m.o == nil || !m.o.cfg.Reproducible {
		return wall
	}
	return m.o.stamp(tick)
}

func (m *blockchainTelemetry) Name() string { return BlockchainTelemetry }

func (m *blockchainTelemetry) Step(ctx context.Context, tel *Telemetry) (bus.Message, error) {
	var lag time.Duration
	if slices.Contains(tel.Ran, QuantumFusion) {
		ev := telemetry.FusionEvent{Timestamp: m.stamp(tel.Tick, tel.FusionTime), CoherenceEntropy: tel.Metrics["h_coh"],
			AvgPhaseDiff: tel.Metrics["phase_diff"], FusionEnergy: tel.Metrics["e_coh"]}
		_, l, err := m.rec.appendFusion(ctx, ev)
		if err != nil {
			return bus.Message{}, err
		}
		lag = max(lag, l)
	}
	fields := make(map[string]telemetry.Value, len(tel.Metrics)+3)
	// The mutations of the tick, each in its own record: the fusion
	// layer's meta-evolution ("mutation.*" metrics) and MetaCausality's
	// proposals ("causal_mutation.*").
	// A fusion mutation carries the time of QuantumFusion's message; a
	// causal one the time it is recorded (MetaCausality also runs while
	// QuantumFusion is isolated, when there is no fusion time).
	kinds := []struct {
		prefix, kind, source string
		due                  bool
		at                   time.Time
		fields               map[string]telemetry.Value
	}{
		{"mutation.", "mutation", QuantumFusion, slices.Contains(tel.Ran, QuantumFusion) && tel.Metrics["meta_mutated"] == 1, tel.FusionTime, nil},
		{"causal_mutation.", "causal-mutation", MetaCausality, slices.Contains(tel.Ran, MetaCausality) && tel.Metrics["causal_proposed"] == 1, time.Now(), nil},
	}
metrics:
	for k, v := range tel.Metrics {
		for i := range kinds {
			mk := &kinds[i]
			if !strings.HasPrefix(k, mk.prefix) {
				continue
			}
			if mk.due {
				if mk.fields == nil {
					mk.fields = map[string]telemetry.Value{"tick": telemetry.Num(float64(tel.Tick))}
				}
				mk.fields[strings.TrimPrefix(k, mk.prefix)] = telemetry.Num(v)
			}
			continue metrics // in the mutation's own record
		}
		fields[k] = telemetry.Num(v)
	}
	if len(tel.Messages) > 0 {
		bf, err := ledger.BatchFields(tel.Origins, tel.Messages)
		if err != nil {
			return bus.Message{}, err
		}
		maps.Copy(fields, bf)
	}
	for _, mk := range kinds {
		if mk.fields == nil {
			continue
		}
		_, l, err := m.rec.Append(ctx, telemetry.SystemEvent{Timestamp: m.stamp(tel.Tick, mk.at), Source: mk.source, Kind: mk.kind, Fields: mk.fields})
		if err != nil {
			return bus.Message{}, err
		}
		lag = max(lag, l)
	}
	fields["tick"] = telemetry.Num(float64(tel.Tick))
	fields["t"] = telemetry.Num(tel.State.Time)
	fields["ran"] = telemetry.Str(strings.Join(tel.Ran, ","))
	if m.o != nil && m.o.cfg.Reproducible {
		for _, k := range TimingMetrics() {
			delete(fields, k) // wall-clock facts: in the log and metrics, not the records
		}
	}
	_, l, err := m.rec.Append(ctx, telemetry.SystemEvent{Timestamp: m.stamp(tel.Tick, time.Now()), Source: "orchestrator", Kind: "tick", Fields: fields})
	if err != nil {
		return bus.Message{}, err
	}
	lag = max(lag, l)
	var u Update
	u.Metric("ledger_commit_lag_ms", float64(lag)/1e6)
	u.Metric("ledger_size", float64(m.rec.led.Size()))
	return reply(&u), nil
}
