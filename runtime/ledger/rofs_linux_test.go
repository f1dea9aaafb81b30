//go:build linux

package ledger

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a small tmpfs on a new directory (root with
// CAP_SYS_ADMIN only; the test is skipped elsewhere) and unmounts it when
// the test ends.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root with CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestReadOnlyFilesystem is issue 17 item 14: Open on a read-only file
// system used to report "removing stale temporary checkpoint: ...
// checkpoint.tmp" although no such file existed. It must say that the
// file system is read-only, and reading must still work.
func TestReadOnlyFilesystem(t *testing.T) {
	mnt := mountTmpfs(t)
	dir := filepath.Join(mnt, "L")
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	_, err = Open(dir, Options{Signer: testSigner(t)})
	if err == nil {
		t.Fatal("Open on a read-only file system succeeded")
	}
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "read-only file system") || strings.Contains(err.Error(), checkpointTmp) {
		t.Fatalf("Open on a read-only file system: %v", err)
	}
	t.Logf("Open: %v", err)
	// A new ledger in a missing directory: the same, from MkdirAll.
	_, err = Open(filepath.Join(mnt, "new"), Options{Signer: testSigner(t)})
	if err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("Open of a new ledger on a read-only file system: %v", err)
	}
	if rep, err := Verify(dir, VerifyOptions{}); err != nil || rep.Records != 10 {
		t.Fatalf("Verify on a read-only file system: %+v %v", rep, err)
	}
}
