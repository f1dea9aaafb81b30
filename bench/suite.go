package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/engines/snn"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/sim"
)

// Suites are the names of the benchmark suites, in run order.
var Suites = []string{"quantum", "fft", "snn", "fusion", "federation"}

// Figure is one measured result: the headline value of a workload on a
// backend, every metric reported for it, and its ratio to a reference (a
// physical limit such as the memory bandwidth, or a peer's time).
type Figure struct {
	Suite    string `json:"suite"`
	Workload string `json:"workload"`
	Backend  string `json:"backend"`
	// Value in Unit is the headline figure; Better says whether higher or
	// lower values are better.
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Better string  `json:"better"`
	// Metrics holds every reported metric by unit (GB/s, ms/gate, ...).
	Metrics map[string]float64 `json:"metrics"`
	// Ref names the reference and Ratio is the figure against it, oriented
	// so that 1 means "at the reference" and above 1 means better than it
	// for throughput-style ratios (x_stream) and slower than it for
	// time-style ratios (x_fftw, x_brian2, x_qsim); RatioUnit says which.
	Ref       string  `json:"ref,omitempty"`
	Ratio     float64 `json:"ratio,omitempty"`
	RatioUnit string  `json:"ratio_unit,omitempty"`
}

// Config selects what Run measures.
type Config struct {
	// Backends are the backends to run on; workloads a backend lacks the
	// capability for are skipped.
	Backends []backend.Backend
	// Suites to run (nil: all).
	Suites []string
	// Quick runs smaller sizes (under two minutes in all on 2 cores).
	Quick bool
	// Peers also runs the slow peers (Brian2's C++ standalone CUBA); the
	// fast ones (stream, fftw_bench) run whenever they are installed.
	Peers bool
	// Qsim is a qsim binary (quantumlib/qsim's qsim_base) to run side by
	// side with mec on QsimCircuit (or on the suite's random circuit,
	// written in qsim's format, when QsimCircuit is empty); empty: none.
	Qsim string
	// QsimCircuit is a qsim circuit file (such as qsim's own
	// circuits/circuit_q24) that the quantum suite also runs, against
	// qsim when Qsim is set and against the bandwidth bound.
	QsimCircuit string
	// Progress, if set, is called before each workload with the index,
	// the total and a label.
	Progress func(i, total int, label string)
}

// Report is the outcome of Run.
type Report struct {
	Time    time.Time `json:"time"`
	GOOS    string    `json:"goos"`
	GOARCH  string    `json:"goarch"`
	CPUs    int       `json:"cpus"`
	Stream  Stream    `json:"stream"`
	Quick   bool      `json:"quick"`
	Figures []Figure  `json:"figures"`
	// Skipped lists workloads not run, with the reason.
	Skipped []string `json:"skipped,omitempty"`
}

type workload struct {
	suite, name string
	be          backend.Backend
	run         func(ctx context.Context) ([]Figure, error)
}

// Run measures the selected suites on the selected backends. The memory
// bandwidth reference is measured first, in the same run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	suites := cfg.Suites
	if len(suites) == 0 {
		suites = Suites
	}
	for _, s := range suites {
		if !slices.Contains(Suites, s) {
			return nil, fmt.Errorf("bench: unknown suite %q (have %v)", s, Suites)
		}
	}
	if len(cfg.Backends) == 0 {
		return nil, errors.New("bench: no backend to run on")
	}
	rep := &Report{Time: time.Now().UTC(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Quick: cfg.Quick}
	if cfg.Progress != nil {
		cfg.Progress(0, 0, "memory bandwidth")
	}
	rep.Stream = MeasureStream()
	var ws []workload
	for _, s := range suites {
		if s == "federation" { // five nodes on loopback: once, not per backend
			ws = append(ws, federationWorkloads(cfg.Backends[0], cfg.Quick)...)
			continue
		}
		for _, be := range cfg.Backends {
			switch s {
			case "quantum":
				if sv, ok := be.(backend.StateVector); ok {
					ws = append(ws, quantumWorkloads(be, sv, rep.Stream, cfg.Quick)...)
					if cfg.Qsim != "" || cfg.QsimCircuit != "" {
						ws = append(ws, qsimWorkloads(be, sv, rep.Stream, cfg.Qsim, cfg.QsimCircuit, cfg.Quick)...)
					}
				} else {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("quantum on %s: no state-vector capability", be.Name()))
				}
			case "fft":
				if sp, ok := be.(backend.Spectral); ok {
					fws, notes := fftWorkloads(be, sp, cfg.Quick)
					ws, rep.Skipped = append(ws, fws...), append(rep.Skipped, notes...)
				} else {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("fft on %s: no spectral capability", be.Name()))
				}
			case "fusion":
				sv, ok1 := be.(backend.StateVector)
				sp, ok2 := be.(backend.Spiking)
				ft, ok3 := be.(backend.Spectral)
				if ok1 && ok2 && ok3 {
					ws = append(ws, fusionWorkloads(be, fusion.Engines{State: sv, Spiking: sp, Spectral: ft}, cfg.Quick)...)
				} else {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("fusion on %s: needs state-vector, spiking and spectral capabilities", be.Name()))
				}
			case "snn":
				if sp, ok := be.(backend.Spiking); ok {
					ws = append(ws, snnWorkloads(be, sp, cfg.Quick, cfg.Peers)...)
				} else {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("snn on %s: no spiking capability", be.Name()))
				}
			}
		}
	}
	for i, w := range ws {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if cfg.Progress != nil {
			cfg.Progress(i+1, len(ws), w.suite+"/"+w.name+" on "+w.be.Name())
		}
		figs, err := w.run(ctx)
		if err != nil {
			return rep, fmt.Errorf("bench: %s/%s on %s: %w", w.suite, w.name, w.be.Name(), err)
		}
		rep.Figures = append(rep.Figures, figs...)
	}
	return rep, nil
}

// timeIt returns the best seconds per call of f. The first call is a
// warm-up (it pays for lazy work such as a device compiling its kernels);
// when it took over half a second, one more call is the figure, else
// repeated calls for at least minDur (at least three, at most fifty).
func timeIt(ctx context.Context, minDur time.Duration, f func() error) (float64, error) {
	t0 := time.Now()
	if err := f(); err != nil {
		return 0, err
	}
	if first := time.Since(t0).Seconds(); first > 0.5 {
		t1 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		return time.Since(t1).Seconds(), nil
	}
	best := math.Inf(1)
	start := time.Now()
	for n := 0; n < 3 || time.Since(start) < minDur; n++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t).Seconds())
		if n >= 50 {
			break
		}
	}
	return best, nil
}

// quantumWorkloads: the 1-qubit gate sweep over targets, a QFT and the
// random circuit with and without fusion.
func quantumWorkloads(be backend.Backend, sv backend.StateVector, stream Stream, quick bool) []workload {
	name := be.Name()
	n, qn, rn := 24, 24, 24
	targets := make([]int, n)
	for q := range targets {
		targets[q] = q
	}
	fuses := []int{0, sim.DefaultFuse, 4}
	if quick {
		// Quick: smaller states, every figure against the bandwidth bound.
		n, qn, rn = 22, 20, 20
		targets = []int{0, 1, 5, 12, 21}
		fuses = []int{sim.DefaultFuse}
	}
	var ws []workload
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		ws = append(ws, workload{"quantum", fmt.Sprintf("gate1q/%s/qubits=%d", p, n), be, func(ctx context.Context) ([]Figure, error) {
			return gateSweep(ctx, sv, name, n, p, targets, stream)
		}})
	}
	ws = append(ws, workload{"quantum", fmt.Sprintf("qft/c128/qubits=%d", qn), be, func(ctx context.Context) ([]Figure, error) {
		return circuitFigure(ctx, sv, name, fmt.Sprintf("qft/c128/qubits=%d", qn), QFT(qn), backend.Complex128, sim.DefaultFuse, stream)
	}})
	depth, gates := 100, 1257
	c := RandomCircuit(rn, depth, gates, 1)
	for _, f := range fuses {
		wname := fmt.Sprintf("random/c64/qubits=%d/gates=%d/fuse=%d", rn, gates, f)
		ws = append(ws, workload{"quantum", wname, be, func(ctx context.Context) ([]Figure, error) {
			return circuitFigure(ctx, sv, name, wname, c, backend.Complex64, f, stream)
		}})
	}
	return ws
}

func gateSweep(ctx context.Context, sv backend.StateVector, name string, n int, p backend.Precision, targets []int, stream Stream) ([]Figure, error) {
	st, err := sv.NewState(n, p)
	if err != nil {
		return nil, err
	}
	defer st.Free()
	g := circuit.Gate{Matrix: circuit.RandomUnitary(rand.New(rand.NewPCG(1, 2)), 2)}
	bytes := 2 * float64(p.AmpBytes()) * float64(int64(1)<<n)
	var figs []Figure
	for _, q := range targets {
		g.Targets = []int{q}
		sec, err := timeIt(ctx, 200*time.Millisecond, func() error {
			if err := st.Apply(&g); err != nil {
				return err
			}
			return backend.Sync(st)
		})
		if err != nil {
			return nil, err
		}
		gbs := bytes / sec / 1e9
		figs = append(figs, Figure{
			Suite: "quantum", Workload: fmt.Sprintf("gate1q/%s/qubits=%d/target=%d", p, n, q), Backend: name,
			Value: gbs, Unit: "GB/s", Better: "higher",
			Metrics: map[string]float64{"GB/s": gbs, "ms/gate": sec * 1e3, "ns/amp": sec * 1e9 / float64(int64(1)<<n)},
			Ref:     "stream in-place read+write", Ratio: gbs / stream.InPlaceRW, RatioUnit: "x_stream",
		})
	}
	return figs, nil
}

// circuitFigure times a circuit from |0…0⟩. The reference is the memory
// bandwidth bound of the passes actually applied (each pass reads and
// writes the state once); qsim runs side by side in qsimWorkloads, never
// through a time written into code.
func circuitFigure(ctx context.Context, sv backend.StateVector, name, wname string, c *circuit.Circuit, p backend.Precision, fuse int, stream Stream) ([]Figure, error) {
	f, err := circuitTimed(ctx, sv, name, wname, c, p, fuse, stream, nil)
	if err != nil {
		return nil, err
	}
	return []Figure{f}, nil
}

// circuitTimed is circuitFigure's measurement; inspect, if set, is called
// on the final state of the last timed run, outside the timing.
func circuitTimed(ctx context.Context, sv backend.StateVector, name, wname string, c *circuit.Circuit, p backend.Precision, fuse int, stream Stream, inspect func(backend.State) error) (Figure, error) {
	s := sim.NewWith(sv, sim.Options{Precision: p, Fuse: fuse})
	applied := 0
	var last backend.State
	defer func() {
		if last != nil {
			last.Free()
		}
	}()
	sec, err := timeIt(ctx, 0, func() error {
		if last != nil { // the previous run's state, freed before the next is made
			if err := last.Free(); err != nil {
				return err
			}
			last = nil
		}
		res, err := s.Run(ctx, c)
		if err != nil {
			return err
		}
		applied, last = res.Applied, res.State
		return backend.Sync(res.State)
	})
	if err != nil {
		return Figure{}, err
	}
	if inspect != nil {
		if err := inspect(last); err != nil {
			return Figure{}, err
		}
	}
	f := Figure{
		Suite: "quantum", Workload: wname, Backend: name, Value: sec, Unit: "s/circuit", Better: "lower",
		Metrics: map[string]float64{"s/circuit": sec, "gates/s": float64(c.GateCount()) / sec, "applied": float64(applied)},
	}
	bound := float64(applied) * 2 * float64(p.AmpBytes()) * float64(int64(1)<<c.Qubits) / (stream.InPlaceRW * 1e9)
	f.Ref, f.Ratio, f.RatioUnit = "bandwidth bound of the applied passes", bound/sec, "x_stream"
	return f, nil
}

// QFT returns the n-qubit quantum Fourier transform (Hadamards, controlled
// phases and the final swaps).
func QFT(n int) *circuit.Circuit {
	c := circuit.New(n)
	c.Clbits = 0
	for q := n - 1; q >= 0; q-- {
		c.Append("h", nil, q)
		for k := q - 1; k >= 0; k-- {
			c.Append("cp", []float64{math.Pi / float64(int64(1)<<(q-k))}, k, q)
		}
	}
	for q := 0; q < n/2; q++ {
		c.Append("swap", nil, q, n-1-q)
	}
	return c
}

func snnWorkloads(be backend.Backend, sp backend.Spiking, quick, withPeers bool) []workload {
	dur := 1.0
	if quick {
		dur = 0.25
	}
	return []workload{{"snn", fmt.Sprintf("cuba/duration=%gs", dur), be, func(ctx context.Context) ([]Figure, error) {
		net, err := sp.NewNetwork(snn.CUBA(1), snn.Options{})
		if err != nil {
			return nil, err
		}
		defer net.Free()
		steps := int(math.Round(dur * 1000 / net.DtMs()))
		t0 := time.Now()
		if err := net.Run(steps); err != nil {
			return nil, err
		}
		if err := backend.Sync(net); err != nil {
			return nil, err
		}
		loop := time.Since(t0).Seconds()
		f := Figure{
			Suite: "snn", Workload: fmt.Sprintf("cuba/duration=%gs", dur), Backend: be.Name(),
			Value: loop, Unit: "s/loop", Better: "lower",
			Metrics: map[string]float64{"s/loop": loop, "neuron-steps/s": float64(net.N()) * float64(steps) / loop},
		}
		if withPeers {
			if ref, err := brian2Loop(dur); err == nil {
				f.Ref, f.Ratio, f.RatioUnit = "Brian2 C++ standalone simulation loop", loop/ref, "x_brian2"
			}
		}
		return []Figure{f}, nil
	}}}
}

// brian2Loop runs the Brian2 peer (C++ standalone) and returns its
// simulation-loop seconds.
func brian2Loop(durationS float64) (float64, error) {
	script, err := peers.Script("brian2_cuba.py")
	if err != nil {
		return 0, err
	}
	py, err := peers.Python()
	if err != nil {
		return 0, err
	}
	out, err := exec.Command(py, script, "--target", "cpp_standalone", "--duration", strconv.FormatFloat(durationS, 'g', -1, 64)).Output()
	if err != nil {
		return 0, fmt.Errorf("brian2_cuba.py: %w", err)
	}
	var r struct {
		SimLoopS float64 `json:"sim_loop_s"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.SimLoopS <= 0 {
		return 0, fmt.Errorf("brian2_cuba.py output %q: %v", out, err)
	}
	return r.SimLoopS, nil
}

// fusionWorkloads measures fusion steps per second of the default
// scenario at 16 to 26 qubits (quick: 16 and 20), with the cost of each
// phase of the step (fusion.Costs) against its bound measured in the same
// run: the memory bandwidth over a buffer of the state's size for the
// passes over the state (over a buffer of at least 32 MiB), FFTW for the
// transform.
func fusionWorkloads(be backend.Backend, eng fusion.Engines, quick bool) []workload {
	sizes := []int{16, 18, 20, 22, 24, 26}
	if quick {
		sizes = []int{16, 20}
	}
	var ws []workload
	for _, n := range sizes {
		name := fmt.Sprintf("steps/qubits=%d", n)
		ws = append(ws, workload{"fusion", name, be, func(ctx context.Context) ([]Figure, error) {
			cfg := fusion.DefaultConfig()
			cfg.Qubits, cfg.Hamiltonian = n, fusion.DefaultHamiltonian(n)
			cfg.Limits.Resonance, cfg.Limits.VCapMV = 10, 1e9 // measure speed, not limits
			cfg.Learning = fusion.Learning{}                  // learning runs on at most fusion.MaxLearningQubits
			sys, err := fusion.New(cfg, eng)
			if err != nil {
				return nil, err
			}
			defer sys.Close()
			if _, _, err := sys.Step(ctx); err != nil { // warm-up
				return nil, err
			}
			sys.ResetCosts()
			t0 := time.Now()
			for k := 0; k < 2 || (k < 50 && time.Since(t0) < 300*time.Millisecond); k++ {
				if _, _, err := sys.Step(ctx); err != nil {
					return nil, err
				}
			}
			costs := sys.Costs()
			sec := time.Since(t0).Seconds() / float64(costs.Steps)
			costs, stream := FusionBounds(costs, n)
			return fusionFigures(be.Name(), name, sec, costs, stream), nil
		}})
	}
	return ws
}

// FusionBounds returns a fusion run's cost breakdown with each phase's
// bound measured now (fusion.Costs.WithBounds): the in-place bandwidth
// over a buffer of the qubits' complex128 state (at least 32 MiB: over
// smaller buffers the stream peer times its threads' start-up) for the
// passes over the state, and FFTW's same kind on 1 thread for the
// transform (no bound for the transform when FFTW is not installed or the
// length is not a power of two). mec bench and mec fuse --bounds report
// it.
func FusionBounds(costs fusion.Costs, qubits int) (fusion.Costs, Stream) {
	stream := MeasureStreamBytes(max(backend.StateBytes(qubits, backend.Complex128), 32<<20))
	fftNs := func(kind string, n int) (float64, string) {
		if n&(n-1) != 0 {
			return 0, ""
		}
		ref, err := FFTW(kind, 1, []int{bitsLen(n)})
		if err != nil {
			return 0, ""
		}
		return ref[n], fmt.Sprintf("FFTW 3 %s n=2^%d (FFTW_MEASURE, 1 thread)", kind, bitsLen(n))
	}
	return costs.WithBounds(stream.InPlaceRW*1e9, fftNs), stream
}

// fusionFigures turns a measured fusion step into its figures: steps/s
// against the bandwidth bound of all the step's passes, and one figure
// per phase against its own bound (none for the neuron-sized phases);
// costs carries the bounds (FusionBounds). Ratios follow Figure's
// orientation (x_stream: the bound's time over the phase's, x_fftw: the
// phase's over FFTW's); the metric time/bound is the phase's time over
// its bound either way.
func fusionFigures(be, name string, sec float64, costs fusion.Costs, stream Stream) []Figure {
	step := Figure{Suite: "fusion", Workload: name, Backend: be, Value: 1 / sec, Unit: "steps/s", Better: "higher",
		Metrics: map[string]float64{"steps/s": 1 / sec, "ms/step": sec * 1e3, "bound_ms": costs.BoundMs},
		Ref:     fmt.Sprintf("bandwidth bound of the step's passes (%s over %d MiB)", stream.Source, stream.BufferMiB)}
	if costs.BoundMs > 0 {
		step.Ratio, step.RatioUnit = costs.BoundMs/(sec*1e3), "x_stream"
		step.Metrics["time/bound"] = sec * 1e3 / costs.BoundMs
	}
	figs := []Figure{step}
	for _, p := range costs.Phases {
		ms := p.MsPerStep
		f := Figure{Suite: "fusion", Workload: name + "/phase=" + p.Phase, Backend: be, Value: ms, Unit: "ms/step", Better: "lower",
			Metrics: map[string]float64{"ms/step": ms, "share": ms / (sec * 1e3)}}
		if p.BoundMs > 0 && ms > 0 {
			f.Metrics["bound_ms"], f.Metrics["time/bound"] = p.BoundMs, p.TimeOverBound
			switch {
			case p.BytesPerStep > 0:
				f.Metrics["GB/s"] = p.BytesPerStep / ms / 1e6
				f.Metrics["passes"] = float64(p.Passes)
				f.Ref = p.Bound
				f.Ratio, f.RatioUnit = 1/p.TimeOverBound, "x_stream"
			case p.Phase == fusion.PhaseFFT:
				f.Ref = p.Bound
				f.Ratio, f.RatioUnit = p.TimeOverBound, "x_fftw"
			}
		}
		figs = append(figs, f)
	}
	return figs
}
