// Package noise describes the noise of a device — quantum channels after
// gates and errors in reading measured bits — and applies it to circuits:
// Model.Apply inserts the channels and readout errors into a circuit,
// which the simulator then runs by quantum trajectories on any
// state-vector backend (sim.Simulator.Shots: each shot draws one Kraus
// operator at each channel), and DensityMatrix runs exactly, as a
// density matrix on the host, for small circuits (the reference the
// trajectories converge to at 1/√shots).
//
// Layer: compute library. It may import circuit and internal/strict (its
// tests also use the backends and sim); never the runtime, devices or
// commands.
//
// A model file (YAML or JSON; unknown keys are errors):
//
//	gates:                       # rules, in order; every matching rule applies
//	  - gates: [cx, ecr]         # gate names (empty or "*": every gate)
//	    qubits: [0, 1]           # optional: only gates touching one of these
//	    depolarizing: 0.01       # on all the gate's qubits together
//	  - gates: ["*"]
//	    amplitude_damping: 0.001 # each qubit of the gate: γ
//	    phase_damping: 0.002     # each qubit: λ
//	    pauli: {x: 0.001, y: 0, z: 0.003}  # each qubit
//	    kraus:                   # each qubit: a one-qubit channel …
//	      - [[1, 0], [0, 0], [0, 0], [0.8, 0]]   # … K as [re, im] entries, row-major
//	      - [[0, 0], [0.6, 0], [0, 0], [0, 0]]
//	idle:                        # decay during delays (OpenQASM delay[…])
//	  - qubits: [0, 1]           # optional: every qubit
//	    t1: 50e-6                # seconds; amplitude damping 1 − e^(−τ/T1)
//	    t2: 30e-6                # seconds (≤ 2·t1); the rest of the dephasing
//	readout:
//	  - qubits: [0]              # optional: every qubit
//	    p01: 0.02                # P(read 1 | 0)
//	    p10: 0.05                # P(read 0 | 1)
//
// The channels of a rule follow each matching gate in the order
// depolarizing, amplitude damping, phase damping, Pauli, Kraus. The
// n-qubit depolarizing channel of probability p replaces the state by the
// maximally mixed one with probability p: ρ ↦ (1−p)ρ + p·I/2^n, i.e.
// each of the 4^n Paulis with probability p/4^n. Amplitude damping γ has
// K0 = [[1,0],[0,√(1−γ)]], K1 = [[0,√γ],[0,0]]; phase damping λ has
// K0 = [[1,0],[0,√(1−λ)]], K1 = [[0,0],[0,√λ]].
package noise

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/strict"
)

// Model is a noise model.
type Model struct {
	Gates   []GateRule    `json:"gates,omitempty" yaml:"gates,omitempty"`
	Readout []ReadoutRule `json:"readout,omitempty" yaml:"readout,omitempty"`
	Idle    []IdleRule    `json:"idle,omitempty" yaml:"idle,omitempty"`
}

// IdleRule gives qubits relaxation and coherence times: a delay of τ
// seconds on one of them is followed by amplitude damping γ = 1 − e^(−τ/T1)
// and phase damping λ = 1 − e^(−2τ/Tφ), 1/Tφ = 1/T2 − 1/(2 T1), so that
// ⟨1|ρ|1⟩ decays as e^(−τ/T1) and |⟨0|ρ|1⟩| as e^(−τ/T2).
type IdleRule struct {
	// Qubits the rule applies to; empty: every qubit.
	Qubits []int `json:"qubits,omitempty" yaml:"qubits,omitempty"`
	// T1 and T2 in seconds; 0 leaves that decay out (T2 ≤ 2 T1).
	T1 float64 `json:"t1,omitempty" yaml:"t1,omitempty"`
	T2 float64 `json:"t2,omitempty" yaml:"t2,omitempty"`
}

// channels returns the idle channels of a delay of tau seconds.
func (r *IdleRule) channels(q int, tau float64) []circuit.Op {
	var out []circuit.Op
	if r.T1 > 0 {
		out = append(out, circuit.Op{Kind: circuit.KindChannel, Qubits: []int{q}, Kraus: AmplitudeDamping(-math.Expm1(-tau / r.T1))})
	}
	if r.T2 > 0 {
		rate := 1 / r.T2
		if r.T1 > 0 {
			rate -= 1 / (2 * r.T1)
		}
		if rate > 0 {
			out = append(out, circuit.Op{Kind: circuit.KindChannel, Qubits: []int{q}, Kraus: PhaseDamping(-math.Expm1(-2 * tau * rate))})
		}
	}
	return out
}

// GateRule adds channels after the gates it matches.
type GateRule struct {
	// Gates are the gate names the rule matches (OpenQASM names as the
	// circuit has them); empty or "*" matches every gate.
	Gates []string `json:"gates,omitempty" yaml:"gates,omitempty"`
	// Qubits restricts the rule to gates that touch one of them (and the
	// per-qubit channels to those qubits); empty: every qubit.
	Qubits []int `json:"qubits,omitempty" yaml:"qubits,omitempty"`
	// Depolarizing is p of the depolarizing channel on all of the gate's
	// qubits together.
	Depolarizing float64 `json:"depolarizing,omitempty" yaml:"depolarizing,omitempty"`
	// AmplitudeDamping (γ), PhaseDamping (λ), Pauli and Kraus act on
	// each qubit of the gate.
	AmplitudeDamping float64     `json:"amplitude_damping,omitempty" yaml:"amplitude_damping,omitempty"`
	PhaseDamping     float64     `json:"phase_damping,omitempty" yaml:"phase_damping,omitempty"`
	Pauli            *PauliProbs `json:"pauli,omitempty" yaml:"pauli,omitempty"`
	// Kraus is a one-qubit channel: each operator's four entries [re, im]
	// row-major.
	Kraus [][][2]float64 `json:"kraus,omitempty" yaml:"kraus,omitempty"`
}

// PauliProbs are the probabilities of X, Y and Z errors (the identity
// takes the rest).
type PauliProbs struct {
	X float64 `json:"x" yaml:"x"`
	Y float64 `json:"y" yaml:"y"`
	Z float64 `json:"z" yaml:"z"`
}

// ReadoutRule gives the probabilities of reading a measured bit wrong.
type ReadoutRule struct {
	// Qubits the rule applies to (the measured qubit); empty: every qubit.
	Qubits []int `json:"qubits,omitempty" yaml:"qubits,omitempty"`
	// P01 is P(read 1 | 0), P10 is P(read 0 | 1).
	P01 float64 `json:"p01" yaml:"p01"`
	P10 float64 `json:"p10" yaml:"p10"`
}

// Load reads a model file: JSON when the name ends in .json, else YAML.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("noise: %w", err)
	}
	m, err := Parse(b, strings.EqualFold(filepath.Ext(path), ".json"))
	if err != nil {
		return nil, fmt.Errorf("noise: %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a model (JSON or YAML; unknown keys are errors) and
// validates it.
func Parse(b []byte, json bool) (*Model, error) {
	var m Model
	var err error
	if json {
		err = strict.JSON(b, &m)
	} else {
		err = strict.YAML(b, &m)
	}
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks probabilities (in [0,1], Pauli ones summing to at most
// 1), qubits (non-negative) and Kraus operators (2×2, Σ K†K = I).
func (m *Model) Validate() error {
	prob := func(where string, p float64) error {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("%s: probability %v not in [0,1]", where, p)
		}
		return nil
	}
	for i, r := range m.Gates {
		w := fmt.Sprintf("gates[%d]", i)
		for _, q := range r.Qubits {
			if q < 0 {
				return fmt.Errorf("%s: qubit %d", w, q)
			}
		}
		for _, c := range []struct {
			name string
			p    float64
		}{{"depolarizing", r.Depolarizing}, {"amplitude_damping", r.AmplitudeDamping}, {"phase_damping", r.PhaseDamping}} {
			if err := prob(w+"."+c.name, c.p); err != nil {
				return err
			}
		}
		if r.Pauli != nil {
			for _, p := range []float64{r.Pauli.X, r.Pauli.Y, r.Pauli.Z} {
				if err := prob(w+".pauli", p); err != nil {
					return err
				}
			}
			if s := r.Pauli.X + r.Pauli.Y + r.Pauli.Z; s > 1+1e-12 {
				return fmt.Errorf("%s.pauli: probabilities sum to %v > 1", w, s)
			}
		}
		if r.Kraus != nil {
			if err := validateKraus1(r.Kraus); err != nil {
				return fmt.Errorf("%s.kraus: %w", w, err)
			}
		}
		if r.Depolarizing == 0 && r.AmplitudeDamping == 0 && r.PhaseDamping == 0 && r.Pauli == nil && r.Kraus == nil {
			return fmt.Errorf("%s: no channel (depolarizing, amplitude_damping, phase_damping, pauli or kraus)", w)
		}
	}
	for i, r := range m.Idle {
		w := fmt.Sprintf("idle[%d]", i)
		if !(r.T1 >= 0) || !(r.T2 >= 0) || math.IsInf(r.T1, 0) || math.IsInf(r.T2, 0) {
			return fmt.Errorf("%s: t1 and t2 are finite times ≥ 0 in seconds, got %v and %v", w, r.T1, r.T2)
		}
		if r.T1 == 0 && r.T2 == 0 {
			return fmt.Errorf("%s: give t1, t2 or both", w)
		}
		if r.T1 > 0 && r.T2 > 2*r.T1 {
			return fmt.Errorf("%s: t2 %v exceeds 2·t1 = %v, which no physical qubit allows", w, r.T2, 2*r.T1)
		}
		for _, q := range r.Qubits {
			if q < 0 {
				return fmt.Errorf("%s: qubit %d", w, q)
			}
		}
	}
	for i, r := range m.Readout {
		w := fmt.Sprintf("readout[%d]", i)
		if err := prob(w+".p01", r.P01); err != nil {
			return err
		}
		if err := prob(w+".p10", r.P10); err != nil {
			return err
		}
		for _, q := range r.Qubits {
			if q < 0 {
				return fmt.Errorf("%s: qubit %d", w, q)
			}
		}
	}
	return nil
}

func validateKraus1(ks [][][2]float64) error {
	op := circuit.Op{Kind: circuit.KindChannel, Qubits: []int{0}, Kraus: kraus1(ks)}
	for _, k := range ks {
		if len(k) != 4 {
			return fmt.Errorf("a one-qubit Kraus operator has 4 entries, got %d", len(k))
		}
	}
	c := &circuit.Circuit{Qubits: 1, Ops: []circuit.Op{op}}
	return c.Validate()
}

func kraus1(ks [][][2]float64) [][]complex128 {
	out := make([][]complex128, len(ks))
	for i, k := range ks {
		out[i] = make([]complex128, len(k))
		for j, v := range k {
			out[i][j] = complex(v[0], v[1])
		}
	}
	return out
}

// Apply returns c with the model's channels after the gates they match
// and its readout errors after the measurements of their qubits.
// Conditional gates keep their conditions on their channels.
func (m *Model) Apply(c *circuit.Circuit) (*circuit.Circuit, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	out := &circuit.Circuit{Qubits: c.Qubits, Clbits: c.Clbits, Scratch: c.Scratch, Cregs: c.Cregs, Ops: make([]circuit.Op, 0, len(c.Ops))}
	for i := range c.Ops {
		op := c.Ops[i]
		out.Ops = append(out.Ops, op)
		switch op.Kind {
		case circuit.KindGate:
			qs := op.AllQubits()
			for _, r := range m.Gates {
				if !r.matches(op.Name, qs) {
					continue
				}
				chs, err := r.channels(qs)
				if err != nil {
					return nil, fmt.Errorf("noise: op %d (%s): %w", i, op.Name, err)
				}
				for _, ch := range chs {
					ch.Conds = op.Conds
					out.Ops = append(out.Ops, ch)
				}
			}
		case circuit.KindDelay:
			for _, q := range op.Qubits {
				for _, r := range m.Idle {
					if len(r.Qubits) == 0 || slices.Contains(r.Qubits, q) {
						for _, ch := range r.channels(q, op.Params[0]) {
							ch.Conds = op.Conds
							out.Ops = append(out.Ops, ch)
						}
					}
				}
			}
		case circuit.KindMeasure:
			q := op.Qubits[0]
			for _, r := range m.Readout {
				if len(r.Qubits) == 0 || slices.Contains(r.Qubits, q) {
					if r.P01 == 0 && r.P10 == 0 {
						continue
					}
					out.Ops = append(out.Ops, circuit.Op{Kind: circuit.KindReadout, Clbit: op.Clbit, Params: []float64{r.P01, r.P10}, Conds: op.Conds})
				}
			}
		}
	}
	return out, out.Validate()
}

func (r *GateRule) matches(name string, qs []int) bool {
	if len(r.Gates) > 0 && !slices.Contains(r.Gates, "*") && !slices.Contains(r.Gates, name) {
		return false
	}
	if len(r.Qubits) == 0 {
		return true
	}
	return slices.ContainsFunc(qs, func(q int) bool { return slices.Contains(r.Qubits, q) })
}

// channels returns the rule's channel ops for a gate on qs.
func (r *GateRule) channels(qs []int) ([]circuit.Op, error) {
	var out []circuit.Op
	if r.Depolarizing > 0 {
		if len(qs) > 3 {
			return nil, ErrTooWide
		}
		out = append(out, circuit.Op{Kind: circuit.KindChannel, Qubits: slices.Clone(qs), Kraus: Depolarizing(len(qs), r.Depolarizing), Mixture: true})
	}
	for _, q := range qs {
		if len(r.Qubits) > 0 && !slices.Contains(r.Qubits, q) {
			continue
		}
		one := func(ks [][]complex128, mixture bool) {
			out = append(out, circuit.Op{Kind: circuit.KindChannel, Qubits: []int{q}, Kraus: ks, Mixture: mixture})
		}
		if r.AmplitudeDamping > 0 {
			one(AmplitudeDamping(r.AmplitudeDamping), false)
		}
		if r.PhaseDamping > 0 {
			one(PhaseDamping(r.PhaseDamping), false)
		}
		if r.Pauli != nil && r.Pauli.X+r.Pauli.Y+r.Pauli.Z > 0 {
			one(PauliChannel(r.Pauli.X, r.Pauli.Y, r.Pauli.Z), true)
		}
		if r.Kraus != nil {
			one(kraus1(r.Kraus), false)
		}
	}
	return out, nil
}

// ErrTooWide is returned (wrapped) by Apply for a depolarizing channel
// on a gate of more than three qubits (4^n Kraus operators).
var ErrTooWide = errors.New("a depolarizing channel on more than 3 qubits (its 4^n Kraus operators) is not supported")

var paulis = [4][4]complex128{{1, 0, 0, 1}, {0, 1, 1, 0}, {0, -1i, 1i, 0}, {1, 0, 0, -1}}

// Depolarizing returns the Kraus operators of the n-qubit depolarizing
// channel of probability p: the 4^n Paulis, the identity scaled by
// √(1−p+p/4^n) and the others by √(p/4^n).
func Depolarizing(n int, p float64) [][]complex128 {
	d := 1 << n
	num := 1 << (2 * n)
	out := make([][]complex128, 0, num)
	for idx := 0; idx < num; idx++ {
		w := p / float64(num)
		if idx == 0 {
			w += 1 - p
		}
		if w == 0 {
			continue
		}
		m := make([]complex128, d*d)
		for r := 0; r < d; r++ {
			for c := 0; c < d; c++ {
				v := complex(math.Sqrt(w), 0)
				for j := 0; j < n; j++ {
					v *= paulis[idx>>(2*j)&3][(r>>j&1)*2+(c>>j&1)]
				}
				m[r*d+c] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// AmplitudeDamping returns the Kraus operators of amplitude damping γ.
func AmplitudeDamping(g float64) [][]complex128 {
	return [][]complex128{{1, 0, 0, complex(math.Sqrt(1-g), 0)}, {0, complex(math.Sqrt(g), 0), 0, 0}}
}

// PhaseDamping returns the Kraus operators of phase damping λ.
func PhaseDamping(l float64) [][]complex128 {
	return [][]complex128{{1, 0, 0, complex(math.Sqrt(1-l), 0)}, {0, 0, 0, complex(math.Sqrt(l), 0)}}
}

// PauliChannel returns the Kraus operators of the Pauli channel with X, Y
// and Z error probabilities px, py, pz.
func PauliChannel(px, py, pz float64) [][]complex128 {
	var out [][]complex128
	for i, w := range []float64{1 - px - py - pz, px, py, pz} {
		if w <= 0 {
			continue
		}
		s := complex(math.Sqrt(w), 0)
		m := make([]complex128, 4)
		for j := range m {
			m[j] = s * paulis[i][j]
		}
		out = append(out, m)
	}
	return out
}
