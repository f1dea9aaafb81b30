package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// Estimate is an observable's value on a circuit's final state.
type Estimate struct {
	// Exact is ⟨ψ|O|ψ⟩ computed from the state.
	Exact float64 `json:"exact"`
	// With shots: Mean is the estimate from measuring each term in its
	// eigenbasis ShotsPerTerm times (as hardware would), StdErr its
	// standard error √(Σ c_k²(1−m_k²)/ShotsPerTerm) over the terms' means
	// m_k (identity terms are exact).
	Mean         float64 `json:"mean,omitempty"`
	StdErr       float64 `json:"stderr,omitempty"`
	ShotsPerTerm int     `json:"shots_per_term,omitempty"`
}

// ErrObserveDynamic is returned (wrapped) by Observe for a circuit whose
// final state is not one state: mid-circuit measurements, resets or
// conditional operations.
var ErrObserveDynamic = errors.New("observables need a circuit whose only measurements are final (no mid-circuit measurement, reset or if)")

// Observe returns the expectation values of the observables (Pauli sums
// on the circuit's qubits) on the circuit's final state: the state before
// its final measurements, which are ignored. With shots > 0 each term is
// also estimated from shots samples in its eigenbasis, seeded by the
// simulator's seed (a function of circuit, observables, shots and seed).
func (s *Simulator) Observe(ctx context.Context, c *circuit.Circuit, obs []circuit.PauliSum, shots int) ([]Estimate, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if shots < 0 || shots > math.MaxInt32 {
		return nil, fmt.Errorf("sim: %d shots per term: want 0 to %d", shots, math.MaxInt32)
	}
	for i, h := range obs {
		if err := h.Validate(c.Qubits); err != nil {
			return nil, fmt.Errorf("sim: observable %d: %w", i, err)
		}
	}
	term := terminalMeasurements(c)
	u := &circuit.Circuit{Qubits: c.Qubits, Clbits: c.Clbits}
	for i := range c.Ops {
		op := &c.Ops[i]
		switch {
		case term[i]:
			continue
		case op.Kind == circuit.KindMeasure || op.Kind == circuit.KindReset || len(op.Conds) > 0 || op.Classical() || op.ParamExprs != nil:
			return nil, fmt.Errorf("sim: op %d (%s): %w", i, op.Kind, ErrObserveDynamic)
		}
		u.Ops = append(u.Ops, *op)
	}
	res, err := s.Run(ctx, u)
	if err != nil {
		return nil, err
	}
	st := res.State
	defer st.Free()
	rng := newRNG(s.opts.Seed)
	out := make([]Estimate, len(obs))
	for i, h := range obs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out[i].Exact, err = backend.Expectation(st, h); err != nil {
			return nil, fmt.Errorf("sim: observable %d: %w", i, err)
		}
		if shots == 0 {
			continue
		}
		out[i].ShotsPerTerm = shots
		var variance float64
		for _, t := range h {
			m, err := s.sampleTerm(ctx, st, t, shots, rng.Uint64())
			if err != nil {
				return nil, fmt.Errorf("sim: observable %d: %w", i, err)
			}
			out[i].Mean += t.Coeff * m
			variance += t.Coeff * t.Coeff * (1 - m*m) / float64(shots)
		}
		out[i].StdErr = math.Sqrt(max(variance, 0))
	}
	return out, nil
}

// sampleTerm measures the Pauli string of t shots times on a copy of st
// rotated into its eigenbasis (h for X, sdg then h for Y) and returns the
// mean eigenvalue (±1 per shot).
func (s *Simulator) sampleTerm(ctx context.Context, st backend.State, t circuit.PauliTerm, shots int, seed uint64) (float64, error) {
	m, err := t.Masks(st.Qubits())
	if err != nil {
		return 0, err
	}
	support := m.X | m.Z
	if support == 0 {
		return 1, nil
	}
	cp, err := backend.Clone(s.sv, st)
	if err != nil {
		return 0, err
	}
	defer cp.Free()
	h := 1 / math.Sqrt2
	for q := 0; q < st.Qubits(); q++ {
		x, z := m.X>>uint(q)&1 == 1, m.Z>>uint(q)&1 == 1
		if x && z { // Y: sdg first
			g := circuit.Gate{Targets: []int{q}, Matrix: []complex128{1, -1i}, Diagonal: true}
			if err := cp.Apply(&g); err != nil {
				return 0, err
			}
		}
		if x {
			g := circuit.Gate{Targets: []int{q}, Matrix: []complex128{complex(h, 0), complex(h, 0), complex(h, 0), complex(-h, 0)}}
			if err := cp.Apply(&g); err != nil {
				return 0, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	idx, err := Sample(cp, shots, seed)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range idx {
		sum += 1 - 2*(bits.OnesCount64(v&support)&1)
	}
	return float64(sum) / float64(shots), nil
}
