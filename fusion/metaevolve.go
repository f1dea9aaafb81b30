package fusion

// Meta-evolution on an Objective: stochastic steps on Θ driven by the
// neuromorphic loss and quantum noise.

// Noise returns ε_Q for meta-evolution step number step: k components of
// zero mean and unit variance (System.Step uses QuantumNoise, drawn from
// measurement outcomes of the register).
type Noise func(step, k int) ([]float64, error)

// MetaEvolve runs steps of the stochastic meta-evolution
// Θ ← Θ + η_Q·ε_Q − η_N·∇L_N with ε_Q from noise (which may be nil when
// η_Q = 0), and returns the final Θ and L_N after each step.
func (o *Objective) MetaEvolve(p Params, etaQ, etaN float64, steps int, noise Noise) (Params, []float64, error) {
	v := p.Vector()
	var hist []float64
	for s := 0; s < steps; s++ {
		_, gn, err := o.FusedGradient(ParamsFrom(v), Weights{N: 1}, 1e-6)
		if err != nil {
			return Params{}, nil, err
		}
		var eps []float64
		if etaQ != 0 {
			if eps, err = noise(s, len(v)); err != nil {
				return Params{}, nil, err
			}
		}
		for k := range v {
			if eps != nil {
				v[k] += etaQ * eps[k]
			}
			v[k] -= etaN * gn[k]
		}
		_, ln, _, err := o.Losses(ParamsFrom(v))
		if err != nil {
			return Params{}, nil, err
		}
		hist = append(hist, ln)
	}
	return ParamsFrom(v), hist, nil
}
