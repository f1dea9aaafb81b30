package ledger

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/telemetry"
)

// BenchmarkAppend measures sustained durable appends from 64 concurrent
// appenders with signed checkpoints every 1000 events or 100 ms. It
// reports events/s and the p50/p99 append-to-durable latency of Append.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), Options{Signer: testSigner(b), CheckpointEvery: 1000, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var lat []time.Duration
	ev := telemetry.FusionEvent{Timestamp: time.Now(), CoherenceEntropy: 0.7, AvgPhaseDiff: 0.01, FusionEnergy: 12.5, ParentBlock: 1}
	sys := telemetry.SystemEvent{Timestamp: time.Now(), Source: "orchestrator", Kind: "metrics",
		Fields: map[string]telemetry.Value{"step": telemetry.Num(1), "entropy": telemetry.Num(0.5), "state": telemetry.Str("ok")}}
	ckBefore := l.Stats().Checkpoints
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)) // 64 appenders
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		i := 0
		for pb.Next() {
			var e telemetry.Event = ev
			if i%4 == 0 {
				e = sys
			}
			i++
			t0 := time.Now()
			if _, err := l.Append(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	st := l.Stats()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99_ms")
		b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max_ms")
		b.ReportMetric(float64(len(lat))/float64(max(1, st.Commits)), "events/commit")
		b.ReportMetric(float64(st.Checkpoints-ckBefore), "checkpoints")
	}
}
