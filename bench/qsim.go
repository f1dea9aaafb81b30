package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/cmplx"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qsimfile"
	"github.com/prismai/mec/sim"
)

// QsimEnv is the environment variable that names a qsim binary
// (quantumlib/qsim's qsim_base) for `mec bench` to run side by side.
const QsimEnv = "MEC_QSIM"

// QsimRun is one run of qsim's qsim_base on a circuit file: what it
// printed.
type QsimRun struct {
	// Fuse is the -f it ran with and Threads its -t.
	Fuse, Threads int
	// Seconds is qsim's own "simu time" (the gates applied to the state,
	// without reading the file or fusing).
	Seconds float64
	// Blocks is the number of fused gates qsim applied (0 when it did not
	// say).
	Blocks int
	// Amplitudes are the first amplitudes of the final state, by index.
	Amplitudes []complex128
}

// RunQsim runs the qsim_base binary bin on the qsim circuit file file with
// threads threads and maximum fused block size fuse, and returns its
// figures.
func RunQsim(ctx context.Context, bin, file string, threads, fuse int) (*QsimRun, error) {
	cmd := exec.CommandContext(ctx, bin, "-c", file, "-t", strconv.Itoa(threads), "-f", strconv.Itoa(fuse), "-v", "3")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("qsim %s -f %d: %w: %s", bin, fuse, err, strings.TrimSpace(stderr.String()))
	}
	r, err := parseQsimOutput(append(out, stderr.Bytes()...))
	if err != nil {
		return nil, fmt.Errorf("qsim %s -f %d: %w", bin, fuse, err)
	}
	r.Fuse, r.Threads = fuse, threads
	return r, nil
}

// QsimBlockWidths runs the qsim_base binary bin on file with maximum fused
// block size fuse (one thread, -v 5, which lists every fused gate's
// qubits) and returns the number of qubits of each fused gate qsim
// applies, in order.
func QsimBlockWidths(ctx context.Context, bin, file string, fuse int) ([]int, error) {
	cmd := exec.CommandContext(ctx, bin, "-c", file, "-t", "1", "-f", strconv.Itoa(fuse), "-v", "5")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("qsim %s -f %d: %w: %s", bin, fuse, err, strings.TrimSpace(stderr.String()))
	}
	w, err := parseQsimBlocks(append(out, stderr.Bytes()...))
	if err != nil {
		return nil, fmt.Errorf("qsim %s -f %d: %w", bin, fuse, err)
	}
	return w, nil
}

// parseQsimBlocks reads the "fused gate qubits:" list of qsim_base -v 5:
// after it, one line a fused gate, "TIME  q q …" (a controlled gate
// "TIME  c q … t q …", a measurement "TIME  m q …"), up to the first line
// that is not one. It returns each gate's number of target qubits (a
// controlled gate's matrix acts on its targets only, as mec's controlled
// blocks do: the controls select the amplitudes it touches), and an error
// when the list is missing, empty or a line is garbled.
func parseQsimBlocks(out []byte) ([]int, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	in := false
	var widths []int
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !in {
			in = line == "fused gate qubits:"
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			break
		}
		if _, err := strconv.ParseUint(f[0], 10, 32); err != nil {
			break // the list is over
		}
		w := 0
		for _, x := range f[1:] {
			switch x {
			case "c":
				continue
			case "t":
				w = 0 // the qubits so far were controls
				continue
			case "m":
				continue
			}
			if _, err := strconv.ParseUint(x, 10, 6); err != nil {
				return nil, fmt.Errorf("fused gate line %q: qubit %q", line, x)
			}
			w++
		}
		if w == 0 {
			return nil, fmt.Errorf("fused gate line %q: no qubits", line)
		}
		widths = append(widths, w)
	}
	if !in {
		return nil, fmt.Errorf("no fused gate list in the output (qsim -v 5)")
	}
	if len(widths) == 0 {
		return nil, fmt.Errorf("the fused gate list is empty (qsim -v 5)")
	}
	return widths, nil
}

// parseQsimOutput reads qsim_base's verbose output: "simu time is S
// seconds.", "… are fused into N gates" and the amplitude lines
// "bits: re im norm".
func parseQsimOutput(out []byte) (*QsimRun, error) {
	r := &QsimRun{Seconds: -1}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "simu time is ") && len(f) >= 4:
			s, err := strconv.ParseFloat(f[3], 64)
			if err != nil || s < 0 {
				return nil, fmt.Errorf("simulation time in %q", line)
			}
			r.Seconds = s
		case strings.Contains(line, " are fused into ") && len(f) >= 2:
			n, err := strconv.Atoi(f[len(f)-2])
			if err != nil {
				return nil, fmt.Errorf("fused gate count in %q", line)
			}
			r.Blocks = n
		case len(f) == 4 && strings.HasSuffix(f[0], ":"):
			idx, err := strconv.ParseUint(strings.TrimSuffix(f[0], ":"), 2, 8)
			re, err1 := strconv.ParseFloat(f[1], 64)
			im, err2 := strconv.ParseFloat(f[2], 64)
			if err != nil || err1 != nil || err2 != nil || int(idx) != len(r.Amplitudes) {
				return nil, fmt.Errorf("amplitude line %q", line)
			}
			r.Amplitudes = append(r.Amplitudes, complex(re, im))
		}
	}
	if r.Seconds < 0 {
		return nil, fmt.Errorf("no \"simu time is\" line in its output")
	}
	return r, nil
}

// PhaseDistance is the largest |a_i − e^{iφ} b_i| over the amplitudes a
// and b compared (the shorter length), with φ the phase that aligns the
// largest of b with a: a distance up to global phase.
func PhaseDistance(a, b []complex128) float64 {
	n := min(len(a), len(b))
	big := 0
	for i := range n {
		if cmplx.Abs(b[i]) > cmplx.Abs(b[big]) {
			big = i
		}
	}
	ph := complex128(1)
	if n > 0 && a[big] != 0 && b[big] != 0 {
		ph = a[big] / b[big]
		ph /= complex(cmplx.Abs(ph), 0)
	}
	d := 0.0
	for i := range n {
		d = max(d, cmplx.Abs(a[i]-ph*b[i]))
	}
	return d
}

// qsimFuses are the block sizes qsim runs at once each for its best;
// the reference of each figure is -f 3.
var qsimFuses = []int{2, 3, 4, 5, 6}

// qsimWorkloads runs a circuit side by side with qsim: the qsim circuit
// file path, or (path empty) the suite's random circuit written in qsim's
// format to a temporary file. bin empty runs mec alone, against the
// bandwidth bound. Each mec figure (complex64 and complex128, fuse
// sim.DefaultFuse, 4 and 5) has its ratio to qsim's -f 3 time of the same
// run, the better of the qsim runs just before and just after it (x_qsim),
// and to qsim's best over -f 2…6 and all those runs (metric x_qsim_best),
// and the distance of its first amplitudes to qsim's up to global phase.
func qsimWorkloads(be backend.Backend, sv backend.StateVector, stream Stream, bin, path string, quick bool) []workload {
	label := "random"
	if path != "" {
		label = filepath.Base(path)
	}
	return []workload{{"quantum", "qsim-circuit/" + label, be, func(ctx context.Context) ([]Figure, error) {
		c, file, cleanup, err := qsimCircuit(ctx, path, quick)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		threads := runtime.GOMAXPROCS(0)
		// qsim's best over -f 2…6 first; then, for each mec figure, qsim
		// -f 3 just before and just after it, so that the ratio compares
		// runs made under the same load.
		var best *QsimRun
		qsim := func(f int) (*QsimRun, error) {
			r, err := RunQsim(ctx, bin, file, threads, f)
			if err == nil && (best == nil || r.Seconds < best.Seconds) {
				best = r
			}
			return r, err
		}
		if bin != "" {
			for _, f := range qsimFuses {
				if _, err := qsim(f); err != nil {
					return nil, err
				}
			}
		}
		var figs []Figure
		for _, p := range []backend.Precision{backend.Complex64, backend.Complex128} {
			for _, fuse := range []int{sim.DefaultFuse, 4, 5} {
				wname := fmt.Sprintf("qsim-circuit/%s/%s/qubits=%d/fuse=%d/threads=%d", label, p, c.Qubits, fuse, threads)
				var f3 *QsimRun
				if bin != "" {
					if f3, err = qsim(3); err != nil {
						return nil, err
					}
				}
				fig, amps, err := circuitRun(ctx, sv, be.Name(), wname, c, p, fuse, stream)
				if err != nil {
					return nil, err
				}
				if bin != "" {
					after, err := qsim(3)
					if err != nil {
						return nil, err
					}
					if after.Seconds < f3.Seconds {
						f3 = after
					}
					fig.Metrics["x_stream"] = fig.Ratio
					fig.Ref = fmt.Sprintf("qsim complex64 -t %d, same run: -f 3 %.3g s (%d blocks, best of the runs just before and after); best -f %d %.3g s (%.3g x)",
						threads, f3.Seconds, f3.Blocks, best.Fuse, best.Seconds, fig.Value/best.Seconds)
					fig.Ratio, fig.RatioUnit = fig.Value/f3.Seconds, "x_qsim"
					fig.Metrics["qsim_f3_s"] = f3.Seconds
					fig.Metrics["qsim_best_s"] = best.Seconds
					fig.Metrics["qsim_best_f"] = float64(best.Fuse)
					fig.Metrics["x_qsim_best"] = fig.Value / best.Seconds
					fig.Metrics["amp_dist_qsim"] = PhaseDistance(amps, f3.Amplitudes)
				}
				figs = append(figs, fig)
			}
		}
		return figs, nil
	}}}
}

// qsimCircuit reads the qsim circuit file path, or writes the random
// circuit of the suite to a temporary one.
func qsimCircuit(ctx context.Context, path string, quick bool) (c *circuit.Circuit, file string, cleanup func(), err error) {
	cleanup = func() {}
	if path != "" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, "", cleanup, err
		}
		defer fh.Close()
		c, err := qsimfile.Parse(ctx, fh, path, 0)
		if err != nil {
			return nil, "", cleanup, err
		}
		return c, path, cleanup, nil
	}
	n := 24
	if quick {
		n = 20
	}
	c = RandomCircuit(n, 100, 1257, 1)
	fh, err := os.CreateTemp("", "mec-bench-*.qsim")
	if err != nil {
		return nil, "", cleanup, err
	}
	cleanup = func() { os.Remove(fh.Name()) }
	if err := qsimfile.Write(fh, c); err != nil {
		fh.Close()
		cleanup()
		return nil, "", func() {}, err
	}
	if err := fh.Close(); err != nil {
		cleanup()
		return nil, "", func() {}, err
	}
	return c, fh.Name(), cleanup, nil
}

// circuitRun is circuitFigure that also returns the first 8 amplitudes
// of the final state.
func circuitRun(ctx context.Context, sv backend.StateVector, name, wname string, c *circuit.Circuit, p backend.Precision, fuse int, stream Stream) (Figure, []complex128, error) {
	var amps []complex128
	fig, err := circuitTimed(ctx, sv, name, wname, c, p, fuse, stream, func(st backend.State) error {
		all := make([]complex128, int64(1)<<c.Qubits)
		if err := st.Read(all); err != nil {
			return err
		}
		amps = all[:min(8, len(all))]
		return nil
	})
	if err != nil {
		return Figure{}, nil, err
	}
	return fig, amps, nil
}
