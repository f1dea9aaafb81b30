package sim_test

import (
	"context"
	"math"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim/simtest"
)

// fuzzCircuit decodes a small circuit from data: 1 to 4 qubits and
// clbits, then ops two bytes each (at most 32 ops and 12 measurements or
// resets, so the exact reference enumerates at most 2^12 paths): h, x,
// cx, rz, a measurement, a reset or a barrier. It also returns the shots
// (1 to 64), the branch budget (1 to 3) and the seed.
func fuzzCircuit(data []byte) (c *circuit.Circuit, shots, budget int, seed uint64, ok bool) {
	if len(data) < 5 {
		return nil, 0, 0, 0, false
	}
	n, clbits := 1+int(data[0]%4), 1+int(data[1]%4)
	shots, budget, seed = 1+int(data[2]%64), 1+int(data[3]%3), uint64(data[4])
	c = &circuit.Circuit{Qubits: n, Clbits: clbits}
	collapses := 0
	for i := 5; i+1 < len(data) && len(c.Ops) < 32; i += 2 {
		kind, arg := data[i], data[i+1]
		q := int(arg) % n
		switch kind % 7 {
		case 0:
			c.Append("h", nil, q)
		case 1:
			c.Append("x", nil, q)
		case 2:
			if n > 1 {
				c.Append("cx", nil, q, (q+1+int(arg>>4)%(n-1))%n)
			}
		case 3:
			c.Append("rz", []float64{float64(arg>>2) * math.Pi / 32}, q)
		case 4:
			if collapses < 12 {
				c.Measure(q, int(arg>>4)%clbits)
				collapses++
			}
		case 5:
			if collapses < 12 {
				c.Reset(q)
				collapses++
			}
		case 6:
			c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindBarrier})
		}
	}
	return c, shots, budget, seed, true
}

// FuzzShots runs small random circuits with mid-circuit measurements,
// resets and barriers through Shots with a small branch budget (so that
// groups replay) and checks every shot against the exact reference: each
// shot's register has positive probability (simtest.Outcomes), and the
// run gives the same memory twice.
func FuzzShots(f *testing.F) {
	f.Add([]byte{1, 1, 40, 0, 1, 0, 0, 4, 0, 5, 0, 0, 0, 4, 0})
	f.Add([]byte{2, 3, 63, 1, 7, 0, 0, 2, 0, 4, 0, 5, 0, 3, 9, 0, 1, 4, 1, 4, 17, 6, 0})
	f.Add([]byte{3, 3, 20, 2, 9, 0, 0, 0, 1, 0, 2, 2, 0, 4, 0, 5, 0, 0, 0, 4, 16, 5, 1, 4, 33, 3, 200, 6, 0, 4, 2})
	f.Add([]byte{0, 0, 5, 0, 0, 4, 0, 4, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, shots, budget, seed, ok := fuzzCircuit(data)
		if !ok {
			return
		}
		outs, err := simtest.Outcomes(c)
		if err != nil {
			t.Fatal(err)
		}
		exact := map[string]float64{}
		for _, o := range outs {
			exact[o.Key] += o.P
		}
		r, err := newSim(1, budget, seed).Shots(context.Background(), c, shots)
		if err != nil {
			t.Fatalf("%v: %v", c.Ops, err)
		}
		mem := r.Memory()
		if len(mem) != shots {
			t.Fatalf("%d shots in memory, want %d", len(mem), shots)
		}
		for k, key := range mem {
			if !(exact[key] > 0) {
				t.Fatalf("shot %d: register %s has exact probability 0 (ops %v, budget %d, %+v)", k, key, c.Ops, budget, r.Stats)
			}
		}
		again, err := newSim(2, budget, seed).Shots(context.Background(), c, shots)
		if err != nil {
			t.Fatal(err)
		}
		for k, key := range again.Memory() {
			if key != mem[k] {
				t.Fatalf("shot %d: %s on 1 thread, %s on 2", k, mem[k], key)
			}
		}
	})
}
