package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// CertainTolerance is how close to 0 or 1 the probability of a
// measurement or reset outcome must be for the outcome to count as
// certain: the state is projected onto it and no branch is made. A
// certain outcome draws no random number.
const CertainTolerance = 1e-12

// mergeTolerance is how close to 1 the fidelity |⟨a|b⟩|²/(⟨a|a⟩⟨b|b⟩)
// of two branches' states must be for them to merge. The fidelity is
// normalised by the states' norms, so states equal up to rounding merge
// in complex64 too (their norms drift from 1 by about 1e-7).
const mergeTolerance = 1e-10

// mergeComparesPerBranch and minMergeCompares bound the pairs of branches
// one merge compares: mergeComparesPerBranch per live branch, at least
// minMergeCompares. Each comparison reads two states, so a merge costs at
// most a few passes per branch, like the measurement or reset before it;
// pairs left over stay due (their dirty branches stay dirty) and are
// compared at a later merge.
const (
	mergeComparesPerBranch = 4
	minMergeCompares       = 64
)

// DefaultBranchBytes is the memory the live branches of a shot run may
// hold when Options.MaxBranches is 0.
const DefaultBranchBytes = 2 << 30

// MaxBranchesCap bounds the default branch budget (Options.MaxBranches
// 0) whatever DefaultBranchBytes allows: small states do not get millions
// of branches by default. An explicit Options.MaxBranches is not capped.
const MaxBranchesCap = 1 << 14

// Stats counts the work of a shot run. Passes over a state: Applied
// gates read and write it, Reads only read it (a marginal probability, a
// sample, an inner product), Copies read one state and write another.
type Stats struct {
	// Gates is the number of gate ops of the circuit executed (once per
	// op, however many branches ran it); Skipped those a branch dropped
	// because a control was known not to be met or its classical
	// condition (if) did not hold (counted per branch).
	Gates   int `json:"gates"`
	Skipped int `json:"skipped"`
	// Applied is the number of read-and-write passes made applying
	// (fused) gates, over all branches: one per gate, or one per run of
	// gates a cache-blocking backend applies chunk by chunk.
	Applied int `json:"applied"`
	// Reads and Copies count the other passes over a state.
	Reads  int `json:"reads"`
	Copies int `json:"copies"`
	// Certain counts the mid-circuit measurements and resets that drew
	// no outcome, per branch and per replayed group: the qubit was known
	// to be in a basis state (no pass), or the probability of an outcome
	// was within CertainTolerance of 0 or 1 (one probability pass; a
	// replay takes the likelier outcome at the collapses its first pass
	// found certain). Terminal measurements, sampled from the final
	// states, are not counted.
	Certain int `json:"certain"`
	// Splits counts branches split between two outcomes, Merges branches
	// merged back into an equal one, Compares the pairs of branches
	// compared for a merge (two reads each), and Branches is the most
	// branches that were live at once.
	Splits   int `json:"splits"`
	Merges   int `json:"merges"`
	Compares int `json:"compares"`
	Branches int `json:"branches"`
	// Replays counts the groups of shots run again from the start
	// because the branch budget was spent at one of their splits (each
	// group replays its recorded outcomes up to there).
	Replays int `json:"replays"`
}

func (s *Stats) add(o Stats) {
	s.Gates += o.Gates
	s.Skipped += o.Skipped
	s.Applied += o.Applied
	s.Reads += o.Reads
	s.Copies += o.Copies
	s.Certain += o.Certain
	s.Splits += o.Splits
	s.Merges += o.Merges
	s.Compares += o.Compares
	s.Replays += o.Replays
	s.Branches = max(s.Branches, o.Branches)
}

// ShotResult holds every shot's classical register in shot order (the
// per-shot memory) and the work the run did.
type ShotResult struct {
	// Shots and Clbits are the number of shots and of classical bits.
	Shots, Clbits int
	// Stats is the work done.
	Stats Stats
	words int
	mem   []uint64 // shot k: mem[k*words : (k+1)*words], clbit j = bit j%64 of word j/64
}

// Bit reports clbit j of shot k.
func (r *ShotResult) Bit(k, j int) bool {
	return r.mem[k*r.words+j/64]>>(uint(j)%64)&1 == 1
}

// Value returns shot k's register as a number (clbit j is bit j); it
// needs Clbits ≤ 64.
func (r *ShotResult) Value(k int) (uint64, error) {
	if r.Clbits > 64 {
		return 0, fmt.Errorf("sim: a %d-bit register does not fit a uint64", r.Clbits)
	}
	if r.words == 0 {
		return 0, nil
	}
	v := r.mem[k*r.words]
	if r.Clbits < 64 {
		v &= 1<<uint(r.Clbits) - 1 // scratch bits left out
	}
	return v, nil
}

// Key returns shot k's register as a bit string with clbit 0 rightmost
// (Qiskit's convention).
func (r *ShotResult) Key(k int) string {
	var b strings.Builder
	b.Grow(r.Clbits)
	for j := r.Clbits - 1; j >= 0; j-- {
		if r.Bit(k, j) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// Memory returns every shot's Key in shot order.
func (r *ShotResult) Memory() []string {
	m := make([]string, r.Shots)
	for k := range m {
		m[k] = r.Key(k)
	}
	return m
}

// Counts returns how often each register value (as Key) occurred.
func (r *ShotResult) Counts() map[string]int {
	counts := map[string]int{}
	for k := 0; k < r.Shots; k++ {
		counts[r.Key(k)]++
	}
	return counts
}

// Shots runs c for shots shots from |0…0⟩ and returns every shot's
// classical register, in shot order. shots is at most math.MaxInt32.
//
// Shots share work: the circuit is simulated once until a mid-circuit
// measurement or reset whose outcome is not certain; there the shots are
// split between the outcomes (each shot draws its outcome from the seeded
// stream, so the split is multinomial) and each outcome's branch goes on
// with its shots, on its own copy of the state. Branches whose classical
// registers, known qubits and states agree (normalised fidelity within
// 1e-10 of 1) after a measurement or reset merge again. A certain outcome
// costs no branch, and a reset or measurement of a qubit known to be in a
// basis state costs no pass at all (see basis). Measurements that nothing
// touches afterwards are sampled from each branch's final state. When the
// live branches would exceed the budget (Options.MaxBranches, or the
// states that fit in DefaultBranchBytes, at most MaxBranchesCap), the
// smaller side of a split is set aside as a group, and the larger side
// goes on. Once the first pass is done, each group (depth first) replays
// its recorded outcomes from |0…0⟩, from a seed of its own and with the
// whole budget again, and branches from there as the first pass did: a
// budget of 1 replays one group at a time, never several states at once.
//
// The result is a deterministic function of the circuit, shots, seed and
// budget: the same on every run and worker count.
func (s *Simulator) Shots(ctx context.Context, c *circuit.Circuit, shots int) (*ShotResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if shots < 0 || shots > math.MaxInt32 {
		return nil, fmt.Errorf("sim: %d shots: want 0 to %d (shots are numbered in 32 bits)", shots, math.MaxInt32)
	}
	words := (c.Clbits + 63) / 64
	if words > 0 && shots > math.MaxInt/words {
		return nil, fmt.Errorf("sim: %d shots of %d classical bits: the per-shot memory would overflow", shots, c.Clbits)
	}
	budget, err := s.branchBudget(c.Qubits)
	if err != nil {
		return nil, err
	}
	r := &ShotResult{Shots: shots, Clbits: c.Results(), words: words, mem: make([]uint64, shots*words)}
	if shots == 0 {
		return r, nil
	}
	if c.Noisy() {
		if err := s.trajectories(ctx, c, r); err != nil {
			return nil, err
		}
		return r, nil
	}
	ids := make([]int32, shots)
	for k := range ids {
		ids[k] = int32(k)
	}
	term := terminalMeasurements(c)
	e := &engine{s: s, ctx: ctx, c: c, terminal: term, budget: budget, rng: newRNG(s.opts.Seed), sampleSeed: s.opts.Seed}
	if err := e.start(ids, nil); err != nil {
		return nil, err
	}
	err = e.runAndFinish(r)
	r.Stats = e.stats
	if err != nil {
		return nil, err
	}
	// Groups set aside when the budget was spent run next, depth first.
	stack := e.overflow
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		st, more, err := s.replay(ctx, c, term, budget, g, r)
		r.Stats.add(st)
		r.Stats.Replays++
		if err != nil {
			return nil, err
		}
		stack = append(stack, more...)
	}
	return r, nil
}

// replay runs group g: from |0…0⟩ with its recorded outcomes forced and
// the whole budget, from a seed of its own. It writes g's shots into r and
// returns its work and the groups it set aside in turn. A recorded path
// the replay does not follow to its end is an error.
func (s *Simulator) replay(ctx context.Context, c *circuit.Circuit, term []bool, budget int, g group, r *ShotResult) (Stats, []group, error) {
	seed := s.opts.Seed ^ (uint64(g.shots[0])+1)*0x9e3779b97f4a7c15 ^ uint64(len(g.path))<<48
	e := &engine{s: s, ctx: ctx, c: c, terminal: term, budget: budget, rng: newRNG(seed), sampleSeed: seed, drew: true}
	if err := e.start(g.shots, g.path); err != nil {
		return Stats{}, nil, err
	}
	err := e.runAndFinish(r)
	e.stats.Gates = 0 // counted once, by the first pass
	return e.stats, e.overflow, err
}

// runAndFinish runs the engine's branches to the end, writes their shots
// into r and frees their states.
func (e *engine) runAndFinish(r *ShotResult) error {
	defer e.free()
	if err := e.run(); err != nil {
		return err
	}
	return e.finish(r)
}

// branchBudget is the number of live branches a shot run on n qubits may
// hold.
func (s *Simulator) branchBudget(n int) (int, error) {
	if s.opts.MaxBranches < 0 {
		return 0, fmt.Errorf("sim: MaxBranches %d", s.opts.MaxBranches)
	}
	if s.opts.MaxBranches > 0 {
		return s.opts.MaxBranches, nil
	}
	per := backend.StateBytes(n, s.opts.Precision)
	if per <= 0 {
		return 1, nil
	}
	return int(min(max(DefaultBranchBytes/per, 1), MaxBranchesCap)), nil
}

// terminalMeasurements marks the measurements that can be sampled from
// the final state: unconditional, no later op touches their qubit or
// reads their clbit in a condition, and every later measurement into
// their clbit is terminal too (terminal ones are written in program
// order, so the last write wins as it would have).
func terminalMeasurements(c *circuit.Circuit) []bool {
	term := make([]bool, len(c.Ops))
	touched := make([]bool, c.Qubits)
	overwritten := make([]bool, c.Clbits) // by a later non-terminal measurement
	read := make([]bool, c.Clbits)        // by a later condition
	for i := len(c.Ops) - 1; i >= 0; i-- {
		op := &c.Ops[i]
		switch op.Kind {
		case circuit.KindMeasure:
			q := op.Qubits[0]
			if !touched[q] && !overwritten[op.Clbit] && !read[op.Clbit] && len(op.Conds) == 0 {
				term[i] = true
			} else {
				overwritten[op.Clbit] = true
			}
			touched[q] = true
		case circuit.KindGate, circuit.KindReset:
			for _, qs := range [3][]int{op.Qubits, op.Controls, op.NegControls} {
				for _, q := range qs {
					touched[q] = true
				}
			}
		case circuit.KindSet:
			overwritten[op.Clbit] = true
		case circuit.KindCompute:
			for _, b := range op.Dest {
				overwritten[b] = true
			}
		}
		if op.Kind != circuit.KindBarrier {
			for _, b := range op.ReadBits(nil) {
				read[b] = true
			}
		}
	}
	return term
}

// branch is one path of a shot run: a state, the classical register and
// known qubits on that path, the shots that follow it, and the gates not
// yet applied (fused when it is flushed).
type branch struct {
	st    backend.State
	bits  []bool
	known basis
	shots []int32 // ascending
	run   []circuit.Gate
	path  []step // the drawn outcomes that led here
	// dirty: the branch was opened, split or projected since the last
	// merge compared it with its bucket; key is its branchKey at that
	// merge. Branches with the same key evolve under the same gates, so
	// two that a merge found different stay different until one of them
	// is projected or its key changes: merge compares only pairs with
	// a dirty member.
	dirty bool
	key   string
	// norm is ⟨ψ|ψ⟩ of st when it is known (0: not known; a flush that
	// applies gates forgets it).
	norm float64
	// zero: st is |0…0⟩, as made, with nothing applied or projected yet.
	zero bool
}

// step is a drawn measurement or reset outcome: the op and its result.
type step struct {
	op  int
	bit int
}

// group is a set of shots set aside at a split: they replay path from
// the start.
type group struct {
	shots []int32
	path  []step
}

// engine runs one circuit's shots as branches.
type engine struct {
	s          *Simulator
	ctx        context.Context
	c          *circuit.Circuit
	terminal   []bool // nil: collapse every measurement (Run, Apply)
	budget     int
	rng        *rand.Rand
	drew       bool   // rng was used (the final sample then draws its seed from it)
	sampleSeed uint64 // the final sample's seed when nothing was drawn
	branches   []*branch
	forced     []step // outcomes a replay takes instead of drawing
	overflow   []group
	stats      Stats
}

// start opens the first branch from |0…0⟩ with the given shots; a replay
// takes the forced outcomes at its first uncertain collapses.
func (e *engine) start(shots []int32, forced []step) error {
	st, err := e.s.sv.NewState(e.c.Qubits, e.s.opts.Precision)
	if err != nil {
		return err
	}
	e.adopt(st, true, shots)
	e.forced = forced
	return nil
}

// adopt opens the first branch on an existing state (zero: it is |0…0⟩).
func (e *engine) adopt(st backend.State, zero bool, shots []int32) {
	e.branches = []*branch{{st: st, bits: make([]bool, e.c.Clbits), known: newBasis(e.c.Qubits, zero), shots: shots, dirty: true, zero: zero}}
	e.stats.Branches = 1
}

// free releases every branch's state.
func (e *engine) free() {
	for _, b := range e.branches {
		if b.st != nil {
			b.st.Free()
		}
	}
	e.branches = nil
}

// run executes the circuit's ops on every branch.
func (e *engine) run() error {
	ops := e.c.Ops
	for i := range ops {
		if i&1023 == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		op := &ops[i]
		switch op.Kind {
		case circuit.KindGate:
			var g circuit.Gate
			if op.ParamExprs == nil {
				var err error
				if g, err = op.Lower(); err != nil {
					return fmt.Errorf("sim: op %d: %w", i, err)
				}
			}
			e.stats.Gates++
			for _, b := range e.branches {
				if !circuit.CondsHold(op.Conds, b.bits) {
					e.stats.Skipped++
					continue
				}
				gb := g
				if op.ParamExprs != nil {
					bound, err := op.Bind(b.bits, e.s.opts.Host)
					if err == nil {
						gb, err = bound.Lower()
					}
					if err != nil {
						return fmt.Errorf("sim: op %d: %w", i, err)
					}
				}
				if b.known.simplify(&gb) {
					e.stats.Skipped++
					continue
				}
				b.known.update(&gb)
				b.run = append(b.run, gb)
				if len(b.run) >= fuseChunk {
					// Long runs are fused and applied in pieces: the
					// lowered gates held stay bounded and the context is
					// checked between pieces.
					if err := e.flush(b); err != nil {
						return err
					}
				}
			}
		case circuit.KindDelay:
			// An identity on the state (noise.Model.Apply turns delays
			// into idle channels).
		case circuit.KindBarrier:
			for _, b := range e.branches {
				if err := e.flush(b); err != nil {
					return err
				}
			}
		case circuit.KindChannel, circuit.KindReadout:
			return fmt.Errorf("sim: op %d: noise (%s) runs in Shots, by quantum trajectories, not in Run, Apply or Observe", i, op.Kind)
		case circuit.KindSet, circuit.KindFail, circuit.KindCompute:
			for _, b := range e.branches {
				if err := op.RunClassical(b.bits, e.s.opts.Host); err != nil {
					return fmt.Errorf("sim: op %d: %w", i, err)
				}
			}
		case circuit.KindMeasure, circuit.KindReset:
			if e.terminal != nil && e.terminal[i] {
				continue
			}
			// Branches made by this op are not visited again for it.
			for _, b := range slices.Clone(e.branches) {
				if !circuit.CondsHold(op.Conds, b.bits) {
					continue
				}
				if err := e.collapse(b, i); err != nil {
					return fmt.Errorf("sim: op %d: %w", i, err)
				}
			}
			if len(e.branches) > 1 {
				if err := e.merge(); err != nil {
					return fmt.Errorf("sim: op %d: %w", i, err)
				}
			}
		default:
			return fmt.Errorf("sim: op %d: unknown kind %v", i, op.Kind)
		}
	}
	if len(e.forced) > 0 {
		return fmt.Errorf("sim: replay: %d recorded outcomes left over at the end of the circuit (the first of op %d): the path was not followed", len(e.forced), e.forced[0].op)
	}
	for _, b := range e.branches {
		if err := e.flush(b); err != nil {
			return err
		}
	}
	return nil
}

// flush fuses and applies a branch's pending gates.
func (e *engine) flush(b *branch) error {
	if len(b.run) == 0 {
		return nil
	}
	n, err := e.s.applyGates(e.ctx, b.st, b.run, b.zero)
	b.zero = false
	e.stats.Applied += n
	b.run = b.run[:0]
	b.norm = 0
	return err
}

// collapse measures or resets op's qubit on branch b: from what is known
// when the qubit is in a basis state, otherwise from its marginal
// probability, splitting b's shots between the outcomes when neither is
// certain.
func (e *engine) collapse(b *branch, i int) error {
	op := &e.c.Ops[i]
	q := op.Qubits[0]
	if len(e.forced) > 0 && e.forced[0].op < i {
		return fmt.Errorf("replay: the recorded outcome of op %d was skipped (the path was not followed)", e.forced[0].op)
	}
	if v := b.known[q]; v != unknownBit {
		if len(e.forced) > 0 && e.forced[0].op == i {
			// The first pass drew here; the replay knows the qubit. The
			// same path gives the same known qubits, so this is a
			// mismatch unless the recorded outcome is the known one.
			if f := e.forced[0]; f.bit != int(v) {
				return fmt.Errorf("replay of op %d: recorded outcome %d, but qubit %d is known to be %d", i, f.bit, q, v)
			}
			b.path = append(b.path, e.forced[0])
			e.forced = e.forced[1:]
		} else {
			e.stats.Certain++
		}
		e.settle(b, op, int(v))
		return nil
	}
	if err := e.flush(b); err != nil {
		return err
	}
	p, err := backend.Probabilities(b.st, []int{q})
	e.stats.Reads++
	if err != nil {
		return err
	}
	total := p[0] + p[1]
	if !(total > 0) || math.IsInf(total, 0) {
		return fmt.Errorf("measure qubit %d: state norm² is %v", q, total)
	}
	if len(e.forced) > 0 {
		// A replay: the outcome its shots had at this collapse, or, at a
		// collapse the first pass found certain, the likelier outcome.
		bit := 0
		if p[1] > p[0] {
			bit = 1
		}
		if f := e.forced[0]; f.op == i {
			if !(p[f.bit] > 0) {
				return fmt.Errorf("replay of op %d: recorded outcome %d has probability %v", i, f.bit, p[f.bit]/total)
			}
			bit = f.bit
			e.forced = e.forced[1:]
			b.path = append(b.path, f)
		} else {
			e.stats.Certain++
		}
		e.project(b, q, bit, p[bit])
		e.settle(b, op, bit)
		return nil
	}
	p1 := p[1] / total
	switch {
	case p1 <= CertainTolerance:
		e.stats.Certain++
		e.project(b, q, 0, p[0])
		e.settle(b, op, 0)
		return nil
	case p1 >= 1-CertainTolerance:
		e.stats.Certain++
		e.project(b, q, 1, p[1])
		e.settle(b, op, 1)
		return nil
	}
	e.drew = true
	var ones, zeros []int32
	for _, k := range b.shots {
		if e.rng.Float64() < p1 {
			ones = append(ones, k)
		} else {
			zeros = append(zeros, k)
		}
	}
	switch {
	case len(ones) == 0 || len(zeros) == 0:
		bit := 0
		if len(zeros) == 0 {
			bit = 1
		}
		b.path = append(b.path, step{i, bit})
		e.project(b, q, bit, p[bit])
		e.settle(b, op, bit)
		return nil
	case len(e.branches) >= e.budget:
		// No room for another state: the branch goes on with the larger
		// side; the other side's shots replay this path later.
		bit, keep, rest := 0, zeros, ones
		if len(ones) > len(zeros) {
			bit, keep, rest = 1, ones, zeros
		}
		e.overflow = append(e.overflow, group{shots: rest, path: append(slices.Clone(b.path), step{i, 1 - bit})})
		b.shots = keep
		b.path = append(b.path, step{i, bit})
		e.project(b, q, bit, p[bit])
		e.settle(b, op, bit)
		return nil
	}
	st, err := backend.Clone(e.s.sv, b.st)
	if err != nil {
		return err
	}
	e.stats.Copies++
	e.stats.Splits++
	nb := &branch{st: st, bits: slices.Clone(b.bits), known: slices.Clone(b.known), shots: ones, path: append(slices.Clone(b.path), step{i, 1}), dirty: true}
	b.shots = zeros
	b.path = append(b.path, step{i, 0})
	e.branches = append(e.branches, nb)
	e.stats.Branches = max(e.stats.Branches, len(e.branches))
	e.project(b, q, 0, p[0])
	e.settle(b, op, 0)
	e.project(nb, q, 1, p[1])
	e.settle(nb, op, 1)
	return nil
}

// project queues the projector onto outcome bit of qubit q, renormalised
// by its probability p (unnormalised: the probability times the norm²).
func (e *engine) project(b *branch, q, bit int, p float64) {
	b.dirty = true
	d := []complex128{0, 0}
	d[bit] = complex(1/math.Sqrt(p), 0)
	b.run = append(b.run, circuit.Gate{Targets: []int{q}, Matrix: d, Diagonal: true})
}

// settle records outcome bit of op on branch b: the clbit for a
// measurement, an X back to |0⟩ for a reset of |1⟩.
func (e *engine) settle(b *branch, op *circuit.Op, bit int) {
	q := op.Qubits[0]
	b.known[q] = int8(bit)
	if op.Kind == circuit.KindMeasure {
		b.bits[op.Clbit] = bit == 1
		return
	}
	if bit == 1 {
		b.run = append(b.run, circuit.Gate{Targets: []int{q}, Matrix: []complex128{0, 1, 1, 0}})
		b.known[q] = 0
	}
}

// merge joins branches whose classical registers, known qubits and states
// agree. Branches are bucketed by their register and known qubits
// (branchKey); within a bucket only pairs with a dirty member are
// compared, at most max(mergeComparesPerBranch × live branches,
// minMergeCompares) pairs per call. A dirty branch compared with its
// whole bucket becomes clean; one the bound leaves no room for stays
// dirty for the next merge. The context is checked before every
// comparison.
func (e *engine) merge() error {
	n := len(e.branches)
	keys := make([]string, n)
	dirty := make([]bool, n)
	buckets := map[string][]int{}
	var order []string
	for i, b := range e.branches {
		k := branchKey(b)
		keys[i] = k
		dirty[i] = b.dirty || k != b.key
		if _, ok := buckets[k]; !ok {
			order = append(order, k)
		}
		buckets[k] = append(buckets[k], i)
	}
	gone := make([]bool, n)
	done := make([]bool, n) // a dirty branch compared with its whole bucket
	left := max(mergeComparesPerBranch*n, minMergeCompares)
	cut := false
	var cands []int
	for _, key := range order {
		idx := buckets[key]
		if len(idx) < 2 {
			if len(idx) == 1 {
				done[idx[0]] = true
			}
			continue
		}
		for _, i := range idx {
			if cut {
				break
			}
			if gone[i] || !dirty[i] {
				continue
			}
			// A dirty branch is compared with the clean ones and the
			// dirty ones done before it: each pair once, by the later of
			// two dirty branches. When the bound does not leave room for
			// all of them, it and the rest wait for the next merge.
			cands = cands[:0]
			for _, j := range idx {
				if j != i && !gone[j] && (!dirty[j] || done[j]) {
					cands = append(cands, j)
				}
			}
			if len(cands) > left {
				cut = true
				break
			}
			for _, j := range cands {
				if err := e.ctx.Err(); err != nil {
					return fmt.Errorf("merging branches: %w", err)
				}
				left--
				same, err := e.same(e.branches[i], e.branches[j])
				if err != nil {
					return err
				}
				if !same {
					continue
				}
				// The earlier branch takes the later one's shots.
				keep, drop := i, j
				if j < i {
					keep, drop = j, i
				}
				a, b := e.branches[keep], e.branches[drop]
				a.shots = mergeSorted(a.shots, b.shots)
				b.st.Free()
				b.st = nil
				gone[drop] = true
				e.stats.Merges++
				if drop == i {
					break
				}
			}
			done[i] = true
		}
	}
	live := e.branches[:0]
	for i, b := range e.branches {
		if gone[i] {
			continue
		}
		if !dirty[i] || done[i] {
			b.dirty, b.key = false, keys[i]
		} else {
			b.dirty = true
		}
		live = append(live, b)
	}
	clear(e.branches[len(live):])
	e.branches = live
	return nil
}

// same reports whether branches a and b hold the same state: their
// fidelity |⟨a|b⟩|²/(⟨a|a⟩⟨b|b⟩) is within mergeTolerance of 1.
func (e *engine) same(a, b *branch) (bool, error) {
	e.stats.Compares++
	na, err := e.norm(a)
	if err != nil {
		return false, err
	}
	nb, err := e.norm(b)
	if err != nil {
		return false, err
	}
	ip, err := backend.Inner(a.st, b.st)
	e.stats.Reads += 2
	if err != nil {
		return false, err
	}
	f := (real(ip)*real(ip) + imag(ip)*imag(ip)) / (na * nb)
	return f >= 1-mergeTolerance, nil
}

// norm flushes b and returns ⟨ψ|ψ⟩ of its state, read once per change.
func (e *engine) norm(b *branch) (float64, error) {
	if err := e.flush(b); err != nil {
		return 0, err
	}
	if b.norm == 0 {
		v, err := backend.Norm(b.st)
		e.stats.Reads++
		if err != nil {
			return 0, err
		}
		if !(v > 0) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("merging branches: state norm² is %v", v)
		}
		b.norm = v
	}
	return b.norm, nil
}

// branchKey is a branch's classical register and known qubits as a map
// key.
func branchKey(b *branch) string {
	k := make([]byte, 0, len(b.bits)+len(b.known))
	for _, v := range b.bits {
		k = append(k, '0'+byte(b2i(v)))
	}
	for _, v := range b.known {
		k = append(k, byte(v+2))
	}
	return string(k)
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// mergeSorted merges two ascending shot lists.
func mergeSorted(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// finish writes every shot's register into r: the branch's register, with
// the terminal measurements sampled from the branch's final state.
func (e *engine) finish(r *ShotResult) error {
	var meas [][2]int
	for i := range e.c.Ops {
		if e.terminal[i] {
			meas = append(meas, [2]int{e.c.Ops[i].Qubits[0], e.c.Ops[i].Clbit})
		}
	}
	bits := make([]bool, e.c.Clbits)
	for _, b := range e.branches {
		var outs []uint64
		if len(meas) > 0 {
			seed := e.sampleSeed
			if e.drew || len(e.branches) > 1 {
				seed = e.rng.Uint64()
			}
			var err error
			if outs, err = Sample(b.st, len(b.shots), seed); err != nil {
				return err
			}
			e.stats.Reads++
		}
		for n, k := range b.shots {
			copy(bits, b.bits)
			for _, m := range meas {
				bits[m[1]] = outs[n]>>uint(m[0])&1 == 1
			}
			w := r.mem[int(k)*r.words : int(k+1)*r.words]
			clear(w)
			for j, v := range bits {
				if v {
					w[j/64] |= 1 << (uint(j) % 64)
				}
			}
		}
	}
	return nil
}
