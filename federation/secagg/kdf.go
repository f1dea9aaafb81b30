package secagg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// label prefixes every derivation, commitment and authenticated-data string
// of this protocol version, so no value can be confused with one of another
// protocol or purpose.
const label = "mec/secagg/v1 "

// transcript builds the unambiguous byte strings fed to HKDF, HMAC and
// SHA-256: a purpose label, then fixed-width integers and length-prefixed
// names.
type transcript []byte

func newTranscript(purpose string) transcript {
	return append(transcript(label), purpose...)
}

func (t transcript) u64(v uint64) transcript { return binary.BigEndian.AppendUint64(t, v) }

func (t transcript) name(s string) transcript {
	return append(binary.BigEndian.AppendUint16(t, uint16(len(s))), s...)
}

func (t transcript) raw(b []byte) transcript { return append(t, b...) }

// sorted2 returns the two names in group (byte-wise) order.
func sorted2(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// expand is HKDF-Expand(SHA-256, secret, info, 32) (RFC 5869 §2.3, one
// output block: HMAC(secret, info || 0x01)). The pair secret it is applied to
// is already uniformly random, so no Extract step is needed. A test checks it
// against crypto/hkdf.
func expand(secret *[32]byte, info transcript) [32]byte {
	m := hmac.New(sha256.New, secret[:])
	m.Write(info)
	m.Write([]byte{1})
	return [32]byte(m.Sum(nil))
}

// roundSeed is s_ab^r: the per-round pair mask seed of members a and b.
// It is symmetric in a and b.
func roundSeed(pair *[32]byte, epoch, round uint64, a, b string) [32]byte {
	lo, hi := sorted2(a, b)
	return expand(pair, newTranscript("mask-seed").u64(epoch).u64(round).name(lo).name(hi))
}

// bundleKey is the AES-256-GCM key for the share bundle from sender to
// recipient in one round (directional).
func bundleKey(pair *[32]byte, epoch, round uint64, sender, recipient string) [32]byte {
	return expand(pair, newTranscript("bundle-key").u64(epoch).u64(round).name(sender).name(recipient))
}

// acceptKey is the HMAC-SHA256 key for acceptance tags from sender to
// recipient in one round (directional).
func acceptKey(pair *[32]byte, epoch, round uint64, sender, recipient string) [32]byte {
	return expand(pair, newTranscript("accept-key").u64(epoch).u64(round).name(sender).name(recipient))
}

// bundleAD is the authenticated data of a share bundle.
func bundleAD(g *Group, round uint64, sender, recipient string) []byte {
	d := g.Digest()
	return newTranscript("bundle").raw(d[:]).u64(g.epoch).u64(round).name(sender).name(recipient)
}

// acceptTag proves to recipient that sender accepted the announcement with
// the given digest (HMAC-SHA256 under the pair's accept key, truncated to
// 16 bytes). Only the two members of the pair can compute it.
func acceptTag(g *Group, pair *[32]byte, round uint64, sender, recipient string, ann *[32]byte) [TagSize]byte {
	key := acceptKey(pair, g.epoch, round, sender, recipient)
	d := g.Digest()
	m := hmac.New(sha256.New, key[:])
	m.Write(newTranscript("accept").raw(d[:]).u64(g.epoch).u64(round).name(sender).name(recipient).raw(ann[:]))
	var tag [TagSize]byte
	copy(tag[:], m.Sum(nil))
	return tag
}

// selfCommit commits to member a's self-mask seed for a round.
func selfCommit(epoch, round uint64, a string, seed *[32]byte) [32]byte {
	return sha256.Sum256(newTranscript("self-commit").u64(epoch).u64(round).name(a).raw(seed[:]))
}

// pairCommit commits to the round seed of the pair {a, b}; symmetric.
func pairCommit(epoch, round uint64, a, b string, seed *[32]byte) [32]byte {
	lo, hi := sorted2(a, b)
	return sha256.Sum256(newTranscript("pair-commit").u64(epoch).u64(round).name(lo).name(hi).raw(seed[:]))
}

// announcementDigest is what a Reveal binds: the hash of the encoded
// announcement it answers.
func announcementDigest(enc []byte) [32]byte {
	return sha256.Sum256(newTranscript("announcement").raw(enc))
}
