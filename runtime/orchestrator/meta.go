package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/optimize"

	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/governance"
	"github.com/prismai/mec/runtime/telemetry"
)

// MetaParams are the parameters of Θ that the meta-optimiser may tune, in
// their order in MetaConfig.Params: the fusion coupling α, β, γ (the
// quantum → neural drive and the neural → quantum feedback), the
// grounding strength κ and the plasticity rate η. They are every scalar of
// Θ that sets how the layers couple or learn; W and the causal matrix are
// learned or estimated by their own modules every tick.
func MetaParams() []string { return []string{"alpha", "beta", "gamma", "kappa", "eta"} }

// couplingParams are the MetaParams that act on the register: scoring them
// needs a rollout of the engine.
var couplingParams = []string{"alpha", "beta", "gamma"}

// Candidate is a point of the meta-optimiser's search: one value for each
// of MetaParams.
type Candidate struct {
	Alpha, Beta, Gamma, Kappa, Eta float64
}

func candidateOf(th Theta) Candidate {
	return Candidate{Alpha: th.Alpha, Beta: th.Beta, Gamma: th.Gamma, Kappa: th.Kappa, Eta: th.Eta}
}

func (c *Candidate) ref(name string) *float64 {
	switch name {
	case "alpha":
		return &c.Alpha
	case "beta":
		return &c.Beta
	case "gamma":
		return &c.Gamma
	case "kappa":
		return &c.Kappa
	case "eta":
		return &c.Eta
	}
	return nil
}

// Terms are the terms of the CLDF objective (integration §7) over a
// replay, each a mean over its steps: L_int = EDiv + λ_H·HCoh + λ_G·Breach,
// plus the trust penalty that keeps an update near the current
// parameters; Objective is their sum, the value CMA-ES minimises.
type Terms struct {
	// EDiv is the mean Σ_{i<j}‖f_i − f_j‖² over f_Q, f_S and f_Φ.
	EDiv float64 `json:"e_div"`
	// HCoh is the mean coherence entropy H_coh.
	HCoh float64 `json:"h_coh"`
	// Breach is the mean 1 − C, C the constitution's compliance.
	Breach float64 `json:"one_minus_c"`
	// LInt is EDiv + λ_H·HCoh + λ_G·Breach.
	LInt float64 `json:"l_int"`
	// Penalty is trust·Σ_p (ln p − ln p₀)² over MetaParams.
	Penalty float64 `json:"penalty"`
	// Objective is LInt + Penalty.
	Objective float64 `json:"objective"`
}

// MetaRun is one CMA-ES meta-optimisation.
type MetaRun struct {
	// Tick is the tick after which it ran.
	Tick uint64 `json:"tick"`
	// Params names the optimised parameters.
	Params []string `json:"params"`
	// Before holds their values before the run.
	Before []float64 `json:"before"`
	// After holds their values after it (equal to Before when nothing improved).
	After []float64 `json:"after"`
	// ObjectiveBefore is the surrogate objective at Before.
	ObjectiveBefore float64 `json:"objective_before"`
	// ObjectiveAfter is the surrogate objective at After.
	ObjectiveAfter float64 `json:"objective_after"`
	// TermsBefore and TermsAfter are the objective's terms at Before and After.
	TermsBefore Terms `json:"terms_before"`
	TermsAfter  Terms `json:"terms_after"`
	// Replay is the number of recorded ticks replayed, Horizon the
	// number of engine steps rolled out after them.
	Replay  int `json:"replay"`
	Horizon int `json:"horizon"`
	// Evaluations is the number of objective evaluations.
	Evaluations int `json:"evaluations"`
}

// Surrogate is the meta-optimiser's objective, the CLDF functional of
// integration §7 on a replay: L(p) = mean_t [E_div(t) + λ_H·H_coh(t) +
// λ_G·(1 − C(t))] + trust·Σ (ln p − ln p₀)².
//
// The replay runs the grounding (κ; then the PSN when it is on) and
// plasticity (η) layers from the
// current Φ, S and W over, first, the recorded window of quantum features
// f_Q — with the H_coh and C recorded on those ticks, which κ and η do not
// change: neither layer feeds the register — and then, when Roll is set,
// over Horizon engine steps rolled out from the current register with the
// candidate α, β, γ, whose f_Q, H_coh and compliance C (the constitution
// on the step's metrics; rules on other figures suspended) are measured.
type Surrogate struct {
	// Window holds the recorded f_Q, oldest first; HCoh and C the H_coh
	// and compliance of the same ticks.
	Window  [][]float64
	HCoh, C []float64
	// Z, Field and W are the starting Φ, neural field and weights.
	Z     []complex128 // Φ at the start of the replay
	Field []float64    // neural field at the start
	W     []float64    // semantic weights at the start
	// Start is the current parameters: the values of the parameters not
	// tuned, and, clamped into Bound, the trust penalty's centre p₀.
	Start Candidate
	// Bound returns a tuned parameter's bounds [lo, hi], 0 < lo ≤ hi
	// (MetaConfig.Bound). A parameter at 0 or below (γ at a gamma_min of
	// 0, η = 0 with plasticity off) is thus still tunable: its penalty is
	// centred on lo. Nil: the penalty is centred on Start, and moving a
	// parameter that is not > 0 there is an error naming it.
	Bound func(param string) (lo, hi float64)
	// Dt is the replay's time step.
	Dt float64
	// Osc, PSN and Plasticity are the layers' fixed settings.
	Osc        Oscillators // grounding oscillators
	PSN        PSNConfig   // phase synchronisation after each grounding step (run on engines/kuramoto)
	Plasticity Plasticity  // plasticity rule
	// Weights holds λ_H and λ_G (the dynamics' weights, as Governance's L_int).
	Weights Weights
	// Trust weighs the penalty.
	Trust float64
	// Horizon is the number of rolled-out engine steps; Roll runs them
	// (nil: no rollout) and Cons scores each.
	Horizon int
	Roll    func(alpha, beta, gamma float64, visit func(EngineStep, []complex128) error) error
	Cons    *governance.Constitution
}

// rolloutMetrics are the metrics a rolled-out engine step reports, for the
// constitution (rules on any other metric are suspended there).
func rolloutMetrics(es EngineStep) map[string]float64 {
	return map[string]float64{"h_coh": es.HCoh, "dh_coh_dt": es.DHCohDt, "h_phase": es.HPhase, "phase_diff": es.PhaseDiff,
		"phase": es.Phase, "e_coh": es.ECoh, "r": es.R, "rate_hz": es.RateHz, "norm_drift": es.NormDrift, "v_max_mv": es.VMaxMV,
		"voltage_violations": float64(es.VoltageViolations), "resonance_violations": float64(es.ResonanceViolations),
		"state_finite": 1, "module_errors": 0}
}

// Eval returns the objective's terms at p. A candidate whose rollout
// leaves the finite states (a *fusion.NonFiniteError) scores +Inf; any
// other rollout failure is the error.
func (s *Surrogate) Eval(p Candidate) (Terms, error) {
	z := slices.Clone(s.Z)
	field := slices.Clone(s.Field)
	w := slices.Clone(s.W)
	var t Terms
	n := 0
	var perr error // a PSN step's error (mismatched lengths)
	advance := func(f []float64, u []complex128, h, c float64) {
		y := s.Plasticity.Learn(w, f, p.Eta, s.Dt)
		s.Plasticity.Relax(field, y, s.Dt)
		zn := s.Osc.Advance(z, u, p.Kappa, s.Dt)
		if s.PSN.K > 0 && perr == nil {
			zn, _, perr = (&PSN{cfg: s.PSN}).Step(z, zn, s.Dt)
		}
		if perr != nil {
			return
		}
		z = zn
		fq, fs, fp := Features(f, field, z)
		t.EDiv += Divergence(fq, fs, fp)
		t.HCoh += h
		t.Breach += 1 - c
		n++
	}
	u := make([]complex128, len(z))
	for i, f := range s.Window {
		for k, q := range f {
			u[k] = complex(math.Sqrt(q), 0)
		}
		advance(f, u, s.HCoh[i], s.C[i])
	}
	if s.Roll != nil && s.Horizon > 0 {
		var skip []string
		for _, r := range s.Cons.Rules {
			if _, ok := rolloutMetrics(EngineStep{})[r.Metric]; !ok {
				skip = append(skip, r.Metric)
			}
		}
		err := s.Roll(p.Alpha, p.Beta, p.Gamma, func(es EngineStep, psi []complex128) error {
			prob, bins := Fold(psi, len(z))
			res := s.Cons.EvaluateExcept(rolloutMetrics(es), nil, skip)
			advance(normalise(prob), bins, es.HCoh, res.C)
			return nil
		})
		var nf *fusion.NonFiniteError
		if errors.As(err, &nf) {
			inf := math.Inf(1)
			return Terms{EDiv: inf, HCoh: inf, Breach: inf, LInt: inf, Objective: inf}, nil
		}
		if err != nil {
			return Terms{}, err
		}
	}
	if perr != nil {
		return Terms{}, fmt.Errorf("orchestrator: CLDF replay: %w", perr)
	}
	if n > 0 {
		t.EDiv, t.HCoh, t.Breach = t.EDiv/float64(n), t.HCoh/float64(n), t.Breach/float64(n)
	}
	t.LInt = s.Weights.LInt(t.EDiv, t.HCoh, 1-t.Breach)
	for _, name := range MetaParams() {
		v, v0 := *p.ref(name), *s.Start.ref(name)
		if v == v0 {
			continue
		}
		if s.Bound != nil {
			lo, hi := s.Bound(name)
			v0 = math.Min(hi, math.Max(lo, v0))
		}
		if !(v0 > 0) || !(v > 0) {
			return Terms{}, fmt.Errorf("orchestrator: CLDF trust penalty: meta parameter %s moves from %v to %v; the penalty needs both > 0 (set Surrogate.Bound)", name, v0, v)
		}
		t.Penalty += math.Pow(math.Log(v/v0), 2)
	}
	t.Penalty *= s.Trust
	t.Objective = t.LInt + t.Penalty
	if math.IsNaN(t.Objective) {
		t.Objective = math.Inf(1)
	}
	return t, nil
}

// metaOptimise runs CMA-ES (gonum optimize.CmaEsChol, seeded by the
// scenario seed and the tick) on the selected parameters in log space,
// each bounded (MetaConfig.Bound), on the Surrogate, and applies the
// result to Θ when it lowers the objective. Each run is a
// "meta-optimise" ledger record.
func (o *Orchestrator) metaOptimise(ctx context.Context) (*MetaRun, error) {
	sur, err := o.surrogate(ctx)
	if sur == nil || err != nil {
		return nil, err
	}
	return o.optimise(ctx, sur)
}

// surrogate builds the meta-optimiser's objective on the recorded window
// (nil when fewer than 4 ticks are recorded).
func (o *Orchestrator) surrogate(ctx context.Context) (*Surrogate, error) {
	st := o.st
	d := o.cfg.Features
	rows := len(st.Gov.Probs) / d
	if rows < 4 {
		return nil, nil
	}
	mc := o.cfg.Meta
	sur := &Surrogate{Z: st.Z, Field: st.Field, W: st.Theta.W, Start: candidateOf(st.Theta), Bound: mc.Bound, Dt: st.Dt,
		Osc: o.cfg.Grounding.Oscillators, PSN: o.cfg.Grounding.PSN, Plasticity: o.cfg.Plasticity.Plasticity, Weights: o.cfg.Dynamics,
		Trust: mc.Trust, Cons: o.cons}
	for r := 0; r < rows; r++ {
		sur.Window = append(sur.Window, st.Gov.Probs[r*d:(r+1)*d])
		// the recorded H_coh and C of the same committed ticks
		h, c := o.prev["h_coh"], o.prev["c"]
		if i := len(o.committed) - rows + r; i >= 0 {
			h, c = o.committed[i].hcoh, o.committed[i].c
		}
		sur.HCoh, sur.C = append(sur.HCoh, h), append(sur.C, c)
	}
	params := mc.Params
	if mc.tunesCoupling() {
		rl, ok := o.eng.(Roller)
		if !ok {
			return nil, fmt.Errorf("orchestrator: meta-optimisation: meta.params %v: the engine cannot roll out candidate couplings", params)
		}
		sur.Horizon = mc.Horizon
		sur.Roll = func(alpha, beta, gamma float64, visit func(EngineStep, []complex128) error) error {
			return rl.Rollout(ctx, mc.Horizon, alpha, beta, gamma, st.Dt, visit)
		}
	}
	return sur, nil
}

// optimise runs CMA-ES on sur (see metaOptimise).
func (o *Orchestrator) optimise(ctx context.Context, sur *Surrogate) (*MetaRun, error) {
	st := o.st
	mc := o.cfg.Meta
	params := mc.Params
	rows := len(sur.Window)
	x0 := make([]float64, len(params))
	before := make([]float64, len(params))
	for i, p := range params {
		lo, hi := mc.Bound(p)
		before[i] = *sur.Start.ref(p)
		x0[i] = math.Log(math.Min(hi, math.Max(lo, before[i])))
	}
	decode := func(x []float64) Candidate {
		c := sur.Start
		for i, p := range params {
			lo, hi := mc.Bound(p)
			*c.ref(p) = math.Min(hi, math.Max(lo, math.Exp(x[i])))
		}
		return c
	}
	evals := 0
	var evalErr error
	f := func(x []float64) float64 {
		if evalErr != nil {
			// One failed evaluation ends the run: gonum's CMA-ES
			// cannot be stopped from here, so the remaining candidates
			// score +Inf without a rollout.
			return math.Inf(1)
		}
		evals++
		t, err := sur.Eval(decode(x))
		if err != nil {
			evalErr = err
			return math.Inf(1)
		}
		return t.Objective
	}
	t0, err := sur.Eval(sur.Start)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: meta-optimisation: %w", err)
	}
	method := &optimize.CmaEsChol{InitStepSize: mc.Step, Population: mc.Population,
		Src: rand.NewPCG(o.cfg.Seed, st.Tick)}
	res, err := optimize.Minimize(optimize.Problem{Func: f}, x0,
		&optimize.Settings{MajorIterations: mc.Iterations, Concurrent: 1, Converger: optimize.NeverTerminate{}}, method)
	if evalErr != nil {
		return nil, fmt.Errorf("orchestrator: meta-optimisation: %w", evalErr)
	}
	if err != nil && res == nil {
		return nil, fmt.Errorf("orchestrator: meta-optimisation: %w", err)
	}
	run := &MetaRun{Tick: st.Tick, Params: slices.Clone(params), Before: before, After: slices.Clone(before),
		ObjectiveBefore: t0.Objective, ObjectiveAfter: t0.Objective, TermsBefore: t0, TermsAfter: t0,
		Replay: rows, Horizon: sur.Horizon, Evaluations: evals}
	if res != nil && res.F < t0.Objective {
		c := decode(res.X)
		t1, err := sur.Eval(c)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: meta-optimisation: %w", err)
		}
		st.Theta.Alpha, st.Theta.Beta, st.Theta.Gamma, st.Theta.Kappa, st.Theta.Eta = c.Alpha, c.Beta, c.Gamma, c.Kappa, c.Eta
		run.ObjectiveAfter, run.TermsAfter = t1.Objective, t1
		for i, p := range params {
			run.After[i] = *c.ref(p)
		}
	}
	o.metaRuns = append(o.metaRuns, *run)
	fields := map[string]telemetry.Value{"tick": telemetry.Num(float64(st.Tick)), "objective_before": telemetry.Num(t0.Objective),
		"objective_after": telemetry.Num(run.ObjectiveAfter), "evaluations": telemetry.Num(float64(evals)),
		"replay": telemetry.Num(float64(rows)), "horizon": telemetry.Num(float64(sur.Horizon)),
		"lambda_h": telemetry.Num(o.cfg.Dynamics.LambdaH), "lambda_g": telemetry.Num(o.cfg.Dynamics.LambdaG)}
	for _, tt := range []struct {
		when string
		t    Terms
	}{{"before", run.TermsBefore}, {"after", run.TermsAfter}} {
		fields["e_div_"+tt.when] = telemetry.Num(tt.t.EDiv)
		fields["h_coh_"+tt.when] = telemetry.Num(tt.t.HCoh)
		fields["one_minus_c_"+tt.when] = telemetry.Num(tt.t.Breach)
		fields["l_int_"+tt.when] = telemetry.Num(tt.t.LInt)
	}
	for i, p := range params {
		fields[p+"_before"], fields[p+"_after"] = telemetry.Num(run.Before[i]), telemetry.Num(run.After[i])
	}
	if _, _, err := o.rec.Append(ctx, telemetry.SystemEvent{Timestamp: o.stamp(st.Tick), Source: "orchestrator", Kind: "meta-optimise", Fields: fields}); err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	return run, nil
}
