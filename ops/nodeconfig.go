package ops

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Roles lists the node roles (as package federation names them).
func Roles() []string { return []string{"core", "edge", "relay", "observer"} }

// ConfigEnv names the environment variable that gives the configuration
// file when --config does not.
const ConfigEnv = "MEC_NODE_CONFIG"

// NodeConfig is the configuration of `mec node`: one YAML key, one
// environment variable and one flag per setting (flags > env > file).
//
//	data: /var/lib/mec          # MEC_NODE_DATA       --data
//	roster: /etc/mec/federation.yaml  # MEC_ROSTER    --roster
//	role: core                  # PRISM_NODE_ROLE     --role
//	scenario: /etc/mec/scenario.yaml  # MEC_NODE_SCENARIO --scenario
//	nats: [tls://nats-0:4222]   # MEC_NATS_URL        --nats
//	join: [tls://core-1:6222]   # MEC_NODE_JOIN       --join
//	listen_host: 0.0.0.0        # MEC_NODE_LISTEN_HOST --listen-host
//	http: {listen: ":8443", tls: true}  # MEC_NODE_HTTP --http; MEC_NODE_HTTP_TLS
//	ticks: 0                    # MEC_NODE_TICKS      --ticks
//	tick_interval: 0s           # MEC_NODE_TICK_INTERVAL --tick-interval
//	wait_peers: 1m              # MEC_NODE_WAIT_PEERS --wait-peers
//	seed: 7                     # MEC_NODE_SEED       --seed
//	report: /var/lib/mec/report.json  # MEC_NODE_REPORT --report
//	status: ""                  # MEC_NODE_STATUS     --status
//	log: {format: auto, level: info}  # MEC_NODE_LOG_FORMAT --log-format; MEC_NODE_LOG_LEVEL --log-level
type NodeConfig struct {
	// Data is the node's data directory: its keys (sign.key kem.key
	// nkey.seed tls.key tls.crt member.yaml), jetstream/ (cores),
	// ledger/ and witness/. Required.
	Data string `yaml:"data" env:"MEC_NODE_DATA" flag:"data"`
	// Roster is the federation's roster file (federation.yaml). Required.
	Roster string `yaml:"roster" env:"MEC_ROSTER" flag:"roster"`
	// Role is the expected role (checked against the node's keys);
	// empty: the keys' role.
	Role string `yaml:"role" env:"PRISM_NODE_ROLE" flag:"role"`
	// Scenario is the runtime scenario file (empty: the built-in one).
	Scenario string `yaml:"scenario" env:"MEC_NODE_SCENARIO" flag:"scenario"`
	// NATS lists the client URLs (tls://host:port) of an external NATS
	// cluster to use instead of the embedded server.
	NATS []string `yaml:"nats" env:"MEC_NATS_URL" flag:"nats"`
	// Join lists the route URLs (tls://host:port) of the other cores
	// (default: the roster's).
	Join []string `yaml:"join" env:"MEC_NODE_JOIN" flag:"join"`
	// ListenHost is the host the embedded NATS listeners bind.
	ListenHost string `yaml:"listen_host" env:"MEC_NODE_LISTEN_HOST" flag:"listen-host"`
	// HTTP configures /healthz, /readyz and /metrics.
	HTTP HTTPConfig `yaml:"http"`
	// Ticks stops the node after this many meta-epochs (0: until SIGTERM).
	Ticks int `yaml:"ticks" env:"MEC_NODE_TICKS" flag:"ticks"`
	// TickInterval is a pause between meta-epochs (0: none).
	TickInterval time.Duration `yaml:"tick_interval" env:"MEC_NODE_TICK_INTERVAL" flag:"tick-interval"`
	// WaitPeers bounds how long the node waits, before its first tick,
	// for every other node of the roster to be live (default 1m).
	WaitPeers time.Duration `yaml:"wait_peers" env:"MEC_NODE_WAIT_PEERS" flag:"wait-peers"`
	// Seed seeds the node's randomness (unset: derived from the scenario
	// and the node's name; Origins.Set("seed") tells).
	Seed uint64 `yaml:"seed" env:"MEC_NODE_SEED" flag:"seed"`
	// Report is where the node writes its JSON report at exit (empty:
	// standard output).
	Report string `yaml:"report" env:"MEC_NODE_REPORT" flag:"report"`
	// Status is a small JSON progress file, replaced atomically (empty: none).
	Status string `yaml:"status" env:"MEC_NODE_STATUS" flag:"status"`
	// Log configures the structured logs.
	Log LogConfig `yaml:"log"`
}

// HTTPConfig configures the node's health and metrics endpoints.
type HTTPConfig struct {
	// Listen is the listen address (default ":8443"; "" or "off" is not
	// accepted: the endpoints always run).
	Listen string `yaml:"listen" env:"MEC_NODE_HTTP" flag:"http"`
	// TLS serves HTTPS with the node's certificate (default true; false
	// is plain HTTP, for local tests only).
	TLS bool `yaml:"tls" env:"MEC_NODE_HTTP_TLS"`
}

// LogConfig configures the logger (NewLogger).
type LogConfig struct {
	// Format is auto (JSON unless on a terminal), json or text.
	Format string `yaml:"format" env:"MEC_NODE_LOG_FORMAT" flag:"log-format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level" env:"MEC_NODE_LOG_LEVEL" flag:"log-level"`
}

// DefaultNodeConfig returns the defaults: HTTPS on :8443, wait 1m for
// the peers, logs "auto" at info.
func DefaultNodeConfig() NodeConfig {
	return NodeConfig{
		HTTP:      HTTPConfig{Listen: fmt.Sprintf(":%d", HTTPSPort), TLS: true},
		WaitPeers: time.Minute,
		Log:       LogConfig{Format: "auto", Level: "info"},
	}
}

// LoadNodeConfig loads the node configuration: defaults, then the file
// (l.File; when empty, $MEC_NODE_CONFIG through l.LookupEnv), then the
// environment, then flags, and validates the result.
func LoadNodeConfig(l Layers) (NodeConfig, Origins, error) {
	if l.File == "" && l.Data == nil && l.LookupEnv != nil {
		if p, ok := l.LookupEnv(ConfigEnv); ok && p != "" {
			l.File = p
		}
	}
	c := DefaultNodeConfig()
	origins, err := Load(&c, l)
	if err != nil {
		return c, origins, fmt.Errorf("node configuration: %w", err)
	}
	if err := c.Validate(origins); err != nil {
		return c, origins, fmt.Errorf("node configuration: %w", err)
	}
	return c, origins, nil
}

// Validate checks the configuration; each error is a *FieldError naming
// the key and where its value came from (origins, from Load; nil: all
// defaults). Several errors are joined.
func (c *NodeConfig) Validate(origins Origins) error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Origin: origins.Of(key), Err: fmt.Errorf(format, args...)})
	}
	if strings.TrimSpace(c.Data) == "" {
		bad("data", "the node's data directory is required (create it with `mec node init`)")
	}
	if strings.TrimSpace(c.Roster) == "" {
		bad("roster", "the federation's roster file is required (build it with `mec node roster`)")
	}
	if c.Role != "" && !slices.Contains(Roles(), c.Role) {
		bad("role", "unknown role %q (want core, edge, relay or observer)", c.Role)
	}
	for _, k := range []struct {
		key  string
		urls []string
	}{{"nats", c.NATS}, {"join", c.Join}} {
		for i, u := range k.urls {
			if err := checkTLSURL(u); err != nil {
				bad(k.key, "item %d: %v", i+1, err)
			}
		}
	}
	if c.ListenHost != "" {
		if err := checkHost(c.ListenHost); err != nil {
			bad("listen_host", "%v", err)
		}
	}
	if err := checkListen(c.HTTP.Listen); err != nil {
		bad("http.listen", "%v", err)
	}
	if c.Ticks < 0 {
		bad("ticks", "want ≥ 0 (0: run until SIGTERM), not %d", c.Ticks)
	}
	if c.TickInterval < 0 {
		bad("tick_interval", "want ≥ 0, not %v", c.TickInterval)
	}
	if c.WaitPeers < 0 {
		bad("wait_peers", "want ≥ 0, not %v", c.WaitPeers)
	}
	if !slices.Contains(LogFormats(), c.Log.Format) {
		bad("log.format", "want auto, json or text, not %q", c.Log.Format)
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		bad("log.level", "want debug, info, warn or error, not %q", c.Log.Level)
	}
	for _, p := range []struct{ key, path string }{{"data", c.Data}, {"roster", c.Roster}, {"scenario", c.Scenario},
		{"report", c.Report}, {"status", c.Status}} {
		if strings.ContainsRune(p.path, 0) {
			bad(p.key, "a path cannot contain a NUL byte")
		}
	}
	return errors.Join(errs...)
}

// checkTLSURL accepts tls://host:port.
func checkTLSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, errors.Unwrap(err))
	}
	if u.Scheme != "tls" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: want tls://HOST:PORT", s)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q: no host (want tls://HOST:PORT)", s)
	}
	if err := checkPort(u.Port(), false); err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	return nil
}

// checkPort accepts a decimal port, 1–65535 (0 too when zeroOK).
func checkPort(p string, zeroOK bool) error {
	if p == "" {
		return errors.New("no port")
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || (n == 0 && !zeroOK) {
		return fmt.Errorf("port %q: want 1–65535", p)
	}
	return nil
}

// checkHost accepts an IP address or a DNS name (no port).
func checkHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("%q: not a host name or IP address", h)
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q: not a host name or IP address", h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q: not a host name or IP address", h)
			}
		}
	}
	return nil
}

// checkListen accepts HOST:PORT or :PORT (port 0 picks a free one).
func checkListen(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q: want HOST:PORT or :PORT", a)
	}
	if host != "" {
		if err := checkHost(host); err != nil {
			return err
		}
	}
	if err := checkPort(port, true); err != nil {
		return fmt.Errorf("%q: %v", a, err)
	}
	return nil
}

// LookupEnvMap returns a LookupEnv over a map (for tests and for
// rendering configurations that set environment variables).
func LookupEnvMap(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}
