package noise

import (
	"fmt"
	"math"
	"strings"

	"github.com/prismai/mec/circuit"
)

// MaxDensityQubits bounds DensityMatrix: a 10-qubit density matrix holds
// 2^20 entries.
const MaxDensityQubits = 10

// DensityMatrix runs c exactly as a density matrix ρ on the host: gates
// ρ ↦ UρU†, channels ρ ↦ Σ K ρ K†. Measurements must be final (no gate,
// reset or condition after them on their qubit or bit); it returns ρ
// before them (d×d row-major, d = 2^qubits) and the probability of every
// classical register value (keys as sim's counts: clbit 0 rightmost,
// scratch bits left out), readout errors included. It is the exact
// reference of noisy shots.
func DensityMatrix(c *circuit.Circuit) ([]complex128, map[string]float64, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	n := c.Qubits
	if n > MaxDensityQubits {
		return nil, nil, fmt.Errorf("noise: a density matrix of %d qubits: at most %d", n, MaxDensityQubits)
	}
	d := 1 << n
	rho := make([]complex128, d*d) // index r·d + c: column bits low, row bits high
	rho[0] = 1
	measuredBy := make([]int, c.Qubits) // qubit → op index of its measurement, −1
	for q := range measuredBy {
		measuredBy[q] = -1
	}
	type meas struct{ q, bit int }
	var ms []meas
	var readouts []*circuit.Op
	final := func(i int, op *circuit.Op) error {
		for _, q := range op.AllQubits() {
			if measuredBy[q] >= 0 {
				return fmt.Errorf("noise: op %d (%s) acts on qubit %d after its measurement: DensityMatrix takes final measurements only", i, op.Kind, q)
			}
		}
		return nil
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		if len(op.Conds) > 0 || op.Kind == circuit.KindReset || op.Classical() || op.ParamExprs != nil {
			return nil, nil, fmt.Errorf("noise: op %d (%s): DensityMatrix takes circuits without resets or classical control", i, op.Kind)
		}
		switch op.Kind {
		case circuit.KindGate:
			if err := final(i, op); err != nil {
				return nil, nil, err
			}
			g, err := op.Lower()
			if err != nil {
				return nil, nil, err
			}
			sandwich(rho, n, &g, &g)
		case circuit.KindChannel:
			if err := final(i, op); err != nil {
				return nil, nil, err
			}
			sum := make([]complex128, len(rho))
			for _, k := range op.Kraus {
				w := append([]complex128(nil), rho...)
				g := circuit.Gate{Targets: op.Qubits, Matrix: k}
				sandwich(w, n, &g, &g)
				for j := range sum {
					sum[j] += w[j]
				}
			}
			copy(rho, sum)
		case circuit.KindMeasure:
			for _, m := range ms {
				if m.bit == op.Clbit {
					return nil, nil, fmt.Errorf("noise: op %d measures into bit %d again: DensityMatrix takes one measurement per bit", i, op.Clbit)
				}
			}
			measuredBy[op.Qubits[0]] = i
			ms = append(ms, meas{op.Qubits[0], op.Clbit})
		case circuit.KindReadout:
			readouts = append(readouts, op)
		}
	}
	// The distribution of the measured bits, then the readout flips.
	dist := map[uint64]float64{}
	for s := 0; s < d; s++ {
		p := real(rho[s*d+s])
		if p <= 0 {
			continue
		}
		var v uint64
		for _, m := range ms {
			if s>>m.q&1 == 1 {
				v |= 1 << uint(m.bit)
			} else {
				v &^= 1 << uint(m.bit)
			}
		}
		dist[v] += p
	}
	for _, r := range readouts {
		next := map[uint64]float64{}
		b := uint64(1) << uint(r.Clbit)
		for v, p := range dist {
			flip := r.Params[0] // P(1|0)
			if v&b != 0 {
				flip = r.Params[1] // P(0|1)
			}
			next[v] += p * (1 - flip)
			next[v^b] += p * flip
		}
		dist = next
	}
	shown := c.Results()
	if shown > 64 {
		return nil, nil, fmt.Errorf("noise: a %d-bit register: DensityMatrix keys at most 64", shown)
	}
	out := map[string]float64{}
	for v, p := range dist {
		if p < 1e-300 || math.IsNaN(p) {
			continue
		}
		var sb strings.Builder
		for j := shown - 1; j >= 0; j-- {
			sb.WriteByte("01"[v>>uint(j)&1])
		}
		out[sb.String()] += p
	}
	return rho, out, nil
}

// sandwich replaces ρ (n qubits, vectorised as 2n qubits: row bits above
// column bits) by A ρ B†.
func sandwich(rho []complex128, n int, a, b *circuit.Gate) {
	row := shift(a, n, false)
	col := shift(b, 0, true)
	circuit.ApplyToVector(rho, &row)
	circuit.ApplyToVector(rho, &col)
}

// shift moves g's qubits up by k and, with conj, conjugates its matrix:
// the gate acting on the row (k = n) or the column (conj) index of ρ.
func shift(g *circuit.Gate, k int, conj bool) circuit.Gate {
	up := func(qs []int) []int {
		if qs == nil {
			return nil
		}
		out := make([]int, len(qs))
		for i, q := range qs {
			out[i] = q + k
		}
		return out
	}
	m := g.Matrix
	if conj {
		m = make([]complex128, len(g.Matrix))
		for i, v := range g.Matrix {
			m[i] = complex(real(v), -imag(v))
		}
	}
	return circuit.Gate{Targets: up(g.Targets), Controls: up(g.Controls), NegControls: up(g.NegControls), Matrix: m, Diagonal: g.Diagonal}
}
