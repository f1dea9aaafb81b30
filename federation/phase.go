package federation

import (
	"fmt"
	"sync"
	"time"

	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/runtime/telemetry"
)

// PhaseResult is the federation's phase consensus as this node sees it.
type PhaseResult struct {
	// Mean is the consensus phase φ̄ over the live learners within ε_φ of
	// it; Nodes is how many phases it was computed from (this node's
	// included).
	Mean  float64
	Nodes int
	// Offset is this node's φ_i − φ̄, wrapped to (−π, π].
	Offset float64
	// Outlier is set while this node is farther than ε_φ from φ̄ (it is
	// decoupled: it neither averages nor is averaged in); Decoupled and
	// Rejoined mark the ticks where that changed.
	Outlier, Decoupled, Rejoined bool
	// Published is set when this call published the node's phase (a
	// decoupling or rejoining); Queued when the report waits for the
	// tick's commit (Node.Tick), so that a phase of a tick the node then
	// rolls back never reaches its peers.
	Published, Queued bool
}

type phaseReport struct {
	at     time.Time
	report PhaseReport
}

// phaseState runs the phase consensus (fusion spec §12).
type phaseState struct {
	n       *Node
	mu      sync.Mutex
	reports map[string]phaseReport
	out     bool
	pending *PhaseReport // the report to publish when its tick commits
}

func newPhaseState(n *Node) *phaseState {
	return &phaseState{n: n, reports: map[string]phaseReport{}}
}

func (p *phaseState) observe(from string, r *PhaseReport) {
	p.mu.Lock()
	p.reports[from] = phaseReport{at: time.Now(), report: *r}
	p.mu.Unlock()
}

// decoupled reports whether this node is a phase outlier.
func (p *phaseState) decoupled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

// isDecoupled reports whether a peer declared itself decoupled (in its
// latest phase report or heartbeat).
func (p *phaseState) isDecoupled(name string) bool {
	if name == p.n.self.Name {
		return p.decoupled()
	}
	p.mu.Lock()
	r, ok := p.reports[name]
	p.mu.Unlock()
	if ok && r.report.Decoupled && time.Since(r.at) < time.Duration(p.n.roster.Learning.Liveness) {
		return true
	}
	p.n.liveMu.Lock()
	defer p.n.liveMu.Unlock()
	return p.n.live[name].hb.Decoupled
}

// Phase reports this node's fusion phase φ_i at a committed tick and
// returns the consensus: φ̄ over the phases of the live learners
// (reported within the liveness window) by consensus.Consensus with
// ε_φ, and whether this node is an outlier. A node that becomes an
// outlier is decoupled (and says so: an alert and a ledger record); it
// rejoins, with an alert and a record too, once a later phase is within
// ε_φ of φ̄ again. The phase is published when the node decouples or
// rejoins; otherwise, when publish is set, it is queued and published
// when the tick commits (Node.Tick; a rollback drops it).
func (n *Node) Phase(tick uint64, phi float64, publish bool) (*PhaseResult, error) {
	p := n.phase
	cut := time.Now().Add(-time.Duration(n.roster.Learning.Liveness))
	p.mu.Lock()
	phases := []float64{phi}
	for name, r := range p.reports {
		if name != n.self.Name && r.at.After(cut) && n.isLive(name) {
			phases = append(phases, r.report.Phase)
		}
	}
	mean, outliers, err := consensus.Consensus(phases, n.roster.Phase.Epsilon)
	if err != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("federation: phase consensus at tick %d: %w", tick, err)
	}
	res := &PhaseResult{Mean: mean, Nodes: len(phases), Offset: consensus.AngleDiff(phi, mean)}
	res.Outlier = len(outliers) > 0 && outliers[0] == 0 && len(phases) > 1
	was := p.out
	p.out = res.Outlier
	res.Decoupled, res.Rejoined = res.Outlier && !was, was && !res.Outlier
	rep := &PhaseReport{Tick: tick, Phase: phi, Decoupled: res.Outlier}
	p.pending = nil
	now := res.Decoupled || res.Rejoined
	if publish && !now {
		p.pending, res.Queued = rep, true
	}
	p.mu.Unlock()
	if now {
		res.Published = n.publishPhase(rep)
	}
	if res.Decoupled || res.Rejoined {
		kind, what := AlertDecoupled, "decoupled"
		if res.Rejoined {
			kind, what = AlertRejoined, "rejoined"
		}
		text := fmt.Sprintf("phase %.4f, consensus %.4f over %d nodes, ε_φ %.3g", phi, mean, len(phases), n.roster.Phase.Epsilon)
		n.log.Info("phase consensus: "+what, "tick", tick, "phase", phi, "consensus", mean, "nodes", len(phases))
		if what == "decoupled" {
			n.count(func(s *Stats) { s.Decoupled++ })
		} else {
			n.count(func(s *Stats) { s.Rejoined++ })
		}
		n.record("phase_"+what, map[string]telemetry.Value{"tick": telemetry.Num(float64(tick)), "phase": telemetry.Num(phi),
			"consensus": telemetry.Num(mean), "nodes": telemetry.Num(float64(len(phases))), "epsilon": telemetry.Num(n.roster.Phase.Epsilon)})
		a := &Alert{Kind: kind, Node: n.self.Name, Tick: tick, Text: text}
		if _, err := n.publishJS(KindAlert, a.Marshal()); err != nil {
			n.log.Warn("phase alert not queued", "err", err)
		}
	}
	return res, nil
}

// publishPhase publishes a phase report, reporting whether it was sent.
func (n *Node) publishPhase(rep *PhaseReport) bool {
	if err := n.publishPlain(KindPhase, rep.Marshal()); err != nil {
		n.log.Debug("phase report not sent", "err", err)
		return false
	}
	return true
}

// commitPhase publishes the phase report queued for tick, if any.
func (p *phaseState) commitPhase(tick uint64) {
	p.mu.Lock()
	rep := p.pending
	if rep != nil && rep.Tick == tick {
		p.pending = nil
	} else {
		rep = nil
	}
	p.mu.Unlock()
	if rep != nil {
		p.n.publishPhase(rep)
	}
}

// dropPhase forgets the queued phase report (the node rolled back).
func (p *phaseState) dropPhase() {
	p.mu.Lock()
	p.pending = nil
	p.mu.Unlock()
}
