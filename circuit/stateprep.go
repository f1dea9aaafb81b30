package circuit

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"
)

// MaxPrepareQubits bounds PrepareState (its circuit has about 2^(n+1) CX).
const MaxPrepareQubits = 24

// PrepareState returns a circuit of ry, rz, cx (and one gphase) that maps
// |0…0⟩ to amps, a normalised state of 2^n amplitudes (qubit k = bit k of
// the index), global phase included. It follows Möttönen et al. (2004):
// uniformly controlled Ry rotations set the magnitudes, qubit n−1 first,
// each conditioned on the qubits above it; the phases are a diagonal
// written as uniformly controlled Rz rotations, qubit 0 first. A uniformly
// controlled rotation on k controls takes 2^k rotations and 2^k CX in Gray
// code order; rotations that vanish are left out.
func PrepareState(amps []complex128) (*Circuit, error) {
	n := 0
	for 1<<n < len(amps) {
		n++
	}
	if len(amps) < 2 || 1<<n != len(amps) {
		return nil, fmt.Errorf("circuit: prepare state: %d amplitudes, want a power of two ≥ 2", len(amps))
	}
	if n > MaxPrepareQubits {
		return nil, fmt.Errorf("circuit: prepare state: %d qubits; at most %d", n, MaxPrepareQubits)
	}
	var norm float64
	for i, a := range amps {
		if cmplx.IsNaN(a) || cmplx.IsInf(a) {
			return nil, fmt.Errorf("circuit: prepare state: amplitude %d is %v", i, a)
		}
		norm += real(a)*real(a) + imag(a)*imag(a)
	}
	if math.Abs(norm-1) > 1e-8 {
		return nil, fmt.Errorf("circuit: prepare state: norm² %.12g, want 1", norm)
	}
	c := New(n)
	// Magnitudes: p[t][pattern of bits ≥ t] are the probabilities of the
	// higher bits, built bottom-up.
	prob := make([][]float64, n+1)
	prob[0] = make([]float64, len(amps))
	for i, a := range amps {
		prob[0][i] = real(a)*real(a) + imag(a)*imag(a)
	}
	for t := 1; t <= n; t++ {
		prev := prob[t-1]
		cur := make([]float64, len(prev)/2)
		for j := range cur {
			cur[j] = prev[2*j] + prev[2*j+1]
		}
		prob[t] = cur
	}
	for t := n - 1; t >= 0; t-- {
		// controls t+1..n−1; pattern j = bits ≥ t+1.
		p := prob[t] // index: bits ≥ t (bit t lowest)
		theta := make([]float64, len(p)/2)
		for j := range theta {
			theta[j] = 2 * math.Atan2(math.Sqrt(p[2*j+1]), math.Sqrt(p[2*j]))
		}
		c.uniformRotation("ry", t, theta)
	}
	// Phases: diag(e^{iφ_i}) = UC-Rz on qubit 0 (controls 1..) · diagonal on the rest.
	phi := make([]float64, len(amps))
	for i, a := range amps {
		if cmplx.Abs(a) > 0 {
			phi[i] = cmplx.Phase(a)
		}
	}
	for t := 0; t < n; t++ {
		half := make([]float64, len(phi)/2)
		alpha := make([]float64, len(phi)/2)
		for j := range half {
			half[j] = (phi[2*j] + phi[2*j+1]) / 2
			alpha[j] = phi[2*j+1] - phi[2*j]
		}
		c.uniformRotation("rz", t, alpha)
		phi = half
	}
	if g := phi[0]; math.Abs(math.Remainder(g, 2*math.Pi)) > 1e-15 {
		c.Append("gphase", []float64{g})
	}
	return c, nil
}

// uniformRotation appends the rotation rot(theta[j]) on target t for each
// value j of the qubits t+1, t+2, … (bit m of j is qubit t+1+m).
func (c *Circuit) uniformRotation(rot string, t int, theta []float64) {
	const tiny = 1e-15
	k := bits.Len(uint(len(theta))) - 1
	allZero := true
	for _, x := range theta {
		if math.Abs(x) > tiny {
			allZero = false
			break
		}
	}
	if allZero {
		return
	}
	if k == 0 {
		c.Append(rot, []float64{theta[0]}, t)
		return
	}
	// φ_i = 2^{-k} Σ_j (−1)^{j·gray(i)} θ_j.
	m := len(theta)
	for i := 0; i < m; i++ {
		g := i ^ i>>1
		var phi float64
		for j, th := range theta {
			if bits.OnesCount(uint(j&g))%2 == 0 {
				phi += th
			} else {
				phi -= th
			}
		}
		phi /= float64(m)
		if math.Abs(phi) > tiny {
			c.Append(rot, []float64{phi}, t)
		}
		next := (i + 1) % m
		ctrl := bits.TrailingZeros(uint(g ^ (next ^ next>>1)))
		c.Append("cx", nil, t+1+ctrl, t)
	}
}
