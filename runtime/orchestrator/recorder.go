package orchestrator

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// Recorder appends the runtime's events to a ledger and measures each
// append's latency to durability (the commit lag).
type Recorder struct {
	led *ledger.Ledger

	mu         sync.Mutex
	lags       []time.Duration
	lastFusion uint64
}

// NewRecorder records into l (which the caller opens and closes).
func NewRecorder(l *ledger.Ledger) *Recorder {
	return &Recorder{led: l, lastFusion: telemetry.NoParent}
}

// Ledger returns the ledger.
func (r *Recorder) Ledger() *ledger.Ledger { return r.led }

// Append appends e and returns its index and the time Append took (the
// event is durable when it returns).
func (r *Recorder) Append(ctx context.Context, e telemetry.Event) (uint64, time.Duration, error) {
	t0 := time.Now()
	idx, err := r.led.Append(ctx, e)
	lag := time.Since(t0)
	if err != nil {
		return 0, lag, err
	}
	r.mu.Lock()
	r.lags = append(r.lags, lag)
	r.mu.Unlock()
	return idx, lag, nil
}

// appendFusion appends a fusion event whose ParentBlock is the previous
// fusion event's index.
func (r *Recorder) appendFusion(ctx context.Context, e telemetry.FusionEvent) (uint64, time.Duration, error) {
	r.mu.Lock()
	e.ParentBlock = r.lastFusion
	r.mu.Unlock()
	idx, lag, err := r.Append(ctx, e)
	if err == nil {
		r.mu.Lock()
		r.lastFusion = idx
		r.mu.Unlock()
	}
	return idx, lag, err
}

// Lags returns a copy of every measured append latency, in order.
func (r *Recorder) Lags() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lags)
}
