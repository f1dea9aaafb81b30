package lava

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// sidecarScript is the bundled Python sidecar, embedded so that a spawned
// sidecar needs no source tree (a string: immutable).
//
//go:embed sidecar/mec_lava_sidecar.py
var sidecarScript string

// SidecarSource returns the bundled sidecar program
// (sidecar/mec_lava_sidecar.py), e.g. to install it on a Lava machine.
func SidecarSource() string { return sidecarScript }

// HelloText is what the Go client sends in its HELLO frame.
const HelloText = "mec-lava-client/1"

// Client is one lockstep connection to a sidecar. It is not safe for
// concurrent use.
type Client struct {
	conn  net.Conn
	r     *bufio.Reader
	peer  string
	step  uint64
	n     int
	nIn   int
	model *Model
}

// ParseAddress splits "unix:PATH" or "tcp:HOST:PORT" into a network and an
// address for net.Dial.
func ParseAddress(s string) (network, address string, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" || (kind != "unix" && kind != "tcp") {
		return "", "", fmt.Errorf("lava: address %q: want unix:PATH or tcp:HOST:PORT", s)
	}
	return kind, rest, nil
}

// Dial connects to a sidecar at "unix:PATH" or "tcp:HOST:PORT" and
// exchanges HELLO frames; ctx bounds both (a sidecar that accepts but
// never answers fails when ctx ends).
func Dial(ctx context.Context, address string) (*Client, error) {
	network, addr, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("lava: dial sidecar: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	c, err := NewClient(conn)
	if !stop() || err != nil {
		if err == nil {
			c.conn.Close()
		}
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("lava: the sidecar at %s did not answer HELLO %s (raise %s for a slow start)", address, within(ctx, start), EnvTimeout)
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// NewClient runs the HELLO exchange over an open connection.
func NewClient(conn net.Conn) (*Client, error) {
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	if err := WriteFrame(conn, TypeHello, 0, []byte(HelloText)); err != nil {
		conn.Close()
		return nil, err
	}
	f, err := c.read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("lava: hello: %w", err)
	}
	if f.Type != TypeHello {
		conn.Close()
		return nil, &FrameError{Kind: ErrBadType, Detail: "expected HELLO, got " + f.Type.String()}
	}
	c.peer = string(f.Payload)
	return c, nil
}

// Peer is the sidecar's HELLO text, e.g. "mec-lava-sidecar/1 engine=fake".
func (c *Client) Peer() string { return c.peer }

// Fake reports whether the sidecar runs the pure-Python fake, not Lava.
func (c *Client) Fake() bool { return strings.Contains(c.peer, "engine=fake") }

// read reads one frame, turning an ERROR frame into a *RemoteError.
func (c *Client) read() (Frame, error) {
	f, err := ReadFrame(c.r)
	if err != nil {
		return Frame{}, err
	}
	if f.Type == TypeError {
		e, err := DecodeError(f)
		if err != nil {
			return Frame{}, err
		}
		return Frame{}, &RemoteError{Code: e.Code, Message: e.Message}
	}
	return f, nil
}

// Load sends the model (NETWORK) and returns the initial voltages the
// sidecar reports (v units, global order).
func (c *Client) Load(m *Model) ([]int32, error) {
	if c.model != nil {
		return nil, errors.New("lava: a network is already loaded on this connection")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("lava: encode model: %w", err)
	}
	if len(js) > MaxPayload {
		return nil, &FrameError{Kind: ErrTooLarge, Detail: fmt.Sprintf("model JSON of %d bytes", len(js))}
	}
	if err := WriteFrame(c.conn, TypeNetwork, 0, js); err != nil {
		return nil, err
	}
	s, err := c.readSpikes(0)
	if err != nil {
		return nil, fmt.Errorf("lava: load network: %w", err)
	}
	if len(s.V) != m.N() {
		return nil, &FrameError{Kind: ErrBadPayload, Detail: fmt.Sprintf("NETWORK ack has %d voltages for %d neurons", len(s.V), m.N())}
	}
	c.model, c.n, c.nIn = m, m.N(), m.NInputs
	return s.V, nil
}

func (c *Client) readSpikes(step uint64) (Spikes, error) {
	f, err := c.read()
	if err != nil {
		return Spikes{}, err
	}
	s, err := DecodeSpikes(f)
	if err != nil {
		return Spikes{}, err
	}
	if s.Step != step {
		return Spikes{}, &FrameError{Kind: ErrBadPayload, Detail: fmt.Sprintf("SPIKES for step %d, expected %d", s.Step, step)}
	}
	for _, i := range s.Indices {
		if int(i) >= c.n && c.model != nil {
			return Spikes{}, &FrameError{Kind: ErrBadPayload, Detail: fmt.Sprintf("spike index %d >= %d neurons", i, c.n)}
		}
	}
	return s, nil
}

// Step runs the next Lava time step with the given injector indices
// (ascending) and returns the spiking neurons' global indices and, with
// wantV, every neuron's voltage in v units.
func (c *Client) Step(inputs []int, wantV bool) ([]int, []int32, error) {
	if c.model == nil {
		return nil, nil, errors.New("lava: Step before Load")
	}
	in := make([]uint32, len(inputs))
	for k, x := range inputs {
		if x < 0 || x >= c.nIn || (k > 0 && x <= inputs[k-1]) {
			return nil, nil, fmt.Errorf("lava: step %d: input %d (%d) not ascending in [0, %d)", c.step+1, k, x, c.nIn)
		}
		in[k] = uint32(x)
	}
	next := c.step + 1
	if _, err := c.conn.Write(EncodeStep(Step{Step: next, Inputs: in}, wantV)); err != nil {
		return nil, nil, fmt.Errorf("lava: send step %d: %w", next, err)
	}
	s, err := c.readSpikes(next)
	if err != nil {
		return nil, nil, fmt.Errorf("lava: step %d: %w", next, err)
	}
	if wantV && len(s.V) != c.n {
		return nil, nil, &FrameError{Kind: ErrBadPayload, Detail: fmt.Sprintf("%d voltages for %d neurons", len(s.V), c.n)}
	}
	c.step = next
	out := make([]int, len(s.Indices))
	for k, i := range s.Indices {
		out[k] = int(i)
	}
	return out, s.V, nil
}

// StepNumber is the number of steps run.
func (c *Client) StepNumber() uint64 { return c.step }

// Close sends CLOSE, waits briefly for the sidecar's CLOSE and closes the
// connection.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	_ = c.conn.SetDeadline(time.Now().Add(2 * time.Second))
	werr := WriteFrame(c.conn, TypeClose, 0, nil)
	if werr == nil {
		_, _ = ReadFrame(c.r)
	}
	err := c.conn.Close()
	c.conn = nil
	if err != nil {
		return fmt.Errorf("lava: close: %w", err)
	}
	return nil
}

// Sidecar is a sidecar process started by Spawn.
type Sidecar struct {
	// Address is where it listens ("unix:PATH").
	Address string
	// Engine is "fake" or "lava", as it reported.
	Engine string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	dir    string
	waited chan struct{} // closed once cmd.Wait has returned
	werr   error         // cmd.Wait's error, once waited is closed
}

// SpawnOptions control Spawn.
type SpawnOptions struct {
	// Python is the interpreter; empty means $MEC_LAVA_PYTHON, else
	// "python3" from PATH.
	Python string
	// Script is the sidecar file to run; empty means the embedded copy,
	// written to a temporary directory.
	Script string
	// Fake forces the pure-Python fake engine (--fake).
	Fake bool
	// TCP makes the sidecar listen on 127.0.0.1 (a free port) instead of a
	// Unix socket.
	TCP bool
}

// ErrNoPython is returned by Spawn when no Python interpreter is found.
var ErrNoPython = errors.New("lava: python3 not found")

// EnvTimeout bounds how long Open (and so the driver, and `mec devices`)
// waits for a spawned sidecar to start and for any sidecar to answer
// HELLO: a Go duration such as "10s". Default DefaultTimeout.
const EnvTimeout = "MEC_LAVA_TIMEOUT"

// DefaultTimeout is the default of EnvTimeout. Real Lava imports slowly;
// raise it (MEC_LAVA_TIMEOUT=30s) on a machine where it does.
const DefaultTimeout = 5 * time.Second

// Timeout returns the start-up timeout: $MEC_LAVA_TIMEOUT or
// DefaultTimeout. A value that is not a positive duration is an error
// naming the variable.
func Timeout() (time.Duration, error) {
	v := os.Getenv(EnvTimeout)
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lava: %s=%q: want a positive duration such as 10s", EnvTimeout, v)
	}
	return d, nil
}

// closeGrace is how long Close waits for a sidecar to exit after its
// stdin is closed before it kills the sidecar's process group.
const closeGrace = 2 * time.Second

// Spawn starts a sidecar listening on a Unix socket in a new temporary
// directory (or on loopback TCP) and waits, until ctx ends, for it to say
// it is listening. The sidecar runs in a process group of its own; it
// exits when Close closes its stdin (or when this process dies), removing
// its socket and the temporary directory. When Spawn fails it kills the
// whole process group, reaps the sidecar and removes the directory
// before it returns.
func Spawn(ctx context.Context, opt SpawnOptions) (*Sidecar, error) {
	py := opt.Python
	if py == "" {
		py = os.Getenv("MEC_LAVA_PYTHON")
	}
	if py == "" {
		py = "python3"
	}
	pyPath, err := exec.LookPath(py)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %v", ErrNoPython, py, err)
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "mec-lava-")
	if err != nil {
		return nil, fmt.Errorf("lava: spawn: %w", err)
	}
	script, ownScript := opt.Script, false
	if script == "" {
		script, ownScript = filepath.Join(dir, "mec_lava_sidecar.py"), true
		if err := os.WriteFile(script, []byte(sidecarScript), 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("lava: spawn: %w", err)
		}
	}
	listen := "unix:" + filepath.Join(dir, "sidecar.sock")
	if opt.TCP {
		listen = "tcp:127.0.0.1:0"
	}
	args := []string{"-B", script, "--listen", listen, "--exit-on-stdin-eof", "--remove-dir", dir}
	if opt.Fake {
		args = append(args, "--fake")
	}
	cmd := exec.Command(pyPath, args...)
	cmd.Stderr = os.Stderr
	ownProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lava: spawn: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lava: spawn: %w", err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lava: spawn %s: %w", py, err)
	}
	sc := &Sidecar{cmd: cmd, stdin: stdin, dir: dir, waited: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(io.LimitReader(stdout, 4096)).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		// Wait closes stdout, which ends the reader above.
		sc.werr = cmd.Wait()
		close(sc.waited)
	}()
	select {
	case l := <-line:
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "LISTENING" {
			sc.kill()
			return nil, fmt.Errorf("lava: the sidecar did not start (first line %q)", strings.TrimSpace(l))
		}
		sc.Address = f[1]
		for _, x := range f[2:] {
			if e, ok := strings.CutPrefix(x, "engine="); ok {
				sc.Engine = e
			}
		}
	case <-ctx.Done():
		sc.kill()
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("lava: the sidecar (%s) did not say it was listening %s (raise %s for a slow start); killed it", py, within(ctx, start), EnvTimeout)
		}
		return nil, fmt.Errorf("lava: waiting for the sidecar: %w", err)
	}
	if ownScript {
		// The interpreter has compiled it; nothing needs the file now.
		_ = os.Remove(script)
	}
	return sc, nil
}

// within describes, for an error message, the time ctx allowed from
// start: "within 5s", or "in time" without a deadline.
func within(ctx context.Context, start time.Time) string {
	if d, ok := ctx.Deadline(); ok {
		return "within " + d.Sub(start).Round(time.Millisecond).String()
	}
	return "in time"
}

// kill ends the sidecar's whole process group at once, reaps the sidecar
// and removes its directory.
func (s *Sidecar) kill() {
	_ = s.stdin.Close()
	killProcessGroup(s.cmd)
	<-s.waited
	s.cmd = nil
	_ = os.RemoveAll(s.dir)
}

// Dial opens a new client connection to the spawned sidecar.
func (s *Sidecar) Dial(ctx context.Context) (*Client, error) { return Dial(ctx, s.Address) }

// Close stops the sidecar (closing its stdin, then killing its process
// group if it has not exited within 2 s), reaps it and removes its
// temporary directory.
func (s *Sidecar) Close() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.stdin.Close()
	select {
	case <-s.waited:
	case <-time.After(closeGrace):
	}
	// Whatever the sidecar started goes with it.
	killProcessGroup(s.cmd)
	<-s.waited
	s.cmd = nil
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("lava: remove sidecar directory: %w", err)
	}
	return nil
}
