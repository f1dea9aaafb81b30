// Package spinnaker is mec's live spike I/O with a SpiNNaker board: the EIEIO
// and SDP packet formats as gopacket layers, an Injector that sends spikes to
// the board, a Receiver for the board's live output, and a backend driver
// "spinnaker" (listed, with no compute capability) configured by
// $MEC_SPINNAKER_HOST.
// Package spinnakertest is a loopback board simulator for tests.
//
// Layer: devices. It may import backend; never the runtime or the commands.
//
// # EIEIO data packets
//
// Every multi-byte field is little-endian. The 16-bit header is
//
//	byte 0: count — the number of events (0..255)
//	byte 1: bit 7 P    a 16-bit key prefix follows the header
//	        bit 6 F    the prefix applies to key bits 31..16 (upper half-word)
//	                   instead of 15..0; only with P (P=0,F=1 is a command)
//	        bit 5 D    a payload prefix follows: 16 bits for the 16-bit
//	                   types, 32 bits for the 32-bit ones
//	        bit 4 T    payloads are timestamps
//	        bits 3..2  type: 0 KEY16, 1 KEY_PAYLOAD16, 2 KEY32, 3 KEY_PAYLOAD32
//	        bits 1..0  tag
//
// then the key prefix (if P), the payload prefix (if D), and count events:
// a key (16 or 32 bits) followed, for the payload types, by a payload of the
// same width. The key prefix is ORed into each key (shifted left 16 if F);
// the payload prefix is every event's payload for the types without payloads
// (a timed packet: D and T with the time step as prefix) and is ORed into each
// payload otherwise. A packet is at most MaxEIEIOBytes (256) long: encoding
// more events than fit is an error wrapping ErrTooLarge; decoding requires the
// length to be exactly header + count × event size.
//
// # EIEIO command packets
//
// A 16-bit header whose bits 15..14 are 0b01 (byte 1 has P=0, F=1), bits
// 13..0 the command (CmdDatabaseConfirmation = 1, ...,
// CmdStartResumeNotification = 11), followed by the command's arguments.
//
// # SDP over UDP
//
// A datagram to the board's SCAMP port (SCAMPPort, 17893) is two padding
// bytes then the 8-byte SDP header
//
//	byte 0 flags (0x07 no reply expected, 0x87 reply expected)
//	byte 1 IP tag
//	byte 2 destination port (bits 7..5) and CPU (bits 4..0)
//	byte 3 source port (bits 7..5) and CPU (bits 4..0)
//	byte 4 destination chip y   byte 5 destination chip x
//	byte 6 source chip y        byte 7 source chip x
//
// then up to 256 data bytes. Live injection sends an EIEIO data packet as the
// data of an SDP message to the injecting core (SDP port 1 by default; port 0
// is SCP). Live output arrives at the host — by default on LiveOutputPort,
// 17895 — as bare EIEIO: the board's IP tag strips the SDP header.
//
// # gopacket
//
// The layers register as gopacket layer types 1893 (LayerTypeEIEIO, whose
// decoder yields an *EIEIO or an *EIEIOCommand), 1894 (LayerTypeEIEIOCommand)
// and 1895 (LayerTypeSDP, followed by EIEIO for SDP ports other than 0), so
// gopacket.NewPacket(datagram, spinnaker.LayerTypeSDP, gopacket.Default)
// decodes an injection datagram and gopacket.SerializeLayers(buf, opts, sdp,
// eieio) builds one.
//
// The layouts follow SpiNNaker's published EIEIO and SDP formats as
// implemented by SpiNNMan (EIEIODataHeader, EIEIOCommandHeader, SDPHeader);
// the golden vectors in the tests derive each byte from them.
//
// # Errors
//
// Malformed input never panics: decoding returns a *DecodeError wrapping
// ErrTruncated, ErrTrailingBytes, ErrTooLarge, ErrNotData or ErrNotCommand;
// values that cannot be encoded wrap ErrInvalidField. A Receiver counts
// malformed datagrams (ReceiverStats.Malformed) and passes their errors to
// ReceiverConfig.OnError.
package spinnaker
