package sensor

import (
	"encoding/binary"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// TMP102 registers (pointer register values) and its default address.
const (
	// TMP102Addr is the I²C address with ADD0 tied to ground (0x49 to V+,
	// 0x4A to SDA, 0x4B to SCL).
	TMP102Addr = 0x48
	// TMP102RegTemp is the read-only temperature register.
	TMP102RegTemp = 0x00
	// TMP102RegConfig is the configuration register.
	TMP102RegConfig = 0x01
	// TMP102MaxHz is the fast-mode bus speed limit used by NewTMP102.
	TMP102MaxHz = 400_000
)

// TMP102LSB is the temperature resolution: 0.0625 °C per count.
const TMP102LSB = 62_500 * physic.MicroKelvin

// TMP102 is a Texas Instruments TMP102 I²C temperature sensor.
type TMP102 struct {
	d i2c.Dev
}

// NewTMP102 returns the TMP102 at addr (TMP102Addr if 0) on bus. It does
// not touch the device.
func NewTMP102(bus i2c.Bus, addr uint16) *TMP102 {
	if addr == 0 {
		addr = TMP102Addr
	}
	return &TMP102{d: i2c.Dev{Bus: bus, Addr: addr}}
}

// readReg writes the pointer register then reads the register's two bytes
// (MSB first), in one I²C transaction with a repeated start.
func (t *TMP102) readReg(reg byte) ([2]byte, error) {
	var r [2]byte
	if err := t.d.Tx([]byte{reg}, r[:]); err != nil {
		return r, fmt.Errorf("sensor: tmp102 %#x: register %#x: %w", t.d.Addr, reg, err)
	}
	return r, nil
}

// TMP102Temperature converts the two temperature register bytes: a
// two's-complement 12-bit count in bits 15..4 (normal mode, bit 0 = EM = 0)
// or a 13-bit count in bits 15..3 (extended mode, EM = 1), 0.0625 °C each.
func TMP102Temperature(r [2]byte) physic.Temperature {
	raw := int16(binary.BigEndian.Uint16(r[:]))
	var count int64
	if r[1]&1 != 0 { // EM: 13-bit
		count = int64(raw >> 3)
	} else {
		count = int64(raw >> 4)
	}
	return physic.ZeroCelsius + physic.Temperature(count)*TMP102LSB
}

// Temperature reads the temperature.
func (t *TMP102) Temperature() (physic.Temperature, error) {
	r, err := t.readReg(TMP102RegTemp)
	if err != nil {
		return 0, err
	}
	return TMP102Temperature(r), nil
}

// Config reads the 16-bit configuration register (power-on value 0x60A0:
// 12-bit resolution, 4 Hz conversions, continuous mode).
func (t *TMP102) Config() (uint16, error) {
	r, err := t.readReg(TMP102RegConfig)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(r[:]), nil
}

// String describes the device.
func (t *TMP102) String() string { return fmt.Sprintf("TMP102{%s}", &t.d) }
