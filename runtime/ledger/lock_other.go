//go:build !unix

package ledger

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens dir/LockFile. Without flock(2) it cannot exclude a second
// writer: on this platform running two writers on one ledger is the
// caller's responsibility.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger: opening lock file: %w", explainWriteErr(dir, err))
	}
	return f, nil
}

// writerActive cannot tell without flock(2): it reports false, so readers
// treat every torn tail as damage.
func writerActive(dir string) bool { return false }
