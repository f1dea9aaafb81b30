package cli

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/bench"
)

func init() { subcommands = append(subcommands, newBenchCmd) }

func newBenchCmd() *cobra.Command {
	var (
		suite    string
		quick    bool
		withPeer bool
		jsonFile string
		svgFile  string
		goFile   string
		qsimBin  string
		qsimFile string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run the standard workloads on every loaded backend, with ratios to physical limits and peers",
		Long: `Run mec's standard workloads — the 1-qubit gate sweep over target qubits,
a QFT and the 24-qubit random circuit with and without fusion (quantum), FFT
sizes (fft), the CUBA network (snn), fusion steps at 16–24 qubits (fusion) — on every loaded backend (--backend all,
the default) or one (--backend NAME), and print a table with each figure's
ratio to its reference: the memory bandwidth measured in the same run
(x_stream, higher is better), FFTW (x_fftw) or Brian2
(x_brian2, with --peers) (times: lower is better).

On the CPU backend the fft suite plans its transforms by measuring, as
FFTW_MEASURE plans FFTW's (rows named .../planned/...), and remembers the
choices in the per-user cache file mec/fft-plans.json under the user cache
folder — in memory only, with one line on stderr, when that folder cannot
be used. Other commands use the built-in plans unless MEC_FFT_PLANNER=measure.

--qsim PATH (or $MEC_QSIM) runs a qsim_base binary (quantumlib/qsim) side
by side on the same circuit: the qsim file --qsim-circuit FILE, or the
random circuit written in qsim's format; each mec figure (complex64 and
complex128) gets its ratio to qsim's -f 3 time of the same run (x_qsim) and
to qsim's best over -f 2…6, on GOMAXPROCS threads for both.

--json FILE writes the full report, --svg FILE plots the gate sweep (GB/s
per target qubit against the stream bandwidth), --go-bench FILE writes the
figures in Go benchmark format (benchstat reads it; units carry
better=higher/lower metadata). --quick runs smaller sizes (under two minutes
on 2 cores).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bes, err := benchBackends(backendFlag(cmd))
			if err != nil {
				return err
			}
			var suites []string
			if suite != "all" && suite != "" {
				suites = strings.Split(suite, ",")
			}
			errOut := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if qsimBin == "" {
				qsimBin = os.Getenv(bench.QsimEnv)
			}
			cfg := bench.Config{Backends: bes, Suites: suites, Quick: quick, Peers: withPeer, Qsim: qsimBin, QsimCircuit: qsimFile}
			if terminal(errOut) != nil {
				cfg.Progress = func(i, total int, label string) {
					if total == 0 {
						fmt.Fprintln(errOut, "measuring memory bandwidth…")
						return
					}
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(errOut),
							progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
					}
					bar.Describe(label)
					_ = bar.Set(i - 1)
				}
			}
			rep, err := bench.Run(cmd.Context(), cfg)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := writeBenchTable(out, rep); err != nil {
				return err
			}
			if jsonFile != "" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(jsonFile, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			if goFile != "" {
				var sb strings.Builder
				writeGoBench(&sb, rep)
				if err := os.WriteFile(goFile, []byte(sb.String()), 0o644); err != nil {
					return err
				}
			}
			if svgFile != "" {
				if err := plotGateSweep(rep, svgFile); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&suite, "suite", "all", "suites to run: quantum, fft, snn, fusion (comma-separated) or all")
	f.BoolVar(&quick, "quick", false, "smaller sizes: under two minutes on 2 cores")
	f.BoolVar(&withPeer, "peers", false, "also run the slow peers (Brian2 C++ standalone) for ratios")
	f.StringVar(&jsonFile, "json", "", "write the report as JSON to this file")
	f.StringVar(&svgFile, "svg", "", "plot the gate sweep as SVG to this file")
	f.StringVar(&goFile, "go-bench", "", "write the figures in Go benchmark format to this file")
	f.StringVar(&qsimBin, "qsim", "", "a qsim_base binary to run side by side on the same circuit (default $"+bench.QsimEnv+")")
	f.StringVar(&qsimFile, "qsim-circuit", "", "a qsim circuit file (e.g. qsim's circuits/circuit_q24) for the quantum suite to run, against --qsim when given")
	return cmd
}

// benchBackends returns every loaded backend for "" or "all", else the named one.
func benchBackends(name string) ([]backend.Backend, error) {
	if name != "" && name != "all" {
		b, err := backend.Select(name)
		if err != nil {
			return nil, err
		}
		return []backend.Backend{b}, nil
	}
	var out []backend.Backend
	for _, r := range backend.Init() {
		if r.Status == backend.Loaded {
			b, err := backend.Select(r.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func writeBenchTable(w io.Writer, rep *bench.Report) error {
	fmt.Fprintf(w, "memory bandwidth: %s\n", rep.Stream)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUITE\tWORKLOAD\tBACKEND\tVALUE\tRATIO\tREFERENCE")
	for _, f := range rep.Figures {
		ratio := "-"
		if f.RatioUnit != "" {
			ratio = fmt.Sprintf("%.3g %s", f.Ratio, f.RatioUnit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g %s\t%s\t%s\n", f.Suite, f.Workload, f.Backend, f.Value, f.Unit, ratio, f.Ref)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", s)
	}
	return nil
}

// writeGoBench writes the figures as Go benchmark result lines, preceded by
// unit metadata lines saying which direction is better.
func writeGoBench(w io.Writer, rep *bench.Report) {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/prismai/mec/bench\n", rep.GOOS, rep.GOARCH)
	better := map[string]string{}
	for _, f := range rep.Figures {
		name := "Benchmark" + strings.ToUpper(f.Suite[:1]) + f.Suite[1:] + "/" + f.Workload + "/backend=" + f.Backend
		fmt.Fprintf(w, "%s\t1", name)
		units := make([]string, 0, len(f.Metrics))
		for u := range f.Metrics {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			fmt.Fprintf(w, "\t%g %s", f.Metrics[u], u)
			better[u] = unitBetter(u)
		}
		if f.RatioUnit != "" {
			fmt.Fprintf(w, "\t%g %s", f.Ratio, f.RatioUnit)
			better[f.RatioUnit] = unitBetter(f.RatioUnit)
		}
		fmt.Fprintln(w)
	}
	units := make([]string, 0, len(better))
	for u := range better {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		fmt.Fprintf(w, "Unit %s better=%s\n", u, better[u])
	}
}

func unitBetter(u string) string {
	switch u {
	case "GB/s", "gates/s", "mflops", "x_stream", "steps/s":
		return "higher"
	}
	return "lower"
}

// plotGateSweep plots GB/s against the target qubit for each backend and
// precision, with the stream bandwidth as a reference line.
func plotGateSweep(rep *bench.Report, file string) error {
	series := map[string]plotter.XYs{}
	var keys []string
	maxQ := 0.0
	for _, f := range rep.Figures {
		if f.Suite != "quantum" || !strings.HasPrefix(f.Workload, "gate1q/") {
			continue
		}
		var prec string
		var n, q int
		if _, err := fmt.Sscanf(f.Workload, "gate1q/%4s/qubits=%d/target=%d", &prec, &n, &q); err != nil {
			continue
		}
		key := fmt.Sprintf("%s %s (%d qubits)", f.Backend, prec, n)
		if _, ok := series[key]; !ok {
			keys = append(keys, key)
		}
		series[key] = append(series[key], plotter.XY{X: float64(q), Y: f.Value})
		maxQ = max(maxQ, float64(q))
	}
	if len(keys) == 0 {
		return fmt.Errorf("--svg: no gate sweep in this run (run the quantum suite)")
	}
	p := plot.New()
	p.Title.Text = "1-qubit gate bandwidth by target qubit"
	p.X.Label.Text = "target qubit"
	p.Y.Label.Text = "GB/s (state read + written)"
	p.Y.Min = 0
	for i, k := range keys {
		l, err := plotter.NewLine(series[k])
		if err != nil {
			return err
		}
		l.Color = plotColor(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(k, l)
	}
	ref := plotter.NewFunction(func(float64) float64 { return rep.Stream.InPlaceRW })
	ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(ref)
	p.Legend.Add(fmt.Sprintf("stream in-place %.1f GB/s", rep.Stream.InPlaceRW), ref)
	p.X.Min, p.X.Max = 0, maxQ
	p.Y.Max = rep.Stream.InPlaceRW * 1.25
	p.Legend.Top = false
	return p.Save(7*vg.Inch, 4*vg.Inch, file)
}

func plotColor(i int) color.Color {
	palette := []color.RGBA{{0x1f, 0x77, 0xb4, 255}, {0xd6, 0x27, 0x28, 255}, {0x2c, 0xa0, 0x2c, 255},
		{0xff, 0x7f, 0x0e, 255}, {0x94, 0x67, 0xbd, 255}, {0x8c, 0x56, 0x4b, 255}}
	return palette[i%len(palette)]
}
