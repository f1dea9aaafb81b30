package orchestrator

import (
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prismai/mec/runtime/bus"
)

// Check is one row of the verification table.
type Check struct {
	// Name is what is checked.
	Name string `json:"name"`
	// Value is the measured figure (in Unit).
	Value float64 `json:"value"`
	// Unit of Value ("" for dimensionless figures).
	Unit string `json:"unit,omitempty"`
	// Measured describes how Value was measured.
	Measured string `json:"measured"`
	// Target is the spec's requirement.
	Target string `json:"target"`
	// Pass reports whether Value meets Target.
	Pass bool `json:"pass"`
}

// RollbackInfo is a Rollback for reports.
type RollbackInfo struct {
	At         uint64   `json:"failed_tick"`        // the tick that failed
	To         uint64   `json:"restored_tick"`      // the restored checkpoint's tick
	Reasons    []string `json:"reasons"`            // broken rules and failures
	Isolated   []string `json:"isolated,omitempty"` // modules isolated
	Alpha      float64  `json:"ace_alpha"`          // α after the ACE recalibration
	Gamma      float64  `json:"ace_gamma"`          // γ after the ACE recalibration
	Checkpoint string   `json:"checkpoint_sha256"`  // SHA-256 of the checkpoint
	Restored   string   `json:"restored_sha256"`    // SHA-256 of the restored state
	BitExact   bool     `json:"bit_exact"`          // Checkpoint == Restored
	Sealed     uint64   `json:"signed_tree_size"`   // signed ledger checkpoint covering it
	Index      uint64   `json:"ledger_index"`       // ledger index of the rollback record
	Escalation int      `json:"escalation"`         // 0, or how often the violation recurred right after a restore
	LatencyS   float64  `json:"response_s"`         // violation detected → restored, re-verified, logged (s)
}

// Summary is the outcome of a run.
type Summary struct {
	// Ticks is the number of committed ticks.
	Ticks uint64 `json:"ticks"`
	// Executed counts every tick run, rolled-back ones included.
	Executed uint64 `json:"executed"`
	// WallSeconds is the time since New.
	WallSeconds float64 `json:"wall_s"`
	// Rollbacks lists the governance rollbacks.
	Rollbacks []RollbackInfo `json:"rollbacks"`
	// MetaRuns lists the CMA-ES runs.
	MetaRuns []MetaRun `json:"meta_runs"`
	// Checkpoints is the number of runtime checkpoints held.
	Checkpoints int `json:"checkpoints_held"`
	// Bus counts the bus's deliveries and rejections.
	Bus bus.Stats `json:"bus"`
	// Appends is the number of ledger appends of the run.
	Appends int `json:"appends"`
	// AppendP50, AppendP99 and AppendMax summarise their
	// append-to-durable latency (ms).
	AppendP50 float64 `json:"append_p50_ms"` // median
	AppendP99 float64 `json:"append_p99_ms"` // 99th percentile
	AppendMax float64 `json:"append_max_ms"` // maximum
	// LedgerDir is the ledger directory.
	LedgerDir string `json:"ledger_dir"`
	// LedgerSize is the number of records in the ledger.
	LedgerSize uint64 `json:"ledger_size"`
	// SignedCheckpoints counts the signed checkpoints written in the run.
	SignedCheckpoints uint64 `json:"signed_checkpoints"`
	// Final holds the last committed tick's metrics.
	Final map[string]float64 `json:"final"`
	// StateSHA256 is the digest of the final full state.
	StateSHA256 string `json:"state_sha256"`
	// PhaseEntropyMax and PhaseEntropyMean summarise the quantum–neural
	// phase entropy H_φ (fusion.PhaseEntropy) over the committed ticks.
	PhaseEntropyMax  float64 `json:"h_phase_max"`
	PhaseEntropyMean float64 `json:"h_phase_mean"`
	// Learning counts the fusion layer's learning over the committed ticks.
	Learning LearningSummary `json:"learning"`
	// PSN summarises the phase synchronisation network over the committed
	// ticks.
	PSN PSNSummary `json:"psn"`
	// Checks is the verification table.
	Checks []Check `json:"verification"`
	// Pass is set when every row of Checks passes.
	Pass bool `json:"pass"`
}

// LearningSummary counts the fusion layer's learning rules over the
// committed ticks: gradient exchanges (and how many lowered the fused loss
// at the state they saw), meta-evolution mutations (each recorded as a
// "mutation" ledger event) and the measurement outcomes behind their ε_Q.
type LearningSummary struct {
	Exchanges int     `json:"gradient_exchanges"`
	Lowered   int     `json:"exchanges_lowering_loss"`
	Mutations int     `json:"mutations"`
	Outcomes  float64 `json:"measurement_outcomes"`
	// CausalProposed and CausalAccepted count MetaCausality's quantum
	// mutations of its causal graph (each proposal a "causal-mutation"
	// ledger record), CausalOutcomes the measurement outcomes behind their
	// ε (the graph's edges and BIC are in Summary.Final).
	CausalProposed int     `json:"causal_mutations_proposed"`
	CausalAccepted int     `json:"causal_mutations_accepted"`
	CausalOutcomes float64 `json:"causal_measurement_outcomes"`
}

// PSNSummary summarises Φ's phases after the PSN step (fusion §9) over the
// committed ticks on which ContextualGrounding ran: the order parameter r
// (min and mean), the largest spread |Φ_k − Φ̄| and the Meta-Causal
// Consistency rate max_{i,j} |d/dt(Φ_i − Φ_j)| (integration §3; max and
// mean). K is the coupling (0: the PSN is off and the figures are those
// of the grounded oscillators alone).
type PSNSummary struct {
	K           float64 `json:"k"`
	Ticks       int     `json:"ticks"`
	RMin        float64 `json:"r_min"`
	RMean       float64 `json:"r_mean"`
	SpreadMax   float64 `json:"spread_max"`
	MCCRateMax  float64 `json:"mcc_rate_max"`
	MCCRateMean float64 `json:"mcc_rate_mean"`
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Summary measures the run so far and builds the verification table:
// coherence entropy (max over the committed ticks, < 0.2), constitutional
// compliance (satisfied / evaluated rules over every executed tick,
// rolled-back ones included, > 0.99), federated drift (max over the
// committed ticks, < 0.05; 0 on a single node), reflexive latency
// (integration §19's "mean governance response time": the mean over the
// rollbacks of the time from Governance's decision to the restored state
// re-verified, < 1 s; vacuous without a violation), reflexive loop
// latency (the in-loop time from QuantumFusion's message to
// ReflexiveFeedback's update, max over every executed tick, < 1 s) and
// ledger commit lag (p99 of every append of the run, < 50 ms).
func (o *Orchestrator) Summary() (*Summary, error) {
	s := &Summary{Ticks: o.st.Tick, Executed: o.executed, WallSeconds: time.Since(o.started).Seconds(),
		MetaRuns: slices.Clone(o.metaRuns), Checkpoints: len(o.checkpoints), Bus: o.bus.Stats(),
		LedgerDir: o.rec.led.Dir(), LedgerSize: o.rec.led.Size(), SignedCheckpoints: o.rec.led.Stats().Checkpoints}
	for _, rb := range o.rollbacks {
		s.Rollbacks = append(s.Rollbacks, RollbackInfo{At: rb.At, To: rb.To, Reasons: rb.Reasons, Isolated: rb.Isolated,
			Alpha: rb.Alpha, Gamma: rb.Gamma, Checkpoint: hex.EncodeToString(rb.Checkpoint[:]),
			Restored: hex.EncodeToString(rb.Restored[:]), BitExact: rb.Checkpoint == rb.Restored, Sealed: rb.Sealed, Index: rb.Index,
			Escalation: rb.Escalation, LatencyS: rb.Latency.Seconds()})
	}
	lags := o.rec.Lags()
	s.Appends = len(lags)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	s.AppendP50, s.AppendP99, s.AppendMax = ms(quantile(lags, 0.5)), ms(quantile(lags, 0.99)), ms(quantile(lags, 1))
	s.Final = map[string]float64{}
	for _, k := range []string{"h_coh", "c", "compliance", "health", "stability", "dstability_dt", "l_int", "e_div", "dt",
		"phase_diff", "norm_drift", "rate_hz", "federated_drift", "reflex_gamma"} {
		if v, ok := o.prev[k]; ok {
			s.Final[k] = v
		}
	}
	b, err := o.Snapshot()
	if err != nil {
		return nil, err
	}
	dg := Digest(b)
	s.StateSHA256 = hex.EncodeToString(dg[:])

	nPhase := 0
	for _, c := range o.committed {
		s.PhaseEntropyMax = math.Max(s.PhaseEntropyMax, c.hphase)
		s.PhaseEntropyMean += c.hphase
		nPhase++
		if c.grad {
			s.Learning.Exchanges++
		}
		if c.lowered {
			s.Learning.Lowered++
		}
		if c.mutated {
			s.Learning.Mutations++
			s.Learning.Outcomes += c.outcomes
		}
		if c.causalProposed {
			s.Learning.CausalProposed++
			s.Learning.CausalOutcomes += c.causalOutcomes
		}
		if c.causalAccepted {
			s.Learning.CausalAccepted++
		}
	}
	if nPhase > 0 {
		s.PhaseEntropyMean /= float64(nPhase)
	}
	s.PSN = PSNSummary{K: o.cfg.Grounding.PSN.K, RMin: math.Inf(1)}
	for _, c := range o.committed {
		if !c.psn {
			continue
		}
		s.PSN.Ticks++
		s.PSN.RMin = math.Min(s.PSN.RMin, c.psnR)
		s.PSN.RMean += c.psnR
		s.PSN.SpreadMax = math.Max(s.PSN.SpreadMax, c.psnSpread)
		s.PSN.MCCRateMax = math.Max(s.PSN.MCCRateMax, c.mccRate)
		s.PSN.MCCRateMean += c.mccRate
	}
	if s.PSN.Ticks > 0 {
		s.PSN.RMean /= float64(s.PSN.Ticks)
		s.PSN.MCCRateMean /= float64(s.PSN.Ticks)
	} else {
		s.PSN.RMin = 0
	}
	for _, k := range []string{"lambda_q", "lambda_n", "lambda_p", "monitor_entropy", "semantic_phase_div", "theta_change",
		"memory_size", "memory_recall", "causal_edges", "causal_bic"} {
		if v, ok := o.prev[k]; ok {
			s.Final[k] = v
		}
	}

	hmax, drift := math.NaN(), math.NaN()
	if len(o.committed) > 0 {
		hmax, drift = math.Inf(-1), 0
		for _, c := range o.committed {
			hmax = math.Max(hmax, c.hcoh)
			drift = math.Max(drift, c.drift)
		}
	}
	comp := math.NaN()
	if o.evalTotal > 0 {
		comp = float64(o.evalSat) / float64(o.evalTotal)
	}
	lat := quantile(o.reflex, 1)
	p99 := quantile(lags, 0.99)
	resp, respMax := 0.0, 0.0
	for _, rb := range o.rollbacks {
		resp += rb.Latency.Seconds()
		respMax = math.Max(respMax, rb.Latency.Seconds())
	}
	respCheck := Check{Name: "reflexive latency", Value: 0, Unit: "s", Target: "< 1 s (mean)", Pass: true,
		Measured: "mean governance response time: no violation to respond to in this run"}
	if k := len(o.rollbacks); k > 0 {
		resp /= float64(k)
		respCheck.Value, respCheck.Pass = resp, resp < 1
		respCheck.Measured = fmt.Sprintf("mean governance response time over %d rollbacks: violation detected → state restored, re-verified bit-exact, recalibrated and logged (max %.3f s)",
			k, respMax)
	}
	driftCheck := Check{Name: "federated drift", Value: drift, Target: "< 0.05", Pass: drift < 0.05,
		Measured: fmt.Sprintf("max_j ‖W_j − W̄‖_F across the nodes averaged each round (up to %d), over %d committed ticks",
			o.maxMembers, len(o.committed))}
	if o.fed == nil {
		driftCheck.Measured = fmt.Sprintf("one node, no federation: nothing to drift from (%d committed ticks)", len(o.committed))
	}
	s.Checks = []Check{
		{Name: "coherence entropy", Value: hmax, Target: "< 0.2", Pass: hmax < 0.2,
			Measured: fmt.Sprintf("max H_coh over %d committed ticks (final %.4f)", len(o.committed), o.prev["h_coh"])},
		{Name: "constitutional compliance", Value: comp, Target: "> 0.99", Pass: comp > 0.99,
			Measured: fmt.Sprintf("%d of %d rule evaluations satisfied over %d executed ticks (%d rolled back, %d evaluations suspended with their isolated module)",
				o.evalSat, o.evalTotal, o.executed, len(o.rollbacks), o.evalSuspended)},
		driftCheck,
		respCheck,
		{Name: "reflexive loop latency", Value: lat.Seconds(), Unit: "s", Target: "< 1 s", Pass: len(o.reflex) > 0 && lat < time.Second,
			Measured: fmt.Sprintf("max over %d ticks, QuantumFusion message → ReflexiveFeedback update applied (p50 %.3f ms)",
				len(o.reflex), ms(quantile(o.reflex, 0.5)))},
		{Name: "ledger commit lag", Value: ms(p99), Unit: "ms", Target: "< 50 ms (p99)", Pass: len(lags) > 0 && p99 < 50*time.Millisecond,
			Measured: fmt.Sprintf("p99 append-to-durable of %d appends (p50 %.3f ms, max %.3f ms)", len(lags), s.AppendP50, s.AppendMax)},
	}
	s.Pass = true
	for _, c := range s.Checks {
		s.Pass = s.Pass && c.Pass
	}
	return s, nil
}
