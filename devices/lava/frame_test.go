package lava

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	b := EncodeStep(Step{Step: 42, Inputs: []uint32{0, 3, 9}}, true)
	f, err := DecodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeStep(f)
	if err != nil || s.Step != 42 || !slices.Equal(s.Inputs, []uint32{0, 3, 9}) || f.Flags != FlagVoltages {
		t.Fatalf("step: %+v %v", s, err)
	}
	b = EncodeSpikes(Spikes{Step: 3, Indices: []uint32{1, 2}, V: []int32{-7, 1 << 22, 0}})
	f, err = ReadFrame(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := DecodeSpikes(f)
	if err != nil || sp.Step != 3 || !slices.Equal(sp.Indices, []uint32{1, 2}) || !slices.Equal(sp.V, []int32{-7, 1 << 22, 0}) {
		t.Fatalf("spikes: %+v %v", sp, err)
	}
	e, err := DecodeError(mustDecode(t, EncodeError(CodeStep, "bad step")))
	if err != nil || e.Code != CodeStep || e.Message != "bad step" {
		t.Fatalf("error: %+v %v", e, err)
	}
	// Header layout, byte by byte.
	b = EncodeFrame(TypeHello, 0, []byte("hi"))
	want := []byte{'M', 'E', 'C', 'L', 1, 1, 0, 0, 2, 0, 0, 0}
	if !bytes.Equal(b[:12], want) || len(b) != 18 {
		t.Fatalf("header % x", b[:12])
	}
}

func mustDecode(t *testing.T, b []byte) Frame {
	t.Helper()
	f, err := DecodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFrameErrors(t *testing.T) {
	good := EncodeStep(Step{Step: 1, Inputs: []uint32{2, 3}}, false)
	set := func(i int, v byte) []byte { b := slices.Clone(good); b[i] = v; return b }
	badCount := slices.Clone(good)
	binary.LittleEndian.PutUint32(badCount[HeaderSize+8:], 1000)
	fix := func(b []byte) []byte { // recompute the CRC after tampering with the payload
		binary.LittleEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[HeaderSize:]))
		return b
	}
	unsorted := slices.Clone(good)
	binary.LittleEndian.PutUint32(unsorted[HeaderSize+12:], 9)
	cases := []struct {
		name string
		b    []byte
		kind error
	}{
		{"empty", nil, ErrTruncated},
		{"magic", set(0, 'X'), ErrBadMagic},
		{"version", set(4, 2), ErrBadVersion},
		{"type", set(5, 0), ErrBadType},
		{"flags", set(6, 4), ErrBadFlags},
		{"crc", set(len(good)-1, 0xFF), ErrBadCRC},
		{"short", good[:len(good)-1], ErrTruncated},
		{"long", append(slices.Clone(good), 0), ErrTrailing},
		{"count", fix(badCount), ErrBadPayload},
		{"unsorted", fix(unsorted), ErrBadPayload},
		{"close payload", EncodeFrame(TypeClose, 0, []byte{1}), ErrTooLarge},
		{"hello size", EncodeFrame(TypeHello, 0, make([]byte, MaxTextPayload+1)), ErrTooLarge},
		{"hello utf8", EncodeFrame(TypeHello, 0, []byte{0xff}), ErrBadPayload},
		{"flags on hello", EncodeFrame(TypeHello, FlagVoltages, nil), ErrBadFlags},
		{"spikes v count", EncodeFrame(TypeSpikes, FlagVoltages, make([]byte, 12)), ErrBadPayload},
		{"error short", EncodeFrame(TypeError, 0, []byte{1}), ErrBadPayload},
	}
	for _, c := range cases {
		_, err := DecodeFrame(c.b)
		var fe *FrameError
		if !errors.Is(err, c.kind) || !errors.As(err, &fe) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
}

// FuzzDecodeFrame checks that DecodeFrame never panics, that every error is
// a *FrameError, and that a frame it accepts re-encodes to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(EncodeStep(Step{Step: 1, Inputs: []uint32{0, 5}}, true))
	f.Add(EncodeSpikes(Spikes{Step: 2, Indices: []uint32{1}, V: []int32{3, -4}}))
	f.Add(EncodeFrame(TypeHello, 0, []byte("mec")))
	f.Add(EncodeError(CodeProtocol, "x"))
	f.Add(EncodeFrame(TypeClose, 0, nil))
	f.Add(EncodeFrame(TypeNetwork, 0, []byte(`{"format":"mec-lava-model/1"}`)))
	f.Add([]byte("MECL"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if got := EncodeFrame(fr.Type, fr.Flags, fr.Payload); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs")
		}
		switch fr.Type {
		case TypeStep:
			s, err := DecodeStep(fr)
			if err != nil || !bytes.Equal(EncodeStep(s, fr.Flags != 0), b) {
				t.Fatalf("STEP round trip: %v", err)
			}
		case TypeSpikes:
			s, err := DecodeSpikes(fr)
			if err != nil || !bytes.Equal(EncodeSpikes(s), b) {
				t.Fatalf("SPIKES round trip: %v", err)
			}
		}
		if _, err := ReadFrame(bytes.NewReader(b)); err != nil {
			t.Fatalf("ReadFrame rejects what DecodeFrame accepts: %v", err)
		}
	})
}
