package spinnaker

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
)

// MaxEIEIOBytes is the largest EIEIO packet (header, prefixes and events)
// this package encodes or accepts: the 256-byte data field of an SDP message,
// which is also the buffer SpiNNaker's live I/O uses for raw EIEIO datagrams.
const MaxEIEIOBytes = 256

// Layer type numbers registered with gopacket (its 1000–1999 application
// range).
const (
	layerNumEIEIO        = 1893
	layerNumEIEIOCommand = 1894
	layerNumSDP          = 1895
)

var (
	// LayerTypeEIEIO is the EIEIO layer. Its decoder looks at the header and
	// adds an *EIEIO (data packet) or an *EIEIOCommand (command packet) layer,
	// so a datagram of unknown kind can be decoded as LayerTypeEIEIO.
	LayerTypeEIEIO = gopacket.RegisterLayerType(layerNumEIEIO, gopacket.LayerTypeMetadata{
		Name: "EIEIO", Decoder: gopacket.DecodeFunc(decodeEIEIOAny)})
	// LayerTypeEIEIOCommand is the EIEIO command packet layer (*EIEIOCommand).
	LayerTypeEIEIOCommand = gopacket.RegisterLayerType(layerNumEIEIOCommand, gopacket.LayerTypeMetadata{
		Name: "EIEIOCommand", Decoder: gopacket.DecodeFunc(decodeEIEIOCommand)})
	// LayerTypeSDP is the SpiNNaker Datagram Protocol layer as carried over
	// UDP, two padding bytes included (*SDP).
	LayerTypeSDP = gopacket.RegisterLayerType(layerNumSDP, gopacket.LayerTypeMetadata{
		Name: "SDP", Decoder: gopacket.DecodeFunc(decodeSDP)})
)

// EIEIOType is the 2-bit packet type of an EIEIO data header: the width of
// the keys and whether each event carries a payload.
type EIEIOType uint8

// The EIEIO data packet types.
const (
	// Key16: 16-bit keys, no payloads.
	Key16 EIEIOType = 0
	// KeyPayload16: 16-bit keys, each followed by a 16-bit payload.
	KeyPayload16 EIEIOType = 1
	// Key32: 32-bit keys, no payloads.
	Key32 EIEIOType = 2
	// KeyPayload32: 32-bit keys, each followed by a 32-bit payload.
	KeyPayload32 EIEIOType = 3
)

// String names the type.
func (t EIEIOType) String() string {
	switch t {
	case Key16:
		return "KEY16"
	case KeyPayload16:
		return "KEY_PAYLOAD16"
	case Key32:
		return "KEY32"
	case KeyPayload32:
		return "KEY_PAYLOAD32"
	}
	return fmt.Sprintf("EIEIOType(%d)", uint8(t))
}

// Is32 reports whether keys (and payloads) are 32 bits wide.
func (t EIEIOType) Is32() bool { return t&2 != 0 }

// HasPayload reports whether each event carries a payload.
func (t EIEIOType) HasPayload() bool { return t&1 != 0 }

// EventSize is the number of bytes one event takes on the wire.
func (t EIEIOType) EventSize() int {
	n := 2
	if t.Is32() {
		n = 4
	}
	if t.HasPayload() {
		n *= 2
	}
	return n
}

// Header flag bits in the second byte of an EIEIO header.
const (
	flagP       = 1 << 7 // key prefix present
	flagF       = 1 << 6 // prefix applies to the upper half-word
	flagD       = 1 << 5 // payload prefix present
	flagT       = 1 << 4 // payloads are timestamps
	typeShift   = 2
	commandMask = 0x3FFF
)

// Event is one EIEIO event as on the wire: a key and, for the payload types,
// a payload. Prefixes are not applied (see EIEIO.Spikes).
type Event struct {
	Key     uint32
	Payload uint32
}

// EIEIO is an EIEIO data packet (a gopacket layer).
//
// The wire format is documented in the package doc. Count is not a field:
// it is len(Events) when encoding and the header's count when decoding.
type EIEIO struct {
	// Type is the packet type (key width, payload or not).
	Type EIEIOType
	// Tag is the 2-bit tag.
	Tag uint8
	// HasPrefix (P) says a 16-bit key prefix follows the header.
	HasPrefix bool
	// PrefixUpper (F) applies Prefix to bits 31..16 of each key instead of
	// bits 15..0. It is only valid with HasPrefix: P=0, F=1 marks a command
	// packet.
	PrefixUpper bool
	// Prefix is the key prefix, ORed into every key.
	Prefix uint16
	// HasPayloadPrefix (D) says a payload prefix follows: 16 bits for the
	// 16-bit types, 32 for the 32-bit ones. Without per-event payloads it is
	// every event's payload; with them it is ORed into each.
	HasPayloadPrefix bool
	// PayloadPrefix is the payload prefix.
	PayloadPrefix uint32
	// PayloadIsTime (T) says payloads are timestamps (time steps).
	PayloadIsTime bool
	// Events are the events in wire order.
	Events []Event

	contents []byte
}

// LayerType returns LayerTypeEIEIO.
func (e *EIEIO) LayerType() gopacket.LayerType { return LayerTypeEIEIO }

// LayerContents returns the bytes the layer was decoded from.
func (e *EIEIO) LayerContents() []byte { return e.contents }

// LayerPayload returns nil: events are the layer's contents.
func (e *EIEIO) LayerPayload() []byte { return nil }

// CanDecode returns LayerTypeEIEIO.
func (e *EIEIO) CanDecode() gopacket.LayerClass { return LayerTypeEIEIO }

// NextLayerType returns gopacket.LayerTypeZero: nothing follows the events.
func (e *EIEIO) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// HeaderLen is the length of the header and prefixes for these flags.
func (e *EIEIO) HeaderLen() int {
	n := 2
	if e.HasPrefix {
		n += 2
	}
	if e.HasPayloadPrefix {
		if e.Type.Is32() {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// MaxEvents is how many events fit one packet with this header: limited by
// MaxEIEIOBytes and by the 8-bit count.
func (e *EIEIO) MaxEvents() int {
	n := (MaxEIEIOBytes - e.HeaderLen()) / e.Type.EventSize()
	return min(n, 255)
}

// IsEIEIOCommand reports whether data starts with an EIEIO command header
// (bits 15..14 of the little-endian header word are 0b01).
func IsEIEIOCommand(data []byte) bool {
	return len(data) >= 2 && data[1]&(flagP|flagF) == flagF
}

// DecodeFromBytes decodes an EIEIO data packet of at most MaxEIEIOBytes.
// Every malformation is a *DecodeError; it never panics. The layer keeps
// slices of data.
func (e *EIEIO) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	const layer = "EIEIO"
	if len(data) < 2 {
		return decodeErr(layer, 0, len(data), ErrTruncated)
	}
	if IsEIEIOCommand(data) {
		return decodeErr(layer, 1, len(data), ErrNotData)
	}
	if len(data) > MaxEIEIOBytes {
		return decodeErr(layer, MaxEIEIOBytes, len(data), ErrTooLarge)
	}
	count := int(data[0])
	fl := data[1]
	*e = EIEIO{
		Type:             EIEIOType(fl>>typeShift) & 3,
		Tag:              fl & 3,
		HasPrefix:        fl&flagP != 0,
		PrefixUpper:      fl&flagF != 0,
		HasPayloadPrefix: fl&flagD != 0,
		PayloadIsTime:    fl&flagT != 0,
	}
	off := 2
	if e.HasPrefix {
		if len(data) < off+2 {
			return decodeErr(layer, off, len(data), fmt.Errorf("key prefix: %w", ErrTruncated))
		}
		e.Prefix = binary.LittleEndian.Uint16(data[off:])
		off += 2
	}
	if e.HasPayloadPrefix {
		if e.Type.Is32() {
			if len(data) < off+4 {
				return decodeErr(layer, off, len(data), fmt.Errorf("payload prefix: %w", ErrTruncated))
			}
			e.PayloadPrefix = binary.LittleEndian.Uint32(data[off:])
			off += 4
		} else {
			if len(data) < off+2 {
				return decodeErr(layer, off, len(data), fmt.Errorf("payload prefix: %w", ErrTruncated))
			}
			e.PayloadPrefix = uint32(binary.LittleEndian.Uint16(data[off:]))
			off += 2
		}
	}
	size := e.Type.EventSize()
	need := off + count*size
	if len(data) < need {
		return decodeErr(layer, len(data), len(data), fmt.Errorf("%d %s events need %d bytes: %w", count, e.Type, need, ErrTruncated))
	}
	if len(data) > need {
		return decodeErr(layer, need, len(data), ErrTrailingBytes)
	}
	if count > 0 {
		e.Events = make([]Event, count)
	}
	for i := range e.Events {
		ev := &e.Events[i]
		switch e.Type {
		case Key16:
			ev.Key = uint32(binary.LittleEndian.Uint16(data[off:]))
		case KeyPayload16:
			ev.Key = uint32(binary.LittleEndian.Uint16(data[off:]))
			ev.Payload = uint32(binary.LittleEndian.Uint16(data[off+2:]))
		case Key32:
			ev.Key = binary.LittleEndian.Uint32(data[off:])
		case KeyPayload32:
			ev.Key = binary.LittleEndian.Uint32(data[off:])
			ev.Payload = binary.LittleEndian.Uint32(data[off+4:])
		}
		off += size
	}
	e.contents = data
	return nil
}

// validate checks every field can be encoded.
func (e *EIEIO) validate() error {
	if e.Type > KeyPayload32 {
		return fmt.Errorf("spinnaker: EIEIO type %d: %w", e.Type, ErrInvalidField)
	}
	if e.Tag > 3 {
		return fmt.Errorf("spinnaker: EIEIO tag %d (2 bits): %w", e.Tag, ErrInvalidField)
	}
	if e.PrefixUpper && !e.HasPrefix {
		return fmt.Errorf("spinnaker: EIEIO F (upper prefix) without P would read as a command packet: %w", ErrInvalidField)
	}
	if !e.Type.Is32() && e.HasPayloadPrefix && e.PayloadPrefix > 0xFFFF {
		return fmt.Errorf("spinnaker: EIEIO payload prefix %#x wider than 16 bits for %s: %w", e.PayloadPrefix, e.Type, ErrInvalidField)
	}
	if n, max := len(e.Events), e.MaxEvents(); n > max {
		return fmt.Errorf("spinnaker: %d %s events, at most %d fit a %d-byte packet: %w", n, e.Type, max, MaxEIEIOBytes, ErrTooLarge)
	}
	if !e.Type.Is32() {
		for i, ev := range e.Events {
			if ev.Key > 0xFFFF || ev.Payload > 0xFFFF {
				return fmt.Errorf("spinnaker: event %d (key %#x, payload %#x) wider than 16 bits for %s: %w", i, ev.Key, ev.Payload, e.Type, ErrInvalidField)
			}
		}
	}
	if !e.Type.HasPayload() {
		for i, ev := range e.Events {
			if ev.Payload != 0 {
				return fmt.Errorf("spinnaker: event %d has payload %#x but %s carries none: %w", i, ev.Payload, e.Type, ErrInvalidField)
			}
		}
	}
	return nil
}

// Len is the encoded length in bytes.
func (e *EIEIO) Len() int { return e.HeaderLen() + len(e.Events)*e.Type.EventSize() }

// SerializeTo writes the packet, prepending to b. More events than fit
// MaxEIEIOBytes is an error wrapping ErrTooLarge (never a truncation), a
// value too wide for its field one wrapping ErrInvalidField.
func (e *EIEIO) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	if err := e.validate(); err != nil {
		return err
	}
	buf, err := b.PrependBytes(e.Len())
	if err != nil {
		return fmt.Errorf("spinnaker: EIEIO: %w", err)
	}
	e.put(buf)
	return nil
}

// AppendBinary appends the encoded packet to dst (encoding.BinaryAppender).
func (e *EIEIO) AppendBinary(dst []byte) ([]byte, error) {
	if err := e.validate(); err != nil {
		return dst, err
	}
	n := len(dst)
	dst = append(dst, make([]byte, e.Len())...)
	e.put(dst[n:])
	return dst, nil
}

// MarshalBinary returns the encoded packet.
func (e *EIEIO) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// UnmarshalBinary decodes data (copied) into e.
func (e *EIEIO) UnmarshalBinary(data []byte) error {
	return e.DecodeFromBytes(append([]byte(nil), data...), gopacket.NilDecodeFeedback)
}

// put writes the validated packet into buf (len e.Len()).
func (e *EIEIO) put(buf []byte) {
	buf[0] = byte(len(e.Events))
	fl := byte(e.Type)<<typeShift | e.Tag
	if e.HasPrefix {
		fl |= flagP
	}
	if e.PrefixUpper {
		fl |= flagF
	}
	if e.HasPayloadPrefix {
		fl |= flagD
	}
	if e.PayloadIsTime {
		fl |= flagT
	}
	buf[1] = fl
	off := 2
	if e.HasPrefix {
		binary.LittleEndian.PutUint16(buf[off:], e.Prefix)
		off += 2
	}
	if e.HasPayloadPrefix {
		if e.Type.Is32() {
			binary.LittleEndian.PutUint32(buf[off:], e.PayloadPrefix)
			off += 4
		} else {
			binary.LittleEndian.PutUint16(buf[off:], uint16(e.PayloadPrefix))
			off += 2
		}
	}
	for _, ev := range e.Events {
		switch e.Type {
		case Key16:
			binary.LittleEndian.PutUint16(buf[off:], uint16(ev.Key))
		case KeyPayload16:
			binary.LittleEndian.PutUint16(buf[off:], uint16(ev.Key))
			binary.LittleEndian.PutUint16(buf[off+2:], uint16(ev.Payload))
		case Key32:
			binary.LittleEndian.PutUint32(buf[off:], ev.Key)
		case KeyPayload32:
			binary.LittleEndian.PutUint32(buf[off:], ev.Key)
			binary.LittleEndian.PutUint32(buf[off+4:], ev.Payload)
		}
		off += e.Type.EventSize()
	}
}

// Spike is one received event with the prefixes applied.
type Spike struct {
	// Key is the full routing key: the wire key ORed with the key prefix
	// (shifted to bits 31..16 when the prefix is an upper one).
	Key uint32
	// Payload is the event's payload ORed with the payload prefix, or the
	// payload prefix alone for types without per-event payloads.
	Payload uint32
	// HasPayload says Payload is meaningful.
	HasPayload bool
	// IsTime says Payload is a timestamp (T flag).
	IsTime bool
	// Tag is the packet's 2-bit tag.
	Tag uint8
}

// Spikes returns the events with the prefixes applied, appended to dst.
func (e *EIEIO) Spikes(dst []Spike) []Spike {
	hasPayload := e.Type.HasPayload() || e.HasPayloadPrefix
	for _, ev := range e.Events {
		s := Spike{Key: ev.Key, HasPayload: hasPayload, IsTime: e.PayloadIsTime && hasPayload, Tag: e.Tag}
		if e.HasPrefix {
			if e.PrefixUpper {
				s.Key |= uint32(e.Prefix) << 16
			} else {
				s.Key |= uint32(e.Prefix)
			}
		}
		if e.Type.HasPayload() {
			s.Payload = ev.Payload
		}
		if e.HasPayloadPrefix {
			s.Payload |= e.PayloadPrefix
		}
		dst = append(dst, s)
	}
	return dst
}

// EIEIOCommandID is the 14-bit command of an EIEIO command packet.
type EIEIOCommandID uint16

// The EIEIO commands of SpiNNaker's software stack (sPyNNaker/SpiNNMan
// numbering). Live I/O uses DatabaseConfirmation (the notification-protocol
// handshake), StopPauseNotification and StartResumeNotification; the others
// belong to the buffered-I/O protocol and are listed so they print by name.
const (
	CmdDatabaseConfirmation    EIEIOCommandID = 1  // database handshake with the external program
	CmdEventPadding            EIEIOCommandID = 2  // fill a buffer area with padding
	CmdEventStop               EIEIOCommandID = 3  // end of all buffers
	CmdStopSendingRequests     EIEIOCommandID = 4  // stop buffer-space requests
	CmdStartSendingRequests    EIEIOCommandID = 5  // start buffer-space requests
	CmdSpiNNakerRequestBuffers EIEIOCommandID = 6  // board asks for input buffers
	CmdHostSendSequencedData   EIEIOCommandID = 7  // host sends buffered data
	CmdSpiNNakerRequestRead    EIEIOCommandID = 8  // board has output to read
	CmdHostDataRead            EIEIOCommandID = 9  // host confirms a read
	CmdStopPauseNotification   EIEIOCommandID = 10 // simulation stopped or paused
	CmdStartResumeNotification EIEIOCommandID = 11 // simulation started or resumed
)

// String names the command.
func (c EIEIOCommandID) String() string {
	switch c {
	case CmdDatabaseConfirmation:
		return "DATABASE_CONFIRMATION"
	case CmdEventPadding:
		return "EVENT_PADDING"
	case CmdEventStop:
		return "EVENT_STOP"
	case CmdStopSendingRequests:
		return "STOP_SENDING_REQUESTS"
	case CmdStartSendingRequests:
		return "START_SENDING_REQUESTS"
	case CmdSpiNNakerRequestBuffers:
		return "SPINNAKER_REQUEST_BUFFERS"
	case CmdHostSendSequencedData:
		return "HOST_SEND_SEQUENCED_DATA"
	case CmdSpiNNakerRequestRead:
		return "SPINNAKER_REQUEST_READ_DATA"
	case CmdHostDataRead:
		return "HOST_DATA_READ"
	case CmdStopPauseNotification:
		return "STOP_PAUSE_NOTIFICATION"
	case CmdStartResumeNotification:
		return "START_RESUME_NOTIFICATION"
	}
	return fmt.Sprintf("EIEIOCommand(%d)", uint16(c))
}

// EIEIOCommand is an EIEIO command packet (a gopacket layer): a 16-bit
// little-endian header 0b01 followed by the 14-bit command, then
// command-specific arguments, which are the layer's payload.
type EIEIOCommand struct {
	// Command is the 14-bit command.
	Command EIEIOCommandID
	// Args are the bytes after the header (the layer payload). SerializeTo
	// writes them after the header.
	Args []byte

	contents []byte
}

// LayerType returns LayerTypeEIEIOCommand.
func (c *EIEIOCommand) LayerType() gopacket.LayerType { return LayerTypeEIEIOCommand }

// LayerContents returns the two header bytes.
func (c *EIEIOCommand) LayerContents() []byte { return c.contents }

// LayerPayload returns the command's arguments.
func (c *EIEIOCommand) LayerPayload() []byte { return c.Args }

// CanDecode returns LayerTypeEIEIOCommand.
func (c *EIEIOCommand) CanDecode() gopacket.LayerClass { return LayerTypeEIEIOCommand }

// NextLayerType returns gopacket.LayerTypePayload when arguments follow,
// else gopacket.LayerTypeZero.
func (c *EIEIOCommand) NextLayerType() gopacket.LayerType {
	if len(c.Args) > 0 {
		return gopacket.LayerTypePayload
	}
	return gopacket.LayerTypeZero
}

// DecodeFromBytes decodes a command packet; a data packet is a
// *DecodeError wrapping ErrNotCommand.
func (c *EIEIOCommand) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	const layer = "EIEIOCommand"
	if len(data) < 2 {
		return decodeErr(layer, 0, len(data), ErrTruncated)
	}
	if !IsEIEIOCommand(data) {
		return decodeErr(layer, 1, len(data), ErrNotCommand)
	}
	if len(data) > MaxEIEIOBytes {
		return decodeErr(layer, MaxEIEIOBytes, len(data), ErrTooLarge)
	}
	c.Command = EIEIOCommandID(binary.LittleEndian.Uint16(data) & commandMask)
	c.contents = data[:2]
	c.Args = data[2:]
	return nil
}

// SerializeTo writes the header and arguments, prepending to b.
func (c *EIEIOCommand) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	if c.Command > commandMask {
		return fmt.Errorf("spinnaker: EIEIO command %d (14 bits): %w", c.Command, ErrInvalidField)
	}
	if 2+len(c.Args) > MaxEIEIOBytes {
		return fmt.Errorf("spinnaker: EIEIO command with %d argument bytes: %w", len(c.Args), ErrTooLarge)
	}
	buf, err := b.PrependBytes(2 + len(c.Args))
	if err != nil {
		return fmt.Errorf("spinnaker: EIEIOCommand: %w", err)
	}
	binary.LittleEndian.PutUint16(buf, 1<<14|uint16(c.Command))
	copy(buf[2:], c.Args)
	return nil
}

func decodeEIEIOAny(data []byte, p gopacket.PacketBuilder) error {
	if IsEIEIOCommand(data) {
		return decodeEIEIOCommand(data, p)
	}
	e := &EIEIO{}
	if err := e.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(e)
	return nil
}

func decodeEIEIOCommand(data []byte, p gopacket.PacketBuilder) error {
	c := &EIEIOCommand{}
	if err := c.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(c)
	return p.NextDecoder(c.NextLayerType())
}
