// Package orchestrator is the MEC runtime: eight modules ticked in a fixed
// order over the shared state Ξ = [ψ, S, Θ, Φ, Γ], every message between
// them signed (ML-DSA-65, COSE_Sign1) and verified on the MIPP bus
// (package bus), every tick recorded in the signed telemetry ledger
// (package ledger), and a constitution (package governance) that rolls
// the whole state back to the last good checkpoint when it is broken.
//
// Layer: runtime (the top of it). It may import the compute library (fusion,
// circuit), the runtime packages (bus, ledger, telemetry, governance),
// federation and the internal leaves; never devices or the commands.
//
// The runtime never names a backend: the register lives on whatever
// backend.StateVector the registry selects (Engines), inside the fusion
// layer (package fusion), behind the small Engine interface.
//
// # The shared state Ξ (type State)
//
//   - ψ: the register (on its backend; Psi in snapshots), and its folds on
//     d bins: f_Q = Prob (|ψ_a|² summed over a ≡ k mod d) and u = Bins (ψ_a
//     summed likewise).
//   - S: the spiking network (inside the engine) with its firing Rate, and
//     the semantic neural Field (d activities).
//   - Θ: the coupling α, β, γ; the grounding strength κ; the learning rate
//     η; the semantic weights W (d×d); the causal matrix and, with
//     MetaCausality's quantum mutations on, its causal graph.
//   - Φ: d Stuart–Landau oscillators Z; Φ_k = arg Z_k.
//   - Γ: compliance C(t), health, stability S(t) and dS/dt, L_int and
//     E_div, the committed rule counts, MetaCausality's window, the
//     meta-optimiser's window of f_Q, the federation peers' weights and
//     drift, and the isolated modules.
//
// A module reads a copy of Ξ and returns an Update (metrics and writes);
// the orchestrator applies a write only if the bus verified the message and
// the module owns the path: psi.prob, psi.bins, s.rate (QuantumFusion),
// theta.coupling (QuantumFusion, ReflexiveFeedback), phi.z
// (ContextualGrounding), s.field (SemanticPlasticity), theta.w
// (SemanticPlasticity, FederatedNodeLearning), fed.peers, fed.drift
// (FederatedNodeLearning), theta.causal, theta.graph, gov.history
// (MetaCausality),
// gov.governance (Governance). A forbidden write, a rejected message or a
// module error counts as a module failure.
//
// # The modules, in tick order
//
// QuantumFusion reads Θ's coupling and Δt, sets them on the engine, runs
// one fusion step (ψ evolves under the Hamiltonian on the state-vector
// backend and exchanges drive and spectral feedback with the spiking
// network; see package fusion), and writes ψ's folds f_Q and u, the firing
// rate, and the coupling when the fusion layer's own ACE or learning
// changed it. It reports h_coh, dh_coh_dt, phase_diff (|φ_ψ − φ_S|),
// e_coh, r, rate_hz, norm_drift, v_max_mv and the counts of the fusion
// layer's typed safety violations; a non-finite state is its error. Before
// the step it injects MetaCausality's matrix of the last tick as the fusion
// layer's meta graph (inject_meta_graph: quantum = H_coh, neural = firing
// rate, phase = grounding error; lambda_q, lambda_n, lambda_p); after it,
// it reports the fusion layer's learning (grad_exchanged, grad_loss,
// grad_loss_after, meta_mutated, meta_outcomes, theta_change, and a
// mutation's ε_Q and ΔΘ as mutation.eps.k and mutation.dtheta.k), det J of
// the step map (det_j, fusion §13; det_j_skipped above 6 qubits), and
// phase_to_semantic's distance from f_Q and monitor_entropy.
//
// ContextualGrounding grounds the phase layer in the register: it reads u,
// Φ and κ and integrates (RK4, step ≤ h) the Stuart–Landau oscillators
// dZ_k/dt = (μ + iω_k − |Z_k|²)Z_k + κ(u_k − Z_k) over Δt, then, unless
// grounding.psn.k is 0, synchronises Φ's phases through the PSN (fusion
// §9, type PSN: a Kuramoto array on the backend's phase capability),
// writing Φ. It reports grounding_error Σ|Z_k − u_k|², phase_order, the
// Kuramoto order parameter of Φ, psn_order and psn_spread after the PSN,
// and mcc_rate, max_ij |d/dt(Φ_i − Φ_j)| over the tick, on which the
// meta-causal-consistency rule (integration §3) is evaluated.
//
// SemanticPlasticity reads f_Q, W, η and the field and applies the delta
// rule y = W·f_Q, W ← W + η·Δt·(f_Q − y)·f_Qᵀ (entries clipped to ±w_max),
// then relaxes the field toward max(y, 0) with time constant τ. It writes
// W and S's field and reports plasticity_error ‖f_Q − f_S‖² and w_norm.
//
// FederatedNodeLearning simulates nodes − 1 peers that learn W by the same
// rule from f_Q plus seeded Gaussian noise, computes W̄, the mean over all
// nodes, and the drift max_node ‖W_node − W̄‖_F, and every round ticks
// replaces every node's W by W̄ (federated averaging). It writes W (on
// rounds), the peers and the drift, and reports federated_drift — exactly
// 0 for a single node, whose mean is itself.
//
// MetaCausality appends (h_coh, rate_hz, grounding_error,
// plasticity_error) to its window in Γ and estimates, for every ordered
// pair of these series, the lag-1 Granger influence 1 − RSS_full/RSS_restr
// (least squares with and without the cause's lag). It writes the window
// and the matrix into Θ and reports causal_n_to_q (firing rate → H_coh),
// causal_q_to_n and causal_max. With causality.mutation on (integration
// §10, quantum perturbations in its mutation logic) it also keeps a causal
// graph over the series (every edge at first): every mutation.every ticks
// it draws ε, one component per edge, from measurement outcomes of ψ on
// the backend's sampler (fusion.QuantumNoise: standardised Z outcomes, 0
// for a qubit in a Z eigenstate), proposes the graph with every edge of
// |ε_e| > threshold flipped, and keeps the proposal when it lowers the
// graph's BIC, Σ_j [n·ln(RSS_j/n) + p_j·ln n] for the VAR(1) fits of each
// series on its own lag and its causes' (GraphBIC: RSS_j floored at
// 1e-12·TSS_j, constant series left out, p_j the regressors used). Edges
// outside the graph read 0 in the matrix, so the mutations reach
// inject_meta_graph and ReflexiveFeedback; with mutations off, a graph in
// Θ (a state saved with them on) is kept but ignored. It reports
// causal_proposed, causal_mutated, causal_outcomes, causal_edges and
// causal_bic, and the proposal's ε, flips and BIC before and after as
// causal_mutation.* metrics.
//
// ReflexiveFeedback closes the loop on the coherence entropy: with e =
// h_coh − h_target and c the rate → H_coh influence, it sets γ ←
// clamp(γ·e^(−gain·(1+c)·e), γ_min, γ_max) in Θ — less spectral feedback
// when the register decoheres, more when it is coherent. The orchestrator
// measures reflex_latency_s, the wall time from QuantumFusion's verified
// message to this module's update being applied.
//
// Governance reads every metric of the tick and Ξ's features: it
// evaluates the constitution (C(t) = fraction of rules satisfied; two
// built-in rules require a finite Ξ and no module failure; rules on its
// own figures — dS/dt among them — see this tick's values, computed with
// C'(t), the compliance of the other rules, which S(t) uses), computes E_div
// = Σ_{i<j}‖f_i − f_j‖² over f_Q, f_S (the normalised field) and f_Φ
// (|Z_k|² normalised), L_int = E_div + λ_H·H_coh + λ_G·(1 − C), S(t) =
// α·C − β·H_coh − γ·E_div, dS/dt and the health score (package
// governance), and writes them into Γ with the committed rule counts. It
// reports decision_rollback = 1 when a rule with the rollback action is
// broken or the health is below τ_safe.
//
// BlockchainTelemetry appends the tick to the ledger — a FusionEvent
// (H_coh, |φ_ψ − φ_S|, E_coh; ParentBlock chaining the fusion events), a
// "mutation" SystemEvent when the fusion layer's meta-evolution mutated Θ
// (ε_Q and ΔΘ per component), a "causal-mutation" SystemEvent when
// MetaCausality proposed a mutation of its graph (ε per edge, flips, BIC
// before and after, accepted), and a "tick" SystemEvent with every other
// metric — and reports
// ledger_commit_lag_ms, the longest append-to-durable time, which the
// constitution sees in the next tick. It writes nothing into Ξ: the
// ledger is history, not state, and is never rolled back.
//
// # A tick
//
// Every message sealed for the bus is a leaf of a message batch: each
// "tick" record carries the batch of the messages sealed since the
// previous one (ledger.BatchFields: leaves, senders, RFC 6962 root), and
// Run ends with a "messages" record of the last (FlushMessages);
// ledger.ProveMessage proves one message. Reproducible runs record none.
//
// Tick injects the faults due, steps the modules that are not isolated,
// and then either commits — Tick and simulated time advance, the next Δt
// = min + (max − min)·(1 − H_coh)^p (high entropy, smaller step), f_Q
// joins the meta-optimiser's window, every K ticks CMA-ES (gonum
// optimize.CmaEsChol, seeded) tunes Θ's coupling and learning parameters,
// and every N compliant ticks a checkpoint is taken — or, when Governance
// decided so, rolls back.
//
// # The meta-optimiser (integration §7, CLDF)
//
// CMA-ES minimises the spec's L_int = Σ_{i<j}‖f_i − f_j‖² + λ_H·H_coh +
// λ_G·(1 − C) (the dynamics' λ_H and λ_G, the weights Governance's L_int
// uses) over the parameters meta.params names, in log space within their
// bounds (meta.bounds, else meta.min and meta.max): the coupling α, β, γ
// and the grounding and plasticity rates κ and η — every scalar of Θ (W
// and the causal matrix are learned by their own modules every tick). The
// terms: f_i are the three layers' feature distributions on d bins, f_Q
// (ψ folded), f_S (the neural field) and f_Φ (|Z_k|²), the ones E_div
// uses; H_coh is the coherence entropy of ψ (Shannon entropy of |ψ|², as
// the h_coh metric); C is the constitution's compliance of a tick (the c
// metric). The objective (Surrogate) is their mean over a replay: the
// recorded window of f_Q, with the H_coh and C recorded on those ticks, run
// through the grounding and plasticity layers from the current Φ, S and
// W with the candidate κ and η; then meta.horizon engine steps rolled out
// from the current register with the candidate α, β, γ (fusion.System.
// Rollout, without the fusion layer's learning, restored bit-exact
// after), whose f_Q, H_coh and C (the constitution on the step's own
// metrics; rules on other figures suspended) are measured. κ and η do not
// act on the register, so only the rollout's terms depend on α, β, γ and
// only E_div on κ and η. A trust penalty trust·Σ(ln p − ln p₀)² keeps an
// update near the current values (p₀ the current value clamped into its
// bounds, so a parameter at 0, γ at a gamma_min of 0 or η = 0, is tuned
// from its lower bound). One failed evaluation ends the run with its
// error (the remaining candidates are not rolled out). The result is applied to Θ when it
// lowers the objective; the reflexive controller goes on steering γ every
// tick within its bounds, and the fusion layer's own learning moves α, β,
// γ between runs. Each run is a "meta-optimise" ledger record (the
// parameters and the terms before and after).
//
// # Checkpoints and rollback
//
// A checkpoint is the full runtime state encoded bit-exactly
// (State.MarshalBinary with ψ and the engine's snapshot); its SHA-256 is
// recorded in the ledger as a "checkpoint" event, and it becomes usable
// once a signed ledger checkpoint (C2SP signed note, ML-DSA-65) covers
// that record, as read back and verified from the ledger directory. A
// rollback restores the newest such checkpoint (waiting for the ledger to
// sign it if needed), re-encodes the restored state and fails unless the
// bytes are equal, isolates the modules at fault (not Governance or
// BlockchainTelemetry) for isolate_ticks ticks, applies the ACE
// recalibration (γ ← max(0.9γ, γ_min), α ← min(1.1α, α_max)) and logs a
// "rollback" event; the time from Governance's decision to this point is
// the rollback's response time, whose mean is the verification table's
// reflexive latency. Faults are part of the environment and do not recur
// after a rollback; max_rollbacks bounds a run that keeps failing.
package orchestrator
