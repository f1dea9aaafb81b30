package privacy

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// rel is |a/b − 1|.
func rel(a, b float64) float64 { return math.Abs(a/b - 1) }

// epsOf composes rounds rounds at σ and returns ε(δ).
func epsOf(t *testing.T, sigma float64, rounds int, delta float64) float64 {
	t.Helper()
	a := NewAccountant()
	if err := a.ComposeN(sigma, rounds); err != nil {
		t.Fatal(err)
	}
	e, _, err := a.Epsilon(delta)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAccountantClosedForm checks: no rounds give ε = 0 and order 0; one
// round at σ has RDP α/(2σ²) at every order (to 1e-15 relative) and ε
// equals the minimum of the conversion formula evaluated here (to 1e-12),
// attained at the reported order; the default grid is 121 log-spaced
// orders from 1.01 to 10001.
func TestAccountantClosedForm(t *testing.T) {
	a := NewAccountant()
	if e, o, err := a.Epsilon(1e-5); e != 0 || o != 0 || err != nil || a.Rounds() != 0 {
		t.Errorf("no rounds: ε %v order %v err %v rounds %d", e, o, err, a.Rounds())
	}
	orders := a.Orders()
	if len(orders) != 121 || rel(orders[0], 1.01) > 1e-15 || rel(orders[120], 10001) > 1e-15 || rel(orders[40], 2) > 1e-15 {
		t.Errorf("orders: %d from %v to %v", len(orders), orders[0], orders[len(orders)-1])
	}
	const sigma, delta = 1.3, 1e-6
	if err := a.Compose(sigma); err != nil {
		t.Fatal(err)
	}
	best, bestOrder := math.Inf(1), 0.0
	for k, r := range a.RDP() {
		alpha := orders[k]
		if rel(r, alpha/(2*sigma*sigma)) > 1e-15 {
			t.Fatalf("RDP at %v = %v, want %v", alpha, r, alpha/(2*sigma*sigma))
		}
		e := r + math.Log((alpha-1)/alpha) - (math.Log(delta)+math.Log(alpha))/(alpha-1)
		if e < best {
			best, bestOrder = e, alpha
		}
	}
	e, o, err := a.Epsilon(delta)
	if err != nil || rel(e, best) > 1e-12 || o != bestOrder || a.Rounds() != 1 {
		t.Errorf("ε %v at order %v (err %v), want %v at %v", e, o, err, best, bestOrder)
	}
}

// TestAccountantComposition checks that T rounds at σ (one at a time and
// via ComposeN) equal one round at σ/√T, and that rounds at σ = 1, 2, 4
// equal one round at σ_eff = (1 + 1/4 + 1/16)^{−1/2} (ε to 1e-12
// relative, RDP summed per order).
func TestAccountantComposition(t *testing.T) {
	const delta = 1e-5
	for _, c := range []struct {
		sigma float64
		T     int
	}{{0.8, 7}, {3, 250}, {10, 10000}} {
		a := NewAccountant()
		for range c.T {
			if err := a.Compose(c.sigma); err != nil {
				t.Fatal(err)
			}
		}
		e1, _, _ := a.Epsilon(delta)
		e2 := epsOf(t, c.sigma, c.T, delta)
		e3 := epsOf(t, c.sigma/math.Sqrt(float64(c.T)), 1, delta)
		if rel(e1, e3) > 1e-12 || rel(e2, e3) > 1e-12 || a.Rounds() != c.T {
			t.Errorf("σ %v T %d: ε %v (one at a time), %v (ComposeN), %v (σ/√T)", c.sigma, c.T, e1, e2, e3)
		}
	}
	a := NewAccountant()
	for _, s := range []float64{1, 2, 4} {
		if err := a.Compose(s); err != nil {
			t.Fatal(err)
		}
	}
	e, _, _ := a.Epsilon(delta)
	if want := epsOf(t, 1/math.Sqrt(1+0.25+0.0625), 1, delta); rel(e, want) > 1e-12 || a.Rounds() != 3 {
		t.Errorf("mixed σ: ε %v, want %v", e, want)
	}
}

// TestAccountantVersusExact checks over σ ∈ {0.5 … 10}, T ∈ {1 … 10⁴},
// δ ∈ {1e-5, 1e-6} that the RDP ε is never below the exact GDP ε and at
// most 1.11 times it (observed: 1.005 at σ = 0.5, T = 10⁴ to 1.102 at
// σ = 10, T = 1); that it is at most the zCDP bound ρ + 2√(ρ log(1/δ)),
// ρ = T/(2σ²) (to 1e-12 relative); and that both ε strictly increase with
// T and strictly decrease with σ.
func TestAccountantVersusExact(t *testing.T) {
	sigmas := []float64{0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10}
	rounds := []int{1, 3, 10, 30, 100, 300, 1000, 3000, 10000}
	for _, delta := range []float64{1e-5, 1e-6} {
		prevByT := make([]float64, len(rounds))
		prevExactByT := make([]float64, len(rounds))
		for si, sigma := range sigmas {
			prevE, prevX := 0.0, 0.0
			for ti, T := range rounds {
				e := epsOf(t, sigma, T, delta)
				x, err := ExactEpsilon(sigma, T, delta)
				if err != nil {
					t.Fatal(err)
				}
				if !(e >= x) || e > 1.11*x {
					t.Errorf("δ %g σ %v T %d: RDP ε %v, exact %v (ratio %v)", delta, sigma, T, e, x, e/x)
				}
				rho := float64(T) / (2 * sigma * sigma)
				if z := rho + 2*math.Sqrt(rho*math.Log(1/delta)); e > z*(1+1e-12) {
					t.Errorf("δ %g σ %v T %d: RDP ε %v above the zCDP bound %v", delta, sigma, T, e, z)
				}
				if !(e > prevE && x > prevX) {
					t.Errorf("δ %g σ %v: ε not increasing in T at %d: %v after %v, exact %v after %v", delta, sigma, T, e, prevE, x, prevX)
				}
				if si > 0 && !(e < prevByT[ti] && x < prevExactByT[ti]) {
					t.Errorf("δ %g T %d: ε not decreasing in σ at %v: %v after %v, exact %v after %v", delta, T, sigma, e, prevByT[ti], x, prevExactByT[ti])
				}
				prevE, prevX, prevByT[ti], prevExactByT[ti] = e, x, e, x
			}
		}
	}
}

// TestOrderGrid checks that the fixed grid of orders costs at most 0.2%
// of ε against a dense search over α − 1 = 10^x, x ∈ [−4, 5] in steps of
// 0.001, for σ from 0.3 to ~190, T ∈ {1, 100, 10⁴}, δ ∈ {1e-5, 1e-9}.
func TestOrderGrid(t *testing.T) {
	for _, delta := range []float64{1e-5, 1e-9} {
		for sigma := 0.3; sigma < 200; sigma *= 2 {
			for _, T := range []int{1, 100, 10000} {
				e := epsOf(t, sigma, T, delta)
				rho := float64(T) / (2 * sigma * sigma)
				best := math.Inf(1)
				for x := -4.0; x <= 5; x += 0.001 {
					alpha := 1 + math.Pow(10, x)
					best = min(best, rho*alpha+math.Log1p(-1/alpha)-(math.Log(delta)+math.Log(alpha))/(alpha-1))
				}
				if e > 1.002*best || e < best*(1-1e-12) {
					t.Errorf("δ %g σ %v T %d: ε %v on the grid, %v by dense search", delta, sigma, T, e, best)
				}
			}
		}
	}
}

// TestAccountantErrors checks argument validation, that a failing
// composition leaves the state unchanged, and the zero value.
func TestAccountantErrors(t *testing.T) {
	a := NewAccountant()
	if err := a.Compose(2); err != nil {
		t.Fatal(err)
	}
	before := a.RDP()
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"σ 0", a.Compose(0), "noise multiplier 0"},
		{"σ negative", a.Compose(-1), "noise multiplier -1"},
		{"σ NaN", a.Compose(math.NaN()), "noise multiplier NaN"},
		{"σ Inf", a.Compose(math.Inf(1)), "noise multiplier +Inf"},
		{"rounds", a.ComposeN(1, -1), "-1 rounds"},
		{"overflow", a.Compose(1e-160), "overflows"},
		{"rounds overflow", a.ComposeN(1, math.MaxInt), "overflows"},
	} {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), "privacy: ") || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
	if !slices.Equal(a.RDP(), before) || a.Rounds() != 1 {
		t.Errorf("state changed by failed compositions: rounds %d", a.Rounds())
	}
	if err := a.ComposeN(1, 0); err != nil || a.Rounds() != 1 {
		t.Errorf("zero rounds: %v, rounds %d", err, a.Rounds())
	}
	for _, d := range []float64{0, 1, -1, math.NaN(), 2} {
		if _, _, err := a.Epsilon(d); err == nil {
			t.Errorf("δ %v: no error", d)
		}
	}
	var z Accountant
	if err := z.Compose(1); err == nil {
		t.Error("zero value Compose: no error")
	}
	if _, _, err := z.Epsilon(1e-5); err == nil {
		t.Error("zero value Epsilon: no error")
	}
	if _, err := json.Marshal(&z); err == nil {
		t.Error("zero value marshal: no error")
	}
	var np *Accountant
	if np.Rounds() != 0 || np.Orders() != nil || np.RDP() != nil || np.Compose(1) == nil || np.UnmarshalJSON([]byte("{}")) == nil {
		t.Error("nil accountant misbehaves")
	}
}

// TestAccountantJSON checks the round trip (rounds, orders, RDP and ε
// bitwise equal) and that a restored accountant continues exactly as an
// uninterrupted one.
func TestAccountantJSON(t *testing.T) {
	a := NewAccountant()
	for _, s := range []float64{0.9, 1.7, 1.7, 5} {
		if err := a.Compose(s); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var b Accountant
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if b.Rounds() != 4 || !slices.Equal(a.Orders(), b.Orders()) || !slices.Equal(a.RDP(), b.RDP()) {
		t.Fatalf("round trip changed the state: %s", data)
	}
	for _, acc := range []*Accountant{a, &b} {
		if err := acc.ComposeN(2.5, 10); err != nil {
			t.Fatal(err)
		}
	}
	ea, oa, _ := a.Epsilon(1e-5)
	eb, ob, _ := b.Epsilon(1e-5)
	if ea != eb || oa != ob || b.Rounds() != 14 {
		t.Errorf("after restore: ε %v at %v vs %v at %v", eb, ob, ea, oa)
	}
	// A state with its own (non-default) orders is kept as is.
	custom := `{"version":1,"rounds":2,"orders":[1.5,2,32],"rdp":[0.75,1,16]}`
	var c Accountant
	if err := json.Unmarshal([]byte(custom), &c); err != nil {
		t.Fatal(err)
	}
	if e, o, err := c.Epsilon(1e-5); err != nil || !slices.Equal(c.Orders(), []float64{1.5, 2, 32}) || !(e > 0) || o == 0 {
		t.Errorf("custom orders: ε %v at %v, err %v", e, o, err)
	}
}

// TestAccountantUnmarshalRejects checks that every malformed state is
// rejected with a message naming the problem and leaves the accountant
// unchanged.
func TestAccountantUnmarshalRejects(t *testing.T) {
	cases := []struct{ json, want string }{
		{``, "empty JSON document"},
		{`null`, "version 0"},
		{`[]`, "cannot unmarshal"},
		{`{"version":2,"rounds":0,"orders":[2],"rdp":[0]}`, "version 2"},
		{`{"version":1,"rounds":-1,"orders":[2],"rdp":[0]}`, "round count -1"},
		{`{"version":1,"rounds":0,"orders":[],"rdp":[]}`, "0 orders"},
		{`{"version":1,"rounds":1,"orders":[2,3],"rdp":[1]}`, "1 RDP values for 2 orders"},
		{`{"version":1,"rounds":1,"orders":[1],"rdp":[1]}`, "order 0 is 1"},
		{`{"version":1,"rounds":1,"orders":[3,2],"rdp":[1,1]}`, "not strictly increasing"},
		{`{"version":1,"rounds":1,"orders":[2,2],"rdp":[1,1]}`, "not strictly increasing"},
		{`{"version":1,"rounds":1,"orders":[2,3],"rdp":[1,-1]}`, "is -1"},
		{`{"version":1,"rounds":1,"orders":[2,3],"rdp":[2,1]}`, "RDP decreases"},
		{`{"version":1,"rounds":0,"orders":[2,3],"rdp":[1,1]}`, "with 0 rounds"},
		{`{"version":1,"rounds":3,"orders":[2,3],"rdp":[0,1]}`, "with 3 rounds"},
		{`{"version":1,"rounds":1,"orders":[2],"rdp":[1e999]}`, "number 1e999 value where float64 is expected"},
		{`{"version":1,"rounds":1,"orders":[2],"rdp":[NaN]}`, "invalid character"},
		{`{"version":1,"rounds":1,"orders":[2],"rdp":["1"]}`, "string value where float64 is expected"},
		{`{"version":1,"rounds":1,"orders":[2],"rdp":[1],"extra":0}`, "unknown field"},
		{`{"version":1,"rounds":1,"orders":[2],"rdp":[1]} {}`, "data after the JSON value"},
		{`{"version":1,"rounds":1.5,"orders":[2],"rdp":[1]}`, "number 1.5 value where int64 is expected"},
	}
	for _, c := range cases {
		a := NewAccountant()
		_ = a.Compose(3)
		before := a.RDP()
		err := a.UnmarshalJSON([]byte(c.json))
		if err == nil || !strings.HasPrefix(err.Error(), "privacy: accountant state: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
		if !slices.Equal(a.RDP(), before) || a.Rounds() != 1 || len(a.Orders()) != 121 {
			t.Errorf("%s: state changed", c.json)
		}
	}
	big := `{"version":1,"rounds":0,"orders":[` + strings.Repeat("2,", maxOrders) + `2],"rdp":[0]}`
	if err := new(Accountant).UnmarshalJSON([]byte(big)); err == nil || !strings.Contains(err.Error(), "orders, want 1 to") {
		t.Errorf("too many orders: %v", err)
	}
}

// FuzzUnmarshal checks that the state decoder never panics and that any
// state it accepts is usable: ε is finite and ≥ 0, composing works, and
// it re-encodes to a state that decodes to the same values.
func FuzzUnmarshal(f *testing.F) {
	a := NewAccountant()
	_ = a.ComposeN(1.1, 5)
	good, _ := json.Marshal(a)
	f.Add(good)
	f.Add([]byte(`{"version":1,"rounds":2,"orders":[1.5,2,32],"rdp":[0.75,1,16]}`))
	f.Add([]byte(`{"version":1,"rounds":0,"orders":[1.01],"rdp":[0]}`))
	f.Add([]byte(`{"version":1,"rounds":1,"orders":[2,3],"rdp":[2,1]}`))
	f.Add([]byte(`{"version":1,"rounds":9223372036854775807,"orders":[1.0000000000000002],"rdp":[1.7976931348623157e308]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var acc Accountant
		if err := acc.UnmarshalJSON(data); err != nil {
			return
		}
		for _, d := range []float64{1e-5, 0.5} {
			e, _, err := acc.Epsilon(d)
			if err != nil || !(e >= 0) || math.IsInf(e, 1) {
				t.Fatalf("accepted %q: ε(%v) = %v, %v", data, d, e, err)
			}
		}
		out, err := json.Marshal(&acc)
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode: %v", data, err)
		}
		var back Accountant
		if err := json.Unmarshal(out, &back); err != nil || back.Rounds() != acc.Rounds() || !slices.Equal(back.RDP(), acc.RDP()) || !slices.Equal(back.Orders(), acc.Orders()) {
			t.Fatalf("re-encoded %q does not round-trip: %v", out, err)
		}
		before, rounds := acc.RDP(), acc.Rounds()
		if err := acc.Compose(1); err == nil {
			for k, v := range acc.RDP() {
				if v < before[k] {
					t.Fatalf("compose decreased RDP at %d: %v → %v", k, before[k], v)
				}
			}
			if acc.Rounds() != rounds+1 {
				t.Fatalf("compose: rounds %d → %d", rounds, acc.Rounds())
			}
		}
	})
}
