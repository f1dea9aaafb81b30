package qasm_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// regValue reads register name of a result key (clbit 0 rightmost).
func regValue(t *testing.T, c *circuit.Circuit, key, name string) uint64 {
	t.Helper()
	for _, r := range c.Cregs {
		if r.Name != name {
			continue
		}
		var v uint64
		for j, b := range r.Bits {
			if key[len(key)-1-b] == '1' {
				v |= 1 << uint(j)
			}
		}
		return v
	}
	t.Fatalf("no register %q in %v", name, c.Cregs)
	return 0
}

// majorityHost serves extern majority(bit[3]) -> bit.
type majorityHost struct{ calls int }

func (h *majorityHost) Call(name string, args []circuit.Value, ret *circuit.ClassType) (circuit.Value, error) {
	h.calls++
	if name != "majority" || len(args) != 1 {
		return circuit.Value{}, fmt.Errorf("unknown extern %s/%d", name, len(args))
	}
	n := 0
	for u := args[0].U; u != 0; u >>= 1 {
		n += int(u & 1)
	}
	return circuit.BoolValue(2*n > args[0].Type.Width), nil
}

// runLang parses a program of testdata/lang and samples it; it checks the
// counts against the exact distribution of the circuit (simtest, a path
// by path oracle) and that the program survives Export3 and a re-read
// with the same counts.
func runLang(t *testing.T, file string, params map[string]float64, host circuit.Host, shots int) (*circuit.Circuit, map[string]int) {
	t.Helper()
	c, err := qasm.ParseFileContext(context.Background(), filepath.Join("testdata", "lang", file), qasm.Options{Params: params, Host: host})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: sim.DefaultFuse, Seed: 11, Host: host})
	r, err := s.Shots(t.Context(), c, shots)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	counts := r.Counts()
	if c.Qubits <= 16 {
		dist, err := simtest.DistributionWith(c, host)
		switch {
		case err != nil && strings.Contains(err.Error(), "paths"):
			t.Logf("%s: %v: no exact distribution to compare with", file, err)
		case err != nil:
			t.Fatalf("%s: exact distribution: %v", file, err)
		default:
			if chi2, dof, p := simtest.ChiSquare(counts, dist); p <= 1e-4 {
				t.Errorf("%s: counts differ from the exact distribution: χ²=%.1f, %d dof, p=%.2g", file, chi2, dof, p)
			}
		}
	}
	out, err := qasm.Export3(c)
	if err != nil {
		t.Fatalf("%s: Export3: %v", file, err)
	}
	back, err := qasm.ParseWith(out, qasm.Options{Host: host})
	if err != nil {
		t.Fatalf("%s: re-reading the export: %v\n%s", file, err, out)
	}
	r2, err := s.Shots(t.Context(), back, shots)
	if err != nil {
		t.Fatalf("%s: the export: %v", file, err)
	}
	// The export names registers c and mec_scratch: the same shots give
	// the same result bits.
	if got := r2.Counts(); fmt.Sprint(got) != fmt.Sprint(counts) {
		t.Errorf("%s: the export samples %v, the program %v", file, got, counts)
	}
	return c, counts
}

func TestLangPrograms(t *testing.T) {
	t.Run("adder", func(t *testing.T) {
		c, counts := runLang(t, "adder.qasm", nil, nil, 100)
		for k := range counts {
			if v := regValue(t, c, k, "sum"); v != 14 {
				t.Errorf("5 + 9 = %d", v)
			}
		}
	})
	t.Run("ipe", func(t *testing.T) {
		// Exact: c holds 13/32 of a turn in every shot.
		c, counts := runLang(t, "ipe.qasm", nil, nil, 200)
		for k := range counts {
			if v := regValue(t, c, k, "c"); v != 13 {
				t.Errorf("phase estimate %d/32, want 13/32", v)
			}
		}
		if len(c.Cregs) != 1 {
			t.Errorf("outputs %v: want c alone (n and theta are constants)", c.Cregs)
		}
	})
	t.Run("rus", func(t *testing.T) {
		const shots = 4000
		c, counts := runLang(t, "rus.qasm", nil, nil, shots)
		hist := map[uint64]int{}
		for k, n := range counts {
			if regValue(t, c, k, "out") != 0 || regValue(t, c, k, "done") != 1 {
				t.Errorf("%s: out must be 0 and done true", k)
			}
			hist[regValue(t, c, k, "tries")] += n
		}
		// P(tries = k) = (3/8)^(k−1) 5/8: within 5 standard deviations.
		for k := uint64(1); k <= 3; k++ {
			p := math.Pow(3.0/8, float64(k-1)) * 5 / 8
			if d := math.Abs(float64(hist[k]) - p*shots); d > 5*math.Sqrt(p*(1-p)*shots) {
				t.Errorf("tries = %d in %d shots, want %.0f", k, hist[k], p*shots)
			}
		}
	})
	t.Run("chain", func(t *testing.T) {
		c, counts := runLang(t, "chain.qasm", nil, nil, 300)
		for k := range counts {
			if regValue(t, c, k, "out") != 0 {
				t.Errorf("the teleported state came back as 1 (%s)", k)
			}
		}
	})
	t.Run("syndrome", func(t *testing.T) {
		for err, want := range map[float64]uint64{-1: 0, 0: 1, 1: 3, 2: 2} {
			c, counts := runLang(t, "syndrome.qasm", map[string]float64{"err": err}, nil, 50)
			for k := range counts {
				if d, s := regValue(t, c, k, "data"), regValue(t, c, k, "syn"); d != 0 || s != want {
					t.Errorf("error on %v: data %03b syndrome %d, want 000 and %d", err, d, s, want)
				}
			}
		}
	})
	t.Run("vote", func(t *testing.T) {
		h := &majorityHost{}
		const shots = 2000
		theta := 2 * math.Pi / 3 // P(1) = sin²(θ/2) = 3/4
		c, counts := runLang(t, "vote.qasm", map[string]float64{"theta": theta}, h, shots)
		ones := 0
		for k, n := range counts {
			if regValue(t, c, k, "copy") != regValue(t, c, k, "logical") {
				t.Errorf("%s: the copy differs from the vote", k)
			}
			ones += n * int(regValue(t, c, k, "logical"))
		}
		if p := 0.75; math.Abs(float64(ones)-p*shots) > 5*math.Sqrt(p*(1-p)*shots) {
			t.Errorf("logical 1 in %d of %d shots, want about %.0f", ones, shots, p*shots)
		}
		if h.calls == 0 {
			t.Error("the host was never called")
		}
	})
	t.Run("geometric", func(t *testing.T) {
		const shots = 4000
		c, counts := runLang(t, "geometric.qasm", nil, nil, shots)
		hist := map[uint64]int{}
		for k, n := range counts {
			hist[regValue(t, c, k, "tries")] += n
		}
		for k := uint64(1); k <= 4; k++ {
			p := math.Pow(0.5, float64(k))
			if d := math.Abs(float64(hist[k]) - p*shots); d > 5*math.Sqrt(p*(1-p)*shots) {
				t.Errorf("tries = %d in %d shots, want %.0f", k, hist[k], p*shots)
			}
		}
	})
	t.Run("fib", func(t *testing.T) {
		c, counts := runLang(t, "fib.qasm", nil, nil, 100)
		for k := range counts {
			if f, b := regValue(t, c, k, "f"), regValue(t, c, k, "b"); f != 55 || b != 1 {
				t.Errorf("fib(10) = %d, b = %d: want 55 and 1", f, b)
			}
		}
	})
}

// TestGuards: ops in a while condition are guarded by the loop's previous
// round, a float written only under a run-time condition is exported, and
// integer literals keep their exact values against narrow variables.
func TestGuards(t *testing.T) {
	c, counts := runLang(t, "guards.qasm", nil, nil, 2000)
	for k, n := range counts {
		b := regValue(t, c, k, "b")
		want := map[string]uint64{"done": 0, "flipped": b, "small": 1, "nineteen": 0, "tiny": 0, "above": 1}
		for name, w := range want {
			if got := regValue(t, c, k, name); got != w {
				t.Errorf("%s = %d in %d shots (b = %d), want %d", name, got, n, b, w)
			}
		}
	}
}

// TestClassicalSemantics computes the same classical program twice: once
// from constants (folded while the program is read) and once from values
// measured out of basis states (computed on each shot), and checks both
// against values worked out by hand.
func TestClassicalSemantics(t *testing.T) {
	body := `
int[8] q1 = a / 2;
int[8] r1 = a % 2;
uint[8] u = ub;
u += 10;
uint[8] sh = u << 5;
int[8] neg = -a;
angle[4] t2 = tt + tt;
uint[4] ratio = t2 / angle[4](pi / 8);
bool both = (a < 0) && !(u == 5);
uint[8] pc = popcount(uint[8](255)) + popcount(u);
int[16] mixed = a * 3 + int[16](ub) - 1;
int[8] rot = int[8](rotl(bit[8](ub), 1));
bit[4] bits = bit[4](ub);
uint[8] maxed = 0;
for int i in [0:3] { if (bits[i] == 1) { maxed = i; } }
int[8] cnt = 0;
int[8] acc = 0;
while (cnt < 10) {
  cnt += 1;
  if (cnt == 3) { continue; }
  if (cnt >= 6) { break; }
  acc += cnt;
}
uint[8] sw = 0;
switch (int(ub) % 4) {
  case 0 { sw = 10; }
  case 1, 2 { sw = 20; }
  default { sw = 30; }
}
bool lit = (a < 1000) && !(ub == 506) && (ub > -1);
uint[8] lq = ub / 300;
int[64] lo = -9223372036854775808;
uint[64] hi = 18446744073709551615;
int[64] exact = int[64](a) + 9007199254740993;
int[64] far = lo / int[64](a);
`
	want := map[string]int64{
		"q1": -3, "r1": -1, "u": 4, "sh": 128, "neg": 7, "t2": 14, "ratio": 14, "both": 1, "pc": 9,
		"mixed": -21 + 250 - 1, "rot": -11, "maxed": 3, "cnt": 6, "acc": 1 + 2 + 4 + 5, "sw": 20,
		"lit": 1, "lq": 0, "lo": math.MinInt64, "hi": -1, "exact": 9007199254740986, "far": 1317624576693539401,
	}
	static := "const int[8] a = -7; const uint[8] ub = 250; const angle[4] tt = 7 * (pi / 8);" + body
	// -7 is 11111001 and 250 is 11111010 in eight bits; 7π/8 is 0111 in four.
	runtime := `qubit[20] q;
x q[0]; x q[3]; x q[4]; x q[5]; x q[6]; x q[7];
x q[9]; x q[11]; x q[12]; x q[13]; x q[14]; x q[15];
x q[16]; x q[17]; x q[18];
bit[8] ra = measure q[0:7];
bit[8] rb = measure q[8:15];
bit[4] rt = measure q[16:19];
int[8] a = int[8](ra);
uint[8] ub = uint[8](rb);
angle[4] tt = angle[4](rt);` + body
	for name, src := range map[string]string{"static": static, "runtime": runtime} {
		c, err := qasm.Parse("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n" + src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "runtime" && !c.Dynamic() {
			t.Fatalf("%s: the values should be computed at run time", name)
		}
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: 1})
		r, err := s.Shots(t.Context(), c, 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		counts := r.Counts()
		if len(counts) != 1 {
			t.Fatalf("%s: %d different results, want 1", name, len(counts))
		}
		for k := range counts {
			for v, w := range want {
				got := regValue(t, c, k, v)
				width := 0
				for _, reg := range c.Cregs {
					if reg.Name == v {
						width = len(reg.Bits)
					}
				}
				if g := int64(got<<(64-uint(width))) >> (64 - uint(width)); g != w && int64(got) != w {
					t.Errorf("%s: %s = %d (bits %b), want %d", name, v, g, got, w)
				}
			}
		}
	}
}

// TestLangErrors checks that what mec cannot do, or what is wrong, is an
// error naming the place and the reason.
func TestLangErrors(t *testing.T) {
	head := "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"
	for _, tc := range []struct{ src, want string }{
		{"def f(int n) -> int { return f(n + 1); } int v = f(0);", "nested more than 64 deep"},
		{"int v = 1; const int w = v;", ""},
		{"qubit q; bit b = measure q; const int w = int(b);", "must be known when the program is read"},
		{"int v; v = 1.5;", "needs an integer"},
		{"const int v = 1; v = 2;", "is a constant"},
		{"break;", "break outside a loop"},
		{"qubit q; def f(qubit a) { break; } for int i in [0:1] { f(q); }", "break outside a loop"},
		{"switch (1) { case 1 { } case 1 { } }", "appears twice"},
		{"switch (1) { default { } case 1 { } }", "default must be the last"},
		{"extern f(int) -> int; int v = f(1, 2);", "takes 1 arguments, got 2"},
		{"qubit q; bit b = measure q; array[int[8], 2] a; int v = a[int(b) + 5];", ""},
		{"array[int[8], 2] a = {1, 2, 3};", "array literal has 3 elements"},
		{"array[int[8], 2] a; int v = a[2];", "out of range"},
		{"qubit q; bit b = measure q; float f = float(b); f[0] = 1;", "cannot be written one by one"},
		{"complex[float[64]] z;", "complex variables are not supported"},
		{"int v = 1 << 2.5;", "shifts need integer operands"},
		{"qubit q; bit b = measure q; gate g(t) a { rx(t / 2) a; } g(float(b)) q;", "only a standard gate called directly"},
		{"int v = 1; int v = 2;", `"v" is already declared`},
		{"int v = 1; for int i in [0:0] { int v = 2; }", ""},
	} {
		_, err := qasm.Parse(head + tc.src)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.src, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
	// A run-time array index out of range fails the shot that reaches it.
	c, err := qasm.Parse(head + "qubit q; x q; bit b = measure q; array[int[8], 2] a; int v = a[int(b) + 5];")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: 1})
	if _, err := s.Shots(t.Context(), c, 1); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("a run-time index out of range: %v", err)
	}
	// An extern without a host fails at run time, naming it.
	c, err = qasm.Parse(head + "extern f(int) -> int; qubit q; bit b = measure q; int v = f(int(b));")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Shots(t.Context(), c, 1); err == nil || !strings.Contains(err.Error(), "extern f") {
		t.Errorf("an extern without a host: %v", err)
	}
}

// TestGateBodyLoops: a for loop over gate statements in a gate body is
// unrolled, its variable usable in parameters and modifiers.
func TestGateBodyLoops(t *testing.T) {
	c, err := qasm.Parse(`OPENQASM 3.0; include "stdgates.inc";
gate layer(t) a, b { for int i in [1:2] { rz(t * i) a; pow(i) @ x b; } for k in {0.5} rx(k) b; }
qubit[2] q; layer(0.25) q[0], q[1];`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rz 0.25 0", "x 1", "rz 0.5 0", "x 1", "rx 0.5 1"} // (gateList leaves powers out)
	if got := gateList(c); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := qasm.Parse(`OPENQASM 3.0; include "stdgates.inc"; gate g a { for i in [0:1] { x a[i]; } }`); err == nil || !strings.Contains(err.Error(), "cannot be indexed") {
		t.Errorf("indexing a gate's qubit in a loop: %v", err)
	}
}

// loopProgram returns a program of about size bytes: blocks with a for
// loop, a measurement, run-time ifs and a switch on a counter.
func loopProgram(size int) string {
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[4] q;\nbit[4] c;\nint[16] acc = 0;\n")
	for k := 0; b.Len() < size; k++ {
		fmt.Fprintf(&b, "for int i in [0:2] { rz(0.01 * i + %d) q[i]; }\nx q[3];\nc[3] = measure q[3];\nif (c[3] == 1) { acc += 1; } else { acc -= 1; }\nswitch (acc %% 3) { case 0 { z q[0]; } default { s q[1]; } }\n", k%7)
	}
	return b.String()
}

// TestLinearSize: a program four times longer makes four times the ops
// and no more classical bits (temporaries are reused), and reads and runs
// in time that grows in proportion (within a factor 2.5 of it: the
// machine's noise).
func TestLinearSize(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and runs a 1 MB program")
	}
	type run struct {
		ops, bits int
		secs      float64
	}
	measure := func(size int) run {
		src := loopProgram(size)
		var best run
		for try := 0; try < 2; try++ {
			start := time.Now()
			c, err := qasm.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: 1})
			r, err := s.Shots(t.Context(), c, 4)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(r.Counts()); n != 1 {
				t.Fatalf("%d different results, want 1", n)
			}
			secs := time.Since(start).Seconds()
			if try == 0 || secs < best.secs {
				best = run{len(c.Ops), c.Clbits, secs}
			}
		}
		return best
	}
	small, large := measure(256<<10), measure(1<<20)
	t.Logf("256 KiB: %d ops, %d bits, %.3f s; 1 MiB: %d ops, %d bits, %.3f s", small.ops, small.bits, small.secs, large.ops, large.bits, large.secs)
	if r := float64(large.ops) / float64(small.ops); r < 3.8 || r > 4.2 {
		t.Errorf("ops grow %.2f× for 4× the source", r)
	}
	if large.bits != small.bits {
		t.Errorf("classical bits grow with the source: %d → %d", small.bits, large.bits)
	}
	if r := large.secs / small.secs; r > 10 {
		t.Errorf("time grows %.1f× for 4× the source", r)
	}
}

func BenchmarkParseRunLoops1MiB(b *testing.B) {
	src := loopProgram(1 << 20)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		c, err := qasm.Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: 1})
		if _, err := s.Shots(b.Context(), c, 4); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEnd: end on every path stops reading the program; on some paths it
// turns the rest of the program off for their shots.
func TestEnd(t *testing.T) {
	head := "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"
	c, err := qasm.Parse(head + "qubit q; x q; end; h q; this is not read")
	if err != nil || len(c.Ops) != 1 {
		t.Fatalf("static end: %v ops, %v", c, err)
	}
	c, err = qasm.Parse(head + "qubit q; qubit r; bit b; h q; b = measure q; if (b) { end; } x r; bit c = measure r;")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: 2})
	r, err := s.Shots(t.Context(), c, 400)
	if err != nil {
		t.Fatal(err)
	}
	for k := range r.Counts() {
		if regValue(t, c, k, "b") == regValue(t, c, k, "c") {
			t.Errorf("%s: a shot that ended ran x r, or one that went on did not", k)
		}
	}
}
