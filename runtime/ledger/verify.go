package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prismai/mec/runtime/telemetry"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Verifier is the trusted public key. When nil the directory's
	// ledger.pub is trusted (trust on first use); when set, ledger.pub, if
	// present, must hold the same key.
	Verifier *Verifier
	// Witnesses, when set, are the trusted witness keys: Verify then also
	// requires the checkpoint.witnessed file to verify with the log key
	// and carry valid co-signatures by at least MinWitnesses of them, and
	// its root and chain hash to equal those recomputed from the records
	// at its size (so a ledger rewritten after it was witnessed fails).
	// Witness keys must have distinct names. Without Witnesses that file
	// is not read.
	Witnesses []*Verifier
	// MinWitnesses is the number of co-signatures required; 0 means all
	// of Witnesses. It must not exceed len(Witnesses).
	MinWitnesses int
}

// WitnessedReport describes the witnessed checkpoint that Verify checked.
type WitnessedReport struct {
	// Checkpoint is the witnessed checkpoint.
	Checkpoint *Checkpoint `json:"checkpoint"`
	// Cosigners are the names of the given witnesses whose co-signature
	// on it is valid, sorted.
	Cosigners []string `json:"cosigners"`
	// Required is the number of co-signatures that was required.
	Required int `json:"required"`
}

// Report summarises a successful verification.
type Report struct {
	// Origin is the checkpoint origin (the key name).
	Origin string `json:"origin"`
	// KeyID is the verifier key text's key ID, 8 hex digits.
	KeyID string `json:"key_id"`
	// Records is the number of records.
	Records uint64 `json:"records"`
	// ChainHash is the chain hash algorithm.
	ChainHash HashAlg `json:"chain_hash"`
	// Chain is the chain hash of the last record (H_Records).
	Chain Hash `json:"chain"`
	// Root is the RFC 6962 root of all records.
	Root Hash `json:"root"`
	// Checkpoints is the number of signed checkpoints verified in
	// checkpoints.log (the checkpoint file is verified too).
	Checkpoints int `json:"checkpoints"`
	// Latest is the latest signed checkpoint, or nil when there is none.
	Latest *Checkpoint `json:"latest,omitempty"`
	// Unsigned counts the records after the newest signed checkpoint. It
	// is 0 after a clean Close or an Open; otherwise the ledger was not
	// reopened after a crash. Such records are CRC- and chain-checked but
	// no signature vouches for them.
	Unsigned uint64 `json:"unsigned"`
	// Witnessed is the checkpoint.witnessed checkpoint and its
	// co-signers, when VerifyOptions.Witnesses is set.
	Witnessed *WitnessedReport `json:"witnessed,omitempty"`
}

// Verify checks the ledger in dir without modifying any file: the key
// files, every frame's CRC, every event's canonical encoding, the hash
// chain, the Merkle tree, and every checkpoint (checkpoints.log and the
// checkpoint file): its signature, canonical form, and that its root and
// chain hash equal those recomputed from the records at its size. Any
// damage, including a torn tail that Open would truncate, is an error;
// errors about file contents are *CorruptError naming the file and the
// record (or checkpoint entry) and byte offset. With
// VerifyOptions.Witnesses it also checks checkpoint.witnessed (see there).
//
// Verify needs no lock and works while a writer appends: a torn tail of
// events.log is then an append in flight and ends the records verified,
// and a check that a checkpoint being written explains (checkpoints.log
// ahead of the checkpoint file) is retried a few times.
func Verify(dir string, opts VerifyOptions) (*Report, error) {
	for attempt := 1; ; attempt++ {
		rep, err := verifyOnce(dir, opts)
		var ce *CorruptError
		if err == nil || attempt == 5 || !errors.As(err, &ce) || !writerActive(dir) {
			return rep, err
		}
		time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
	}
}

// verifyOnce is one pass of Verify.
func verifyOnce(dir string, opts VerifyOptions) (*Report, error) {
	minW := opts.MinWitnesses
	if minW == 0 {
		minW = len(opts.Witnesses)
	}
	if minW < 0 || minW > len(opts.Witnesses) {
		return nil, fmt.Errorf("ledger: verify: MinWitnesses %d with %d witness keys", opts.MinWitnesses, len(opts.Witnesses))
	}
	v, err := verifyKeys(dir, opts.Verifier)
	if err != nil {
		return nil, err
	}
	rep := &Report{Origin: v.Name(), KeyID: fmt.Sprintf("%08x", v.KeyHash())}

	// Checkpoints: history entries, then the checkpoint file.
	type ck struct {
		c     *Checkpoint
		file  string
		index int64
		off   int64
	}
	var cks []ck
	bySize := map[uint64][]byte{}
	// The checkpoint file before checkpoints.log: a writer appends to the
	// history before it replaces the file, so a history read afterwards
	// holds whatever the file held.
	ckMsg, ckErr := readSmallFile(filepath.Join(dir, CheckpointFile), maxNotePayload)
	hf, hst, err := openRegular(dir, HistoryFile, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer hf.Close()
	var prev *Checkpoint
	_, _, err = scanHistory(hf, hst.Size(), func(i, off int64, msg []byte) error {
		c, err := OpenCheckpoint(msg, v)
		if err != nil {
			return &CorruptError{File: HistoryFile, Offset: off, Index: i, Err: err}
		}
		if prev != nil && c.Size <= prev.Size {
			return &CorruptError{File: HistoryFile, Offset: off, Index: i, Err: fmt.Errorf("tree size %d not after previous checkpoint's %d", c.Size, prev.Size)}
		}
		prev = c
		cks = append(cks, ck{c, HistoryFile, i, off})
		bySize[c.Size] = slices.Clone(msg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Checkpoints = len(cks)
	if msg, err := ckMsg, ckErr; err == nil {
		c, err := OpenCheckpoint(msg, v)
		if err != nil {
			return nil, &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: err}
		}
		if h, ok := bySize[c.Size]; !ok || !bytes.Equal(h, msg) {
			return nil, &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: fmt.Errorf("checkpoint (size %d) is not in %s", c.Size, HistoryFile)}
		}
		cks = append(cks, ck{c, CheckpointFile, -1, -1})
		rep.Latest = c
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ledger: %w", err)
	} else if len(cks) > 0 {
		return nil, &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: errors.New("missing, but checkpoints.log has entries")}
	}
	if prev != nil && (rep.Latest == nil || rep.Latest.Size < prev.Size) {
		rep.Latest = prev
	}
	if len(opts.Witnesses) > 0 {
		msg, err := readSmallFile(filepath.Join(dir, WitnessedFile), MaxNoteSize)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("ledger: %s is missing: the ledger has no witnessed checkpoint", WitnessedFile)
		} else if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		c, signed, err := OpenWitnessed(msg, v, opts.Witnesses, minW)
		if err != nil {
			return nil, fmt.Errorf("ledger: %s: %w", WitnessedFile, err)
		}
		cks = append(cks, ck{c, WitnessedFile, -1, -1})
		rep.Witnessed = &WitnessedReport{Checkpoint: c, Cosigners: signed, Required: minW}
	}
	slices.SortStableFunc(cks, func(a, b ck) int { return cmpU64(a.c.Size, b.c.Size) })

	// Records.
	rng := rangeFactory.NewEmptyRange(0)
	next := 0
	check := func(size uint64, chain [32]byte) error {
		for ; next < len(cks) && cks[next].c.Size == size; next++ {
			k := cks[next]
			root := Hash(hasher.EmptyRoot())
			if size > 0 {
				r, _ := rng.GetRootHash(nil)
				root = Hash(r)
			}
			if k.c.Root != root || k.c.Chain != Hash(chain) {
				return &CorruptError{File: k.file, Offset: k.off, Index: k.index,
					Err: fmt.Errorf("signed checkpoint at size %d does not match records 0..%d (root or chain hash differs)", size, int64(size)-1)}
			}
		}
		return nil
	}
	if err := check(0, [32]byte{}); err != nil {
		return nil, err
	}
	scan, err := scanLog(filepath.Join(dir, LogFile), func(r *record) error {
		if ev, _ := telemetry.Unmarshal(r.event); ev != nil {
			if b, err := telemetry.Marshal(ev); err != nil || !bytes.Equal(b, r.event) {
				return &CorruptError{File: LogFile, Offset: r.offset, Index: int64(r.index), Err: errors.New("event encoding is not canonical")}
			}
		}
		if err := rng.Append(slices.Clone(r.leaf[:]), nil); err != nil {
			return err
		}
		return check(r.index+1, r.chain)
	})
	if err != nil {
		return nil, err
	}
	for _, k := range cks {
		if k.c.ChainAlg != scan.alg {
			return nil, &CorruptError{File: k.file, Offset: k.off, Index: k.index, Err: fmt.Errorf("chain hash %v, log uses %v", k.c.ChainAlg, scan.alg)}
		}
	}
	if next < len(cks) {
		k := cks[next]
		return nil, &CorruptError{File: k.file, Offset: k.off, Index: k.index,
			Err: fmt.Errorf("signed checkpoint covers %d records but %s holds only %d: records are missing", k.c.Size, LogFile, scan.size)}
	}
	rep.Records, rep.ChainHash, rep.Chain = scan.size, scan.alg, Hash(scan.chain)
	rep.Root = Hash(hasher.EmptyRoot())
	if scan.size > 0 {
		r, _ := rng.GetRootHash(nil)
		rep.Root = Hash(r)
	}
	if rep.Latest != nil {
		rep.Unsigned = scan.size - rep.Latest.Size
	} else {
		rep.Unsigned = scan.size
	}
	return rep, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// verifyKeys returns the trusted verifier and checks the key files.
func verifyKeys(dir string, trusted *Verifier) (*Verifier, error) {
	var pub *Verifier
	if b, err := readSmallFile(filepath.Join(dir, PublicKeyFile), 64<<10); err == nil {
		if pub, err = ParseVerifier(string(b)); err != nil {
			return nil, &CorruptError{File: PublicKeyFile, Offset: -1, Index: -1, Err: err}
		}
		if !bytes.Equal(b, []byte(pub.String()+"\n")) {
			return nil, &CorruptError{File: PublicKeyFile, Offset: -1, Index: -1, Err: errors.New("not in canonical form")}
		}
	} else if !errors.Is(err, os.ErrNotExist) || trusted == nil {
		return nil, fmt.Errorf("ledger: reading public key: %w", err)
	}
	v := trusted
	if v == nil {
		v = pub
	} else if pub != nil && !pub.Equal(v) {
		return nil, &CorruptError{File: PublicKeyFile, Offset: -1, Index: -1, Err: fmt.Errorf("holds %s, not the trusted key %s", pub, v)}
	}
	if b, err := readSmallFile(filepath.Join(dir, PrivateKeyFile), 64<<10); err == nil {
		s, err := ParseSigner(string(b))
		if err != nil {
			return nil, &CorruptError{File: PrivateKeyFile, Offset: -1, Index: -1, Err: err}
		}
		if !bytes.Equal(b, []byte(s.PrivateKeyText()+"\n")) {
			return nil, &CorruptError{File: PrivateKeyFile, Offset: -1, Index: -1, Err: errors.New("not in canonical form")}
		}
		if !s.Verifier().Equal(v) {
			return nil, &CorruptError{File: PrivateKeyFile, Offset: -1, Index: -1, Err: errors.New("does not match the public key")}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return v, nil
}
