package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/internal/peers"
)

// FFTKinds are the transform kinds of the fft suite: complex in place
// ("c128", "c64") and real input, n samples to n/2+1 coefficients
// ("r2c128", "r2c64"), all forward.
var FFTKinds = []string{"c128", "c64", "r2c128", "r2c64"}

// FFTW runs the FFTW peer for one kind (see FFTKinds) on threads threads
// for the lengths 2^lg, lg in logs, and returns ns per forward transform by
// length. The peer is fftw_kinds (internal/peers/fftw, `make peer-fftw`),
// planned with FFTW_MEASURE; for "c128" the shared fftw_bench serves when
// fftw_kinds is not built.
func FFTW(kind string, threads int, logs []int) (map[int]float64, error) {
	if !slices.Contains(FFTKinds, kind) {
		return nil, fmt.Errorf("bench: FFTW kind %q (have %v)", kind, FFTKinds)
	}
	tool, err := peers.Tool("fftw_kinds")
	legacy := false
	if err != nil && kind == "c128" {
		if t, err2 := peers.Tool("fftw_bench"); err2 == nil {
			tool, err, legacy = t, nil, true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bench: FFTW %s: %w (make peer-fftw builds it)", kind, err)
	}
	m := map[int]float64{}
	for _, lg := range logs {
		args := []string{kind, strconv.Itoa(threads), strconv.Itoa(lg), strconv.Itoa(lg)}
		if legacy {
			args = args[1:]
		}
		out, err := exec.Command(tool, args...).Output()
		if err != nil {
			return nil, fmt.Errorf("bench: FFTW %s n=2^%d: %w", kind, lg, err)
		}
		if err := readFFTW(m, kind, out); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readFFTW adds the peer's JSON lines to m (n → ns per transform).
func readFFTW(m map[int]float64, kind string, out []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var rec struct {
			Kind     string  `json:"kind"`
			N        int     `json:"n"`
			NsPerFFT float64 `json:"ns_per_fft"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.N <= 0 || rec.NsPerFFT <= 0 {
			continue
		}
		if rec.Kind != kind && !(rec.Kind == "" && kind == "c128") {
			return fmt.Errorf("bench: FFTW peer answered kind %q for %q", rec.Kind, kind)
		}
		m[rec.N] = rec.NsPerFFT
	}
	return nil
}

// fftThreads returns the thread counts of the fft suite's rows: 1 and
// GOMAXPROCS on the CPU backend (whose transforms run on host threads),
// GOMAXPROCS elsewhere (a device's transform uses the device; FFTW is
// given the host's threads).
func fftThreads(be backend.Backend) []int {
	procs := runtime.GOMAXPROCS(0)
	if _, ok := be.(*cpu.Backend); ok && procs > 1 {
		return []int{1, procs}
	}
	return []int{procs}
}

// fftWorkloads: forward transforms of 2^6..2^22 points (quick: four
// lengths) of every kind the backend has, each row against FFTW on the same
// number of threads, run in the same process just before the row. Lengths
// below fft.SplitMin run on one thread whatever the count: their
// multi-thread rows are left out and a note says so. On the CPU backend
// the transforms are planned by measuring (fft.Planner, as FFTW_MEASURE
// plans FFTW's), with the per-user cache file fft.DefaultPlannerPath or,
// when it cannot be used, in memory (one line on stderr and a note say
// so); their workloads are named ".../planned/...".
func fftWorkloads(be backend.Backend, sp backend.Spectral, quick bool) (ws []workload, notes []string) {
	logs := make([]int, 0, 17)
	for lg := 6; lg <= 22; lg++ {
		logs = append(logs, lg)
	}
	if quick {
		logs = []int{6, 10, 16, 20}
	}
	rs, hasReal := sp.(backend.RealSpectral)
	var planner *fft.Planner
	if _, ok := be.(*cpu.Backend); ok {
		var err error
		planner, err = fft.OpenDefaultPlanner()
		if err != nil {
			fmt.Fprintf(os.Stderr, "mec bench: %v\n", err)
			notes = append(notes, fmt.Sprintf("fft on %s: plans measured in memory only (%v)", be.Name(), err))
		}
	}
	for _, threads := range fftThreads(be) {
		tbe, tsp, trs := be, sp, rs
		if c, ok := be.(*cpu.Backend); ok {
			cb := c.WithThreads(threads).WithFFTPlanner(planner)
			tbe, tsp, trs = cb, cb, cb
		}
		sizes := logs
		if threads > 1 && tbe.Name() == cpu.Name {
			sizes = slices.DeleteFunc(slices.Clone(logs), func(lg int) bool { return 1<<lg < fft.SplitMin })
			if len(sizes) < len(logs) {
				notes = append(notes, fmt.Sprintf("fft on %s, %d threads, n < 2^%d: too small to split, runs on 1 thread (the threads=1 rows, against FFTW on 1 thread)",
					be.Name(), threads, bitsLen(fft.SplitMin)))
			}
		}
		if len(sizes) == 0 {
			continue
		}
		for _, kind := range FFTKinds {
			real := kind[0] == 'r'
			if real && !hasReal {
				if threads == fftThreads(be)[0] {
					notes = append(notes, fmt.Sprintf("fft %s on %s: no real transforms", kind, be.Name()))
				}
				continue
			}
			p := backend.Complex128
			if kind == "c64" || kind == "r2c64" {
				p = backend.Complex64
			}
			label := "c2c/" + p.String()
			if real {
				label = "r2c/" + p.String()
			}
			if planner != nil {
				label += "/planned"
			}
			ws = append(ws, workload{"fft", fmt.Sprintf("%s/threads=%d", label, threads), be, func(ctx context.Context) ([]Figure, error) {
				ref, _ := FFTW(kind, threads, sizes) // nil when the peer is absent
				var figs []Figure
				for _, lg := range sizes {
					n := 1 << lg
					var sec float64
					var err error
					if real {
						sec, err = timeRealFFT(ctx, trs, n, p)
					} else {
						sec, err = timeFFT(ctx, tsp, n, p)
					}
					if err != nil {
						return nil, err
					}
					ns := sec * 1e9
					flops := 5 * float64(n) * float64(lg)
					if real {
						flops /= 2
					}
					f := Figure{
						Suite: "fft", Workload: fmt.Sprintf("%s/n=2^%d/threads=%d", label, lg, threads), Backend: be.Name(),
						Value: ns, Unit: "ns/fft", Better: "lower",
						Metrics: map[string]float64{"ns/fft": ns, "mflops": flops / ns * 1e3},
					}
					if r, ok := ref[n]; ok {
						what := "FFTW 3 complex"
						if real {
							what = "FFTW 3 r2c"
						}
						f.Ref = fmt.Sprintf("%s %s (FFTW_MEASURE, %d thread(s))", what, p, threads)
						f.Ratio, f.RatioUnit = ns/r, "x_fftw"
					}
					figs = append(figs, f)
				}
				return figs, nil
			}})
		}
	}
	return ws, notes
}

func bitsLen(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}

// fftInput is the signal the fft suite transforms.
func fftInput(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(0.001 * float64(i))
	}
	return x
}

// timeFFT times one forward complex transform of n points in place.
func timeFFT(ctx context.Context, sp backend.Spectral, n int, p backend.Precision) (float64, error) {
	plan, err := sp.NewFFT(n, 1, p)
	if err != nil {
		return 0, err
	}
	defer plan.Free()
	x := make([]complex128, n)
	for i, v := range fftInput(n) {
		x[i] = complex(v, math.Cos(0.003*float64(i)))
	}
	if err := plan.Load(x); err != nil {
		return 0, err
	}
	return timeReps(ctx, func() error {
		if err := plan.Forward(); err != nil {
			return err
		}
		return backend.Sync(plan)
	})
}

// timeRealFFT times one forward real transform of n samples.
func timeRealFFT(ctx context.Context, rs backend.RealSpectral, n int, p backend.Precision) (float64, error) {
	plan, err := rs.NewRealFFT(n, 1, p)
	if err != nil {
		return 0, err
	}
	defer plan.Free()
	if err := plan.LoadReal(fftInput(n)); err != nil {
		return 0, err
	}
	return timeReps(ctx, func() error {
		if err := plan.Forward(); err != nil {
			return err
		}
		return backend.Sync(plan)
	})
}

// timeReps returns the best seconds per call of f over five batches of
// calls, each batch at least 20 ms (calls of a few hundred nanoseconds are
// timed in batches, as FFTW's peer times them, not one by one). The first
// call is a warm-up.
func timeReps(ctx context.Context, f func() error) (float64, error) {
	if err := f(); err != nil {
		return 0, err
	}
	batch := func(reps int) (float64, error) {
		t := time.Now()
		for range reps {
			if err := f(); err != nil {
				return 0, err
			}
		}
		return time.Since(t).Seconds(), nil
	}
	reps := 1
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t, err := batch(reps)
		if err != nil {
			return 0, err
		}
		if t >= 0.02 {
			break
		}
		reps *= 2
	}
	best := math.Inf(1)
	for range 5 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t, err := batch(reps)
		if err != nil {
			return 0, err
		}
		best = min(best, t/float64(reps))
	}
	return best, nil
}
