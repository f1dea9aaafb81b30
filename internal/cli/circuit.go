package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
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

func newCircuitRunCmd() *cobra.Command {
	var (
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
	)
	cmd := &cobra.Command{
		Use:   "run FILE.qasm|-",
		Short: "Simulate an OpenQASM 2 or 3 circuit",
		Long: `Simulate an OpenQASM 2 or 3 circuit on a state-vector backend.

With --shots N the classical register is sampled N times (bit 0 rightmost).
The circuit is simulated once and its shots are split between the outcomes
of each mid-circuit measurement or reset that is not certain (branches that
become equal merge again; resets of qubits known to be |0⟩ or |1⟩ cost
nothing); measurements at the end are sampled from each branch's state.
--max-branches bounds the states held at once (shots beyond it replay their
path later). --memory adds every shot's register in shot order. --state
prints the final state (after any mid-circuit collapses drawn from --seed);
--state --json prints exactly the peers' state JSON
{"qubits":n,"amplitudes":[[re,im],...]}. FILE - reads standard input.

` + qasmLimitsHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := backend.ParsePrecision(precision)
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			switch {
			case fl.Changed("shots") && shots < 1:
				return fmt.Errorf("--shots %d: want at least 1", shots)
			case showState && fl.Changed("shots"):
				return errors.New("--state prints the state of one run and --shots samples registers: give one of them")
			case showState && (memory || fl.Changed("max-branches")):
				return errors.New("--memory and --max-branches are about shots: they do not go with --state")
			case maxBranches < 0:
				return fmt.Errorf("--max-branches %d: want 0 (fit in 2 GiB) or more", maxBranches)
			}
			c, err := qf.parse(cmd, args[0])
			if err != nil {
				return err
			}
			obs, err := readObservables(observables, obsFile)
			if err != nil {
				return err
			}
			if len(obs) > 0 && (showState || memory) {
				return errors.New("--observable gives expectation values: it does not go with --state or --memory")
			}
			s, err := sim.New(sim.Options{Backend: backendFlag(cmd), Precision: p, Fuse: fuse, Seed: seed, MaxBranches: maxBranches})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(obs) > 0 {
				perTerm := 0
				if fl.Changed("shots") {
					perTerm = shots
				}
				return printObservables(cmd, s, c, obs, perTerm, asJSON)
			}
			if showState {
				start := time.Now()
				res, err := s.Run(cmd.Context(), c)
				if err != nil {
					return err
				}
				defer res.State.Free()
				amps := make([]complex128, 1<<uint(c.Qubits))
				if err := res.State.Read(amps); err != nil {
					return err
				}
				if asJSON {
					return writeStateJSON(out, c.Qubits, amps)
				}
				fmt.Fprintf(out, "backend %s, %s, %d gates applied as %d in %v\n", s.Backend().Name(), p, res.Gates, res.Applied, time.Since(start).Round(time.Microsecond))
				for i, a := range amps {
					if real(a)*real(a)+imag(a)*imag(a) < 1e-20 {
						continue
					}
					fmt.Fprintf(out, "|%0*b⟩  %+.10f %+.10fi\n", max(c.Qubits, 1), i, real(a), imag(a))
				}
				return nil
			}
			if c.Clbits == 0 {
				return errors.New("the circuit has no classical bits to sample: measure into bits, or print the state with --state")
			}
			start := time.Now()
			r, err := s.Shots(cmd.Context(), c, shots)
			if err != nil {
				return err
			}
			counts := r.Counts()
			if asJSON {
				doc := map[string]any{"backend": s.Backend().Name(), "shots": shots, "seed": seed, "counts": counts, "stats": r.Stats}
				if memory {
					doc["memory"] = r.Memory()
				}
				return writeJSON(out, doc)
			}
			st := r.Stats
			fmt.Fprintf(out, "backend %s, %s, %d shots, seed %d, %v\n", s.Backend().Name(), p, shots, seed, time.Since(start).Round(time.Microsecond))
			fmt.Fprintf(out, "%d gates applied as %d; %d splits, %d merges, %d branches at most, %d certain collapses, %d replays\n",
				st.Gates, st.Applied, st.Splits, st.Merges, st.Branches, st.Certain, st.Replays)
			if memory {
				for k, m := range r.Memory() {
					fmt.Fprintf(out, "shot %d  %s\n", k, m)
				}
			}
			for _, k := range sim.SortedKeys(counts) {
				fmt.Fprintf(out, "%s  %d\n", k, counts[k])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&precision, "precision", "c128", "amplitude precision: c64 or c128")
	f.IntVar(&fuse, "fuse", sim.DefaultFuse, "largest fused gate block in qubits (0 disables fusion)")
	f.IntVar(&shots, "shots", 1024, "number of shots to sample (not with --state)")
	f.Uint64Var(&seed, "seed", 1, "random seed for measurements and shots")
	f.BoolVar(&showState, "state", false, "print the final state vector")
	f.BoolVar(&memory, "memory", false, "print every shot's register in shot order")
	f.IntVar(&maxBranches, "max-branches", 0, "most states held at once by a shot run (0: as many as fit in 2 GiB)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringArrayVar(&observables, "observable", nil, `Pauli sum whose expectation value to print, e.g. "0.5*ZZI + XIX" (character k acts on qubit k; repeatable); with --shots, also its estimate from that many shots per term`)
	f.StringVar(&obsFile, "observables", "", "file of observables, one Pauli sum a line (# starts a comment)")
	qf.register(cmd)
	return cmd
}

// qasmLimitsHelp documents the parser's limits in the help of the
// commands that read OpenQASM.
const qasmLimitsHelp = `The parser's limits, each raised by its environment variable: the file
at most 64 MiB (MEC_QASM_MAX_FILE_BYTES), included files together 16 MiB
(MEC_QASM_MAX_INCLUDE_BYTES), 10000000 operations after expanding user
gates, counted before expanding (MEC_QASM_MAX_OPS), 60 s of parsing and
expansion (MEC_QASM_EXPAND_TIMEOUT, a duration such as 5m). Ctrl-C stops
parsing and simulation.`

func writeStateJSON(w io.Writer, n int, amps []complex128) error {
	s := StateJSON{Qubits: n, Amplitudes: make([][2]float64, len(amps))}
	for i, a := range amps {
		s.Amplitudes[i] = [2]float64{real(a), imag(a)}
	}
	return json.NewEncoder(w).Encode(s)
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

// printObservables prints the expectation values of the observables on
// the circuit's final state (and their estimates from perTerm shots per
// term when perTerm > 0).
func printObservables(cmd *cobra.Command, s *sim.Simulator, c *circuit.Circuit, obs []observable, perTerm int, asJSON bool) error {
	sums := make([]circuit.PauliSum, len(obs))
	for i, o := range obs {
		sums[i] = o.sum
	}
	start := time.Now()
	est, err := s.Observe(cmd.Context(), c, sums, perTerm)
	if err != nil {
		return err
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
		return writeJSON(out, map[string]any{"backend": s.Backend().Name(), "observables": rows})
	}
	fmt.Fprintf(out, "backend %s, %d observables, %v\n", s.Backend().Name(), len(obs), time.Since(start).Round(time.Microsecond))
	for i, e := range est {
		if perTerm > 0 {
			fmt.Fprintf(out, "⟨%s⟩ = %.10f exact, %.6f ± %.6f from %d shots per term\n", obs[i].text, e.Exact, e.Mean, e.StdErr, perTerm)
		} else {
			fmt.Fprintf(out, "⟨%s⟩ = %.10f\n", obs[i].text, e.Exact)
		}
	}
	return nil
}
