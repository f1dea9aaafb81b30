package accel

import (
	"fmt"
	"math"

	"github.com/prismai/mec/engines/kuramoto"
)

// KuGroupsMax bounds the work-groups of the phasor reduction (grid-stride
// beyond it): one work-item of every ku_deriv group sums that many
// partials in group order, so it stays small, while 256×256 work-items
// still fill a large GPU for the phasor pass.
const KuGroupsMax = 256

// KuGroups is the number of work-groups of the phasor reduction over n
// oscillators.
func KuGroups(n int) int { return min((n+WG-1)/WG, KuGroupsMax) }

// CheckOscillators validates a Kuramoto network for the device: package
// kuramoto's constructor is the validator (same rules, same errors), and
// the kernels index oscillators and couplings in int32.
func CheckOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) error {
	if _, err := kuramoto.New(net, phase0, method); err != nil {
		return err
	}
	n := len(net.Omega)
	if n > math.MaxInt32/2 {
		return fmt.Errorf("kuramoto: %d oscillators is more than %d", n, math.MaxInt32/2)
	}
	if c := net.Coupling; c != nil && len(c.Col) > math.MaxInt32 {
		return fmt.Errorf("kuramoto: %d couplings is more than %d", len(c.Col), math.MaxInt32)
	}
	return nil
}

// CheckDt reports a step that is not finite and positive.
func CheckDt(dt float64) error {
	if math.IsNaN(dt) || math.IsInf(dt, 0) || dt <= 0 {
		return fmt.Errorf("kuramoto step dt = %v, want finite and > 0", dt)
	}
	return nil
}

// CouplingCSR returns the sparse coupling c as the kernels read it: row
// pointers and columns in int32, values in float64, columns and values
// padded to at least one entry.
func CouplingCSR(c *kuramoto.CSR) (rowptr, col []int32, val []float64) {
	rowptr = make([]int32, len(c.RowPtr))
	for i, x := range c.RowPtr {
		rowptr[i] = int32(x)
	}
	col = make([]int32, max(len(c.Col), 1))
	for i, x := range c.Col {
		col[i] = int32(x)
	}
	val = make([]float64, max(len(c.Val), 1))
	copy(val, c.Val)
	return rowptr, col, val
}

// KuBuf names the device buffers of a Kuramoto step.
type KuBuf int

// The buffers a step's kernels read and write.
const (
	KuPhi KuBuf = iota // the phases
	KuTmp              // a stage's trial phases
	KuK1               // derivative slots
	KuK2
	KuK3
)

// KuStep runs one step's kernel schedule (RK4 or Euler, as package
// kuramoto) through the backend's launchers: phasor(x) reduces the
// phasors of buffer x into the partials, deriv(mode, h, kout) evaluates a
// derivative stage into kout (mode 0: a trial stage, 1: Euler's update,
// 2: RK4's final combination). fresh says the partials already hold the
// phasors of the current phases (the last step's closing pass). On
// success the partials hold the new phases' phasors.
func KuStep(method kuramoto.Method, dt float64, fresh bool, phasor func(x KuBuf) error, deriv func(mode int32, h float64, kout KuBuf) error) error {
	if !fresh {
		if err := phasor(KuPhi); err != nil {
			return err
		}
	}
	if method == kuramoto.Euler {
		if err := deriv(1, dt, KuK1); err != nil {
			return err
		}
	} else {
		if err := deriv(0, 0.5*dt, KuK1); err != nil {
			return err
		}
		if err := phasor(KuTmp); err != nil {
			return err
		}
		if err := deriv(0, 0.5*dt, KuK2); err != nil {
			return err
		}
		if err := phasor(KuTmp); err != nil {
			return err
		}
		if err := deriv(0, dt, KuK3); err != nil {
			return err
		}
		if err := phasor(KuTmp); err != nil {
			return err
		}
		if err := deriv(2, dt/6, KuK1); err != nil {
			return err
		}
	}
	// The order parameter of the new phases; its phasors serve the next
	// step's first stage.
	return phasor(KuPhi)
}

// OrderParameter sums the phasor partials (re, im per group) in group
// order and returns the order parameter r and its phase ψ.
func OrderParameter(part []float64, groups, n int) (r, psi float64) {
	re, im := 0.0, 0.0
	for g := 0; g < groups; g++ {
		re += part[2*g]
		im += part[2*g+1]
	}
	re, im = re/float64(n), im/float64(n)
	return math.Hypot(re, im), math.Atan2(im, re)
}
