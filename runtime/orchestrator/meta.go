package orchestrator

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/optimize"

	"github.com/prismai/mec/runtime/telemetry"
)

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
	// Evaluations is the number of objective evaluations.
	Evaluations int `json:"evaluations"`
}

// Surrogate is the meta-optimisation objective: it replays the recorded
// window of quantum features f_Q through the grounding and plasticity
// layers, from the current Φ, S and W, with candidate κ and η, and returns
// the mean cross-layer divergence E_div of the replay plus the trust
// penalty trust·Σ_i (ln p_i − ln p0_i)².
type Surrogate struct {
	// Window holds the recorded f_Q, oldest first.
	Window [][]float64
	// Z, Field and W are the starting Φ, neural field and weights.
	Z     []complex128 // Φ at the start of the replay
	Field []float64    // neural field at the start
	W     []float64    // semantic weights at the start
	// Kappa and Eta are the current parameters p0 of the trust penalty.
	Kappa float64 // current κ
	Eta   float64 // current η
	// Dt is the replay's time step.
	Dt float64
	// Osc and Plasticity are the layers' fixed settings.
	Osc        Oscillators // grounding oscillators
	Plasticity Plasticity  // plasticity rule
	// Trust weighs the penalty.
	Trust float64
}

// Eval returns the objective for κ and η.
func (s *Surrogate) Eval(kappa, eta float64) float64 {
	z := slices.Clone(s.Z)
	field := slices.Clone(s.Field)
	w := slices.Clone(s.W)
	u := make([]complex128, len(z))
	sum := 0.0
	for _, f := range s.Window {
		for k, p := range f {
			u[k] = complex(math.Sqrt(p), 0)
		}
		y := s.Plasticity.Learn(w, f, eta, s.Dt)
		s.Plasticity.Relax(field, y, s.Dt)
		z = s.Osc.Advance(z, u, kappa, s.Dt)
		fq, fs, fp := Features(f, field, z)
		sum += Divergence(fq, fs, fp)
	}
	pen := math.Pow(math.Log(kappa/s.Kappa), 2) + math.Pow(math.Log(eta/s.Eta), 2)
	return sum/float64(max(1, len(s.Window))) + s.Trust*pen
}

// metaOptimise runs CMA-ES (gonum optimize.CmaEsChol, seeded by the
// scenario seed and the tick) on the selected parameters in log space,
// bounded to [Meta.Min, Meta.Max], and applies the result when it lowers
// the surrogate objective.
func (o *Orchestrator) metaOptimise(ctx context.Context) (*MetaRun, error) {
	st := o.st
	d := o.cfg.Features
	rows := len(st.Gov.Probs) / d
	if rows < 4 {
		return nil, nil
	}
	sur := &Surrogate{Z: st.Z, Field: st.Field, W: st.Theta.W, Kappa: st.Theta.Kappa, Eta: st.Theta.Eta, Dt: st.Dt,
		Osc: o.cfg.Grounding.Oscillators, Plasticity: o.cfg.Plasticity.Plasticity, Trust: o.cfg.Meta.Trust}
	for r := 0; r < rows; r++ {
		sur.Window = append(sur.Window, st.Gov.Probs[r*d:(r+1)*d])
	}
	mc := o.cfg.Meta
	params := mc.Params
	cur := map[string]float64{"kappa": st.Theta.Kappa, "eta": st.Theta.Eta}
	x0 := make([]float64, len(params))
	before := make([]float64, len(params))
	for i, p := range params {
		before[i] = cur[p]
		x0[i] = math.Log(math.Min(mc.Max, math.Max(mc.Min, cur[p])))
	}
	decode := func(x []float64) (kappa, eta float64) {
		v := map[string]float64{"kappa": st.Theta.Kappa, "eta": st.Theta.Eta}
		for i, p := range params {
			v[p] = math.Min(mc.Max, math.Max(mc.Min, math.Exp(x[i])))
		}
		return v["kappa"], v["eta"]
	}
	evals := 0
	f := func(x []float64) float64 {
		evals++
		k, e := decode(x)
		v := sur.Eval(k, e)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	f0 := sur.Eval(st.Theta.Kappa, st.Theta.Eta)
	method := &optimize.CmaEsChol{InitStepSize: mc.Step, Population: mc.Population,
		Src: rand.NewPCG(o.cfg.Seed, st.Tick)}
	res, err := optimize.Minimize(optimize.Problem{Func: f}, x0,
		&optimize.Settings{MajorIterations: mc.Iterations, Concurrent: 1, Converger: optimize.NeverTerminate{}}, method)
	if err != nil && res == nil {
		return nil, fmt.Errorf("orchestrator: meta-optimisation: %w", err)
	}
	run := &MetaRun{Tick: st.Tick, Params: slices.Clone(params), Before: before, After: slices.Clone(before),
		ObjectiveBefore: f0, ObjectiveAfter: f0, Evaluations: evals}
	if res != nil && res.F < f0 {
		k, e := decode(res.X)
		st.Theta.Kappa, st.Theta.Eta = k, e
		run.ObjectiveAfter = sur.Eval(k, e)
		for i, p := range params {
			run.After[i] = map[string]float64{"kappa": k, "eta": e}[p]
		}
	}
	o.metaRuns = append(o.metaRuns, *run)
	fields := map[string]telemetry.Value{"tick": telemetry.Num(float64(st.Tick)), "objective_before": telemetry.Num(f0),
		"objective_after": telemetry.Num(run.ObjectiveAfter), "evaluations": telemetry.Num(float64(evals))}
	for i, p := range params {
		fields[p+"_before"], fields[p+"_after"] = telemetry.Num(run.Before[i]), telemetry.Num(run.After[i])
	}
	if _, _, err := o.rec.Append(ctx, telemetry.SystemEvent{Timestamp: o.stamp(st.Tick), Source: "orchestrator", Kind: "meta-optimise", Fields: fields}); err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	return run, nil
}
