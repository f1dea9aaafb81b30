package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// BenchConfig describes one federation benchmark: five nodes on this
// machine (embedded NATS servers on loopback, TLS and everything else as
// in a real federation) learning Dim float64 parameters each.
type BenchConfig struct {
	// Dim is the number of parameters per node (1M in the figure).
	Dim int
	// Rounds is the number of measured rounds (after one warm-up round).
	Rounds int
	// DP turns differential privacy on (clip 1, σ 1).
	DP bool
	// SecAgg runs the secure-aggregation layout: one core, one relay and
	// three edges behind it (the edges' updates reach the relay masked);
	// otherwise three cores and two edges learn directly.
	SecAgg bool
	// Dir holds the nodes' data (a temporary directory when empty).
	Dir string
}

// BenchResult is what one configuration measured.
type BenchResult struct {
	Config BenchConfig `json:"config"`
	// Nodes and Learners count the nodes and those with parameters.
	Nodes, Learners int
	// RoundsPerSecond is measured rounds over their wall time (every
	// learner running its rounds at once).
	RoundsPerSecond float64 `json:"rounds_per_s"`
	// WireBytesPerRound is the bytes the NATS servers sent one another per
	// round (routes and leaf node links: the network, TLS record overhead
	// not included; JetStream replication included), and ParamBytes the
	// learners' parameter bytes per round (Learners × Dim × 8).
	WireBytesPerRound float64 `json:"wire_bytes_per_round"`
	ParamBytes        float64 `json:"param_bytes_per_round"`
	// Ratio is WireBytesPerRound / ParamBytes.
	Ratio float64 `json:"ratio"`
	// Epsilon is a learner's privacy ε after the run (DP only).
	Epsilon float64 `json:"epsilon"`
}

// Bench runs one federation benchmark.
func Bench(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	if cfg.Dim < 1 || cfg.Dim > MaxDim || cfg.Rounds < 1 {
		return nil, fmt.Errorf("federation: bench: want 1 ≤ dim ≤ %d and rounds ≥ 1", MaxDim)
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "mec-fedbench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	type spec struct {
		name  string
		role  Role
		relay string
	}
	specs := []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"c3", Core, ""}, {"e1", Edge, ""}, {"e2", Edge, ""}}
	if cfg.SecAgg {
		specs = []spec{{"c1", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}, {"e3", Edge, "r1"}}
	}
	r := &Roster{Version: ProtocolVersion, Federation: "bench"}
	r.Learning.RoundTimeout = Duration(2 * time.Minute)
	r.Learning.Liveness = Duration(30 * time.Second)
	r.Learning.SecAgg.Clip = 1e6
	if cfg.DP {
		r.Learning.DP = DPConfig{Enabled: true, Clip: 1, NoiseMultiplier: 1}
	}
	r.Streams.MaxBytes = 8 << 30
	ids := map[string]*Identity{}
	for _, s := range specs {
		o := InitOptions{Name: s.name, Role: s.role, Relay: s.relay}
		var perr error
		port := func() string {
			p, err := FreeLoopbackPort()
			perr = errors.Join(perr, err)
			return fmt.Sprintf("tls://127.0.0.1:%d", p)
		}
		switch s.role {
		case Core:
			o.Client, o.Route, o.Leaf = port(), port(), port()
		case Relay:
			o.Leaf = port()
		}
		if perr != nil {
			return nil, perr
		}
		id, err := Init(filepath.Join(dir, s.name), o)
		if err != nil {
			return nil, err
		}
		ids[s.name] = id
		r.Members = append(r.Members, id.Member)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	nodes := map[string]*Node{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := Start(ctx, Config{Dir: filepath.Join(dir, s.name), Roster: r, Identity: ids[s.name], Logger: quiet,
				JoinTimeout: 2 * time.Minute, InitialTheta: make([]float64, cfg.Dim)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			nodes[s.name] = n
		}()
	}
	wg.Wait()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range nodes {
			_ = n.Close(cctx)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		for len(n.Live()) < len(specs)-0 && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	var learners []*Node
	for _, s := range specs {
		if s.role.Learns() {
			learners = append(learners, nodes[s.name])
		}
	}
	wire := func() uint64 {
		var b uint64
		for _, n := range nodes {
			if n.srv == nil {
				continue
			}
			if rz, err := n.srv.Routez(&server.RoutezOptions{}); err == nil {
				for _, rt := range rz.Routes {
					b += uint64(rt.OutBytes)
				}
			}
			if lz, err := n.srv.Leafz(&server.LeafzOptions{}); err == nil {
				for _, l := range lz.Leafs {
					b += uint64(l.OutBytes)
				}
			}
		}
		return b
	}
	thetas := make([][]float64, len(learners))
	for i := range thetas {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		thetas[i] = make([]float64, cfg.Dim)
		for k := range thetas[i] {
			thetas[i][k] = rng.NormFloat64() * 1e-3
		}
	}
	round := func() error {
		var wg sync.WaitGroup
		errs := make([]error, len(learners))
		for i, n := range learners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := n.Round(ctx, 0, thetas[i])
				if err != nil {
					errs[i] = err
					return
				}
				thetas[i] = res.Theta
				thetas[i][i%cfg.Dim] += 1e-3 // some local learning between rounds
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := round(); err != nil { // warm-up: every node's first state (a reset)
		return nil, err
	}
	time.Sleep(500 * time.Millisecond) // let the warm-up's replication settle
	before := wire()
	start := time.Now()
	for k := 0; k < cfg.Rounds; k++ {
		if err := round(); err != nil {
			return nil, err
		}
	}
	elapsed := time.Since(start)
	time.Sleep(500 * time.Millisecond) // the last round's replication and delivery
	after := wire()
	res := &BenchResult{Config: cfg, Nodes: len(specs), Learners: len(learners), RoundsPerSecond: float64(cfg.Rounds) / elapsed.Seconds(),
		WireBytesPerRound: float64(after-before) / float64(cfg.Rounds), ParamBytes: float64(len(learners) * cfg.Dim * 8)}
	res.Ratio = res.WireBytesPerRound / res.ParamBytes
	res.Epsilon = learners[0].learn.dp.epsilon()
	return res, nil
}
