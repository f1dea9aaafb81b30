package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// trajectories runs a noisy circuit (channels, readout errors; see package
// noise) shot by shot as quantum trajectories: each shot starts from
// |0…0⟩ and at each channel draws one Kraus operator K with probability
// ‖Kψ‖² (fixed weights for mixtures of unitaries) and goes on with
// Kψ/‖Kψ‖; measurements and resets draw their outcomes, readout errors
// flip recorded bits, and conditions, sets and fails act as in a shot
// run. Shot k draws from its own stream (seed, k), so the result does not
// depend on the worker count. The average over shots converges to the
// density-matrix result (noise.DensityMatrix) at 1/√shots.
func (s *Simulator) trajectories(ctx context.Context, c *circuit.Circuit, r *ShotResult) error {
	t := &trajectory{s: s, ctx: ctx, c: c, bits: make([]bool, c.Clbits)}
	for k := 0; k < r.Shots; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A fresh |0…0⟩ each shot, made where the backend keeps its
		// states (no host vector, no transfer).
		st, err := s.sv.NewState(c.Qubits, s.opts.Precision)
		if err != nil {
			return err
		}
		t.st = st
		clear(t.bits)
		t.rng = rand.New(rand.NewPCG(s.opts.Seed, uint64(k)|1<<63))
		err = t.run()
		st.Free()
		if err != nil {
			return fmt.Errorf("sim: shot %d: %w", k, err)
		}
		w := r.mem[k*r.words : (k+1)*r.words]
		for j, v := range t.bits {
			if v {
				w[j/64] |= 1 << (uint(j) % 64)
			}
		}
	}
	r.Stats = t.stats
	r.Stats.Branches = 1
	return nil
}

// trajectory is one shot of a noisy circuit.
type trajectory struct {
	s       *Simulator
	ctx     context.Context
	c       *circuit.Circuit
	st      backend.State
	bits    []bool
	rng     *rand.Rand
	pending []circuit.Gate
	stats   Stats
}

func (t *trajectory) flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	n, err := t.s.applyGates(t.ctx, t.st, t.pending, false)
	t.stats.Applied += n
	t.pending = t.pending[:0]
	return err
}

func (t *trajectory) run() error {
	for i := range t.c.Ops {
		op := &t.c.Ops[i]
		if !circuit.CondsHold(op.Conds, t.bits) {
			if op.Kind == circuit.KindGate {
				t.stats.Skipped++
			}
			continue
		}
		switch op.Kind {
		case circuit.KindGate:
			bound, err := op.Bind(t.bits, t.s.opts.Host)
			if err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
			g, err := bound.Lower()
			if err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
			t.stats.Gates++
			t.pending = append(t.pending, g)
		case circuit.KindDelay:
			// An identity: the model's idle channels follow it.
		case circuit.KindBarrier:
			if err := t.flush(); err != nil {
				return err
			}
		case circuit.KindChannel:
			if err := t.flush(); err != nil {
				return err
			}
			if err := t.channel(op); err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
		case circuit.KindMeasure, circuit.KindReset:
			if err := t.flush(); err != nil {
				return err
			}
			bit, err := Measure(t.st, op.Qubits[0], t.rng.Float64())
			t.stats.Reads++
			t.stats.Applied++
			if err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
			if op.Kind == circuit.KindMeasure {
				t.bits[op.Clbit] = bit == 1
			} else if bit == 1 {
				t.pending = append(t.pending, circuit.Gate{Targets: []int{op.Qubits[0]}, Matrix: []complex128{0, 1, 1, 0}})
			}
		case circuit.KindReadout:
			flip := op.Params[0] // P(1|0)
			if t.bits[op.Clbit] {
				flip = op.Params[1] // P(0|1)
			}
			if t.rng.Float64() < flip {
				t.bits[op.Clbit] = !t.bits[op.Clbit]
			}
		case circuit.KindSet, circuit.KindFail, circuit.KindCompute:
			if err := op.RunClassical(t.bits, t.s.opts.Host); err != nil {
				return fmt.Errorf("op %d: %w", i, err)
			}
		default:
			return fmt.Errorf("op %d: unknown kind %v", i, op.Kind)
		}
	}
	return t.flush()
}

// channel draws one Kraus operator of op and applies it, renormalised.
func (t *trajectory) channel(op *circuit.Op) error {
	d := 1 << len(op.Qubits)
	p := make([]float64, len(op.Kraus))
	switch {
	case op.Mixture:
		for k, m := range op.Kraus {
			for _, v := range m {
				p[k] += real(v)*real(v) + imag(v)*imag(v)
			}
			p[k] /= float64(d)
		}
	case len(op.Qubits) == 1:
		// ‖Kψ‖² = Tr(K†K ρ_q), with the qubit's reduced density matrix
		// ρ_q = (I + ⟨X⟩X + ⟨Y⟩Y + ⟨Z⟩Z)/2 read from the state.
		rho, err := t.reduced(op.Qubits[0])
		if err != nil {
			return err
		}
		for k, m := range op.Kraus {
			for a := 0; a < 2; a++ {
				for b := 0; b < 2; b++ {
					var kk complex128 // (K†K)_ab
					for j := 0; j < 2; j++ {
						kk += complex(real(m[j*2+a]), -imag(m[j*2+a])) * m[j*2+b]
					}
					p[k] += real(kk * rho[b*2+a])
				}
			}
		}
	default:
		for k, m := range op.Kraus {
			cp, err := backend.Clone(t.s.sv, t.st)
			if err != nil {
				return err
			}
			g := circuit.Gate{Targets: op.Qubits, Matrix: m}
			if err := cp.Apply(&g); err != nil {
				cp.Free()
				return err
			}
			p[k], err = backend.Norm(cp)
			cp.Free()
			if err != nil {
				return err
			}
			t.stats.Copies++
		}
	}
	var total float64
	for _, v := range p {
		total += max(v, 0)
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return fmt.Errorf("channel on %v: the Kraus probabilities sum to %v", op.Qubits, total)
	}
	u := t.rng.Float64() * total
	k := 0
	for ; k < len(p)-1; k++ {
		if u < max(p[k], 0) {
			break
		}
		u -= max(p[k], 0)
	}
	// ψ is normalised (every Kraus operator and measurement renormalises
	// it), so ‖Kψ‖² = p[k]/total; the clone path's p are ‖Kψ‖² already.
	scale := complex(1/math.Sqrt(p[k]/total), 0)
	m := make([]complex128, len(op.Kraus[k]))
	for j, v := range op.Kraus[k] {
		m[j] = v * scale
	}
	g := circuit.Gate{Targets: op.Qubits, Matrix: m}
	t.stats.Applied++
	return t.st.Apply(&g)
}

// reduced returns the density matrix of qubit q (2×2 row-major) from the
// expectation values of X, Y and Z on it.
func (t *trajectory) reduced(q int) ([]complex128, error) {
	var e [3]float64
	b := uint64(1) << uint(q)
	for i, m := range [3]circuit.PauliMasks{{X: b, Phase: 1}, {X: b, Z: b, Phase: 1i}, {Z: b, Phase: 1}} {
		var err error
		if e[i], err = backend.ExpectPauli(t.st, m); err != nil {
			return nil, err
		}
		t.stats.Reads++
	}
	x, y, z := e[0], e[1], e[2] // ψ is normalised
	return []complex128{complex((1+z)/2, 0), complex(x/2, -y/2), complex(x/2, y/2), complex((1-z)/2, 0)}, nil
}
