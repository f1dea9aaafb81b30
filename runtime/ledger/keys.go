package ledger

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"golang.org/x/mod/sumdb/note"
)

// sigType is the signed-note signature type of ML-DSA-65 keys: the byte
// 0xff, which C2SP signed-note reserves for types without an assigned
// identifier byte, followed (as that spec recommends) by a longer
// identifier unlikely to collide.
var sigType = []byte("\xffML-DSA-65")

// sigContext is the ML-DSA context string of checkpoint signatures
// (FIPS 204 ctx); empty, so plain ML-DSA-65 verifiers interoperate.
var sigContext []byte

// keyID computes the C2SP signed-note key ID:
// SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4], big-endian.
func keyID(name string, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n'})
	h.Write(sigType)
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

// validKeyName reports whether name is a valid signed-note key name: non
// empty, valid UTF-8, no Unicode spaces, no '+'.
func validKeyName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r == '+' || unicode.IsSpace(r) || r < 0x20 || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

// Verifier verifies ML-DSA-65 checkpoint signatures. It implements
// note.Verifier from golang.org/x/mod/sumdb/note.
type Verifier struct {
	name string
	id   uint32
	pk   *mldsa65.PublicKey
	raw  []byte
}

var _ note.Verifier = (*Verifier)(nil)

// NewVerifier returns a Verifier for the key name (the ledger's origin)
// and public key.
func NewVerifier(name string, pk *mldsa65.PublicKey) (*Verifier, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("ledger: invalid key name %q (non-empty, no spaces or '+')", name)
	}
	if pk == nil {
		return nil, errors.New("ledger: nil public key")
	}
	raw := pk.Bytes()
	return &Verifier{name: name, id: keyID(name, raw), pk: pk, raw: raw}, nil
}

// Name returns the key name.
func (v *Verifier) Name() string { return v.name }

// KeyHash returns the C2SP key ID.
func (v *Verifier) KeyHash() uint32 { return v.id }

// Verify reports whether sig is a valid ML-DSA-65 signature of msg.
func (v *Verifier) Verify(msg, sig []byte) bool {
	return len(sig) == mldsa65.SignatureSize && mldsa65.Verify(v.pk, msg, sigContext, sig)
}

// PublicKey returns the ML-DSA-65 public key.
func (v *Verifier) PublicKey() *mldsa65.PublicKey { return v.pk }

// String returns the verifier key text, the format of the ledger.pub file
// (without newline): name+keyID(8 hex digits)+base64(0xff "ML-DSA-65" ‖ public key).
func (v *Verifier) String() string {
	return fmt.Sprintf("%s+%08x+%s", v.name, v.id, base64.StdEncoding.EncodeToString(append(append([]byte(nil), sigType...), v.raw...)))
}

// Equal reports whether v and w are the same key with the same name.
func (v *Verifier) Equal(w *Verifier) bool {
	return v != nil && w != nil && v.name == w.name && bytes.Equal(v.raw, w.raw)
}

// ParseVerifier parses verifier key text as written by Verifier.String
// (surrounding white space is ignored). The text must be canonical: the key
// ID must match and the base64 must re-encode to the same text.
func ParseVerifier(text string) (*Verifier, error) {
	text = strings.TrimSpace(text)
	name, rest, ok1 := strings.Cut(text, "+")
	idHex, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || len(idHex) != 8 {
		return nil, errors.New("ledger: malformed verifier key (want name+keyid+base64)")
	}
	raw, err := decodeKeyBlob(b64, mldsa65.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("ledger: verifier key: %w", err)
	}
	var pk mldsa65.PublicKey
	if err := pk.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("ledger: verifier key: %w", err)
	}
	v, err := NewVerifier(name, &pk)
	if err != nil {
		return nil, err
	}
	if fmt.Sprintf("%08x", v.id) != idHex {
		return nil, fmt.Errorf("ledger: verifier key: key ID %s does not match the key (want %08x)", idHex, v.id)
	}
	return v, nil
}

// decodeKeyBlob decodes canonical base64 of sigType ‖ key and returns key.
func decodeKeyBlob(b64 string, size int) ([]byte, error) {
	blob, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	if base64.StdEncoding.EncodeToString(blob) != b64 {
		return nil, errors.New("non-canonical base64")
	}
	if !bytes.HasPrefix(blob, sigType) {
		return nil, errors.New("not an ML-DSA-65 key (bad signature type prefix)")
	}
	key := blob[len(sigType):]
	if len(key) != size {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), size)
	}
	return key, nil
}

// Signer signs checkpoints with ML-DSA-65. It implements note.Signer.
type Signer struct {
	v    *Verifier
	sk   *mldsa65.PrivateKey
	seed [mldsa65.SeedSize]byte
}

var _ note.Signer = (*Signer)(nil)

// GenerateSigner creates a Signer with a fresh ML-DSA-65 key for the key
// name (the ledger's origin).
func GenerateSigner(name string) (*Signer, error) {
	var seed [mldsa65.SeedSize]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("ledger: generating key: %w", err)
	}
	return NewSignerFromSeed(name, seed)
}

// NewSignerFromSeed derives the ML-DSA-65 key from its 32-byte seed.
func NewSignerFromSeed(name string, seed [mldsa65.SeedSize]byte) (*Signer, error) {
	pk, sk := mldsa65.NewKeyFromSeed(&seed)
	v, err := NewVerifier(name, pk)
	if err != nil {
		return nil, err
	}
	return &Signer{v: v, sk: sk, seed: seed}, nil
}

// Name returns the key name.
func (s *Signer) Name() string { return s.v.name }

// KeyHash returns the C2SP key ID.
func (s *Signer) KeyHash() uint32 { return s.v.id }

// Sign returns an ML-DSA-65 signature (hedged, randomised) of msg.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(s.sk, msg, sigContext, true, sig); err != nil {
		return nil, fmt.Errorf("ledger: signing: %w", err)
	}
	return sig, nil
}

// Verifier returns the matching Verifier.
func (s *Signer) Verifier() *Verifier { return s.v }

// PrivateKeyText returns the signer key text, the format of the ledger.key
// file (without newline): PRIVATE+KEY+name+keyID+base64(0xff "ML-DSA-65" ‖ seed).
// It is secret.
func (s *Signer) PrivateKeyText() string {
	return fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", s.v.name, s.v.id, base64.StdEncoding.EncodeToString(append(append([]byte(nil), sigType...), s.seed[:]...)))
}

// ParseSigner parses signer key text as written by PrivateKeyText.
func ParseSigner(text string) (*Signer, error) {
	text = strings.TrimSpace(text)
	rest, ok := strings.CutPrefix(text, "PRIVATE+KEY+")
	name, rest, ok1 := strings.Cut(rest, "+")
	idHex, b64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok1 || !ok2 || len(idHex) != 8 {
		return nil, errors.New("ledger: malformed signer key (want PRIVATE+KEY+name+keyid+base64)")
	}
	raw, err := decodeKeyBlob(b64, mldsa65.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("ledger: signer key: %w", err)
	}
	s, err := NewSignerFromSeed(name, [mldsa65.SeedSize]byte(raw))
	if err != nil {
		return nil, err
	}
	if fmt.Sprintf("%08x", s.v.id) != idHex {
		return nil, fmt.Errorf("ledger: signer key: key ID %s does not match the key (want %08x)", idHex, s.v.id)
	}
	return s, nil
}
