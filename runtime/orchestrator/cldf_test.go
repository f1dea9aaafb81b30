package orchestrator

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// cldfScenario tunes every parameter of MetaParams on the CLDF objective.
func cldfScenario(lambdaH float64) func(*Config) {
	return func(c *Config) {
		c.Faults = nil
		c.Reproducible = true // no wall-clock rule steers the trajectory
		c.Dynamics.LambdaH = lambdaH
		c.Meta.Every = 20
		c.Meta.Params = MetaParams()
		c.Meta.Horizon = 3
		c.Meta.Bounds = map[string][2]float64{"alpha": {10, 200}, "beta": {5, 80}, "gamma": {0.005, 0.08}}
	}
}

// TestCLDFWired: the meta-optimiser minimises the spec's L_int = E_div +
// λ_H·H_coh + λ_G·(1 − C) over α, β, γ, κ and η. Each run lowers the
// objective on its replay (recorded window + rolled-out steps), its terms
// add up to L_int with the scenario's λ's, the tuned values are the ones
// the run continues with (Θ, and the engine's coupling at the next step),
// the coupling moves (only the rollout can move it: the recorded window
// does not depend on it), the ledger records each run with its terms, and
// a different λ_H gives a different optimum.
func TestCLDFWired(t *testing.T) {
	type result struct {
		runs []MetaRun
		recs []telemetry.SystemEvent
	}
	runIt := func(lambdaH float64) result {
		o, led := newRuntime(t, cldfScenario(lambdaH))
		var r result
		for range 40 {
			rep, err := o.Tick(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Meta == nil {
				continue
			}
			r.runs = append(r.runs, *rep.Meta)
			th := o.State().Theta
			got := []float64{th.Alpha, th.Beta, th.Gamma, th.Kappa, th.Eta}
			if !slices.Equal(got, rep.Meta.After) {
				t.Errorf("λ_H %v tick %d: Θ %v after the run, the run's result %v", lambdaH, rep.Tick, got, rep.Meta.After)
			}
			if _, err := o.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			// The next tick's fusion step ran with the tuned coupling (the
			// fusion layer learns after steps 5k and 10k only, its ACE acts
			// above H_coh 0.9, and ReflexiveFeedback moves γ after the step).
			if a, b, g := o.eng.Coupling(); !slices.Equal([]float64{a, b, g}, rep.Meta.After[:3]) {
				t.Errorf("λ_H %v: the engine ran with α, β, γ = %v, %v, %v after the run set %v", lambdaH, a, b, g, rep.Meta.After[:3])
			}
		}
		err := ledger.Scan(led.Dir(), func(rec ledger.Record) error {
			if e, ok := rec.Event.(telemetry.SystemEvent); ok && e.Kind == "meta-optimise" {
				r.recs = append(r.recs, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := runIt(1)
	if len(base.runs) != 2 || len(base.recs) != 2 {
		t.Fatalf("%d runs, %d ledger records in 40 ticks, want 2 and 2", len(base.runs), len(base.recs))
	}
	moved := false
	for i, r := range base.runs {
		if r.ObjectiveAfter > r.ObjectiveBefore {
			t.Errorf("run %d raised the objective: %+v → %+v", i, r.TermsBefore, r.TermsAfter)
		}
		if !slices.Equal(r.Before, r.After) {
			if !(r.TermsAfter.LInt < r.TermsBefore.LInt) {
				t.Errorf("run %d moved Θ without lowering L_int: %+v → %+v", i, r.TermsBefore, r.TermsAfter)
			}
			moved = moved || !slices.Equal(r.Before[:3], r.After[:3])
		}
		for _, tt := range []Terms{r.TermsBefore, r.TermsAfter} {
			if l := tt.EDiv + tt.HCoh + tt.Breach; math.Abs(l-tt.LInt) > 1e-12 {
				t.Errorf("run %d: L_int %v, terms sum to %v (λ_H = λ_G = 1)", i, tt.LInt, l)
			}
		}
		if r.Horizon != 3 || r.Replay < 4 {
			t.Errorf("run %d: replay %d ticks + %d steps", i, r.Replay, r.Horizon)
		}
		for k, p := range r.Params {
			lo, hi := cldfBound(p)
			if v := r.After[k]; v != r.Before[k] && !(v >= lo && v <= hi) {
				t.Errorf("run %d: %s = %v outside [%v, %v]", i, p, v, lo, hi)
			}
		}
		f := base.recs[i].Fields
		if f["l_int_after"].Num != r.TermsAfter.LInt || f["h_coh_before"].Num != r.TermsBefore.HCoh || f["alpha_after"].Num != r.After[0] {
			t.Errorf("run %d: ledger record %v does not hold the run's terms", i, f)
		}
	}
	if !moved {
		t.Error("no run moved the coupling α, β, γ")
	}
	other := runIt(0)
	if slices.Equal(other.runs[0].After, base.runs[0].After) {
		t.Errorf("λ_H 0 and 1 give the same optimum %v", base.runs[0].After)
	}
}

func cldfBound(p string) (lo, hi float64) {
	var c Config
	cldfScenario(1)(&c)
	c.Meta.Min, c.Meta.Max = 0.05, 50
	return c.Meta.Bound(p)
}

// metaSurrogate runs the CLDF scenario (meta-optimisation off) for 8 ticks
// with γ and η set to 0 (a gamma_min of 0, plasticity off) and returns
// the runtime and its meta-optimiser's objective.
func metaSurrogate(t *testing.T) (*Orchestrator, *Surrogate) {
	t.Helper()
	o, _ := newRuntime(t, func(c *Config) { cldfScenario(1)(c); c.Meta.Every = 1000 })
	mustRun(t, o, 8)
	o.st.Theta.Gamma, o.st.Theta.Eta = 0, 0
	sur, err := o.surrogate(t.Context())
	if err != nil || sur == nil {
		t.Fatalf("surrogate: %v, %v", sur, err)
	}
	return o, sur
}

// TestMetaParamAtZero: a tuned parameter at 0 stays tunable: the trust
// penalty is centred on its value clamped into its bounds, so a candidate
// there scores a finite objective with a penalty of trust·ln(v/lo)²
// rather than +Inf; without bounds, moving it is an error naming it.
func TestMetaParamAtZero(t *testing.T) {
	_, sur := metaSurrogate(t)
	for _, p := range []string{"gamma", "eta"} {
		lo, _ := sur.Bound(p)
		c := sur.Start
		*c.ref(p) = 2 * lo
		tt, err := sur.Eval(c)
		if err != nil {
			t.Fatal(err)
		}
		want := sur.Trust * math.Ln2 * math.Ln2
		if math.IsInf(tt.Objective, 0) || math.Abs(tt.Penalty-want) > 1e-12*want {
			t.Errorf("%s at 0 moved to %v: objective %v, penalty %v, want %v", p, 2*lo, tt.Objective, tt.Penalty, want)
		}
	}
	nb := *sur
	nb.Bound = nil
	c := sur.Start
	c.Eta = 0.1
	if _, err := nb.Eval(c); err == nil || !strings.Contains(err.Error(), "eta") {
		t.Errorf("η moved from 0 with no bounds: %v, want an error naming eta", err)
	}
}

// TestMetaStopsOnError: once an evaluation fails, CMA-ES rolls out no
// further candidate and the run returns that error.
func TestMetaStopsOnError(t *testing.T) {
	o, sur := metaSurrogate(t)
	roll, calls := sur.Roll, 0
	boom := errors.New("rollout failed")
	sur.Roll = func(a, b, g float64, visit func(EngineStep, []complex128) error) error {
		if calls++; calls == 2 {
			return boom
		}
		return roll(a, b, g, visit)
	}
	if _, err := o.optimise(t.Context(), sur); !errors.Is(err, boom) {
		t.Fatalf("optimise: %v, want the rollout's error", err)
	}
	if calls != 2 {
		t.Errorf("%d rollouts, want 2 (the start, then the failing candidate)", calls)
	}
}
