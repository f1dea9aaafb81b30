package cpu_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
)

// TestPlannerFromEnv: MEC_FFT_PLANNER unset or "default" keeps the
// built-in plans silently; "measure" plans with the per-user cache, or in
// memory with one line on stderr when there is no cache folder; an unknown
// value keeps the built-in plans and says so in one line.
func TestPlannerFromEnv(t *testing.T) {
	var warn bytes.Buffer
	for _, v := range []string{"", "default"} {
		if pl := cpu.PlannerFromEnv(v, &warn); pl != nil || warn.Len() != 0 {
			t.Errorf("%q: planner %v, warning %q; want none", v, pl, warn.String())
		}
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if pl := cpu.PlannerFromEnv("measure", &warn); pl == nil || warn.Len() != 0 {
		t.Errorf("measure with a cache folder: planner %v, warning %q", pl, warn.String())
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	pl := cpu.PlannerFromEnv("measure", &warn)
	if pl == nil || strings.Count(warn.String(), "\n") != 1 || !strings.Contains(warn.String(), "in memory") {
		t.Errorf("measure without a cache folder: planner %v, warning %q; want an in-memory planner and one line", pl, warn.String())
	}
	b := cpu.New(cpu.Options{}).WithFFTPlanner(pl)
	if b.FFTPlanner() != pl {
		t.Error("WithFFTPlanner did not set the planner")
	}
	if _, err := b.NewFFT(1024, 2, backend.Complex128); err != nil {
		t.Errorf("NewFFT with the in-memory planner: %v", err)
	}
	warn.Reset()
	if pl := cpu.PlannerFromEnv("fast", &warn); pl != nil || strings.Count(warn.String(), "\n") != 1 {
		t.Errorf("unknown value: planner %v, warning %q; want none and one line", pl, warn.String())
	}
}
