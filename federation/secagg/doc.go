// Package secagg is secure aggregation for relay rounds of mec's federated
// nodes: a relay R learns the sum of the parameter deltas of the m edges
// behind it (the group), never an individual delta, and still gets the sum
// of the survivors when edges drop out mid-round. It is the double-masking
// protocol of Bonawitz et al. 2017 ("Practical Secure Aggregation for
// Privacy-Preserving Machine Learning"), with ML-KEM-768 (FIPS 203) for the
// pairwise key agreement, pairwise MACs in place of signatures in the
// consistency check, and hash commitments that let the relay detect corrupt
// shares. The package has no transport: it is pure state machines and
// byte encodings that the node runtime carries over NATS.
//
// Layer: runtime (protocol). It may import internal/cbor only.
//
// # Roles and calls
//
// Once per group and key epoch (names sort byte-wise; the member of a pair
// whose name sorts first is its initiator, PairInitiator):
//
//	initiator a:  ct, s, err := EncapsulatePair(a, b, epoch, pubB, rand)   → PairCiphertext{epoch, a, b, ct} to b
//	responder b:  s, err := DecapsulatePair(b, a, epoch, skB, ct)
//	every member: g, _ := NewGroup(epoch, members, t); node, _ := NewNode(g, self, secrets)
//
// Per round r (r strictly increasing per node and epoch):
//
//	edge:   c, _ := node.NewClient(r, rand)
//	edge:   ss, _ := c.ShareSet()                       → ShareSet to the relay
//	relay:  agg, _ := NewAggregator(g, r, clip, dim); agg.AddShareSet(ss)…  (until the share deadline)
//	relay:  dels, _ := agg.Deliveries()                 → dels[name] (a Delivery) to each participant
//	edge:   y, _ := c.Mask(x, clip, delivery)           → MaskedVector to the relay
//	relay:  agg.AddMasked(y)…                           (until the masking deadline)
//	relay:  ann, _ := agg.Announce()                    → Announcement to the survivors
//	edge:   acc, _ := c.Accept(ann)                     → Acceptance to the relay
//	relay:  agg.AddAcceptance(acc)…; conf, _ := agg.Confirm()  → Confirmation to the acceptors
//	edge:   rev, _ := c.Reveal(conf)                    → Reveal to the relay
//	relay:  agg.AddReveal(rev)…; sum, n, err := agg.Result()
//
// Result returns Σ_{u∈U} x_u (float64, dequantized) and n = |U|. Every step
// that needs t members fails with a clear error below that:
// ErrTooFewParticipants (share sets), ErrTooFewSurvivors (masked vectors),
// ErrTooFewAccepts, ErrTooFewReveals. Those steps may be retried after more
// messages arrive; the relay never outputs a sum of fewer than t inputs.
// Repeating a step with the same message returns the same answer, so
// transport retries are safe.
//
// # Construction
//
// Pair secret (once per epoch): HKDF-SHA256 of the ML-KEM shared key, salt
// "mec/secagg/v1 pair-secret", info binding both names (sorted), the epoch
// and SHA-256 of the ciphertext. ML-KEM has implicit rejection: a corrupted
// ciphertext or wrong key decapsulates to an unrelated key without an
// error; the first round then fails at Deliveries with ErrPairMismatch
// naming the pair (their seed commitments differ).
//
// Round seeds: s_ab^r = HKDF-Expand(pair secret, "mask-seed" ‖ epoch ‖ r ‖
// names). Self-mask seed: b_a, 32 fresh random bytes per round. Bundle keys
// and acceptance-tag keys are further HKDF-Expand outputs of the pair
// secret, per round and direction (labels "bundle-key", "accept-key"), so
// revealing s_ab^r reveals no key.
//
// PRG: AES-256-CTR keystream, key = the 32-byte seed, initial counter block
// zero; mask element i is keystream bytes 8i..8i+7 as a little-endian
// uint64. Long vectors are masked in parallel segments (CTR seeks).
//
// Masking, in Z_{2^64}, with P the participant set of the round (members
// whose ShareSet the relay accepted) and order the group order:
//
//	y_a = q(x_a) + PRG(b_a) + Σ_{b∈P, b>a} PRG(s_ab^r) − Σ_{b∈P, b<a} PRG(s_ab^r)
//
// Quantization: q(x_i) = RoundToEven(x_i·scale) as two's-complement int64,
// scale = 2^(62−e) with m·C = f·2^e, f ∈ [1/2, 1) (see Scale), so
// m·C·scale < 2^62 and a sum of at most m inputs never wraps. The error is
// at most |U|/(2·scale) per element (scale ≈ 2^61/(m·C)) plus one float64
// rounding of the sum. Inputs with NaN, ±Inf, |x_i| > C or ||x||_2 > C
// (1e-9 relative slack) are rejected.
//
// Shares: Shamir over GF(2^8) (AES polynomial), byte-wise on each 32-byte
// secret, threshold t, member i holding the evaluation at i+1 (so m <= 255).
// Each edge shares b_a and its m−1 round seeds; the shares for member c go
// in one Bundle sealed with AES-256-GCM under the a→c bundle key, a random
// 96-bit nonce, and associated data binding the group digest, epoch,
// round, sender and recipient. The relay forwards bundles and cannot read
// them. Field arithmetic on secrets is constant-time (secret values are
// only multiplied by public scalars, bit-sliced eight to a word).
//
// Commitments: each ShareSet carries SHA-256 commitments to b_a and to each
// s_ab^r (domain-separated, bound to epoch, round and names). The relay
// checks every reconstruction against them (so a corrupt share is detected
// even with exactly t reveals), checks that all shares agree when more than
// t arrived, and checks that the unmasked sum lies in the range the clip
// bound allows.
//
// Acceptance round (Bonawitz's consistency check): an edge accepts at most
// one announcement per round and proves it to every other survivor with a
// 128-bit HMAC-SHA256 tag under their pair's accept key; it reveals only
// for a Confirmation of the announcement it accepted that carries valid
// tags from at least t acceptors (itself included).
//
// # Security
//
// Threat model: the relay is malicious (it may drop, delay, reorder,
// replay, forge its own messages and send different messages to different
// edges); edges are honest. Claim: the relay learns nothing about the
// inputs beyond Σ_{u∈U} x_u for one set U with |U| >= t.
//
//  1. The relay never sees a pair secret: ML-KEM-768 ciphertexts are
//     IND-CCA2, and bundles are AEAD-sealed under keys derived from them.
//  2. Fewer than t shares of a Shamir sharing are uniform whatever the
//     secret (TestShamirHides checks this exhaustively for a byte).
//  3. Each honest edge accepts one announcement per round; reveals need t
//     acceptors of the same announcement, and two sets of t acceptors
//     intersect because NewGroup requires 2t > m. So all reveals of a round
//     answer one (U, D), with U ∩ D = ∅ and U ∪ D = the P of every revealer.
//  4. For that (U, D) the relay can reconstruct b_u (u ∈ U) and s_du
//     (d ∈ D, u ∈ U) only. For a ∈ U, y_a minus everything the relay can
//     compute still carries the pair masks PRG(s_au^r) for u ∈ U \ {a}
//     (|U|−1 >= 1 of them): only their sum over U cancels. y_d of a dropped
//     d is still masked by PRG(b_d). Hence (PRG security) the relay learns
//     Σ_U x only. TestThresholdRuleModel checks steps 3–4 over every relay
//     strategy for m <= 5, and shows both rules are necessary.
//  5. Rounds never reuse seeds: b_a is fresh, s_ab^r is bound to r, and a
//     Node refuses a round number twice; a Client masks once.
//
// A relay colluding with edges is outside this claim: colluding edges hold
// shares and pair secrets and may answer several announcements, which
// needs a larger threshold (Bonawitz et al. analyse that case); this
// package does not enforce one. Integrity of the sum against a malicious
// edge (a wrong y) is not provided: any edge can shift the sum.
//
// # Caller duties
//
//   - Use a fresh round number for every round of an epoch, across
//     restarts: persist the last one and call Node.ResumeAfter, or start a
//     new epoch (new pair secrets).
//   - Give every edge and the relay the same clip C for a round.
//   - Deliver each participant its Delivery as one message; an edge masks
//     with exactly the participants its Delivery names.
//   - Keep pair secrets and Clients private to their node.
//
// # Wire formats
//
// Every message is a version byte (Version = 1), a kind byte (Kind*), then
// one deterministic CBOR array (internal/cbor) of the fields documented on
// each type. Each message has exactly one accepted encoding. The decoders
// (Unmarshal*) reject oversized input before parsing (Max*Size), wrong
// versions (ErrVersion), wrong kinds, truncation, trailing bytes,
// non-canonical CBOR, and fields over the limits (MaxMembers, MaxNameLen,
// MaxDim) with ErrMalformed, and never panic; the relay and the edges then
// check a decoded message against the round (ErrMismatch, ErrRefused).
//
//	kind  message         direction             size limit
//	1     PairCiphertext  initiator → peer      2 KiB (1088-byte ML-KEM ciphertext)
//	2     ShareSet        edge → relay          4 MiB (m−1 bundles of 32·m+16 bytes)
//	3     Delivery        relay → edge          4 MiB
//	4     MaskedVector    edge → relay          16 MiB + 64 KiB (8 bytes per element, ≤ 2^21 elements)
//	5     Announcement    relay → survivors     64 KiB
//	6     Acceptance      survivor → relay      8 KiB
//	7     Confirmation    relay → acceptors     2 MiB (|U|·(|U|−1) tags of 16 bytes)
//	8     Reveal          acceptor → relay      1 MiB (|U| + |D|·|U| shares of 32 bytes)
//
// # Performance
//
// Masking 1M elements with m = 4 is four AES-CTR streams plus quantization;
// see BenchmarkMask and BenchmarkUnmask. The relay keeps one running sum
// (O(dim) memory whatever m).
package secagg
