package circuit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PauliTerm is Coeff · P with P a Pauli string: character k ('I','X','Y','Z')
// acts on qubit k, as in the peers' JSON ("XZI" = X on qubit 0, Z on qubit 1).
type PauliTerm struct {
	Coeff float64 `json:"coeff"`
	Pauli string  `json:"pauli"`
}

// PauliSum is the Hermitian operator Σ_k Coeff_k · P_k.
type PauliSum []PauliTerm

// PauliMasks is a Pauli string in bit form: P|i⟩ = Phase · (−1)^{popcount(i & Z)} |i ⊕ X⟩,
// where X marks the X and Y positions, Z marks the Z and Y positions and
// Phase = i^{#Y}.
type PauliMasks struct {
	X, Z  uint64
	Phase complex128
}

// Masks parses the Pauli string of t for n qubits.
func (t PauliTerm) Masks(n int) (PauliMasks, error) {
	if len(t.Pauli) != n {
		return PauliMasks{}, fmt.Errorf("circuit: pauli string %q has %d characters, want %d", t.Pauli, len(t.Pauli), n)
	}
	if n > 63 {
		return PauliMasks{}, fmt.Errorf("circuit: pauli string on %d qubits: at most 63", n)
	}
	var m PauliMasks
	ny := 0
	for k, c := range strings.ToUpper(t.Pauli) {
		switch c {
		case 'I':
		case 'X':
			m.X |= 1 << uint(k)
		case 'Z':
			m.Z |= 1 << uint(k)
		case 'Y':
			m.X |= 1 << uint(k)
			m.Z |= 1 << uint(k)
			ny++
		default:
			return PauliMasks{}, fmt.Errorf("circuit: pauli string %q: character %q at %d is not I, X, Y or Z", t.Pauli, c, k)
		}
	}
	m.Phase = [4]complex128{1, 1i, -1, -1i}[ny%4]
	return m, nil
}

// Validate checks that every term has n characters of IXYZ and a finite coefficient.
func (h PauliSum) Validate(n int) error {
	for i, t := range h {
		if math.IsNaN(t.Coeff) || math.IsInf(t.Coeff, 0) {
			return fmt.Errorf("circuit: term %d: coefficient %v is not finite", i, t.Coeff)
		}
		if _, err := t.Masks(n); err != nil {
			return fmt.Errorf("term %d: %w", i, err)
		}
	}
	return nil
}

// Norm1 returns Σ|coeff|, an upper bound on the spectral norm of h.
func (h PauliSum) Norm1() float64 {
	var s float64
	for _, t := range h {
		s += math.Abs(t.Coeff)
	}
	return s
}

// Trotter returns a circuit of standard gates approximating exp(−i·h·t)
// with a Trotter–Suzuki product formula of the given order (1, 2 or 4) and
// number of steps. Each factor exp(−iθP) becomes a basis change (h for X,
// sdg·h for Y), a cx ladder onto the highest non-identity qubit, rz(2θ)
// there, and the ladder and basis change undone; an all-identity term
// becomes gphase(−θ). The error of order p is O(t^{p+1}/steps^p).
func Trotter(h PauliSum, n int, t float64, steps, order int) (*Circuit, error) {
	if steps < 1 {
		return nil, fmt.Errorf("circuit: trotter needs at least one step, got %d", steps)
	}
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("circuit: time %v is not finite", t)
	}
	step, err := TrotterStep(h, n, t/float64(steps), order)
	if err != nil {
		return nil, err
	}
	c := New(n)
	c.Clbits = 0
	c.Ops = make([]Op, 0, steps*len(step.Ops))
	for s := 0; s < steps; s++ {
		for i := range step.Ops {
			c.Ops = append(c.Ops, step.Ops[i].Clone())
		}
	}
	return c, nil
}

// TrotterStep returns one step of the product formula of Trotter, of time
// dt: Trotter(h, n, t, steps, order) is TrotterStep(h, n, t/steps, order)
// repeated steps times, so a long evolution can be run a few steps at a
// time in bounded memory.
func TrotterStep(h PauliSum, n int, dt float64, order int) (*Circuit, error) {
	if err := h.Validate(n); err != nil {
		return nil, err
	}
	if math.IsNaN(dt) || math.IsInf(dt, 0) {
		return nil, fmt.Errorf("circuit: time step %v is not finite", dt)
	}
	c := New(n)
	c.Clbits = 0
	var factor func(dt float64)
	first := func(dt float64, reverse bool) {
		for i := range h {
			k := i
			if reverse {
				k = len(h) - 1 - i
			}
			appendPauliRotation(c, h[k], dt*h[k].Coeff)
		}
	}
	second := func(dt float64) { first(dt/2, false); first(dt/2, true) }
	switch order {
	case 1:
		factor = func(dt float64) { first(dt, false) }
	case 2:
		factor = second
	case 4:
		p := 1 / (4 - math.Cbrt(4))
		factor = func(dt float64) {
			second(p * dt)
			second(p * dt)
			second((1 - 4*p) * dt)
			second(p * dt)
			second(p * dt)
		}
	default:
		return nil, fmt.Errorf("circuit: trotter order %d: want 1, 2 or 4", order)
	}
	factor(dt)
	return c, nil
}

// appendPauliRotation appends exp(−iθP) for the Pauli string of t.
func appendPauliRotation(c *Circuit, t PauliTerm, theta float64) {
	var qs []int
	for k, ch := range strings.ToUpper(t.Pauli) {
		if ch != 'I' {
			qs = append(qs, k)
		}
	}
	if len(qs) == 0 {
		c.Append("gphase", []float64{-theta})
		return
	}
	basis := func(undo bool) {
		for _, q := range qs {
			switch t.Pauli[q] {
			case 'X', 'x':
				c.Append("h", nil, q)
			case 'Y', 'y':
				if undo {
					c.Append("h", nil, q)
					c.Append("s", nil, q)
				} else {
					c.Append("sdg", nil, q)
					c.Append("h", nil, q)
				}
			}
		}
	}
	basis(false)
	for i := 0; i+1 < len(qs); i++ {
		c.Append("cx", nil, qs[i], qs[i+1])
	}
	c.Append("rz", []float64{2 * theta}, qs[len(qs)-1])
	for i := len(qs) - 2; i >= 0; i-- {
		c.Append("cx", nil, qs[i], qs[i+1])
	}
	basis(true)
}

// ParsePauliSum reads a Pauli sum written as terms joined by + and −, each
// an optional coefficient (a number, optionally followed by *) and a Pauli
// string of I, X, Y, Z — character k acting on qubit k, as everywhere in
// mec: "0.5*ZZI + XIX - 2 YYI". Every string must have the same length.
func ParsePauliSum(s string) (PauliSum, error) {
	var h PauliSum
	rest := strings.TrimSpace(s)
	if rest == "" {
		return nil, fmt.Errorf("circuit: empty Pauli sum")
	}
	sign := 1.0
	first := true
	for rest != "" {
		// Sign: mandatory between terms, optional before the first.
		switch rest[0] {
		case '+', '-':
			if rest[0] == '-' {
				sign = -1
			}
			rest = strings.TrimSpace(rest[1:])
		default:
			if !first {
				return nil, fmt.Errorf("circuit: Pauli sum %q: expected + or - before %q", s, rest)
			}
		}
		first = false
		coeff := 1.0
		if end := strings.IndexFunc(rest, func(r rune) bool { return strings.ContainsRune("IXYZixyz", r) }); end != 0 {
			if end < 0 {
				return nil, fmt.Errorf("circuit: Pauli sum %q: term %q has no Pauli string", s, rest)
			}
			num := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest[:end]), "*"))
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("circuit: Pauli sum %q: coefficient %q is not a finite number", s, num)
			}
			coeff = v
			rest = rest[end:]
		}
		end := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune("IXYZixyz", r) })
		if end < 0 {
			end = len(rest)
		}
		p := strings.ToUpper(rest[:end])
		rest = strings.TrimSpace(rest[end:])
		if len(h) > 0 && len(p) != len(h[0].Pauli) {
			return nil, fmt.Errorf("circuit: Pauli sum %q: strings of %d and %d qubits", s, len(h[0].Pauli), len(p))
		}
		h = append(h, PauliTerm{Coeff: sign * coeff, Pauli: p})
		sign = 1
	}
	return h, nil
}

// String writes the sum in ParsePauliSum's form.
func (h PauliSum) String() string {
	var b strings.Builder
	for i, t := range h {
		c := t.Coeff
		switch {
		case i > 0 && c < 0:
			b.WriteString(" - ")
			c = -c
		case i > 0:
			b.WriteString(" + ")
		}
		if c != 1 {
			b.WriteString(strconv.FormatFloat(c, 'g', -1, 64) + "*")
		}
		b.WriteString(t.Pauli)
	}
	return b.String()
}
