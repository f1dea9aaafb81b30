package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestToolingInBinary: the production binary links neither the
// testing package nor the project's test helpers. prometheus/common
// v0.73 pulls testing in (through an ABNF fuzzing library in its expfmt
// package), which is why go.mod holds it at v0.72.
func TestNoTestToolingInBinary(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the binary's dependencies")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{"testing", "github.com/pandatix/go-abnf"}
	for _, dep := range strings.Fields(string(out)) {
		bad := false
		for _, b := range banned {
			bad = bad || dep == b || strings.HasPrefix(dep, b+"/")
		}
		if bad || strings.HasSuffix(dep, "test") && strings.HasPrefix(dep, "github.com/prismai/mec/") {
			t.Errorf("the mec binary links %s (test tooling)", dep)
		}
	}
}
