package spinnaker_test

import (
	"context"
	"errors"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/devices/spinnaker"
	"github.com/prismai/mec/devices/spinnaker/spinnakertest"
)

// TestLoopback injects spikes into the simulated board over SDP and receives
// them back as live output.
func TestLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rx, err := spinnaker.Listen(ctx, spinnaker.ReceiverConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	board, err := spinnakertest.Start(spinnakertest.Config{Output: rx.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()

	for _, keys16 := range []bool{false, true} {
		in, err := spinnaker.NewInjector(ctx, spinnaker.InjectorConfig{Addr: board.Addr(), Keys16: keys16, DestCPU: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 200 keys over three upper half-words: several packets.
		var keys []uint32
		for i := range 200 {
			keys = append(keys, uint32(i%3)<<16|uint32(1000+i))
		}
		const step = 42
		n, err := in.SendStep(ctx, step, keys)
		if err != nil {
			t.Fatal(err)
		}
		// 32-bit: ceil(200/62) = 4 packets of ≤ 62 timed keys; 16-bit: one
		// packet per upper half-word (67, 67, 66 keys ≤ 125 each).
		if want := map[bool]int{false: 4, true: 3}[keys16]; n != want {
			t.Fatalf("keys16=%v: %d packets for 200 keys, want %d", keys16, n, want)
		}
		var got []uint32
		for range keys {
			s, err := rx.Receive(ctx)
			if err != nil {
				t.Fatalf("keys16=%v: after %d spikes: %v (board %+v, receiver %+v, board err %v)", keys16, len(got), err, board.Stats(), rx.Stats(), board.LastError())
			}
			if !s.HasPayload || !s.IsTime || s.Payload != step {
				t.Fatalf("spike %+v: want timestamp %d", s, step)
			}
			got = append(got, s.Key)
		}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for i := range keys {
			if got[i] != keys[i] {
				t.Fatalf("keys16=%v: key %d = %#x, want %#x", keys16, i, got[i], keys[i])
			}
		}
		// Untimed spikes come back without a payload.
		if _, err := in.Send(ctx, []uint32{7}); err != nil {
			t.Fatal(err)
		}
		if s, err := rx.Receive(ctx); err != nil || s.Key != 7 || s.HasPayload {
			t.Fatalf("untimed: %+v %v", s, err)
		}
		in.Close()
		if _, err := in.Send(ctx, []uint32{1}); !errors.Is(err, spinnaker.ErrClosed) {
			t.Fatalf("send after close: %v", err)
		}
	}
	if st := board.Stats(); st.Malformed != 0 || st.Spikes != 402 {
		t.Fatalf("board stats %+v", st)
	}
}

func TestReceiverMalformedAndCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var errs []error
	cmds := make(chan spinnaker.EIEIOCommandID, 1)
	rx, err := spinnaker.Listen(ctx, spinnaker.ReceiverConfig{
		Addr:      "127.0.0.1:0",
		OnError:   func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		OnCommand: func(c *spinnaker.EIEIOCommand) { cmds <- c.Command },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	c, err := net.Dial("udp", rx.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range [][]byte{{1}, {3, 0x08, 1, 2}, {1, 0, 1, 2, 3}} {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write([]byte{0x01, 0x40}); err != nil { // DATABASE_CONFIRMATION
		t.Fatal(err)
	}
	select {
	case id := <-cmds:
		if id != spinnaker.CmdDatabaseConfirmation {
			t.Fatalf("command %v", id)
		}
	case <-ctx.Done():
		t.Fatal("no command")
	}
	// Datagrams on one socket arrive in order: the three bad ones are done.
	st := rx.Stats()
	if st.Malformed != 3 || st.Commands != 1 || st.Datagrams != 4 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []error{spinnaker.ErrTruncated, spinnaker.ErrTruncated, spinnaker.ErrTrailingBytes}
	for i, err := range errs {
		var de *spinnaker.DecodeError
		if !errors.As(err, &de) || !errors.Is(err, want[i]) {
			t.Fatalf("error %d: %v", i, err)
		}
	}
	if rx.LastError() == nil {
		t.Fatal("LastError nil")
	}
}

func TestReceiverCancelAndTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rx, err := spinnaker.Listen(ctx, spinnaker.ReceiverConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer tcancel()
	if _, err := rx.Receive(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	cancel()
	select {
	case _, ok := <-rx.Spikes():
		if ok {
			t.Fatal("spike from nowhere")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	if _, err := rx.Receive(context.Background()); !errors.Is(err, spinnaker.ErrClosed) {
		t.Fatalf("receive after cancel: %v", err)
	}
	if err := rx.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// A cancelled context stops an injection before it sends.
	in, err := spinnaker.NewInjector(context.Background(), spinnaker.InjectorConfig{Addr: "127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if n, err := in.Send(ctx, []uint32{1}); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("send with cancelled ctx: %d %v", n, err)
	}
}

func TestReceiverHandlerAndSDP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan spinnaker.Spike, 10)
	rx, err := spinnaker.Listen(ctx, spinnaker.ReceiverConfig{Addr: "127.0.0.1:0", SDP: true, Handler: func(s spinnaker.Spike) { got <- s }})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	// An injector aimed at the receiver sends SDP-wrapped EIEIO.
	in, err := spinnaker.NewInjector(ctx, spinnaker.InjectorConfig{Addr: rx.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Send(ctx, []uint32{0xCAFEF00D}); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s.Key != 0xCAFEF00D {
			t.Fatalf("%+v", s)
		}
	case <-ctx.Done():
		t.Fatal("no spike")
	}
}

// TestBoardMap: the simulator's Map rewrites and drops keys, as a board's
// routing from input to output keys would.
func TestBoardMap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rx, err := spinnaker.Listen(ctx, spinnaker.ReceiverConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	board, err := spinnakertest.Start(spinnakertest.Config{Output: rx.Addr().String(),
		Map: func(k uint32) (uint32, bool) { return k + 0x10000, k%2 == 0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()
	in, err := spinnaker.NewInjector(ctx, spinnaker.InjectorConfig{Addr: board.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Send(ctx, []uint32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint32{0x10002, 0x10004} {
		s, err := rx.Receive(ctx)
		if err != nil || s.Key != want {
			t.Fatalf("got %+v %v, want key %#x", s, err, want)
		}
	}
	// Garbage sent to the board is counted, not echoed.
	c, err := net.Dial("udp", board.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0, 0, 7}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for board.Stats().Malformed == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if board.Stats().Malformed != 1 || !errors.Is(board.LastError(), spinnaker.ErrTruncated) {
		t.Fatalf("board stats %+v, last error %v", board.Stats(), board.LastError())
	}
}
