package sensor

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// MCP3008 limits from the datasheet.
const (
	// MCP3008MaxHz is the maximum SPI clock at V_DD = 2.7 V (3.6 MHz at 5 V).
	MCP3008MaxHz = 1_350_000
	// MCP3008Channels is the number of single-ended inputs.
	MCP3008Channels = 8
	// MCP3008Max is the largest 10-bit conversion result.
	MCP3008Max = 1023
)

// MCP3008 is a Microchip MCP3008 10-bit, 8-channel SPI ADC (or an MCP3004,
// using channels 0–3). The wire protocol is documented in the package doc.
type MCP3008 struct {
	c    spi.Conn
	vref physic.ElectricPotential
}

// MCP3008Opts configures an MCP3008.
type MCP3008Opts struct {
	// MaxHz caps the SPI clock (default MCP3008MaxHz).
	MaxHz int64
	// VRef is the reference voltage, for ReadVoltage (default 3.3 V).
	VRef physic.ElectricPotential
}

// NewMCP3008 connects to an MCP3008 on p in SPI mode 0, 8-bit words.
func NewMCP3008(p spi.Port, o MCP3008Opts) (*MCP3008, error) {
	if o.MaxHz <= 0 {
		o.MaxHz = MCP3008MaxHz
	}
	if o.VRef <= 0 {
		o.VRef = 3300 * physic.MilliVolt
	}
	c, err := p.Connect(physic.Frequency(o.MaxHz)*physic.Hertz, spi.Mode0, 8)
	if err != nil {
		return nil, fmt.Errorf("sensor: mcp3008: connect %s: %w", p, err)
	}
	return &MCP3008{c: c, vref: o.VRef}, nil
}

// ErrChannel is returned for a channel outside 0..7.
var ErrChannel = errors.New("channel out of range")

// MCP3008Command returns the three bytes the host clocks out for one
// conversion: the start bit alone in byte 0 (seven leading zeros), then
// SGL/DIFF in bit 7 and D2..D0 in bits 6..4 of byte 1, then a don't-care
// byte while the result is clocked in.
func MCP3008Command(single bool, ch int) ([3]byte, error) {
	if ch < 0 || ch >= MCP3008Channels {
		return [3]byte{}, fmt.Errorf("sensor: mcp3008: channel %d: %w", ch, ErrChannel)
	}
	b1 := byte(ch) << 4
	if single {
		b1 |= 0x80
	}
	return [3]byte{0x01, b1, 0x00}, nil
}

// MCP3008Result extracts the 10-bit result from the three reply bytes:
// B9..B8 are bits 1..0 of byte 1 (after the null bit), B7..B0 are byte 2.
func MCP3008Result(r [3]byte) uint16 {
	return uint16(r[1]&0x03)<<8 | uint16(r[2])
}

func (d *MCP3008) read(single bool, ch int) (uint16, error) {
	w, err := MCP3008Command(single, ch)
	if err != nil {
		return 0, err
	}
	var r [3]byte
	if err := d.c.Tx(w[:], r[:]); err != nil {
		return 0, fmt.Errorf("sensor: mcp3008: channel %d: %w", ch, err)
	}
	return MCP3008Result(r), nil
}

// Read returns the 10-bit single-ended conversion of channel ch (0..7).
func (d *MCP3008) Read(ch int) (uint16, error) { return d.read(true, ch) }

// ReadDifferential returns the 10-bit pseudo-differential conversion for
// channel code code (0..7, datasheet table 5-2): code 2k measures
// CH(2k) = IN+ against CH(2k+1) = IN−, code 2k+1 the reverse.
func (d *MCP3008) ReadDifferential(code int) (uint16, error) { return d.read(false, code) }

// ReadVoltage returns the single-ended conversion of channel ch as a
// voltage: code × VRef / 1024.
func (d *MCP3008) ReadVoltage(ch int) (physic.ElectricPotential, error) {
	v, err := d.Read(ch)
	if err != nil {
		return 0, err
	}
	return physic.ElectricPotential(int64(v) * int64(d.vref) / 1024), nil
}

// String describes the device.
func (d *MCP3008) String() string { return fmt.Sprintf("MCP3008{%s}", d.c) }

// Conn is the underlying SPI connection.
func (d *MCP3008) Conn() conn.Conn { return d.c }
