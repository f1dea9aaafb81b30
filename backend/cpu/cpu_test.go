package cpu_test

import (
	"testing"

	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/cpu"
)

func TestConformance(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		t.Run(map[int]string{1: "threads=1", 2: "threads=2", 3: "threads=3"}[threads], func(t *testing.T) {
			backendtest.Run(t, cpu.New(cpu.Options{Threads: threads}))
		})
	}
}
