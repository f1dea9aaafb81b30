// Package backend is mec's backend contract and registry.
//
// Layer: the compute library's contract. It may import circuit and the
// engines' description types (engines/snn, engines/kuramoto); never a
// backend, a device, the runtime or the commands.
//
// A backend is an engine that can run some of mec's work: quantum
// state-vector evolution, FFTs, spiking or phase updates. Each backend
// package registers a Driver from an init function; Init tries every driver
// once and records, for each, whether it loaded, was skipped (does not apply
// on this machine, with the reason) or failed (should apply but broke, with
// the error) — the periph.io driverreg model. Select picks the backend to
// use: an explicit name, else $MEC_BACKEND, else the highest-priority
// loaded backend. The CPU backend always loads.
//
// What a backend can do is discovered by type assertion on small capability
// interfaces (StateVector, and more in later packages), so a partial device
// — a QPU that can only sample circuits — is a first-class backend. Within a
// capability, optional operations are again separate interfaces (Normer,
// ProbabilityReader, PauliExpecter, ...); the functions of this package of
// the same name use the backend's own implementation when present and fall
// back to a host computation over a readout otherwise, per operation.
//
// The registry is the only global mutable state in mec.
package backend

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Driver is what a backend package registers.
type Driver interface {
	// Name is the backend's short name ("cpu", "opencl", "cuda", "qpu", ...).
	Name() string
	// Priority orders loaded backends for default selection: highest wins.
	// It is read again after Init, so it may depend on what Init found.
	Priority() int
	// Init probes the machine and opens the backend. It returns an error
	// wrapping ErrSkip when the backend does not apply here (no library, no
	// device, not configured) and any other error when it should apply but
	// failed.
	Init() (Backend, error)
}

// Backend is an opened engine. Capabilities are further interfaces it may
// implement (StateVector, ...).
type Backend interface {
	// Name is the registered driver name.
	Name() string
	// Device describes the hardware in one line ("AMD EPYC 7B13, 2 threads, AVX2+FMA").
	Device() string
	// Close releases the backend's resources.
	Close() error
}

// ErrSkip marks a driver's Init error as "does not apply on this machine".
var ErrSkip = errors.New("skipped")

// Skip returns an error wrapping ErrSkip with a human reason.
func Skip(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSkip, fmt.Sprintf(format, args...))
}

// Status is the outcome of a driver's Init.
type Status int

// Init outcomes.
const (
	Loaded Status = iota
	Skipped
	Failed
)

// String returns "loaded", "skipped" or "failed".
func (s Status) String() string {
	switch s {
	case Loaded:
		return "loaded"
	case Skipped:
		return "skipped"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText encodes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Result records what happened when a driver was initialised.
type Result struct {
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Status   Status `json:"status"`
	Device   string `json:"device,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Capabilities of a loaded backend (see Capabilities).
	Capabilities []string `json:"capabilities,omitempty"`
	Backend      Backend  `json:"-"`
}

// Capabilities names the capability interfaces b implements:
// "statevector", "spectral", "spiking", "phase", and any others a backend
// reports through a CapabilityNamer.
func Capabilities(b Backend) []string {
	var out []string
	if _, ok := b.(StateVector); ok {
		out = append(out, "statevector")
	}
	if _, ok := b.(Spectral); ok {
		out = append(out, "spectral")
	}
	if _, ok := b.(Spiking); ok {
		out = append(out, "spiking")
	}
	if _, ok := b.(Phase); ok {
		out = append(out, "phase")
	}
	if n, ok := b.(CapabilityNamer); ok {
		out = append(out, n.ExtraCapabilities()...)
	}
	return out
}

// CapabilityNamer lets a backend with capabilities defined outside this
// package (a QPU's circuit sampler, say) name them in listings.
type CapabilityNamer interface {
	ExtraCapabilities() []string
}

type registry struct {
	mu      sync.Mutex
	drivers map[string]Driver
	results []Result // nil until Init ran
}

var reg = registry{drivers: map[string]Driver{}}

// Register adds a driver. It panics if the name is empty or already
// registered: both are programming errors caught at start-up.
func Register(d Driver) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	name := d.Name()
	if name == "" {
		panic("backend: Register with an empty name")
	}
	if _, dup := reg.drivers[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	if reg.results != nil {
		panic("backend: Register of " + name + " after Init")
	}
	reg.drivers[name] = d
}

// Init initialises every registered driver once, in priority order, and
// returns the results sorted by descending priority then name. Later calls
// return the same results.
func Init() []Result {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.results != nil {
		return append([]Result(nil), reg.results...)
	}
	ds := make([]Driver, 0, len(reg.drivers))
	for _, d := range reg.drivers {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Priority() != ds[j].Priority() {
			return ds[i].Priority() > ds[j].Priority()
		}
		return ds[i].Name() < ds[j].Name()
	})
	res := make([]Result, 0, len(ds))
	for _, d := range ds {
		r := Result{Name: d.Name()}
		b, err := initDriver(d)
		// A driver's priority may depend on what Init found (an OpenCL
		// CPU device ranks below the native CPU backend).
		r.Priority = d.Priority()
		switch {
		case err == nil && b != nil:
			r.Status, r.Backend, r.Device, r.Capabilities = Loaded, b, b.Device(), Capabilities(b)
		case errors.Is(err, ErrSkip):
			r.Status, r.Reason = Skipped, strings.TrimPrefix(err.Error(), ErrSkip.Error()+": ")
		case err == nil:
			r.Status, r.Reason = Failed, "driver returned no backend and no error"
		default:
			r.Status, r.Reason = Failed, err.Error()
		}
		res = append(res, r)
	}
	sort.SliceStable(res, func(i, j int) bool {
		if res[i].Priority != res[j].Priority {
			return res[i].Priority > res[j].Priority
		}
		return res[i].Name < res[j].Name
	})
	reg.results = res
	return append([]Result(nil), res...)
}

// initDriver runs d.Init, turning a panic inside a driver into a failure so
// one broken driver cannot take the process down.
func initDriver(d Driver) (b Backend, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("driver panicked during Init: %v", p)
		}
	}()
	return d.Init()
}

// EnvBackend is the environment variable naming the default backend.
const EnvBackend = "MEC_BACKEND"

// Select returns the backend to use: name if not empty, else $MEC_BACKEND if
// set, else the highest-priority loaded backend. Asking for a backend that
// is not loaded is an error carrying its skip or failure reason.
func Select(name string) (Backend, error) {
	res := Init()
	if name == "" {
		name = os.Getenv(EnvBackend)
	}
	if name == "" {
		for _, r := range res {
			if r.Status == Loaded {
				return r.Backend, nil
			}
		}
		return nil, errors.New("backend: no backend loaded")
	}
	for _, r := range res {
		if r.Name == name {
			if r.Status != Loaded {
				return nil, fmt.Errorf("backend %q is %s: %s", name, r.Status, r.Reason)
			}
			return r.Backend, nil
		}
	}
	return nil, fmt.Errorf("backend %q is not registered (registered: %s)", name, strings.Join(Names(), ", "))
}

// Names returns the registered driver names, sorted.
func Names() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	out := make([]string, 0, len(reg.drivers))
	for n := range reg.drivers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LoadedBackends returns the loaded backends in priority order.
func LoadedBackends() []Backend {
	var out []Backend
	for _, r := range Init() {
		if r.Status == Loaded {
			out = append(out, r.Backend)
		}
	}
	return out
}

// WithCapability returns the highest-priority loaded backend that
// implements capability C, preferring the one named (or $MEC_BACKEND) when it
// does. It is how per-operation fallback picks an engine: a program asks for
// the named backend, and work that backend cannot do goes to the best one
// that can (the CPU at worst).
func WithCapability[C any](name string) (C, Backend, error) {
	var zero C
	if name == "" {
		name = os.Getenv(EnvBackend)
	}
	if name != "" {
		b, err := Select(name)
		if err != nil {
			return zero, nil, err
		}
		if c, ok := b.(C); ok {
			return c, b, nil
		}
	}
	for _, b := range LoadedBackends() {
		if c, ok := b.(C); ok {
			return c, b, nil
		}
	}
	return zero, nil, fmt.Errorf("backend: no loaded backend implements %T", (*C)(nil))
}
