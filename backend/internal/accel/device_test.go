package accel

import (
	"errors"
	"slices"
	"testing"
	"unsafe"

	"github.com/prismai/mec/backend"
)

// memDevice is a Device of host memory that records its calls (no
// kernels).
type memDevice struct {
	next  uint64
	bufs  map[uint64][]byte
	calls []string
}

func (d *memDevice) Name() string            { return "mem" }
func (d *memDevice) Do(f func() error) error { return f() }
func (d *memDevice) Alloc(size uintptr) (uint64, error) {
	d.next++
	d.bufs[d.next] = make([]byte, size)
	d.calls = append(d.calls, "alloc")
	return d.next, nil
}
func (d *memDevice) Free(m uint64) error {
	if _, ok := d.bufs[m]; !ok {
		return errors.New("double free")
	}
	delete(d.bufs, m)
	d.calls = append(d.calls, "free")
	return nil
}
func (d *memDevice) Zero(m uint64, size uintptr) error { clear(d.bufs[m][:size]); return nil }
func (d *memDevice) Copy(dst, src uint64, size uintptr) error {
	copy(d.bufs[dst][:size], d.bufs[src])
	return nil
}
func (d *memDevice) Write(dst uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	copy(d.bufs[dst][off:off+size], unsafe.Slice((*byte)(p), size))
	return nil
}
func (d *memDevice) Read(src uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	copy(unsafe.Slice((*byte)(p), size), d.bufs[src][off:off+size])
	return nil
}
func (d *memDevice) Scratch(uintptr) (uint64, error) { return 0, errors.New("no scratch") }
func (d *memDevice) Kernel(string, backend.Precision, string) (Kernel, error) {
	return nil, errors.New("no kernels")
}
func (d *memDevice) Local(Kernel, Shape, uint64) (uint64, error) { return 1, nil }
func (d *memDevice) Launch(Kernel, uint64, uint64, ...any) error { return errors.New("no kernels") }
func (d *memDevice) Sync() error                                 { d.calls = append(d.calls, "sync"); return nil }
func (d *memDevice) FP64() bool                                  { return true }
func (d *memDevice) RunKernels() bool                            { return false }

// TestScratch: the scratch buffer is at least 64 KiB, reused while it
// is large enough, replaced (the old one freed after a sync) when it is
// not, and released once.
func TestScratch(t *testing.T) {
	d := &memDevice{bufs: map[uint64][]byte{}}
	var s Scratch[uint64]
	a, err := s.Get(d, 100)
	if err != nil || len(d.bufs[a]) != minScratch {
		t.Fatalf("first buffer %d of %d bytes, %v", a, len(d.bufs[a]), err)
	}
	if b, _ := s.Get(d, minScratch); b != a {
		t.Error("a buffer large enough was replaced")
	}
	b, err := s.Get(d, minScratch+1)
	if err != nil || b == a || len(d.bufs[b]) != minScratch+1 {
		t.Fatalf("grown buffer %d of %d bytes, %v", b, len(d.bufs[b]), err)
	}
	if _, ok := d.bufs[a]; ok {
		t.Error("the outgrown buffer was not freed")
	}
	if err := s.Release(d); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(d); err != nil {
		t.Fatal(err)
	}
	if len(d.bufs) != 0 {
		t.Errorf("%d buffers left", len(d.bufs))
	}
	if want := []string{"alloc", "sync", "free", "alloc", "sync", "free"}; !slices.Equal(d.calls, want) {
		t.Errorf("calls %v, want %v", d.calls, want)
	}
}

// TestReadAmps: complex64 amplitudes are widened on the way back.
func TestReadAmps(t *testing.T) {
	d := &memDevice{bufs: map[uint64][]byte{}}
	m, _ := d.Alloc(4 * 8)
	host := []complex64{1, 2i, 3, -4i}
	if err := d.Write(m, 0, unsafe.Pointer(&host[0]), 4*8); err != nil {
		t.Fatal(err)
	}
	got := make([]complex128, 2)
	if err := ReadAmps(Device[uint64](d), backend.Complex64, m, 1, got); err != nil {
		t.Fatal(err)
	}
	if got[0] != 2i || got[1] != 3 {
		t.Errorf("ReadAmps = %v, want [2i 3]", got)
	}
}
