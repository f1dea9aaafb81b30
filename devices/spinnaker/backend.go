package spinnaker

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/prismai/mec/backend"
)

// Name is the registered backend name.
const Name = "spinnaker"

// EnvHost configures the backend: the board's host[:port] (port default
// SCAMPPort). Unset, the backend is skipped.
const EnvHost = "MEC_SPINNAKER_HOST"

// Priority is the driver's priority: below the CPU's, so a board never
// becomes the default backend for work it cannot do.
const Priority = -10

func init() { backend.Register(driver{}) }

type driver struct{}

func (driver) Name() string  { return Name }
func (driver) Priority() int { return Priority }
func (driver) Init() (backend.Backend, error) {
	host := os.Getenv(EnvHost)
	if host == "" {
		return nil, backend.Skip("%s is not set (set it to the SpiNNaker board's host[:port] to enable live spike I/O)", EnvHost)
	}
	return Open(host)
}

// Backend is an opened SpiNNaker board: the addresses live spike I/O uses
// (NewInjector, and Listen for the board's output). It implements no
// compute capability and names none: its spike I/O is this package's API.
// Lava's lockstep sessions are a different contract, so the two share no
// "spike I/O" capability.
type Backend struct {
	addr *net.UDPAddr
	host string
}

// Open resolves hostport (port default SCAMPPort) and returns the backend.
// Nothing is sent to the board.
func Open(hostport string) (*Backend, error) {
	a := WithDefaultPort(hostport, SCAMPPort)
	ua, err := net.ResolveUDPAddr("udp", a)
	if err != nil {
		return nil, fmt.Errorf("spinnaker: %s=%q: %w", EnvHost, hostport, err)
	}
	return &Backend{addr: ua, host: hostport}, nil
}

// Name returns "spinnaker".
func (b *Backend) Name() string { return Name }

// Device names the board.
func (b *Backend) Device() string {
	return fmt.Sprintf("SpiNNaker board %s (%s), live spike I/O: EIEIO over SDP", b.host, b.addr)
}

// Close releases nothing (the backend holds no socket).
func (b *Backend) Close() error { return nil }

// Addr is the board's resolved SDP address.
func (b *Backend) Addr() *net.UDPAddr { return b.addr }

// NewInjector opens an Injector to the board; cfg.Addr is overridden.
func (b *Backend) NewInjector(ctx context.Context, cfg InjectorConfig) (*Injector, error) {
	cfg.Addr = b.addr.String()
	return NewInjector(ctx, cfg)
}
