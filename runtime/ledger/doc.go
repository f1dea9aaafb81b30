// Package ledger is mec's signed, tamper-evident, crash-safe telemetry
// ledger: an append-only log of telemetry events (package telemetry) with a
// hash chain, an RFC 6962 Merkle tree and ML-DSA-65 signed checkpoints.
//
// Layer: runtime. It may import runtime/telemetry only.
//
// # Directory layout
//
// A ledger is one directory:
//
//	events.log       the records (append-only)
//	checkpoints.log  every signed checkpoint ever written (append-only)
//	checkpoint       the latest signed checkpoint (atomically replaced)
//	checkpoint.witnessed
//	                 the newest checkpoint co-signed by a quorum of
//	                 witnesses (optional; see Witnesses below)
//	ledger.pub       the checkpoint verifier key
//	ledger.key       the signing key, mode 0600 (only when the ledger
//	                 generated its own key; see Options.Signer)
//	lock             the writer lock: Open holds an exclusive flock(2) on
//	                 it until Close and writes its PID into it
//
// One writer at a time: Open takes the lock without waiting, and a second
// Open (in any process) fails with a *LockedError, "ledger DIR is in use
// by PID N" (errors.Is(err, ErrLocked)). The kernel releases the lock when
// the holder exits, however it exits. Readers (Verify, Scan, Tail,
// ReadTree, ReadCheckpoint and the proofs) never take it and work while a
// writer is appending, and on a read-only file system, where Open reports
// the read-only file system.
//
// # events.log
//
// A 16-byte header — magic "MECLEDGR", format version 1, chain hash
// algorithm (1 = SHA-256, 2 = SHA3-256), six zero bytes — then frames:
//
//	frame   = len(u32) crc(u32) payload          big-endian
//	crc     = CRC-32C (Castagnoli) of the 4 len bytes ‖ payload
//	payload = event ‖ chain hash (32 bytes)
//	event   = canonical telemetry encoding (telemetry.Marshal)
//
// Record t (0-based) stores H_{t+1} = H(H_t ‖ event_t), where H is the
// chain hash algorithm recorded in the header (SHA-256 by default, SHA3-256
// on request via Options.ChainHash) and H_0 is 32 zero bytes. The Merkle
// leaf of record t is the RFC 6962 leaf hash SHA-256(0x00 ‖ payload_t); the
// tree is the RFC 6962 (SHA-256) tree over the leaves, built with
// github.com/transparency-dev/merkle, and agrees with
// golang.org/x/mod/sumdb/tlog (the tests cross-check both).
//
// # Checkpoints
//
// A checkpoint is a C2SP tlog-checkpoint body — origin line, decimal tree
// size, base64 root hash — with one extension line, "chain <alg> <base64
// H_size>", signed as a C2SP signed note (golang.org/x/mod/sumdb/note) by an
// ML-DSA-65 key (FIPS 204, github.com/cloudflare/circl) whose name is the
// origin. The signature type is 0xff followed by "ML-DSA-65" (signed-note
// reserves 0xff for algorithms without an assigned byte), so the key ID is
// SHA-256(name ‖ 0x0A ‖ 0xff ‖ "ML-DSA-65" ‖ public key)[:4]. Signatures
// are hedged (randomised) with an empty ML-DSA context string.
//
// A checkpoint is written every Options.CheckpointEvery records, and when
// Options.CheckpointInterval has passed with records waiting, by a
// goroutine separate from the committer so that signing never delays
// appends; it always describes durable records. When the signer falls
// behind, pending requests coalesce into the newest one, so checkpoint
// sizes are not necessarily multiples of N. Each is appended to
// checkpoints.log (a 16-byte header "MECCKPTS", 1, 0, zeros, then frames as
// above whose payload is the signed note) and fdatasync'd, then written to
// checkpoint via a temporary file, fsync, rename and directory fsync. Close
// and Open sign a final checkpoint covering every record.
//
// # Durability
//
// Append returns only after its record has been written and fdatasync'd.
// One committer goroutine takes every queued append, writes them with a
// single write and a single fdatasync (group commit) and then acknowledges
// them all. If a write or sync fails the ledger stops accepting appends
// (the page cache cannot be trusted after a failed fsync); reopening
// recovers. A failed checkpoint write (ENOSPC, say) stops the ledger the
// same way — appends would otherwise go on being acknowledged with no
// signed checkpoint ever covering them: Append and Close return the
// error and Stats.Err holds it. The part of the frame that reached
// checkpoints.log is truncated away (and Open truncates a torn tail
// there in any case). Stats reports the append-to-durable latency
// ("commit lag").
//
// # Recovery
//
// Open scans every frame and re-checks CRCs, encodings and the chain. A
// torn tail — an incomplete frame, an all-zero tail, or a final frame with
// a bad CRC, running to the end of the file — is what a crash during an
// append leaves, and is truncated, unless a signed checkpoint covers it
// (then it is corruption: acknowledged data cannot be silently dropped).
// Damage followed by more data, including a tail in which a complete
// CRC-valid frame still starts (a corrupted length field), is a hard
// *CorruptError naming the file, record index and byte offset. Open also
// checks the latest checkpoint's signature, root and chain hash, and signs
// a new checkpoint if records follow it.
//
// # Verification and trust model
//
// Verify never modifies files. It checks the key files, every frame,
// every event's canonical encoding, the chain, the tree, and every
// checkpoint in checkpoints.log and the checkpoint file (signature,
// canonical bytes, strictly increasing sizes, root and chain hash equal to
// those recomputed at its size); a torn tail is reported, not repaired.
// Verification needs only the public key. By default the directory's
// ledger.pub is trusted; a verifier who holds the key independently passes
// it (VerifyOptions.Verifier, `mec ledger verify --pub FILE`) and then a
// different ledger.pub is an error. Whoever holds the signing key can
// rewrite history, so for real tamper evidence keep the private key out of
// the directory (Options.Signer) and publish or witness checkpoints
// elsewhere; records appended after the newest checkpoint are protected
// by CRC and chain only, not by a signature (Report.Unsigned counts them),
// and truncating exactly those records is undetectable without an
// external copy of a later checkpoint.
//
// # Witnesses
//
// Federated nodes witness one another's ledgers in the way C2SP
// tlog-witness witnesses watch logs (package ledger/witness holds the
// witness side). Options.OnCheckpoint hands the node every new signed
// checkpoint note; the node sends it to its witnesses together with a
// consistency proof from the size each witness co-signed last (package
// federation: from the size it published last, and once more from the
// size of each witness left behind, which a witness missing a proof
// announces by sending its last co-signature again)
// ((*Ledger).ConsistencyProof, served from the tree the open Ledger keeps
// in memory, up to the latest signed checkpoint). A witness checks the
// log's signature and the proof, refuses and raises fork evidence on a
// conflict, and otherwise co-signs: it adds its own signed-note signature
// line, by its own ML-DSA-65 key with the same signature type, over the
// same checkpoint body (Cosign). A co-signed note is thus the checkpoint
// note with further signature lines, the log's first and the others
// sorted by key name and key ID (MergeCosignatures unites them);
// OpenWitnessed verifies the log's signature and counts valid
// co-signatures by given witness keys. Witness keys must not be named like
// the log's origin, so a co-signature can never pass for the log's own
// signature.
//
// The node keeps the newest checkpoint that reached its quorum in
// checkpoint.witnessed (SaveWitnessed: the note must match the entry of
// that size in checkpoints.log; the file is atomically replaced and never
// goes back to a smaller size; it holds only the log's signature and one
// co-signature per witness key). Open ignores the file. Verify checks it
// only when given witness keys (VerifyOptions.Witnesses, `mec ledger
// verify --witness`): it must carry at least MinWitnesses valid
// co-signatures and its root and chain hash must equal those recomputed
// from the records at its size, so a ledger rewritten — even re-signed
// with its own key — after it was witnessed fails. A file rolled back to
// an older witnessed checkpoint, before the rewritten records, still
// passes: that is caught by asking the witnesses for their latest
// co-signed checkpoint, which the local directory cannot replace.
//
// # Limits
//
// Proofs and Verify rebuild the tree from events.log (O(n) time, and
// ReadTree about 64 bytes of memory per record); there is no stored
// hash index. An open Ledger keeps every leaf hash and the tree nodes
// from level 4 up in memory for its proofs (about 36 bytes per record).
// The log is a single file (no segment rotation).
package ledger
