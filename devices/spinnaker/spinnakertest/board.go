// Package spinnakertest is a loopback SpiNNaker board simulator for tests:
// it receives SDP-wrapped EIEIO on a UDP port, as a board's SCAMP port does,
// and echoes every injected spike back to a host as live output — bare EIEIO
// (the SDP header stripped, as an IP tag with strip-SDP does), 32-bit keys
// with the prefixes applied, timed with the injected packet's timestamp when
// it had one.
//
// Layer: test tooling of devices/spinnaker; only tests import it. It may
// import devices/spinnaker.
package spinnakertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/prismai/mec/devices/spinnaker"
)

// Config configures a Board.
type Config struct {
	// Listen is the address to listen on (default "127.0.0.1:0").
	Listen string
	// Output is where live output goes (a Receiver's address); empty means
	// no echo.
	Output string
	// Map, if set, rewrites each echoed key (a board's routing from input
	// to output keys); returning false drops the spike.
	Map func(key uint32) (uint32, bool)
}

// Stats are a Board's counters.
type Stats struct {
	// Datagrams read, Spikes decoded, Malformed datagrams, Sent output
	// datagrams, Commands received.
	Datagrams, Spikes, Malformed, Sent, Commands uint64
}

// Board is a running simulator.
type Board struct {
	cfg  Config
	conn *net.UDPConn
	out  net.Conn
	done chan struct{}
	once sync.Once

	datagrams, spikes, malformed, sent, commands atomic.Uint64
	mu                                           sync.Mutex
	lastErr                                      error
}

// Start starts a Board.
func Start(cfg Config) (*Board, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("spinnakertest: %w", err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("spinnakertest: listen: %w", err)
	}
	b := &Board{cfg: cfg, conn: conn, done: make(chan struct{})}
	if cfg.Output != "" {
		var d net.Dialer
		b.out, err = d.DialContext(context.Background(), "udp", cfg.Output)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("spinnakertest: dial output: %w", err)
		}
	}
	go b.loop()
	return b, nil
}

// Addr is the board's SDP address ("127.0.0.1:port").
func (b *Board) Addr() string { return b.conn.LocalAddr().String() }

// Stats returns the counters.
func (b *Board) Stats() Stats {
	return Stats{b.datagrams.Load(), b.spikes.Load(), b.malformed.Load(), b.sent.Load(), b.commands.Load()}
}

// LastError is the most recent decode or send error, or nil.
func (b *Board) LastError() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastErr
}

// Close stops the board.
func (b *Board) Close() error {
	var err error
	b.once.Do(func() {
		err = b.conn.Close()
		<-b.done
		if b.out != nil {
			err = errors.Join(err, b.out.Close())
		}
	})
	return err
}

func (b *Board) fail(err error) {
	b.mu.Lock()
	b.lastErr = err
	b.mu.Unlock()
}

func (b *Board) loop() {
	defer close(b.done)
	buf := make([]byte, 65536)
	sb := gopacket.NewSerializeBuffer()
	var spikes []spinnaker.Spike
	for {
		n, _, err := b.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b.datagrams.Add(1)
		e, c, err := spinnaker.Decode(append([]byte(nil), buf[:n]...), true)
		if err != nil {
			b.malformed.Add(1)
			b.fail(err)
			continue
		}
		if c != nil {
			b.commands.Add(1)
			continue
		}
		spikes = e.Spikes(spikes[:0])
		b.spikes.Add(uint64(len(spikes)))
		if b.out == nil {
			continue
		}
		keys := make([]uint32, 0, len(spikes))
		for _, s := range spikes {
			k := s.Key
			if b.cfg.Map != nil {
				var ok bool
				if k, ok = b.cfg.Map(k); !ok {
					continue
				}
			}
			keys = append(keys, k)
		}
		tmpl := spinnaker.EIEIO{Type: spinnaker.Key32}
		if e.PayloadIsTime && e.HasPayloadPrefix {
			tmpl.HasPayloadPrefix, tmpl.PayloadIsTime, tmpl.PayloadPrefix = true, true, e.PayloadPrefix
		}
		pkts, err := spinnaker.Packetize(keys, tmpl)
		if err != nil {
			b.fail(err)
			continue
		}
		for _, p := range pkts {
			if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{}, p); err != nil {
				b.fail(err)
				continue
			}
			if _, err := b.out.Write(sb.Bytes()); err != nil {
				b.fail(err)
				continue
			}
			b.sent.Add(1)
		}
	}
}
