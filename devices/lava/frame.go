package lava

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

// Frame header constants (see the package documentation for the layout).
const (
	// Magic is the first four bytes of every frame: "MECL".
	Magic = "MECL"
	// Version is the protocol version carried in byte 4 of every frame.
	Version = 1
	// HeaderSize is the size in bytes of the frame header.
	HeaderSize = 16
	// MaxPayload is the largest payload accepted (64 MiB).
	MaxPayload = 64 << 20
	// MaxTextPayload bounds the payload of HELLO and ERROR frames (4 KiB).
	MaxTextPayload = 4096
)

// FrameType is byte 5 of a frame header.
type FrameType uint8

// Frame types.
const (
	// TypeHello carries a UTF-8 peer description; each side sends one first.
	TypeHello FrameType = 1
	// TypeNetwork carries the JSON of a Model (client to sidecar).
	TypeNetwork FrameType = 2
	// TypeStep carries a step number and the injected spike indices.
	TypeStep FrameType = 3
	// TypeSpikes carries a step number, the output spike indices and
	// optionally every neuron's voltage (sidecar to client).
	TypeSpikes FrameType = 4
	// TypeError carries an error code and a UTF-8 message.
	TypeError FrameType = 5
	// TypeClose ends the session (empty payload).
	TypeClose FrameType = 6
)

// FlagVoltages is bit 0 of the header flags: on STEP it asks for the
// voltages, on SPIKES it says they follow the spike indices.
const FlagVoltages uint16 = 1

// String names the frame type.
func (t FrameType) String() string {
	switch t {
	case TypeHello:
		return "HELLO"
	case TypeNetwork:
		return "NETWORK"
	case TypeStep:
		return "STEP"
	case TypeSpikes:
		return "SPIKES"
	case TypeError:
		return "ERROR"
	case TypeClose:
		return "CLOSE"
	}
	return fmt.Sprintf("FrameType(%d)", uint8(t))
}

// Sentinel errors of the frame codec; every decoding error wraps exactly one
// of them inside a *FrameError.
var (
	// ErrBadMagic: the first four bytes are not "MECL".
	ErrBadMagic = errors.New("bad magic")
	// ErrBadVersion: byte 4 is not Version.
	ErrBadVersion = errors.New("unsupported protocol version")
	// ErrBadType: byte 5 is not a known FrameType (or not the one expected).
	ErrBadType = errors.New("unknown frame type")
	// ErrBadFlags: unknown flag bits, or flags on a type without flags.
	ErrBadFlags = errors.New("unknown flag bits")
	// ErrTooLarge: the payload length exceeds the limit of its type.
	ErrTooLarge = errors.New("payload too large")
	// ErrTruncated: fewer bytes than the header or its length announce.
	ErrTruncated = errors.New("truncated frame")
	// ErrBadCRC: the payload's CRC-32 differs from the header's.
	ErrBadCRC = errors.New("payload CRC mismatch")
	// ErrBadPayload: the payload does not match its type's layout.
	ErrBadPayload = errors.New("malformed payload")
	// ErrTrailing: bytes follow the frame in a DecodeFrame buffer.
	ErrTrailing = errors.New("trailing bytes after frame")
)

// FrameError is a typed frame-decoding error: Kind is one of the sentinel
// errors above (errors.Is works on it) and Detail says what was wrong.
type FrameError struct {
	Kind   error
	Detail string
}

// Error implements error.
func (e *FrameError) Error() string {
	if e.Detail == "" {
		return "lava frame: " + e.Kind.Error()
	}
	return "lava frame: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns Kind.
func (e *FrameError) Unwrap() error { return e.Kind }

func ferr(kind error, format string, args ...any) error {
	return &FrameError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Frame is one decoded protocol frame.
type Frame struct {
	Type  FrameType
	Flags uint16
	// Payload is the raw payload (already CRC-checked).
	Payload []byte
}

// Header is the decoded fixed-size header of a frame.
type Header struct {
	Type   FrameType
	Flags  uint16
	Length uint32
	CRC    uint32
}

// ParseHeader checks and decodes a 16-byte frame header.
func ParseHeader(h []byte) (Header, error) {
	if len(h) < HeaderSize {
		return Header{}, ferr(ErrTruncated, "header has %d of %d bytes", len(h), HeaderSize)
	}
	if string(h[0:4]) != Magic {
		return Header{}, ferr(ErrBadMagic, "got % x", h[0:4])
	}
	if h[4] != Version {
		return Header{}, ferr(ErrBadVersion, "got %d, want %d", h[4], Version)
	}
	hd := Header{
		Type:   FrameType(h[5]),
		Flags:  binary.LittleEndian.Uint16(h[6:8]),
		Length: binary.LittleEndian.Uint32(h[8:12]),
		CRC:    binary.LittleEndian.Uint32(h[12:16]),
	}
	if hd.Type < TypeHello || hd.Type > TypeClose {
		return Header{}, ferr(ErrBadType, "%d", uint8(hd.Type))
	}
	if hd.Flags&^FlagVoltages != 0 || (hd.Flags != 0 && hd.Type != TypeStep && hd.Type != TypeSpikes) {
		return Header{}, ferr(ErrBadFlags, "flags %#04x on %v", hd.Flags, hd.Type)
	}
	max := uint32(MaxPayload)
	if hd.Type == TypeHello || hd.Type == TypeError {
		max = MaxTextPayload
	}
	if hd.Type == TypeClose {
		max = 0
	}
	if hd.Length > max {
		return Header{}, ferr(ErrTooLarge, "%v payload of %d bytes (limit %d)", hd.Type, hd.Length, max)
	}
	return hd, nil
}

// EncodeFrame returns the bytes of a frame: header then payload.
func EncodeFrame(t FrameType, flags uint16, payload []byte) []byte {
	b := make([]byte, HeaderSize+len(payload))
	copy(b, Magic)
	b[4] = Version
	b[5] = byte(t)
	binary.LittleEndian.PutUint16(b[6:8], flags)
	binary.LittleEndian.PutUint32(b[8:12], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[12:16], crc32.ChecksumIEEE(payload))
	copy(b[HeaderSize:], payload)
	return b
}

// DecodeFrame decodes exactly one frame from b (no trailing bytes allowed)
// and validates its payload for its type (see DecodeStep, DecodeSpikes,
// DecodeError). It never panics; every error is a *FrameError.
func DecodeFrame(b []byte) (Frame, error) {
	hd, err := ParseHeader(b)
	if err != nil {
		return Frame{}, err
	}
	n := int(hd.Length)
	if len(b)-HeaderSize < n {
		return Frame{}, ferr(ErrTruncated, "payload has %d of %d bytes", len(b)-HeaderSize, n)
	}
	if len(b)-HeaderSize > n {
		return Frame{}, ferr(ErrTrailing, "%d bytes", len(b)-HeaderSize-n)
	}
	f := Frame{Type: hd.Type, Flags: hd.Flags, Payload: b[HeaderSize:]}
	if c := crc32.ChecksumIEEE(f.Payload); c != hd.CRC {
		return Frame{}, ferr(ErrBadCRC, "header %#08x, payload %#08x", hd.CRC, c)
	}
	if err := validatePayload(f); err != nil {
		return Frame{}, err
	}
	return f, nil
}

func validatePayload(f Frame) error {
	switch f.Type {
	case TypeHello:
		if !utf8.Valid(f.Payload) {
			return ferr(ErrBadPayload, "HELLO text is not UTF-8")
		}
	case TypeStep:
		_, err := DecodeStep(f)
		return err
	case TypeSpikes:
		_, err := DecodeSpikes(f)
		return err
	case TypeError:
		_, err := DecodeError(f)
		return err
	}
	return nil
}

// ReadFrame reads and decodes one frame from r.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Frame{}, ferr(ErrTruncated, "header: %v", err)
		}
		return Frame{}, fmt.Errorf("lava frame: read header: %w", err)
	}
	hd, err := ParseHeader(h[:])
	if err != nil {
		return Frame{}, err
	}
	buf := make([]byte, HeaderSize+int(hd.Length))
	copy(buf, h[:])
	if _, err := io.ReadFull(r, buf[HeaderSize:]); err != nil {
		return Frame{}, ferr(ErrTruncated, "payload of %v: %v", hd.Type, err)
	}
	return DecodeFrame(buf)
}

// WriteFrame encodes and writes one frame to w.
func WriteFrame(w io.Writer, t FrameType, flags uint16, payload []byte) error {
	if _, err := w.Write(EncodeFrame(t, flags, payload)); err != nil {
		return fmt.Errorf("lava frame: write %v: %w", t, err)
	}
	return nil
}

// Step is the payload of a STEP frame.
type Step struct {
	// Step is the Lava time step (the first is 1).
	Step uint64
	// Inputs are the injector indices that spike in this step, strictly
	// ascending.
	Inputs []uint32
}

// Spikes is the payload of a SPIKES frame.
type Spikes struct {
	// Step is the time step these spikes belong to (0: the acknowledgement
	// of NETWORK, with no spikes).
	Step uint64
	// Indices are the global LIF indices that spiked, strictly ascending.
	Indices []uint32
	// V holds every neuron's voltage in Lava units when FlagVoltages is set,
	// else nil.
	V []int32
}

// ErrorPayload is the payload of an ERROR frame.
type ErrorPayload struct {
	Code    uint16
	Message string
}

// Error codes of ERROR frames.
const (
	CodeProtocol = 1 // malformed or unexpected frame
	CodeNetwork  = 2 // the NETWORK could not be built
	CodeStep     = 3 // a STEP could not be executed (wrong step number, index range)
	CodeInternal = 4 // anything else
)

func putIndices(b []byte, idx []uint32) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(idx)))
	for _, x := range idx {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// EncodeStep returns the STEP frame bytes; with wantV the sidecar is asked
// for the voltages.
func EncodeStep(s Step, wantV bool) []byte {
	p := binary.LittleEndian.AppendUint64(make([]byte, 0, 12+4*len(s.Inputs)), s.Step)
	p = putIndices(p, s.Inputs)
	var fl uint16
	if wantV {
		fl = FlagVoltages
	}
	return EncodeFrame(TypeStep, fl, p)
}

// EncodeSpikes returns the SPIKES frame bytes (voltages included when
// s.V is non-nil).
func EncodeSpikes(s Spikes) []byte {
	p := binary.LittleEndian.AppendUint64(nil, s.Step)
	p = putIndices(p, s.Indices)
	var fl uint16
	if s.V != nil {
		fl = FlagVoltages
		p = binary.LittleEndian.AppendUint32(p, uint32(len(s.V)))
		for _, v := range s.V {
			p = binary.LittleEndian.AppendUint32(p, uint32(v))
		}
	}
	return EncodeFrame(TypeSpikes, fl, p)
}

// EncodeError returns the ERROR frame bytes (the message is cut to fit).
func EncodeError(code uint16, msg string) []byte {
	if len(msg) > MaxTextPayload-2 {
		msg = msg[:MaxTextPayload-2]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
	}
	p := binary.LittleEndian.AppendUint16(nil, code)
	return EncodeFrame(TypeError, 0, append(p, msg...))
}

// indices reads a count-prefixed strictly ascending index list at p[0:].
func indices(p []byte, what string) ([]uint32, []byte, error) {
	if len(p) < 4 {
		return nil, nil, ferr(ErrBadPayload, "%s: missing count", what)
	}
	n := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(n)*4 > uint64(len(p)) {
		return nil, nil, ferr(ErrBadPayload, "%s: count %d needs %d bytes, %d left", what, n, uint64(n)*4, len(p))
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(p[4*i:])
		if i > 0 && out[i] <= out[i-1] {
			return nil, nil, ferr(ErrBadPayload, "%s: indices not strictly ascending at %d", what, i)
		}
	}
	return out, p[4*int(n):], nil
}

// DecodeStep decodes a STEP frame's payload (strict length check).
func DecodeStep(f Frame) (Step, error) {
	if f.Type != TypeStep {
		return Step{}, ferr(ErrBadType, "want STEP, got %v", f.Type)
	}
	if len(f.Payload) < 8 {
		return Step{}, ferr(ErrBadPayload, "STEP payload of %d bytes", len(f.Payload))
	}
	s := Step{Step: binary.LittleEndian.Uint64(f.Payload)}
	idx, rest, err := indices(f.Payload[8:], "STEP")
	if err != nil {
		return Step{}, err
	}
	if len(rest) != 0 {
		return Step{}, ferr(ErrBadPayload, "STEP has %d trailing bytes", len(rest))
	}
	s.Inputs = idx
	return s, nil
}

// DecodeSpikes decodes a SPIKES frame's payload (strict length check).
func DecodeSpikes(f Frame) (Spikes, error) {
	if f.Type != TypeSpikes {
		return Spikes{}, ferr(ErrBadType, "want SPIKES, got %v", f.Type)
	}
	if len(f.Payload) < 8 {
		return Spikes{}, ferr(ErrBadPayload, "SPIKES payload of %d bytes", len(f.Payload))
	}
	s := Spikes{Step: binary.LittleEndian.Uint64(f.Payload)}
	idx, rest, err := indices(f.Payload[8:], "SPIKES")
	if err != nil {
		return Spikes{}, err
	}
	s.Indices = idx
	if f.Flags&FlagVoltages != 0 {
		if len(rest) < 4 {
			return Spikes{}, ferr(ErrBadPayload, "SPIKES: missing voltage count")
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n)*4 != uint64(len(rest)) {
			return Spikes{}, ferr(ErrBadPayload, "SPIKES: %d voltages need %d bytes, have %d", n, uint64(n)*4, len(rest))
		}
		s.V = make([]int32, n)
		for i := range s.V {
			s.V[i] = int32(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = nil
	}
	if len(rest) != 0 {
		return Spikes{}, ferr(ErrBadPayload, "SPIKES has %d trailing bytes", len(rest))
	}
	return s, nil
}

// DecodeError decodes an ERROR frame's payload.
func DecodeError(f Frame) (ErrorPayload, error) {
	if f.Type != TypeError {
		return ErrorPayload{}, ferr(ErrBadType, "want ERROR, got %v", f.Type)
	}
	if len(f.Payload) < 2 {
		return ErrorPayload{}, ferr(ErrBadPayload, "ERROR payload of %d bytes", len(f.Payload))
	}
	msg := f.Payload[2:]
	if !utf8.Valid(msg) {
		return ErrorPayload{}, ferr(ErrBadPayload, "ERROR message is not UTF-8")
	}
	return ErrorPayload{Code: binary.LittleEndian.Uint16(f.Payload), Message: string(msg)}, nil
}

// RemoteError is an ERROR frame received from the sidecar.
type RemoteError struct {
	Code    uint16
	Message string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("lava sidecar error %d: %s", e.Code, e.Message)
}
