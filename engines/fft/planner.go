package fft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/cpu"
)

// Planner picks, for each transform kind and length, the fastest of the
// Stockham radix orders available by timing each candidate on this machine
// (as FFTW_MEASURE does), and remembers the choice: in memory, and in a
// small JSON file when the Planner has a path. Entries are keyed by the
// machine (architecture, CPU model, the SIMD features the kernels use,
// whether the assembly kernels are built in), the element type and the
// length, so one file can serve several machines. A missing, unreadable or
// corrupt file, or an entry that does not describe a valid order for its
// length, is ignored and the transform measured again; the file is then
// rewritten (atomically, merged with entries other processes may have
// added). A Planner is safe for concurrent use; pass it to several plans
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

// WithPlanner makes NewPlan and NewRealPlan choose the radix order of the
// transform by measuring on this machine (or by pl's remembered choice);
// without it the default order is used (radix-4 passes, then one radix-2
// pass, then odd primes). Lengths that go through Bluestein's algorithm
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
// length n, and whether there is one.
func (pl *Planner) Choice(kind string, n int) ([]int, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.load()
	e, ok := pl.choices[pl.key(kind, n)]
	if !ok || !validOrder(e.Radices, n) {
		return nil, false
	}
	return slices.Clone(e.Radices), true
}

// radices returns the radix order of kind and length n: the remembered one,
// or the fastest candidate under measure (the time of one transform with
// the given radices), which is then remembered. It returns nil (the default
// order) for lengths without a Stockham factorization.
func (pl *Planner) radices(kind string, n int, measure func(radices []int) time.Duration) []int {
	base, ok := factorize(n)
	if !ok || len(base) < 2 {
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.load()
	key := pl.key(kind, n)
	if e, ok := pl.choices[key]; ok && validOrder(e.Radices, n) {
		return slices.Clone(e.Radices)
	}
	var best planEntry
	for _, c := range candidates(base) {
		d := measure(c)
		if best.Radices == nil || float64(d.Nanoseconds()) < best.Ns {
			best = planEntry{Radices: c, Ns: float64(d.Nanoseconds())}
		}
	}
	pl.choices[key] = best
	if pl.path != "" {
		pl.err = pl.save(key, best)
	}
	return slices.Clone(best.Radices)
}

func (pl *Planner) key(kind string, n int) string {
	return fmt.Sprintf("%s/%s/n=%d", pl.machine, kind, n)
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
// file atomically (a temporary file in the same folder, then a rename).
func (pl *Planner) save(key string, e planEntry) error {
	plans := readPlanFile(pl.path)
	if plans == nil {
		plans = map[string]planEntry{}
	}
	plans[key] = e
	b, err := json.MarshalIndent(planFile{Version: planFileVersion, Plans: plans}, "", "  ")
	if err != nil {
		return fmt.Errorf("fft: planner cache %s: %w", pl.path, err)
	}
	dir := filepath.Dir(pl.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".fft-plans-*.json")
	if err != nil {
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), pl.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fft: planner cache: %w", err)
	}
	return nil
}

// validOrder reports whether radices is a Stockham order of n (radices
// the engines implement, 2, 4, 16 and odd primes ≤ maxRadix, whose product
// is n) or the four-step order {fourStepOrder} of a power of two.
func validOrder(radices []int, n int) bool {
	if len(radices) == 1 && radices[0] == fourStepOrder {
		return useFourStep(n, radices)
	}
	if len(radices) == 0 {
		return false
	}
	p := 1
	for _, r := range radices {
		if r < 2 || r > maxRadix || (r != 4 && r != 16 && !isPrime(r)) || p > MaxLen/r {
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

// cpuModel returns the CPU's model name as the operating system reports it
// (Linux's cpuinfo), or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.TrimSpace(string(k)) == "model name" {
			return strings.TrimSpace(string(v))
		}
	}
	return "unknown"
}
