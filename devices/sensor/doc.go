// Package sensor is sensor input for mec edge nodes: periph.io drivers for an
// MCP3008 SPI ADC and a TMP102 I²C thermometer, spike encoders that turn
// samples into per-step spike channel indices, a Drive that feeds those
// spikes to a spiking network, and a backend driver "sensor" (capability
// "sensor-input") configured by $MEC_SENSOR_SPI and/or $MEC_SENSOR_I2C.
//
// Layer: devices. It may import backend (and engines/snn in tests); never
// the runtime or the commands.
//
// # MCP3008 (Microchip MCP3004/3008 datasheet, section 5 and figure 6-1)
//
// One conversion is one 3-byte full-duplex SPI transfer (mode 0, 8-bit
// words, CS low for the whole transfer, clock ≤ 1.35 MHz at 2.7 V):
//
//	host → ADC: 0x01                 seven zeros, then the start bit
//	            SGL/DIFF<<7 | D2..D0<<4   channel select; low nibble don't care
//	            0x00                 don't care
//	ADC → host: byte 0 undefined; byte 1 bit 2 the null bit, bits 1..0 B9..B8;
//	            byte 2 B7..B0
//
// SGL/DIFF = 1 selects single-ended CH(D2..D0); 0 selects a
// pseudo-differential pair: code 2k is CH(2k) as IN+ with CH(2k+1) as IN−,
// code 2k+1 the reverse. The result is code = 1024 · V_IN / V_REF.
//
// # TMP102 (Texas Instruments TMP102 datasheet, section 7.5)
//
// I²C address 0x48 (ADD0 to GND; 0x49 V+, 0x4A SDA, 0x4B SCL). A register is
// read by writing its pointer byte then reading two bytes, MSB first, with
// a repeated start:
//
//	0x00 temperature (read-only): 12-bit two's complement in bits 15..4,
//	     0.0625 °C per count (0x190 = 25 °C, 0xE70 = −25 °C); bit 0 is EM,
//	     and in extended mode (EM = 1) the count is 13 bits in bits 15..3
//	0x01 configuration: power-on value 0x60A0 (12-bit, 4 Hz, continuous)
//	0x02 T_LOW, 0x03 T_HIGH (alert limits; not used here)
//
// # Spike encoders and the network
//
// An encoder's Step maps one sample per input channel to the ascending
// indices of the output channels that spike in that time step. RateEncoder
// (output channel i = input i) spikes with probability p = rate · dt, the rate
// linear in the value from 0 Hz at Min to MaxHz at Max (Bernoulli per step,
// a Poisson process in the limit; or regular with Deterministic), from a
// seeded PCG stream. DeltaEncoder (output 2i = ON, 2i+1 = OFF for input i)
// spikes when the value has moved by the threshold θ since its last event.
//
// mec's spiking networks take external input through
// backend.Network.AddVoltages (there is no separate spike-input port, and
// ContextualGrounding reads the continuous signal u, not spikes): Drive maps
// each encoder output channel to target neurons and a weight in mV, and Apply
// adds the step's input to the network before its next Step.
//
// # Hardware
//
// Opening real ports uses periph.io/x/host/v3 (pure Go, Linux sysfs/ioctl;
// builds with CGO_ENABLED=0). $MEC_SENSOR_SPI is a periph SPI port name
// ("SPI0.0", "/dev/spidev0.0", or "default" for the first one);
// $MEC_SENSOR_I2C an I²C bus name with an optional address ("1", "I2C1@0x49",
// "default"). Set but unusable is a failure, not a skip.
package sensor
