package consensus

import (
	"errors"
	"fmt"
	"math"
)

// checkStates validates a non-empty set of equal-length vectors and
// returns their common length.
func checkStates(states [][]float64) (int, error) {
	if len(states) == 0 {
		return 0, errors.New("consensus: no states")
	}
	d := len(states[0])
	for i, s := range states {
		if len(s) != d {
			return 0, fmt.Errorf("consensus: state %d has length %d, want %d (the length of state 0)", i, len(s), d)
		}
	}
	return d, nil
}

// Mean returns Θ̄ = (1/n) Σ_i Θ_i (a fresh vector). The states must be
// non-empty and of equal length.
func Mean(states [][]float64) ([]float64, error) {
	d, err := checkStates(states)
	if err != nil {
		return nil, err
	}
	m := make([]float64, d)
	for _, s := range states {
		for k, v := range s {
			m[k] += v
		}
	}
	inv := 1 / float64(len(states))
	for k := range m {
		m[k] *= inv
	}
	return m, nil
}

// sqDistances returns ‖Θ_i − Θ̄‖² for every node, computing Θ̄ a chunk
// at a time on the stack (one allocation: the n results).
func sqDistances(states [][]float64) ([]float64, error) {
	d, err := checkStates(states)
	if err != nil {
		return nil, err
	}
	sq := make([]float64, len(states))
	inv := 1 / float64(len(states))
	var buf [mixChunk]float64
	for lo := 0; lo < d; lo += mixChunk {
		hi := min(lo+mixChunk, d)
		m := buf[:hi-lo]
		clear(m)
		for _, s := range states {
			for k, v := range s[lo:hi] {
				m[k] += v
			}
		}
		for k := range m {
			m[k] *= inv
		}
		for i, s := range states {
			acc := 0.0
			for k, v := range s[lo:hi] {
				e := v - m[k]
				acc += e * e
			}
			sq[i] += acc
		}
	}
	return sq, nil
}

// Disagreement returns ‖Θ − 1Θ̄‖ = sqrt(Σ_i ‖Θ_i − Θ̄‖²), the quantity
// whose per-round decay [Rate] predicts. The states must be non-empty and
// of equal length.
func Disagreement(states [][]float64) (float64, error) {
	sq, err := sqDistances(states)
	if err != nil {
		return 0, err
	}
	s := 0.0
	for _, v := range sq {
		s += v
	}
	return math.Sqrt(s), nil
}

// Drift returns max_i ‖Θ_i − Θ̄‖, the distance of the farthest node from
// the average. The states must be non-empty and of equal length.
func Drift(states [][]float64) (float64, error) {
	sq, err := sqDistances(states)
	if err != nil {
		return 0, err
	}
	m := 0.0
	for _, v := range sq {
		m = max(m, v)
	}
	return math.Sqrt(m), nil
}
