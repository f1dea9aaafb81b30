// Package cpu is mec's CPU backend: always present, and the reference every
// other backend is tested against. It registers itself as "cpu".
//
// Layer: compute library (a backend). It may import backend, circuit and the
// CPU engines (engines/...); never another backend, a device, the runtime or
// the commands.
//
// States are Go slices of complex128 or complex64 on the host; every kernel
// runs in parallel over GOMAXPROCS goroutines (or Options.Threads), and every
// reduction sums fixed-size blocks in a fixed order, so results are
// bit-identical whatever the thread count. The hot 1-qubit loop has an
// AVX2/FMA assembly version on amd64, with the pure-Go loop as its twin
// under the build tag purego.
//
// FFTs use the built-in radix orders of engines/fft unless the backend has
// an Options.FFTPlanner. The registered backend gets one from the
// environment variable MEC_FFT_PLANNER (fft.PlannerEnv, read once, when
// the registry initialises the backend): "measure" plans each length by
// timing its candidate orders on this machine, remembered in the per-user
// cache file fft.DefaultPlannerPath (mec/fft-plans.json under the user
// cache folder), or in memory with one line on stderr when that folder is
// unavailable; unset, empty or "default" keeps the built-in orders. The
// built-in orders are the default because measured choices can differ
// between machines and runs, and a different order rounds differently.
package cpu

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/internal/sysinfo"
	"golang.org/x/sys/cpu"
)

// Name is the registered backend name.
const Name = "cpu"

func init() { backend.Register(driver{}) }

type driver struct{}

func (driver) Name() string  { return Name }
func (driver) Priority() int { return 0 }
func (driver) Init() (backend.Backend, error) {
	return New(Options{FFTPlanner: PlannerFromEnv(os.Getenv(fft.PlannerEnv), os.Stderr)}), nil
}

// PlannerFromEnv returns the FFT planner that the value of MEC_FFT_PLANNER
// (fft.PlannerEnv) asks for: nil (the built-in orders) for "" or
// "default"; for "measure", a planner on the per-user cache file
// (fft.OpenDefaultPlanner), or in memory when that file cannot be used.
// It never fails: the fallback, or a value it does not know (then nil),
// is said in one line on warn.
func PlannerFromEnv(value string, warn io.Writer) *fft.Planner {
	switch value {
	case "", "default":
		return nil
	case "measure":
		pl, err := fft.OpenDefaultPlanner()
		if err != nil {
			fmt.Fprintf(warn, "mec: %s=measure: %v\n", fft.PlannerEnv, err)
		}
		return pl
	}
	fmt.Fprintf(warn, "mec: %s=%q: want \"measure\" or \"default\"; using the built-in FFT plans\n", fft.PlannerEnv, value)
	return nil
}

// Options configures a CPU backend.
type Options struct {
	// Threads is the number of goroutines kernels use; 0 means GOMAXPROCS.
	Threads int
	// MemLimit caps the bytes one state may take; 0 means the memory
	// available on this machine (MemAvailable, or the cgroup limit if lower).
	MemLimit int64
	// ChunkBytes is the size of the chunks a state applies runs of gates
	// on low qubits to (cache blocking, State.ApplyBatch): about a core's
	// L2 cache. 0 means a core's share of the L2 cache as the system
	// reports it (sysinfo.L2Bytes, kept within 256 KiB–8 MiB; 1 MiB where
	// it does not say; a state's chunks hold the largest power of two of
	// amplitudes that fits); a negative value turns blocking off.
	ChunkBytes int
	// FFTPlanner, when set, plans the backend's FFTs (complex and real) by
	// measuring the candidate algorithms of each length on this machine
	// and remembering the choice (fft.NewPlanner; fft.DefaultPlannerPath
	// is the per-user cache file). nil uses the default order of passes.
	FFTPlanner *fft.Planner
}

// Backend is the CPU backend. It implements backend.StateVector.
type Backend struct {
	opts  Options
	chunk int // the chunk bytes of ChunkBytes = 0 (chunkBytes of a core's L2 cache)
}

// New returns a CPU backend with the given options.
func New(o Options) *Backend { return &Backend{opts: o, chunk: chunkBytes(sysinfo.L2Bytes())} }

// WithThreads returns a backend with the same options on threads goroutines
// (0: GOMAXPROCS).
func (b *Backend) WithThreads(threads int) *Backend {
	o := b.opts
	o.Threads = max(threads, 0)
	return &Backend{opts: o, chunk: b.chunk}
}

// WithFFTPlanner returns a backend with the same options whose FFTs are
// planned by pl (nil: the built-in orders).
func (b *Backend) WithFFTPlanner(pl *fft.Planner) *Backend {
	o := b.opts
	o.FFTPlanner = pl
	return &Backend{opts: o, chunk: b.chunk}
}

// FFTPlanner returns the backend's FFT planner, nil when it uses the
// built-in orders.
func (b *Backend) FFTPlanner() *fft.Planner { return b.opts.FFTPlanner }

// Name returns "cpu".
func (b *Backend) Name() string { return Name }

// Device describes the processor, thread count and kernels.
func (b *Backend) Device() string {
	feats := []string{}
	if cpu.X86.HasAVX2 {
		feats = append(feats, "AVX2")
	}
	if cpu.X86.HasFMA {
		feats = append(feats, "FMA")
	}
	f := ""
	if len(feats) > 0 {
		f = ", " + strings.Join(feats, "+")
	}
	return fmt.Sprintf("%s, %d threads%s, kernels: %s", cpuModel(), b.workers(), f, kernelName())
}

// Close does nothing.
func (b *Backend) Close() error { return nil }

func (b *Backend) workers() int {
	if b.opts.Threads > 0 {
		return b.opts.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// NewState allocates |0…0⟩ on n qubits, refusing before allocation a state
// larger than the memory limit.
func (b *Backend) NewState(n int, p backend.Precision) (backend.State, error) {
	if n < 0 || n > 40 {
		return nil, fmt.Errorf("cpu: %d qubits: want 0..40", n)
	}
	need := backend.StateBytes(n, p)
	limit := b.opts.MemLimit
	if limit == 0 {
		limit = AvailableMemory()
	}
	if limit > 0 && need > limit {
		return nil, fmt.Errorf("cpu: a %d-qubit %s state needs %s but only %s is available", n, p, humanBytes(need), humanBytes(limit))
	}
	switch p {
	case backend.Complex128:
		return newState[complex128](b, n), nil
	case backend.Complex64:
		return newState[complex64](b, n), nil
	}
	return nil, fmt.Errorf("cpu: unknown precision %v", p)
}

// AvailableMemory returns the bytes this process can still allocate: the
// kernel's MemAvailable, or the cgroup v2 limit minus usage if lower; 0 if
// neither can be read.
func AvailableMemory() int64 {
	var avail int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) >= 2 && fs[0] == "MemAvailable:" {
				if kb, err := strconv.ParseInt(fs[1], 10, 64); err == nil {
					avail = kb << 10
				}
			}
		}
		f.Close()
	}
	if lim, err := readInt("/sys/fs/cgroup/memory.max"); err == nil && lim > 0 {
		if use, err := readInt("/sys/fs/cgroup/memory.current"); err == nil && (avail == 0 || lim-use < avail) {
			avail = lim - use
		}
	}
	return avail
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

func cpuModel() string {
	if m := sysinfo.CPUModel(); m != "" {
		return m
	}
	return runtime.GOARCH
}

// FreeLowQubits reports how many of the lowest qubits the assembly dense
// kernels need free of targets and controls: none, since the lane kernels
// (lowPlan) apply dense gates on the qubits a vector spans in place.
func (b *Backend) FreeLowQubits(p backend.Precision) int { return 0 }
