package fft

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// plannerSizes are lengths with several candidate orders: odd and even
// powers of two, mixed radix with odd primes, and a prime (no candidates).
func plannerSizes() []int {
	return []int{8, 16, 32, 64, 128, 512, 1024, 2048, 4096, 1000, 3 * 512, 5 * 7 * 16, 97}
}

// TestCandidatesMatchDFT checks every radix order the planner may choose,
// forward and inverse, in and out of place, complex128 and complex64,
// against the direct DFT: whatever the measurement picks, the transform is
// right.
func TestCandidatesMatchDFT(t *testing.T) {
	r := newRNG()
	for _, n := range plannerSizes() {
		base, ok := factorize(n)
		if !ok {
			continue
		}
		x := randVec(r, n)
		want := dft(x)
		x64 := to64(x)
		for _, c := range candidates(base) {
			if !validOrder(c, n) {
				t.Fatalf("n=%d: candidate %v is not an order of n", n, c)
			}
			e := newCplan128(n, c)
			got := make([]complex128, n)
			e.transform(got, x, false, 1)
			if err := relErr(got, want); err > tolDFT128*logn(n) {
				t.Errorf("c128 n=%d radices %v: forward vs DFT %.3g", n, c, err)
			}
			inplace := append([]complex128(nil), x...)
			e.transform(inplace, inplace, false, 1)
			if err := relErr(inplace, got); err != 0 {
				t.Errorf("c128 n=%d radices %v: in place differs from out of place by %.3g", n, c, err)
			}
			e.transform(got, got, true, 1)
			if err := relErr(got, x); err > tolDFT128*logn(n) {
				t.Errorf("c128 n=%d radices %v: round trip %.3g", n, c, err)
			}
			e64 := newCplan64(n, c)
			g64 := make([]complex64, n)
			e64.transform(g64, x64, false, 1)
			if err := relErr(from64(g64), want); err > tolDFT64*logn(n) {
				t.Errorf("c64 n=%d radices %v: forward vs DFT %.3g", n, c, err)
			}
			in64 := append([]complex64(nil), x64...)
			e64.transform(in64, in64, false, 1)
			if err := relErr(from64(in64), from64(g64)); err != 0 {
				t.Errorf("c64 n=%d radices %v: in place differs from out of place by %.3g", n, c, err)
			}
		}
	}
}

// TestPlannedPlansMatchDFT checks plans made with a (memory-only) planner,
// complex and real, against the direct DFT.
func TestPlannedPlansMatchDFT(t *testing.T) {
	pl := NewPlanner("")
	r := newRNG()
	for _, n := range plannerSizes() {
		x := randVec(r, n)
		want := dft(x)
		p := mustPlan[complex128](t, n, WithPlanner(pl))
		got := make([]complex128, n)
		if err := p.Forward(got, x); err != nil {
			t.Fatal(err)
		}
		if e := relErr(got, want); e > tolDFT128*logn(n) {
			t.Errorf("planned c128 n=%d: %.3g", n, e)
		}
		p64 := mustPlan[complex64](t, n, WithPlanner(pl))
		g64 := make([]complex64, n)
		if err := p64.Forward(g64, to64(x)); err != nil {
			t.Fatal(err)
		}
		if e := relErr(from64(g64), dft(from64(to64(x)))); e > tolDFT64*logn(n) {
			t.Errorf("planned c64 n=%d: %.3g", n, e)
		}
		if n > 1024 {
			continue // the direct DFT of the real check costs (2n)²
		}
		xr := realVec(r, 2*n)
		xc := make([]complex128, 2*n)
		for i, v := range xr {
			xc[i] = complex(v, 0)
		}
		rp, err := NewRealPlan[float64, complex128](2*n, WithPlanner(pl))
		if err != nil {
			t.Fatal(err)
		}
		gr := make([]complex128, n+1)
		if err := rp.Forward(gr, xr); err != nil {
			t.Fatal(err)
		}
		if e := relErr(gr, dft(xc)[:n+1]); e > tolDFT128*logn(2*n) {
			t.Errorf("planned real n=%d: %.3g", 2*n, e)
		}
	}
	if _, ok := pl.Choice("c128", 64, 1); !ok {
		t.Error("planner remembers no choice for c128 n=64")
	}
	if _, ok := pl.Choice("c128", 97, 1); ok {
		t.Error("planner has a choice for the prime 97 (Bluestein, not planned)")
	}
}

// TestPlannerCacheFile checks that a choice survives in the file (a second
// planner does not measure), and that a corrupt file, a file of another
// version and an invalid entry are ignored and measured again, the file
// then rewritten valid.
func TestPlannerCacheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "plans.json")
	count := func(calls *int) func([]int) time.Duration {
		return func(r []int) time.Duration {
			*calls++
			return time.Duration(len(r)) // fewest passes wins
		}
	}
	var calls int
	got := NewPlanner(path).radices("c128", 2048, 1, count(&calls))
	if calls < 2 || !validOrder(got, 2048) {
		t.Fatalf("first planner: %d measurements, order %v", calls, got)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("cache file not written: %v", err)
	}
	pl2 := NewPlanner(path)
	again := pl2.radices("c128", 2048, 1, func([]int) time.Duration {
		t.Fatal("second planner measured a remembered length")
		return 0
	})
	if !slices.Equal(again, got) {
		t.Errorf("remembered %v, chose %v", again, got)
	}
	if _, ok := pl2.Choice("c64", 2048, 1); ok {
		t.Error("a c128 choice answered for c64")
	}

	bad := map[string][]byte{
		"corrupt":       []byte("{not json"),
		"other version": []byte(`{"version": 99, "plans": {}}`),
	}
	var f planFile
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("cache file is not JSON: %v", err)
	}
	for k, e := range f.Plans {
		e.Radices = []int{4, 4, 4} // product 64, not 2048
		f.Plans[k] = e
	}
	b, _ = json.Marshal(f)
	bad["invalid entry"] = b
	for name, content := range bad {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		calls = 0
		pl := NewPlanner(path)
		r := pl.radices("c128", 2048, 1, count(&calls))
		if calls == 0 || !validOrder(r, 2048) {
			t.Errorf("%s file: %d measurements, order %v", name, calls, r)
		}
		if err := pl.Err(); err != nil {
			t.Errorf("%s file: rewrite: %v", name, err)
		}
		if _, ok := NewPlanner(path).Choice("c128", 2048, 1); !ok {
			t.Errorf("%s file: not rewritten with a valid choice", name)
		}
	}
}

// TestPlannerUnwritable checks that a planner whose file cannot be written
// still plans (in memory) and reports the error.
func TestPlannerUnwritable(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "file")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pl := NewPlanner(filepath.Join(block, "plans.json")) // a folder that is a file
	p, err := NewPlan[complex128](256, WithPlanner(pl))
	if err != nil {
		t.Fatal(err)
	}
	x := randVec(newRNG(), 256)
	got := make([]complex128, 256)
	if err := p.Forward(got, x); err != nil {
		t.Fatal(err)
	}
	if e := relErr(got, dft(x)); e > tolDFT128*logn(256) {
		t.Errorf("planned n=256: %.3g", e)
	}
	if pl.Err() == nil {
		t.Error("no error reported for an unwritable cache file")
	}
}

// TestPlannerConcurrent makes plans of a few lengths from several
// goroutines sharing one planner and file.
func TestPlannerConcurrent(t *testing.T) {
	pl := NewPlanner(filepath.Join(t.TempDir(), "plans.json"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			n := []int{64, 128, 256, 512}[g%4]
			if _, err := NewPlan[complex64](n, WithPlanner(pl)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := pl.Err(); err != nil {
		t.Error(err)
	}
	for _, n := range []int{64, 128, 256, 512} {
		if _, ok := NewPlanner(pl.path).Choice("c64", n, 1); !ok {
			t.Errorf("c64 n=%d not in the file", n)
		}
	}
}

// TestFourStepMatchesStockham checks the four-step algorithm (the planner's
// {fourStepOrder} candidate) against the default Stockham transform of the
// same length: forward and inverse, in place, on 1 and 2 threads, both
// precisions.
func TestFourStepMatchesStockham(t *testing.T) {
	if !validOrder([]int{fourStepOrder}, 1<<16) || validOrder([]int{fourStepOrder}, 1000) {
		t.Fatal("validOrder of the four-step order")
	}
	r := newRNG()
	for _, n := range []int{256, 1 << 11, 1 << 16, 1 << 17} {
		x := randVec(r, n)
		want := make([]complex128, n)
		newCplan128(n, nil).transform(want, x, false, 1)
		f := newCplan128(n, []int{fourStepOrder})
		if f.fs == nil {
			t.Fatalf("n=%d: no four-step plan", n)
		}
		if tw := len(f.fs.twLo) + len(f.fs.twHi); n >= 1<<16 && tw > n/8 {
			t.Errorf("n=%d: %d twiddles, want at most n/8", n, tw)
		}
		for _, threads := range []int{1, 2} {
			got := append([]complex128(nil), x...)
			f.transform(got, got, false, threads)
			if e := relErr(got, want); e > tolDFT128*logn(n) {
				t.Errorf("c128 n=%d threads=%d: four-step vs Stockham %.3g", n, threads, e)
			}
			f.transform(got, got, true, threads)
			if e := relErr(got, x); e > tolRoundTrip128*logn(n) {
				t.Errorf("c128 n=%d threads=%d: four-step round trip %.3g", n, threads, e)
			}
		}
		x64 := to64(x)
		w64 := make([]complex64, n)
		newCplan64(n, nil).transform(w64, x64, false, 1)
		g64 := make([]complex64, n)
		newCplan64(n, []int{fourStepOrder}).transform(g64, x64, false, 2)
		if e := relErr(from64(g64), from64(w64)); e > tolDFT64*logn(n) {
			t.Errorf("c64 n=%d: four-step vs Stockham %.3g", n, e)
		}
	}
}

// FuzzPlannerFile feeds arbitrary cache files to a Planner: whatever the
// file holds, the order it returns is a valid order of the length (a
// remembered one or a new measurement) and the plan built from it runs.
func FuzzPlannerFile(f *testing.F) {
	key := NewPlanner("").key("c128", 64, 1)
	for _, radices := range []string{"[4, 16]", "[4, 4, 4]", "[64]", "[-1]", "[0]", "[2, 2, 2, 2, 2, 2]", "[1, 64]", "[9223372036854775807, 4]", "[]", "null"} {
		f.Add([]byte(`{"version": 1, "plans": {"` + key + `": {"radices": ` + radices + `, "ns": 1}}}`))
	}
	f.Add([]byte("{not json"))
	f.Add([]byte(`{"version": 1, "plans": null}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "plans.json")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		pl := NewPlanner(path)
		r := pl.radices("c128", 64, 1, func(r []int) time.Duration { return time.Duration(len(r)) })
		if !validOrder(r, 64) {
			t.Fatalf("planner returned %v for n=64", r)
		}
		if c, ok := pl.Choice("c128", 64, 1); !ok || !slices.Equal(c, r) {
			t.Fatalf("Choice %v %v, radices %v", c, ok, r)
		}
		x := randVec(newRNG(), 64)
		got := make([]complex128, 64)
		newCplan128(64, r).transform(got, x, false, 1)
		if e := relErr(got, dft(x)); e > tolDFT128*logn(64) {
			t.Fatalf("order %v: error %.3g", r, e)
		}
	})
}

// TestPlannerKey checks that the cache key tells thread counts apart for
// lengths that split across threads (not below SplitMin) and names the
// kernels' version.
func TestPlannerKey(t *testing.T) {
	pl := NewPlanner("")
	if pl.key("c128", SplitMin, 1) == pl.key("c128", SplitMin, 4) {
		t.Error("the key of n=SplitMin does not depend on the threads")
	}
	if pl.key("c128", 1024, 1) != pl.key("c128", 1024, 4) {
		t.Error("the key of n=1024 (one thread whatever the count) depends on the threads")
	}
	if k := pl.key("c64", 1024, 1); !strings.Contains(k, fmt.Sprintf("kernels-v%d/", KernelVersion)) {
		t.Errorf("key %q does not name KernelVersion %d", k, KernelVersion)
	}
}

// TestPlannerMeasuresUnlocked checks that a planner answers (and plans
// other lengths) while it times the candidates of one length.
func TestPlannerMeasuresUnlocked(t *testing.T) {
	pl := NewPlanner("")
	done := make(chan []int)
	go func() {
		done <- pl.radices("c128", 4096, 1, func(r []int) time.Duration {
			// Would deadlock if pl.mu were held while measuring.
			pl.radices("c64", 64, 1, func(r []int) time.Duration { return time.Duration(len(r)) })
			_, _ = pl.Choice("c64", 64, 1)
			return time.Duration(len(r))
		})
	}()
	select {
	case r := <-done:
		if !validOrder(r, 4096) {
			t.Fatalf("order %v for n=4096", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("planning blocked while measuring another length")
	}
	if _, ok := pl.Choice("c64", 64, 1); !ok {
		t.Error("the length planned during the measurement was not remembered")
	}
}

// TestPlannerFileMerge: two planners (as two processes would) write
// different lengths to one file at the same time; the advisory lock keeps
// every entry.
func TestPlannerFileMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plans.json")
	a, b := NewPlanner(path), NewPlanner(path)
	sizes := []int{64, 128, 256, 512, 1024, 2048, 4096, 8192}
	fast := func(r []int) time.Duration { return time.Duration(len(r)) }
	var wg sync.WaitGroup
	for i, n := range sizes {
		pl := a
		if i%2 == 1 {
			pl = b
		}
		wg.Go(func() { pl.radices("c128", n, 1, fast) })
	}
	wg.Wait()
	for _, pl := range []*Planner{a, b} {
		if err := pl.Err(); err != nil {
			t.Fatal(err)
		}
	}
	fresh := NewPlanner(path)
	for _, n := range sizes {
		if _, ok := fresh.Choice("c128", n, 1); !ok {
			t.Errorf("n=%d lost from the file", n)
		}
	}
}

// TestOpenDefaultPlanner: with a user cache folder the planner uses the
// file there; without one (HOME and XDG_CACHE_HOME unset) it plans in
// memory and says why.
func TestOpenDefaultPlanner(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	pl, err := OpenDefaultPlanner()
	if err != nil || pl.path != filepath.Join(dir, "mec", "fft-plans.json") {
		t.Fatalf("OpenDefaultPlanner: path %q, %v", pl.path, err)
	}
	if os.Geteuid() != 0 { // root writes into read-only folders
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Setenv("XDG_CACHE_HOME", ro)
		if pl, err := OpenDefaultPlanner(); err == nil || pl.path != "" {
			t.Errorf("read-only cache folder: path %q, error %v; want memory and an error", pl.path, err)
		}
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	pl, err = OpenDefaultPlanner()
	if err == nil || pl == nil || pl.path != "" {
		t.Fatalf("without a cache folder: planner %v, error %v; want an in-memory planner and an error", pl, err)
	}
	if r := pl.radices("c128", 64, 1, func(r []int) time.Duration { return time.Duration(len(r)) }); !validOrder(r, 64) {
		t.Errorf("in-memory planner: order %v", r)
	}
}
