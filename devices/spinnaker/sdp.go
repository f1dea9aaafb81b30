package spinnaker

import (
	"fmt"

	"github.com/gopacket/gopacket"
)

// UDP ports of SpiNNaker live I/O.
const (
	// SCAMPPort is the board's UDP port for SDP/SCP traffic, where live
	// spike injection goes (EIEIO wrapped in SDP).
	SCAMPPort = 17893
	// LiveOutputPort is the legacy default host port of the live packet
	// gatherer: raw EIEIO, the SDP header stripped by the board's IP tag.
	LiveOutputPort = 17895
)

// SDPHeaderLen is the SDP header length, SDPPaddingLen the two padding bytes
// that precede it in a UDP datagram.
const (
	SDPHeaderLen  = 8 // flags, tag, two port/cpu bytes, four chip coordinates
	SDPPaddingLen = 2 // before the header in a UDP datagram
)

// SDP flag values.
const (
	// SDPReplyNotExpected is the flags byte of a message that wants no reply.
	SDPReplyNotExpected uint8 = 0x07
	// SDPReplyExpected is the flags byte of a message that wants a reply.
	SDPReplyExpected uint8 = 0x87
)

// SDP is a SpiNNaker Datagram Protocol header as carried in a UDP datagram
// (a gopacket layer): two padding bytes, then eight header bytes (see the
// package doc), then the data. SDP port 0 carries SCP, anything else is
// decoded as EIEIO.
type SDP struct {
	// Padding are the two bytes that align the header in the datagram
	// (zero when encoding unless set).
	Padding [2]byte
	// Flags: SDPReplyNotExpected or SDPReplyExpected.
	Flags uint8
	// Tag is the IP tag (0xFF for messages from the host).
	Tag uint8
	// DestPort (3 bits) and DestCPU (5 bits) address the destination core.
	DestPort, DestCPU uint8
	// SrcPort (3 bits) and SrcCPU (5 bits) address the source core.
	SrcPort, SrcCPU uint8
	// DestX, DestY, SrcX, SrcY are chip coordinates.
	DestX, DestY, SrcX, SrcY uint8
	// Data is the SDP data (the layer payload), at most MaxEIEIOBytes.
	Data []byte

	contents []byte
}

// LayerType returns LayerTypeSDP.
func (s *SDP) LayerType() gopacket.LayerType { return LayerTypeSDP }

// LayerContents returns the padding and header bytes.
func (s *SDP) LayerContents() []byte { return s.contents }

// LayerPayload returns the SDP data.
func (s *SDP) LayerPayload() []byte { return s.Data }

// CanDecode returns LayerTypeSDP.
func (s *SDP) CanDecode() gopacket.LayerClass { return LayerTypeSDP }

// NextLayerType is LayerTypeEIEIO for data to a non-zero SDP port,
// gopacket.LayerTypePayload for SCP (port 0), LayerTypeZero when empty.
func (s *SDP) NextLayerType() gopacket.LayerType {
	switch {
	case len(s.Data) == 0:
		return gopacket.LayerTypeZero
	case s.DestPort == 0:
		return gopacket.LayerTypePayload
	}
	return LayerTypeEIEIO
}

// DecodeFromBytes decodes padding, header and data. Too short, or data
// longer than MaxEIEIOBytes, is a *DecodeError.
func (s *SDP) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	const layer = "SDP"
	const hl = SDPPaddingLen + SDPHeaderLen
	if len(data) < hl {
		return decodeErr(layer, len(data), len(data), ErrTruncated)
	}
	if len(data)-hl > MaxEIEIOBytes {
		return decodeErr(layer, hl+MaxEIEIOBytes, len(data), fmt.Errorf("SDP data over %d bytes: %w", MaxEIEIOBytes, ErrTooLarge))
	}
	h := data[SDPPaddingLen:]
	*s = SDP{
		Padding:  [2]byte{data[0], data[1]},
		Flags:    h[0],
		Tag:      h[1],
		DestPort: h[2] >> 5, DestCPU: h[2] & 0x1F,
		SrcPort: h[3] >> 5, SrcCPU: h[3] & 0x1F,
		DestY: h[4], DestX: h[5], SrcY: h[6], SrcX: h[7],
		Data:     data[hl:],
		contents: data[:hl],
	}
	return nil
}

// SerializeTo prepends padding and header to b. If b is empty, Data is
// written too; otherwise the bytes already in b (an EIEIO layer serialized
// first, as gopacket.SerializeLayers does) are the data.
func (s *SDP) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	if s.DestPort > 7 || s.SrcPort > 7 || s.DestCPU > 31 || s.SrcCPU > 31 {
		return fmt.Errorf("spinnaker: SDP port (3 bits) or cpu (5 bits) out of range: %w", ErrInvalidField)
	}
	if len(b.Bytes()) == 0 && len(s.Data) > 0 {
		d, err := b.PrependBytes(len(s.Data))
		if err != nil {
			return fmt.Errorf("spinnaker: SDP: %w", err)
		}
		copy(d, s.Data)
	}
	if n := len(b.Bytes()); n > MaxEIEIOBytes {
		return fmt.Errorf("spinnaker: SDP data of %d bytes, at most %d: %w", n, MaxEIEIOBytes, ErrTooLarge)
	}
	h, err := b.PrependBytes(SDPPaddingLen + SDPHeaderLen)
	if err != nil {
		return fmt.Errorf("spinnaker: SDP: %w", err)
	}
	h[0], h[1] = s.Padding[0], s.Padding[1]
	h[2] = s.Flags
	h[3] = s.Tag
	h[4] = s.DestPort<<5 | s.DestCPU
	h[5] = s.SrcPort<<5 | s.SrcCPU
	h[6], h[7], h[8], h[9] = s.DestY, s.DestX, s.SrcY, s.SrcX
	return nil
}

func decodeSDP(data []byte, p gopacket.PacketBuilder) error {
	s := &SDP{}
	if err := s.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(s)
	return p.NextDecoder(s.NextLayerType())
}
