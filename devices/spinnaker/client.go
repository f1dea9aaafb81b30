package spinnaker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
)

// Packetize splits keys into EIEIO data packets with the flags of tmpl
// (Type, Tag, prefixes, T), each holding at most tmpl.MaxEvents() events, in
// key order. Per-event payloads are zero. For the 16-bit types without a
// prefix in tmpl, keys are grouped by their upper half-word, which becomes
// each packet's upper key prefix (P=1, F=1), so any 32-bit key can be sent.
// A key that cannot be expressed is an error wrapping ErrInvalidField.
func Packetize(keys []uint32, tmpl EIEIO) ([]*EIEIO, error) {
	tmpl.Events = nil
	if err := tmpl.validate(); err != nil {
		return nil, err
	}
	type group struct {
		hi   uint16
		keys []uint32
	}
	var groups []group
	if !tmpl.Type.Is32() && !tmpl.HasPrefix {
		idx := map[uint16]int{}
		for _, k := range keys {
			hi := uint16(k >> 16)
			i, ok := idx[hi]
			if !ok {
				i = len(groups)
				idx[hi] = i
				groups = append(groups, group{hi: hi})
			}
			groups[i].keys = append(groups[i].keys, k&0xFFFF)
		}
	} else {
		groups = []group{{keys: keys}}
	}
	var out []*EIEIO
	for _, g := range groups {
		t := tmpl
		if !tmpl.Type.Is32() && !tmpl.HasPrefix && g.hi != 0 {
			t.HasPrefix, t.PrefixUpper, t.Prefix = true, true, g.hi
		}
		max := t.MaxEvents()
		for start := 0; start < len(g.keys); start += max {
			end := min(start+max, len(g.keys))
			p := t
			p.Events = make([]Event, end-start)
			for i, k := range g.keys[start:end] {
				p.Events[i].Key = k
			}
			if err := p.validate(); err != nil {
				return nil, err
			}
			out = append(out, &p)
		}
	}
	return out, nil
}

// InjectorConfig configures an Injector.
type InjectorConfig struct {
	// Addr is the board, host[:port]; the port defaults to SCAMPPort.
	Addr string
	// Raw sends bare EIEIO datagrams (to a reverse IP tag's port) instead of
	// EIEIO wrapped in SDP.
	Raw bool
	// DestX, DestY, DestCPU and DestPort address the SDP message to the
	// injecting core (DestPort 0 is SCP, so 0 here means 1).
	DestX, DestY, DestCPU, DestPort uint8
	// Tag is the SDP header's IP tag byte (0xFF: from the host).
	Tag uint8
	// Keys16 sends 16-bit keys (grouped under upper key prefixes) instead
	// of 32-bit ones.
	Keys16 bool
	// Timeout bounds each Send when ctx has no earlier deadline (default 1 s).
	Timeout time.Duration
}

// Injector sends spikes to a SpiNNaker board. It is safe for concurrent use.
type Injector struct {
	cfg  InjectorConfig
	conn net.Conn
	mu   sync.Mutex
	sent atomic.Uint64
}

// WithDefaultPort returns hostport with port appended when it has none.
func WithDefaultPort(hostport string, port int) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(hostport, strconv.Itoa(port))
}

// NewInjector dials the board (UDP, so nothing is sent yet).
func NewInjector(ctx context.Context, cfg InjectorConfig) (*Injector, error) {
	if cfg.Addr == "" {
		return nil, errors.New("spinnaker: injector: no board address")
	}
	if cfg.DestPort == 0 {
		cfg.DestPort = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.DestPort > 7 || cfg.DestCPU > 31 {
		return nil, fmt.Errorf("spinnaker: injector: SDP port %d / cpu %d: %w", cfg.DestPort, cfg.DestCPU, ErrInvalidField)
	}
	addr := WithDefaultPort(cfg.Addr, SCAMPPort)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("spinnaker: injector: dial %s: %w", addr, err)
	}
	return &Injector{cfg: cfg, conn: conn}, nil
}

// RemoteAddr is the board's address.
func (in *Injector) RemoteAddr() net.Addr { return in.conn.RemoteAddr() }

// Packets is how many datagrams have been sent.
func (in *Injector) Packets() uint64 { return in.sent.Load() }

// Send sends keys as untimed spikes, batched into as few ≤256-byte EIEIO
// packets as fit, and returns the number of datagrams sent.
func (in *Injector) Send(ctx context.Context, keys []uint32) (int, error) {
	return in.send(ctx, keys, EIEIO{})
}

// SendStep sends keys as the spikes of time step step: the step is the
// packets' payload prefix with T set (a timed packet). With Keys16 the step
// must fit 16 bits.
func (in *Injector) SendStep(ctx context.Context, step uint32, keys []uint32) (int, error) {
	return in.send(ctx, keys, EIEIO{HasPayloadPrefix: true, PayloadIsTime: true, PayloadPrefix: step})
}

func (in *Injector) send(ctx context.Context, keys []uint32, tmpl EIEIO) (int, error) {
	tmpl.Type = Key32
	if in.cfg.Keys16 {
		tmpl.Type = Key16
	}
	pkts, err := Packetize(keys, tmpl)
	if err != nil {
		return 0, fmt.Errorf("spinnaker: inject: %w", err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	dl := time.Now().Add(in.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	if err := in.conn.SetWriteDeadline(dl); err != nil {
		return 0, fmt.Errorf("spinnaker: inject: %w", markClosed(err))
	}
	buf := gopacket.NewSerializeBuffer()
	for i, p := range pkts {
		if err := ctx.Err(); err != nil {
			return i, fmt.Errorf("spinnaker: inject: after %d of %d packets: %w", i, len(pkts), err)
		}
		if err := in.encode(buf, p); err != nil {
			return i, fmt.Errorf("spinnaker: inject: %w", err)
		}
		if _, err := in.conn.Write(buf.Bytes()); err != nil {
			err = markClosed(err)
			return i, fmt.Errorf("spinnaker: inject: packet %d of %d: %w", i+1, len(pkts), err)
		}
		in.sent.Add(1)
	}
	return len(pkts), nil
}

// markClosed makes a use-of-closed-connection error match ErrClosed too.
func markClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

func (in *Injector) encode(buf gopacket.SerializeBuffer, p *EIEIO) error {
	if in.cfg.Raw {
		return gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, p)
	}
	sdp := &SDP{Flags: SDPReplyNotExpected, Tag: in.cfg.Tag, DestPort: in.cfg.DestPort, DestCPU: in.cfg.DestCPU,
		DestX: in.cfg.DestX, DestY: in.cfg.DestY}
	return gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, sdp, p)
}

// Close closes the socket.
func (in *Injector) Close() error {
	if err := in.conn.Close(); err != nil {
		return fmt.Errorf("spinnaker: injector: %w", err)
	}
	return nil
}

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Addr is the local address to listen on (default ":17895", the legacy
	// live-output port; "127.0.0.1:0" picks a free loopback port).
	Addr string
	// SDP says datagrams still carry the SDP padding and header (an IP tag
	// with strip-SDP off); by default they are bare EIEIO.
	SDP bool
	// Buffer is the capacity of the Spikes channel (default 4096). When it
	// is full, spikes are dropped and counted: UDP would drop them anyway.
	Buffer int
	// Handler, if set, is called with every spike on the receive goroutine
	// and the Spikes channel stays empty.
	Handler func(Spike)
	// OnError, if set, is called with every malformed datagram's error
	// (a *DecodeError).
	OnError func(error)
	// OnCommand, if set, is called with every EIEIO command packet.
	OnCommand func(*EIEIOCommand)
}

// ReceiverStats are a Receiver's counters.
type ReceiverStats struct {
	// Datagrams is every datagram read; Spikes the events delivered or
	// dropped; Commands the command packets; Malformed the datagrams that
	// did not decode; Dropped the spikes lost to a full channel.
	Datagrams, Spikes, Commands, Malformed, Dropped uint64
}

// Receiver listens for live-output EIEIO packets and delivers their spikes.
type Receiver struct {
	cfg  ReceiverConfig
	conn *net.UDPConn
	ch   chan Spike
	done chan struct{}
	once sync.Once
	stop func() bool

	datagrams, spikes, commands, malformed, dropped atomic.Uint64
	lastErr                                         atomic.Pointer[error]
}

// Listen opens a Receiver. It stops, and its Spikes channel closes, when ctx
// is done or Close is called.
func Listen(ctx context.Context, cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Addr == "" {
		cfg.Addr = net.JoinHostPort("", strconv.Itoa(LiveOutputPort))
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 4096
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("spinnaker: receiver: listen %s: %w", cfg.Addr, err)
	}
	r := &Receiver{cfg: cfg, conn: pc.(*net.UDPConn), ch: make(chan Spike, cfg.Buffer), done: make(chan struct{})}
	go r.loop()
	r.stop = context.AfterFunc(ctx, func() { _ = r.Close() })
	return r, nil
}

// Addr is the local address the Receiver listens on.
func (r *Receiver) Addr() net.Addr { return r.conn.LocalAddr() }

// Spikes delivers received spikes; it is closed when the Receiver stops.
func (r *Receiver) Spikes() <-chan Spike { return r.ch }

// Receive waits for the next spike: ErrClosed after the Receiver stopped,
// ctx's error when ctx is done first.
func (r *Receiver) Receive(ctx context.Context) (Spike, error) {
	select {
	case s, ok := <-r.ch:
		if !ok {
			return Spike{}, fmt.Errorf("spinnaker: receive: %w", ErrClosed)
		}
		return s, nil
	case <-ctx.Done():
		return Spike{}, fmt.Errorf("spinnaker: receive: %w", ctx.Err())
	}
}

// Stats returns the counters.
func (r *Receiver) Stats() ReceiverStats {
	return ReceiverStats{r.datagrams.Load(), r.spikes.Load(), r.commands.Load(), r.malformed.Load(), r.dropped.Load()}
}

// LastError is the most recent malformed-datagram error, or nil.
func (r *Receiver) LastError() error {
	if p := r.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the Receiver and waits for its goroutine; it must not be
// called from the Handler, OnError or OnCommand callbacks, which run on that
// goroutine. Later calls return nil.
func (r *Receiver) Close() error {
	var err error
	r.once.Do(func() {
		if e := r.conn.Close(); e != nil {
			err = fmt.Errorf("spinnaker: receiver: %w", e)
		}
		<-r.done
	})
	if r.stop != nil {
		r.stop()
	}
	return err
}

// Decode decodes one live-output datagram: bare EIEIO, or SDP-wrapped EIEIO
// when withSDP. It returns exactly one of a data packet or a command packet.
// Every malformation is a *DecodeError.
func Decode(data []byte, withSDP bool) (*EIEIO, *EIEIOCommand, error) {
	if withSDP {
		var s SDP
		if err := s.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return nil, nil, err
		}
		data = s.Data
	}
	if IsEIEIOCommand(data) {
		c := &EIEIOCommand{}
		if err := c.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return nil, nil, err
		}
		return nil, c, nil
	}
	e := &EIEIO{}
	if err := e.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nil, err
	}
	return e, nil, nil
}

func (r *Receiver) loop() {
	defer close(r.done)
	defer close(r.ch)
	buf := make([]byte, 65536)
	var spikes []Spike
	for {
		n, _, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // transient (e.g. ICMP port unreachable): keep listening
		}
		r.datagrams.Add(1)
		// Decode from a copy: layers keep slices of their input.
		e, c, err := Decode(append([]byte(nil), buf[:n]...), r.cfg.SDP)
		if err != nil {
			r.malformed.Add(1)
			err = fmt.Errorf("spinnaker: receiver: datagram of %d bytes: %w", n, err)
			r.lastErr.Store(&err)
			if r.cfg.OnError != nil {
				r.cfg.OnError(err)
			}
			continue
		}
		if c != nil {
			r.commands.Add(1)
			if r.cfg.OnCommand != nil {
				r.cfg.OnCommand(c)
			}
			continue
		}
		spikes = e.Spikes(spikes[:0])
		r.spikes.Add(uint64(len(spikes)))
		for _, s := range spikes {
			if r.cfg.Handler != nil {
				r.cfg.Handler(s)
				continue
			}
			select {
			case r.ch <- s:
			default:
				r.dropped.Add(1)
			}
		}
	}
}
