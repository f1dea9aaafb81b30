package lava

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/snn"
)

// EnvSidecar configures the "lava" backend: "unix:PATH" or "tcp:HOST:PORT"
// of a running sidecar, or "spawn" to start the bundled one (which uses
// real Lava when importable, else its fake; "spawn-fake" forces the fake).
const EnvSidecar = "MEC_LAVA_SIDECAR"

// DriverName is the registered backend name.
const DriverName = "lava"

// Priority is the driver's priority: below the CPU's (0), so a Lava
// sidecar is never the default backend (it has no state vector and is not
// backend.Spiking).
const Priority = -10

func init() { backend.Register(driver{}) }

type driver struct{}

func (driver) Name() string  { return DriverName }
func (driver) Priority() int { return Priority }

func (driver) Init() (backend.Backend, error) {
	cfg := os.Getenv(EnvSidecar)
	if cfg == "" {
		return nil, backend.Skip("%s not set (unix:PATH, tcp:HOST:PORT, or spawn)", EnvSidecar)
	}
	timeout, err := Timeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Open(ctx, cfg)
}

// Backend is an opened "lava" backend: a sidecar address (and the sidecar
// process, when spawned). Each Session gets its own connection.
//
// It does not implement backend.Spiking: that capability promises spikes
// bit-identical to snn's float simulation (backendtest.RunSpiking), while
// Lava runs its own fixed-point, forward-Euler discretisation (see Convert),
// has no refractory period and no delays. Its lockstep spike injection and
// readout is Backend.NewSession, this package's API; it names no extra
// capability (SpiNNaker's live I/O is a different contract, so the two
// share no "spike I/O" capability).
type Backend struct {
	addr    string
	peer    string
	sidecar *Sidecar
}

// Open connects to the sidecar named by cfg (as EnvSidecar) and checks it
// with a HELLO exchange; ctx bounds the whole of it (the driver uses
// Timeout). A spawned sidecar that fails to start or answer in time is
// killed, with its process group, and its directory removed.
func Open(ctx context.Context, cfg string) (*Backend, error) {
	b := &Backend{}
	switch cfg {
	case "spawn", "spawn-fake":
		sc, err := Spawn(ctx, SpawnOptions{Fake: cfg == "spawn-fake"})
		if err != nil {
			if errors.Is(err, ErrNoPython) {
				return nil, backend.Skip("%s=%s but %v", EnvSidecar, cfg, err)
			}
			return nil, err // Spawn's errors say "lava:" already
		}
		b.sidecar, b.addr = sc, sc.Address
	default:
		if _, _, err := ParseAddress(cfg); err != nil {
			return nil, err
		}
		b.addr = cfg
	}
	c, err := Dial(ctx, b.addr)
	if err != nil {
		if b.sidecar != nil {
			// It does not answer: no grace period.
			b.sidecar.kill()
			b.sidecar = nil
		}
		return nil, err
	}
	b.peer = c.Peer()
	if err := c.Close(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Name returns "lava".
func (b *Backend) Name() string { return DriverName }

// Device describes the sidecar, saying plainly when it is the fake.
func (b *Backend) Device() string {
	d := "Lava sidecar at " + b.addr + " (" + b.peer + ")"
	if b.sidecar != nil {
		d = "spawned " + d
	}
	return d
}

// Close stops a spawned sidecar.
func (b *Backend) Close() error {
	if b.sidecar != nil {
		err := b.sidecar.Close()
		b.sidecar = nil
		return err
	}
	return nil
}

// Session is an snn.Network running on the sidecar in lockstep. Its Poisson
// groups are generated on the host by snn itself (same seed, same streams)
// and injected each step.
type Session struct {
	// Model is the converted network.
	Model  *Model
	client *Client
	pois   *snn.Sim
	counts [][]int64
	in     []int
}

// NewSession converts net (Convert), opens a connection and loads it.
func (b *Backend) NewSession(ctx context.Context, net *snn.Network, opt ConvertOptions) (*Session, error) {
	m, err := Convert(net, opt)
	if err != nil {
		return nil, err
	}
	c, err := Dial(ctx, b.addr)
	if err != nil {
		return nil, err
	}
	return newSession(c, net, m)
}

func newSession(c *Client, net *snn.Network, m *Model) (*Session, error) {
	s := &Session{Model: m, client: c}
	if _, err := c.Load(m); err != nil {
		c.Close()
		return nil, err
	}
	if len(net.Poisson) > 0 {
		sim, err := net.Build(snn.Options{Threads: 1})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("lava: build the Poisson generators: %w", err)
		}
		s.pois = sim
		for _, g := range m.Inputs {
			s.counts = append(s.counts, make([]int64, g.Size))
		}
	}
	return s, nil
}

// nextInputs returns the injector indices of the Poisson spikes of the
// next step, advancing the host-side generators (exactly snn's streams).
func (s *Session) nextInputs() []int {
	s.in = s.in[:0]
	if s.pois == nil {
		return s.in
	}
	s.pois.Step()
	for k, g := range s.Model.Inputs {
		now := s.pois.PoissonCounts(g.Name)
		for j, c := range now {
			if c != s.counts[k][j] {
				s.in = append(s.in, g.Offset+j)
				s.counts[k][j] = c
			}
		}
	}
	return s.in
}

// Step runs one step: the Poisson spikes snn generates for it are injected
// and the global indices of the LIF neurons that spiked are returned.
func (s *Session) Step() ([]int, error) {
	sp, _, err := s.client.Step(s.nextInputs(), false)
	return sp, err
}

// StepV is Step that also returns every neuron's voltage in mV.
func (s *Session) StepV() ([]int, []float64, error) {
	sp, v, err := s.client.Step(s.nextInputs(), true)
	if err != nil {
		return nil, nil, err
	}
	return sp, s.Model.Voltages(v), nil
}

// Peer is the sidecar's HELLO text.
func (s *Session) Peer() string { return s.client.Peer() }

// Close ends the session.
func (s *Session) Close() error {
	if s.pois != nil {
		s.pois.Close()
		s.pois = nil
	}
	return s.client.Close()
}

// Voltages converts v units (global order) to mV.
func (m *Model) Voltages(v []int32) []float64 {
	out := make([]float64, len(v))
	for _, p := range m.Populations {
		for j := 0; j < p.Size && p.Offset+j < len(v); j++ {
			out[p.Offset+j] = p.Voltage(v[p.Offset+j])
		}
	}
	return out
}
