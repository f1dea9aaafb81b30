package secagg

import (
	"crypto/hkdf"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// Pairwise key agreement with ML-KEM-768 (FIPS 203).
//
// For the pair {a, b} with a < b (byte-wise), a encapsulates to b's public
// key and sends the ciphertext to b in a PairCiphertext; both derive
//
//	secret = HKDF-SHA256(ikm  = ML-KEM shared key,
//	                     salt = "mec/secagg/v1 pair-secret",
//	                     info = len‖a ‖ len‖b ‖ epoch ‖ SHA-256(ciphertext))
//
// (names with 2-byte big-endian lengths, epoch 8 bytes big-endian).
//
// ML-KEM decapsulation never fails for a ciphertext of the right size: a
// corrupted ciphertext or the wrong private key yields a pseudo-random key
// unrelated to the sender's ("implicit rejection", FIPS 203 §6.3), so
// DecapsulatePair returns a secret that differs from the peer's, without an
// error. The mismatch surfaces in the first round: the Aggregator compares
// the two members' commitments to their pair seed and fails with
// ErrPairMismatch naming the pair, and their share bundles fail
// authentication (ErrAuth).

// Sizes of ML-KEM-768 values.
const (
	PublicKeySize  = mlkem768.PublicKeySize
	CiphertextSize = mlkem768.CiphertextSize
)

// PairInitiator returns the member of the pair {a, b} who encapsulates: the
// one whose name sorts first.
func PairInitiator(a, b string) string {
	lo, _ := sorted2(a, b)
	return lo
}

// ParsePublicKey decodes a packed ML-KEM-768 public key (from a roster).
func ParsePublicKey(b []byte) (*mlkem768.PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("%w: ML-KEM-768 public key of %d bytes, want %d", ErrInput, len(b), PublicKeySize)
	}
	var pk mlkem768.PublicKey
	if err := pk.Unpack(b); err != nil {
		return nil, fmt.Errorf("%w: ML-KEM-768 public key: %w", ErrInput, err)
	}
	return &pk, nil
}

// pairProblem says what is wrong with a pair of names, or "" if nothing.
func pairProblem(a, b string) string {
	if p := nameProblem(a); p != "" {
		return p
	}
	if p := nameProblem(b); p != "" {
		return p
	}
	if a == b {
		return fmt.Sprintf("pair of %q with itself", a)
	}
	return ""
}

func checkPair(self, peer string) error {
	if p := pairProblem(self, peer); p != "" {
		return fmt.Errorf("%w: %s", ErrInput, p)
	}
	return nil
}

// EncapsulatePair is run by self when self sorts before peer: it
// encapsulates to peer's public key with randomness from rand
// (crypto/rand.Reader if nil) and returns the ciphertext to send to peer
// (in a PairCiphertext) and the 32-byte pair secret for epoch.
func EncapsulatePair(self, peer string, epoch uint64, peerPub *mlkem768.PublicKey, rand io.Reader) (ct []byte, secret [32]byte, err error) {
	if err := checkPair(self, peer); err != nil {
		return nil, secret, err
	}
	if PairInitiator(self, peer) != self {
		return nil, secret, fmt.Errorf("%w: %q sorts after %q, so %q encapsulates and %q decapsulates", ErrInput, self, peer, peer, self)
	}
	if peerPub == nil {
		return nil, secret, fmt.Errorf("%w: nil public key for %q", ErrInput, peer)
	}
	var seed [mlkem768.EncapsulationSeedSize]byte
	if _, err := io.ReadFull(orDefault(rand), seed[:]); err != nil {
		return nil, secret, fmt.Errorf("secagg: reading encapsulation randomness: %w", err)
	}
	ct = make([]byte, CiphertextSize)
	ss := make([]byte, mlkem768.SharedKeySize)
	peerPub.EncapsulateTo(ct, ss, seed[:])
	clear(seed[:])
	secret, err = pairSecret(ss, ct, self, peer, epoch)
	clear(ss)
	return ct, secret, err
}

// DecapsulatePair is run by self when peer sorts first: it decapsulates the
// ciphertext peer sent with self's private key and returns the pair secret
// for epoch. A ciphertext of the wrong size is an error; a corrupted one of
// the right size gives a different secret (implicit rejection, see above).
func DecapsulatePair(self, peer string, epoch uint64, sk *mlkem768.PrivateKey, ct []byte) ([32]byte, error) {
	var secret [32]byte
	if err := checkPair(self, peer); err != nil {
		return secret, err
	}
	if PairInitiator(self, peer) != peer {
		return secret, fmt.Errorf("%w: %q sorts before %q, so %q encapsulates", ErrInput, self, peer, self)
	}
	if sk == nil {
		return secret, fmt.Errorf("%w: nil private key", ErrInput)
	}
	if len(ct) != CiphertextSize {
		return secret, fmt.Errorf("%w: ML-KEM-768 ciphertext from %q of %d bytes, want %d", ErrInput, peer, len(ct), CiphertextSize)
	}
	ss := make([]byte, mlkem768.SharedKeySize)
	sk.DecapsulateTo(ss, ct)
	secret, err := pairSecret(ss, ct, self, peer, epoch)
	clear(ss)
	return secret, err
}

func pairSecret(ss, ct []byte, a, b string, epoch uint64) ([32]byte, error) {
	lo, hi := sorted2(a, b)
	h := sha256.Sum256(ct)
	info := transcript(nil).name(lo).name(hi).u64(epoch).raw(h[:])
	k, err := hkdf.Key(sha256.New, ss, []byte(label+"pair-secret"), string(info), 32)
	if err != nil {
		return [32]byte{}, fmt.Errorf("secagg: deriving pair secret: %w", err)
	}
	return [32]byte(k), nil
}

func orDefault(r io.Reader) io.Reader {
	if r == nil {
		return cryptorand.Reader
	}
	return r
}
