package spinnaker

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
)

func encode(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// Golden vectors: each byte derived by hand from the EIEIO data header
// layout of SpiNNaker's EIEIO specification (as implemented by SpiNNMan's
// EIEIODataHeader: byte 0 count, byte 1 = P<<7 | F<<6 | D<<5 | T<<4 |
// type<<2 | tag, then the 16-bit LE key prefix, the LE payload prefix, and
// LE events).
func TestEIEIOGolden(t *testing.T) {
	cases := []struct {
		name   string
		pkt    EIEIO
		wire   []byte
		spikes []Spike
	}{{
		name: "KEY32",
		pkt:  EIEIO{Type: Key32, Events: []Event{{Key: 0x01020304}, {Key: 0x0A0B0C0D}}},
		wire: []byte{
			0x02,                   // count 2
			0x08,                   // P0 F0 D0 T0, type 2 (KEY32) << 2 = 0x08, tag 0
			0x04, 0x03, 0x02, 0x01, // key 0x01020304 LE
			0x0D, 0x0C, 0x0B, 0x0A, // key 0x0A0B0C0D LE
		},
		spikes: []Spike{{Key: 0x01020304}, {Key: 0x0A0B0C0D}},
	}, {
		name: "KEY16 upper prefix tag 1",
		pkt:  EIEIO{Type: Key16, Tag: 1, HasPrefix: true, PrefixUpper: true, Prefix: 0x1234, Events: []Event{{Key: 5}}},
		wire: []byte{
			0x01,       // count 1
			0xC1,       // P (0x80) | F (0x40) | type 0 | tag 1
			0x34, 0x12, // key prefix 0x1234 LE
			0x05, 0x00, // key 5 LE
		},
		spikes: []Spike{{Key: 0x12340005, Tag: 1}}, // prefix << 16 | key
	}, {
		name: "KEY16 lower prefix",
		pkt:  EIEIO{Type: Key16, HasPrefix: true, Prefix: 0xAB00, Events: []Event{{Key: 0x00CD}}},
		wire: []byte{
			0x01,       // count 1
			0x80,       // P only, type 0, tag 0
			0x00, 0xAB, // key prefix 0xAB00 LE
			0xCD, 0x00, // key 0x00CD LE
		},
		spikes: []Spike{{Key: 0xABCD}}, // prefix | key
	}, {
		name: "KEY16 timed payload prefix",
		pkt:  EIEIO{Type: Key16, HasPayloadPrefix: true, PayloadIsTime: true, PayloadPrefix: 0x0102, Events: []Event{{Key: 7}, {Key: 9}}},
		wire: []byte{
			0x02,       // count 2
			0x30,       // D (0x20) | T (0x10), type 0
			0x02, 0x01, // 16-bit payload prefix (the time step 0x0102) LE
			0x07, 0x00, // key 7
			0x09, 0x00, // key 9
		},
		spikes: []Spike{{Key: 7, Payload: 0x0102, HasPayload: true, IsTime: true}, {Key: 9, Payload: 0x0102, HasPayload: true, IsTime: true}},
	}, {
		name: "KEY_PAYLOAD32 timed payload prefix tag 3",
		pkt: EIEIO{Type: KeyPayload32, Tag: 3, HasPayloadPrefix: true, PayloadIsTime: true, PayloadPrefix: 0x10000000,
			Events: []Event{{Key: 0xDEADBEEF, Payload: 0x2A}}},
		wire: []byte{
			0x01,                   // count 1
			0x3F,                   // D | T | type 3 << 2 (0x0C) | tag 3
			0x00, 0x00, 0x00, 0x10, // 32-bit payload prefix 0x10000000 LE
			0xEF, 0xBE, 0xAD, 0xDE, // key 0xDEADBEEF LE
			0x2A, 0x00, 0x00, 0x00, // payload 0x2A LE
		},
		spikes: []Spike{{Key: 0xDEADBEEF, Payload: 0x1000002A, HasPayload: true, IsTime: true, Tag: 3}},
	}, {
		name: "KEY_PAYLOAD16",
		pkt:  EIEIO{Type: KeyPayload16, Events: []Event{{Key: 0x0201, Payload: 0x0403}}},
		wire: []byte{
			0x01,       // count 1
			0x04,       // type 1 << 2
			0x01, 0x02, // key 0x0201 LE
			0x03, 0x04, // payload 0x0403 LE
		},
		spikes: []Spike{{Key: 0x0201, Payload: 0x0403, HasPayload: true}},
	}, {
		name: "empty KEY32",
		pkt:  EIEIO{Type: Key32},
		wire: []byte{0x00, 0x08}, // count 0, type 2
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := encode(t, &c.pkt)
			if !bytes.Equal(got, c.wire) {
				t.Fatalf("encode = % x, want % x", got, c.wire)
			}
			e, cmd, err := Decode(c.wire, false)
			if err != nil || cmd != nil {
				t.Fatalf("decode: %v %v", cmd, err)
			}
			if sp := e.Spikes(nil); !reflect.DeepEqual(sp, c.spikes) && len(sp)+len(c.spikes) > 0 {
				t.Fatalf("spikes = %+v, want %+v", sp, c.spikes)
			}
			// Through gopacket's decoder as well.
			p := gopacket.NewPacket(c.wire, LayerTypeEIEIO, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("gopacket: %v", el.Error())
			}
			l, ok := p.Layer(LayerTypeEIEIO).(*EIEIO)
			if !ok {
				t.Fatalf("no EIEIO layer in %v", p)
			}
			if !reflect.DeepEqual(l.Events, c.pkt.Events) || l.Type != c.pkt.Type || l.Prefix != c.pkt.Prefix || l.PayloadPrefix != c.pkt.PayloadPrefix {
				t.Fatalf("gopacket layer %+v, want %+v", l, c.pkt)
			}
			if !bytes.Equal(l.LayerContents(), c.wire) || len(l.LayerPayload()) != 0 {
				t.Fatalf("contents/payload wrong")
			}
		})
	}
}

// Command header: 0 << 15 | 1 << 14 | command, 16-bit LE (SpiNNMan's
// EIEIOCommandHeader); command ids from its EIEIO_COMMAND_IDS.
func TestEIEIOCommandGolden(t *testing.T) {
	cases := []struct {
		cmd  EIEIOCommand
		wire []byte
	}{
		{EIEIOCommand{Command: CmdDatabaseConfirmation}, []byte{0x01, 0x40}},                        // 0x4001
		{EIEIOCommand{Command: CmdStopPauseNotification}, []byte{0x0A, 0x40}},                       // 0x400A
		{EIEIOCommand{Command: CmdStartResumeNotification, Args: []byte{9}}, []byte{0x0B, 0x40, 9}}, // 0x400B + arg
		{EIEIOCommand{Command: 0x3FFF}, []byte{0xFF, 0x7F}},                                         // largest 14-bit id
	}
	for _, c := range cases {
		got := encode(t, &c.cmd)
		if !bytes.Equal(got, c.wire) {
			t.Fatalf("%v: encode % x, want % x", c.cmd.Command, got, c.wire)
		}
		e, cmd, err := Decode(c.wire, false)
		if err != nil || e != nil || cmd.Command != c.cmd.Command || !bytes.Equal(cmd.Args, c.cmd.Args) {
			t.Fatalf("%v: decode %+v %v", c.cmd.Command, cmd, err)
		}
		p := gopacket.NewPacket(c.wire, LayerTypeEIEIO, gopacket.Default)
		if l, ok := p.Layer(LayerTypeEIEIOCommand).(*EIEIOCommand); !ok || l.Command != c.cmd.Command {
			t.Fatalf("gopacket: %v", p)
		}
	}
	if _, err := serialize(&EIEIOCommand{Command: 0x4000}); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("15-bit command: %v", err)
	}
	if CmdDatabaseConfirmation.String() != "DATABASE_CONFIRMATION" || EIEIOCommandID(99).String() != "EIEIOCommand(99)" {
		t.Fatal("command names")
	}
}

// serialize runs l.SerializeTo alone and returns the bytes and the error.
func serialize(l gopacket.SerializableLayer) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	err := l.SerializeTo(buf, gopacket.SerializeOptions{})
	return buf.Bytes(), err
}

func TestEIEIORoundTripAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for typ := Key16; typ <= KeyPayload32; typ++ {
		for prefix := 0; prefix < 3; prefix++ { // none, lower, upper
			for d := 0; d < 2; d++ {
				for tb := 0; tb < 2; tb++ {
					for tag := uint8(0); tag < 4; tag++ {
						p := EIEIO{Type: typ, Tag: tag, HasPrefix: prefix > 0, PrefixUpper: prefix == 2,
							Prefix: uint16(rng.Uint32()), HasPayloadPrefix: d == 1, PayloadIsTime: tb == 1}
						if !p.HasPrefix {
							p.Prefix = 0
						}
						if p.HasPayloadPrefix {
							p.PayloadPrefix = rng.Uint32()
							if !typ.Is32() {
								p.PayloadPrefix &= 0xFFFF
							}
						}
						for _, cnt := range []int{0, 1, rng.IntN(p.MaxEvents() + 1), p.MaxEvents()} {
							q := p
							q.Events = make([]Event, cnt)
							for i := range q.Events {
								k, pl := rng.Uint32(), rng.Uint32()
								if !typ.Is32() {
									k, pl = k&0xFFFF, pl&0xFFFF
								}
								if !typ.HasPayload() {
									pl = 0
								}
								q.Events[i] = Event{k, pl}
							}
							wire := encode(t, &q)
							if len(wire) > MaxEIEIOBytes || len(wire) != q.Len() {
								t.Fatalf("%+v: %d bytes", q, len(wire))
							}
							var back EIEIO
							if err := back.UnmarshalBinary(wire); err != nil {
								t.Fatalf("%s: decode: %v", typ, err)
							}
							back.contents = nil
							if len(back.Events) == 0 {
								back.Events = q.Events
							}
							if !reflect.DeepEqual(back, q) {
								t.Fatalf("round trip\n got %+v\nwant %+v", back, q)
							}
							again, err := back.MarshalBinary()
							if err != nil || !bytes.Equal(again, wire) {
								t.Fatalf("re-encode differs: %v", err)
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d packets round-tripped", n)
}

func TestEIEIOSizeLimit(t *testing.T) {
	for _, c := range []struct {
		p    EIEIO
		max  int
		name string
	}{
		{EIEIO{Type: Key16}, 127, "KEY16: (256-2)/2"},
		{EIEIO{Type: Key32}, 63, "KEY32: (256-2)/4"},
		{EIEIO{Type: KeyPayload16}, 63, "KEY_PAYLOAD16: (256-2)/4"},
		{EIEIO{Type: KeyPayload32}, 31, "KEY_PAYLOAD32: (256-2)/8"},
		{EIEIO{Type: Key32, HasPrefix: true, HasPayloadPrefix: true}, 62, "KEY32+P+D: (256-8)/4"},
		{EIEIO{Type: Key16, HasPrefix: true, HasPayloadPrefix: true}, 125, "KEY16+P+D: (256-6)/2"},
	} {
		if got := c.p.MaxEvents(); got != c.max {
			t.Fatalf("%s: MaxEvents %d, want %d", c.name, got, c.max)
		}
		p := c.p
		p.Events = make([]Event, c.max)
		if b, err := p.MarshalBinary(); err != nil || len(b) > MaxEIEIOBytes {
			t.Fatalf("%s: %d events: %d bytes, %v", c.name, c.max, len(b), err)
		}
		p.Events = make([]Event, c.max+1)
		if _, err := p.MarshalBinary(); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: %d events: want ErrTooLarge, got %v", c.name, c.max+1, err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := p.SerializeTo(buf, gopacket.SerializeOptions{}); !errors.Is(err, ErrTooLarge) || len(buf.Bytes()) != 0 {
			t.Fatalf("%s: SerializeTo: %v, %d bytes written", c.name, err, len(buf.Bytes()))
		}
	}
	// A 257-byte datagram that is otherwise well-formed is refused.
	big := make([]byte, 2+4*64-1)
	big[0], big[1] = 64, 0x08
	if _, _, err := Decode(big, false); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized datagram: %v", err)
	}
}

func TestEIEIOInvalidFields(t *testing.T) {
	for name, p := range map[string]EIEIO{
		"tag":                {Type: Key32, Tag: 4},
		"type":               {Type: 4},
		"F without P":        {Type: Key32, PrefixUpper: true},
		"wide key16":         {Type: Key16, Events: []Event{{Key: 0x10000}}},
		"wide payload16":     {Type: KeyPayload16, Events: []Event{{Payload: 0x10000}}},
		"payload in KEY32":   {Type: Key32, Events: []Event{{Payload: 1}}},
		"wide payload pfx16": {Type: Key16, HasPayloadPrefix: true, PayloadPrefix: 0x10000},
	} {
		if _, err := p.MarshalBinary(); !errors.Is(err, ErrInvalidField) {
			t.Errorf("%s: want ErrInvalidField, got %v", name, err)
		}
	}
}

func TestEIEIOMalformed(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"one byte", []byte{1}, ErrTruncated},
		{"key prefix cut", []byte{0, 0x80, 1}, ErrTruncated},
		{"payload prefix32 cut", []byte{0, 0x28, 1, 2, 3}, ErrTruncated},
		{"payload prefix16 cut", []byte{0, 0x20, 1}, ErrTruncated},
		{"events cut", []byte{2, 0x08, 1, 2, 3, 4, 5}, ErrTruncated},
		{"trailing", []byte{1, 0x00, 1, 2, 3}, ErrTrailingBytes},
	} {
		_, _, err := Decode(c.wire, false)
		var de *DecodeError
		if !errors.Is(err, c.want) || !errors.As(err, &de) || de.Layer != "EIEIO" {
			t.Errorf("%s: got %v, want *DecodeError wrapping %v", c.name, err, c.want)
		}
	}
	var e EIEIO
	if err := e.DecodeFromBytes([]byte{1, 0x40}, gopacket.NilDecodeFeedback); !errors.Is(err, ErrNotData) {
		t.Errorf("command as data: %v", err)
	}
	var c EIEIOCommand
	if err := c.DecodeFromBytes([]byte{0, 0x08}, gopacket.NilDecodeFeedback); !errors.Is(err, ErrNotCommand) {
		t.Errorf("data as command: %v", err)
	}
	if err := c.DecodeFromBytes([]byte{1}, gopacket.NilDecodeFeedback); !errors.Is(err, ErrTruncated) {
		t.Errorf("short command: %v", err)
	}
	// gopacket reports decode errors as an error layer, not a panic.
	p := gopacket.NewPacket([]byte{5, 0x08, 1}, LayerTypeEIEIO, gopacket.Default)
	if el := p.ErrorLayer(); el == nil || !errors.Is(el.Error(), ErrTruncated) {
		t.Errorf("gopacket error layer: %v", el)
	}
}

// SDP header bytes per SpiNNaker's SDP layout (SpiNNMan SDPHeader: eight
// unsigned bytes flags, tag, dest port<<5|cpu, src port<<5|cpu, dest y,
// dest x, src y, src x), preceded by the two UDP padding bytes.
func TestSDPGolden(t *testing.T) {
	s := &SDP{Flags: SDPReplyNotExpected, Tag: 0xFF, DestPort: 1, DestCPU: 3, SrcPort: 7, SrcCPU: 31,
		DestX: 1, DestY: 2, SrcX: 0, SrcY: 0}
	eieio := &EIEIO{Type: Key32, Events: []Event{{Key: 0x11223344}}}
	want := []byte{
		0x00, 0x00, // padding
		0x07,       // flags: reply not expected
		0xFF,       // tag
		0x23,       // dest port 1 << 5 | cpu 3
		0xFF,       // src port 7 << 5 | cpu 31
		0x02, 0x01, // dest y 2, dest x 1
		0x00, 0x00, // src y 0, src x 0
		0x01, 0x08, 0x44, 0x33, 0x22, 0x11, // EIEIO KEY32, one key
	}
	got := encode(t, s, eieio)
	if !bytes.Equal(got, want) {
		t.Fatalf("encode % x\nwant   % x", got, want)
	}
	p := gopacket.NewPacket(want, LayerTypeSDP, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatal(el.Error())
	}
	ds, _ := p.Layer(LayerTypeSDP).(*SDP)
	de, _ := p.Layer(LayerTypeEIEIO).(*EIEIO)
	if ds == nil || de == nil {
		t.Fatalf("layers: %v", p)
	}
	ds.Data, ds.contents = nil, nil
	s.Data = nil
	if !reflect.DeepEqual(ds, s) || de.Events[0].Key != 0x11223344 {
		t.Fatalf("decoded %+v %+v", ds, de)
	}
	// SDP data set directly (no inner layer).
	s2 := &SDP{Flags: SDPReplyExpected, DestPort: 0, Data: []byte{1, 2, 3}}
	w2 := encode(t, s2)
	if !bytes.Equal(w2, []byte{0, 0, 0x87, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}) {
		t.Fatalf("% x", w2)
	}
	var d2 SDP
	if err := d2.DecodeFromBytes(w2, gopacket.NilDecodeFeedback); err != nil || d2.NextLayerType() != gopacket.LayerTypePayload {
		t.Fatalf("SCP port: %v %v", err, d2.NextLayerType())
	}
	// Malformed SDP.
	if err := d2.DecodeFromBytes(make([]byte, 9), gopacket.NilDecodeFeedback); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short SDP: %v", err)
	}
	if err := d2.DecodeFromBytes(make([]byte, 10+257), gopacket.NilDecodeFeedback); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("long SDP: %v", err)
	}
	if _, err := serialize(&SDP{DestCPU: 32}); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("cpu 32: %v", err)
	}
	if _, err := serialize(&SDP{Data: make([]byte, 257)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("257 data bytes: %v", err)
	}
}

func TestPacketize(t *testing.T) {
	keys := make([]uint32, 0, 400)
	for i := range 400 {
		keys = append(keys, uint32(i%3)<<16|uint32(i))
	}
	pk, err := Packetize(keys, EIEIO{Type: Key16})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, p := range pk {
		if p.Len() > MaxEIEIOBytes {
			t.Fatalf("packet of %d bytes", p.Len())
		}
		for _, s := range p.Spikes(nil) {
			got = append(got, s.Key)
		}
	}
	if len(got) != len(keys) {
		t.Fatalf("%d keys out of %d", len(got), len(keys))
	}
	seen := map[uint32]bool{}
	for _, k := range got {
		seen[k] = true
	}
	for _, k := range keys {
		if !seen[k] {
			t.Fatalf("key %#x lost", k)
		}
	}
	pk, err = Packetize(keys, EIEIO{Type: Key32, HasPayloadPrefix: true, PayloadIsTime: true, PayloadPrefix: 9})
	if err != nil || len(pk) != 7 { // ceil(400 / 62)
		t.Fatalf("KEY32: %d packets, %v", len(pk), err)
	}
	if _, err := Packetize([]uint32{0x10000}, EIEIO{Type: Key16, HasPrefix: true}); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("16-bit key with fixed prefix: %v", err)
	}
}
