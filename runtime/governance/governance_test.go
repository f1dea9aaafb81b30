package governance

import (
	"math"
	"strings"
	"testing"
)

const sample = `
tau_safe: 0.6
isolate_ticks: 3
rules:
  - {name: coherence, metric: h_coh, op: "<", value: 0.2, module: QuantumFusion}
  - {name: resonance, metric: phase_diff, op: "<", value: pi/4, abs: true}
  - {name: lag, metric: lag_ms, op: "<", value: 50, action: record}
`

func TestParseEvaluate(t *testing.T) {
	c, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(c.Rules[1].Value); got != math.Pi/4 {
		t.Fatalf("pi/4 parsed as %v", got)
	}
	cases := []struct {
		m        map[string]float64
		c        float64
		rollback bool
	}{
		{map[string]float64{"h_coh": 0.1, "phase_diff": -0.7, "lag_ms": 3}, 1, false},
		{map[string]float64{"h_coh": 0.1, "phase_diff": -0.8, "lag_ms": 3}, 2.0 / 3, true},     // |−0.8| ≥ π/4
		{map[string]float64{"h_coh": 0.1, "phase_diff": 0, "lag_ms": 80}, 2.0 / 3, false},      // record only
		{map[string]float64{"h_coh": math.NaN(), "phase_diff": 0, "lag_ms": 1}, 2.0 / 3, true}, // NaN fails
		{map[string]float64{"h_coh": math.Inf(-1), "phase_diff": 0, "lag_ms": 1}, 2.0 / 3, true},
		{map[string]float64{"phase_diff": 0, "lag_ms": 1}, 2.0 / 3, true},               // missing metric fails
		{map[string]float64{"h_coh": 0.2, "phase_diff": 0, "lag_ms": 1}, 2.0 / 3, true}, // strict <
	}
	for i, tc := range cases {
		r := c.Evaluate(tc.m)
		if math.Abs(r.C-tc.c) > 1e-15 || r.Rollback != tc.rollback {
			t.Errorf("case %d: C=%v rollback=%v, want %v %v (violations %v)", i, r.C, r.Rollback, tc.c, tc.rollback, r.Violations())
		}
	}
}

// TestSuspended: the rules of an isolated module are not evaluated —
// its missing metric does not read as a violation — and the compliance
// is taken over the rules that were.
func TestSuspended(t *testing.T) {
	c, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{"phase_diff": 0, "lag_ms": 1} // h_coh missing: QuantumFusion is isolated
	if r := c.Evaluate(m); !r.Rollback {
		t.Fatal("a missing metric of a running module must fail its rule")
	}
	r := c.Evaluate(m, "QuantumFusion")
	if r.Rollback || r.Suspended != 1 || r.Satisfied != 2 || r.C != 1 || !r.Outcomes[0].Suspended || len(r.Violations()) != 0 {
		t.Errorf("suspended evaluation %+v", r)
	}
	// Module-less rules ("*" or none) are never suspended.
	m["phase_diff"] = 1
	if r := c.Evaluate(m, "QuantumFusion", "*", ""); !r.Rollback || r.Suspended != 1 {
		t.Errorf("a rule without a module was suspended: %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		`rules: []`,
		`tau_safe: 2
rules: [{name: a, metric: x, op: "<", value: 1}]`,
		`rules: [{name: a, metric: x, op: "=<", value: 1}]`,
		`rules: [{name: a, metric: x, op: "<", value: 1}, {name: a, metric: y, op: "<", value: 1}]`,
		`rules: [{name: a, metric: x, op: "<", value: tau}]`,
		`rules: [{name: a, metric: x, op: "<", value: pi/0}]`,
		`rules: [{name: a, metric: x, op: "<", value: .nan}]`,
		`rules: [{name: a, metric: x, op: "<", value: 1, action: panic}]`,
		`rules: [{name: a, metric: x, op: "<", value: 1, colour: red}]`, // unknown field
		`{"rules": [{"name": "a", "metric": "", "op": "<", "value": 1}]}`,
		"\x00\x01",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		} else if !strings.HasPrefix(err.Error(), "governance: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestJSONAndKnownMetrics(t *testing.T) {
	c, err := Parse([]byte(`{"tau_safe": 0.5, "rules": [{"name": "r", "metric": "foo", "op": ">=", "value": "-2*pi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if float64(c.Rules[0].Value) != -2*math.Pi {
		t.Errorf("-2*pi parsed as %v", c.Rules[0].Value)
	}
	err = c.Validate(func(m string) bool { return m == "bar" })
	if err == nil || !strings.Contains(err.Error(), `unknown metric "foo"`) {
		t.Errorf("unknown metric: %v", err)
	}
}

func TestThresholdForms(t *testing.T) {
	for s, want := range map[string]float64{"pi": math.Pi, "π/4": math.Pi / 4, "-pi/2": -math.Pi / 2, "0.5*pi": math.Pi / 2, "1e-3": 1e-3} {
		got, err := ParseThreshold(s)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", s, got, err, want)
		}
	}
}

func TestHealth(t *testing.T) {
	if h := Health(1, 0, true); h != 0.75 {
		t.Errorf("health(1, 0) = %v, want 0.75", h)
	}
	if h := Health(1, 0, false); h != 0 {
		t.Errorf("non-finite state: health %v", h)
	}
	if h := Health(1, math.NaN(), true); h != 0 {
		t.Errorf("NaN stability: health %v", h)
	}
	if a, b := Health(1, 1, true), Health(1, -1, true); !(a > b && a <= 1 && b >= 0.5) {
		t.Errorf("health not increasing in stability: %v %v", a, b)
	}
}
