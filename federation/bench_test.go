package federation

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkFederation: five nodes on loopback, 1M float64 parameters
// each; rounds/s and wire bytes per round, with and without DP and
// secure aggregation. b.N is the number of measured rounds.
func BenchmarkFederation(b *testing.B) {
	for _, c := range []struct{ dp, sa bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		b.Run(fmt.Sprintf("dim=1M/dp=%v/secagg=%v", c.dp, c.sa), func(b *testing.B) {
			res, err := Bench(context.Background(), BenchConfig{Dim: 1 << 20, Rounds: max(b.N, 2), DP: c.dp, SecAgg: c.sa, Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.RoundsPerSecond, "rounds/s")
			b.ReportMetric(res.WireBytesPerRound/1e6, "MB_wire/round")
			b.ReportMetric(res.Ratio, "wire/param")
		})
	}
}

// TestBenchSmall runs the benchmark's two layouts at a small size.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five nodes twice")
	}
	for _, sa := range []bool{false, true} {
		res, err := Bench(context.Background(), BenchConfig{Dim: 4096, Rounds: 3, DP: true, SecAgg: sa, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if !(res.RoundsPerSecond > 0) || !(res.Ratio > 0) || !(res.Epsilon > 0) {
			t.Errorf("secagg=%v: %+v", sa, res)
		}
		t.Logf("secagg=%v: %.1f rounds/s, %.3g wire bytes per round, %.2f× the parameters, ε %.3g", sa, res.RoundsPerSecond,
			res.WireBytesPerRound, res.Ratio, res.Epsilon)
	}
}
