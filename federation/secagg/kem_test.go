package secagg

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// TestKEMAgreement: both sides derive the same secret; it depends on the
// epoch and the pair; wrong keys and corrupted ciphertexts give a
// different secret without an error (ML-KEM implicit rejection); bad sizes
// and wrong roles are errors.
func TestKEMAgreement(t *testing.T) {
	r := rng(1)
	pa, _, _ := mlkem768.GenerateKeyPair(r)
	pb, sb, _ := mlkem768.GenerateKeyPair(r)
	_, sc, _ := mlkem768.GenerateKeyPair(r)
	_ = pa
	ct, s1, err := EncapsulatePair("alice", "bob", 3, pb, r)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := DecapsulatePair("bob", "alice", 3, sb, ct)
	if err != nil || s1 != s2 {
		t.Fatalf("secrets differ: %v", err)
	}
	if len(ct) != CiphertextSize {
		t.Fatalf("ciphertext %d bytes", len(ct))
	}
	// Binding: epoch and names enter the derivation.
	if s, _ := DecapsulatePair("bob", "alice", 4, sb, ct); s == s1 {
		t.Fatal("another epoch gives the same secret")
	}
	if s, _ := DecapsulatePair("bob", "al", 3, sb, ct); s == s1 {
		t.Fatal("another peer name gives the same secret")
	}
	// Implicit rejection.
	if s, err := DecapsulatePair("bob", "alice", 3, sc, ct); err != nil || s == s1 {
		t.Fatalf("wrong private key: err %v, same secret %v (want no error and a different secret)", err, s == s1)
	}
	bad := bytes.Clone(ct)
	bad[0] ^= 1
	if s, err := DecapsulatePair("bob", "alice", 3, sb, bad); err != nil || s == s1 {
		t.Fatalf("corrupted ciphertext: err %v, same secret %v (want no error and a different secret)", err, s == s1)
	}
	// Errors.
	for _, c := range []struct {
		name string
		err  error
	}{
		{"short ct", func() error { _, err := DecapsulatePair("bob", "alice", 3, sb, ct[:100]); return err }()},
		{"long ct", func() error { _, err := DecapsulatePair("bob", "alice", 3, sb, append(ct, 0)); return err }()},
		{"decap by initiator", func() error { _, err := DecapsulatePair("alice", "bob", 3, sb, ct); return err }()},
		{"encap by responder", func() error { _, _, err := EncapsulatePair("bob", "alice", 3, pa, r); return err }()},
		{"self pair", func() error { _, _, err := EncapsulatePair("bob", "bob", 3, pb, r); return err }()},
		{"empty name", func() error { _, _, err := EncapsulatePair("", "bob", 3, pb, r); return err }()},
		{"nil key", func() error { _, _, err := EncapsulatePair("alice", "bob", 3, nil, r); return err }()},
		{"nil private key", func() error { _, err := DecapsulatePair("bob", "alice", 3, nil, ct); return err }()},
		{"short public key", func() error { _, err := ParsePublicKey(make([]byte, 10)); return err }()},
	} {
		if !errors.Is(c.err, ErrInput) {
			t.Errorf("%s: %v, want ErrInput", c.name, c.err)
		} else {
			t.Logf("%s: %v", c.name, c.err)
		}
	}
	if PairInitiator("bob", "alice") != "alice" || PairInitiator("alice", "bob") != "alice" {
		t.Fatal("PairInitiator")
	}
	// A packed public key parses back to one that agrees.
	buf := make([]byte, PublicKeySize)
	pb.Pack(buf)
	pb2, err := ParsePublicKey(buf)
	if err != nil {
		t.Fatal(err)
	}
	ct2, s3, _ := EncapsulatePair("alice", "bob", 3, pb2, r)
	if s4, _ := DecapsulatePair("bob", "alice", 3, sb, ct2); s3 != s4 {
		t.Fatal("parsed key disagrees")
	}
}

// TestExpandIsHKDF: the one-block expand equals crypto/hkdf.Expand.
func TestExpandIsHKDF(t *testing.T) {
	key := [32]byte{1, 2, 3}
	info := newTranscript("x").u64(9).name("abc")
	want, err := hkdf.Expand(sha256.New, key[:], string(info), 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := expand(&key, info); !bytes.Equal(got[:], want) {
		t.Fatal("expand differs from HKDF-Expand")
	}
}
