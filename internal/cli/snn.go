package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/snn"
)

func init() { subcommands = append(subcommands, newSNNCmd) }

func newSNNCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snn",
		Short: "Spiking (LIF) network engine",
	}
	cmd.AddCommand(newSNNCUBACmd())
	return cmd
}

func newSNNCUBACmd() *cobra.Command {
	var (
		duration float64
		seed     uint64
		spikes   string
		asJSON   bool
		threads  int
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
end of the step in which the threshold was reached (Brian2 prints the start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f *os.File
			if spikes != "" {
				var err error
				if f, err = os.Create(spikes); err != nil {
					return err
				}
				defer f.Close()
			}
			opt := snn.Options{Threads: threads}
			var res *snn.CUBAResult
			var err error
			if f != nil {
				res, err = snn.RunCUBA(duration, seed, opt, f)
			} else {
				res, err = snn.RunCUBA(duration, seed, opt, nil)
			}
			if err != nil {
				return err
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return fmt.Errorf("%s: %w", spikes, err)
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			cv := "n/a"
			if res.MeanCVISI != nil {
				cv = fmt.Sprintf("%.3f", *res.MeanCVISI)
			}
			fmt.Fprintf(cmd.OutOrStdout(),
				"CUBA: %d neurons, %d synapses, %g s simulated (seed %d, %d thread(s))\n"+
					"  spikes %d, mean rate %.3f Hz, mean CV(ISI) %s, fraction active %.3f\n"+
					"  simulation loop %.3f s, wall %.3f s\n",
				res.Neurons, res.Synapses, res.DurationS, res.Seed, res.Threads,
				res.Spikes, res.MeanRateHz, cv, res.FracActive, res.SimLoopS, res.WallS)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&duration, "duration", 1.0, "biological time to simulate, in seconds")
	fl.Uint64Var(&seed, "seed", 1, "seed of connectivity and initial voltages")
	fl.StringVar(&spikes, "spikes", "", "write \"index time_ms\" lines for every spike to FILE")
	fl.BoolVar(&asJSON, "json", false, "print JSON with the keys of brian2_cuba.py")
	fl.IntVar(&threads, "threads", 0, "goroutines for the neuron update (0: automatic; results do not depend on it)")
	return cmd
}
