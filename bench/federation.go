package bench

import (
	"context"
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/federation"
)

// federationWorkloads measure federated learning rounds (package
// federation): five nodes on loopback with their embedded NATS servers,
// every link mutual TLS 1.3, every message signed, learning 1M float64
// parameters each (2^16 with --quick), with and without differential
// privacy and secure aggregation. The reference is the parameter bytes:
// Ratio is the bytes the servers sent one another per round over the
// learners' parameter bytes (a complete graph needs every node to
// receive every other's update, 4× for five nodes; the streams'
// threefold replication adds 2×).
func federationWorkloads(be backend.Backend, quick bool) []workload {
	dim, rounds := 1<<20, 3
	if quick {
		dim, rounds = 1<<16, 2
	}
	var ws []workload
	for _, c := range []struct{ dp, sa bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		name := fmt.Sprintf("dim=%d/dp=%v/secagg=%v", dim, c.dp, c.sa)
		ws = append(ws, workload{suite: "federation", name: name, be: be, run: func(ctx context.Context) ([]Figure, error) {
			res, err := federation.Bench(ctx, federation.BenchConfig{Dim: dim, Rounds: rounds, DP: c.dp, SecAgg: c.sa})
			if err != nil {
				return nil, err
			}
			return []Figure{{Suite: "federation", Workload: name, Backend: "loopback", Value: res.RoundsPerSecond, Unit: "rounds/s",
				Better: "higher", Metrics: map[string]float64{"rounds/s": res.RoundsPerSecond, "MB_wire/round": res.WireBytesPerRound / 1e6,
					"wire/param": res.Ratio, "epsilon": res.Epsilon}, Ref: "parameter bytes", Ratio: res.Ratio, RatioUnit: "x_param"}}, nil
		}})
	}
	return ws
}
