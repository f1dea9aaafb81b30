package kernels

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPTXUpToDate fails when compat.h or a .cl changed after the committed
// PTX was generated (kernels/ptx/SOURCES records their SHA-256), so a stale
// PTX is caught without nvcc; `make kernels-check` compares the bytes.
func TestPTXUpToDate(t *testing.T) {
	f, err := os.ReadFile("ptx/SOURCES")
	if err != nil {
		t.Fatalf("%v: run `make kernels`", err)
	}
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(f))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("ptx/SOURCES: bad line %q", sc.Text())
		}
		want[name] = sum
	}
	names := []string{"compat.h"}
	for _, fam := range Families() {
		names = append(names, fam+".cl")
	}
	var stale []string
	for _, name := range names {
		b, err := sources.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if want[name] != hex.EncodeToString(h[:]) {
			stale = append(stale, name)
		}
		delete(want, name)
	}
	for name := range want {
		stale = append(stale, name+" (removed)")
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Errorf("kernels/ptx is stale: %s changed since the PTX was generated; run `make kernels` and commit kernels/ptx/", strings.Join(stale, ", "))
	}
}

var (
	srcKernelRE = regexp.MustCompile(`KERNEL\s+void\s+KNAME\((\w+)\)`)
	entryRE     = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`)
	targetRE    = regexp.MustCompile(`(?m)^\.target (sm_\d+)$`)
)

// TestPTX checks every family's PTX in both precisions and architectures:
// present, for the right target, with an unmangled entry for every kernel
// the source declares, and the same kernels in both precisions.
func TestPTX(t *testing.T) {
	fams := Families()
	if len(fams) == 0 {
		t.Fatal("no kernel families")
	}
	for _, fam := range fams {
		body, err := sources.ReadFile(fam + ".cl")
		if err != nil {
			t.Fatal(err)
		}
		var declared []string
		for _, m := range srcKernelRE.FindAllStringSubmatch(string(body), -1) {
			declared = append(declared, m[1])
		}
		for _, arch := range PTXArchs() {
			sets := map[string][]string{}
			for _, p := range Precisions(fam) {
				ptx, err := PTX(fam, p, arch)
				if err != nil {
					t.Fatal(err)
				}
				if m := targetRE.FindSubmatch(ptx); m == nil || string(m[1]) != fmt.Sprintf("sm_%d", arch) {
					t.Errorf("%s_%s_sm%d: .target %q, want sm_%d", fam, p, arch, m, arch)
				}
				var bases []string
				for _, m := range entryRE.FindAllSubmatch(ptx, -1) {
					base, ok := strings.CutSuffix(string(m[1]), "_"+p)
					if !ok {
						t.Errorf("%s_%s_sm%d: entry %s lacks the _%s suffix (mangled or wrong precision?)", fam, p, arch, m[1], p)
						continue
					}
					bases = append(bases, base)
				}
				slices.Sort(bases)
				sets[p] = bases
				for _, k := range declared {
					if !slices.Contains(bases, k) {
						t.Errorf("%s_%s_sm%d: no .entry %s_%s", fam, p, arch, k, p)
					}
				}
			}
			if len(sets) == 2 && !slices.Equal(sets["f32"], sets["f64"]) {
				t.Errorf("%s sm%d: f32 entries %v differ from f64 entries %v", fam, arch, sets["f32"], sets["f64"])
			}
		}
	}
}

// TestPTXFiles: the committed PTX is exactly every family in its
// Precisions for every architecture (no file that nothing loads).
func TestPTXFiles(t *testing.T) {
	ents, err := ptxFiles.ReadDir("ptx")
	if err != nil {
		t.Fatal(err)
	}
	var have, want []string
	for _, e := range ents {
		have = append(have, e.Name())
	}
	for _, fam := range Families() {
		for _, p := range Precisions(fam) {
			for _, arch := range PTXArchs() {
				want = append(want, fmt.Sprintf("%s_%s_sm%d.ptx", fam, p, arch))
			}
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("kernels/ptx holds %v, want %v", have, want)
	}
}

func TestPTXErrors(t *testing.T) {
	fam := Families()[0]
	for _, c := range []struct {
		fam, p string
		sm     int
	}{{fam, "f16", 80}, {fam, "f32", 75}, {"nonesuch", "f32", 80}, {"lif", "f32", 80}} {
		if _, err := PTX(c.fam, c.p, c.sm); err == nil {
			t.Errorf("PTX(%q, %q, %d) succeeded", c.fam, c.p, c.sm)
		}
	}
}
