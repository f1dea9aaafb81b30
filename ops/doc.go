// Package ops is the operational surface of a long-running mec node:
// readiness steps, the HTTP(S) endpoints /healthz, /readyz and /metrics,
// Prometheus metrics on a private registry, the structured logger, and
// layered configuration (YAML file, then environment, then flags) with
// strict checks whose errors name the key and where its value came from.
//
// Layer: runtime (a node's operating surface). It imports no other mec
// package.
//
// A node wires it up in this order (errors elided):
//
//	cfg, origins, err := ops.LoadNodeConfig(ops.Layers{File: configPath, LookupEnv: os.LookupEnv, Flags: ops.ChangedFlags(cmd.Flags())})
//	log, err := ops.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
//	ready, err := ops.NewReadiness(log, ops.NodeSteps()...)
//	metrics := ops.NewMetrics()
//	cert, err := tls.LoadX509KeyPair(filepath.Join(cfg.Data, "tls.crt"), filepath.Join(cfg.Data, "tls.key"))
//	srv, err := ops.NewServer(ops.ServerConfig{Addr: cfg.HTTP.Listen, Certificate: &cert, Plain: !cfg.HTTP.TLS,
//		Readiness: ready, Metrics: metrics, Logger: log, DrainDelay: 2 * time.Second})
//	err = srv.Start()
//	ready.Pass(ops.StepConfig) // then StepFederationJoin, then StepPhaseLock
//	…
//	srv.Shutdown(ctx) // first thing on SIGTERM: /healthz and /readyz turn 503
//
// (with Plain set, leave Certificate nil).
//
// Nothing here uses global mutable state: the metrics live on their own
// registry, not Prometheus's default one.
package ops

// The paths the server answers, and the ports a node listens on. The
// Kubernetes manifests under deploy/k8s name these ports and paths; their
// tests check them against these constants.
const (
	// HealthzPath answers 200 while the process is alive and not
	// shutting down, 503 once shutdown has begun.
	HealthzPath = "/healthz"
	// ReadyzPath answers 200 once every readiness step has passed in
	// order, 503 with a JSON body naming each step's state before.
	ReadyzPath = "/readyz"
	// MetricsPath serves the Prometheus text exposition.
	MetricsPath = "/metrics"

	// HTTPSPort is the default port of the node's HTTPS endpoints.
	HTTPSPort = 8443
	// ClientPort, RoutePort and LeafPort are the NATS listeners of a core
	// node (a relay listens on LeafPort only).
	ClientPort = 4222
	RoutePort  = 6222
	LeafPort   = 7422
)
