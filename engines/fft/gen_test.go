package fft

import (
	"os/exec"
	"testing"
)

// TestEngine64Current: the generated complex64 engine is what gen.go makes
// of engine128.go (an edit of engine128.go without `go generate` fails
// here, as a stale PTX fails make kernels-check).
func TestEngine64Current(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run gen.go")
	}
	if out, err := exec.Command(goBin, "run", "gen.go", "-check").CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go -check: %v\n%s", err, out)
	}
}

// TestR16AsmCurrent: the generated radix-16 kernels (r16_amd64.s) are what
// gen_r16.go writes.
func TestR16AsmCurrent(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run gen_r16.go")
	}
	if out, err := exec.Command(goBin, "run", "gen_r16.go", "-check").CombinedOutput(); err != nil {
		t.Fatalf("go run gen_r16.go -check: %v\n%s", err, out)
	}
}
