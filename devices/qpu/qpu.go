package qpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mathext"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
)

// CircuitSampler is the capability of sampling measured circuits on a
// device: shot counts keyed by bit strings over the circuit's classical bits,
// bit 0 rightmost (as sim.Simulator.Counts). seed, when not nil, seeds
// simulator-backed devices; hardware ignores it.
type CircuitSampler interface {
	SampleCircuit(ctx context.Context, c *circuit.Circuit, shots int, seed *uint64) (map[string]int, error)
}

// CapabilityName is the name CircuitSampler has in backend listings.
const CapabilityName = "circuit-sampler"

// Backend is the QPU backend: a CircuitSampler and nothing else, so state
// vectors, FFTs and spiking work fall back to other backends per operation.
type Backend struct {
	client Client
	cfg    Config
}

var (
	_ backend.Backend         = (*Backend)(nil)
	_ backend.CapabilityNamer = (*Backend)(nil)
	_ CircuitSampler          = (*Backend)(nil)
)

// New returns a Backend for cfg over an HTTPClient.
func New(cfg Config) (*Backend, error) {
	cl, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Backend{client: cl, cfg: cl.Config()}, nil
}

// NewWithClient returns a Backend over any Client (tests, other transports).
func NewWithClient(cfg Config, c Client) *Backend { return &Backend{client: c, cfg: cfg} }

// Name implements backend.Backend.
func (b *Backend) Name() string { return "qpu" }

// Device implements backend.Backend; it never shows credentials.
func (b *Backend) Device() string {
	d := b.cfg.Device
	if d == "" {
		d = "default device"
	}
	return fmt.Sprintf("%s at %s (%s endpoint, circuit sampling only)", d, b.cfg.URL, b.cfg.Kind)
}

// Close implements backend.Backend.
func (b *Backend) Close() error { return nil }

// ExtraCapabilities implements backend.CapabilityNamer.
func (b *Backend) ExtraCapabilities() []string { return []string{CapabilityName} }

// Client returns the backend's job API client.
func (b *Backend) Client() Client { return b.client }

// SampleCircuit implements CircuitSampler: it transpiles c to the configured
// target (if any), exports it as OpenQASM 3, runs it as a sampler job and
// returns the counts.
func (b *Backend) SampleCircuit(ctx context.Context, c *circuit.Circuit, shots int, seed *uint64) (map[string]int, error) {
	src, err := b.Prepare(c)
	if err != nil {
		return nil, err
	}
	return Run(ctx, b.client, src, shots, seed, b.cfg.PollInterval)
}

// Prepare returns the OpenQASM 3 text SampleCircuit sends for c.
func (b *Backend) Prepare(c *circuit.Circuit) (string, error) {
	if b.cfg.Target == nil {
		s, err := qasm.Export3(c)
		if err != nil {
			return "", fmt.Errorf("qpu: exporting circuit: %w", err)
		}
		return s, nil
	}
	tr, _, err := Transpile(c, *b.cfg.Target)
	if err != nil {
		return "", err
	}
	return ExportBasis(tr)
}

// driver registers the qpu backend; it loads only when configured.
type driver struct{}

// Name implements backend.Driver.
func (driver) Name() string { return "qpu" }

// Priority implements backend.Driver: below every engine, so the QPU is never
// the default (it has no state vector).
func (driver) Priority() int { return -10 }

// Init implements backend.Driver: skipped unless MEC_QPU_URL is set.
func (driver) Init() (backend.Backend, error) {
	cfg, err := FromEnv()
	if errors.Is(err, ErrNotConfigured) {
		return nil, backend.Skip("not configured: set %s (and %s=ibm|mec, %s or %s; see go doc ./devices/qpu)", EnvURL, EnvKind, EnvToken, EnvTokenFile)
	}
	if errors.Is(err, ErrBadURL) {
		return nil, backend.Skip("%v", err)
	}
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

func init() { backend.Register(driver{}) }

// Open returns the qpu backend: the one backend.Init loaded, else one made
// from the environment as it is now (FromEnv), else the reason neither works.
func Open() (*Backend, error) {
	if s, _, err := backend.WithCapability[CircuitSampler]("qpu"); err == nil {
		if b, ok := s.(*Backend); ok {
			return b, nil
		}
	}
	cfg, err := FromEnv()
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// CheckState prepares psi (normalised here) on the sampler with
// circuit.PrepareState, measures every qubit, samples shots shots and
// compares the counts with |psi|² by Pearson's χ² test.
func CheckState(ctx context.Context, s CircuitSampler, psi []complex128, shots int, seed *uint64) (ChiSquare, error) {
	var norm float64
	for _, a := range psi {
		norm += real(a)*real(a) + imag(a)*imag(a)
	}
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return ChiSquare{}, fmt.Errorf("qpu: check state: norm² %v", norm)
	}
	amps := make([]complex128, len(psi))
	probs := make([]float64, len(psi))
	scale := 1 / math.Sqrt(norm)
	for i, a := range psi {
		amps[i] = a * complex(scale, 0)
		probs[i] = real(amps[i])*real(amps[i]) + imag(amps[i])*imag(amps[i])
	}
	c, err := circuit.PrepareState(amps)
	if err != nil {
		return ChiSquare{}, fmt.Errorf("qpu: check state: %w", err)
	}
	c.Clbits = c.Qubits
	for q := 0; q < c.Qubits; q++ {
		c.Measure(q, q)
	}
	counts, err := s.SampleCircuit(ctx, c, shots, seed)
	if err != nil {
		return ChiSquare{}, fmt.Errorf("qpu: check state: %w", err)
	}
	return ChiSquareTest(counts, probs)
}

// ChiSquare is a Pearson χ² goodness-of-fit test of shot counts against
// probabilities.
type ChiSquare struct {
	Stat  float64 `json:"chi2"`
	DF    int     `json:"df"`
	P     float64 `json:"p_value"`
	Shots int     `json:"shots"`
	Bins  int     `json:"bins"`
}

// ChiSquareTest compares counts (bit strings over nbits bits, bit 0
// rightmost) with probs (indexed by outcome). Outcomes whose expected count
// is below 5 are pooled into one bin (dropped if the pool still expects
// less than 5); counts outside probs' support are an error.
func ChiSquareTest(counts map[string]int, probs []float64) (ChiSquare, error) {
	shots := 0
	obs := make([]float64, len(probs))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := counts[k]
		if n < 0 {
			return ChiSquare{}, fmt.Errorf("qpu: χ²: negative count for %q", k)
		}
		var idx uint64
		if strings.Trim(k, "01") != "" || len(k) > 63 {
			return ChiSquare{}, fmt.Errorf("qpu: χ²: outcome %q is not a bit string", truncate(k, 40))
		}
		for _, ch := range k {
			idx = idx<<1 | uint64(ch-'0')
		}
		if idx >= uint64(len(probs)) {
			return ChiSquare{}, fmt.Errorf("qpu: χ²: outcome %q outside the %d outcomes", k, len(probs))
		}
		obs[idx] += float64(n)
		shots += n
	}
	if shots == 0 {
		return ChiSquare{}, fmt.Errorf("qpu: χ²: no shots")
	}
	var stat, poolE, poolO float64
	bins := 0
	for i, p := range probs {
		e := p * float64(shots)
		if e < 5 {
			poolE += e
			poolO += obs[i]
			continue
		}
		stat += (obs[i] - e) * (obs[i] - e) / e
		bins++
	}
	if poolE >= 5 {
		stat += (poolO - poolE) * (poolO - poolE) / poolE
		bins++
	} else if poolO > 0 && poolE < 1e-9 {
		return ChiSquare{}, fmt.Errorf("qpu: χ²: %v shots on outcomes of probability ~0", poolO)
	}
	res := ChiSquare{Stat: stat, DF: bins - 1, Shots: shots, Bins: bins}
	if res.DF < 1 {
		res.DF, res.P = 0, 1
		return res, nil
	}
	res.P = mathext.GammaIncRegComp(float64(res.DF)/2, stat/2)
	if math.IsNaN(res.P) {
		return res, fmt.Errorf("qpu: χ²: p-value is NaN (statistic %v, %d degrees of freedom)", stat, res.DF)
	}
	return res, nil
}
