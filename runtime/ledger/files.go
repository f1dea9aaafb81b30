package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// LockFile is the writer lock of a ledger directory. Open holds an
// exclusive flock(2) on it until Close (the kernel drops it when the
// process dies) and writes its PID into it; read-only operations (Verify,
// Scan, Tail, ReadTree, proofs) never take it.
const LockFile = "lock"

// ErrLocked is matched (errors.Is) by the error Open returns when another
// open Ledger, in this process or another, holds the directory's lock.
var ErrLocked = errors.New("ledger: directory in use")

// LockedError is Open's error for a ledger directory whose lock another
// writer holds. It matches ErrLocked.
type LockedError struct {
	// Dir is the ledger directory.
	Dir string
	// PID is the holder's process ID as it recorded it, 0 if unknown.
	PID int
}

// Error says which directory is in use and by which process.
func (e *LockedError) Error() string {
	if e.PID > 0 {
		return "ledger " + e.Dir + " is in use by PID " + strconv.Itoa(e.PID)
	}
	return "ledger " + e.Dir + " is in use by another process (its PID is not recorded yet)"
}

// Is makes LockedError match ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// explainWriteErr turns an error from creating or writing a file in dir
// into one that says what failed: a read-only file system is named as
// such (reading needs no write access: Verify, Scan and the proofs work
// there).
func explainWriteErr(dir string, err error) error {
	if errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%s is on a read-only file system: appending needs write access (verify, proof and tail only read): %w", dir, err)
	}
	return err
}

// openRegular opens dir/name with flag and checks that it is a regular
// file, so that a directory or device in its place is reported as such
// rather than as a short read.
func openRegular(dir, name string, flag int) (*os.File, os.FileInfo, error) {
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file (%s)", path, describeMode(st.Mode()))
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file (%s)", path, describeMode(st.Mode()))
	}
	return f, st, nil
}

func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
