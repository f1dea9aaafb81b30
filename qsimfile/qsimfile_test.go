package qsimfile_test

import (
	"context"
	"math"
	"math/cmplx"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qsimfile"
	"github.com/prismai/mec/sim/simtest"
)

// qsimMatrices are qsim's gate matrices as its source writes them:
// interleaved real and imaginary parts, row-major, operand 0 the low bit.
func qsimMatrices(phi, theta float64) map[string][]float64 {
	h, is2 := 0.5, math.Sqrt2/2
	c, s := math.Cos(-phi/2), math.Sin(-phi/2)
	ct, st := math.Cos(theta)*s, math.Sin(theta)*s
	fc, fs := math.Cos(theta), math.Sin(theta)
	pc, ps := math.Cos(phi), math.Sin(phi)
	return map[string][]float64{
		"h":      {is2, 0, is2, 0, is2, 0, -is2, 0},
		"t":      {1, 0, 0, 0, 0, 0, is2, is2},
		"x":      {0, 0, 1, 0, 1, 0, 0, 0},
		"y":      {0, 0, 0, -1, 0, 1, 0, 0},
		"z":      {1, 0, 0, 0, 0, 0, -1, 0},
		"x_1_2":  {h, h, h, -h, h, -h, h, h},
		"y_1_2":  {h, h, -h, -h, h, h, h, h},
		"rx":     {c, 0, 0, s, 0, s, c, 0},
		"ry":     {c, 0, s, 0, -s, 0, c, 0},
		"rz":     {c, s, 0, 0, 0, 0, c, -s},
		"rxy":    {c, 0, st, ct, -st, ct, c, 0},
		"hz_1_2": {h, h, 0, -is2, is2, 0, h, h},
		"s":      {1, 0, 0, 0, 0, 0, 0, 1},
		"cz":     {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0},
		"cnot":   {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
		"sw":     {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		"is":     {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		"fs":     {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, fc, 0, 0, -fs, 0, 0, 0, 0, 0, -fs, fc, 0, 0, 0, 0, 0, 0, 0, 0, 0, pc, -ps},
		"cp":     {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, pc, -ps},
	}
}

// TestGatesAreQsims: every gate of the format, read from a one-gate file,
// has exactly qsim's matrix (global phase included) to 1e-15.
func TestGatesAreQsims(t *testing.T) {
	const phi, theta = 0.83, -1.27
	params := map[string]string{"rx": " 0.83", "ry": " 0.83", "rz": " 0.83", "rxy": " -1.27 0.83", "fs": " -1.27 0.83", "cp": " 0.83"}
	for name, want := range qsimMatrices(phi, theta) {
		qubits := " 0"
		if len(want) == 32 {
			qubits = " 0 1"
		}
		c, err := qsimfile.Parse(context.Background(), strings.NewReader("2\n0 "+name+qubits+params[name]+"\n"), name, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		u, err := simtest.Unitary(c)
		if err != nil {
			t.Fatal(err)
		}
		d := 2
		if len(want) == 32 {
			d = 4
		}
		for r := 0; r < d; r++ {
			for col := 0; col < d; col++ {
				w := complex(want[2*(r*d+col)], want[2*(r*d+col)+1])
				// The 2-qubit state's index for one-qubit gates: qubit 1 stays 0.
				got := u[r*4+col]
				if cmplx.Abs(got-w) > 1e-15 {
					t.Errorf("%s[%d][%d] = %v, qsim %v", name, r, col, got, w)
				}
			}
		}
	}
}

// TestParseCircuit: a small circuit with controls, equal times on
// different qubits, measurements and comments parses into the expected
// ops; bad files are errors naming the line.
func TestParseCircuit(t *testing.T) {
	src := "# a comment\n3\n0 h 0\n0 h 1\n1 cz 0 1\n2 c 0 1 x 2\n3 fs 1 2 0.5 0.25\n4 m 0 2\n"
	c, err := qsimfile.Parse(context.Background(), strings.NewReader(src), "t.txt", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Qubits != 3 || c.Clbits != 3 || len(c.Ops) != 7 {
		t.Fatalf("%d qubits, %d bits, %d ops", c.Qubits, c.Clbits, len(c.Ops))
	}
	if op := c.Ops[3]; op.Name != "x" || len(op.Controls) != 2 || op.Qubits[0] != 2 {
		t.Errorf("controlled x: %+v", op)
	}
	if op := c.Ops[6]; op.Kind != circuit.KindMeasure || op.Qubits[0] != 2 || op.Clbit != 2 {
		t.Errorf("measurement: %+v", op)
	}
	if !qsimfile.Detect(src) || qsimfile.Detect("OPENQASM 3;\nqubit q;\n") {
		t.Error("Detect")
	}
	for body, want := range map[string]string{
		"0 h 0 \n":       "2: trailing spaces",
		"0 h 5\n":        "2: qubit 5 out of range",
		"1 h 0\n0 x 0\n": "3: qubit 0: time 0 after time 1",
		"0 foo 0\n":      "2: foo: unknown gate",
		"0 rx 0\n":       "takes 1 qubits and 1 parameters",
		"0 rx 0 nan\n":   "not a finite number",
		"0 cz 1 1\n":     "qubit 1 used twice",
		"0 c 0 m 1\n":    "cannot be controlled",
		"0 c x 1\n":      "control… gate",
		"-1 h 0\n":       "time \"-1\"",
	} {
		_, err := qsimfile.Parse(context.Background(), strings.NewReader("3\n"+body), "t.txt", 0)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	if _, err := qsimfile.Parse(context.Background(), strings.NewReader("0\n"), "t.txt", 0); err == nil {
		t.Error("zero qubits: no error")
	}
	if _, err := qsimfile.Parse(context.Background(), strings.NewReader("2\n0 h 0\n1 h 0\n2 h 0\n"), "t.txt", 2); err == nil || !strings.Contains(err.Error(), "limit of 2") {
		t.Errorf("op limit: %v", err)
	}
}

// FuzzParse: any input parses into a valid circuit or fails with an
// error, never a panic; a parsed circuit that Write takes reads back from
// what Write wrote as the same ops.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"3\n0 h 0\n1 c 0 1 x 2\n2 fs 0 1 0.5 0.2\n3 m 0 1 2\n", "# c\n2\n0 rxy 1 0.1 0.2\n1 cp 0 1 -1\n", "1\n0 m 0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := qsimfile.Parse(context.Background(), strings.NewReader(src), "fuzz", 10000)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed circuit is invalid: %v", err)
		}
		// What Write takes it writes so that Parse reads the same ops.
		var sb strings.Builder
		if err := qsimfile.Write(&sb, c); err != nil {
			return
		}
		back, err := qsimfile.Parse(context.Background(), strings.NewReader(sb.String()), "written", 0)
		if err != nil {
			t.Fatalf("written circuit does not parse: %v\n%s", err, sb.String())
		}
		if len(back.Ops) != len(c.Ops) {
			t.Fatalf("wrote %d ops, read back %d", len(c.Ops), len(back.Ops))
		}
		for i := range c.Ops {
			a, b := &c.Ops[i], &back.Ops[i]
			if a.Name != b.Name || !slices.Equal(a.Params, b.Params) || !slices.Equal(a.Qubits, b.Qubits) || !slices.Equal(a.Controls, b.Controls) {
				t.Fatalf("op %d: wrote %+v, read back %+v", i, *a, *b)
			}
		}
	})
}
