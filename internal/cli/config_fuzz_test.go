package cli

import (
	"encoding/json"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/orchestrator"
)

// FuzzScenarioConfig feeds scenario files (what mec run --config reads) to
// orchestrator.ParseConfig: no input may panic, and an accepted scenario
// validates again, its fusion section included, within the caps.
func FuzzScenarioConfig(f *testing.F) {
	f.Add(orchestrator.DefaultScenario())
	for _, s := range []string{
		"", "seed: 7\nticks: 20\n", "meta: {population: 100000000}\n", "meta: {every: 5, iterations: 3, population: 4}\n",
		"fusion: {dt: -1}\n", "fusion: {spike_steps: 1000000000}\n", "ising: {j: 1, hz: 0.1, hx: 0.7}\nfeatures: 8\n",
		`{"ticks": 5, "fusion": {"qubits": 3}}`, "faults: [{tick: 3, kind: decohere}]\n", "a: &a [*a]\n",
		"governance: {tau_safe: 0.5, rules: [{name: r, metric: h_coh, op: \"<\", value: 0.5}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := orchestrator.ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted scenario fails validation: %v", err)
		}
		if err := c.FusionConfig().Validate(); err != nil {
			t.Fatalf("accepted scenario has an invalid fusion section: %v", err)
		}
		if c.Meta.Population > 1000 || c.Meta.Iterations > 10000 {
			t.Fatalf("accepted meta population %d, iterations %d: beyond the caps", c.Meta.Population, c.Meta.Iterations)
		}
	})
}

// FuzzFusionConfig feeds fusion configuration files (what mec fuse --config
// reads, as YAML and as JSON) to the decoder: no input may panic, and an
// accepted configuration validates again with a positive dt and spike_steps
// within the cap.
func FuzzFusionConfig(f *testing.F) {
	def := fusion.DefaultConfig()
	if b, err := json.Marshal(def); err == nil {
		f.Add(true, b)
	}
	if b, err := yaml.Marshal(def); err == nil {
		f.Add(false, b)
	}
	for _, s := range []string{
		"", "qubits: 3\ndt: 0.1\nspike_steps: 5\nalpha: 10\ngamma: 0.01\n", "dt: -1\n", "spike_steps: 1000000000\n",
		"limits: {max_qubits: 28, v_cap_mv: -40, resonance: 0.8, max_spike_steps: 200000}\nspike_steps: 150000\n",
		"hamiltonian: [{coeff: 1, pauli: XZ}]\nqubits: 2\n", "network: {dt_ms: 0.1, populations: [{name: N, size: 10}]}\n",
		"feedback: voltage\ninitial: zero\nprecision: c64\n",
	} {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte(`{"qubits": 2, "dt": 0.01, "hamiltonian": [{"coeff": 0.5, "pauli": "ZZ"}]}`))
	f.Fuzz(func(t *testing.T, asJSON bool, data []byte) {
		name := "f.yaml"
		if asJSON {
			name = "f.json"
		}
		cfg, err := fusion.ParseConfig(name, data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted configuration fails validation: %v", err)
		}
		maxSpike := cfg.Limits.MaxSpikeSteps
		if maxSpike <= 0 {
			maxSpike = fusion.DefaultMaxSpikeSteps
		}
		if cfg.Dt < 0 || cfg.SpikeSteps < 0 || cfg.SpikeSteps > maxSpike {
			t.Fatalf("accepted dt %v, spike_steps %d (cap %d)", cfg.Dt, cfg.SpikeSteps, maxSpike)
		}
	})
}
