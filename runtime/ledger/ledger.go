package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/prismai/mec/runtime/telemetry"
)

// DefaultOrigin is the checkpoint origin (and key name) of ledgers created
// without Options.Origin.
const DefaultOrigin = "mec.local/ledger"

// Defaults of Options.
const (
	DefaultCheckpointEvery    = 4096
	DefaultCheckpointInterval = time.Second
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("ledger: closed")

// Options configure Open.
type Options struct {
	// Origin is the checkpoint origin line and the signing key's name; a
	// schema-less URL such as "example.com/mec/node-1" is recommended.
	// Empty means DefaultOrigin for a new ledger and "whatever the ledger
	// has" for an existing one; a mismatch with an existing ledger is an
	// error.
	Origin string
	// ChainHash selects the chain hash of a new ledger (default SHA256).
	// An existing ledger keeps the algorithm recorded in its header; a
	// different non-zero value here is an error.
	ChainHash HashAlg
	// CheckpointEvery is N: a signed checkpoint is written once N records
	// have been committed since the last one. Default 4096.
	CheckpointEvery uint64
	// CheckpointInterval is T: a checkpoint is also written when records
	// are waiting and T has passed since the last one. Default 1s.
	CheckpointInterval time.Duration
	// Signer signs checkpoints. When nil, Open loads ledger.key from the
	// directory, or for a new ledger generates a key into ledger.key
	// (mode 0600). When set, no private key is written to disk.
	Signer *Signer
	// OnCheckpoint, when set, is called with the signed note (and its
	// parsed form) of every checkpoint the ledger writes, once it is
	// durable: appended to checkpoints.log and in the checkpoint file. It
	// is called from the checkpointer goroutine — and from Open and Close
	// for the checkpoints they sign — one call at a time, in increasing
	// size order. It must not block for long (it delays the next
	// checkpoint, not appends) and must not call Close; it may call
	// LatestCheckpoint, ConsistencyProof, InclusionProof and Append. The
	// arguments are the callee's to keep.
	OnCheckpoint func(note []byte, c *Checkpoint)
}

// Ledger is an open, appendable ledger. Its methods are safe for
// concurrent use.
type Ledger struct {
	dir    string
	alg    HashAlg
	signer *Signer
	every  uint64
	ival   time.Duration
	logF   *os.File
	histF  *os.File
	lockF  *os.File // holds the directory's flock until Close
	// staleNote is, during Open, the newest checkpoints.log note when the
	// checkpoint file lags behind it.
	staleNote []byte

	mu     sync.Mutex // guards queue, closed, failed
	queue  []*pending
	spare  []*pending
	closed bool
	failed error
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{} // committer exited
	ckDone chan struct{} // checkpointer exited

	// Owned by the committer goroutine (and Open/Close around it).
	size        uint64
	chain       [32]byte
	rng         *compact.Range
	off         int64
	buf         []byte
	scratch     []byte
	leaves      [][32]byte
	lastReqSize uint64
	lastReqTime time.Time

	ckMu   sync.Mutex // guards ckWant
	ckWant *Checkpoint
	ckWake chan struct{}

	ckWriteMu sync.Mutex // serialises checkpoint writes; guards histOff, ckSize
	histOff   int64
	ckSize    uint64

	onCheckpoint func(note []byte, c *Checkpoint)

	nodes nodeStore // the tree for proofs; written by the committer

	noteMu     sync.Mutex // guards latestNote, latestCk
	latestNote []byte
	latestCk   *Checkpoint

	statsMu sync.Mutex
	st      Stats
	lags    [lagWindow]time.Duration
	lagN    int
}

type pending struct {
	data  []byte
	enq   time.Time
	index uint64
	err   error
	done  chan struct{}
}

const lagWindow = 8192

// Stats is a snapshot of a ledger's progress, for monitoring.
type Stats struct {
	// Size is the number of durable records.
	Size uint64 `json:"size"`
	// Pending is the number of appends waiting to be committed.
	Pending int `json:"pending"`
	// Commits is the number of group commits (one write + fdatasync each).
	Commits uint64 `json:"commits"`
	// CheckpointSize is the tree size of the latest written checkpoint.
	CheckpointSize uint64 `json:"checkpoint_size"`
	// CheckpointTime is when the latest checkpoint was written.
	CheckpointTime time.Time `json:"checkpoint_time"`
	// Checkpoints is the number of checkpoints written by this process.
	Checkpoints uint64 `json:"checkpoints"`
	// LastCommitLag is the append-to-durable latency of the oldest record
	// of the latest commit.
	LastCommitLag time.Duration `json:"last_commit_lag_ns"`
	// P50CommitLag, P99CommitLag and MaxCommitLag summarise the
	// append-to-durable latency of the last 8192 records.
	P50CommitLag time.Duration `json:"p50_commit_lag_ns"`
	P99CommitLag time.Duration `json:"p99_commit_lag_ns"`
	MaxCommitLag time.Duration `json:"max_commit_lag_ns"`
	// Err is the sticky error that stopped appends or checkpoints, if any.
	Err string `json:"err,omitempty"`
}

// Open opens the ledger in dir, creating the directory and a new ledger if
// dir holds none. Recovery: a torn tail of events.log (an append
// interrupted by a crash) is truncated; damage anywhere else, or a torn
// tail that a signed checkpoint covers, is a *CorruptError. The latest
// checkpoint's signature, root and chain hash are checked, and if records
// exist beyond it a new checkpoint is signed before Open returns.
func Open(dir string, opts Options) (*Ledger, error) {
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.ChainHash != 0 && !opts.ChainHash.valid() {
		return nil, fmt.Errorf("ledger: unknown chain hash %v", opts.ChainHash)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: creating the ledger directory: %w", explainWriteErr(dir, err))
	}
	lockF, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		dir: dir, every: opts.CheckpointEvery, ival: opts.CheckpointInterval,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		ckWake: make(chan struct{}, 1), ckDone: make(chan struct{}),
		rng:   rangeFactory.NewEmptyRange(0),
		lockF: lockF, onCheckpoint: opts.OnCheckpoint,
	}
	ok := false
	defer func() {
		if !ok {
			l.closeFiles()
		}
	}()
	// Only a file that is there is removed: on a read-only file system
	// remove(2) fails even for a missing name, and that must not be
	// reported as a stale checkpoint.
	tmp := filepath.Join(dir, checkpointTmp)
	if _, err := os.Lstat(tmp); err == nil {
		if err := os.Remove(tmp); err != nil {
			return nil, fmt.Errorf("ledger: removing stale temporary checkpoint: %w", explainWriteErr(dir, err))
		}
	}
	if err := l.setupKeys(opts); err != nil {
		return nil, err
	}
	if err := l.openLog(opts); err != nil {
		return nil, err
	}
	latest, err := l.openHistory()
	if err != nil {
		return nil, err
	}
	if err := l.recover(latest); err != nil {
		return nil, err
	}
	if l.size > l.ckSize {
		if err := l.writeCheckpoint(l.currentCheckpoint()); err != nil {
			return nil, fmt.Errorf("ledger: signing a checkpoint over the recovered records: %w", explainWriteErr(dir, err))
		}
	} else if l.staleNote != nil {
		if err := writeFileAtomic(dir, CheckpointFile, l.staleNote, 0o644); err != nil {
			return nil, fmt.Errorf("ledger: restoring %s from %s: %w", CheckpointFile, HistoryFile, explainWriteErr(dir, err))
		}
	}
	l.staleNote = nil
	l.loadLatestNote()
	l.lastReqSize, l.lastReqTime = l.size, time.Now()
	l.st.Size = l.size
	l.st.CheckpointSize = l.ckSize
	ok = true
	go l.commitLoop()
	go l.checkpointLoop()
	return l, nil
}

func (l *Ledger) closeFiles() {
	if l.logF != nil {
		l.logF.Close()
	}
	if l.histF != nil {
		l.histF.Close()
	}
	if l.lockF != nil {
		l.lockF.Close() // releases the flock
	}
}

// setupKeys loads or creates the key files.
func (l *Ledger) setupKeys(opts Options) error {
	pubPath := filepath.Join(l.dir, PublicKeyFile)
	keyPath := filepath.Join(l.dir, PrivateKeyFile)
	var pub *Verifier
	if b, err := readSmallFile(pubPath, 64<<10); err == nil {
		if pub, err = ParseVerifier(string(b)); err != nil {
			return &CorruptError{File: PublicKeyFile, Offset: -1, Index: -1, Err: err}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ledger: %w", err)
	}
	_, logErr := os.Stat(filepath.Join(l.dir, LogFile))
	newLedger := errors.Is(logErr, os.ErrNotExist)
	if pub == nil && !newLedger {
		return fmt.Errorf("ledger: %s exists but %s is missing", LogFile, PublicKeyFile)
	}
	s := opts.Signer
	if s == nil {
		if b, err := readSmallFile(keyPath, 64<<10); err == nil {
			if s, err = ParseSigner(string(b)); err != nil {
				return &CorruptError{File: PrivateKeyFile, Offset: -1, Index: -1, Err: err}
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("ledger: %w", err)
		} else if pub != nil {
			return fmt.Errorf("ledger: no signing key: %s is missing and Options.Signer is nil", PrivateKeyFile)
		} else {
			origin := opts.Origin
			if origin == "" {
				origin = DefaultOrigin
			}
			if s, err = GenerateSigner(origin); err != nil {
				return err
			}
			if err := writeFileAtomic(l.dir, PrivateKeyFile, []byte(s.PrivateKeyText()+"\n"), 0o600); err != nil {
				return fmt.Errorf("ledger: writing %s: %w", PrivateKeyFile, explainWriteErr(l.dir, err))
			}
		}
	}
	if opts.Origin != "" && s.Name() != opts.Origin {
		return fmt.Errorf("ledger: origin %q does not match the signing key's name %q", opts.Origin, s.Name())
	}
	if pub != nil && !pub.Equal(s.Verifier()) {
		return fmt.Errorf("ledger: signing key %s does not match %s (%s)", s.Verifier(), PublicKeyFile, pub)
	}
	if pub == nil {
		if err := writeFileAtomic(l.dir, PublicKeyFile, []byte(s.Verifier().String()+"\n"), 0o644); err != nil {
			return fmt.Errorf("ledger: writing %s: %w", PublicKeyFile, explainWriteErr(l.dir, err))
		}
	}
	l.signer = s
	return nil
}

// openLog opens or creates events.log and reads its header.
func (l *Ledger) openLog(opts Options) error {
	f, _, err := openRegular(l.dir, LogFile, os.O_RDWR)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(l.dir, CheckpointFile)); err == nil {
			return fmt.Errorf("ledger: %s is missing but a checkpoint exists", LogFile)
		}
		alg := opts.ChainHash
		if alg == 0 {
			alg = SHA256
		}
		if err := writeFileAtomic(l.dir, LogFile, makeHeader(logMagic, byte(alg)), 0o644); err != nil {
			return fmt.Errorf("ledger: creating %s: %w", LogFile, explainWriteErr(l.dir, err))
		}
		f, _, err = openRegular(l.dir, LogFile, os.O_RDWR)
	}
	if err != nil {
		return fmt.Errorf("ledger: opening %s: %w", LogFile, explainWriteErr(l.dir, err))
	}
	l.logF = f
	h := make([]byte, headerSize)
	if n, err := f.ReadAt(h, 0); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%d of %d bytes", n, headerSize)
		}
		return &CorruptError{File: LogFile, Offset: 0, Index: -1, Err: fmt.Errorf("file header: %w", err)}
	}
	param, err := checkHeader(h, logMagic)
	if err != nil {
		return &CorruptError{File: LogFile, Offset: 0, Index: -1, Err: fmt.Errorf("file header: %w", err)}
	}
	l.alg = HashAlg(param)
	if opts.ChainHash != 0 && opts.ChainHash != l.alg {
		return fmt.Errorf("ledger: ledger uses chain hash %v, options ask for %v", l.alg, opts.ChainHash)
	}
	return nil
}

// openHistory opens or creates checkpoints.log, truncating a torn tail,
// and returns the newest verified checkpoint among its last entry and the
// checkpoint file (nil if none).
func (l *Ledger) openHistory() (*Checkpoint, error) {
	f, st, err := openRegular(l.dir, HistoryFile, os.O_RDWR)
	if errors.Is(err, os.ErrNotExist) {
		if err := writeFileAtomic(l.dir, HistoryFile, makeHeader(historyMagic, 0), 0o644); err != nil {
			return nil, fmt.Errorf("ledger: creating %s: %w", HistoryFile, explainWriteErr(l.dir, err))
		}
		f, st, err = openRegular(l.dir, HistoryFile, os.O_RDWR)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: opening %s: %w", HistoryFile, explainWriteErr(l.dir, err))
	}
	l.histF = f
	v := l.signer.Verifier()
	var last []byte
	var lastIdx, lastOff int64
	end, _, err := scanHistory(f, st.Size(), func(i, off int64, n []byte) error {
		last, lastIdx, lastOff = append(last[:0], n...), i, off
		return nil
	})
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Torn {
		if err := f.Truncate(end); err != nil {
			return nil, fmt.Errorf("ledger: truncating torn tail of %s: %w", HistoryFile, err)
		}
		if err := datasync(f); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	l.histOff = end
	var latest *Checkpoint
	if last != nil {
		c, err := OpenCheckpoint(last, v)
		if err != nil {
			return nil, &CorruptError{File: HistoryFile, Offset: lastOff, Index: lastIdx, Err: err}
		}
		latest = c
	}
	fileCurrent := latest == nil
	if b, err := readSmallFile(filepath.Join(l.dir, CheckpointFile), maxNotePayload); err == nil {
		c, err := OpenCheckpoint(b, v)
		if err != nil {
			return nil, &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: err}
		}
		if latest == nil || c.Size >= latest.Size {
			latest, fileCurrent = c, true
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if !fileCurrent {
		// A crash came between appending the newest checkpoint to
		// checkpoints.log and replacing the checkpoint file: Open
		// finishes the replacement once recovery has checked the note.
		l.staleNote = last
	}
	return latest, nil
}

// recover scans the log, truncates a torn tail and checks it against the
// latest checkpoint.
func (l *Ledger) recover(latest *Checkpoint) error {
	st, err := l.logF.Stat()
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	var ckRoot, ckChain Hash
	rootAt := func(n uint64, chain [32]byte) {
		if latest != nil && n == latest.Size {
			ckChain = chain
			if n == 0 {
				ckRoot = Hash(hasher.EmptyRoot())
				return
			}
			r, _ := l.rng.GetRootHash(nil)
			ckRoot = Hash(r)
		}
	}
	rootAt(0, [32]byte{})
	scan, err := scanLogFile(l.logF, st.Size(), func(r *record) error {
		if err := l.rng.Append(slices.Clone(r.leaf[:]), l.nodes.add); err != nil {
			return err
		}
		rootAt(r.index+1, r.chain)
		return nil
	})
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Torn {
		if latest != nil && latest.Size > scan.size {
			return fmt.Errorf("ledger: refusing to truncate: a signed checkpoint covers %d records: %w", latest.Size, err)
		}
		if err := l.logF.Truncate(scan.end); err != nil {
			return fmt.Errorf("ledger: truncating torn tail: %w", err)
		}
		if err := datasync(l.logF); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	} else if err != nil {
		return err
	}
	l.size, l.chain, l.off = scan.size, scan.chain, scan.end
	if latest != nil {
		if latest.Size > l.size {
			return fmt.Errorf("ledger: signed checkpoint covers %d records but %s holds only %d: acknowledged records are missing", latest.Size, LogFile, l.size)
		}
		if latest.ChainAlg != l.alg {
			return &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: fmt.Errorf("chain hash %v, log uses %v", latest.ChainAlg, l.alg)}
		}
		if latest.Root != ckRoot || latest.Chain != ckChain {
			return fmt.Errorf("ledger: latest signed checkpoint (size %d) does not match %s: root or chain hash differs", latest.Size, LogFile)
		}
		l.ckSize = latest.Size
	}
	return nil
}

// currentCheckpoint returns the unsigned checkpoint of the committed state.
// Committer-owned state: call from the committer or while it is stopped.
func (l *Ledger) currentCheckpoint() *Checkpoint {
	c := &Checkpoint{Origin: l.signer.Name(), Size: l.size, ChainAlg: l.alg, Chain: Hash(l.chain)}
	if l.size == 0 {
		c.Root = Hash(hasher.EmptyRoot())
	} else {
		r, _ := l.rng.GetRootHash(nil)
		c.Root = Hash(r)
	}
	return c
}

// Append records e and returns its index once the record is durable
// (written and fdatasync'd). Concurrent appends share one write and one
// fdatasync (group commit). If ctx ends first Append returns ctx's error:
// the event is then not acknowledged and may or may not be recorded.
func (l *Ledger) Append(ctx context.Context, e telemetry.Event) (uint64, error) {
	data, err := telemetry.AppendMarshal(make([]byte, 0, 128), e)
	if err != nil {
		return 0, fmt.Errorf("ledger: append: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("ledger: append: %w", err)
	}
	p := &pending{data: data, enq: time.Now(), done: make(chan struct{})}
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return 0, ErrClosed
	case l.failed != nil:
		err := l.failed
		l.mu.Unlock()
		return 0, err
	}
	l.queue = append(l.queue, p)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-p.done:
		return p.index, p.err
	case <-ctx.Done():
		return 0, fmt.Errorf("ledger: append not acknowledged (may still be recorded): %w", ctx.Err())
	}
}

// Size returns the number of durable records.
func (l *Ledger) Size() uint64 {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	return l.st.Size
}

// Dir returns the ledger directory.
func (l *Ledger) Dir() string { return l.dir }

// Verifier returns the checkpoint verifier (the public key).
func (l *Ledger) Verifier() *Verifier { return l.signer.Verifier() }

// Stats returns a snapshot of the ledger's counters and commit lag.
func (l *Ledger) Stats() Stats {
	l.mu.Lock()
	pend := len(l.queue)
	l.mu.Unlock()
	l.statsMu.Lock()
	s := l.st
	lags := slices.Clone(l.lags[:min(l.lagN, lagWindow)])
	l.statsMu.Unlock()
	s.Pending = pend
	if len(lags) > 0 {
		slices.Sort(lags)
		s.P50CommitLag = lags[len(lags)/2]
		s.P99CommitLag = lags[(len(lags)*99)/100]
		s.MaxCommitLag = lags[len(lags)-1]
	}
	return s
}

// Close commits every queued append, writes a final signed checkpoint
// covering all records and closes the files. It returns the first error
// that stopped appends or checkpoints, if any.
func (l *Ledger) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	<-l.ckDone
	var errs []error
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	if failed != nil {
		errs = append(errs, failed)
	} else if l.size > l.ckSize {
		if err := l.writeCheckpoint(l.currentCheckpoint()); err != nil {
			errs = append(errs, fmt.Errorf("ledger: final checkpoint failed (reopen to recover): %w", err))
		}
	}
	l.statsMu.Lock()
	if l.st.Err != "" && failed == nil {
		errs = append(errs, errors.New(l.st.Err))
	}
	l.statsMu.Unlock()
	if err := l.logF.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := l.histF.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := l.lockF.Close(); err != nil { // releases the directory's lock
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (l *Ledger) take() []*pending {
	l.mu.Lock()
	b := l.queue
	l.queue = l.spare[:0]
	l.spare = nil
	l.mu.Unlock()
	return b
}

func (l *Ledger) commitLoop() {
	defer close(l.done)
	tick := time.NewTicker(max(l.ival/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-l.wake:
		case <-tick.C:
			l.maybeCheckpoint()
			continue
		case <-l.quit:
			for b := l.take(); len(b) > 0; b = l.take() {
				l.commit(b)
			}
			return
		}
		for b := l.take(); len(b) > 0; b = l.take() {
			l.commit(b)
		}
	}
}

// commit writes one batch as a single write followed by one fdatasync and
// acknowledges it.
func (l *Ledger) commit(batch []*pending) {
	defer func() {
		clear(batch)
		l.mu.Lock()
		if l.spare == nil {
			l.spare = batch[:0]
		}
		l.mu.Unlock()
	}()
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	if failed != nil {
		for _, p := range batch {
			p.err = failed
			close(p.done)
		}
		return
	}
	buf := l.buf[:0]
	leaves := l.leaves[:0]
	chain := l.chain
	for _, p := range batch {
		chain, l.scratch = l.alg.chainNext(l.scratch, chain, p.data)
		payload := append(p.data, chain[:]...)
		buf = appendFrame(buf, payload)
		leaves = append(leaves, leafHash(payload))
	}
	l.buf, l.leaves = buf, leaves
	_, err := l.logF.WriteAt(buf, l.off)
	if err == nil {
		err = datasync(l.logF)
	}
	if err != nil {
		// The state of the file is unknown (and after a failed fsync the
		// page cache cannot be trusted): stop; reopening recovers.
		err = fmt.Errorf("ledger: commit failed, ledger stopped (reopen to recover): %w", err)
		l.mu.Lock()
		l.failed = err
		l.mu.Unlock()
		l.statsMu.Lock()
		l.st.Err = err.Error()
		l.statsMu.Unlock()
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
		return
	}
	l.nodes.mu.Lock()
	for i := range leaves {
		if err := l.rng.Append(slices.Clone(leaves[i][:]), l.nodes.add); err != nil {
			panic(err) // unreachable: appending one leaf to a range cannot fail
		}
	}
	l.nodes.mu.Unlock()
	base := l.size
	l.size += uint64(len(batch))
	l.off += int64(len(buf))
	l.chain = chain
	now := time.Now()
	l.statsMu.Lock()
	l.st.Size = l.size
	l.st.Commits++
	l.st.LastCommitLag = now.Sub(batch[0].enq)
	for _, p := range batch {
		l.lags[l.lagN%lagWindow] = now.Sub(p.enq)
		l.lagN++
	}
	l.statsMu.Unlock()
	for i, p := range batch {
		p.index = base + uint64(i)
		close(p.done)
	}
	if len(buf) > 4<<20 {
		l.buf = nil // do not pin a huge buffer
	}
	if l.size-l.lastReqSize >= l.every {
		l.requestCheckpoint(now)
	}
}

// maybeCheckpoint requests a checkpoint when records are waiting and the
// interval has passed.
func (l *Ledger) maybeCheckpoint() {
	if now := time.Now(); l.size > l.lastReqSize && now.Sub(l.lastReqTime) >= l.ival {
		l.requestCheckpoint(now)
	}
}

func (l *Ledger) requestCheckpoint(now time.Time) {
	c := l.currentCheckpoint()
	l.lastReqSize, l.lastReqTime = l.size, now
	l.ckMu.Lock()
	l.ckWant = c
	l.ckMu.Unlock()
	select {
	case l.ckWake <- struct{}{}:
	default:
	}
}

func (l *Ledger) checkpointLoop() {
	defer close(l.ckDone)
	for {
		select {
		case <-l.ckWake:
		case <-l.quit:
			return
		}
		l.ckMu.Lock()
		c := l.ckWant
		l.ckWant = nil
		l.ckMu.Unlock()
		if c == nil {
			continue
		}
		if err := l.writeCheckpoint(c); err != nil {
			// Records committed after this point would be acknowledged
			// with no signed checkpoint ever covering them: stop, as a
			// failed commit does; reopening recovers.
			l.stop(fmt.Errorf("ledger: checkpoint failed, ledger stopped (reopen to recover): %w", err))
		}
	}
}

// stop makes err the sticky error that fails every later Append (and
// Close), unless an earlier one is already set, and reports it in Stats.
func (l *Ledger) stop(err error) {
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
	l.statsMu.Lock()
	if l.st.Err == "" {
		l.st.Err = err.Error()
	}
	l.statsMu.Unlock()
}

// writeCheckpoint signs c, appends it to checkpoints.log (fdatasync) and
// atomically replaces the checkpoint file. c must describe durable records.
func (l *Ledger) writeCheckpoint(c *Checkpoint) error {
	l.ckWriteMu.Lock()
	defer l.ckWriteMu.Unlock()
	if c.Size <= l.ckSize {
		return nil
	}
	msg, err := signCheckpoint(c, l.signer)
	if err != nil {
		return err
	}
	frame := appendFrame(nil, msg)
	if _, err := l.histF.WriteAt(frame, l.histOff); err != nil {
		// Drop what part of the frame did reach the file (best effort:
		// Open truncates a torn tail of checkpoints.log anyway).
		_ = l.histF.Truncate(l.histOff)
		return fmt.Errorf("writing %s: %w", HistoryFile, err)
	}
	if err := datasync(l.histF); err != nil {
		return fmt.Errorf("syncing %s: %w", HistoryFile, err)
	}
	l.histOff += int64(len(frame))
	if err := writeFileAtomic(l.dir, CheckpointFile, msg, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", CheckpointFile, err)
	}
	l.ckSize = c.Size
	l.statsMu.Lock()
	l.st.CheckpointSize = c.Size
	l.st.CheckpointTime = time.Now()
	l.st.Checkpoints++
	l.statsMu.Unlock()
	l.published(msg, c)
	return nil
}
