// Package sim runs circuits on any state-vector backend: it lowers gate ops,
// fuses them (qsim-style, block size configurable), applies them where the
// state lives, and implements measurement, reset and shot sampling on top of
// the backend contract (a marginal probability and a diagonal gate suffice
// for collapse, so every backend gets them).
//
// Randomness comes from one seeded PCG stream drawn on the calling goroutine,
// and the CPU backend's reductions are deterministic, so the same seed gives
// the same measurement outcomes and shots on every run and thread count.
package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// Options configures a simulator.
type Options struct {
	// Backend names the backend ("" = $MEC_BACKEND or the best loaded one
	// with the StateVector capability).
	Backend string
	// Precision of the amplitudes.
	Precision backend.Precision
	// Fuse is the largest fused block in qubits; 0 or 1 disables fusion.
	Fuse int
	// Seed seeds measurement outcomes and shots.
	Seed uint64
}

// DefaultFuse is the fusion block size mec uses when none is given.
const DefaultFuse = 3

// Simulator runs circuits on one state-vector backend.
type Simulator struct {
	sv   backend.StateVector
	opts Options
}

// New selects the backend and returns a simulator.
func New(opts Options) (*Simulator, error) {
	sv, _, err := backend.WithCapability[backend.StateVector](opts.Backend)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	if opts.Fuse > circuit.MaxDenseQubits {
		return nil, fmt.Errorf("sim: fusion block size %d: at most %d", opts.Fuse, circuit.MaxDenseQubits)
	}
	return &Simulator{sv: sv, opts: opts}, nil
}

// NewWith returns a simulator on a given backend.
func NewWith(sv backend.StateVector, opts Options) *Simulator { return &Simulator{sv: sv, opts: opts} }

// Backend returns the backend in use.
func (s *Simulator) Backend() backend.StateVector { return s.sv }

// Result is the outcome of one run of a circuit.
type Result struct {
	// State is the final state, on the backend; the caller frees it.
	State backend.State
	// Bits is the classical register (bit j = Clbits index j).
	Bits []bool
	// Gates is the number of gate ops run and Applied the number of
	// (possibly fused) gates applied to the state.
	Gates, Applied int
}

// Run executes c from |0…0⟩.
func (s *Simulator) Run(ctx context.Context, c *circuit.Circuit) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	st, err := s.sv.NewState(c.Qubits, s.opts.Precision)
	if err != nil {
		return nil, err
	}
	res := &Result{State: st, Bits: make([]bool, c.Clbits)}
	rng := newRNG(s.opts.Seed)
	if err := s.exec(ctx, st, c.Ops, rng, res); err != nil {
		st.Free()
		return nil, err
	}
	return res, nil
}

// Apply runs the ops of c on an existing state (measurements draw from the
// given seed).
func (s *Simulator) Apply(ctx context.Context, st backend.State, c *circuit.Circuit, seed uint64) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Qubits != st.Qubits() {
		return nil, fmt.Errorf("sim: %d-qubit circuit on a %d-qubit state", c.Qubits, st.Qubits())
	}
	res := &Result{State: st, Bits: make([]bool, c.Clbits)}
	return res, s.exec(ctx, st, c.Ops, newRNG(seed), res)
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6d6563)) }

// fuseChunk is the most lowered gates exec fuses and applies at once; a
// longer run between measurements is fused in pieces of this many gates
// (blocks do not span a piece boundary).
const fuseChunk = 1 << 12

// ctxEveryGateQubits is the state size from which exec checks its context
// before every gate it applies.
const ctxEveryGateQubits = 16

func (s *Simulator) exec(ctx context.Context, st backend.State, ops []circuit.Op, rng *rand.Rand, res *Result) error {
	var run []circuit.Gate
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		gs, err := circuit.Fuse(run, s.opts.Fuse)
		if err != nil {
			return err
		}
		if h, ok := s.sv.(backend.LowQubitHinter); ok {
			gs = circuit.AvoidLow(gs, st.Qubits(), h.FreeLowQubits(s.opts.Precision))
		}
		for i := range gs {
			// On large states one gate takes milliseconds: check before
			// every one there, every 64th on small states.
			if i&63 == 0 || st.Qubits() >= ctxEveryGateQubits {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := st.Apply(&gs[i]); err != nil {
				return fmt.Errorf("sim: %w", err)
			}
		}
		res.Applied += len(gs)
		run = run[:0]
		return nil
	}
	for i := range ops {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		op := &ops[i]
		switch op.Kind {
		case circuit.KindGate:
			g, err := op.Lower()
			if err != nil {
				return fmt.Errorf("sim: op %d: %w", i, err)
			}
			run = append(run, g)
			res.Gates++
			if len(run) >= fuseChunk {
				// Fuse and apply long runs in pieces: the lowered gates
				// held at once stay bounded and the context is checked
				// between pieces.
				if err := flush(); err != nil {
					return err
				}
			}
		case circuit.KindBarrier:
			if err := flush(); err != nil {
				return err
			}
		case circuit.KindMeasure, circuit.KindReset:
			if err := flush(); err != nil {
				return err
			}
			bit, err := Measure(st, op.Qubits[0], rng.Float64())
			if err != nil {
				return fmt.Errorf("sim: op %d: %w", i, err)
			}
			if op.Kind == circuit.KindMeasure {
				res.Bits[op.Clbit] = bit == 1
			} else if bit == 1 {
				x := circuit.Gate{Targets: []int{op.Qubits[0]}, Matrix: []complex128{0, 1, 1, 0}}
				if err := st.Apply(&x); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("sim: op %d: unknown kind %v", i, op.Kind)
		}
	}
	return flush()
}

// Measure measures qubit q with the uniform variate u in [0,1): outcome 1
// when u < P(q=1). The state collapses and is renormalised.
func Measure(st backend.State, q int, u float64) (int, error) {
	p, err := backend.Probabilities(st, []int{q})
	if err != nil {
		return 0, err
	}
	total := p[0] + p[1]
	if !(total > 0) || math.IsInf(total, 0) {
		return 0, fmt.Errorf("measure qubit %d: state norm² is %v", q, total)
	}
	bit, pb := 0, p[0]/total
	if u < p[1]/total {
		bit, pb = 1, p[1]/total
	}
	d := []complex128{0, 0}
	d[bit] = complex(1/math.Sqrt(pb*total), 0)
	g := circuit.Gate{Targets: []int{q}, Matrix: d, Diagonal: true}
	return bit, st.Apply(&g)
}

// Sample draws shots outcomes (amplitude indices) from |ψ|² without
// collapsing the state.
func Sample(st backend.State, shots int, seed uint64) ([]uint64, error) {
	if shots < 0 {
		return nil, fmt.Errorf("sim: %d shots", shots)
	}
	rng := newRNG(seed)
	u := make([]float64, shots)
	for i := range u {
		u[i] = rng.Float64()
	}
	out := make([]uint64, shots)
	return out, backend.SampleUniform(st, u, out)
}

// TerminalMeasurements reports whether every measurement of c comes after
// the last op on its qubit and c has no reset — then shots can be sampled
// from one final state instead of re-running the circuit. It returns the
// circuit without those measurements and the (qubit, clbit) pairs.
func TerminalMeasurements(c *circuit.Circuit) (body *circuit.Circuit, meas [][2]int, ok bool) {
	last := make([]int, c.Qubits)
	for i := range last {
		last[i] = -1
	}
	// One pass over the ops and one copy, without allocating per op: the
	// circuit may hold millions of them.
	for i := range c.Ops {
		op := &c.Ops[i]
		if op.Kind == circuit.KindReset {
			return nil, nil, false
		}
		if op.Kind == circuit.KindGate || op.Kind == circuit.KindMeasure {
			for _, qs := range [3][]int{op.Qubits, op.Controls, op.NegControls} {
				for _, q := range qs {
					last[q] = i
				}
			}
		}
	}
	body = &circuit.Circuit{Qubits: c.Qubits, Clbits: c.Clbits, Ops: make([]circuit.Op, 0, len(c.Ops))}
	measured := make([]bool, c.Qubits)
	for i := range c.Ops {
		op := &c.Ops[i]
		if op.Kind == circuit.KindMeasure {
			q := op.Qubits[0]
			if measured[q] {
				return nil, nil, false // measured twice: needs trajectories
			}
			measured[q] = true
			meas = append(meas, [2]int{q, op.Clbit})
			continue
		}
		if op.Kind == circuit.KindGate {
			for _, qs := range [3][]int{op.Qubits, op.Controls, op.NegControls} {
				for _, q := range qs {
					if measured[q] {
						return nil, nil, false
					}
				}
			}
		}
		body.Ops = append(body.Ops, *op)
	}
	return body, meas, true
}

// Counts runs c for shots shots and returns how often each classical
// register value occurred, as bit strings with bit 0 rightmost (Qiskit's
// convention). Circuits whose measurements are all terminal are simulated
// once and sampled; others are re-run per shot (trajectories).
func (s *Simulator) Counts(ctx context.Context, c *circuit.Circuit, shots int) (map[string]int, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	key := func(bits []bool) string {
		var b strings.Builder
		for j := len(bits) - 1; j >= 0; j-- {
			if bits[j] {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		return b.String()
	}
	if body, meas, ok := TerminalMeasurements(c); ok {
		res, err := s.Run(ctx, body)
		if err != nil {
			return nil, err
		}
		defer res.State.Free()
		outs, err := Sample(res.State, shots, s.opts.Seed)
		if err != nil {
			return nil, err
		}
		bits := make([]bool, c.Clbits)
		for _, o := range outs {
			clear(bits)
			for _, m := range meas {
				bits[m[1]] = o>>uint(m[0])&1 == 1
			}
			counts[key(bits)]++
		}
		return counts, nil
	}
	seeds := newRNG(s.opts.Seed)
	for i := 0; i < shots; i++ {
		sub := *s
		sub.opts.Seed = seeds.Uint64()
		res, err := sub.Run(ctx, c)
		if err != nil {
			return nil, err
		}
		res.State.Free()
		counts[key(res.Bits)]++
	}
	return counts, nil
}

// SortedKeys returns the keys of counts in ascending order.
func SortedKeys(counts map[string]int) []string {
	ks := make([]string, 0, len(counts))
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
