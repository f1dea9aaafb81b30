package circuit_test

import (
	"strings"
	"testing"

	"github.com/prismai/mec/circuit"
)

// TestCond checks condition evaluation (register value, single bits,
// negation, conjunction) and the validation of bad conditions.
func TestCond(t *testing.T) {
	bits := []bool{true, false, true} // c = 0b101 = 5
	for _, c := range []struct {
		cond circuit.Cond
		want bool
	}{
		{circuit.Cond{Clbits: []int{0, 1, 2}, Value: 5}, true},
		{circuit.Cond{Clbits: []int{0, 1, 2}, Value: 4}, false},
		{circuit.Cond{Clbits: []int{0, 1, 2}, Value: 5, Not: true}, false},
		{circuit.Cond{Clbits: []int{2, 0}, Value: 3}, true},
		{circuit.Cond{Clbits: []int{1}, Value: 1}, false},
		{circuit.Cond{Clbits: []int{1}, Value: 1, Not: true}, true},
	} {
		if got := c.cond.Holds(bits); got != c.want {
			t.Errorf("%+v on %v: %v, want %v", c.cond, bits, got, c.want)
		}
	}
	both := []circuit.Cond{{Clbits: []int{0}, Value: 1}, {Clbits: []int{1}, Value: 1}}
	if circuit.CondsHold(both, bits) || !circuit.CondsHold(both[:1], bits) || !circuit.CondsHold(nil, bits) {
		t.Error("CondsHold is not a conjunction")
	}
	for _, c := range []struct {
		cond circuit.Cond
		want string
	}{
		{circuit.Cond{}, "reads 0 bits"},
		{circuit.Cond{Clbits: []int{3}, Value: 1}, "condition bit 3 out of range"},
		{circuit.Cond{Clbits: []int{0, 1}, Value: 4}, "value 4 does not fit 2 bits"},
	} {
		circ := circuit.New(3)
		circ.Append("x", nil, 0)
		circ.Ops[0].Conds = []circuit.Cond{c.cond}
		if err := circ.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cond, err, c.want)
		}
		if !circ.Dynamic() {
			t.Error("Dynamic: false for a conditional op")
		}
	}
	if circuit.New(2).Append("h", nil, 0).Dynamic() {
		t.Error("Dynamic: true without conditions")
	}
}
