package ops

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig configures the node's HTTP(S) endpoints.
type ServerConfig struct {
	// Addr is the listen address (default ":8443").
	Addr string
	// Certificate is the node's own TLS certificate and key (for
	// instance tls.LoadX509KeyPair of the data directory's tls.crt and
	// tls.key). Required unless Plain is set.
	Certificate *tls.Certificate
	// Plain serves plain HTTP instead of TLS: for local tests only.
	Plain bool
	// Readiness backs /readyz (required).
	Readiness *Readiness
	// Metrics backs /metrics (nil: /metrics answers 404).
	Metrics *Metrics
	// Logger receives the server's logs (nil: none).
	Logger *slog.Logger
	// DrainDelay is how long Shutdown keeps serving, with /healthz and
	// /readyz answering 503, before it closes the listener, so that load
	// balancers and the kubelet see the node leave (default 0).
	DrainDelay time.Duration
	// Timeouts of the http.Server (defaults: header 5 s, read 10 s,
	// write 30 s, idle 120 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Server serves /healthz, /readyz and /metrics over TLS 1.3 (or plain
// HTTP when configured so).
type Server struct {
	cfg      ServerConfig
	log      *slog.Logger
	srv      *http.Server
	stopping atomic.Bool

	mu   sync.Mutex
	ln   net.Listener
	done chan error
}

// NewServer checks cfg and builds the server (not yet listening).
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Readiness == nil {
		return nil, errors.New("ops: server: a Readiness is required")
	}
	if cfg.Plain == (cfg.Certificate != nil) {
		return nil, errors.New("ops: server: give either a TLS certificate or Plain (plain HTTP for local tests), not both or neither")
	}
	if cfg.Addr == "" {
		cfg.Addr = fmt.Sprintf(":%d", HTTPSPort)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("ops: server: listen address %q: %w", cfg.Addr, err)
	}
	if cfg.DrainDelay < 0 {
		return nil, fmt.Errorf("ops: server: negative drain delay %v", cfg.DrainDelay)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 5*time.Second)
	def(&cfg.ReadTimeout, 10*time.Second)
	def(&cfg.WriteTimeout, 30*time.Second)
	def(&cfg.IdleTimeout, 120*time.Second)
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if cfg.Certificate != nil {
		s.srv.TLSConfig = TLSConfig(*cfg.Certificate)
	}
	return s, nil
}

// TLSConfig is the server side of the node's HTTPS endpoints: the node's
// certificate, TLS 1.3 only (whose default key exchange includes the
// hybrid post-quantum X25519MLKEM768).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// Handler returns the server's routes (also usable without Start, in
// tests or behind another listener).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthzPath, s.healthz)
	mux.HandleFunc("GET "+ReadyzPath, s.readyz)
	if s.cfg.Metrics != nil {
		h := s.cfg.Metrics.Handler()
		mux.Handle("GET "+MetricsPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.cfg.Metrics.observeReadiness(s.cfg.Readiness.Status())
			h.ServeHTTP(w, r)
		}))
	}
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.stopping.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "shutting down")
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := s.cfg.Readiness.Status()
	if s.stopping.Load() {
		st.Ready, st.ShuttingDown = false, true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !st.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		s.log.Debug("readyz: writing the response", "err", err)
	}
}

// Start listens on the configured address and serves in the background.
// It returns once the listener is open (or with the error that kept it
// from opening).
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ops: server: %w", err)
	}
	return s.Serve(ln)
}

// Serve serves on ln in the background (TLS over it unless Plain).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		ln.Close()
		return errors.New("ops: server: already started")
	}
	if s.stopping.Load() {
		ln.Close()
		return errors.New("ops: server: shut down")
	}
	scheme := "http"
	if s.srv.TLSConfig != nil {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
		scheme = "https"
	}
	s.ln = ln
	s.done = make(chan error, 1)
	s.log.Info("serving health and metrics", "addr", ln.Addr().String(), "scheme", scheme,
		"paths", []string{HealthzPath, ReadyzPath, MetricsPath})
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr returns the listener's address (nil before Start).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// ShuttingDown reports whether Shutdown has begun.
func (s *Server) ShuttingDown() bool { return s.stopping.Load() }

// Shutdown turns /healthz and /readyz to 503 at once, keeps serving for
// the drain delay (or until ctx ends), then stops accepting connections
// and waits for the requests in flight (until ctx ends).
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.stopping.CompareAndSwap(false, true) {
		return nil
	}
	s.log.Info("shutting down the health and metrics server", "drain", s.cfg.DrainDelay)
	if d := s.cfg.DrainDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	err := s.srv.Shutdown(ctx)
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil && err == nil {
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("ops: server shutdown: %w", err)
	}
	return nil
}
