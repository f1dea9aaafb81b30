package sensor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/prismai/mec/backend"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
)

// Name is the registered backend name.
const Name = "sensor"

// Environment variables that configure the backend; with neither set it is
// skipped.
const (
	// EnvSPI names the periph SPI port of an MCP3008 ("SPI0.0",
	// "/dev/spidev0.0", or "default" for the first port).
	EnvSPI = "MEC_SENSOR_SPI"
	// EnvI2C names the periph I²C bus of a TMP102, optionally with the
	// address: "I2C1", "1@0x49" ("default" for the first bus).
	EnvI2C = "MEC_SENSOR_I2C"
)

// Priority is the driver's priority: below the CPU's, so a sensor node is
// never the default backend for compute.
const Priority = -10

func init() { backend.Register(driver{}) }

type driver struct{}

func (driver) Name() string  { return Name }
func (driver) Priority() int { return Priority }
func (driver) Init() (backend.Backend, error) {
	spiName, i2cName := os.Getenv(EnvSPI), os.Getenv(EnvI2C)
	if spiName == "" && i2cName == "" {
		return nil, backend.Skip("neither %s nor %s is set (set %s to the MCP3008's SPI port and/or %s to the TMP102's I2C bus[@addr])",
			EnvSPI, EnvI2C, EnvSPI, EnvI2C)
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("sensor: periph host init: %w", err)
	}
	var cfg Config
	var err error
	if spiName != "" {
		if cfg.SPI, err = spireg.Open(portName(spiName)); err != nil {
			return nil, fmt.Errorf("sensor: %s=%q: open SPI port: %w", EnvSPI, spiName, err)
		}
	}
	if i2cName != "" {
		name, addr, err := parseI2C(i2cName)
		if err == nil {
			cfg.I2C, err = i2creg.Open(portName(name))
		}
		if err != nil {
			if cfg.SPI != nil {
				cfg.SPI.Close()
			}
			return nil, fmt.Errorf("sensor: %s=%q: open I2C bus: %w", EnvI2C, i2cName, err)
		}
		cfg.I2CAddr = addr
	}
	return New(cfg)
}

func portName(s string) string {
	if s == "default" {
		return ""
	}
	return s
}

// parseI2C splits "bus@addr" (addr decimal or 0x hex).
func parseI2C(s string) (string, uint16, error) {
	name, a, ok := strings.Cut(s, "@")
	if !ok {
		return s, TMP102Addr, nil
	}
	v, err := strconv.ParseUint(a, 0, 7)
	if err != nil {
		return "", 0, fmt.Errorf("I2C address %q: %w", a, err)
	}
	return name, uint16(v), nil
}

// Config lists the opened hardware of a sensor node.
type Config struct {
	// SPI is the MCP3008's port, or nil.
	SPI spi.PortCloser
	// MCP3008 configures the ADC.
	MCP3008 MCP3008Opts
	// I2C is the TMP102's bus, or nil.
	I2C i2c.BusCloser
	// I2CAddr is the TMP102's address (TMP102Addr if 0).
	I2CAddr uint16
}

// Backend is a sensor node: an MCP3008 ADC and/or a TMP102 thermometer. It
// has the extra capability "sensor-input". Backend takes ownership of the
// ports in Config and closes them on Close.
type Backend struct {
	cfg Config
	adc *MCP3008
	tmp *TMP102
}

// New opens the devices on the ports of cfg (at least one).
func New(cfg Config) (*Backend, error) {
	if cfg.SPI == nil && cfg.I2C == nil {
		return nil, errors.New("sensor: no SPI port and no I2C bus")
	}
	b := &Backend{cfg: cfg}
	if cfg.SPI != nil {
		adc, err := NewMCP3008(cfg.SPI, cfg.MCP3008)
		if err != nil {
			b.Close()
			return nil, err
		}
		b.adc = adc
	}
	if cfg.I2C != nil {
		b.tmp = NewTMP102(cfg.I2C, cfg.I2CAddr)
	}
	return b, nil
}

// Name returns "sensor".
func (b *Backend) Name() string { return Name }

// Device lists the sensors and their ports.
func (b *Backend) Device() string {
	var parts []string
	if b.adc != nil {
		parts = append(parts, fmt.Sprintf("MCP3008 ADC on %s", b.cfg.SPI))
	}
	if b.tmp != nil {
		parts = append(parts, fmt.Sprintf("TMP102 at %#x on %s", b.tmp.d.Addr, b.cfg.I2C))
	}
	return "sensor node: " + strings.Join(parts, ", ")
}

// ExtraCapabilities returns []string{"sensor-input"} (backend.CapabilityNamer).
func (b *Backend) ExtraCapabilities() []string { return []string{"sensor-input"} }

// ADC is the MCP3008, or nil.
func (b *Backend) ADC() *MCP3008 { return b.adc }

// Thermometer is the TMP102, or nil.
func (b *Backend) Thermometer() *TMP102 { return b.tmp }

// Close closes the ports.
func (b *Backend) Close() error {
	var errs []error
	if b.cfg.SPI != nil {
		if err := b.cfg.SPI.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sensor: close SPI: %w", err))
		}
	}
	if b.cfg.I2C != nil {
		if err := b.cfg.I2C.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sensor: close I2C: %w", err))
		}
	}
	return errors.Join(errs...)
}
