// Package federation runs MEC nodes as a federation over NATS: nodes that
// learn together (federated learning over the live membership graph),
// agree on their fusion phase, and witness one another's ledgers — each
// in its own process, on its own machine or in its own network namespace,
// with its own keys.
//
// Layer: runtime (across nodes). It may import its subpackages, the
// runtime's bus, ledger, witness and telemetry, internal/cbor and
// internal/strict; never runtime/orchestrator (which imports it) or the
// commands.
//
// # Nodes and roles
//
// A node is a member of a roster (Roster, the federation.yaml every node
// reads): its name, its role, the URLs it listens on, and its public keys
// — an ML-DSA-65 key (signing), an ML-KEM-768 key (pair secrets of secure
// aggregation), a NATS user NKEY and a self-signed TLS certificate, all
// made by the node itself (Init, `mec node init`) and kept in its data
// directory with mode 0600; nothing secret leaves the node.
//
//   - core: runs an embedded NATS server (package nats-server) with
//     JetStream in the roster's domain, clustered with the other cores
//     through NATS routes; creates the streams; learns directly; witnesses
//     the other nodes' ledgers.
//   - edge: runs an embedded NATS server as a leaf node of the cores (or of
//     its relay); learns directly, or — with a relay — only through it,
//     with secure aggregation.
//   - relay: a leaf node that also accepts the leaf links of its edges;
//     aggregates their masked updates (it learns only their sum) and takes
//     part in learning on the group's behalf.
//   - observer: a leaf node with read-only permissions; verifies every
//     message and checkpoint and publishes only its reports.
//
// Config.NATS makes a node a client of an external NATS cluster instead
// (Roster.NATSConfig renders its accounts: `mec node nats-config`).
//
// # Links and trust
//
// Every NATS link — client, route, leaf node — is TLS 1.3, mutual, with
// the hybrid post-quantum group X25519MLKEM768 as the only key exchange
// (integration spec §15), and trusts exactly the roster's certificates
// (routes: the cores' only): they are self-signed leaves, no CA, so no
// member can mint a certificate another node accepts, and a link whose
// peer presents none of them (or an external_ca server's) is refused.
// Link records what each negotiated. Each node
// authenticates with its NKEY as a NATS user whose subject permissions
// follow its role (Roster.Permissions): it may publish only on its own
// subjects (a relay also on its edges', which its leaf link carries); an
// observer only its reports; only cores manage the streams.
//
// On top, every message is a signed envelope of package bus (COSE_Sign1,
// ML-DSA-65, the same as the runtime's bus): origin, target (the subject),
// timestamp and sequence number are signed. A node checks each message
// with a bus.Verifier holding the roster's keys: forged, replayed,
// out-of-order, stale (more than two minutes from the time the stream
// stored it, or from its arrival for plain messages), unsigned or
// malformed messages, messages from an origin nobody trusts, messages
// signed for another subject or of a kind the sender's role may not send,
// and bodies of another protocol version are rejected and counted
// (Stats). Sequence numbers are the sender's clock in microseconds,
// strictly increasing per subject, across restarts too.
//
// # Subjects and streams (protocol version 1)
//
// Subjects are mec.fed.<node>.<kind>. Bodies are deterministic CBOR arrays
// [version, type, fields...] (one accepted encoding per message; decoders
// fuzzed); a body of another version is refused with ErrVersion naming
// both versions.
//
//	kind    transport              body           sender
//	hb      plain NATS             Heartbeat      every node but observers, 3× per liveness window
//	phase   plain NATS             PhaseReport    learners, once per round tick
//	delta   stream MEC_FED         Delta          direct learners and relays: updates and resets of their public state, in chunks
//	group   stream MEC_FED         GroupMsg       an edge behind a relay and its relay: one step of secure aggregation
//	ckpt    stream MEC_LEDGER      CheckpointMsg  every node but observers: a signed ledger checkpoint with its consistency proof
//	cosig   stream MEC_LEDGER      CosigMsg       cores: a witness co-signature
//	alert   stream MEC_LEDGER      Alert          forks (with evidence), rollbacks, phase decoupling
//	report  stream MEC_LEDGER      Report         observers
//
// The streams are replicated (Roster.Streams: three replicas by default),
// keep 24 h, and deduplicate by message ID. A message to a stream is
// retried until the stream acknowledges it (re-signed with a fresh time
// when it waited past 30 s, so that one held back by a partition is not
// stale when it lands); a node that was away (killed, partitioned,
// restarted) replays both streams from their start when it joins, so it
// catches up from what they still hold (24 h).
//
// # Learning (integration spec §9, §15)
//
// Each node that learns holds Θ_i (the runtime's semantic weights W) and a
// public state P_i — what the others know of Θ_i. A round (Node.Round):
//
//  1. the node publishes Δ = Θ_i − P_i, with differential privacy when the
//     roster says so (clipped to L2 norm C, Gaussian noise N(0, (σC)²), an
//     RDP accountant whose ε is reported at δ and kept across restarts;
//     package privacy), and sets P_i += Δ;
//  2. it waits, up to the round timeout, for the round-r states of the
//     live participants that keep up;
//  3. it moves Θ_i toward them: Θ_i ← Θ_i + η Σ_j w_ij (P_j − P_i), with
//     Metropolis–Hastings weights on the live graph (complete, or a ring
//     in name order; package consensus), η clamped with a warning to the
//     graph's stability bound 2/λ_max(L);
//  4. it records the round's federated_hash — SHA-256 over the round and
//     every member's name, epoch, round and public-state hash — and its
//     drift max_j ‖P_j − P̄‖ in its ledger.
//
// Rounds are numbered by the federation: a node's next round is its last
// plus one, or the round a live peer is already at, so nodes meet at every
// round whatever their speed, and a node that joins late or restarts
// starts from the mean of the live participants' public states. A node
// that rolls back publishes its public state of the checkpoint it returned
// to, under a new epoch (a reset), and an alert: its peers stop averaging
// in the state it abandoned. Deltas of an older epoch are ignored; a delta
// that does not reproduce its sender's published state hash marks the
// sender out of sync until its next reset — and every ResyncEvery rounds
// each node publishes its public state whole, as a reset.
//
// Edges behind a relay never publish their updates: each round they send
// them to the relay masked (package secagg: ML-KEM-768 pair secrets,
// double masking, Shamir shares, Bonawitz's consistency check), the relay
// recovers their sum only — from the survivors, dropped edges' masks
// recovered from shares — and adds their mean update to the group's
// model; the edges then take that model. The group's model is the relay's
// public state: the relay follows the federation's rounds as one member,
// at the other participants' pace (it joins the latest round; it never
// starts one), and an aggregation (at the edges' pace) reaches the
// federation in the relay's next round (group.go).
//
// # Phase consensus (fusion spec §12)
//
// Learners report their fusion phase φ_i = arg⟨F[S], ψ⟩ (Node.Phase); the
// consensus φ̄ is the circular mean of the live nodes within ε_φ of it
// (consensus.Consensus). A node farther than ε_φ is decoupled — it does
// not average and is not averaged in — and its ACE resynchronises it (the
// runtime turns ψ by −(φ_i − φ̄)); it rejoins once back within ε_φ. Both
// events are alerts and ledger records. Clusters of equal size and
// spread tie, and a tie goes to the node's own cluster: a node whose only
// live peer disagrees with it does not decouple (neither side can tell
// which one drifted).
//
// # Witnessed ledgers (integration spec §12, §15)
//
// See witness.go: every node publishes its signed checkpoints with
// consistency proofs; cores co-sign after checking the proof from the last
// checkpoint they co-signed (package ledger/witness); each node keeps the
// checkpoint a quorum co-signed; a split view, an inconsistent proof or a
// rollback is raised as a fork by every witness and observer, with
// evidence anyone can check.
package federation
