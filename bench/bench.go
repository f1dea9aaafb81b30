// Package bench holds mec's standard workloads and physical reference
// measurements, shared by `go test -bench` and `mec bench`: the random
// circuits of the quantum suite and an in-place memory-bandwidth probe
// (the access pattern of a state-vector gate), plus the C stream peer when
// it is installed.
//
// Layer: compute library (workloads). It may import the compute library
// (backend, circuit, sim, the engines, fusion), federation for the
// federation workload, and internal/peers; never the runtime's orchestrator
// or the commands.
package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/peers"
)

// RandomCircuit returns the quantum suite's random circuit: n qubits on a
// grid of rows×(n/rows), depth cycles; each cycle applies cz on one of four
// coupler patterns (at most four couplers) and 1-qubit gates drawn from
// {sx, ry(π/2), t, h} on qubits not in a cz that cycle, so that the total is
// gates (qsim's 24-qubit depth-100 benchmark circuit has 1257 gates).
func RandomCircuit(n, depth, gates int, seed uint64) *circuit.Circuit {
	rng := rand.New(rand.NewPCG(seed, 0x62656e6368))
	cols := max(1, n/4)
	var couplers [4][][2]int
	for q := 0; q < n; q++ {
		r, c := q/cols, q%cols
		if c+1 < cols && q+1 < n {
			couplers[c%2] = append(couplers[c%2], [2]int{q, q + 1})
		}
		if q+cols < n {
			couplers[2+r%2] = append(couplers[2+r%2], [2]int{q, q + cols})
		}
	}
	c := circuit.New(n)
	c.Clbits = 0
	twoPer := 4
	total2 := 0
	for d := 0; d < depth; d++ {
		total2 += min(twoPer, len(couplers[d%4]))
	}
	one := gates - total2
	for d := 0; d < depth; d++ {
		pat := couplers[d%4]
		rng.Shuffle(len(pat), func(i, j int) { pat[i], pat[j] = pat[j], pat[i] })
		busy := make([]bool, n)
		for _, p := range pat[:min(twoPer, len(pat))] {
			c.Append("cz", nil, p[0], p[1])
			busy[p[0]], busy[p[1]] = true, true
		}
		k := one / (depth - d)
		one -= k
		free := []int{}
		for q := 0; q < n; q++ {
			if !busy[q] {
				free = append(free, q)
			}
		}
		rng.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		for _, q := range free[:min(k, len(free))] {
			switch rng.IntN(4) {
			case 0:
				c.Append("sx", nil, q)
			case 1:
				c.Append("ry", []float64{math.Pi / 2}, q)
			case 2:
				c.Append("t", nil, q)
			default:
				c.Append("h", nil, q)
			}
		}
	}
	return c
}

// Stream is a memory-bandwidth measurement in GB/s (10^9 bytes/s).
type Stream struct {
	Threads   int     `json:"threads"`
	InPlaceRW float64 `json:"inplace_rw_gbs"`
	Triad     float64 `json:"triad_gbs,omitempty"`
	Copy      float64 `json:"copy_gbs,omitempty"`
	Source    string  `json:"source"` // "stream peer (C, OpenMP)" or "go"
	BufferMiB int     `json:"buffer_mib"`
}

// MeasureStream measures in-place read+write bandwidth over 256 MiB: with
// the C stream peer (shared/peers/stream.c, built by install.sh) on
// GOMAXPROCS threads when it is installed, else with a Go loop of the same
// pattern (b[i] = b[i]·c + d, best of 5). Call it once per run and keep
// the result: it takes a second or two.
func MeasureStream() Stream { return MeasureStreamBytes(256 << 20) }

// MeasureStreamBytes is MeasureStream over a buffer of the given size
// (rounded up to a power of two, at least 1 MiB): the bound for passes over
// a state of that size. On a machine whose last-level cache holds the
// state it is the cache's bandwidth, not the memory's (on one 2-core
// machine here with a 480 MiB L3: 97 GB/s over 32 MiB, 43–53 GB/s over
// 256 MiB).
func MeasureStreamBytes(bytes int64) Stream {
	log2 := 20
	for int64(1)<<log2 < bytes {
		log2++
	}
	threads := runtime.GOMAXPROCS(0)
	mib := int(int64(1) << log2 >> 20)
	if tool, err := peers.Tool("stream"); err == nil {
		cmd := exec.Command(tool, strconv.Itoa(log2-3)) // 8-byte elements
		cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(threads))
		if out, err := cmd.Output(); err == nil {
			var s Stream
			if json.Unmarshal(out, &s) == nil && s.InPlaceRW > 0 {
				s.Source, s.BufferMiB = "stream peer (C, OpenMP)", mib
				return s
			}
		}
	}
	return Stream{Threads: threads, InPlaceRW: goStream(threads, 1<<(log2-3)), Source: "go", BufferMiB: mib}
}

func goStream(threads, n int) float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = 2
	}
	best := math.Inf(1)
	for r := 0; r < 5; r++ {
		t := time.Now()
		var wg sync.WaitGroup
		chunk := (n + threads - 1) / threads
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := b[lo:hi]
				for i := range x {
					x[i] = x[i]*1.0000001 + 0.5
				}
			}()
		}
		wg.Wait()
		best = min(best, time.Since(t).Seconds())
	}
	return 2 * float64(n) * 8 / best / 1e9
}

// String formats the measurement.
func (s Stream) String() string {
	return fmt.Sprintf("%.1f GB/s in-place read+write on %d threads (%s)", s.InPlaceRW, s.Threads, s.Source)
}
