package spinnaker

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
)

// FuzzDecodeEIEIO: decoding arbitrary bytes never panics, fails only with a
// *DecodeError, and a packet that decodes re-encodes to the same bytes.
func FuzzDecodeEIEIO(f *testing.F) {
	for _, s := range [][]byte{
		{0x02, 0x08, 4, 3, 2, 1, 0xD, 0xC, 0xB, 0xA},
		{0x01, 0xC1, 0x34, 0x12, 5, 0},
		{0x01, 0x3F, 0, 0, 0, 0x10, 0xEF, 0xBE, 0xAD, 0xDE, 0x2A, 0, 0, 0},
		{0x01, 0x40}, {0x0B, 0x40, 9}, {}, {0xFF, 0xFF},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, c, err := Decode(data, false)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
		} else if e != nil {
			_ = e.Spikes(nil)
			b, err := e.MarshalBinary()
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("re-encode % x -> % x (%v)", data, b, err)
			}
		} else {
			b, err := serialize(c)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("command re-encode % x -> % x (%v)", data, b, err)
			}
		}
		_ = gopacket.NewPacket(data, LayerTypeEIEIO, gopacket.Default)
		_ = gopacket.NewPacket(data, LayerTypeEIEIOCommand, gopacket.Lazy)
	})
}

// FuzzDecodeSDP: SDP-wrapped datagrams never panic and round-trip.
func FuzzDecodeSDP(f *testing.F) {
	f.Add([]byte{0, 0, 7, 0xFF, 0x23, 0xFF, 2, 1, 0, 0, 1, 8, 0x44, 0x33, 0x22, 0x11})
	f.Add([]byte{0, 0, 0x87, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{0, 0, 7, 0, 0x20, 0, 0, 0, 0, 0, 1, 0x40})
	f.Add(make([]byte, 9))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s SDP
		if err := s.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err == nil {
			b, err := serialize(&s)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("re-encode % x -> % x (%v)", data, b, err)
			}
		}
		if _, _, err := Decode(data, true); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
		}
		_ = gopacket.NewPacket(data, LayerTypeSDP, gopacket.Default)
	})
}
