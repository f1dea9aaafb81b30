package sysinfo

import (
	"bufio"
	"strings"
	"testing"
	"testing/fstest"
)

func TestModelName(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nmodel name\t: other\n"
	if got, want := modelName(bufio.NewScanner(strings.NewReader(in))), "Intel(R) Xeon(R) CPU @ 2.20GHz"; got != want {
		t.Fatalf("modelName = %q, want %q", got, want)
	}
	if got := modelName(bufio.NewScanner(strings.NewReader("processor: 0\n"))); got != "" {
		t.Fatalf("modelName without the line = %q, want \"\"", got)
	}
}

func TestCacheSize(t *testing.T) {
	for in, want := range map[string]int{"2048K\n": 2 << 20, "1M": 1 << 20, "512": 512, "": 0, "xK": 0, "-4K": 0, "K": 0} {
		if got := cacheSize(in); got != want {
			t.Errorf("cacheSize(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestL2Bytes: where the machine tells, a core's L2 cache is between 64
// KiB and 64 MiB.
func TestL2Bytes(t *testing.T) {
	n := L2Bytes()
	if n == 0 {
		t.Skip("this system does not describe its L2 cache (sysfs)")
	}
	if n < 64<<10 || n > 64<<20 {
		t.Errorf("L2Bytes = %d", n)
	}
}

// TestL2From: the level-2 data or unified cache's size, divided among the
// CPUs that share it; instruction caches, other levels and unreadable or
// odd contents are skipped or give 0.
func TestL2From(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for name, c := range map[string]struct {
		fs   fstest.MapFS
		want int
	}{
		"one core": {fstest.MapFS{"index0/level": file("1\n"), "index0/type": file("Data\n"), "index0/size": file("48K\n"),
			"index2/level": file("2\n"), "index2/type": file("Unified\n"), "index2/size": file("2048K\n"), "index2/shared_cpu_list": file("0\n")}, 2 << 20},
		"shared by four":   {fstest.MapFS{"index2/level": file("2"), "index2/type": file("Unified"), "index2/size": file("4M"), "index2/shared_cpu_list": file("0-1,4-5")}, 1 << 20},
		"no sharing list":  {fstest.MapFS{"index2/level": file("2"), "index2/type": file("Data"), "index2/size": file("1280K")}, 1280 << 10},
		"odd sharing list": {fstest.MapFS{"index2/level": file("2"), "index2/type": file("Data"), "index2/size": file("1M"), "index2/shared_cpu_list": file("x-y")}, 1 << 20},
		"instruction only": {fstest.MapFS{"index1/level": file("2"), "index1/type": file("Instruction"), "index1/size": file("1M")}, 0},
		"garbage size":     {fstest.MapFS{"index2/level": file("2"), "index2/type": file("Unified"), "index2/size": file("2MiB")}, 0},
		"empty":            {fstest.MapFS{}, 0},
	} {
		if got := l2From(c.fs); got != c.want {
			t.Errorf("%s: l2From = %d, want %d", name, got, c.want)
		}
	}
	for in, want := range map[string]int{"0": 1, "0-3": 4, "0-1,4-5": 4, "0,2,4\n": 3, "": 0, "3-1": 0, "a": 0} {
		if got := cpuCount(in); got != want {
			t.Errorf("cpuCount(%q) = %d, want %d", in, got, want)
		}
	}
}
