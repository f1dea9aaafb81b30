package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestExternHost runs a program whose majority vote is an extern served
// by a host program (Python), and converts it with the same host.
func TestExternHost(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the extern host of this test is a Python script")
	}
	prog := "../../qasm/testdata/lang/vote.qasm"
	h := "python3 testdata/extern_host.py"
	var doc struct {
		Counts    map[string]int `json:"counts"`
		Registers []struct {
			Name string `json:"name"`
			Bits []int  `json:"bits"`
		} `json:"registers"`
	}
	out := mustRun(t, "circuit", "run", prog, "--param", "theta=2*pi/3", "--shots", "400", "--json", "--extern-host", h)
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	bit := func(key, reg string) byte {
		for _, r := range doc.Registers {
			if r.Name == reg {
				return key[len(key)-1-r.Bits[0]]
			}
		}
		t.Fatalf("no register %s in %s", reg, out)
		return 0
	}
	ones := 0
	for k, n := range doc.Counts {
		if bit(k, "copy") != bit(k, "logical") {
			t.Errorf("%s: the copy differs from the vote", k)
		}
		if bit(k, "logical") == '1' {
			ones += n
		}
	}
	if ones < 250 || ones > 350 { // P(1) = 3/4: 300 ± 5σ (σ ≈ 8.7)
		t.Errorf("logical 1 in %d of 400 shots, want about 300", ones)
	}
	// Without the host the run fails, naming the function and the flag.
	if _, err := run(t, "circuit", "run", prog, "--param", "theta=1", "--shots", "10"); err == nil || !strings.Contains(err.Error(), "extern majority") {
		t.Errorf("a run without a host: %v", err)
	}
	// The conversion declares the extern and calls it where the program does.
	q3 := mustRun(t, "circuit", "convert", prog, "--param", "theta=1", "--extern-host", h)
	if !strings.Contains(q3, "extern majority(bit[3]) -> bit;") || !strings.Contains(q3, "majority(c[") {
		t.Errorf("the conversion lost the extern:\n%s", q3)
	}
	if _, err := run(t, "circuit", "run", prog, "--param", "theta=1", "--extern-host", "/nonexistent/host"); err == nil {
		t.Error("a missing host program: no error")
	}
}
