//go:build unix

package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lockDir takes the exclusive writer lock of the ledger in dir: flock(2)
// on dir/LockFile, which the kernel releases when the file is closed or
// the process dies. The holder's PID is written into the file so that a
// second writer can name it. It returns the open, locked file.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: opening lock file: %w", explainWriteErr(dir, err))
	}
	// A reader probing for a live writer (writerActive) holds a shared
	// lock for a moment: try a few times over lockRetry before calling
	// the directory in use.
	deadline := time.Now().Add(lockRetry)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == unix.EINTR {
			continue
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
		time.Sleep(lockRetry / 10)
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		e := &LockedError{Dir: dir}
		if b, rerr := readSmallFile(path, 64); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				e.PID = pid
			}
		}
		f.Close()
		return nil, e
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: locking %s: %w", path, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: recording the lock holder in %s: %w", path, err)
	}
	return f, nil
}

// lockRetry is how long Open retries a held lock before it reports the
// directory in use.
const lockRetry = 50 * time.Millisecond

// writerActive reports whether an open Ledger (in any process) holds the
// lock of dir. Readers call it only after finding something that an
// append in flight explains (a torn tail, a checkpoint not yet renamed
// into place); its shared lock lasts a moment (see lockRetry).
func writerActive(dir string) bool {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return false
	}
	return errors.Is(err, unix.EWOULDBLOCK)
}
