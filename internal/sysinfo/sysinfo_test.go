package sysinfo

import (
	"bufio"
	"strings"
	"testing"
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
