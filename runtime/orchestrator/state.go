package orchestrator

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
)

// State is the shared state Ξ = [ψ, S, Θ, Φ, Γ] of the runtime. Between
// snapshots the register ψ and the spiking network live in the fusion
// engine on its backend; State holds what the modules exchange, and a
// snapshot (MarshalBinary) adds the engine's complete state, so that
// restoring a snapshot is bit-exact.
type State struct {
	// Tick counts the meta-epochs completed.
	Tick uint64
	// Time is the simulated time Σ Δt.
	Time float64
	// Dt is the time step Δt of the next tick (adaptive).
	Dt float64

	// Psi is ψ, the register amplitudes, filled in snapshots only (the
	// live register is on the backend).
	Psi []complex128
	// Engine is the engine's remaining dynamic state (spiking network,
	// coupling, counters) in the engine's own encoding; snapshots only.
	Engine []byte
	// Prob is the quantum feature f_Q: |ψ_a|² summed over a ≡ k (mod d).
	Prob []float64
	// Bins is u: ψ_a summed over a ≡ k (mod d), the drive of the
	// grounding oscillators.
	Bins []complex128

	// Rate is S's spiking-network firing rate over the last tick (Hz).
	Rate float64
	// Field is S's semantic neural field (d non-negative activities).
	Field []float64

	// Theta is Θ, the tunable parameters.
	Theta Theta

	// Z is Φ: d Stuart–Landau oscillators; Φ_k = arg Z_k.
	Z []complex128

	// Gov is Γ, the governance and coordination state.
	Gov Gov
}

// Theta is Θ.
type Theta struct {
	// Alpha, Beta and Gamma are the fusion coupling (mV, mV, 1).
	Alpha, Beta, Gamma float64
	// Kappa is the grounding strength of the oscillators.
	Kappa float64
	// Eta is the plasticity learning rate.
	Eta float64
	// W is the d×d semantic weight matrix, row-major.
	W []float64
	// Causal is the m×m lag-1 Granger influence matrix of MetaCausality
	// (row: cause, column: effect) over the series CausalSeries().
	Causal []float64
	// Graph is MetaCausality's causal graph when its quantum mutations
	// are on: m×m, 1 where the edge cause → effect is in the graph, 0
	// where a mutation removed it (diagonal unused); nil: every edge (the
	// graph before any mutation, and always with mutations off).
	Graph []float64
}

// Gov is Γ.
type Gov struct {
	// C is the compliance C(t) of the last tick.
	C float64
	// Health is the health score of the last tick.
	Health float64
	// Stability is S(t) = αC − βH_coh − γE_div; DStability is dS/dt.
	Stability, DStability float64
	// LInt is the integration functional L_int; EDiv its divergence part.
	LInt, EDiv float64
	// Satisfied and Evaluated count the rule evaluations of the committed
	// ticks (those not rolled back).
	Satisfied, Evaluated uint64
	// History is MetaCausality's window of the series CausalSeries(),
	// len(CausalSeries()) values per tick, oldest first.
	History []float64
	// Probs is the window of f_Q the meta-optimiser replays, d per tick,
	// oldest first.
	Probs []float64
	// FedDrift is the federated drift of the last round: max_j ‖P_j − P̄‖
	// over the public parameters of the live nodes it averaged (0 alone).
	FedDrift float64
	// Isolated lists the isolated modules, sorted by name.
	Isolated []Isolation
}

// Isolation is a module kept out of the tick order until a tick.
type Isolation struct {
	// Module is the isolated module's name.
	Module string
	// Until is the first tick at which the module runs again.
	Until uint64
}

// causalSeries names the series MetaCausality relates, in matrix order.
var causalSeries = [...]string{"h_coh", "rate_hz", "grounding_error", "plasticity_error"}

// CausalSeries returns the names of the series MetaCausality relates, in
// the order of the rows and columns of Θ's causal matrix.
func CausalSeries() []string { return causalSeries[:len(causalSeries):len(causalSeries)] }

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := *s
	c.Psi = slices.Clone(s.Psi)
	c.Engine = slices.Clone(s.Engine)
	c.Prob = slices.Clone(s.Prob)
	c.Bins = slices.Clone(s.Bins)
	c.Field = slices.Clone(s.Field)
	c.Theta.W = slices.Clone(s.Theta.W)
	c.Theta.Causal = slices.Clone(s.Theta.Causal)
	c.Theta.Graph = slices.Clone(s.Theta.Graph)
	c.Z = slices.Clone(s.Z)
	c.Gov.History = slices.Clone(s.Gov.History)
	c.Gov.Probs = slices.Clone(s.Gov.Probs)
	c.Gov.Isolated = slices.Clone(s.Gov.Isolated)
	return &c
}

// IsIsolated reports whether module is isolated at the current tick.
func (s *State) IsIsolated(module string) bool {
	for _, iso := range s.Gov.Isolated {
		if iso.Module == module && s.Tick < iso.Until {
			return true
		}
	}
	return false
}

// isolate isolates module until tick until (extending an isolation).
func (s *State) isolate(module string, until uint64) {
	for i := range s.Gov.Isolated {
		if s.Gov.Isolated[i].Module == module {
			s.Gov.Isolated[i].Until = max(s.Gov.Isolated[i].Until, until)
			return
		}
	}
	s.Gov.Isolated = append(s.Gov.Isolated, Isolation{Module: module, Until: until})
	slices.SortFunc(s.Gov.Isolated, func(a, b Isolation) int {
		switch {
		case a.Module < b.Module:
			return -1
		case a.Module > b.Module:
			return 1
		}
		return 0
	})
}

// expireIsolation drops isolations that have ended.
func (s *State) expireIsolation() {
	s.Gov.Isolated = slices.DeleteFunc(s.Gov.Isolated, func(iso Isolation) bool { return s.Tick >= iso.Until })
}

// NonFinite returns the name of the first field of s holding NaN or ±Inf,
// or "" when every value is finite.
func (s *State) NonFinite() string {
	scalars := []struct {
		name string
		v    float64
	}{
		{"time", s.Time}, {"dt", s.Dt}, {"rate", s.Rate},
		{"theta.alpha", s.Theta.Alpha}, {"theta.beta", s.Theta.Beta}, {"theta.gamma", s.Theta.Gamma},
		{"theta.kappa", s.Theta.Kappa}, {"theta.eta", s.Theta.Eta},
		{"gov.c", s.Gov.C}, {"gov.health", s.Gov.Health}, {"gov.stability", s.Gov.Stability},
		{"gov.dstability", s.Gov.DStability}, {"gov.l_int", s.Gov.LInt}, {"gov.e_div", s.Gov.EDiv},
		{"gov.fed_drift", s.Gov.FedDrift},
	}
	for _, x := range scalars {
		if !finite(x.v) {
			return x.name
		}
	}
	vecs := []struct {
		name string
		v    []float64
	}{
		{"psi.prob", s.Prob}, {"s.field", s.Field}, {"theta.w", s.Theta.W}, {"theta.causal", s.Theta.Causal}, {"theta.graph", s.Theta.Graph},
		{"gov.history", s.Gov.History}, {"gov.probs", s.Gov.Probs},
	}
	for _, x := range vecs {
		if !finiteVec(x.v) {
			return x.name
		}
	}
	for _, x := range []struct {
		name string
		v    []complex128
	}{{"psi", s.Psi}, {"psi.bins", s.Bins}, {"phi.z", s.Z}} {
		if !finiteCVec(x.v) {
			return x.name
		}
	}
	return ""
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func finiteVec(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

func finiteCVec(v []complex128) bool {
	for _, z := range v {
		if !finite(real(z)) || !finite(imag(z)) {
			return false
		}
	}
	return true
}

// stateMagic starts every encoded State; the last byte is the version.
var stateMagic = []byte("MECXI\x00\x00\x03")

// MarshalBinary encodes the state. The encoding is canonical: equal
// states (bit for bit, float bit patterns included) have equal encodings.
//
//	magic "MECXI\0\0\3", then big-endian: tick u64, time, dt, ψ, engine,
//	prob, bins, rate, field, α, β, γ, κ, η, W, causal, graph, Z, C, health,
//	S, dS/dt, L_int, E_div, satisfied u64, evaluated u64, history,
//	probs, fed drift, isolated {name, until u64}*
//
// where floats are IEEE-754 bit patterns (u64), vectors are a u64 count
// and the elements (complex numbers as re, im) and byte strings a u64
// length and the bytes.
func (s *State) MarshalBinary() ([]byte, error) {
	e := &enc{b: append(make([]byte, 0, 4096), stateMagic...)}
	e.u64(s.Tick)
	e.f64(s.Time)
	e.f64(s.Dt)
	e.c128s(s.Psi)
	e.bytes(s.Engine)
	e.f64s(s.Prob)
	e.c128s(s.Bins)
	e.f64(s.Rate)
	e.f64s(s.Field)
	t := &s.Theta
	for _, x := range []float64{t.Alpha, t.Beta, t.Gamma, t.Kappa, t.Eta} {
		e.f64(x)
	}
	e.f64s(t.W)
	e.f64s(t.Causal)
	e.f64s(t.Graph)
	e.c128s(s.Z)
	g := &s.Gov
	for _, x := range []float64{g.C, g.Health, g.Stability, g.DStability, g.LInt, g.EDiv} {
		e.f64(x)
	}
	e.u64(g.Satisfied)
	e.u64(g.Evaluated)
	e.f64s(g.History)
	e.f64s(g.Probs)
	e.f64(g.FedDrift)
	e.u64(uint64(len(g.Isolated)))
	for _, iso := range g.Isolated {
		e.str(iso.Module)
		e.u64(iso.Until)
	}
	return e.b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, rejecting anything
// else (bad magic, truncation, trailing bytes); a snapshot of another
// format version is refused with an error naming both versions.
func (s *State) UnmarshalBinary(b []byte) error {
	m := len(stateMagic) - 1
	if len(b) < len(stateMagic) || string(b[:m]) != string(stateMagic[:m]) {
		return fmt.Errorf("orchestrator: not a state snapshot (bad magic)")
	}
	if v := b[m]; v != stateMagic[m] {
		return fmt.Errorf("orchestrator: state snapshot version %d; this build reads version %d (re-create the checkpoint)", v, stateMagic[m])
	}
	d := &dec{b: b, off: len(stateMagic)}
	var n State
	n.Tick = d.u64()
	n.Time = d.f64()
	n.Dt = d.f64()
	n.Psi = d.c128s()
	n.Engine = d.bytes()
	n.Prob = d.f64s()
	n.Bins = d.c128s()
	n.Rate = d.f64()
	n.Field = d.f64s()
	t := &n.Theta
	t.Alpha, t.Beta, t.Gamma, t.Kappa, t.Eta = d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
	t.W = d.f64s()
	t.Causal = d.f64s()
	t.Graph = d.f64s()
	n.Z = d.c128s()
	g := &n.Gov
	g.C, g.Health, g.Stability, g.DStability, g.LInt, g.EDiv = d.f64(), d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
	g.Satisfied = d.u64()
	g.Evaluated = d.u64()
	g.History = d.f64s()
	g.Probs = d.f64s()
	g.FedDrift = d.f64()
	k := d.count(16)
	for i := 0; i < k && d.err == nil; i++ {
		g.Isolated = append(g.Isolated, Isolation{Module: d.str(), Until: d.u64()})
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("orchestrator: state snapshot: %w", err)
	}
	*s = n
	return nil
}

// Digest is the SHA-256 of an encoded state.
func Digest(snapshot []byte) [32]byte { return sha256.Sum256(snapshot) }
