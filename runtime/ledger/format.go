package ledger

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/prismai/mec/runtime/telemetry"
)

// File names inside a ledger directory.
const (
	// LogFile holds the records.
	LogFile = "events.log"
	// CheckpointFile holds the latest signed checkpoint (atomically replaced).
	CheckpointFile = "checkpoint"
	// HistoryFile holds every signed checkpoint ever written, in order.
	HistoryFile = "checkpoints.log"
	// PublicKeyFile holds the checkpoint verifier key.
	PublicKeyFile = "ledger.pub"
	// PrivateKeyFile holds the checkpoint signing key (mode 0600), when the
	// ledger generated its own key.
	PrivateKeyFile = "ledger.key"

	checkpointTmp = CheckpointFile + ".tmp"
)

// HashAlg selects the hash function of the record chain.
type HashAlg byte

const (
	// SHA256 chains records with SHA-256 (FIPS 180-4). The default.
	SHA256 HashAlg = 1
	// SHA3_256 chains records with SHA3-256 (FIPS 202).
	SHA3_256 HashAlg = 2
)

// MarshalText returns the algorithm's name.
func (a HashAlg) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses "sha256" or "sha3-256".
func (a *HashAlg) UnmarshalText(b []byte) error {
	for _, c := range []HashAlg{SHA256, SHA3_256} {
		if string(b) == c.String() {
			*a = c
			return nil
		}
	}
	return fmt.Errorf("ledger: unknown chain hash %q", b)
}

// String returns "sha256" or "sha3-256".
func (a HashAlg) String() string {
	switch a {
	case SHA256:
		return "sha256"
	case SHA3_256:
		return "sha3-256"
	}
	return fmt.Sprintf("hash(0x%02x)", byte(a))
}

func (a HashAlg) valid() bool { return a == SHA256 || a == SHA3_256 }

// chainNext returns H(prev ‖ event) with the algorithm a. buf is scratch.
func (a HashAlg) chainNext(buf []byte, prev [32]byte, event []byte) ([32]byte, []byte) {
	buf = append(append(buf[:0], prev[:]...), event...)
	if a == SHA3_256 {
		return sha3.Sum256(buf), buf
	}
	return sha256.Sum256(buf), buf
}

// File headers: 8-byte magic, version, parameter byte, 6 zero bytes.
const headerSize = 16

var (
	logMagic     = [8]byte{'M', 'E', 'C', 'L', 'E', 'D', 'G', 'R'}
	historyMagic = [8]byte{'M', 'E', 'C', 'C', 'K', 'P', 'T', 'S'}
)

const formatVersion = 1

func makeHeader(magic [8]byte, param byte) []byte {
	h := make([]byte, headerSize)
	copy(h, magic[:])
	h[8] = formatVersion
	h[9] = param
	return h
}

// checkHeader validates a file header and returns its parameter byte.
func checkHeader(h []byte, magic [8]byte) (byte, error) {
	if len(h) < headerSize {
		return 0, fmt.Errorf("file header truncated (%d of %d bytes)", len(h), headerSize)
	}
	if !bytes.Equal(h[:8], magic[:]) {
		return 0, fmt.Errorf("bad magic %q", h[:8])
	}
	if h[8] != formatVersion {
		return 0, fmt.Errorf("unsupported format version %d", h[8])
	}
	for _, c := range h[10:headerSize] {
		if c != 0 {
			return 0, errors.New("non-zero reserved header bytes")
		}
	}
	return h[9], nil
}

// Frames: [len u32][crc32c u32][payload], big-endian, crc over len ‖ payload.
const frameHeaderSize = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func frameCRC(lenBytes, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(lenBytes, castagnoli), castagnoli, payload)
}

func appendFrame(b, payload []byte) []byte {
	var h [frameHeaderSize]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], frameCRC(h[:4], payload))
	return append(append(b, h[:]...), payload...)
}

// Payload size limits of log and history frames.
const (
	minRecordPayload = 1 + 32
	maxRecordPayload = telemetry.MaxEventSize + 32
	minNotePayload   = 1
	maxNotePayload   = 64 << 10
)

// CorruptError reports damage in a ledger file. Errors from Open, Verify
// and the read functions that concern file contents are *CorruptError.
type CorruptError struct {
	// File is the base name of the damaged file, e.g. "events.log".
	File string
	// Offset is the byte offset of the damaged frame or field, or -1.
	Offset int64
	// Index is the record (events.log) or entry (checkpoints.log) index
	// the damage is in, or -1 when it is not in a record.
	Index int64
	// Torn is true when the damage is an incomplete or unreadable last
	// frame running to the end of the file: what an interrupted append
	// leaves. Open truncates such a tail (unless a checkpoint covers it);
	// Verify, which never modifies files, reports it.
	Torn bool
	// Err describes the damage.
	Err error
}

// Error names the file, the record and the offset.
func (e *CorruptError) Error() string {
	what := "record"
	if e.File == HistoryFile {
		what = "checkpoint entry"
	}
	var s string
	switch {
	case e.Index >= 0 && e.Offset >= 0:
		s = fmt.Sprintf("%s: %s %d at offset %d", e.File, what, e.Index, e.Offset)
	case e.Index >= 0:
		s = fmt.Sprintf("%s: %s %d", e.File, what, e.Index)
	case e.Offset >= 0:
		s = fmt.Sprintf("%s: offset %d", e.File, e.Offset)
	default:
		s = e.File
	}
	if e.Torn {
		s += " (torn tail)"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// frameScanner reads frames sequentially from a file of known size.
type frameScanner struct {
	file       string
	f          io.ReaderAt
	r          *bufio.Reader
	size       int64
	off        int64 // offset of the next frame
	index      int64 // index of the next frame
	minP, maxP int
	buf        []byte
}

func newFrameScanner(file string, f io.ReaderAt, size, start int64, minP, maxP int) *frameScanner {
	return &frameScanner{
		file: file, f: f, size: size, off: start, minP: minP, maxP: maxP,
		r: bufio.NewReaderSize(io.NewSectionReader(f, start, size-start), 1<<20),
	}
}

// next returns the next frame's payload (valid until the next call), or
// io.EOF at a clean end, or a *CorruptError.
func (s *frameScanner) next() ([]byte, error) {
	rem := s.size - s.off
	if rem == 0 {
		return nil, io.EOF
	}
	if rem < frameHeaderSize {
		return nil, s.tornOrCorrupt(fmt.Errorf("incomplete frame header (%d bytes before end of file)", rem))
	}
	var h [frameHeaderSize]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return nil, s.errf(false, "read: %w", err)
	}
	n := int64(binary.BigEndian.Uint32(h[:4]))
	if n < int64(s.minP) || n > int64(s.maxP) {
		if z, err := s.zeroTail(); err != nil {
			return nil, err
		} else if z {
			return nil, s.errf(true, "zero-filled tail (%d bytes)", rem)
		}
		return nil, s.errf(false, "invalid frame length %d (want %d..%d)", n, s.minP, s.maxP)
	}
	if frameHeaderSize+n > rem {
		return nil, s.tornOrCorrupt(fmt.Errorf("incomplete frame: length %d but only %d bytes before end of file", n, rem-frameHeaderSize))
	}
	if cap(s.buf) < int(n) {
		s.buf = make([]byte, n)
	}
	p := s.buf[:n]
	if _, err := io.ReadFull(s.r, p); err != nil {
		return nil, s.errf(false, "read: %w", err)
	}
	if got, want := frameCRC(h[:4], p), binary.BigEndian.Uint32(h[4:]); got != want {
		err := fmt.Errorf("CRC32C mismatch (stored %08x, computed %08x)", want, got)
		if frameHeaderSize+n == rem {
			return nil, s.tornOrCorrupt(err)
		}
		return nil, s.errf(false, "%v", err)
	}
	s.off += frameHeaderSize + n
	s.index++
	return p, nil
}

func (s *frameScanner) errf(torn bool, format string, args ...any) error {
	return &CorruptError{File: s.file, Offset: s.off, Index: s.index, Torn: torn, Err: fmt.Errorf(format, args...)}
}

// tornOrCorrupt classifies damage that runs to the end of the file. It is
// a torn tail unless a complete, CRC-valid frame starts anywhere inside the
// damaged region: an interrupted append leaves a prefix of the frames it
// was writing, so a valid frame after the damage means a corrupted length
// or checksum in the middle of the file, never a torn tail.
func (s *frameScanner) tornOrCorrupt(cause error) error {
	tail := make([]byte, s.size-s.off)
	if _, err := s.f.ReadAt(tail, s.off); err != nil && !errors.Is(err, io.EOF) {
		return s.errf(false, "read: %w", err)
	}
	for p := 1; p+frameHeaderSize <= len(tail); p++ {
		n := int(binary.BigEndian.Uint32(tail[p:]))
		if n < s.minP || n > s.maxP || p+frameHeaderSize+n > len(tail) {
			continue
		}
		if frameCRC(tail[p:p+4], tail[p+frameHeaderSize:p+frameHeaderSize+n]) == binary.BigEndian.Uint32(tail[p+4:]) {
			return s.errf(false, "%v; a valid frame follows at offset %d, so this is corruption, not a torn tail", cause, s.off+int64(p))
		}
	}
	return s.errf(true, "%v", cause)
}

// zeroTail reports whether every byte from the current frame to the end of
// the file is zero (a tail a crash can leave on some file systems).
func (s *frameScanner) zeroTail() (bool, error) {
	r := io.NewSectionReader(s.f, s.off, s.size-s.off)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 {
				return false, nil
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, s.errf(false, "read: %w", err)
		}
	}
}

// record is one decoded record during a scan.
type record struct {
	index   uint64
	offset  int64
	payload []byte // event ‖ chain hash; valid only during the callback
	event   []byte
	chain   [32]byte
	leaf    [32]byte
}

// logScan walks events.log read-only, checking every frame, the event
// encoding and the hash chain. fn is called for each good record. On
// damage it returns a *CorruptError; when the damage is a torn tail the
// error has Torn set and fn has seen every record before it.
type logScan struct {
	alg   HashAlg
	size  uint64 // records scanned so far
	chain [32]byte
	end   int64 // offset after the last good record
}

func scanLog(path string, fn func(*record) error) (*logScan, error) {
	f, st, err := openRegular(filepath.Dir(path), filepath.Base(path), os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	scan, err := scanLogFile(f, st.Size(), fn)
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Torn && writerActive(filepath.Dir(path)) {
		// A writer holds the lock: the tail is an append in flight, not
		// damage. The records before it are what is durable so far.
		return scan, nil
	}
	return scan, err
}

func scanLogFile(f io.ReaderAt, size int64, fn func(*record) error) (*logScan, error) {
	h := make([]byte, headerSize)
	if n, err := f.ReadAt(h, 0); err != nil && n < headerSize {
		return nil, &CorruptError{File: LogFile, Offset: 0, Index: -1, Err: headerReadErr(n, err)}
	}
	param, err := checkHeader(h, logMagic)
	if err != nil {
		return nil, &CorruptError{File: LogFile, Offset: 0, Index: -1, Err: fmt.Errorf("file header: %w", err)}
	}
	alg := HashAlg(param)
	if !alg.valid() {
		return nil, &CorruptError{File: LogFile, Offset: 9, Index: -1, Err: fmt.Errorf("file header: unknown chain hash algorithm 0x%02x", param)}
	}
	st := &logScan{alg: alg, end: headerSize}
	sc := newFrameScanner(LogFile, f, size, headerSize, minRecordPayload, maxRecordPayload)
	var scratch []byte
	var rec record
	for {
		off := sc.off
		p, err := sc.next()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, err
		}
		rec = record{index: st.size, offset: off, payload: p, event: p[:len(p)-32]}
		copy(rec.chain[:], p[len(p)-32:])
		bad := func(format string, args ...any) error {
			return &CorruptError{File: LogFile, Offset: off, Index: int64(rec.index), Err: fmt.Errorf(format, args...)}
		}
		if _, err := telemetry.Unmarshal(rec.event); err != nil {
			return st, bad("event: %v", err)
		}
		var want [32]byte
		want, scratch = alg.chainNext(scratch, st.chain, rec.event)
		if want != rec.chain {
			return st, bad("chain hash mismatch: stored %x, computed %x", rec.chain[:8], want[:8])
		}
		rec.leaf = leafHash(p)
		if fn != nil {
			if err := fn(&rec); err != nil {
				return st, err
			}
		}
		st.size++
		st.chain = rec.chain
		st.end = sc.off
	}
}

// scanHistory walks checkpoints.log read-only; fn gets each note.
func scanHistory(f io.ReaderAt, size int64, fn func(index int64, offset int64, note []byte) error) (end int64, count int64, err error) {
	h := make([]byte, headerSize)
	if n, err := f.ReadAt(h, 0); err != nil && n < headerSize {
		return 0, 0, &CorruptError{File: HistoryFile, Offset: 0, Index: -1, Err: headerReadErr(n, err)}
	}
	if param, err := checkHeader(h, historyMagic); err != nil || param != 0 {
		if err == nil {
			err = fmt.Errorf("parameter byte 0x%02x, want 0", param)
		}
		return 0, 0, &CorruptError{File: HistoryFile, Offset: 0, Index: -1, Err: fmt.Errorf("file header: %w", err)}
	}
	sc := newFrameScanner(HistoryFile, f, size, headerSize, minNotePayload, maxNotePayload)
	end = headerSize
	for {
		off := sc.off
		p, err := sc.next()
		if err == io.EOF {
			return end, sc.index, nil
		}
		if err != nil {
			return end, sc.index, err
		}
		if err := fn(sc.index-1, off, p); err != nil {
			return end, sc.index, err
		}
		end = sc.off
	}
}

// headerReadErr describes a failed read of a file header: a short file
// says how many bytes it had, any other failure says what it was.
func headerReadErr(n int, err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("file header: %d of %d bytes", n, headerSize)
	}
	return fmt.Errorf("file header: %w", err)
}
