package spinnaker

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is against the errors this package
// returns. Decoding errors are *DecodeError values wrapping one of them.
var (
	// ErrTruncated: the bytes end before the header or the events the header
	// announces.
	ErrTruncated = errors.New("truncated")
	// ErrTrailingBytes: bytes follow the last event an EIEIO data header
	// announces.
	ErrTrailingBytes = errors.New("trailing bytes after the last event")
	// ErrNotCommand: an EIEIO command layer was asked to decode a data packet.
	ErrNotCommand = errors.New("not an EIEIO command packet")
	// ErrNotData: an EIEIO data layer was asked to decode a command packet.
	ErrNotData = errors.New("not an EIEIO data packet")
	// ErrTooLarge: the events do not fit one packet (MaxEIEIOBytes, or the
	// 8-bit count).
	ErrTooLarge = errors.New("packet too large")
	// ErrInvalidField: a field value cannot be encoded (a key or payload
	// wider than the packet type, a 2-bit field out of range, ...).
	ErrInvalidField = errors.New("invalid field")
	// ErrClosed: the Injector or Receiver was closed.
	ErrClosed = errors.New("closed")
)

// DecodeError is a malformed-packet error: which layer, at which byte offset
// into that layer's bytes, and why (wrapping one of the sentinel errors).
type DecodeError struct {
	// Layer is "EIEIO", "EIEIOCommand" or "SDP".
	Layer string
	// Offset is the byte offset in the layer's data where decoding stopped.
	Offset int
	// Len is the length of the layer's data.
	Len int
	// Err is the reason, wrapping a sentinel error.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("spinnaker: decode %s: at byte %d of %d: %v", e.Layer, e.Offset, e.Len, e.Err)
}

// Unwrap returns the reason.
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(layer string, off, n int, err error) error {
	return &DecodeError{Layer: layer, Offset: off, Len: n, Err: err}
}
