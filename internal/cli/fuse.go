package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/prismai/mec/bench"
	"github.com/prismai/mec/devices/qpu"
	"github.com/prismai/mec/fusion"
)

func init() { subcommands = append(subcommands, newFuseCmd) }

func newFuseCmd() *cobra.Command {
	var (
		config   string
		steps    int
		maxSteps int
		asJSON   bool
		bounds   bool
		svg      string
		// QPU check of ψ (see qpuChecker below)
		quantumBackend     string
		qpuShots, qpuEvery int
	)
	cmd := &cobra.Command{
		Use:   "fuse",
		Short: "Run a Quantum–Neuromorphic Fusion simulation and print per-step metrics",
		Long: `Run the fusion layer: a register evolving under a Pauli-sum Hamiltonian
on the state-vector backend, coupled both ways to a spiking network through an
FFT, with the Adaptive Coherence Engine (see package fusion for the exact
step). --config FILE (JSON or YAML, the fields of fusion.Config; omitted
fields take the built-in scenario's values) replaces the built-in scenario;
it is validated before anything runs (dt > 0, spike_steps at most
limits.max_spike_steps, default 100000), and read only up to 64 MiB
($MEC_MAX_INPUT_BYTES). --steps is at most --max-steps (default 1000000).
Ctrl-C stops the run between fusion steps.
Prints per-step H_coh, phase difference, E_coh, r, firing rate, norm drift
and the coupling (∇ marks a gradient exchange after the step, ε_Q a
meta-evolution mutation), then the cost of each phase of a step (Trotter
passes, fold, spiking, FFT, kick, statistics), the stability of the last
step map, a line each for the gradient exchange and the meta-evolution
(count, fused loss before → after, ε_Q's measurement outcomes, Θ's final
change) and the three interfaces (inject_meta_graph's weights,
phase_to_semantic's activities, monitor_entropy), how often dH_coh/dt < 0
(fusion §13), and the spike-pattern memory (patterns stored, recall
accuracy by overlap); --json prints {"config", "steps": [...], "events":
[...], "costs": {"steps", "phases": [...]}, "stability",
"stability_criteria", "learning", "memory", "interfaces"} instead (each
phase's seconds, ms per step and bytes of state traffic per step). --bounds
then measures each phase's bound on this machine (the stream peer's in-place
bandwidth over the state's size for the passes over the state, FFTW's
transform of the same kind and length on 1 thread for the FFT, as mec bench
--suite fusion does) and reports each phase's time over it (text: "×N of
its bound"; JSON: "bound", "bound_ms", "time_over_bound" per phase, and the
whole step's over the bandwidth bound of all its passes). --svg FILE plots
H_coh, r, E_coh and the firing rate over time.
--quantum-backend qpu (configured by MEC_QPU_URL etc., see mec serve qpu)
keeps the state-vector evolution local and, at the end (and every
--qpu-every steps), prepares ψ on the QPU (circuit.PrepareState, transpiled
to the device), samples --qpu-shots shots and reports Pearson's χ² and its
p-value against |ψ|² (table lines, JSON "qpu").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := fusion.DefaultConfig()
			if config != "" {
				raw, err := readInput("fusion config", config)
				if err != nil {
					return err
				}
				if cfg, err = fusion.ParseConfig(config, raw); err != nil {
					return err
				}
			}
			if steps < 1 {
				return fmt.Errorf("--steps %d: want at least 1", steps)
			}
			if steps > maxSteps {
				return fmt.Errorf("--steps %d: more than the limit of %d fusion steps (raise it with --max-steps)", steps, maxSteps)
			}
			engines, err := fusion.SelectEngines(backendFlag(cmd))
			if err != nil {
				return err
			}
			sys, err := fusion.New(cfg, engines)
			if err != nil {
				return err
			}
			defer sys.Close()
			qc, err := newQPUChecker(quantumBackend, qpuShots)
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			if f := terminal(cmd.ErrOrStderr()); f != nil && steps >= 50 {
				bar = progressbar.NewOptions(steps, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("fusion steps"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			var (
				ms  []fusion.Metrics
				evs []fusion.Event
			)
			for i := 0; i < steps; i++ {
				if err := cmd.Context().Err(); err != nil {
					return fmt.Errorf("fuse: stopped after %d of %d steps: %w", i, steps, err)
				}
				m, ev, err := sys.Step(cmd.Context())
				if err != nil {
					return err // violations are reported in the metrics; failures stop the run
				}
				ms, evs = append(ms, m), append(evs, ev)
				if qc != nil && ((qpuEvery > 0 && (i+1)%qpuEvery == 0) || i+1 == steps) {
					if err := qc.check(cmd.Context(), i+1, sys.Psi()); err != nil {
						return err
					}
				}
				if bar != nil {
					_ = bar.Add(1)
				}
			}
			if bar != nil {
				_ = bar.Finish()
			}
			if svg != "" {
				if err := plotFusion(ms, svg); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			var stab *fusion.Stability
			if st, err := sys.Stability(); err == nil {
				stab = &st // registers of at most fusion.MaxJacobianQubits qubits
			}
			lrn, err := summariseLearning(sys, ms)
			if err != nil {
				return err
			}
			costs := sys.Costs()
			if bounds {
				costs, _ = bench.FusionBounds(costs, sys.Config().Qubits)
			}
			if asJSON {
				doc := map[string]any{"config": cfg, "steps": ms, "events": evs, "stability": stab, "costs": costs, "learning": lrn.Learning,
					"interfaces": lrn.Interfaces, "memory": lrn.Memory, "stability_criteria": lrn.Criteria}
				if qc != nil {
					doc["qpu"] = qc.checks
				}
				return writeJSON(out, doc)
			}
			defer func() {
				fmt.Fprint(out, "cost per step:")
				for _, p := range costs.Phases {
					fmt.Fprintf(out, " %s %.3g ms", p.Phase, p.MsPerStep)
					if p.TimeOverBound > 0 {
						fmt.Fprintf(out, " (×%.3g of its bound)", p.TimeOverBound)
					}
				}
				if costs.TimeOverBound > 0 {
					fmt.Fprintf(out, "; step ×%.3g of the bandwidth bound of its passes", costs.TimeOverBound)
				}
				fmt.Fprintln(out)
				if stab != nil {
					fmt.Fprintf(out, "stability of the last step map: det(J) = %.6g (positive: %v), spectral radius %.6g\n", stab.Det, stab.Positive, stab.SpectralRadius)
				}
				lrn.print(out)
			}()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "step\tH_coh\t|Δφ|\tE_coh\tr\trate Hz\tnorm drift\tα\tγ\t")
			for _, m := range ms {
				mark := ""
				if m.Recalibrated {
					mark = " ACE"
				}
				if l := m.Learning; l != nil && l.Gradient {
					mark += " ∇"
				}
				if l := m.Learning; l != nil && l.Mutated {
					mark += " ε_Q"
				}
				for k, v := range m.Violations {
					if k == 0 {
						mark += " ! "
					} else {
						mark += "; "
					}
					mark += v.String()
				}
				fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.1f\t%+.2e\t%.2f\t%.4f\t%s\n",
					m.Step, m.HCoh, m.PhaseDiff, m.ECoh, m.R, m.RateHz, m.NormDrift, m.Alpha, m.Gamma, mark)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			qc.print(out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "fusion configuration file (JSON or YAML); default: the built-in scenario")
	f.IntVar(&steps, "steps", 100, "number of fusion steps")
	f.IntVar(&maxSteps, "max-steps", defaultMaxFuseSteps, "largest --steps accepted")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&bounds, "bounds", false, "measure each phase's bound on this machine (stream, FFTW) and report its time over it")
	f.StringVar(&svg, "svg", "", "plot H_coh, r, E_coh and firing rate over time to this SVG file")
	f.StringVar(&quantumBackend, "quantum-backend", "local", "local, or qpu: also sample ψ on the QPU and χ²-test it against |ψ|² (the evolution itself stays local)")
	f.IntVar(&qpuShots, "qpu-shots", 8192, "shots per QPU check")
	f.IntVar(&qpuEvery, "qpu-every", 0, "also check ψ on the QPU every K steps (0: only after the last step)")
	return cmd
}

// defaultMaxFuseSteps is the default of mec fuse --max-steps.
const defaultMaxFuseSteps = 1_000_000

// plotFusion draws four stacked panels sharing the step axis.
func plotFusion(ms []fusion.Metrics, file string) error {
	if filepath.Ext(file) != ".svg" {
		return fmt.Errorf("--svg %s: the file name must end in .svg", file)
	}
	series := []struct {
		title string
		get   func(m fusion.Metrics) float64
	}{
		{"coherence entropy H_coh", func(m fusion.Metrics) float64 { return m.HCoh }},
		{"order parameter r", func(m fusion.Metrics) float64 { return m.R }},
		{"coherence functional E_coh", func(m fusion.Metrics) float64 { return m.ECoh }},
		{"firing rate (Hz)", func(m fusion.Metrics) float64 { return m.RateHz }},
	}
	plots := make([][]*plot.Plot, len(series))
	for i, s := range series {
		pts := make(plotter.XYs, len(ms))
		for k, m := range ms {
			pts[k] = plotter.XY{X: float64(m.Step), Y: s.get(m)}
		}
		p := plot.New()
		p.Title.Text = s.title
		p.X.Label.Text = "step"
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotColor(i)
		p.Add(l)
		plots[i] = []*plot.Plot{p}
	}
	w, h := 7*vg.Inch, 9*vg.Inch
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(series), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4)}
	canv := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canv[i][0])
	}
	fh, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// qpuCheck is one QPU check of mec fuse --quantum-backend qpu: ψ after Step
// prepared and sampled on Device, χ²-tested against |ψ|².
type qpuCheck struct {
	Step   int    `json:"step"`
	Device string `json:"device"`
	qpu.ChiSquare
}

// qpuChecker samples the fusion state on the QPU for mec fuse.
type qpuChecker struct {
	b      *qpu.Backend
	shots  int
	checks []qpuCheck
}

// newQPUChecker returns nil for the local quantum backend.
func newQPUChecker(kind string, shots int) (*qpuChecker, error) {
	switch kind {
	case "", "local":
		return nil, nil
	case "qpu":
	default:
		return nil, fmt.Errorf("--quantum-backend %q: want local or qpu", kind)
	}
	if shots < 1 {
		return nil, fmt.Errorf("--qpu-shots %d", shots)
	}
	b, err := qpu.Open()
	if err != nil {
		return nil, fmt.Errorf("--quantum-backend qpu: %w", err)
	}
	return &qpuChecker{b: b, shots: shots}, nil
}

// check samples psi after step; the step number seeds simulated devices.
func (q *qpuChecker) check(ctx context.Context, step int, psi []complex128) error {
	seed := uint64(step)
	res, err := qpu.CheckState(ctx, q.b, psi, q.shots, &seed)
	if err != nil {
		return fmt.Errorf("QPU check after step %d: %w", step, err)
	}
	q.checks = append(q.checks, qpuCheck{Step: step, Device: q.b.Device(), ChiSquare: res})
	return nil
}

// print writes one line per check; nothing for a nil checker.
func (q *qpuChecker) print(w io.Writer) {
	if q == nil {
		return
	}
	for _, c := range q.checks {
		verdict := "consistent with |ψ|²"
		if c.P < 1e-3 {
			verdict = "REJECTED at significance 0.001"
		}
		fmt.Fprintf(w, "QPU check after step %d: χ² = %.2f (%d df), p = %.4f over %d shots: %s\n", c.Step, c.Stat, c.DF, c.P, c.Shots, verdict)
	}
}
