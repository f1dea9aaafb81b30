package backend

import (
	"errors"
	"strings"
	"testing"
)

type fakeDriver struct {
	name string
	prio int
	init func() (Backend, error)
}

func (f fakeDriver) Name() string           { return f.name }
func (f fakeDriver) Priority() int          { return f.prio }
func (f fakeDriver) Init() (Backend, error) { return f.init() }

type fakeBackend struct{ name string }

func (f fakeBackend) Name() string   { return f.name }
func (f fakeBackend) Device() string { return "fake " + f.name }
func (f fakeBackend) Close() error   { return nil }

// TestRegistry registers drivers with every Init outcome (the test binary has
// its own registry) and checks Init's report, selection and overrides.
func TestRegistry(t *testing.T) {
	Register(fakeDriver{"base", 0, func() (Backend, error) { return fakeBackend{"base"}, nil }})
	Register(fakeDriver{"fast", 50, func() (Backend, error) { return fakeBackend{"fast"}, nil }})
	Register(fakeDriver{"gpu", 100, func() (Backend, error) { return nil, Skip("no device (CUDA_ERROR_NO_DEVICE)") }})
	Register(fakeDriver{"broken", 90, func() (Backend, error) { return nil, errors.New("driver version mismatch") }})
	Register(fakeDriver{"panicky", 80, func() (Backend, error) { panic("boom") }})
	res := Init()
	want := []struct {
		name   string
		status Status
		reason string
	}{
		{"gpu", Skipped, "no device (CUDA_ERROR_NO_DEVICE)"},
		{"broken", Failed, "driver version mismatch"},
		{"panicky", Failed, "driver panicked during Init: boom"},
		{"fast", Loaded, ""},
		{"base", Loaded, ""},
	}
	if len(res) != len(want) {
		t.Fatalf("Init returned %d results, want %d", len(res), len(want))
	}
	for i, w := range want {
		r := res[i]
		if r.Name != w.name || r.Status != w.status || r.Reason != w.reason {
			t.Errorf("result %d = {%s %s %q}, want {%s %s %q}", i, r.Name, r.Status, r.Reason, w.name, w.status, w.reason)
		}
	}
	t.Setenv(EnvBackend, "")
	if b, err := Select(""); err != nil || b.Name() != "fast" {
		t.Errorf("default selection = %v, %v; want fast", b, err)
	}
	t.Setenv(EnvBackend, "base")
	if b, err := Select(""); err != nil || b.Name() != "base" {
		t.Errorf("MEC_BACKEND=base selection = %v, %v", b, err)
	}
	if b, err := Select("fast"); err != nil || b.Name() != "fast" {
		t.Errorf("explicit selection overrides MEC_BACKEND: %v, %v", b, err)
	}
	if _, err := Select("gpu"); err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_NO_DEVICE") {
		t.Errorf("selecting a skipped backend: %v", err)
	}
	if _, err := Select("nope"); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("selecting an unknown backend: %v", err)
	}
	// Capability lookup: none of the fakes is a StateVector.
	t.Setenv(EnvBackend, "")
	if _, _, err := WithCapability[StateVector](""); err == nil {
		t.Error("WithCapability found a StateVector among fakes")
	}
	if _, b, err := WithCapability[Backend]("base"); err != nil || b.Name() != "base" {
		t.Errorf("WithCapability preferring base: %v, %v", b, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Register after Init did not panic")
		}
	}()
	Register(fakeDriver{"late", 1, nil})
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	reg.mu.Lock()
	saved := reg.results
	reg.results = nil
	reg.mu.Unlock()
	defer func() { reg.mu.Lock(); reg.results = saved; reg.mu.Unlock() }()
	Register(fakeDriver{name: "dup"})
	Register(fakeDriver{name: "dup"})
}

func TestPrecision(t *testing.T) {
	for _, s := range []string{"c64", "complex64", "c128", "complex128"} {
		if _, err := ParsePrecision(s); err != nil {
			t.Errorf("ParsePrecision(%q): %v", s, err)
		}
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error("fp16 accepted")
	}
	if StateBytes(30, Complex128) != 16<<30 {
		t.Error("30 qubits c128 is not 16 GiB")
	}
}
