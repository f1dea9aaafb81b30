package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a C2SP tlog-checkpoint body plus the ledger's chain-head
// extension line:
//
//	<origin>
//	<tree size, decimal>
//	<base64 RFC 6962 root hash>
//	chain <sha256|sha3-256> <base64 chain hash H_size>
//
// It is stored as a signed note (C2SP signed-note) with one ML-DSA-65
// signature by the key named Origin.
type Checkpoint struct {
	// Origin identifies the log; it is also the signing key's name.
	Origin string `json:"origin"`
	// Size is the number of records the checkpoint covers.
	Size uint64 `json:"size"`
	// Root is the RFC 6962 Merkle tree hash of the first Size records.
	Root Hash `json:"root"`
	// ChainAlg is the chain hash algorithm.
	ChainAlg HashAlg `json:"chain_hash"`
	// Chain is the chain hash H_Size (all zeros when Size is 0).
	Chain Hash `json:"chain"`
}

// Text returns the checkpoint body (the signed text).
func (c *Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\nchain %s %s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.ChainAlg, base64.StdEncoding.EncodeToString(c.Chain[:]))
}

// parseCheckpointText parses a checkpoint body; it must be exactly what
// Text produces.
func parseCheckpointText(text string) (*Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return nil, errors.New("checkpoint body must have exactly 4 lines")
	}
	c := &Checkpoint{Origin: lines[0]}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("tree size: %w", err)
	}
	c.Size = size
	if err := decodeHash(lines[2], (*[32]byte)(&c.Root)); err != nil {
		return nil, fmt.Errorf("root hash: %w", err)
	}
	f := strings.Split(lines[3], " ")
	if len(f) != 3 || f[0] != "chain" {
		return nil, errors.New("malformed chain line")
	}
	switch f[1] {
	case SHA256.String():
		c.ChainAlg = SHA256
	case SHA3_256.String():
		c.ChainAlg = SHA3_256
	default:
		return nil, fmt.Errorf("unknown chain hash %q", f[1])
	}
	if err := decodeHash(f[2], (*[32]byte)(&c.Chain)); err != nil {
		return nil, fmt.Errorf("chain hash: %w", err)
	}
	if c.Text() != text {
		return nil, errors.New("checkpoint body is not canonical")
	}
	return c, nil
}

func decodeHash(s string, h *[32]byte) error {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return err
	}
	if len(b) != 32 {
		return fmt.Errorf("%d bytes, want 32", len(b))
	}
	copy(h[:], b)
	return nil
}

// signCheckpoint returns the signed note of c.
func signCheckpoint(c *Checkpoint, s *Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.Text()}, s)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint note with v and parses it.
// The note must carry exactly one signature, by v, and be byte-for-byte
// canonical (so that no byte of it can change without detection).
func OpenCheckpoint(msg []byte, v *Verifier) (*Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 {
		return nil, fmt.Errorf("want exactly one signature, by %s", v.Name())
	}
	// note.Open decodes base64 leniently; insist on the canonical encoding.
	sig, err := base64.StdEncoding.DecodeString(n.Sigs[0].Base64)
	if err != nil || base64.StdEncoding.EncodeToString(sig) != n.Sigs[0].Base64 {
		return nil, errors.New("signature: non-canonical base64")
	}
	if want := n.Text + "\n— " + n.Sigs[0].Name + " " + n.Sigs[0].Base64 + "\n"; want != string(msg) {
		return nil, errors.New("note is not canonical")
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return nil, err
	}
	if c.Origin != v.Name() {
		return nil, fmt.Errorf("origin %q does not match key name %q", c.Origin, v.Name())
	}
	return c, nil
}

// writeFileAtomic writes data to dir/name via a temporary file: write,
// fsync, rename over the target, fsync the directory.
func writeFileAtomic(dir, name string, data []byte, perm os.FileMode) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readSmallFile reads a file that must not exceed limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", filepath.Base(path), limit)
	}
	return b, nil
}
