package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/orchestrator"
)

func init() { subcommands = append(subcommands, newRunCmd) }

// runLedgerOptions returns the ledger settings of `mec run`: checkpoints are
// signed often so that runtime checkpoints are sealed quickly.
func runLedgerOptions() ledger.Options {
	return ledger.Options{Origin: "mec.local/run", CheckpointEvery: 256, CheckpointInterval: 50 * time.Millisecond}
}

func newRunCmd() *cobra.Command {
	var (
		config    string
		ticks     int
		ledgerDir string
		asJSON    bool
		nodes     int
		seed      uint64
		repro     bool
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the integrated MEC system (the main job) and print its verification table",
		Long: `Run the MEC runtime (package orchestrator): eight modules — QuantumFusion,
ContextualGrounding, SemanticPlasticity, FederatedNodeLearning,
MetaCausality, ReflexiveFeedback, Governance, BlockchainTelemetry — ticked
over the shared state Ξ = [ψ, S, Θ, Φ, Γ]; every message signed with
ML-DSA-65 and verified on the MIPP bus; every tick appended to a signed
telemetry ledger; constitutional rules evaluated each tick, with rollback to
the last checkpoint sealed by a signed ledger checkpoint on a violation.

Without --config the built-in scenario runs (6 qubits, 64 neurons, 200 ticks,
one deliberate decoherence fault at tick 120 that governance rolls back).
--config FILE (YAML or JSON, the fields of orchestrator.Config) overlays it;
--ticks N overrides its length. The register lives on the backend chosen by
--backend (spiking and FFT work fall back to the best backend that has them).
--ledger DIR keeps the ledger there; it is verified (mec ledger verify) at
the end. Without it the ledger goes to a new temporary directory that is
removed when the run ends (a failed run keeps it, printed in its error,
without its signing key).

Besides the verification table it reports the fusion layer's learning, the
CLDF meta-optimisation (integration §7: CMA-ES on L_int = Σ‖f_i − f_j‖² +
λ_H·H_coh + λ_G·(1 − C) over the parameters of meta.params, with L_int's
terms before and after) and MetaCausality's quantum mutations of its causal
graph (causality.mutation; each one a causal-mutation ledger record);
--json prints all of it as JSON.

--seed S (or --reproducible, or reproducible: true in the scenario) makes
the run reproducible: its records carry a logical clock and no wall-clock
facts (those go to the table and the log), and the rules on wall-clock
metrics are not evaluated, so that two runs write byte-identical records —
the same ledger root. A reproducible run also ignores MEC_FFT_PLANNER (it
is removed from the environment before any backend starts, for the
federation's node processes too): measured FFT plans can differ between
machines and runs, and another order of passes rounds differently.

--federation N (or federation.nodes in the scenario) runs N real nodes on
this machine instead of one: N ` + "`mec node`" + ` processes, each with its own keys
(made by ` + "`mec node init`" + `), ledger and embedded NATS server — the first
min(N, 3) cores clustered through NATS routes, the others edges joining as
leaf nodes — learning together over TLS 1.3 with post-quantum key
exchange. --ledger DIR then holds their data directories, roster and
logs (default: a temporary folder removed when the run ends, or kept
without the nodes' private keys when it fails). The table aggregates the nodes' (the worst node per
row), and the federated drift is measured across the real nodes.

The run ends with the verification table — coherence entropy (< 0.2),
constitutional compliance (> 0.99), federated drift (< 0.05; 0 on one node),
reflexive latency (the mean governance response time, violation detected →
state restored and re-verified bit-exact, < 1 s), reflexive loop latency
(QuantumFusion → ReflexiveFeedback, < 1 s), ledger commit lag (p99 < 50 ms) — each measured
in this run; the command fails when a row fails. --json prints the summary
as JSON instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (runErr error) {
			cfg, err := orchestrator.DefaultConfig()
			if config != "" {
				cfg, err = orchestrator.LoadConfig(config)
			}
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("ticks") {
				if ticks < 1 {
					return fmt.Errorf("run: --ticks %d: want at least 1", ticks)
				}
				cfg.Ticks = ticks
			}
			if cmd.Flags().Changed("seed") {
				cfg.Seed, cfg.Reproducible = seed, true
			}
			if repro {
				cfg.Reproducible = true
			}
			if cfg.Reproducible {
				// Before the registry starts the CPU backend, which reads it.
				if err := os.Unsetenv(fft.PlannerEnv); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("federation") {
				if nodes < 1 || nodes > 64 {
					return fmt.Errorf("run: --federation %d: want 1..64 nodes", nodes)
				}
				cfg.Federation.Nodes = nodes
			}
			if cfg.Federation.Nodes > 1 {
				return runFederation(cmd, cfg, cfg.Federation.Nodes, config, ledgerDir, asJSON)
			}
			engines, err := fusion.SelectEngines(backendFlag(cmd))
			if err != nil {
				return err
			}
			eng, err := orchestrator.NewFusionEngine(cfg.FusionConfig(), engines)
			if err != nil {
				return err
			}
			temporary := ledgerDir == ""
			if temporary {
				if ledgerDir, err = os.MkdirTemp("", "mec-run-"); err != nil {
					eng.Close()
					return fmt.Errorf("run: %w", err)
				}
				// The temporary ledger is verified in this run and removed
				// when it ends (after the ledger is closed: this defer runs
				// last), so no ledger and no private key is left behind. A
				// failed run keeps it, without its signing key, for
				// inspection; its error names the folder.
				defer func() { cleanTemporary(cmd, ledgerDir, runErr != nil) }()
			}
			led, err := ledger.Open(ledgerDir, runLedgerOptions())
			if err != nil {
				eng.Close()
				return fmt.Errorf("run: %w", err)
			}
			o, err := orchestrator.New(cmd.Context(), cfg, eng, orchestrator.NewRecorder(led), 0)
			if err != nil {
				eng.Close()
				return errors.Join(err, led.Close())
			}
			stderr := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if f := terminal(stderr); f != nil && !asJSON {
				bar = progressbar.NewOptions(cfg.Ticks, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("meta-epochs"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			var notes []string
			tickErr := o.Run(cmd.Context(), cfg.Ticks, func(r *orchestrator.TickReport) {
				if bar != nil {
					_ = bar.Set(int(o.State().Tick))
				}
				if rb := r.Rollback; rb != nil {
					notes = append(notes, fmt.Sprintf("tick %d rolled back to the checkpoint of tick %d (signed tree size %d); isolated %s; ACE α=%.3g γ=%.3g\n    because: %s",
						rb.At, rb.To, rb.Sealed, orNone(rb.Isolated), rb.Alpha, rb.Gamma, strings.Join(rb.Reasons, "; ")))
				}
			})
			if bar != nil {
				_ = bar.Finish()
			}
			sum, sumErr := o.Summary()
			o.Close()
			closeErr := led.Close()
			if err := errors.Join(tickErr, sumErr, closeErr); err != nil {
				return fmt.Errorf("run: %w (ledger: %s)", err, ledgerDir)
			}
			rep, verr := ledger.Verify(ledgerDir, ledger.VerifyOptions{})
			out := cmd.OutOrStdout()
			if asJSON {
				res := map[string]any{"backend": backendNames(engines), "summary": sum, "ledger_verify": rep}
				if verr != nil {
					res["ledger_verify_error"] = verr.Error()
				}
				if err := writeJSON(out, res); err != nil {
					return err
				}
			} else {
				printRun(out, cfg, engines, sum, notes, rep, verr)
				if temporary {
					fmt.Fprintln(out, "(a temporary ledger, verified above: it is removed as the run ends unless the run fails; --ledger DIR keeps one)")
				}
			}
			switch {
			case verr != nil:
				return fmt.Errorf("run: the ledger does not verify: %w", verr)
			case !sum.Pass:
				return errors.New("run: verification failed")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "scenario file (YAML or JSON) overlaid on the built-in scenario")
	f.IntVar(&ticks, "ticks", 0, "number of meta-epochs (default: the scenario's, 200 built in)")
	f.StringVar(&ledgerDir, "ledger", "", "ledger directory (default: a new temporary directory)")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	f.Uint64Var(&seed, "seed", 0, "seed of the run's randomness (default: the scenario's); implies --reproducible")
	f.BoolVar(&repro, "reproducible", false, "a logical clock in the ledger's records and no wall-clock facts in them: two runs of one seeded scenario write the same ledger root")
	f.IntVar(&nodes, "federation", 0, "run N real nodes (N `mec node` processes federated through embedded NATS servers on this machine; default: the scenario's federation.nodes, 1)")
	return cmd
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// backendNames names the backend behind each engine.
func backendNames(e fusion.Engines) map[string]string {
	name := func(v any) string {
		if b, ok := v.(backend.Backend); ok {
			return b.Name()
		}
		return fmt.Sprintf("%T", v)
	}
	return map[string]string{"state_vector": name(e.State), "spiking": name(e.Spiking), "spectral": name(e.Spectral)}
}

func printRun(w io.Writer, cfg orchestrator.Config, engines fusion.Engines, s *orchestrator.Summary, notes []string, rep *ledger.Report, verr error) {
	bn := backendNames(engines)
	fmt.Fprintf(w, "mec run: %d meta-epochs (%d executed) in %.2f s on %s (spiking: %s, FFT: %s); %d qubits, %d features, seed %d\n",
		s.Ticks, s.Executed, s.WallSeconds, bn["state_vector"], bn["spiking"], bn["spectral"], cfg.FusionConfig().Qubits, cfg.Features, cfg.Seed)
	fmt.Fprintf(w, "bus: %d messages verified and delivered, %d rejected (forged %d, replayed %d, out of order %d, stale %d, malformed %d)\n",
		s.Bus.Delivered, s.Bus.Rejected(), s.Bus.Forged, s.Bus.Replayed, s.Bus.OutOfOrder, s.Bus.Stale, s.Bus.Malformed)
	if len(s.Rollbacks) == 0 {
		fmt.Fprintln(w, "governance: no rollback")
	}
	for _, n := range notes {
		fmt.Fprintln(w, "governance: "+n)
	}
	for _, rb := range s.Rollbacks {
		fmt.Fprintf(w, "  restored state %s… bit-exact: %v\n", rb.Restored[:16], rb.BitExact)
	}
	if k := len(s.MetaRuns); k > 0 {
		last := s.MetaRuns[k-1]
		b, a := last.TermsBefore, last.TermsAfter
		fmt.Fprintf(w, "CLDF (L_int = Σ‖f_i − f_j‖² + λ_H·H_coh + λ_G·(1 − C), λ_H %.3g, λ_G %.3g, by CMA-ES): %d runs; %v now %.4g; last run over %d recorded ticks + %d rolled-out steps: L_int %.4g → %.4g (E_div %.3g → %.3g, H_coh %.4f → %.4f, 1 − C %.4f → %.4f)\n",
			cfg.Dynamics.LambdaH, cfg.Dynamics.LambdaG, k, last.Params, last.After, last.Replay, last.Horizon,
			b.LInt, a.LInt, b.EDiv, a.EDiv, b.HCoh, a.HCoh, b.Breach, a.Breach)
	}
	l := s.Learning
	fmt.Fprintf(w, "gradient exchange (∇θ_fusion = λ_Q∇L_Q + λ_N∇L_N + λ_P∇L_P on H's coefficients, α, β, γ): %d updates, %d lowered the fused loss\n",
		l.Exchanges, l.Lowered)
	fmt.Fprintf(w, "meta-evolution (Θ ← Θ + η_Q ε_Q − η_N ∇L_N): %d mutations recorded in the ledger, ε_Q from %.0f measurement outcomes of ψ\n",
		l.Mutations, l.Outcomes)
	if _, ok := s.Final["causal_edges"]; ok {
		fmt.Fprintf(w, "meta-causality mutations (quantum ε on the causal graph's edges, kept when the BIC falls): %d proposed, %d accepted, ε from %.0f measurement outcomes of ψ; graph now %.0f of %d edges, BIC %.4g\n",
			l.CausalProposed, l.CausalAccepted, l.CausalOutcomes, s.Final["causal_edges"],
			len(orchestrator.CausalSeries())*(len(orchestrator.CausalSeries())-1), s.Final["causal_bic"])
	}
	fmt.Fprintf(w, "fusion interfaces: inject_meta_graph λ_Q %.4g, λ_N %.4g, λ_P %.4g; phase_to_semantic ‖a − f_Q‖² %.4g; monitor_entropy %.4f\n",
		s.Final["lambda_q"], s.Final["lambda_n"], s.Final["lambda_p"], s.Final["semantic_phase_div"], s.Final["monitor_entropy"])
	fmt.Fprintf(w, "quantum–neural phase entropy H_φ (integration §19's coherence entropy, not yet the table's row): max %.4f, mean %.4f over the committed ticks\n",
		s.PhaseEntropyMax, s.PhaseEntropyMean)
	if _, ok := s.Final["memory_size"]; ok {
		fmt.Fprintf(w, "memory (P_S = |S⟩⟨S| of the spike patterns): %.0f patterns stored; recall accuracy by overlap %.3f (each with %d bits flipped, every qubit rotated by R_y(%g))\n",
			s.Final["memory_size"], s.Final["memory_recall"], orchestrator.MemoryProbeFlips, orchestrator.MemoryProbeNoise)
	}
	if p := s.PSN; p.K > 0 {
		fmt.Fprintf(w, "PSN (Kuramoto array over Φ's %d phases, K %.3g): order r min %.4f, mean %.4f; phase spread max %.4f rad; MCC max_ij |d/dt(Φ_i − Φ_j)| max %.4g, mean %.4g over %d ticks\n",
			cfg.Features, p.K, p.RMin, p.RMean, p.SpreadMax, p.MCCRateMax, p.MCCRateMean, p.Ticks)
	} else {
		fmt.Fprintf(w, "PSN off (grounding.psn.k 0): Φ's order r min %.4f, mean %.4f; phase spread max %.4f rad; MCC max_ij |d/dt(Φ_i − Φ_j)| max %.4g, mean %.4g over %d ticks\n",
			p.RMin, p.RMean, p.SpreadMax, p.MCCRateMax, p.MCCRateMean, p.Ticks)
	}
	fmt.Fprintf(w, "final: H_coh %.4f, C %.3f, health %.3f, S(t) %.4f, dS/dt %+.3g, L_int %.4f, Δt %.4f\n\n",
		s.Final["h_coh"], s.Final["c"], s.Final["health"], s.Final["stability"], s.Final["dstability_dt"], s.Final["l_int"], s.Final["dt"])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tmeasured\ttarget\t\thow")
	for _, c := range s.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		v := fmt.Sprintf("%.4g", c.Value)
		if c.Unit != "" {
			v += " " + c.Unit
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, v, c.Target, mark, c.Measured)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if verr != nil {
		fmt.Fprintf(w, "ledger: %s — verification FAILED: %v\n", s.LedgerDir, verr)
		return
	}
	fmt.Fprintf(w, "ledger: %s — %d records, %d signed checkpoints, verified (chain, Merkle tree, ML-DSA-65 signatures)\n",
		s.LedgerDir, rep.Records, rep.Checkpoints)
}
