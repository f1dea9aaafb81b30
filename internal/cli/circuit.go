package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/strict"
	"github.com/prismai/mec/noise"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
)

func init() { subcommands = append(subcommands, newCircuitCmd) }

func newCircuitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "circuit",
		Short: "Run and convert OpenQASM circuits",
	}
	cmd.AddCommand(newCircuitRunCmd(), newCircuitConvertCmd())
	return cmd
}

// StateJSON is the peers' state format: qubit k is bit k of the index.
type StateJSON struct {
	Qubits     int          `json:"qubits"`
	Amplitudes [][2]float64 `json:"amplitudes"`
}

// runFlags are mec circuit run's flags.
type runFlags struct {
	precision   string
	fuse        int
	shots       int
	seed        uint64
	showState   bool
	asJSON      bool
	memory      bool
	maxBranches int
	qf          qasmFlags
	observables []string
	obsFile     string
	sweep       string
	noiseFile   string
	exact       bool
}

func newCircuitRunCmd() *cobra.Command {
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "run FILE.qasm|DIR|- ...",
		Short: "Simulate OpenQASM 2 or 3 circuits",
		Long: `Simulate OpenQASM 2 or 3 circuits on a state-vector backend.

With --shots N the classical register is sampled N times (bit 0 rightmost).
The circuit is simulated once and its shots are split between the outcomes
of each mid-circuit measurement or reset that is not certain (branches that
become equal merge again; resets of qubits known to be |0⟩ or |1⟩ cost
nothing); measurements at the end are sampled from each branch's state.
--max-branches bounds the states held at once (0: as many as fit in 2 GiB,
at most ` + fmt.Sprint(sim.MaxBranchesCap) + `); past it, the smaller side of a split replays its path
from the start later, group by group. --memory adds every shot's register
in shot order. --state prints the final state (after any mid-circuit
collapses drawn from --seed); --state --json prints exactly the peers'
state JSON {"qubits":n,"amplitudes":[[re,im],...]}. FILE - reads
standard input.

Several files, or a directory (its *.qasm files in name order), run one
after the other on the same backend; --sweep FILE runs each circuit once
per binding of its inputs (a JSON array of objects such as
[{"theta": 0.1}, {"theta": 0.2}], or a CSV file whose header names the
inputs). With more than one run, --json prints one JSON object a line
(JSON Lines) with "file" and "params" added, and text output puts a
"== FILE (params)" line before each run.

` + qasmLimitsHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return rf.run(cmd, args) },
	}
	f := cmd.Flags()
	f.StringVar(&rf.precision, "precision", "c128", "amplitude precision: c64 or c128")
	f.IntVar(&rf.fuse, "fuse", sim.DefaultFuse, "largest fused gate block in qubits (0 disables fusion)")
	f.IntVar(&rf.shots, "shots", 1024, "number of shots to sample (not with --state)")
	f.Uint64Var(&rf.seed, "seed", 1, "random seed for measurements and shots")
	f.BoolVar(&rf.showState, "state", false, "print the final state vector")
	f.BoolVar(&rf.memory, "memory", false, "print every shot's register in shot order")
	f.IntVar(&rf.maxBranches, "max-branches", 0, fmt.Sprintf("most states a shot run holds at once (0: as many as fit in 2 GiB, at most %d); past it, groups of shots replay their path", sim.MaxBranchesCap))
	f.BoolVar(&rf.asJSON, "json", false, "print JSON (JSON Lines for several runs)")
	f.StringArrayVar(&rf.observables, "observable", nil, `Pauli sum whose expectation value to print, e.g. "0.5*ZZI + XIX" (character k acts on qubit k; repeatable); with --shots, also its estimate from that many shots per term`)
	f.StringVar(&rf.obsFile, "observables", "", "file of observables, one Pauli sum a line (# starts a comment)")
	f.StringVar(&rf.sweep, "sweep", "", "file of input bindings, one run each: a JSON array of objects or a CSV file with a header")
	f.StringVar(&rf.noiseFile, "noise", "", "noise model file (YAML, or JSON for .json): channels after gates and readout errors; shots run as quantum trajectories")
	f.BoolVar(&rf.exact, "density-matrix", false, "print the exact probability of every register value from the density matrix (at most 10 qubits; with --noise, noise included)")
	rf.qf.register(cmd)
	return cmd
}

// run checks the flags, then runs every circuit with every binding.
func (rf *runFlags) run(cmd *cobra.Command, args []string) error {
	p, err := backend.ParsePrecision(rf.precision)
	if err != nil {
		return err
	}
	fl := cmd.Flags()
	switch {
	case fl.Changed("shots") && rf.shots < 1:
		return fmt.Errorf("--shots %d: want at least 1", rf.shots)
	case rf.showState && fl.Changed("shots"):
		return errors.New("--state prints the state of one run and --shots samples registers: give one of them")
	case rf.showState && (rf.memory || fl.Changed("max-branches")):
		return errors.New("--memory and --max-branches are about shots: they do not go with --state")
	case rf.maxBranches < 0:
		return fmt.Errorf("--max-branches %d: want 0 (fit in 2 GiB) or more", rf.maxBranches)
	}
	obs, err := readObservables(rf.observables, rf.obsFile)
	if err != nil {
		return err
	}
	if len(obs) > 0 && (rf.showState || rf.memory) {
		return errors.New("--observable gives expectation values: it does not go with --state or --memory")
	}
	var model *noise.Model
	if rf.noiseFile != "" {
		if model, err = noise.Load(rf.noiseFile); err != nil {
			return err
		}
		if rf.showState || len(obs) > 0 {
			return errors.New("--noise runs shots as quantum trajectories: it does not go with --state or --observable (use --density-matrix for exact probabilities)")
		}
	}
	if rf.exact && (rf.showState || len(obs) > 0 || rf.memory || fl.Changed("shots")) {
		return errors.New("--density-matrix prints exact probabilities: it does not go with --state, --observable, --memory or --shots")
	}
	files, err := circuitFiles(args)
	if err != nil {
		return err
	}
	bindings, err := readSweep(rf.sweep)
	if err != nil {
		return err
	}
	opts, err := rf.qf.options(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	h, stop, err := rf.qf.startHost(cmd)
	if err != nil {
		return err
	}
	defer stop()
	opts.Host = h
	s, err := sim.New(sim.Options{Backend: backendFlag(cmd), Precision: p, Fuse: rf.fuse, Seed: rf.seed, MaxBranches: rf.maxBranches, Host: h})
	if err != nil {
		return err
	}
	var stdin []byte // standard input, read once for every binding
	if files[0] == "-" {
		lim, err := opts.Limits.Effective()
		if err != nil {
			return err
		}
		if stdin, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), lim.MaxFileBytes+1)); err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
	}
	out := cmd.OutOrStdout()
	multi := len(files)*len(bindings) > 1
	for _, file := range files {
		for _, b := range bindings {
			o := opts
			if o.Params, err = mergeParams(opts.Params, b); err != nil {
				return err
			}
			if multi && !rf.asJSON {
				fmt.Fprintf(out, "== %s%s\n", file, paramsText(b))
			}
			var c *circuit.Circuit
			if stdin != nil {
				c, err = rf.qf.parseSource(cmd, "<stdin>", stdin, o)
			} else {
				c, err = rf.qf.parseWith(cmd, file, o)
			}
			if err != nil {
				return err
			}
			if model != nil {
				if c, err = model.Apply(c); err != nil {
					return err
				}
			}
			doc, err := rf.one(cmd, s, p, c, obs)
			if err != nil {
				if multi {
					return fmt.Errorf("%s%s: %w", file, paramsText(b), err)
				}
				return err
			}
			if !rf.asJSON {
				continue
			}
			if !multi {
				if rf.showState {
					return json.NewEncoder(out).Encode(doc)
				}
				return writeJSON(out, doc)
			}
			doc["file"] = file
			if b != nil {
				doc["params"] = b
			}
			if err := json.NewEncoder(out).Encode(doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// one runs circuit c as the flags say: it prints text, or returns the JSON
// document of the run.
func (rf *runFlags) one(cmd *cobra.Command, s *sim.Simulator, p backend.Precision, c *circuit.Circuit, obs []observable) (map[string]any, error) {
	out := cmd.OutOrStdout()
	if rf.exact {
		_, dist, err := noise.DensityMatrix(c)
		if err != nil {
			return nil, err
		}
		if rf.asJSON {
			return map[string]any{"probabilities": dist}, nil
		}
		for _, k := range slices.Sorted(maps.Keys(dist)) {
			fmt.Fprintf(out, "%s  %.12f\n", k, dist[k])
		}
		return nil, nil
	}
	if len(obs) > 0 {
		perTerm := 0
		if cmd.Flags().Changed("shots") {
			perTerm = rf.shots
		}
		return runObservables(cmd, s, c, obs, perTerm, rf.asJSON)
	}
	if rf.showState {
		start := time.Now()
		res, err := s.Run(cmd.Context(), c)
		if err != nil {
			return nil, err
		}
		defer res.State.Free()
		amps := make([]complex128, 1<<uint(c.Qubits))
		if err := res.State.Read(amps); err != nil {
			return nil, err
		}
		if rf.asJSON {
			st := stateJSON(c.Qubits, amps)
			return map[string]any{"qubits": st.Qubits, "amplitudes": st.Amplitudes}, nil
		}
		fmt.Fprintf(out, "backend %s, %s, %d gates applied in %d passes over the state in %v\n", s.Backend().Name(), p, res.Gates, res.Applied, time.Since(start).Round(time.Microsecond))
		for i, a := range amps {
			if real(a)*real(a)+imag(a)*imag(a) < 1e-20 {
				continue
			}
			fmt.Fprintf(out, "|%0*b⟩  %+.10f %+.10fi\n", max(c.Qubits, 1), i, real(a), imag(a))
		}
		return nil, nil
	}
	if c.Clbits == 0 {
		return nil, errors.New("the circuit has no classical bits to sample: measure into bits, or print the state with --state")
	}
	start := time.Now()
	r, err := s.Shots(cmd.Context(), c, rf.shots)
	if err != nil {
		return nil, err
	}
	counts := r.Counts()
	if rf.asJSON {
		doc := map[string]any{"backend": s.Backend().Name(), "shots": rf.shots, "seed": rf.seed, "counts": counts, "stats": r.Stats}
		if regs := registersJSON(c); regs != nil {
			doc["registers"] = regs
		}
		if rf.memory {
			doc["memory"] = r.Memory()
		}
		return doc, nil
	}
	st := r.Stats
	fmt.Fprintf(out, "backend %s, %s, %d shots, seed %d, %v\n", s.Backend().Name(), p, rf.shots, rf.seed, time.Since(start).Round(time.Microsecond))
	fmt.Fprintf(out, "%d gates applied in %d passes over the state; %d splits, %d merges, %d branches at most, %d certain collapses, %d replays\n",
		st.Gates, st.Applied, st.Splits, st.Merges, st.Branches, st.Certain, st.Replays)
	if rf.memory {
		for k, m := range r.Memory() {
			fmt.Fprintf(out, "shot %d  %s\n", k, m)
		}
	}
	named := len(c.Cregs) > 1
	for _, r := range c.Cregs {
		named = named || r.Type.Width > 0
	}
	for _, k := range sim.SortedKeys(counts) {
		if !named {
			fmt.Fprintf(out, "%s  %d\n", k, counts[k])
			continue
		}
		vals := c.Values(func(j int) bool { return k[len(k)-1-j] == '1' })
		fmt.Fprintf(out, "%s  %d  %s\n", k, counts[k], strings.Join(vals, " "))
	}
	return nil, nil
}

// registersJSON describes the result registers: names, clbits and the
// types of variables.
func registersJSON(c *circuit.Circuit) []map[string]any {
	var regs []map[string]any
	for _, r := range c.Cregs {
		m := map[string]any{"name": r.Name, "bits": r.Bits}
		if r.Type.Width > 0 {
			m["type"] = r.Type.String()
		}
		regs = append(regs, m)
	}
	return regs
}

// circuitFiles expands the arguments: a directory stands for its *.qasm
// files in name order; - (standard input) must be alone.
func circuitFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		if a == "-" {
			if len(args) > 1 {
				return nil, errors.New("- (standard input) cannot be combined with other files")
			}
			return args, nil
		}
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		in, err := filepath.Glob(filepath.Join(a, "*.qasm"))
		if err != nil {
			return nil, err
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("%s: no .qasm files", a)
		}
		slices.Sort(in)
		files = append(files, in...)
	}
	return files, nil
}

// readSweep reads the bindings of a --sweep file: a JSON array of objects
// of numbers, or (.csv) a header of input names and one row of values
// (numbers or expressions such as pi/4) per binding. No file: one run
// with no binding.
func readSweep(file string) ([]map[string]float64, error) {
	if file == "" {
		return []map[string]float64{nil}, nil
	}
	raw, err := readInput("sweep", file)
	if err != nil {
		return nil, err
	}
	var out []map[string]float64
	if strings.EqualFold(filepath.Ext(file), ".csv") {
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(rows) < 2 {
			return nil, fmt.Errorf("%s: want a header and at least one row of values", file)
		}
		for i, row := range rows[1:] {
			b := map[string]float64{}
			for j, name := range rows[0] {
				v, err := qasm.EvalConst(row[j])
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %s: %w", file, i+2, name, err)
				}
				b[strings.TrimSpace(name)] = v
			}
			out = append(out, b)
		}
		return out, nil
	}
	if err := strict.JSON(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %w (want a JSON array of objects of numbers, or a .csv file)", file, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no bindings", file)
	}
	return out, nil
}

// mergeParams adds a sweep binding to the --param values; a name in both
// is an error.
func mergeParams(fixed, b map[string]float64) (map[string]float64, error) {
	if len(b) == 0 {
		return fixed, nil
	}
	m := maps.Clone(b)
	for k, v := range fixed {
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("input %q is given by --param and by the sweep", k)
		}
		m[k] = v
	}
	return m, nil
}

// paramsText formats a binding for headers and errors: " (a=1, b=2)".
func paramsText(b map[string]float64) string {
	if len(b) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		parts = append(parts, fmt.Sprintf("%s=%g", k, b[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// qasmLimitsHelp documents the parser's limits in the help of the
// commands that read OpenQASM.
const qasmLimitsHelp = `The parser's limits, each raised by its environment variable: the file
at most 64 MiB (MEC_QASM_MAX_FILE_BYTES), included files together 16 MiB
(MEC_QASM_MAX_INCLUDE_BYTES), 10000000 operations after expanding user
gates, counted before expanding (MEC_QASM_MAX_OPS), 60 s of parsing and
expansion (MEC_QASM_EXPAND_TIMEOUT, a duration such as 5m). Ctrl-C stops
parsing and simulation.`

func stateJSON(n int, amps []complex128) StateJSON {
	s := StateJSON{Qubits: n, Amplitudes: make([][2]float64, len(amps))}
	for i, a := range amps {
		s.Amplitudes[i] = [2]float64{real(a), imag(a)}
	}
	return s
}

// observable is a parsed --observable with its text.
type observable struct {
	text string
	sum  circuit.PauliSum
}

// readObservables parses the --observable flags and the --observables
// file (one sum a line; blank lines and # comments skipped).
func readObservables(flags []string, file string) ([]observable, error) {
	var out []observable
	add := func(where, text string) error {
		h, err := circuit.ParsePauliSum(text)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, observable{text: strings.TrimSpace(text), sum: h})
		return nil
	}
	for _, f := range flags {
		if err := add("--observable", f); err != nil {
			return nil, err
		}
	}
	if file != "" {
		raw, err := readInput("observables", file)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(raw), "\n") {
			if j := strings.IndexByte(line, '#'); j >= 0 {
				line = line[:j]
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := add(fmt.Sprintf("%s:%d", file, i+1), line); err != nil {
				return nil, err
			}
		}
		if len(out) == len(flags) {
			return nil, fmt.Errorf("%s: no observables", file)
		}
	}
	return out, nil
}

// runObservables prints the expectation values of the observables on the
// circuit's final state (and their estimates from perTerm shots per term
// when perTerm > 0), or returns them as a JSON document.
func runObservables(cmd *cobra.Command, s *sim.Simulator, c *circuit.Circuit, obs []observable, perTerm int, asJSON bool) (map[string]any, error) {
	sums := make([]circuit.PauliSum, len(obs))
	for i, o := range obs {
		sums[i] = o.sum
	}
	start := time.Now()
	est, err := s.Observe(cmd.Context(), c, sums, perTerm)
	if err != nil {
		return nil, err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		type row struct {
			Observable string `json:"observable"`
			sim.Estimate
		}
		rows := make([]row, len(obs))
		for i := range obs {
			rows[i] = row{obs[i].text, est[i]}
		}
		return map[string]any{"backend": s.Backend().Name(), "observables": rows}, nil
	}
	fmt.Fprintf(out, "backend %s, %d observables, %v\n", s.Backend().Name(), len(obs), time.Since(start).Round(time.Microsecond))
	for i, e := range est {
		if perTerm > 0 {
			fmt.Fprintf(out, "⟨%s⟩ = %.10f exact, %.6f ± %.6f from %d shots per term\n", obs[i].text, e.Exact, e.Mean, e.StdErr, perTerm)
		} else {
			fmt.Fprintf(out, "⟨%s⟩ = %.10f\n", obs[i].text, e.Exact)
		}
	}
	return nil, nil
}
