// Package sim runs circuits on any state-vector backend: it lowers gate ops,
// fuses them (circuit.Fuse, block size configurable), applies them where the
// state lives, and implements measurement, reset and shot sampling on top of
// the backend contract (a marginal probability and a diagonal gate suffice
// for collapse, so every backend gets them). Shots share work: the circuit
// is simulated once and branches only at mid-circuit measurements and resets
// whose outcome is not certain (Simulator.Shots), and qubits known to be in
// a basis state make their resets and measurements free (basis.go).
//
// Randomness comes from seeded PCG streams, all drawn on the calling
// goroutine: Run and Apply draw from one stream of their seed; a shot run
// draws its first pass from a stream of Options.Seed and each group it
// replays (past the branch budget) from a stream of its own, seeded from
// Options.Seed and the group; terminal measurements are sampled from the
// final states with seeds drawn from those streams. The CPU backend's
// reductions are deterministic, so the same seed gives the same measurement
// outcomes and shots on every run and thread count.
//
// Layer: compute library. It may import backend (the contract, never a
// concrete backend) and circuit.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

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
	// MaxBranches bounds the states a shot run holds at once (see
	// Simulator.Shots); 0 allows as many as fit in DefaultBranchBytes, at
	// most MaxBranchesCap.
	MaxBranches int // Host calls the extern functions of a circuit's classical
	// expressions (nil: a circuit that calls one fails).
	Host circuit.Host
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
	// read-and-write passes that applying the (fused) gates made over the
	// state: one per gate, or one per run of gates that a cache-blocking
	// backend (backend.BatchApplier) applies chunk by chunk.
	Gates, Applied int
}

// Run executes c from |0…0⟩ as one shot: every measurement collapses the
// returned state.
func (s *Simulator) Run(ctx context.Context, c *circuit.Circuit) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := &engine{s: s, ctx: ctx, c: c, budget: 1, rng: newRNG(s.opts.Seed)}
	if err := e.start([]int32{0}, nil); err != nil {
		return nil, err
	}
	return e.result(true)
}

// Apply runs the ops of c on an existing state (measurements draw from the
// given seed). On error (a cancelled ctx among them) the state is handed
// back holding the ops applied until then, with every qubit in its place.
func (s *Simulator) Apply(ctx context.Context, st backend.State, c *circuit.Circuit, seed uint64) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Qubits != st.Qubits() {
		return nil, fmt.Errorf("sim: %d-qubit circuit on a %d-qubit state", c.Qubits, st.Qubits())
	}
	e := &engine{s: s, ctx: ctx, c: c, budget: 1, rng: newRNG(seed)}
	e.adopt(st, false, []int32{0})
	return e.result(false)
}

// result runs a one-shot engine (which never splits) and returns its
// state and register. On error the state is freed when the run owns it
// (Run), and returned to the caller otherwise (Apply).
func (e *engine) result(owned bool) (*Result, error) {
	b := e.branches[0]
	err := e.run()
	res := &Result{State: b.st, Bits: b.bits[:e.c.Results()], Gates: e.stats.Gates, Applied: e.stats.Applied}
	if err != nil && owned {
		b.st.Free()
		return nil, err
	}
	return res, err
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6d6563)) }

// fuseChunk is the most lowered gates a branch fuses and applies at once;
// a longer run between measurements is fused in pieces of this many gates
// (blocks do not span a piece boundary).
const fuseChunk = 1 << 12

// ctxEveryGateQubits is the state size from which applyGates checks its
// context before every gate it applies.
const ctxEveryGateQubits = 16

// batchWindow is the most gates applyGates hands a BatchApplier at once
// (it checks its context between windows).
const batchWindow = 128

// relabelMinGates is the fewest fused gates for which applyGates looks
// for a relabelling of the qubits (circuit.RelabelBelow), and
// relabelMinQubits the smallest state: the search costs about as much as
// fusing, which only a long run on a large state repays.
const (
	relabelMinGates  = 32
	relabelMinQubits = ctxEveryGateQubits
)

// applyGates fuses run and applies it to st, returning the passes it made
// over the state: one per (fused) gate, or per run of gates that a
// BatchApplier applies chunk by chunk. zero says that st is |0…0⟩ (a
// relabelling of the qubits then needs no swaps to start).
func (s *Simulator) applyGates(ctx context.Context, st backend.State, run []circuit.Gate, zero bool) (int, error) {
	gs, err := circuit.Fuse(run, s.opts.Fuse)
	if err != nil {
		return 0, err
	}
	low := 0
	if h, ok := s.sv.(backend.LowQubitHinter); ok {
		low = h.FreeLowQubits(s.opts.Precision)
		gs = circuit.AvoidLow(gs, st.Qubits(), low)
	}
	if ba, ok := st.(backend.BatchApplier); ok {
		// Cache blocking: gates below the chunk qubits are grouped into
		// runs, each applied in one pass; the context is checked between
		// windows of gates.
		c := ba.ChunkQubits()
		var open, closing []circuit.Gate
		if c > 0 && c < st.Qubits() {
			if len(gs) >= relabelMinGates && st.Qubits() >= relabelMinQubits {
				// Busy qubits above c are exchanged with idle ones below
				// (open), and moved back at the end of the run (closing).
				var no, nc int
				gs, no, nc = circuit.RelabelBelow(gs, st.Qubits(), c, low, batchWindow, zero)
				open, closing, gs = gs[:no], gs[len(gs)-nc:], gs[no:len(gs)-nc]
			}
			gs = circuit.GroupBelow(gs, c)
		}
		passes := 0
		if len(open) > 0 {
			// The few open swaps go in after one context check, so that
			// the closing ones always find the qubits where they put them.
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			k, err := ba.ApplyBatch(open)
			if err != nil {
				return k, fmt.Errorf("sim: %w", err)
			}
			passes += k
		}
		k, err := applyBatches(ctx, ba, gs, st.Qubits(), c)
		passes += k
		if len(closing) > 0 {
			// The closing swaps run even when the run stopped early, so
			// that a state handed back on error (Apply) holds a prefix of
			// the gates with its qubits in their places, not permuted.
			k, cerr := ba.ApplyBatch(closing)
			passes += k
			if cerr != nil {
				return passes, fmt.Errorf("sim: moving relabelled qubits back (state undefined): %w", errors.Join(err, cerr))
			}
		}
		return passes, err
	}
	for i := range gs {
		// On large states one gate takes milliseconds: check before
		// every one there, every 64th on small states.
		if i&63 == 0 || st.Qubits() >= ctxEveryGateQubits {
			if err := ctx.Err(); err != nil {
				return i, err
			}
		}
		if err := st.Apply(&gs[i]); err != nil {
			return i, fmt.Errorf("sim: %w", err)
		}
	}
	return len(gs), nil
}

// applyBatches hands gs to ba a window at a time (one pass at a time on
// large states), checking ctx before each, and returns the passes made.
// A BatchApplier fails before applying anything, so on error the state
// holds a prefix of gs.
func applyBatches(ctx context.Context, ba backend.BatchApplier, gs []circuit.Gate, n, c int) (int, error) {
	passes := 0
	for lo := 0; lo < len(gs); {
		if err := ctx.Err(); err != nil {
			return passes, err
		}
		hi := min(lo+batchWindow, len(gs))
		if n >= ctxEveryGateQubits {
			// One pass at a time on large states, as for Apply (a state
			// no larger than a chunk takes a pass a gate).
			if c < n {
				hi = lo + circuit.RunBelow(gs[lo:hi], c)
			} else {
				hi = lo + 1
			}
		}
		k, err := ba.ApplyBatch(gs[lo:hi])
		passes += k
		if err != nil {
			return passes, fmt.Errorf("sim: %w", err)
		}
		lo = hi
	}
	return passes, nil
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

// Counts runs c for shots shots (see Shots) and returns how often each
// classical register value occurred, as bit strings with bit 0 rightmost
// (Qiskit's convention).
func (s *Simulator) Counts(ctx context.Context, c *circuit.Circuit, shots int) (map[string]int, error) {
	r, err := s.Shots(ctx, c, shots)
	if err != nil {
		return nil, err
	}
	return r.Counts(), nil
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
