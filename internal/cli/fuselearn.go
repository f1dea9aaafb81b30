package cli

import (
	"fmt"
	"io"
	"math"

	"github.com/prismai/mec/fusion"
)

// fuseLearning is mec fuse's account of the learning rules and interfaces.
type fuseLearning struct {
	Learning struct {
		// Exchanges and Mutations count the updates of the run.
		Exchanges int `json:"gradient_exchanges"`
		Mutations int `json:"mutations"`
		// Lowered counts the exchanges that lowered the fused loss at the
		// state they saw; LossBefore and LossAfter are its means.
		Lowered    int     `json:"exchanges_lowering_loss"`
		LossBefore float64 `json:"mean_loss_before"`
		LossAfter  float64 `json:"mean_loss_after"`
		// Shots is the number of measurement outcomes behind ε_Q,
		// EpsRMS the root mean square of its components.
		Shots  int     `json:"measurement_outcomes"`
		EpsRMS float64 `json:"epsilon_rms"`
		// Theta0 and Theta are Θ = [H coefficients, α, β, γ] before the
		// first update and at the end; RelChange is ‖ΣΔΘ‖/‖Θ₀‖ over the
		// learning updates alone (the ACE also moves α and γ).
		Theta0    []float64 `json:"theta_initial"`
		Theta     []float64 `json:"theta"`
		RelChange float64   `json:"theta_relative_change"`
	}
	// Memory is the spike-pattern store at the end (fusion §10).
	Memory *struct {
		Patterns []uint64 `json:"patterns"`
		// Recall is the recall accuracy by overlap of the stored patterns
		// with one bit flipped and every qubit rotated by R_y(0.3); Recall2
		// the same with two bits flipped.
		Recall  float64 `json:"recall_accuracy"`
		Recall2 float64 `json:"recall_accuracy_2_flips"`
	} `json:"memory,omitempty"`
	// Criteria are fusion §13's stability criteria over the run.
	Criteria struct {
		// DHDecreasing counts the steps with dH_coh/dt < 0, DHTolerated
		// those below the runtime rule's tolerance of 1 per unit time.
		Steps        int `json:"steps"`
		DHDecreasing int `json:"dh_coh_dt_negative"`
		DHTolerated  int `json:"dh_coh_dt_below_1"`
		// PhaseMax and PhaseMean summarise H_φ over the steps.
		PhaseMax  float64 `json:"h_phase_max"`
		PhaseMean float64 `json:"h_phase_mean"`
	} `json:"stability_criteria"`
	Interfaces struct {
		// Weights are λ_Q, λ_N, λ_P after inject_meta_graph (none
		// injected by mec fuse: the configured weights).
		Weights fusion.Weights `json:"inject_meta_graph_weights"`
		// Semantic is phase_to_semantic's activities on 8 bins.
		Semantic []float64 `json:"phase_to_semantic"`
		// Entropy is monitor_entropy.
		Entropy float64 `json:"monitor_entropy"`
	}
}

// summariseLearning collects the learning reports of ms and calls the
// interfaces on the final state.
func summariseLearning(sys *fusion.System, ms []fusion.Metrics) (*fuseLearning, error) {
	f := &fuseLearning{}
	l := &f.Learning
	l.Theta = sys.Theta().Vector()
	var sq float64
	var n int
	var sum []float64
	for _, m := range ms {
		lr := m.Learning
		if lr == nil {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(lr.DTheta))
		}
		for k, d := range lr.DTheta {
			sum[k] += d
		}
		if l.Theta0 == nil {
			l.Theta0 = make([]float64, len(lr.Theta))
			for k := range lr.Theta {
				l.Theta0[k] = lr.Theta[k] - lr.DTheta[k]
			}
		}
		if lr.Gradient {
			l.Exchanges++
			l.LossBefore += lr.Loss
			l.LossAfter += lr.LossAfter
			if lr.LossAfter < lr.Loss {
				l.Lowered++
			}
		}
		if lr.Mutated {
			l.Mutations++
			l.Shots += lr.Shots
			for _, e := range lr.Epsilon {
				sq += e * e
				n++
			}
		}
	}
	if l.Exchanges > 0 {
		l.LossBefore /= float64(l.Exchanges)
		l.LossAfter /= float64(l.Exchanges)
	}
	if n > 0 {
		l.EpsRMS = math.Sqrt(sq / float64(n))
	}
	if l.Theta0 == nil {
		l.Theta0 = l.Theta
	}
	var d2, n2 float64
	for k := range sum {
		d2 += sum[k] * sum[k]
		n2 += l.Theta0[k] * l.Theta0[k]
	}
	if n2 > 0 {
		l.RelChange = math.Sqrt(d2 / n2)
	}
	for _, m := range ms {
		f.Criteria.Steps++
		if m.DHCohDt < 0 {
			f.Criteria.DHDecreasing++
		}
		if m.DHCohDt < 1 {
			f.Criteria.DHTolerated++
		}
		f.Criteria.PhaseMax = math.Max(f.Criteria.PhaseMax, m.HPhase)
		f.Criteria.PhaseMean += m.HPhase / float64(len(ms))
	}
	if mem := sys.Memory(); mem != nil {
		f.Memory = &struct {
			Patterns []uint64 `json:"patterns"`
			Recall   float64  `json:"recall_accuracy"`
			Recall2  float64  `json:"recall_accuracy_2_flips"`
		}{Patterns: mem.Patterns(), Recall: mem.RecallAccuracy(1, 0.3, 1), Recall2: mem.RecallAccuracy(2, 0.3, 1)}
	}
	var err error
	if f.Interfaces.Weights, err = sys.InjectMetaGraph(fusion.MetaGraph{}); err != nil {
		return nil, err
	}
	if f.Interfaces.Semantic, err = sys.PhaseToSemantic(8); err != nil {
		return nil, err
	}
	f.Interfaces.Entropy = sys.MonitorEntropy()
	return f, nil
}

// print writes the learning and interface lines of mec fuse's table.
func (f *fuseLearning) print(w io.Writer) {
	l := &f.Learning
	fmt.Fprintf(w, "gradient exchange (∇θ_fusion = λ_Q∇L_Q + λ_N∇L_N + λ_P∇L_P): %d updates, %d lowered the fused loss (mean %.6g → %.6g)\n",
		l.Exchanges, l.Lowered, l.LossBefore, l.LossAfter)
	fmt.Fprintf(w, "meta-evolution (Θ ← Θ + η_Q ε_Q − η_N ∇L_N): %d mutations, ε_Q from %d measurement outcomes (rms %.3f); the updates moved Θ by %.3g relative\n",
		l.Mutations, l.Shots, l.EpsRMS, l.RelChange)
	c := &f.Criteria
	fmt.Fprintf(w, "stability criteria (§13): dH_coh/dt < 0 in %d of %d steps, < 1 (the runtime rule's tolerance) in %d\n",
		c.DHDecreasing, c.Steps, c.DHTolerated)
	verdict := "PASS"
	if !(c.PhaseMax < 0.2) {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "quantum–neural phase entropy H_φ (integration §19's coherence entropy, < 0.2): max %.4f %s, mean %.4f over the steps\n", c.PhaseMax, verdict, c.PhaseMean)
	if m := f.Memory; m != nil {
		fmt.Fprintf(w, "memory (P_S = |S⟩⟨S| of the spike patterns): %d patterns stored; recall accuracy by overlap %.3f with one bit flipped, %.3f with two (every qubit rotated by R_y(0.3))\n",
			len(m.Patterns), m.Recall, m.Recall2)
	}
	i := &f.Interfaces
	fmt.Fprintf(w, "inject_meta_graph: λ_Q %.4g, λ_N %.4g, λ_P %.4g (no graph injected)\n", i.Weights.Q, i.Weights.N, i.Weights.P)
	fmt.Fprintf(w, "phase_to_semantic (8 activities): %.4f\n", i.Semantic)
	fmt.Fprintf(w, "monitor_entropy: H_coh = %.4f\n", i.Entropy)
}
