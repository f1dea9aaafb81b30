// Package governance holds the runtime's constitution: thresholds on
// reported metrics, read from a YAML or JSON file and evaluated every tick.
//
// Layer: runtime. It may import internal/strict only.
//
// # Rules
//
// A rule names a metric, a comparison and a threshold, for example (YAML)
//
//	{name: coherence-entropy, metric: h_coh, op: "<", value: 0.2, module: QuantumFusion}
//
// and is satisfied when metric op value holds (|metric| op value with
// abs: true). A missing or non-finite metric never satisfies a rule, so
// NaN and Inf always count as violations. value is a number or a multiple
// of π written "pi/4", "π/4", "2*pi" or "-pi". module names the module held
// responsible when the rule fails (the runtime isolates it); action is
// "rollback" (the default: a violation restores the last good checkpoint)
// or "record" (the violation only lowers the compliance).
//
// # Compliance and health
//
// C(t), the compliance of tick t, is the fraction of rules satisfied. The
// health score combines it with the stability S(t) of the integration
// dynamics: health = 0 when the state holds a non-finite value, else
// ½·C(t) + ½·σ(4·S(t)) with the logistic σ(x) = 1/(1+e^(−x)), in [0, 1].
// A tick whose health is below TauSafe is treated like a violation.
package governance

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/prismai/mec/internal/strict"
)

// Actions of a rule.
const (
	// ActionRollback: a violation rolls the runtime back (the default).
	ActionRollback = "rollback"
	// ActionRecord: a violation is recorded and lowers the compliance only.
	ActionRecord = "record"
)

// Rule is one constitutional rule.
type Rule struct {
	// Name identifies the rule in decisions and the ledger.
	Name string `yaml:"name" json:"name"`
	// Metric is the name of a reported metric.
	Metric string `yaml:"metric" json:"metric"`
	// Op is one of <, <=, >, >=, ==, !=.
	Op string `yaml:"op" json:"op"`
	// Value is the threshold.
	Value Threshold `yaml:"value" json:"value"`
	// Abs compares |metric| instead of the metric.
	Abs bool `yaml:"abs,omitempty" json:"abs,omitempty"`
	// Module is the module held responsible for a violation ("" or "*":
	// whichever module the runtime finds at fault).
	Module string `yaml:"module,omitempty" json:"module,omitempty"`
	// Action is ActionRollback (default) or ActionRecord.
	Action string `yaml:"action,omitempty" json:"action,omitempty"`
	// Description says what the rule protects.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Threshold is a rule's threshold. In YAML and JSON it is a number or a
// string "k*pi/m" in any of the forms "pi", "pi/4", "π/4", "2*pi", "-pi/2",
// or a decimal number.
type Threshold float64

// UnmarshalYAML accepts a number or a π expression.
func (t *Threshold) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: threshold must be a number or a π expression", n.Line)
	}
	v, err := ParseThreshold(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*t = Threshold(v)
	return nil
}

// MarshalYAML writes the threshold as a number.
func (t Threshold) MarshalYAML() (any, error) { return float64(t), nil }

// ParseThreshold parses a decimal number or "[k*]pi[/m]" (π also spelled π),
// with an optional leading minus sign.
func ParseThreshold(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("threshold %q is not finite", s)
		}
		return v, nil
	}
	e := strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "π", "pi")
	sign := 1.0
	if rest, ok := strings.CutPrefix(e, "-"); ok {
		sign, e = -1, rest
	}
	num, den := e, ""
	if i := strings.IndexByte(e, '/'); i >= 0 {
		num, den = e[:i], e[i+1:]
	}
	k := 1.0
	if f, ok := strings.CutSuffix(num, "*pi"); ok {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, fmt.Errorf("threshold %q: want a number or [k*]pi[/m]", s)
		}
		k = v
	} else if num != "pi" {
		return 0, fmt.Errorf("threshold %q: want a number or [k*]pi[/m]", s)
	}
	v := sign * k * math.Pi
	if den != "" {
		d, err := strconv.ParseFloat(den, 64)
		if err != nil || d == 0 {
			return 0, fmt.Errorf("threshold %q: bad divisor", s)
		}
		v /= d
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("threshold %q is not finite", s)
	}
	return v, nil
}

// Constitution is the whole rule set and the policy around it.
type Constitution struct {
	// TauSafe is τ_safe: a health score below it triggers a rollback.
	TauSafe float64 `yaml:"tau_safe" json:"tau_safe"`
	// IsolateTicks is how many ticks a failing module stays isolated
	// (not stepped) after a rollback.
	IsolateTicks int `yaml:"isolate_ticks" json:"isolate_ticks"`
	// MaxRollbacks stops a run that keeps failing (0: 8).
	MaxRollbacks int `yaml:"max_rollbacks" json:"max_rollbacks"`
	// Rules are evaluated in order.
	Rules []Rule `yaml:"rules" json:"rules"`
}

// DefaultMaxRollbacks is the MaxRollbacks of a constitution that sets none.
const DefaultMaxRollbacks = 8

// Parse reads a constitution from YAML or JSON (JSON is read as YAML).
// Unknown fields are errors; the result is validated.
func Parse(data []byte) (*Constitution, error) {
	var c Constitution
	if err := strict.YAML(data, &c); err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	if err := c.Validate(nil); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads and parses a constitution file.
func Load(path string) (*Constitution, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

var ops = []string{"<", "<=", ">", ">=", "==", "!="}

// Validate checks the constitution. known, when not nil, reports whether
// a metric name exists; unknown metrics are then errors.
func (c *Constitution) Validate(known func(metric string) bool) error {
	var errs []error
	if math.IsNaN(c.TauSafe) || c.TauSafe < 0 || c.TauSafe > 1 {
		errs = append(errs, fmt.Errorf("tau_safe %v: want a value in [0, 1]", c.TauSafe))
	}
	if c.IsolateTicks < 0 {
		errs = append(errs, fmt.Errorf("isolate_ticks %d is negative", c.IsolateTicks))
	}
	if c.MaxRollbacks < 0 {
		errs = append(errs, fmt.Errorf("max_rollbacks %d is negative", c.MaxRollbacks))
	}
	if len(c.Rules) == 0 {
		errs = append(errs, errors.New("no rules"))
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		where := fmt.Sprintf("rule %d (%q)", i+1, r.Name)
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("rule %d has no name", i+1))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		seen[r.Name] = true
		if r.Metric == "" {
			errs = append(errs, fmt.Errorf("%s: no metric", where))
		} else if known != nil && !known(r.Metric) {
			errs = append(errs, fmt.Errorf("%s: unknown metric %q", where, r.Metric))
		}
		if !slices.Contains(ops, r.Op) {
			errs = append(errs, fmt.Errorf("%s: op %q: want one of %s", where, r.Op, strings.Join(ops, " ")))
		}
		if r.Action != "" && r.Action != ActionRollback && r.Action != ActionRecord {
			errs = append(errs, fmt.Errorf("%s: action %q: want %s or %s", where, r.Action, ActionRollback, ActionRecord))
		}
		if math.IsNaN(float64(r.Value)) || math.IsInf(float64(r.Value), 0) {
			errs = append(errs, fmt.Errorf("%s: threshold is not finite", where))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("governance: %w", err)
	}
	return nil
}

// MaxRollbacksOrDefault returns MaxRollbacks, or DefaultMaxRollbacks when 0.
func (c *Constitution) MaxRollbacksOrDefault() int {
	if c.MaxRollbacks == 0 {
		return DefaultMaxRollbacks
	}
	return c.MaxRollbacks
}

// Rule returns the rule called name, or nil.
func (c *Constitution) Rule(name string) *Rule {
	for i := range c.Rules {
		if c.Rules[i].Name == name {
			return &c.Rules[i]
		}
	}
	return nil
}

// Check reports whether x satisfies the rule (false for NaN and ±Inf).
func (r *Rule) Check(x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	if r.Abs {
		x = math.Abs(x)
	}
	v := float64(r.Value)
	switch r.Op {
	case "<":
		return x < v
	case "<=":
		return x <= v
	case ">":
		return x > v
	case ">=":
		return x >= v
	case "==":
		return x == v
	case "!=":
		return x != v
	}
	return false
}

// Triggers reports whether a violation of r calls for a rollback.
func (r *Rule) Triggers() bool { return r.Action == "" || r.Action == ActionRollback }

// String formats the rule as "name: metric op value".
func (r *Rule) String() string {
	m := r.Metric
	if r.Abs {
		m = "|" + m + "|"
	}
	return fmt.Sprintf("%s: %s %s %g", r.Name, m, r.Op, float64(r.Value))
}

// Outcome is the evaluation of one rule.
type Outcome struct {
	// Rule is the evaluated rule.
	Rule *Rule
	// Value is the metric's value (NaN when missing).
	Value float64
	// OK reports whether the rule is satisfied.
	OK bool
	// Suspended is set when the rule's module is isolated: the rule was
	// not evaluated (its module reports nothing while isolated, and a
	// missing metric must not read as a violation that rolls back again).
	Suspended bool
}

// Result is the evaluation of a constitution at one tick.
type Result struct {
	// Outcomes holds one entry per rule, in rule order.
	Outcomes []Outcome
	// Satisfied counts the satisfied rules, Suspended those not evaluated.
	Satisfied, Suspended int
	// C is the compliance C(t) = Satisfied / (len(Outcomes) − Suspended)
	// (1 when every rule is suspended).
	C float64
	// Rollback is set when a violated rule has the rollback action.
	Rollback bool
}

// Violations returns the outcomes of the violated rules.
func (r *Result) Violations() []Outcome {
	var v []Outcome
	for _, o := range r.Outcomes {
		if !o.OK && !o.Suspended {
			v = append(v, o)
		}
	}
	return v
}

// Evaluate evaluates every rule on metrics, except the rules of the
// suspended modules (isolated ones), which are reported as suspended.
func (c *Constitution) Evaluate(metrics map[string]float64, suspended ...string) Result {
	return c.EvaluateExcept(metrics, suspended, nil)
}

// EvaluateExcept is Evaluate that also suspends the rules on the given
// metrics (a reproducible run's wall-clock metrics).
func (c *Constitution) EvaluateExcept(metrics map[string]float64, modules, skipMetrics []string) Result {
	res := Result{Outcomes: make([]Outcome, len(c.Rules))}
	for i := range c.Rules {
		r := &c.Rules[i]
		if (r.Module != "" && r.Module != "*" && slices.Contains(modules, r.Module)) || slices.Contains(skipMetrics, r.Metric) {
			res.Outcomes[i] = Outcome{Rule: r, Value: math.NaN(), Suspended: true}
			res.Suspended++
			continue
		}
		x, ok := metrics[r.Metric]
		if !ok {
			x = math.NaN()
		}
		o := Outcome{Rule: r, Value: x, OK: r.Check(x)}
		res.Outcomes[i] = o
		if o.OK {
			res.Satisfied++
		} else if r.Triggers() {
			res.Rollback = true
		}
	}
	res.C = 1
	if n := len(c.Rules) - res.Suspended; n > 0 {
		res.C = float64(res.Satisfied) / float64(n)
	}
	return res
}

// Health is the health score: 0 when finite is false or c or stability is
// not finite, else ½·c + ½/(1 + e^(−4·stability)).
func Health(c, stability float64, finite bool) float64 {
	if !finite || math.IsNaN(c) || math.IsInf(c, 0) || math.IsNaN(stability) || math.IsInf(stability, 0) {
		return 0
	}
	return 0.5*c + 0.5/(1+math.Exp(-4*stability))
}
