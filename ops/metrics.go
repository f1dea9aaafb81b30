package ops

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The names of the node's metrics (all under mec_), for dashboards,
// alerts and tests.
const (
	MetricTicks          = "mec_ticks_total"
	MetricRollbacks      = "mec_rollbacks_total"
	MetricBusRejections  = "mec_bus_rejections_total"
	MetricLedgerAppends  = "mec_ledger_appends_total"
	MetricCommitLag      = "mec_ledger_commit_lag_seconds"
	MetricRounds         = "mec_federation_rounds_total"
	MetricDrift          = "mec_federated_drift"
	MetricEpsilon        = "mec_dp_epsilon"
	MetricBackend        = "mec_backend_info"
	MetricMembersLive    = "mec_federation_members_live"
	MetricTLSLinks       = "mec_tls_links"
	MetricReady          = "mec_ready"
	MetricReadinessSteps = "mec_readiness_step_passed"
)

// The tick metrics ObserveTick reads (the orchestrator's names).
const (
	TickMetricDrift   = "federated_drift"
	TickMetricEpsilon = "dp_epsilon"
)

// The buses whose rejections are counted (label "bus").
const (
	BusLocal      = "local"      // the node's own signed module bus
	BusFederation = "federation" // messages from other nodes
)

// RejectionReasons lists the values of the "reason" label of
// mec_bus_rejections_total, in the order of the fields of Rejections.
func RejectionReasons() []string {
	return []string{"forged", "replayed", "out_of_order", "stale", "malformed", "unknown_origin", "misrouted", "no_target", "version", "bad_body"}
}

// Rejections are cumulative counts of refused messages by reason, as the
// bus (bus.Stats) and the federation (federation.Stats: Version,
// BadBody) report them.
type Rejections struct {
	Forged, Replayed, OutOfOrder, Stale, Malformed, UnknownOrigin, Misrouted, NoTarget, Version, BadBody uint64
}

func (r Rejections) counts() []uint64 {
	return []uint64{r.Forged, r.Replayed, r.OutOfOrder, r.Stale, r.Malformed, r.UnknownOrigin, r.Misrouted, r.NoTarget, r.Version, r.BadBody}
}

// FederationStats is what ObserveFederation records.
type FederationStats struct {
	// Rounds is the cumulative number of learning rounds (federation.Stats.Rounds).
	Rounds uint64
	// Live is the number of members currently live (len(node.Live())).
	Live int
	// LinksByGroup counts the node's TLS links by negotiated key
	// exchange group (federation.Link.Group), e.g. "X25519MLKEM768".
	LinksByGroup map[string]int
}

// CommitLagBuckets are the bucket bounds of the ledger commit lag
// histogram: 100 µs to 1 s.
func CommitLagBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
}

// Metrics are a node's Prometheus metrics on a registry of their own
// (never the global default), with the Go runtime and process
// collectors. The Observe and Set methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	ticks, rollbacks, appends, rounds prometheus.Counter
	rejections                        *prometheus.CounterVec
	commitLag                         prometheus.Histogram
	drift, epsilon, live, ready       prometheus.Gauge
	backend, links, steps             *prometheus.GaugeVec

	mu         sync.Mutex
	lastRounds uint64
	lastRej    map[string][]uint64
}

// NewMetrics creates the metrics and their registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), lastRej: map[string][]uint64{}}
	m.ticks = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricTicks, Help: "Runtime ticks (meta-epochs) executed."})
	m.rollbacks = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRollbacks, Help: "Governance rollbacks to a checkpoint."})
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricBusRejections,
		Help: "Signed messages rejected, by bus (local, federation) and reason."}, []string{"bus", "reason"})
	m.appends = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricLedgerAppends, Help: "Records appended to the node's ledger."})
	m.commitLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricCommitLag,
		Help: "Ledger append-to-durable latency (seconds).", Buckets: CommitLagBuckets()})
	m.rounds = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRounds, Help: "Federated learning rounds taken part in."})
	m.drift = prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricDrift,
		Help: "Federated drift of the last round: max_j ||W_j - mean W|| over the nodes averaged in."})
	m.epsilon = prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricEpsilon, Help: "Running differential-privacy epsilon of this node (0 without DP)."})
	m.backend = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricBackend,
		Help: "The compute backend in use and its device (value 1)."}, []string{"backend", "device"})
	m.live = prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricMembersLive, Help: "Federation members currently live (heartbeats)."})
	m.links = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricTLSLinks,
		Help: "TLS links of this node by negotiated key exchange group."}, []string{"group"})
	m.ready = prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricReady, Help: "1 when every readiness step has passed in order."})
	m.steps = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricReadinessSteps,
		Help: "1 when the readiness step has passed."}, []string{"step"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ticks, m.rollbacks, m.rejections, m.appends, m.commitLag, m.rounds,
		m.drift, m.epsilon, m.backend, m.live, m.links, m.ready, m.steps,
	)
	// Every series exists from the start, at 0.
	for _, bus := range []string{BusLocal, BusFederation} {
		for _, r := range RejectionReasons() {
			m.rejections.WithLabelValues(bus, r)
		}
	}
	m.links.WithLabelValues("X25519MLKEM768")
	return m
}

// Registry returns the metrics' registry (to register more collectors,
// or to gather in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}

// ObserveTick records one executed tick: whether it was rolled back,
// and the federated drift and DP ε from its metrics
// (orchestrator.TickReport.Metrics: TickMetricDrift, TickMetricEpsilon;
// absent or non-finite values leave the gauges as they were).
func (m *Metrics) ObserveTick(rolledBack bool, tickMetrics map[string]float64) {
	m.ticks.Inc()
	if rolledBack {
		m.rollbacks.Inc()
	}
	if v, ok := tickMetrics[TickMetricDrift]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.drift.Set(v)
	}
	if v, ok := tickMetrics[TickMetricEpsilon]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.epsilon.Set(v)
	}
}

// ObserveLedgerAppends records ledger appends, each with its
// append-to-durable latency (orchestrator.Recorder.Lags since the last
// call).
func (m *Metrics) ObserveLedgerAppends(lags ...time.Duration) {
	for _, l := range lags {
		m.appends.Inc()
		m.commitLag.Observe(max(l, 0).Seconds())
	}
}

// addCumulative adds to c what a cumulative count v adds to last; a
// count below last means its source started again (a new node or bus):
// all of v is new.
func addCumulative(c prometheus.Counter, last *uint64, v uint64) {
	if v >= *last {
		c.Add(float64(v - *last))
	} else {
		c.Add(float64(v))
	}
	*last = v
}

// ObserveRejections records the cumulative rejection counts of one bus
// (BusLocal: the orchestrator's bus Stats; BusFederation: the
// federation's Stats). Counts are cumulative: only the growth since the
// previous call of the same bus is added.
func (m *Metrics) ObserveRejections(bus string, r Rejections) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := m.lastRej[bus]
	if last == nil {
		last = make([]uint64, len(RejectionReasons()))
		m.lastRej[bus] = last
	}
	for i, v := range r.counts() {
		addCumulative(m.rejections.WithLabelValues(bus, RejectionReasons()[i]), &last[i], v)
	}
}

// ObserveFederation records the federation's state: rounds
// (cumulative), live members and TLS links by group (the links gauge is
// replaced: groups absent from s.LinksByGroup read 0).
func (m *Metrics) ObserveFederation(s FederationStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	addCumulative(m.rounds, &m.lastRounds, s.Rounds)
	m.live.Set(float64(s.Live))
	m.links.Reset()
	m.links.WithLabelValues("X25519MLKEM768")
	for g, n := range s.LinksByGroup {
		if g == "" {
			g = "none"
		}
		m.links.WithLabelValues(g).Set(float64(n))
	}
}

// SetBackend records the compute backend in use and its device (one
// series at 1; a new call replaces it).
func (m *Metrics) SetBackend(backend, device string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.backend.Reset()
	m.backend.WithLabelValues(backend, device).Set(1)
}

// observeReadiness mirrors a readiness status (the server calls it on
// each scrape).
func (m *Metrics) observeReadiness(s ReadinessStatus) {
	if s.Ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
	for _, st := range s.Steps {
		v := 0.0
		if st.State == StepPassed {
			v = 1
		}
		m.steps.WithLabelValues(st.Name).Set(v)
	}
}
