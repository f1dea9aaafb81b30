package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/evolve"
	"github.com/prismai/mec/internal/strict"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
)

func init() { subcommands = append(subcommands, newEvolveCmd) }

func newEvolveCmd() *cobra.Command {
	var (
		method    string
		steps     int
		maxSteps  int
		order     int
		tol       float64
		precision string
		emitQASM  string
	)
	cmd := &cobra.Command{
		Use:   "evolve SPEC.json",
		Short: "Evolve a state under a Pauli-sum Hamiltonian (QuTiP peer's JSON in and out)",
		Long: `Integrate i dψ/dt = Hψ (ħ = 1) for H = Σ coeff·P, reading the JSON of
shared/peers/qutip_evolve.py:

  {"qubits": n, "terms": [{"coeff": c, "pauli": "XZI"}], "psi0": [[re,im],...], "t": T, "keep": [k...]}

(pauli character k acts on qubit k; psi0 defaults to |0…0⟩) and printing
{"amplitudes": [[re,im],...], "rho": [[[re,im],...],...]} plus method,
steps, error_bound and terms_used. --method exact (default) uses a
Chebyshev expansion with a rigorous truncation bound; --method trotter runs
a Trotter–Suzuki circuit (--order 1, 2 or 4, --steps N) on the selected
backend. --emit-qasm FILE also writes that Trotter circuit (whatever the
method) as OpenQASM 3. --steps must be at least 1 and at most --max-steps
(default 1000000; the Trotter circuit runs a few thousand gates at a time, so
memory does not grow with it), --tol positive; SPEC.json is read only up to
64 MiB ($MEC_MAX_INPUT_BYTES). Ctrl-C stops either method within a second.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case steps < 1:
				return fmt.Errorf("--steps %d: want at least 1", steps)
			case steps > maxSteps:
				return fmt.Errorf("--steps %d: more than the limit of %d Trotter steps (raise it with --max-steps)", steps, maxSteps)
			case order != 1 && order != 2 && order != 4:
				return fmt.Errorf("--order %d: want 1, 2 or 4", order)
			case !(tol > 0) || math.IsInf(tol, 0):
				return fmt.Errorf("--tol %v: want a positive tolerance", tol)
			}
			raw, err := readInput("evolve spec", args[0])
			if err != nil {
				return err
			}
			var spec evolve.Spec
			if err := strict.JSON(raw, &spec); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			p, err := backend.ParsePrecision(precision)
			if err != nil {
				return err
			}
			if emitQASM != "" {
				if err := spec.Validate(); err != nil {
					return err
				}
				step, err := circuit.TrotterStep(spec.Terms, spec.Qubits, spec.T/float64(steps), order)
				if err != nil {
					return err
				}
				// The file is read back by mec circuit run: its gates are
				// held to the parser's operation limit.
				lim, err := (qasm.Limits{}).Effective()
				if err != nil {
					return err
				}
				if n := int64(steps) * int64(len(step.Ops)); n > int64(lim.MaxOps) {
					return fmt.Errorf("--emit-qasm: %d steps of %d gates make %d operations: more than the limit of %d (qasm Limits.MaxOps; raise it with %s)",
						steps, len(step.Ops), n, lim.MaxOps, qasm.EnvMaxOps)
				}
				c, err := circuit.Trotter(spec.Terms, spec.Qubits, spec.T, steps, order)
				if err != nil {
					return err
				}
				src, err := qasm.Export3(c)
				if err != nil {
					return err
				}
				if err := os.WriteFile(emitQASM, []byte(src), 0o644); err != nil {
					return err
				}
			}
			out, err := evolve.Run(cmd.Context(), &spec, evolve.Options{
				Method: method, Steps: steps, MaxSteps: maxSteps, Order: order, Tol: tol,
				Backend: backendFlag(cmd), Precision: p, Fuse: sim.DefaultFuse,
			})
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&method, "method", "exact", "exact (Chebyshev) or trotter")
	f.IntVar(&steps, "steps", 100, "Trotter steps (at least 1)")
	f.IntVar(&maxSteps, "max-steps", evolve.DefaultMaxSteps, "largest --steps accepted")
	f.IntVar(&order, "order", 2, "Trotter order: 1, 2 or 4")
	f.Float64Var(&tol, "tol", 1e-12, "exact method's truncation tolerance (positive)")
	f.StringVar(&precision, "precision", "c128", "Trotter amplitude precision: c64 or c128")
	f.StringVar(&emitQASM, "emit-qasm", "", "write the Trotter circuit (--steps, --order) as OpenQASM 3 to this file")
	return cmd
}
