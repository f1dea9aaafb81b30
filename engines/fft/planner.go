package fft

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prismai/mec/internal/atomicfile"
	"github.com/prismai/mec/internal/sysinfo"
	"golang.org/x/sys/cpu"
)

// Planner picks, for each transform kind and length, the fastest of the
// Stockham radix orders available by timing each candidate on this machine
// (as FFTW_MEASURE does), and remembers the choice: in memory, and in a
// small JSON file when the Planner has a path. Entries are keyed by the
// machine (architecture, CPU model, the SIMD features the kernels use,
// whether the assembly kernels are built in), the version of the kernels
// (KernelVersion), the element type, the length and the number of threads
// a transform of that length uses, so one file can serve several machines
// and a kernel change makes older choices unused. A missing, unreadable or
// corrupt file, or an entry that does not describe a valid order for its
// length, is ignored and the transform measured again; the file is then
// rewritten atomically, merged with the entries other processes added
// (on Unix under an advisory lock, flock on the path plus ".lock", so that
// concurrent writers do not lose each other's entries). A Planner is safe
// for concurrent use; candidates are timed without holding its lock, so
// plans of other lengths do not wait. Pass one Planner to several plans
// with WithPlanner.
type Planner struct {
	path    string
	machine string

	mu      sync.Mutex
	loaded  bool
	choices map[string]planEntry
	err     error
}

// planEntry is one remembered choice: the radix order and its measured
// time per transform.
type planEntry struct {
	Radices []int   `json:"radices"`
	Ns      float64 `json:"ns"`
}

// planFile is the cache file's layout.
type planFile struct {
	Version int                  `json:"version"`
	Plans   map[string]planEntry `json:"plans"`
}

// planFileVersion is the cache layout's version; files of another version
// are ignored (and rewritten).
const planFileVersion = 1

// KernelVersion is the version of the transform kernels, part of every
// cache key: bump it whenever a kernel changes (engine128.go and the code
// gen.go and gen_r16.go generate from it, the assembly, the four-step and
// Stockham passes), so that choices measured with the old kernels are
// measured again.
const KernelVersion = 2

// PlannerEnv is the environment variable with which commands opt in to
// measured plans: "measure" plans their FFTs with a Planner on the per-user
// cache file (DefaultPlannerPath); unset, empty or "default" keeps the
// built-in orders. See OpenDefaultPlanner.
const PlannerEnv = "MEC_FFT_PLANNER"

// NewPlanner returns a Planner that keeps its choices in the JSON file at
// path, or only in memory when path is "". The file is read on first use.
func NewPlanner(path string) *Planner {
	return &Planner{path: path, machine: machineKey(), choices: map[string]planEntry{}}
}

// DefaultPlannerPath returns the per-user cache file of measured FFT plans:
// mec/fft-plans.json under os.UserCacheDir.
func DefaultPlannerPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fft: planner cache: %w", err)
	}
	return filepath.Join(dir, "mec", "fft-plans.json"), nil
}

// OpenDefaultPlanner returns a Planner on the per-user cache file
// (DefaultPlannerPath). When that file cannot be used (no user cache
// folder, e.g. HOME unset; a folder that cannot be created or written),
// it returns a Planner that keeps its choices in memory only, and an error
// saying why; the Planner is never nil.
func OpenDefaultPlanner() (*Planner, error) {
	path, err := DefaultPlannerPath()
	if err == nil {
		err = checkWritable(path)
	}
	if err != nil {
		return NewPlanner(""), fmt.Errorf("%w; FFT plans are measured in memory only", err)
	}
	return NewPlanner(path), nil
}

// checkWritable reports whether the cache file's folder can be created
// and its lock file written.
func checkWritable(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	return f.Close()
}

// WithPlanner makes NewPlan and NewRealPlan choose the radix order of the
// transform by measuring on this machine (or by pl's remembered choice);
// without it the default order is used (see the package doc's
// Algorithms). Lengths that go through Bluestein's algorithm
// are not planned.
func WithPlanner(pl *Planner) Option {
	return func(c *config) { c.planner = pl }
}

// Err returns the last error met writing the cache file (nil when none);
// a Planner that cannot write its file still plans, keeping its choices in
// memory.
func (pl *Planner) Err() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.err
}

// Choice returns the remembered radix order of kind ("c128" or "c64") and
// length n on threads threads (WithThreads), and whether there is one.
func (pl *Planner) Choice(kind string, n, threads int) ([]int, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.load()
	e, ok := pl.choices[pl.key(kind, n, threads)]
	if !ok || !validOrder(e.Radices, n) {
		return nil, false
	}
	return slices.Clone(e.Radices), true
}

// radices returns the radix order of kind and length n on threads
// threads: the remembered one, or the fastest candidate under measure (the
// time of one transform with the given radices), which is then remembered.
// It returns nil (the default order) for lengths without a Stockham
// factorization. The candidates are timed without holding pl.mu; when
// another goroutine remembered a choice for the same key meanwhile, that
// choice is kept.
func (pl *Planner) radices(kind string, n, threads int, measure func(radices []int) time.Duration) []int {
	base, ok := factorize(n)
	if !ok || len(base) < 2 {
		return nil
	}
	key := pl.key(kind, n, threads)
	if r, ok := pl.remembered(key, n); ok {
		return r
	}
	var best planEntry
	for _, c := range candidates(base) {
		d := measure(c)
		if best.Radices == nil || float64(d.Nanoseconds()) < best.Ns {
			best = planEntry{Radices: c, Ns: float64(d.Nanoseconds())}
		}
	}
	pl.mu.Lock()
	if e, ok := pl.choices[key]; ok && validOrder(e.Radices, n) {
		pl.mu.Unlock()
		return slices.Clone(e.Radices)
	}
	pl.choices[key] = best
	pl.mu.Unlock()
	if pl.path != "" {
		err := pl.save(key, best)
		pl.mu.Lock()
		pl.err = err
		pl.mu.Unlock()
	}
	return slices.Clone(best.Radices)
}

// remembered returns the valid remembered order of key (length n).
func (pl *Planner) remembered(key string, n int) ([]int, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.load()
	if e, ok := pl.choices[key]; ok && validOrder(e.Radices, n) {
		return slices.Clone(e.Radices), true
	}
	return nil, false
}

// key names a choice: the machine, the kernels' version, the kind, the
// length and the threads a transform of that length uses (lengths below
// SplitMin run on one thread whatever the plan's count).
func (pl *Planner) key(kind string, n, threads int) string {
	if n < SplitMin || threads < 1 {
		threads = 1
	}
	return fmt.Sprintf("%s kernels-v%d/%s/n=%d/threads=%d", pl.machine, KernelVersion, kind, n, threads)
}

// load reads the cache file once; a missing or corrupt file leaves the
// in-memory choices as they are (to be measured).
func (pl *Planner) load() {
	if pl.loaded || pl.path == "" {
		pl.loaded = true
		return
	}
	pl.loaded = true
	for k, e := range readPlanFile(pl.path) {
		if _, ok := pl.choices[k]; !ok {
			pl.choices[k] = e
		}
	}
}

// readPlanFile returns the entries of the cache file at path, or nil when
// it is missing, unreadable, corrupt or of another version.
func readPlanFile(path string) map[string]planEntry {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var f planFile
	if json.Unmarshal(b, &f) != nil || f.Version != planFileVersion {
		return nil
	}
	return f.Plans
}

// save merges key's entry into the file's current entries and replaces the
// file atomically (atomicfile.WriteFile), holding the advisory lock on
// path+".lock" (lockFile) from the read to the rename.
func (pl *Planner) save(key string, e planEntry) error {
	if err := os.MkdirAll(filepath.Dir(pl.path), 0o755); err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	unlock, err := lockFile(pl.path + ".lock")
	if err != nil {
		return fmt.Errorf("fft: planner cache %s: %w", pl.path, err)
	}
	defer unlock()
	plans := readPlanFile(pl.path)
	if plans == nil {
		plans = map[string]planEntry{}
	}
	plans[key] = e
	b, err := json.MarshalIndent(planFile{Version: planFileVersion, Plans: plans}, "", "  ")
	if err != nil {
		return fmt.Errorf("fft: planner cache %s: %w", pl.path, err)
	}
	if err := atomicfile.WriteFile(pl.path, append(b, '\n')); err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	return nil
}

// validOrder reports whether radices is a Stockham order of n (radices
// the engines implement, 2, 4, 16, odd primes ≤ maxRadix, and 8 as the
// last pass only, whose product is n) or the four-step order
// {fourStepOrder} of a power of two.
func validOrder(radices []int, n int) bool {
	if len(radices) == 1 && radices[0] == fourStepOrder {
		return useFourStep(n, radices)
	}
	if len(radices) == 0 {
		return false
	}
	p := 1
	for i, r := range radices {
		last8 := r == 8 && i == len(radices)-1
		if r < 2 || r > maxRadix || (r != 4 && r != 16 && !last8 && !isPrime(r)) || p > MaxLen/r {
			return false
		}
		p *= r
	}
	return p == n
}

func product(radices []int) int {
	p := 1
	for _, r := range radices {
		p *= r
	}
	return p
}

func isPrime(r int) bool {
	for d := 2; d*d <= r; d++ {
		if r%d == 0 {
			return false
		}
	}
	return r >= 2
}

// candidates returns the radix orders the planner times for the default
// order base (4s, then at most one 2, then odd primes ascending): base;
// the radix-2 pass moved to the front, second place, middle or end; the
// odd primes first (ascending or descending) or last descending; and, for
// a length with only 4s, one 4 split into two radix-2 passes at the ends;
// with the AVX2 kernels, the radix-4 passes after the first fused in pairs
// into radix-16 passes (with and without a radix-4 pass kept last); and for
// powers of two ≥ fourStepMin, the four-step algorithm ({fourStepOrder}).
func candidates(base []int) [][]int {
	var fours, odds []int
	two := false
	for _, r := range base {
		switch {
		case r == 4:
			fours = append(fours, r)
		case r == 2:
			two = true
		default:
			odds = append(odds, r)
		}
	}
	out := [][]int{slices.Clone(base)}
	add := func(c []int) {
		for _, o := range out {
			if slices.Equal(o, c) {
				return
			}
		}
		out = append(out, c)
	}
	withTwo := func(pos int) []int {
		c := slices.Clone(fours)
		if two {
			c = slices.Insert(c, min(pos, len(c)), 2)
		}
		return c
	}
	if two {
		for _, pos := range []int{0, 1, len(fours) / 2, len(fours)} {
			add(append(withTwo(pos), odds...))
		}
	}
	if len(odds) > 0 {
		rev := slices.Clone(odds)
		slices.Reverse(rev)
		add(append(slices.Clone(odds), withTwo(len(fours))...))
		add(append(slices.Clone(rev), withTwo(len(fours))...))
		add(append(withTwo(len(fours)), rev...))
	}
	if !two && len(odds) == 0 && len(fours) >= 2 {
		c := append([]int{2}, fours[1:]...)
		add(append(c, 2))
	}
	if n := product(base); isPow2(n) && n >= fourStepMin {
		add([]int{fourStepOrder})
	}
	if useAVX2 { // radix-16 passes (fuse16) pay with the AVX2 kernel only
		add(fuse16(base, false))
		add(fuse16(base, true))
	}
	for _, c := range slices.Clone(out) { // a radix-8 last pass (fuse8)
		if len(c) > 0 && c[0] != fourStepOrder {
			add(fuse8(c))
		}
	}
	return out
}

// timeTransform returns the best time of one call of run over three
// samples of at least 1 ms each (after one warm-up call).
func timeTransform(run func()) time.Duration {
	run()
	reps := 1
	for {
		t := time.Now()
		for range reps {
			run()
		}
		if d := time.Since(t); d >= time.Millisecond || reps >= 1<<20 {
			break
		}
		reps *= 2
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		t := time.Now()
		for range reps {
			run()
		}
		best = min(best, time.Since(t)/time.Duration(reps))
	}
	return best
}

// machineKey names this machine for the cache: the architecture, the CPU
// model (from the operating system, where it tells), the SIMD features the
// kernels use and whether the assembly kernels are built in.
func machineKey() string {
	feats := []string{}
	if runtime.GOARCH == "amd64" {
		for _, f := range []struct {
			name string
			on   bool
		}{{"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA}, {"avx512f", cpu.X86.HasAVX512F}} {
			if f.on {
				feats = append(feats, f.name)
			}
		}
	}
	kernels := "go"
	if useAVX2 {
		kernels = "avx2"
	}
	return fmt.Sprintf("%s %s [%s] kernels=%s", runtime.GOARCH, cpuModel(), strings.Join(feats, ","), kernels)
}

// cpuModel returns the CPU's model name as the operating system reports it,
// or "unknown".
func cpuModel() string {
	if m := sysinfo.CPUModel(); m != "" {
		return m
	}
	return "unknown"
}
