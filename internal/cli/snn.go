package cli

import (
	"fmt"
	"io"
	"math"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/engines/snn"
)

func init() { subcommands = append(subcommands, newSNNCmd) }

func newSNNCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snn",
		Short: "Spiking (LIF) network engine",
	}
	cmd.AddCommand(newSNNCUBACmd(), newSNNRunCmd(), newSNNConvertCmd())
	return cmd
}

func newSNNCUBACmd() *cobra.Command {
	var (
		duration    float64
		seed        uint64
		spikes      string
		asJSON      bool
		threads     int
		maxDuration float64
	)
	cmd := &cobra.Command{
		Use:   "cuba",
		Short: "Run the CUBA benchmark network (the parameters of shared/peers/brian2_cuba.py)",
		Long: `Build the CUBA benchmark network (4000 LIF neurons, 3200 excitatory and 800
inhibitory, connection probability 0.02, exact integration at dt = 0.1 ms;
exactly the parameters of shared/peers/brian2_cuba.py), simulate it for
--duration biological seconds and print the same keys as that script:
wall_s (build + run), sim_loop_s (simulation loop only), spikes,
mean_rate_hz, mean_cv_isi (neurons with at least 3 spikes) and frac_active.
--spikes FILE writes one "index time_ms" line per spike; spike times are the
end of the step in which the threshold was reached (Brian2 prints the start).
--duration is at most --max-duration (default 100 s: the spikes are kept in
memory); Ctrl-C stops the run within a fraction of a second. It runs on the
backend named by --backend or $MEC_BACKEND, which must have the spiking
capability (else it fails: no fallback), or on the best one that has it;
"target" names the backend that ran.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !(duration > 0) || math.IsInf(duration, 0) {
				return fmt.Errorf("--duration %v: want a positive number of seconds", duration)
			}
			if duration > maxDuration {
				return fmt.Errorf("--duration %v: more than the limit of %v s of biological time (raise it with --max-duration)", duration, maxDuration)
			}
			run := snnRun{durationS: duration, opt: snn.Options{Threads: threads}, backend: backendFlag(cmd), progress: terminal(cmd.ErrOrStderr())}
			res, err := runSNN(cmd.Context(), snn.CUBA(seed), run)
			if err != nil {
				return fmt.Errorf("snn cuba: %w", err)
			}
			if spikes != "" {
				if err := writeFileWith(spikes, func(w io.Writer) error { return writeSpikes(w, res.rec) }); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res.summary)
			}
			r := res.summary
			how := "requested"
			if res.auto {
				how = "automatic choice"
			}
			fmt.Fprintf(cmd.OutOrStdout(),
				"CUBA: %d neurons, %d synapses, %g s simulated (seed %d) on backend %s (%s, %d thread(s))\n"+
					"  spikes %d, mean rate %.3f Hz, mean CV(ISI) %s, fraction active %.3f\n"+
					"  simulation loop %.3f s, wall %.3f s\n",
				r.Neurons, r.Synapses, r.DurationS, r.Seed, r.Target, how, r.Threads,
				r.Spikes, r.MeanRateHz, cvText(r.MeanCVISI), r.FracActive, r.SimLoopS, r.WallS)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&duration, "duration", 1.0, "biological time to simulate, in seconds")
	fl.Float64Var(&maxDuration, "max-duration", defaultMaxCUBADuration, "largest --duration accepted, in seconds (every spike is kept in memory)")
	fl.Uint64Var(&seed, "seed", 1, "seed of connectivity and initial voltages")
	fl.StringVar(&spikes, "spikes", "", "write \"index time_ms\" lines for every spike to FILE")
	fl.BoolVar(&asJSON, "json", false, "print JSON with the keys of brian2_cuba.py")
	fl.IntVar(&threads, "threads", 0, "goroutines for the neuron update (0: automatic; results do not depend on it)")
	return cmd
}

// defaultMaxCUBADuration is the default of mec snn cuba --max-duration, in
// seconds of biological time (about 6 s of simulation loop and 100 MB of
// recorded spikes on the machine of the README).
const defaultMaxCUBADuration = 100.0
