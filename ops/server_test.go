package ops

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// testCert returns a self-signed certificate for 127.0.0.1, like the one
// `mec node init` makes.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// startServer starts a server on a free loopback port.
func startServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestReadyzFollowsTheSteps(t *testing.T) {
	r, _ := newTestReadiness(t)
	s := startServer(t, ServerConfig{Plain: true, Readiness: r, Metrics: NewMetrics()})
	base := "http://" + s.Addr().String()
	c := &http.Client{Timeout: 5 * time.Second}

	check := func(wantCode int, wantStates ...StepState) {
		t.Helper()
		code, body := get(t, c, base+ReadyzPath)
		if code != wantCode {
			t.Fatalf("/readyz %d, want %d: %s", code, wantCode, body)
		}
		var st ReadinessStatus
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/readyz body %q: %v", body, err)
		}
		if st.Ready != (wantCode == http.StatusOK) || len(st.Steps) != len(wantStates) {
			t.Fatalf("/readyz body %+v", st)
		}
		for i, s := range st.Steps {
			if s.Name != NodeSteps()[i] || s.State != wantStates[i] {
				t.Fatalf("/readyz step %d: %+v, want %s %s", i, s, NodeSteps()[i], wantStates[i])
			}
		}
	}
	P, D, F := StepPending, StepPassed, StepFailed
	check(503, P, P, P)
	if code, _ := get(t, c, base+HealthzPath); code != 200 {
		t.Fatalf("/healthz %d while alive", code)
	}
	// phase-lock first: does not count.
	if err := r.Pass(StepPhaseLock); err == nil {
		t.Fatal("out-of-order pass accepted")
	}
	check(503, P, P, P)
	if err := r.Pass(StepConfig); err != nil {
		t.Fatal(err)
	}
	check(503, D, P, P)
	if err := r.Fail(StepFederationJoin, errors.New("no route to any core")); err != nil {
		t.Fatal(err)
	}
	check(503, D, F, P)
	_, body := get(t, c, base+ReadyzPath)
	if !strings.Contains(body, "no route to any core") {
		t.Fatalf("/readyz does not name the failure: %s", body)
	}
	if err := r.Pass(StepFederationJoin); err != nil {
		t.Fatal(err)
	}
	check(503, D, D, P)
	if err := r.Pass(StepPhaseLock); err != nil {
		t.Fatal(err)
	}
	check(200, D, D, D)

	// The readiness gauges follow on /metrics.
	_, text := get(t, c, base+MetricsPath)
	fams := parseMetrics(t, text)
	if v := fams[MetricReady].GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Fatalf("%s = %v after ready", MetricReady, v)
	}
}

func TestHealthzDuringShutdown(t *testing.T) {
	r, _ := newTestReadiness(t)
	for _, s := range NodeSteps() {
		if err := r.Pass(s); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Plain: true, Readiness: r, DrainDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr().String()
	// No keep-alive: each request dials, so the check after the drain
	// sees the closed listener.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if code, _ := get(t, c, base+HealthzPath); code != 200 {
		t.Fatalf("/healthz %d before shutdown", code)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !s.ShuttingDown() {
		if time.Now().After(deadline) {
			t.Fatal("Shutdown did not begin")
		}
		time.Sleep(time.Millisecond)
	}
	// Within the drain delay the server still answers, with 503.
	code, body := get(t, c, base+HealthzPath)
	if code != 503 || !strings.Contains(body, "shutting down") {
		t.Fatalf("/healthz during shutdown: %d %q", code, body)
	}
	code, body = get(t, c, base+ReadyzPath)
	if code != 503 || !strings.Contains(body, `"shutting_down": true`) {
		t.Fatalf("/readyz during shutdown: %d %s", code, body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(base + HealthzPath); err == nil {
		t.Fatal("the server still answers after Shutdown")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestTLS13Only(t *testing.T) {
	cert, pool := testCert(t)
	r, _ := newTestReadiness(t)
	s := startServer(t, ServerConfig{Certificate: &cert, Readiness: r, Metrics: NewMetrics()})
	url := "https://" + s.Addr().String() + HealthzPath

	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: v, MaxVersion: v}}}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			t.Fatalf("a %s client was served", tls.VersionName(v))
		}
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 || resp.StatusCode != 200 {
		t.Fatalf("TLS %v, status %d", resp.TLS, resp.StatusCode)
	}
	if g := resp.TLS.CurveID; g != tls.X25519MLKEM768 {
		t.Fatalf("negotiated group %v, want X25519MLKEM768 (Go's default)", g)
	}
	// Plain HTTP to the TLS port gets no /healthz.
	pc := &http.Client{Timeout: 5 * time.Second}
	if resp, err := pc.Get("http://" + s.Addr().String() + HealthzPath); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

func TestServerConfigErrors(t *testing.T) {
	cert, _ := testCert(t)
	r, _ := newTestReadiness(t)
	for _, tc := range []struct {
		cfg  ServerConfig
		want string
	}{
		{ServerConfig{Plain: true}, "Readiness is required"},
		{ServerConfig{Readiness: r}, "either a TLS certificate or Plain"},
		{ServerConfig{Readiness: r, Plain: true, Certificate: &cert}, "either a TLS certificate or Plain"},
		{ServerConfig{Readiness: r, Plain: true, Addr: "8443"}, `listen address "8443"`},
		{ServerConfig{Readiness: r, Plain: true, DrainDelay: -1}, "negative drain delay"},
	} {
		if _, err := NewServer(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewServer(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	s, err := NewServer(ServerConfig{Readiness: r, Plain: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Addr != ":8443" || s.srv.ReadHeaderTimeout != 5*time.Second || s.srv.ReadTimeout != 10*time.Second ||
		s.srv.WriteTimeout != 30*time.Second || s.srv.IdleTimeout != 120*time.Second {
		t.Fatalf("defaults: addr %q, timeouts %v %v %v %v", s.cfg.Addr, s.srv.ReadHeaderTimeout, s.srv.ReadTimeout, s.srv.WriteTimeout, s.srv.IdleTimeout)
	}
	if s.Addr() != nil {
		t.Fatal("an address before Start")
	}
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	r, _ := newTestReadiness(t)
	s := startServer(t, ServerConfig{Plain: true, Readiness: r, Metrics: m})

	m.SetBackend("cpu", "AMD EPYC (2 threads)")
	m.SetBackend("cuda", "NVIDIA H200")
	m.ObserveTick(false, map[string]float64{TickMetricDrift: 0.03, TickMetricEpsilon: 1.5})
	m.ObserveTick(true, map[string]float64{TickMetricDrift: 0.02})
	m.ObserveTick(false, map[string]float64{TickMetricDrift: 0.04})
	m.ObserveLedgerAppends(50*time.Microsecond, 700*time.Microsecond, 2*time.Millisecond, 3*time.Second)
	m.ObserveRejections(BusFederation, Rejections{Forged: 2, Replayed: 1})
	m.ObserveRejections(BusFederation, Rejections{Forged: 5, Replayed: 1, Version: 1}) // cumulative: +3 forged, +1 version
	m.ObserveRejections(BusLocal, Rejections{Malformed: 4})
	m.ObserveFederation(FederationStats{Rounds: 7, Live: 4, LinksByGroup: map[string]int{"X25519MLKEM768": 6}})
	m.ObserveFederation(FederationStats{Rounds: 9, Live: 5, LinksByGroup: map[string]int{"X25519MLKEM768": 7}})

	resp, err := http.Get("http://" + s.Addr().String() + MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	fams := parseMetrics(t, string(b))

	want := map[string]dto.MetricType{
		MetricTicks: dto.MetricType_COUNTER, MetricRollbacks: dto.MetricType_COUNTER, MetricBusRejections: dto.MetricType_COUNTER,
		MetricLedgerAppends: dto.MetricType_COUNTER, MetricCommitLag: dto.MetricType_HISTOGRAM, MetricRounds: dto.MetricType_COUNTER,
		MetricDrift: dto.MetricType_GAUGE, MetricEpsilon: dto.MetricType_GAUGE, MetricBackend: dto.MetricType_GAUGE,
		MetricMembersLive: dto.MetricType_GAUGE, MetricTLSLinks: dto.MetricType_GAUGE, MetricReady: dto.MetricType_GAUGE,
		MetricReadinessSteps: dto.MetricType_GAUGE,
		// Go runtime and process collectors.
		"go_goroutines": dto.MetricType_GAUGE, "go_gc_duration_seconds": dto.MetricType_SUMMARY, "go_memstats_alloc_bytes": dto.MetricType_GAUGE,
		"process_cpu_seconds_total": dto.MetricType_COUNTER, "process_resident_memory_bytes": dto.MetricType_GAUGE,
	}
	for name, typ := range want {
		f, ok := fams[name]
		if !ok {
			t.Errorf("/metrics lacks %s", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
	}
	for name := range fams {
		if !strings.HasPrefix(name, "mec_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") &&
			!strings.HasPrefix(name, "promhttp_") {
			t.Errorf("unexpected metric %s", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	one := func(name string) *dto.Metric { return fams[name].GetMetric()[0] }
	if v := one(MetricTicks).GetCounter().GetValue(); v != 3 {
		t.Errorf("ticks %v, want 3", v)
	}
	if v := one(MetricRollbacks).GetCounter().GetValue(); v != 1 {
		t.Errorf("rollbacks %v, want 1", v)
	}
	if v := one(MetricDrift).GetGauge().GetValue(); v != 0.04 {
		t.Errorf("drift %v, want 0.04", v)
	}
	if v := one(MetricEpsilon).GetGauge().GetValue(); v != 1.5 {
		t.Errorf("epsilon %v, want 1.5 (kept when a tick does not report it)", v)
	}
	if v := one(MetricLedgerAppends).GetCounter().GetValue(); v != 4 {
		t.Errorf("ledger appends %v, want 4", v)
	}
	h := one(MetricCommitLag).GetHistogram()
	var bounds []float64
	for _, b := range h.GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) { // the text parser adds +Inf
			bounds = append(bounds, b.GetUpperBound())
		}
	}
	if h.GetSampleCount() != 4 || !slices.Equal(bounds, CommitLagBuckets()) || bounds[0] != 100e-6 || bounds[len(bounds)-1] != 1 {
		t.Errorf("commit lag histogram: count %d, bounds %v", h.GetSampleCount(), bounds)
	}
	if c := h.GetBucket()[0].GetCumulativeCount(); c != 1 {
		t.Errorf("100 µs bucket holds %d, want 1 (the 50 µs append)", c)
	}
	if v := one(MetricRounds).GetCounter().GetValue(); v != 9 {
		t.Errorf("rounds %v, want 9", v)
	}
	if v := one(MetricMembersLive).GetGauge().GetValue(); v != 5 {
		t.Errorf("members live %v, want 5", v)
	}
	if m := one(MetricTLSLinks); labels(m)["group"] != "X25519MLKEM768" || m.GetGauge().GetValue() != 7 {
		t.Errorf("TLS links %v", m)
	}
	if ms := fams[MetricBackend].GetMetric(); len(ms) != 1 || labels(ms[0])["backend"] != "cuda" || labels(ms[0])["device"] != "NVIDIA H200" ||
		ms[0].GetGauge().GetValue() != 1 {
		t.Errorf("backend info %v, want one series cuda/NVIDIA H200 = 1", ms)
	}
	rej := map[string]float64{}
	for _, m := range fams[MetricBusRejections].GetMetric() {
		l := labels(m)
		rej[l["bus"]+"/"+l["reason"]] = m.GetCounter().GetValue()
	}
	if len(rej) != 2*len(RejectionReasons()) {
		t.Errorf("%d rejection series, want every reason on both buses: %v", len(rej), rej)
	}
	for _, r := range RejectionReasons() {
		if _, ok := rej["federation/"+r]; !ok {
			t.Errorf("no rejection series for reason %s", r)
		}
	}
	for k, v := range map[string]float64{"federation/forged": 5, "federation/replayed": 1, "federation/version": 1, "local/malformed": 4, "local/forged": 0} {
		if rej[k] != v {
			t.Errorf("rejections %s = %v, want %v", k, rej[k], v)
		}
	}
}

func TestCumulativeCountersSurviveARestartedSource(t *testing.T) {
	m := NewMetrics()
	m.ObserveFederation(FederationStats{Rounds: 10})
	m.ObserveFederation(FederationStats{Rounds: 3}) // a new federation node: 3 more rounds
	m.ObserveRejections(BusLocal, Rejections{Stale: 4})
	m.ObserveRejections(BusLocal, Rejections{Stale: 1})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, mm := range f.GetMetric() {
			l := labels(mm)
			if f.GetName() == MetricRounds || (f.GetName() == MetricBusRejections && l["bus"] == "local" && l["reason"] == "stale") {
				got[f.GetName()] = mm.GetCounter().GetValue()
			}
		}
	}
	if got[MetricRounds] != 13 || got[MetricBusRejections] != 5 {
		t.Fatalf("counters %v, want rounds 13 and local stale 5", got)
	}
}

func TestMetricsAreNotGlobal(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.ObserveTick(false, nil)
	fb, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fb {
		if f.GetName() == MetricTicks && f.GetMetric()[0].GetCounter().GetValue() != 0 {
			t.Fatal("two Metrics share a counter")
		}
	}
}
