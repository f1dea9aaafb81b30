package witness

import (
	"bytes"
	"testing"
)

func fuzzSeeds(f *testing.F, enc ...[]byte) {
	for _, b := range enc {
		f.Add(b)
		if len(b) > 3 {
			f.Add(b[:len(b)-3])
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x84, 0x01, 0x40, 0x00, 0x80})
	f.Add([]byte{0x85, 0x01, 0x01, 0x40, 0x40, 0x81, 0x58, 0x20})
}

// FuzzUnmarshalSubmission: no panics; what decodes re-encodes to the same
// bytes (one accepted encoding per value).
func FuzzUnmarshalSubmission(f *testing.F) {
	s := &Submission{Note: []byte("log\n1\nAAAA\n\n— log AAAA\n"), OldSize: 300, Proof: [][]byte{make([]byte, 32), bytes.Repeat([]byte{7}, 32)}}
	b, err := s.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	e, _ := (&Submission{}).Marshal()
	fuzzSeeds(f, b, e)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSubmission(b)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
	})
}

// FuzzUnmarshalEvidence: as FuzzUnmarshalSubmission, and VerifyEvidence
// never panics on what decodes.
func FuzzUnmarshalEvidence(f *testing.F) {
	logV := signer(f, "log-a.example").Verifier()
	ev := &Evidence{Kind: KindInconsistent, Previous: []byte("a"), Offending: []byte("b"), Proof: [][]byte{make([]byte, 32)}}
	b, err := ev.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	fuzzSeeds(f, b)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := UnmarshalEvidence(b)
		if err != nil {
			return
		}
		out, err := ev.Marshal()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
		if VerifyEvidence(logV, ev) == nil {
			t.Fatal("fuzzed evidence proves a fork")
		}
	})
}

// FuzzUnmarshalState: as FuzzUnmarshalSubmission, for state files.
func FuzzUnmarshalState(f *testing.F) {
	st := &state{witnessKey: "w+00000000+AAAA", logKey: "l+00000000+AAAA", cosigned: []byte("note")}
	fuzzSeeds(f, st.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := unmarshalState(b)
		if err != nil {
			return
		}
		if out := st.marshal(); !bytes.Equal(out, b) {
			t.Fatal("re-encoding differs")
		}
	})
}
