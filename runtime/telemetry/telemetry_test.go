package telemetry

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEvents() []Event {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	return []Event{
		FusionEvent{Timestamp: ts, CoherenceEntropy: 0.5, AvgPhaseDiff: -1.25, FusionEnergy: 3e10, ParentBlock: 41},
		FusionEvent{Timestamp: ts, ParentBlock: NoParent, FusionEnergy: math.Inf(-1), AvgPhaseDiff: math.Copysign(0, -1)},
		SystemEvent{Timestamp: ts, Source: "orchestrator", Kind: "tick"},
		SystemEvent{Timestamp: ts, Source: "governance", Kind: "rollback", Fields: map[string]Value{
			"reason": Str("entropy spike ✓"), "step": Num(1234), "z": Num(math.Inf(1)), "": Str(""),
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, e := range sampleEvents() {
		b, err := Marshal(e)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", e, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, e)
		}
		b2, err := Marshal(got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Errorf("re-marshal differs: %x vs %x (%v)", b, b2, err)
		}
		if b[0] != byte(e.Type()) {
			t.Errorf("tag %x, want %x", b[0], e.Type())
		}
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("json: %v", err)
		}
	}
}

func TestGolden(t *testing.T) {
	e := FusionEvent{Timestamp: time.Unix(0, 1).UTC(), CoherenceEntropy: 1, ParentBlock: 2}
	b, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := "02" + "0000000000000001" + "3ff0000000000000" + "0000000000000000" + "0000000000000000" + "0000000000000002"
	if got := hexs(b); got != want {
		t.Errorf("fusion encoding\n got %s\nwant %s", got, want)
	}
	s := SystemEvent{Timestamp: time.Unix(0, 0), Source: "a", Kind: "b", Fields: map[string]Value{"y": Str("c"), "x": Num(0)}}
	b, err = Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want = "01" + "0000000000000000" + "0000000161" + "0000000162" + "00000002" +
		"0000000178" + "01" + "0000000000000000" + "0000000179" + "02" + "0000000163"
	if got := hexs(b); got != want {
		t.Errorf("system encoding\n got %s\nwant %s", got, want)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(digits[c>>4])
		sb.WriteByte(digits[c&15])
	}
	return sb.String()
}

func TestNaNCanonical(t *testing.T) {
	odd := math.Float64frombits(0x7FF0000000000001)
	b, err := Marshal(FusionEvent{Timestamp: time.Unix(5, 0), FusionEnergy: odd})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Marshal(FusionEvent{Timestamp: time.Unix(5, 0), FusionEnergy: math.NaN()})
	if !bytes.Equal(b, ref) {
		t.Fatalf("NaN payloads not canonicalised")
	}
	// A non-canonical NaN on the wire is rejected.
	bad := append([]byte(nil), b...)
	copy(bad[25:33], []byte{0x7f, 0xf0, 0, 0, 0, 0, 0, 1})
	if _, err := Unmarshal(bad); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("non-canonical NaN accepted: %v", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	cases := []Event{
		nil,
		FusionEvent{}, // zero timestamp
		SystemEvent{Timestamp: time.Now(), Source: "\xff"},
		SystemEvent{Timestamp: time.Now(), Kind: strings.Repeat("k", MaxStringLen+1)},
	}
	for i, e := range cases {
		if _, err := Marshal(e); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good, _ := Marshal(sampleEvents()[3])
	cases := map[string][]byte{
		"empty":    nil,
		"tag":      {0x07},
		"trunc":    good[:len(good)-1],
		"trailing": append(append([]byte(nil), good...), 0),
	}
	// Swap two keys' order: build by hand an unsorted event.
	unsorted := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 1, 'b', 1, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 1, 'a', 1, 0, 0, 0, 0, 0, 0, 0, 0}
	cases["unsorted"] = unsorted
	dup := append([]byte(nil), unsorted...)
	dup[39] = 'b'
	cases["duplicate"] = dup
	for name, b := range cases {
		if _, err := Unmarshal(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Sanity: the sorted version of the hand-built event is accepted.
	sorted := append([]byte(nil), unsorted...)
	sorted[25], sorted[39] = 'a', 'b'
	if _, err := Unmarshal(sorted); err != nil {
		t.Errorf("sorted hand-built event rejected: %v", err)
	}
}

func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		e := randomEvent(r)
		b, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := Marshal(got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("not canonical: %v", err)
		}
	}
}

func randomEvent(r *rand.Rand) Event {
	ts := time.Unix(0, r.Int64()-r.Int64())
	f := func() float64 {
		switch r.IntN(6) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1 - 2*r.IntN(2))
		}
		return math.Float64frombits(r.Uint64())
	}
	if r.IntN(2) == 0 {
		return FusionEvent{Timestamp: ts, CoherenceEntropy: f(), AvgPhaseDiff: f(), FusionEnergy: f(), ParentBlock: r.Uint64()}
	}
	e := SystemEvent{Timestamp: ts, Source: randStr(r), Kind: randStr(r), Fields: map[string]Value{}}
	for n := r.IntN(8); n > 0; n-- {
		if r.IntN(2) == 0 {
			e.Fields[randStr(r)] = Num(f())
		} else {
			e.Fields[randStr(r)] = Str(randStr(r))
		}
	}
	return e
}

func randStr(r *rand.Rand) string {
	const alphabet = "abcxyz_.-é中"
	rs := []rune(alphabet)
	n := r.IntN(6)
	s := make([]rune, n)
	for i := range s {
		s[i] = rs[r.IntN(len(rs))]
	}
	return string(s)
}

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// accepts is canonical: re-marshalling reproduces the input exactly.
func FuzzUnmarshal(f *testing.F) {
	for _, e := range sampleEvents() {
		b, _ := Marshal(e)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err != nil {
			return
		}
		b2, err := Marshal(e)
		if err != nil {
			t.Fatalf("accepted input does not re-marshal: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("not canonical:\n in %x\nout %x", b, b2)
		}
	})
}
