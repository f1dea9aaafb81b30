package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/engines/snn"
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
memory); Ctrl-C stops the run within a fraction of a second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !(duration > 0) || math.IsInf(duration, 0) {
				return fmt.Errorf("--duration %v: want a positive number of seconds", duration)
			}
			if duration > maxDuration {
				return fmt.Errorf("--duration %v: more than the limit of %v s of biological time (raise it with --max-duration)", duration, maxDuration)
			}
			var f *os.File
			if spikes != "" {
				var err error
				if f, err = os.Create(spikes); err != nil {
					return err
				}
				defer f.Close()
			}
			opt := snn.Options{Threads: threads}
			var w io.Writer
			if f != nil {
				w = f
			}
			res, err := runCUBA(cmd.Context(), duration, seed, opt, w)
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

// cubaChunk is the number of network steps run between context checks
// (0.1 s of biological time, milliseconds of wall time).
const cubaChunk = 1000

// runCUBA is snn.RunCUBA with the simulation loop run cubaChunk steps at a
// time, stopping with ctx's error when it is done (package snn's runner
// takes no context); the statistics are computed as RunCUBA computes them.
func runCUBA(ctx context.Context, durationS float64, seed uint64, opt snn.Options, spikes io.Writer) (*snn.CUBAResult, error) {
	t0 := time.Now()
	sim, err := snn.CUBA(seed).Build(opt)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	mon := sim.MonitorSpikes()
	nsteps := int(math.Round(durationS * 1000 / sim.Dt()))
	t1 := time.Now()
	for done := 0; done < nsteps; done += cubaChunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("snn cuba: stopped at %.1f of %g s: %w", float64(done)*sim.Dt()/1000, durationS, err)
		}
		sim.Run(min(cubaChunk, nsteps-done))
	}
	loop := time.Since(t1).Seconds()
	wall := time.Since(t0).Seconds()
	st := mon.Stats(float64(nsteps) * sim.Dt())
	round3 := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	res := &snn.CUBAResult{
		Engine: "mec snn", Target: "cpu", Threads: sim.Threads(), Neurons: sim.N(), Synapses: sim.Synapses(),
		DurationS: durationS, Seed: seed, WallS: round3(wall), SimLoopS: loop,
		Spikes: st.Spikes, MeanRateHz: round3(st.MeanRateHz), FracActive: round3(st.FracActive),
	}
	if !math.IsNaN(st.MeanCVISI) {
		cv := round3(st.MeanCVISI)
		res.MeanCVISI = &cv
	}
	if spikes != nil {
		w := bufio.NewWriter(spikes)
		for k := range mon.Index {
			fmt.Fprintf(w, "%d %.1f\n", mon.Index[k], mon.Time(k))
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("snn: cuba: writing spikes: %w", err)
		}
	}
	return res, nil
}
