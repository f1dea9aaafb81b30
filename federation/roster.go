package federation

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/nats-io/nkeys"
	"go.yaml.in/yaml/v3"

	"github.com/prismai/mec/internal/strict"
)

// ProtocolVersion is the version of the federation protocol: the roster
// format, the subjects and the message bodies. A message or roster of
// another version is rejected with an error naming both versions.
const ProtocolVersion = 1

// Role is what a node does in the federation.
type Role string

// The four node roles.
const (
	// Core nodes run the modules, hold the JetStream streams (an embedded
	// NATS server clustered with the other cores through NATS routes),
	// witness one another's ledgers and take part in learning directly.
	Core Role = "core"
	// Edge nodes run the modules and join through a NATS leaf node; an
	// edge with a relay sends its learning updates only to that relay,
	// masked (secure aggregation), and never publishes them itself.
	Edge Role = "edge"
	// Relay nodes aggregate the updates of the edges behind them (the
	// relay learns only their sum) and take part in learning on the
	// group's behalf; edges may join the federation through the relay's
	// leaf node listener.
	Relay Role = "relay"
	// Observer nodes only read: they verify every message and every
	// ledger checkpoint and publish nothing but their reports.
	Observer Role = "observer"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Core, Edge, Relay, Observer:
		return r, nil
	}
	return "", fmt.Errorf("federation: unknown role %q (want core, edge, relay or observer)", s)
}

// Learns reports whether the role runs the modules and learns.
func (r Role) Learns() bool { return r == Core || r == Edge }

// Duration is a time.Duration written as "1.5s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Member is a node's public roster entry: everything the other nodes
// need to reach it and to verify what it says. It holds no secret.
type Member struct {
	// Name identifies the node: 1–63 of a–z, 0–9 and '-', starting with
	// a letter or digit (a NATS subject token and a DNS label).
	Name string `yaml:"name"`
	// Role is core, edge, relay or observer.
	Role Role `yaml:"role"`
	// Relay names the relay that aggregates this edge's updates (edges
	// only; empty: the edge learns directly, like a core).
	Relay string `yaml:"relay,omitempty"`
	// Client, Route and Leaf are the URLs other nodes use to reach this
	// node's NATS client, cluster (route) and leaf node listeners, e.g.
	// tls://10.0.0.1:4222 (cores: all three; relays: Leaf).
	Client string `yaml:"client,omitempty"`
	Route  string `yaml:"route,omitempty"`
	Leaf   string `yaml:"leaf,omitempty"`
	// SigningKey is the node's ML-DSA-65 public key (base64): it signs
	// every federated message, its ledger checkpoints and, on cores, its
	// witness co-signatures.
	SigningKey string `yaml:"signing_key"`
	// KEMKey is the node's ML-KEM-768 public key (base64), for the
	// pairwise secrets of secure aggregation.
	KEMKey string `yaml:"kem_key"`
	// NKey is the node's NATS user public key (authentication and
	// per-role subject permissions).
	NKey string `yaml:"nkey"`
	// Cert is the node's TLS certificate (PEM, self-signed): the
	// federation trusts exactly the certificates of its roster.
	Cert string `yaml:"cert"`

	signPK *mldsa65.PublicKey
	kemPK  *mlkem768.PublicKey
	cert   *x509.Certificate
}

// SigningPublicKey returns the decoded ML-DSA-65 key (after Validate).
func (m *Member) SigningPublicKey() *mldsa65.PublicKey { return m.signPK }

// KEMPublicKey returns the decoded ML-KEM-768 key (after Validate).
func (m *Member) KEMPublicKey() *mlkem768.PublicKey { return m.kemPK }

// Certificate returns the parsed TLS certificate (after Validate).
func (m *Member) Certificate() *x509.Certificate { return m.cert }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidName reports whether s is a valid node or federation name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// validate decodes and checks the keys and URLs of one entry.
func (m *Member) validate() error {
	if !ValidName(m.Name) {
		return fmt.Errorf("name %q: want 1–63 of a–z, 0–9, '-', not starting with '-'", m.Name)
	}
	if _, err := ParseRole(string(m.Role)); err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(m.Name+": "+format, args...)) }
	if b, err := base64.StdEncoding.DecodeString(m.SigningKey); err != nil || len(b) != mldsa65.PublicKeySize {
		bad("signing_key: want base64 of a %d-byte ML-DSA-65 public key", mldsa65.PublicKeySize)
	} else {
		m.signPK = new(mldsa65.PublicKey)
		if err := m.signPK.UnmarshalBinary(b); err != nil {
			bad("signing_key: %v", err)
		}
	}
	if b, err := base64.StdEncoding.DecodeString(m.KEMKey); err != nil || len(b) != mlkem768.PublicKeySize {
		bad("kem_key: want base64 of a %d-byte ML-KEM-768 public key", mlkem768.PublicKeySize)
	} else {
		m.kemPK = new(mlkem768.PublicKey)
		if err := m.kemPK.Unpack(b); err != nil {
			bad("kem_key: %v", err)
		}
	}
	if !nkeys.IsValidPublicUserKey(m.NKey) {
		bad("nkey %q is not a NATS user public key", m.NKey)
	}
	if blk, rest := pem.Decode([]byte(m.Cert)); blk == nil || blk.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		bad("cert: want exactly one PEM CERTIFICATE block")
	} else if c, err := x509.ParseCertificate(blk.Bytes); err != nil {
		bad("cert: %v", err)
	} else if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		bad("cert: not self-signed: %v", err)
	} else {
		m.cert = c
	}
	need := map[string]string{}
	switch m.Role {
	case Core:
		need = map[string]string{"client": m.Client, "route": m.Route, "leaf": m.Leaf}
	case Relay:
		need = map[string]string{"leaf": m.Leaf}
	}
	for _, k := range []string{"client", "route", "leaf"} {
		v, required := need[k]
		if !required {
			if got := map[string]string{"client": m.Client, "route": m.Route, "leaf": m.Leaf}[k]; got != "" {
				bad("%s: a %s node has no %s listener", k, m.Role, k)
			}
			continue
		}
		if err := checkURL(v); err != nil {
			bad("%s: %v", k, err)
		}
	}
	if m.Relay != "" && m.Role != Edge {
		bad("relay: only edges have a relay")
	}
	return errors.Join(errs...)
}

// checkURL accepts tls://host:port.
func checkURL(s string) error {
	if s == "" {
		return errors.New("missing (want tls://HOST:PORT)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "tls" || u.Hostname() == "" || u.Port() == "" || u.Path != "" || u.User != nil {
		return fmt.Errorf("%q: want tls://HOST:PORT", s)
	}
	return nil
}

// ParseMember decodes one public roster entry (a node's member.yaml;
// unknown keys are errors) and checks its keys.
func ParseMember(data []byte) (Member, error) {
	var m Member
	if err := strict.YAML(data, &m); err != nil {
		return Member{}, fmt.Errorf("federation: member: %w", err)
	}
	if err := m.validate(); err != nil {
		return Member{}, fmt.Errorf("federation: member: %w", err)
	}
	return m, nil
}

// LearningConfig configures federated learning; every node of a
// federation uses the same values (they are part of the roster).
type LearningConfig struct {
	// Eta is the consensus step η of Θ_i ← Θ_i + η Σ_j w_ij (Θ_j − Θ_i);
	// it is clamped, with a warning, to the stability bound of the live
	// graph. Default 1.
	Eta float64 `yaml:"eta"`
	// Topology is the membership graph over the live participants:
	// "complete" (default) or "ring" (in name order).
	Topology string `yaml:"topology"`
	// RoundTimeout bounds how long a round waits for live peers. Default 5s.
	RoundTimeout Duration `yaml:"round_timeout"`
	// Liveness is how long a node counts as live after its last
	// heartbeat. Default 3s.
	Liveness Duration `yaml:"liveness"`
	// MaxStaleness is how many rounds behind a peer's latest state may be
	// and still be averaged in. Default 2.
	MaxStaleness int `yaml:"max_staleness"`
	// DP configures differential privacy on outgoing updates.
	DP DPConfig `yaml:"dp"`
	// SecAgg configures secure aggregation in relay rounds.
	SecAgg SecAggConfig `yaml:"secagg"`
}

// DPConfig configures the Gaussian mechanism on outgoing updates.
type DPConfig struct {
	// Enabled turns clipping and noise on.
	Enabled bool `yaml:"enabled"`
	// Clip is the L2 bound C of one round's update.
	Clip float64 `yaml:"clip"`
	// NoiseMultiplier is σ: noise N(0, (σC)²) per coordinate.
	NoiseMultiplier float64 `yaml:"noise_multiplier"`
	// Delta is the δ at which ε is reported. Default 1e-5.
	Delta float64 `yaml:"delta"`
}

// SecAggConfig configures secure aggregation (package secagg) in relay
// rounds.
type SecAggConfig struct {
	// Threshold is the Shamir threshold t (0: ⌊m/2⌋+1 for a group of m
	// edges, and never below 2; secagg requires 2t > m).
	Threshold int `yaml:"threshold"`
	// Clip bounds the L2 norm of an edge's update (the range of the
	// fixed-point sum). Default 10. With DP on the range follows from
	// dp instead: dp.clip·(1 + dp.noise_multiplier·(√d + 4)) for d
	// parameters, which holds the clipped and noised update.
	Clip float64 `yaml:"clip"`
	// Epoch numbers the pair secrets; change it to re-key every group.
	// Default 1.
	Epoch uint64 `yaml:"epoch"`
}

// PhaseConfig configures federated phase consensus.
type PhaseConfig struct {
	// Epsilon is ε_φ: a node whose fusion phase is farther than this from
	// the consensus φ̄ is decoupled until it is back within it. Default 0.5 rad.
	Epsilon float64 `yaml:"epsilon"`
}

// StreamConfig configures the JetStream streams the cores create.
type StreamConfig struct {
	// Replicas is the replication factor (default: min(3, cores)).
	Replicas int `yaml:"replicas"`
	// MaxAge bounds how long messages are kept (default 24h).
	MaxAge Duration `yaml:"max_age"`
	// MaxBytes bounds each stream's size (default 1 GiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// Roster is a federation's membership and protocol settings: the file
// every node reads (`--roster`). It holds only public keys.
type Roster struct {
	// Version must be ProtocolVersion.
	Version int `yaml:"version"`
	// Federation names the federation (a valid name).
	Federation string `yaml:"federation"`
	// Domain is the JetStream domain of the cores' streams. Default "mec".
	Domain string `yaml:"domain"`
	// ExternalCA is a PEM bundle of the certificates (or their CAs) of an
	// external NATS cluster's servers, which nodes run with --nats also
	// trust; the servers in turn trust the roster's certificates (`mec
	// node nats-config --ca-out`).
	ExternalCA string `yaml:"external_ca,omitempty"`
	// Learning, Phase and Streams configure the protocol.
	Learning LearningConfig `yaml:"learning"`
	Phase    PhaseConfig    `yaml:"phase"`
	Streams  StreamConfig   `yaml:"streams"`
	// Members lists every node.
	Members []Member `yaml:"members"`
}

// MaxRosterBytes bounds a roster file.
const MaxRosterBytes = 8 << 20

// ParseRoster decodes a roster (YAML; unknown keys are errors, with their
// line), fills defaults and validates it.
func ParseRoster(data []byte) (*Roster, error) {
	if len(data) > MaxRosterBytes {
		return nil, fmt.Errorf("federation: roster of %d bytes exceeds the %d-byte limit", len(data), MaxRosterBytes)
	}
	var r Roster
	if err := strict.YAML(data, &r); err != nil {
		return nil, fmt.Errorf("federation: roster: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadRoster reads and parses a roster file.
func LoadRoster(path string) (*Roster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRosterBytes+1))
	if err != nil {
		return nil, fmt.Errorf("federation: reading %s: %w", path, err)
	}
	r, err := ParseRoster(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Marshal writes the roster as YAML.
func (r *Roster) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("federation: roster: %w", err)
	}
	return b.Bytes(), enc.Close()
}

// Validate fills defaults and checks every field, returning all problems.
func (r *Roster) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Version != ProtocolVersion {
		bad("version %d: this mec speaks federation protocol version %d", r.Version, ProtocolVersion)
	}
	if !ValidName(r.Federation) {
		bad("federation %q: want 1–63 of a–z, 0–9, '-'", r.Federation)
	}
	if r.Domain == "" {
		r.Domain = "mec"
	}
	if r.ExternalCA != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(r.ExternalCA)) {
			bad("external_ca: no PEM certificate in it")
		}
	}
	if !ValidName(r.Domain) {
		bad("domain %q: want 1–63 of a–z, 0–9, '-'", r.Domain)
	}
	l := &r.Learning
	if l.Eta == 0 {
		l.Eta = 1
	}
	if l.Topology == "" {
		l.Topology = "complete"
	}
	if l.RoundTimeout == 0 {
		l.RoundTimeout = Duration(5 * time.Second)
	}
	if l.Liveness == 0 {
		l.Liveness = Duration(3 * time.Second)
	}
	if l.MaxStaleness == 0 {
		l.MaxStaleness = 2
	}
	if l.DP.Delta == 0 {
		l.DP.Delta = 1e-5
	}
	if !(l.Eta > 0 && l.Eta <= 2) {
		bad("learning.eta %v: want 0 < η ≤ 2", l.Eta)
	}
	if l.Topology != "complete" && l.Topology != "ring" {
		bad("learning.topology %q: want complete or ring", l.Topology)
	}
	if l.RoundTimeout < Duration(10*time.Millisecond) || l.RoundTimeout > Duration(10*time.Minute) {
		bad("learning.round_timeout %v: want 10ms..10m", time.Duration(l.RoundTimeout))
	}
	if l.Liveness < Duration(100*time.Millisecond) || l.Liveness > Duration(10*time.Minute) {
		bad("learning.liveness %v: want 100ms..10m", time.Duration(l.Liveness))
	}
	if l.MaxStaleness < 0 || l.MaxStaleness > 1000 {
		bad("learning.max_staleness %d: want 0..1000", l.MaxStaleness)
	}
	if l.DP.Enabled && (!(l.DP.Clip > 0) || !(l.DP.NoiseMultiplier > 0) || !(l.DP.Delta > 0 && l.DP.Delta < 1)) {
		bad("learning.dp: want clip > 0, noise_multiplier > 0 and 0 < delta < 1 when enabled")
	}
	if l.SecAgg.Clip == 0 {
		l.SecAgg.Clip = 10
	}
	if l.SecAgg.Epoch == 0 {
		l.SecAgg.Epoch = 1
	}
	if l.SecAgg.Threshold < 0 || l.SecAgg.Threshold == 1 || !(l.SecAgg.Clip > 0) || math.IsInf(l.SecAgg.Clip, 0) {
		bad("learning.secagg: want threshold 0 (majority) or ≥ 2, and a finite clip > 0")
	}
	if r.Phase.Epsilon == 0 {
		r.Phase.Epsilon = 0.5
	}
	if !(r.Phase.Epsilon > 0 && r.Phase.Epsilon <= 3.1416) {
		bad("phase.epsilon %v: want 0 < ε_φ ≤ π", r.Phase.Epsilon)
	}
	cores := 0
	names := map[string]int{}
	keys := map[string]string{}
	for i := range r.Members {
		m := &r.Members[i]
		if err := m.validate(); err != nil {
			errs = append(errs, fmt.Errorf("members[%d]: %w", i, err))
			continue
		}
		if j, dup := names[m.Name]; dup {
			bad("members[%d]: name %q repeats members[%d]", i, m.Name, j)
		}
		names[m.Name] = i
		for _, k := range []string{m.SigningKey, m.KEMKey, m.NKey, m.Cert} {
			if other, dup := keys[k]; dup {
				bad("members[%d] (%s): a key of %s is reused", i, m.Name, other)
			}
			keys[k] = m.Name
		}
		if m.Role == Core {
			cores++
		}
	}
	if len(r.Members) == 0 {
		bad("members: none")
	} else if cores == 0 && len(errs) == 0 {
		bad("members: no core node (the cores hold the streams)")
	}
	for i, m := range r.Members {
		if m.Relay == "" {
			continue
		}
		if j, ok := names[m.Relay]; !ok || r.Members[j].Role != Relay {
			bad("members[%d] (%s): relay %q is not a relay of this roster", i, m.Name, m.Relay)
		}
	}
	for _, relay := range r.ByRole(Relay) {
		if g := len(r.Group(relay)); g == 1 {
			bad("relay %s has one edge: secure aggregation needs at least two (a sum of one is that edge's update)", relay)
		} else if t := r.Learning.SecAgg.Threshold; g > 1 && t != 0 && (2*t <= g || t > g) {
			bad("learning.secagg.threshold %d: relay %s's group of %d edges needs %d..%d", t, relay, g, g/2+1, g)
		}
	}
	if r.Streams.Replicas == 0 {
		r.Streams.Replicas = min(3, max(cores, 1))
	}
	if r.Streams.Replicas < 1 || r.Streams.Replicas > 5 || r.Streams.Replicas > max(cores, 1) {
		bad("streams.replicas %d: want 1..min(5, cores)", r.Streams.Replicas)
	}
	if r.Streams.MaxAge == 0 {
		r.Streams.MaxAge = Duration(24 * time.Hour)
	}
	if r.Streams.MaxBytes == 0 {
		r.Streams.MaxBytes = 1 << 30
	}
	if r.Streams.MaxAge < Duration(time.Minute) || r.Streams.MaxBytes < 1<<20 {
		bad("streams: want max_age ≥ 1m and max_bytes ≥ 1 MiB")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("federation: roster: %w", err)
	}
	return nil
}

// Member returns the entry of name, or nil.
func (r *Roster) Member(name string) *Member {
	for i := range r.Members {
		if r.Members[i].Name == name {
			return &r.Members[i]
		}
	}
	return nil
}

// ByRole returns the names of the members of a role, in roster order.
func (r *Roster) ByRole(role Role) []string {
	var out []string
	for _, m := range r.Members {
		if m.Role == role {
			out = append(out, m.Name)
		}
	}
	return out
}

// Group returns the edges behind relay, sorted by name.
func (r *Roster) Group(relay string) []string {
	var out []string
	for _, m := range r.Members {
		if m.Relay == relay {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Participants returns the members that take part in learning rounds
// directly, sorted by name: cores, edges without a relay, and relays
// (on behalf of their groups).
func (r *Roster) Participants() []string {
	var out []string
	for _, m := range r.Members {
		if m.Role == Core || m.Role == Relay || (m.Role == Edge && m.Relay == "") {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}

// CertPool returns the certificates of the members with the given roles
// (all members when none is given).
func (r *Roster) CertPool(roles ...Role) *x509.CertPool {
	p := x509.NewCertPool()
	for _, m := range r.Members {
		if m.cert != nil && (len(roles) == 0 || slices.Contains(roles, m.Role)) {
			p.AddCert(m.cert)
		}
	}
	return p
}

// CertBundle returns the PEM certificates of every member: the CA file
// an external NATS cluster's servers verify the nodes with.
func (r *Roster) CertBundle() string {
	var b strings.Builder
	for _, m := range r.Members {
		b.WriteString(strings.TrimSpace(m.Cert))
		b.WriteString("\n")
	}
	return b.String()
}

// memberByCert finds the member whose certificate is c.
// isExternal reports whether a verified chain ends in one of the
// roster's external_ca certificates (an external NATS server's).
func (r *Roster) isExternal(chains [][]*x509.Certificate) bool {
	if r.ExternalCA == "" {
		return false
	}
	rest := []byte(r.ExternalCA)
	var cas []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			cas = append(cas, c)
		}
	}
	for _, ch := range chains {
		if len(ch) == 0 {
			continue
		}
		for _, ca := range cas {
			if ca.Equal(ch[len(ch)-1]) {
				return true
			}
		}
	}
	return false
}

func (r *Roster) memberByCert(c *x509.Certificate) *Member {
	for i := range r.Members {
		if m := &r.Members[i]; m.cert != nil && m.cert.Equal(c) {
			return m
		}
	}
	return nil
}

// subjectNode returns the node token of a federation subject
// "mec.fed.<node>.<kind>".
func subjectNode(subject string) (node, kind string, ok bool) {
	rest, ok := strings.CutPrefix(subject, SubjectPrefix+".")
	if !ok {
		return "", "", false
	}
	node, kind, ok = strings.Cut(rest, ".")
	return node, kind, ok && node != "" && kind != "" && !strings.Contains(kind, ".")
}
