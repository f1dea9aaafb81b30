// Package qpu is mec's quantum-processing-unit backend: a partial device
// that can only sample circuits. Circuits go out as OpenQASM 3 (qasm.Export3;
// ExportBasis once transpiled) through the job API of the IBM Qiskit Runtime sampler (POST /api/v1/jobs,
// GET /api/v1/jobs/{id}, GET /api/v1/jobs/{id}/results, POST
// /api/v1/jobs/{id}/cancel), spoken either by IBM Quantum or by mec's own
// endpoint (`mec serve qpu`, see Server), which lets a second machine act as
// the QPU. The backend has no StateVector capability: everything but circuit
// sampling falls back to the CPU per operation.
//
// Layer: devices. It may import backend and the circuit stack (circuit,
// qasm, sim); never the runtime or the commands.
//
// Configuration comes only from the environment (see Config and FromEnv) or
// from a token file readable by its owner alone; credentials never appear in
// errors or logs. The endpoint URL must be http:// or https:// with a host
// (CheckURL); anything else skips the backend with the reason.
//
// Transpile rewrites a circuit into a device basis ({rz, sx, x, cx} or
// {rz, sx, x, ecr}) and routes it on a coupling map with SWAPs.
package qpu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Job states of the IBM Qiskit Runtime job API.
const (
	StatusQueued    = "Queued"
	StatusRunning   = "Running"
	StatusCompleted = "Completed"
	StatusFailed    = "Failed"
	StatusCancelled = "Cancelled"
)

// Pub is one primitive unified bloc of a sampler job: an OpenQASM 3 circuit,
// optional parameter values and optional shots. It marshals as the JSON
// array [circuit, params, shots]. Parameter values bind the circuit's
// inputs (input float[64] theta;): a list in the inputs' declaration order
// (Qiskit's exporter declares a circuit's parameters in its parameter
// order) or an object by name; one binding per pub.
type Pub struct {
	Circuit string
	Params  []float64
	Named   map[string]float64
	Shots   int
}

// MarshalJSON writes the pub as [circuit, params|null, shots].
func (p Pub) MarshalJSON() ([]byte, error) {
	arr := []any{p.Circuit, p.Params}
	switch {
	case p.Named != nil:
		arr[1] = p.Named
	case p.Params == nil:
		arr[1] = nil
	}
	if p.Shots > 0 {
		arr = append(arr, p.Shots)
	}
	return json.Marshal(arr)
}

// UnmarshalJSON reads [circuit], [circuit, params] or [circuit, params, shots].
func (p *Pub) UnmarshalJSON(b []byte) error {
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("pub: %w", err)
	}
	if len(arr) < 1 || len(arr) > 3 {
		return fmt.Errorf("pub: %d elements, want 1 to 3", len(arr))
	}
	*p = Pub{}
	if err := json.Unmarshal(arr[0], &p.Circuit); err != nil {
		return fmt.Errorf("pub circuit: %w", err)
	}
	if len(arr) > 1 {
		var err error
		if p.Params, p.Named, err = decodeValues(arr[1]); err != nil {
			return err
		}
	}
	if len(arr) > 2 && string(bytes.TrimSpace(arr[2])) != "null" {
		if err := json.Unmarshal(arr[2], &p.Shots); err != nil {
			return fmt.Errorf("pub shots: %w", err)
		}
	}
	return nil
}

// decodeValues reads a pub's parameter values: null, a list of numbers or
// an object of numbers by name.
func decodeValues(raw json.RawMessage) ([]float64, map[string]float64, error) {
	t := bytes.TrimSpace(raw)
	switch {
	case string(t) == "null":
		return nil, nil, nil
	case len(t) > 0 && t[0] == '{':
		var m map[string]float64
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, nil, fmt.Errorf("pub parameter values: %w", err)
		}
		return nil, m, nil
	}
	var v []float64
	if err := json.Unmarshal(t, &v); err != nil {
		var nested [][]float64
		if json.Unmarshal(t, &nested) == nil {
			return nil, nil, fmt.Errorf("pub parameter values: %d bindings in one pub; send one pub per binding", len(nested))
		}
		return nil, nil, fmt.Errorf("pub parameter values: %w", err)
	}
	return v, nil, nil
}

// EstimatorPub is one pub of an estimator job: [circuit, observables,
// parameter values, precision]. Observables are Qiskit's: a Pauli label
// ("XZ": its rightmost character acts on qubit 0), an object of labels
// and real coefficients (a SparsePauliOp), or a list of these (one
// expectation value each).
type EstimatorPub struct {
	Circuit     string
	Observables []circuit.PauliSum // mec's convention: character k acts on qubit k
	List        bool               // the observables came as a list
	Params      []float64
	Named       map[string]float64
	Precision   float64 // 0: exact
	HasPrec     bool
}

// UnmarshalJSON reads [circuit, observables], […, values] and
// […, values, precision].
func (p *EstimatorPub) UnmarshalJSON(b []byte) error {
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("estimator pub: %w", err)
	}
	if len(arr) < 2 || len(arr) > 4 {
		return fmt.Errorf("estimator pub: %d elements, want [circuit, observables, values, precision]", len(arr))
	}
	*p = EstimatorPub{}
	if err := json.Unmarshal(arr[0], &p.Circuit); err != nil {
		return fmt.Errorf("estimator pub circuit: %w", err)
	}
	obs := bytes.TrimSpace(arr[1])
	var items []json.RawMessage
	if len(obs) > 0 && obs[0] == '[' {
		p.List = true
		if err := json.Unmarshal(obs, &items); err != nil {
			return fmt.Errorf("estimator pub observables: %w", err)
		}
		if len(items) == 0 {
			return fmt.Errorf("estimator pub observables: an empty list")
		}
	} else {
		items = []json.RawMessage{obs}
	}
	for i, it := range items {
		h, err := decodeObservable(it)
		if err != nil {
			return fmt.Errorf("estimator pub observable %d: %w", i, err)
		}
		p.Observables = append(p.Observables, h)
	}
	if len(arr) > 2 {
		var err error
		if p.Params, p.Named, err = decodeValues(arr[2]); err != nil {
			return err
		}
	}
	if len(arr) > 3 && string(bytes.TrimSpace(arr[3])) != "null" {
		if err := json.Unmarshal(arr[3], &p.Precision); err != nil {
			return fmt.Errorf("estimator pub precision: %w", err)
		}
		if !(p.Precision >= 0) || math.IsInf(p.Precision, 0) {
			return fmt.Errorf("estimator pub precision %v: want 0 (exact) or more", p.Precision)
		}
		p.HasPrec = true
	}
	return nil
}

// decodeObservable reads a Qiskit label or an object of labels and
// coefficients into a Pauli sum in mec's qubit order.
func decodeObservable(raw json.RawMessage) (circuit.PauliSum, error) {
	var label string
	if json.Unmarshal(raw, &label) == nil {
		return qiskitSum(map[string]float64{label: 1})
	}
	var m map[string]float64
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want a Pauli label or an object of labels and coefficients: %w", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("an empty observable")
	}
	return qiskitSum(m)
}

// qiskitSum turns Qiskit labels (qubit 0 rightmost) into a Pauli sum in
// mec's order (qubit 0 leftmost), terms sorted by label.
func qiskitSum(m map[string]float64) (circuit.PauliSum, error) {
	var h circuit.PauliSum
	for _, label := range slices.Sorted(maps.Keys(m)) {
		if label == "" || strings.Trim(strings.ToUpper(label), "IXYZ") != "" {
			return nil, fmt.Errorf("label %q: want characters I, X, Y, Z", truncate(label, 40))
		}
		r := []byte(strings.ToUpper(label))
		slices.Reverse(r)
		if len(h) > 0 && len(r) != len(h[0].Pauli) {
			return nil, fmt.Errorf("labels of %d and %d qubits", len(h[0].Pauli), len(r))
		}
		h = append(h, circuit.PauliTerm{Coeff: m[label], Pauli: string(r)})
	}
	return h, nil
}

// JobRequest is the body of POST /api/v1/jobs for the sampler program.
type JobRequest struct {
	ProgramID string    `json:"program_id"`
	Backend   string    `json:"backend,omitempty"`
	Params    JobParams `json:"params"`
}

// JobParams are the sampler's parameters (version 2).
type JobParams struct {
	Pubs    []Pub       `json:"pubs"`
	Version int         `json:"version"`
	Shots   int         `json:"shots,omitempty"`
	Options *JobOptions `json:"options,omitempty"`
}

// JobOptions holds the sampler options mec uses.
type JobOptions struct {
	// DefaultShots applies to pubs without their own shots.
	DefaultShots int `json:"default_shots,omitempty"`
	// Simulator options: the seed for simulator-backed endpoints.
	Simulator *SimulatorOptions `json:"simulator,omitempty"`
}

// SimulatorOptions are the sampler's options for simulated devices.
type SimulatorOptions struct {
	SeedSimulator *uint64 `json:"seed_simulator,omitempty"`
}

// JobCreated is the answer to POST /api/v1/jobs.
type JobCreated struct {
	ID      string `json:"id"`
	Backend string `json:"backend,omitempty"`
}

// JobState is the nested state object of a job.
type JobState struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// JobStatus is the answer to GET /api/v1/jobs/{id}.
type JobStatus struct {
	ID      string   `json:"id"`
	Backend string   `json:"backend,omitempty"`
	Status  string   `json:"status"`
	State   JobState `json:"state"`
	Created string   `json:"created,omitempty"`
}

// Phase returns the job's status, from the state object when present.
func (s JobStatus) Phase() string {
	if s.State.Status != "" {
		return canonicalStatus(s.State.Status)
	}
	return canonicalStatus(s.Status)
}

func canonicalStatus(s string) string {
	switch strings.ToLower(s) {
	case "queued":
		return StatusQueued
	case "running":
		return StatusRunning
	case "completed", "done":
		return StatusCompleted
	case "failed", "error":
		return StatusFailed
	case "cancelled", "canceled":
		return StatusCancelled
	}
	return s
}

// Register is one classical register of a pub result: a sample per shot,
// each an integer in hexadecimal ("0x5"), bit j of it classical bit j.
type Register struct {
	Name    string
	Samples []string
	NumBits int
}

// PubResult is the result of one pub: its registers in declaration order.
type PubResult struct {
	Registers []Register
	Metadata  map[string]any
}

// Result is the answer to GET /api/v1/jobs/{id}/results.
type Result struct {
	Pubs     []PubResult
	Metadata map[string]any
}

// maxResultBits bounds the width of one register in a decoded result.
const maxResultBits = 4096

// DecodeResult parses a sampler (version 2) result document:
// {"results": [{"data": {"c": {"samples": ["0x0", ...], "num_bits": 2}}, "metadata": {...}}], "metadata": {...}}.
// The registers of each pub keep their order in the document. It never
// panics, whatever the input.
func DecodeResult(r io.Reader) (*Result, error) {
	var raw struct {
		Results []struct {
			Data     json.RawMessage `json:"data"`
			Metadata map[string]any  `json:"metadata"`
		} `json:"results"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("qpu: decoding result: %w", err)
	}
	if raw.Results == nil {
		return nil, fmt.Errorf("qpu: decoding result: no \"results\"")
	}
	out := &Result{Metadata: raw.Metadata}
	for i, pr := range raw.Results {
		regs, err := decodeRegisters(pr.Data)
		if err != nil {
			return nil, fmt.Errorf("qpu: decoding result of pub %d: %w", i, err)
		}
		out.Pubs = append(out.Pubs, PubResult{Registers: regs, Metadata: pr.Metadata})
	}
	return out, nil
}

// decodeRegisters reads the "data" object keeping its keys' order.
func decodeRegisters(data json.RawMessage) ([]Register, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("no \"data\"")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("\"data\" is not an object")
	}
	var regs []Register
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var reg struct {
			Samples []string `json:"samples"`
			NumBits int      `json:"num_bits"`
		}
		if err := dec.Decode(&reg); err != nil {
			return nil, fmt.Errorf("register %q: %w", name, err)
		}
		if reg.NumBits < 0 || reg.NumBits > maxResultBits {
			return nil, fmt.Errorf("register %q: num_bits %d", name, reg.NumBits)
		}
		for _, s := range reg.Samples {
			if _, err := parseSample(s, reg.NumBits); err != nil {
				return nil, fmt.Errorf("register %q: %w", name, err)
			}
		}
		regs = append(regs, Register{Name: name, Samples: reg.Samples, NumBits: reg.NumBits})
	}
	if len(regs) == 0 {
		return nil, fmt.Errorf("no classical registers in \"data\"")
	}
	return regs, nil
}

// parseSample reads a hexadecimal sample and checks it fits in bits bits.
func parseSample(s string, bits int) (*big.Int, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || h == "" {
		return nil, fmt.Errorf("sample %q is not 0x-prefixed hexadecimal", truncate(s, 40))
	}
	v, ok := new(big.Int).SetString(h, 16)
	if !ok {
		return nil, fmt.Errorf("sample %q is not 0x-prefixed hexadecimal", truncate(s, 40))
	}
	if v.BitLen() > bits {
		return nil, fmt.Errorf("sample %q has more than num_bits=%d bits", truncate(s, 40), bits)
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Counts returns the pub's shot counts as bit strings over all its registers,
// the first register's bit 0 rightmost (registers concatenated in declaration
// order, later registers to the left), as sim.Simulator.Counts does.
func (p PubResult) Counts() (map[string]int, error) {
	if len(p.Registers) == 0 {
		return nil, fmt.Errorf("qpu: result has no registers")
	}
	shots := len(p.Registers[0].Samples)
	for _, r := range p.Registers[1:] {
		if len(r.Samples) != shots {
			return nil, fmt.Errorf("qpu: register %q has %d samples, %q has %d", r.Name, len(r.Samples), p.Registers[0].Name, shots)
		}
	}
	counts := map[string]int{}
	var b strings.Builder
	for i := 0; i < shots; i++ {
		b.Reset()
		for k := len(p.Registers) - 1; k >= 0; k-- {
			r := p.Registers[k]
			v, err := parseSample(r.Samples[i], r.NumBits)
			if err != nil {
				return nil, fmt.Errorf("qpu: register %q: %w", r.Name, err)
			}
			s := v.Text(2)
			if v.Sign() == 0 {
				s = ""
			}
			b.WriteString(strings.Repeat("0", r.NumBits-len(s)))
			b.WriteString(s)
		}
		counts[b.String()]++
	}
	return counts, nil
}

// sampleHex formats a bit string (bit 0 rightmost) as a 0x sample.
func sampleHex(bits string) (string, error) {
	if bits == "" {
		return "0x0", nil
	}
	v, ok := new(big.Int).SetString(bits, 2)
	if !ok {
		return "", fmt.Errorf("bad bit string %q", truncate(bits, 40))
	}
	return "0x" + v.Text(16), nil
}

// apiError is the JSON error body of the job API.
type apiError struct {
	Errors []apiErrorItem `json:"errors"`
	Trace  string         `json:"trace,omitempty"`
}

type apiErrorItem struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
