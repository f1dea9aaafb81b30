package cbor

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	ints := []int64{0, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxInt64, -1, -24, -25, -1 << 40, math.MinInt64}
	for _, v := range ints {
		b = AppendInt(b, v)
	}
	b = AppendText(b, "héllo")
	b = AppendBytes(b, []byte{1, 2, 3})
	b = AppendFloat64(b, math.Copysign(0, -1))
	b = AppendFloat64(b, math.NaN())
	d := NewDecoder(b)
	for _, want := range ints {
		got, err := d.Int()
		if err != nil || got != want {
			t.Fatalf("Int = %d, %v; want %d", got, err, want)
		}
	}
	if s, err := d.Text(); err != nil || s != "héllo" {
		t.Fatalf("Text = %q, %v", s, err)
	}
	if p, err := d.Raw(Bytes); err != nil || !bytes.Equal(p, []byte{1, 2, 3}) {
		t.Fatalf("Raw = %v, %v", p, err)
	}
	if f, err := d.Float64(); err != nil || math.Float64bits(f) != math.Float64bits(math.Copysign(0, -1)) {
		t.Fatalf("Float64 = %v, %v", f, err)
	}
	if f, err := d.Float64(); err != nil || !math.IsNaN(f) {
		t.Fatalf("Float64 = %v, %v", f, err)
	}
	if d.Remaining() != 0 || d.Offset() != len(b) {
		t.Fatalf("%d bytes left", d.Remaining())
	}
}

// TestHeadShortest: every argument has one accepted encoding.
func TestHeadShortest(t *testing.T) {
	for _, n := range []uint64{0, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		b := AppendHead(nil, Uint, n)
		if _, got, err := NewDecoder(b).Head(); err != nil || got != n {
			t.Fatalf("Head(%x) = %d, %v", b, got, err)
		}
	}
	bad := [][]byte{
		{0x18, 0x05},                   // 5 in one extra byte
		{0x19, 0x00, 0xff},             // 255 in two
		{0x1a, 0x00, 0x00, 0xff, 0xff}, // 65535 in four
		{0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		{0x1f},       // indefinite
		{0x1c},       // reserved
		{0x19, 0x01}, // truncated
		{},
	}
	for _, b := range bad {
		if _, _, err := NewDecoder(b).Head(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Head(%x) = %v, want ErrMalformed", b, err)
		}
	}
	if _, err := NewDecoder(AppendText(nil, "x")).Expect(Bytes); !errors.Is(err, ErrMalformed) {
		t.Error("Expect accepted the wrong major type")
	}
	if _, err := NewDecoder([]byte{0x62, 0xff, 0xfe}).Text(); !errors.Is(err, ErrMalformed) {
		t.Error("Text accepted invalid UTF-8")
	}
	if _, err := NewDecoder([]byte{0x45, 1, 2}).Raw(Bytes); !errors.Is(err, ErrMalformed) {
		t.Error("Raw accepted a string past the end")
	}
	if _, err := NewDecoder([]byte{0xfa, 0, 0, 0, 0}).Float64(); !errors.Is(err, ErrMalformed) {
		t.Error("Float64 accepted a binary32")
	}
}

func TestSortedKeys(t *testing.T) {
	got := SortedKeys(map[string]int{"bb": 1, "a": 2, "ab": 3, "c": 4, "aaa": 5})
	if want := []string{"a", "c", "ab", "bb", "aaa"}; !slices.Equal(got, want) {
		t.Fatalf("SortedKeys = %v, want %v", got, want)
	}
}

// FuzzDecoder: no input panics, and whatever decodes as a head re-encodes
// to the same bytes.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x18, 0x18})
	f.Add(AppendText(nil, "k"))
	f.Add(AppendFloat64(nil, 1.5))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		if m, n, err := d.Head(); err == nil {
			if enc := AppendHead(nil, m, n); !bytes.Equal(enc, b[:d.Offset()]) {
				t.Fatalf("head %x re-encodes as %x", b[:d.Offset()], enc)
			}
		}
		for _, fn := range []func(*Decoder) error{
			func(d *Decoder) error { _, err := d.Text(); return err },
			func(d *Decoder) error { _, err := d.Int(); return err },
			func(d *Decoder) error { _, err := d.Float64(); return err },
			func(d *Decoder) error { _, err := d.Raw(Bytes); return err },
		} {
			if err := fn(NewDecoder(b)); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		}
	})
}
