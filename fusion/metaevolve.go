package fusion

// Meta-evolution: stochastic steps on Θ driven by the neuromorphic loss.

import "math/rand/v2"

// MetaEvolve runs steps of the stochastic meta-evolution
// Θ ← Θ + η_Q·ε_Q − η_N·∇L_N with ε_Q ~ N(0, I) drawn from a PCG seeded by
// seed, and returns the final Θ and L_N after each step.
func (o *Objective) MetaEvolve(p Params, etaQ, etaN float64, steps int, seed uint64) (Params, []float64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6d657461))
	v := p.Vector()
	var hist []float64
	for s := 0; s < steps; s++ {
		_, gn, err := o.FusedGradient(ParamsFrom(v), Weights{N: 1}, 1e-6)
		if err != nil {
			return Params{}, nil, err
		}
		for k := range v {
			v[k] += etaQ*rng.NormFloat64() - etaN*gn[k]
		}
		_, ln, _, err := o.Losses(ParamsFrom(v))
		if err != nil {
			return Params{}, nil, err
		}
		hist = append(hist, ln)
	}
	return ParamsFrom(v), hist, nil
}
