package orchestrator

import (
	"bytes"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"
)

func randState(rng *rand.Rand, d int) *State {
	f := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	c := func(n int) []complex128 {
		v := make([]complex128, n)
		for i := range v {
			v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		return v
	}
	s := &State{Tick: rng.Uint64(), Time: rng.Float64(), Dt: 0.05, Psi: c(64), Engine: []byte("engine\x00bytes"),
		Prob: f(d), Bins: c(d), Rate: 31.25, Field: f(d), Z: c(d)}
	s.Theta = Theta{Alpha: 40, Beta: 20, Gamma: 0.03, Kappa: 2, Eta: 4, W: f(d * d), Causal: f(16)}
	s.Gov = Gov{C: 1, Health: 0.98, Stability: 0.8, DStability: -0.1, LInt: 0.2, EDiv: 0.01, Satisfied: 99, Evaluated: 100,
		History: f(32), Probs: f(8 * d), FedDrift: 0.01,
		Isolated: []Isolation{{"ContextualGrounding", 9}, {"QuantumFusion", 12}}}
	return s
}

// TestStateCodecBitExact: decode(encode(Ξ)) re-encodes to the same bytes,
// keeping NaN payloads and −0 bit for bit; corruptions are errors.
func TestStateCodecBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := randState(rng, 8)
	s.Field[0] = math.Float64frombits(0x7ff8dead0000beef) // a NaN with a payload
	s.Field[1] = math.Copysign(0, -1)
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var r State
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := r.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	if math.Float64bits(r.Field[0]) != 0x7ff8dead0000beef || math.Float64bits(r.Field[1]) != 1<<63 {
		t.Errorf("NaN payload or −0 not kept: %x %x", math.Float64bits(r.Field[0]), math.Float64bits(r.Field[1]))
	}
	if r.NonFinite() != "s.field" || s.Clone().NonFinite() != "s.field" {
		t.Errorf("NonFinite = %q", r.NonFinite())
	}
	for _, bad := range [][]byte{nil, b[:7], b[:len(b)-1], append(append([]byte(nil), b...), 0), append([]byte("MECXI\x00\x00\x01"), b[8:]...)} {
		if err := new(State).UnmarshalBinary(bad); err == nil {
			t.Errorf("accepted a corrupt snapshot of %d bytes", len(bad))
		}
	}
	// A snapshot of an older format version names both versions.
	old := append([]byte("MECXI\x00\x00\x02"), b[8:]...)
	if err := new(State).UnmarshalBinary(old); err == nil ||
		!strings.Contains(err.Error(), "state snapshot version 2; this build reads version 3 (re-create the checkpoint)") {
		t.Errorf("version 2 snapshot: %v", err)
	}
	// A length field pointing past the end must not allocate or panic.
	huge := append([]byte(nil), b...)
	huge[8+8+8+8] = 0x7f
	if err := new(State).UnmarshalBinary(huge); err == nil {
		t.Error("accepted a huge length")
	}
}

func TestUpdateCodec(t *testing.T) {
	var u Update
	u.Metric("h_coh", 0.125)
	u.Metric("a", math.Inf(-1))
	u.Write("theta.w", []float64{1, 2, 3})
	u.Write("s.rate", []float64{31})
	u.Write("fed.drift", nil)
	b := u.Marshal()
	got, err := UnmarshalUpdate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), b) || got.Metrics["h_coh"] != 0.125 || len(got.Writes["theta.w"]) != 3 {
		t.Fatalf("round trip: %+v", got)
	}
	// The empty update is {1: {}, 2: {}}.
	if e := (Update{}).Marshal(); !bytes.Equal(e, []byte{0xa2, 0x01, 0xa0, 0x02, 0xa0}) {
		t.Errorf("empty update % x", e)
	}
	// Keys sorted shorter-first: "a" before "h_coh".
	if i, j := bytes.Index(b, []byte("a")), bytes.Index(b, []byte("h_coh")); !(i >= 0 && i < j) {
		t.Error("keys not in deterministic order")
	}
	bad := [][]byte{
		nil, b[:len(b)-1], append(append([]byte(nil), b...), 0),
		{0xa2, 0x01, 0xa1, 0x61, 'b', 0xfb, 0, 0, 0, 0, 0, 0, 0},                                                         // truncated float
		{0xa2, 0x01, 0xa2, 0x61, 'b', 0xfb, 0, 0, 0, 0, 0, 0, 0, 0, 0x61, 'a', 0xfb, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xa0}, // unsorted
		{0xa2, 0x01, 0xa1, 0x61, 'b', 0xfa, 0, 0, 0, 0, 0x02, 0xa0},                                                      // float32
		{0xa2, 0x18, 0x01, 0xa0, 0x02, 0xa0},                                                                             // non-shortest key
		{0xa2, 0x01, 0xa0, 0x02, 0xa1, 0x61, 'w', 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},                  // huge array
	}
	for i, x := range bad {
		if _, err := UnmarshalUpdate(x); !errors.Is(err, errUpdate) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func FuzzUnmarshalUpdate(f *testing.F) {
	var u Update
	u.Metric("x", 1)
	u.Write("p", []float64{1, 2})
	f.Add(u.Marshal())
	f.Add([]byte{0xa2, 0x01, 0xa0, 0x02, 0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := UnmarshalUpdate(b)
		if err != nil {
			return
		}
		if !bytes.Equal(u.Marshal(), b) {
			t.Fatalf("accepted a non-canonical encoding % x", b)
		}
	})
}

func TestStepControl(t *testing.T) {
	c := StepControl{Min: 0.02, Max: 0.08, Exponent: 2}
	if c.Dt(0) != 0.08 || c.Dt(1) != 0.02 || c.Dt(2) != 0.02 || c.Dt(-1) != 0.08 || c.Dt(math.NaN()) != 0.02 {
		t.Errorf("bounds: %v %v %v %v %v", c.Dt(0), c.Dt(1), c.Dt(2), c.Dt(-1), c.Dt(math.NaN()))
	}
	prev := math.Inf(1)
	for h := 0.0; h <= 1; h += 0.01 {
		if d := c.Dt(h); !(d < prev) && h > 0 {
			t.Fatalf("Δt not decreasing at H=%v: %v ≥ %v", h, d, prev)
		} else {
			prev = d
		}
	}
}

func TestIntegrationFunctionals(t *testing.T) {
	w := Weights{LambdaH: 2, LambdaG: 3, Alpha: 1, Beta: 0.5, Gamma: 0.25}
	fq, fs, fp := []float64{1, 0}, []float64{0.5, 0.5}, []float64{0, 1}
	ediv := Divergence(fq, fs, fp) // 0.5 + 2 + 0.5
	if ediv != 3 {
		t.Fatalf("E_div = %v, want 3", ediv)
	}
	if l := w.LInt(ediv, 0.1, 0.9); math.Abs(l-(3+0.2+0.3)) > 1e-15 {
		t.Errorf("L_int = %v", l)
	}
	if s := w.Stability(0.9, 0.1, ediv); math.Abs(s-(0.9-0.05-0.75)) > 1e-15 {
		t.Errorf("S = %v", s)
	}
	a, b, c := Features([]float64{2, 2}, []float64{0, 0}, []complex128{1i, 0})
	if a[0] != 0.5 || b[0] != 0.5 || c[0] != 1 || c[1] != 0 {
		t.Errorf("features %v %v %v", a, b, c)
	}
	prob, bins := Fold([]complex128{1, 1i, -1, 2}, 2)
	if prob[0] != 2 || prob[1] != 5 || bins[0] != 0 || bins[1] != 2+1i {
		t.Errorf("fold %v %v", prob, bins)
	}
}

// TestOscillatorRK4: with no drive a Stuart–Landau oscillator's radius
// follows r² = μ/(1 − (1 − μ/r0²)e^{−2μt}); RK4 with h = 0.01 matches to
// 1e-7 and halving h divides the error by more than 10 (fourth order: 16).
func TestOscillatorRK4(t *testing.T) {
	mu, r0 := 0.5, 0.2
	want := math.Sqrt(mu / (1 - (1-mu/(r0*r0))*math.Exp(-2*mu*2)))
	errAt := func(h float64) float64 {
		o := Oscillators{Mu: mu, Omega: 3, H: h}
		z := o.Advance([]complex128{complex(r0, 0)}, []complex128{0}, 0, 2)
		return math.Abs(cmplx.Abs(z[0]) - want)
	}
	e1, e2 := errAt(0.01), errAt(0.005)
	if e1 > 1e-7 || e2 > e1/10 {
		t.Errorf("radius error %v (h=0.01), %v (h=0.005)", e1, e2)
	}
	// Grounded and damped, the oscillators approach the drive.
	o := Oscillators{Mu: -0.2, Omega: 0.5, H: 0.01}
	u := []complex128{0.9, 0.3i, 0}
	zs := []complex128{0.1, 0.1, 0.1}
	prev := math.Inf(1)
	for i := 0; i < 20; i++ {
		zs = o.Advance(zs, u, 5, 0.1)
		e := 0.0
		for k := range zs {
			e += cmplx.Abs(zs[k]-u[k]) * cmplx.Abs(zs[k]-u[k])
		}
		if e > prev+1e-12 {
			t.Fatalf("grounding error grew at step %d: %v > %v", i, e, prev)
		}
		prev = e
	}
	if prev > 0.05 {
		t.Errorf("grounding error %v after 2 time units", prev)
	}
	if r := PhaseOrder([]complex128{1, 1i, -1, -1i}); r > 1e-15 {
		t.Errorf("order of a splay state %v", r)
	}
}

// TestPlasticityLearns: on a fixed input the delta rule drives W·x to x
// and the field to x; weights stay within ±w_max.
func TestPlasticityLearns(t *testing.T) {
	p := Plasticity{Tau: 0.1, WMax: 4}
	d := 4
	w := make([]float64, d*d)
	field := make([]float64, d)
	x := []float64{0.7, 0.2, 0.1, 0}
	var y []float64
	for i := 0; i < 200; i++ {
		y = p.Learn(w, x, 4, 0.05)
		p.Relax(field, y, 0.05)
	}
	if e := sqdist(y, x); e > 1e-10 {
		t.Errorf("‖Wx − x‖² = %v after 200 steps", e)
	}
	if e := sqdist(normalise(field), x); e > 1e-6 {
		t.Errorf("field %v, want ≈ %v", field, x)
	}
	p.WMax = 0.1
	p.Learn(w, []float64{100, 0, 0, 0}, 100, 1)
	for _, v := range w {
		if math.Abs(v) > 0.1 {
			t.Fatalf("weight %v beyond w_max", v)
		}
	}
}

// TestGranger: a series driven by another's lag has a high influence in
// that direction and a low one in the other.
func TestGranger(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 64
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
		if i > 0 {
			y[i] = 0.9*x[i-1] + 0.1*rng.NormFloat64()
		}
	}
	if g := Granger(x, y); g < 0.9 {
		t.Errorf("x → y influence %v, want > 0.9", g)
	}
	if g := Granger(y, x); g > 0.2 {
		t.Errorf("y → x influence %v, want < 0.2", g)
	}
	if Granger(x[:4], y[:4]) != 0 || Granger(make([]float64, 10), make([]float64, 10)) != 0 {
		t.Error("short or constant series must give 0")
	}
}
