package sensor

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/engines/snn"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spitest"
)

func spiPlayback(ops ...conntest.IO) *spitest.Playback {
	return &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
}

func TestMCP3008Wire(t *testing.T) {
	p := spiPlayback(
		// Single-ended CH0: start 0x01; SGL=1, D=000 → 0x80. Reply byte 1
		// 0xFA: bits 7..3 undefined, null bit 2 = 0, B9..B8 = 10; byte 2 =
		// 0x9A → 0x29A = 666.
		conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0xFF, 0xFA, 0x9A}},
		// Single-ended CH7: SGL=1, D=111 → 0xF0. Full scale 0x3FF.
		conntest.IO{W: []byte{0x01, 0xF0, 0x00}, R: []byte{0x00, 0x03, 0xFF}},
		// Differential code 3 (CH2 = IN−, CH3 = IN+): SGL=0, D=011 → 0x30.
		conntest.IO{W: []byte{0x01, 0x30, 0x00}, R: []byte{0x00, 0x00, 0x05}},
		// ReadVoltage CH1 (0x90): code 512 of VRef 3.3 V = 1.65 V.
		conntest.IO{W: []byte{0x01, 0x90, 0x00}, R: []byte{0x00, 0x02, 0x00}},
	)
	d, err := NewMCP3008(p, MCP3008Opts{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Read(0); err != nil || v != 666 {
		t.Fatalf("CH0 = %d, %v", v, err)
	}
	if v, err := d.Read(7); err != nil || v != MCP3008Max {
		t.Fatalf("CH7 = %d, %v", v, err)
	}
	if v, err := d.ReadDifferential(3); err != nil || v != 5 {
		t.Fatalf("diff 3 = %d, %v", v, err)
	}
	if v, err := d.ReadVoltage(1); err != nil || v != 1650*physic.MilliVolt {
		t.Fatalf("CH1 = %s, %v", v, err)
	}
	if _, err := d.Read(8); !errors.Is(err, ErrChannel) {
		t.Fatalf("CH8: %v", err)
	}
	if _, err := d.ReadDifferential(-1); !errors.Is(err, ErrChannel) {
		t.Fatalf("code -1: %v", err)
	}
	if err := p.Close(); err != nil { // every recorded op consumed
		t.Fatal(err)
	}
	// A transfer the device does not expect is an error, not a panic.
	p2 := spiPlayback(conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0, 0, 0}})
	d2, _ := NewMCP3008(p2, MCP3008Opts{})
	if _, err := d2.Read(1); err == nil {
		t.Fatal("mismatched transfer accepted")
	}
}

func TestMCP3008Command(t *testing.T) {
	for ch := range 8 {
		c, _ := MCP3008Command(true, ch)
		if c != [3]byte{1, byte(0x80 | ch<<4), 0} {
			t.Fatalf("single %d: % x", ch, c)
		}
		c, _ = MCP3008Command(false, ch)
		if c != [3]byte{1, byte(ch << 4), 0} {
			t.Fatalf("diff %d: % x", ch, c)
		}
	}
	if r := MCP3008Result([3]byte{0xFF, 0xFF, 0xFF}); r != 1023 {
		t.Fatalf("masking: %d", r)
	}
}

func TestTMP102Wire(t *testing.T) {
	// Each op: write the pointer byte, read two bytes MSB first.
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x19, 0x00}}, // 0x190 → 25 °C
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0xE7, 0x00}}, // 0xE70 → −25 °C
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x00, 0x10}}, // 0x001 → 0.0625 °C
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x4B, 0x01}}, // EM: 0x960 (13-bit) → 150 °C
		{Addr: 0x48, W: []byte{0x01}, R: []byte{0x60, 0xA0}}, // config power-on value
	}}
	d := NewTMP102(bus, 0)
	for _, want := range []float64{25, -25, 0.0625, 150} {
		got, err := d.Temperature()
		if err != nil {
			t.Fatal(err)
		}
		if want := physic.ZeroCelsius + physic.Temperature(want*1e9)*physic.NanoKelvin; got != want {
			t.Fatalf("temperature %s, want %s", got, want)
		}
	}
	if c, err := d.Config(); err != nil || c != 0x60A0 {
		t.Fatalf("config %#x, %v", c, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Temperature(); err == nil || !strings.Contains(err.Error(), "tmp102") {
		t.Fatalf("read past the recording: %v", err)
	}
}

// TestRatePoisson: the spike count of a Bernoulli(p) channel over n steps is
// within 5 standard deviations of n·p.
func TestRatePoisson(t *testing.T) {
	e, err := NewRateEncoder(RateConfig{Channels: 3, Min: 0, Max: 1, MaxHz: 100, DtMs: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	counts := make([]int, 3)
	var buf []int
	for range n {
		buf, err = e.Step([]float64{-1, 0.5, 2}, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range buf {
			if i > 0 && buf[i-1] >= c {
				t.Fatalf("not ascending: %v", buf)
			}
			counts[c]++
		}
	}
	if counts[0] != 0 {
		t.Fatalf("below Min spiked %d times", counts[0])
	}
	for ch, p := range map[int]float64{1: 0.05, 2: 0.1} { // 50 Hz and 100 Hz (clamped) at 1 ms
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if math.Abs(float64(counts[ch])-mean) > 5*sd {
			t.Fatalf("channel %d: %d spikes, want %.0f ± %.0f", ch, counts[ch], mean, 5*sd)
		}
	}
	// Same seed, same spikes; another seed, other spikes.
	seq := func(seed uint64) []int {
		e, _ := NewRateEncoder(RateConfig{Channels: 1, Min: 0, Max: 1, MaxHz: 500, DtMs: 1, Seed: seed})
		var out []int
		for i := range 200 {
			s, _ := e.Step([]float64{0.5}, nil)
			if len(s) > 0 {
				out = append(out, i)
			}
		}
		return out
	}
	a, b, c := seq(1), seq(1), seq(2)
	if !equalInts(a, b) || equalInts(a, c) {
		t.Fatalf("seeding: %v %v %v", a, b, c)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRateDeterministic: the accumulator gives exactly floor(n·p) spikes
// (up to one, for floating-point rounding of the sum), evenly spaced.
func TestRateDeterministic(t *testing.T) {
	e, err := NewRateEncoder(RateConfig{Channels: 1, Min: 0, Max: 10, MaxHz: 200, DtMs: 0.5, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	// value 2.5 → 50 Hz → p = 0.025: one spike every 40 steps.
	var steps []int
	for i := range 4000 {
		s, _ := e.Step([]float64{2.5}, nil)
		if len(s) == 1 {
			steps = append(steps, i)
		}
	}
	if len(steps) < 99 || len(steps) > 100 {
		t.Fatalf("%d spikes, want 100 ± 1", len(steps))
	}
	for i := 1; i < len(steps); i++ {
		if d := steps[i] - steps[i-1]; d < 39 || d > 41 {
			t.Fatalf("interval %d, want 40 ± 1", d)
		}
	}
}

func TestRateErrors(t *testing.T) {
	for name, c := range map[string]RateConfig{
		"channels":  {Channels: 0, Max: 1, MaxHz: 1, DtMs: 1},
		"range":     {Channels: 1, Min: 1, Max: 1, MaxHz: 1, DtMs: 1},
		"dt":        {Channels: 1, Max: 1, MaxHz: 1, DtMs: 0},
		"too fast":  {Channels: 1, Max: 1, MaxHz: 2000, DtMs: 1},
		"nan range": {Channels: 1, Min: math.NaN(), Max: 1, MaxHz: 1, DtMs: 1},
	} {
		if _, err := NewRateEncoder(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	e, _ := NewRateEncoder(RateConfig{Channels: 2, Max: 1, MaxHz: 1, DtMs: 1})
	if _, err := e.Step([]float64{1}, nil); !errors.Is(err, ErrInput) {
		t.Fatalf("short input: %v", err)
	}
	if _, err := e.Step([]float64{1, math.NaN()}, nil); !errors.Is(err, ErrInput) {
		t.Fatalf("NaN: %v", err)
	}
}

func TestDelta(t *testing.T) {
	e, err := NewDeltaEncoder(DeltaConfig{Channels: 2, Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Input 0 ramps up by 0.25 per step (exact in binary) to 3 then back
	// to 0; input 1 is constant, then jumps by −5.
	var on0, off0, off1 int
	var v float64
	step := func(a, b float64) []int {
		s, err := e.Step([]float64{a, b}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := step(0, 0); len(s) != 0 {
		t.Fatalf("first step spiked: %v", s)
	}
	count := func(s []int) {
		for _, c := range s {
			switch c {
			case 0:
				on0++
			case 1:
				off0++
			case 3:
				off1++
			default:
				t.Fatalf("unexpected channel %d", c)
			}
		}
	}
	for range 12 {
		v += 0.25
		count(step(v, 0))
	}
	if on0 != 3 || off0 != 0 { // crossed 1, 2, 3
		t.Fatalf("up: on %d off %d", on0, off0)
	}
	for range 12 {
		v -= 0.25
		count(step(v, 0))
	}
	if on0 != 3 || off0 != 3 { // crossed 2, 1, 0
		t.Fatalf("down: on %d off %d", on0, off0)
	}
	// A jump of −5 θ: one OFF spike, the reference moves by 5 θ, so holding
	// the value gives no more spikes.
	count(step(v, -5))
	count(step(v, -5))
	if off1 != 1 {
		t.Fatalf("jump: %d OFF spikes", off1)
	}
	if s := step(v, -3.9); len(s) != 1 || s[0] != 2 {
		t.Fatalf("back up 1.1 θ: %v", s)
	}
	if e.OutputChannels() != 4 {
		t.Fatal("OutputChannels")
	}
	if _, err := NewDeltaEncoder(DeltaConfig{Channels: 1, Threshold: 0}); err == nil {
		t.Fatal("threshold 0 accepted")
	}
	if _, err := e.Step([]float64{math.Inf(1), 0}, nil); !errors.Is(err, ErrInput) {
		t.Fatalf("Inf: %v", err)
	}
}

// TestDriveSpikingNetwork feeds encoder spikes into a CPU spiking network
// through AddVoltages: a 20 mV kick on a neuron resting 15 mV below
// threshold makes it spike in the next step; unstimulated neurons stay
// silent.
func TestDriveSpikingNetwork(t *testing.T) {
	lif := snn.LIF{TauMMs: 20, VRestMV: -65, VThMV: -50, VResetMV: -65, TRefMs: 2}
	v0 := -65.0
	n := (&snn.Network{DtMs: 0.1}).AddPopulation(snn.Population{Name: "in", Size: 4, Neuron: lif, VInit: snn.VInit{MV: &v0}})
	net, err := cpu.New(cpu.Options{Threads: 1}).NewNetwork(n, snn.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Free()
	var _ backend.Network = net
	enc, _ := NewDeltaEncoder(DeltaConfig{Channels: 2, Threshold: 0.5})
	// ON of input 0 → neuron 0, OFF of input 0 → neuron 1, input 1 → 2, 3.
	d := &Drive{Targets: OneToOne(0, 4), WeightMV: 20}
	samples := [][]float64{{0, 0}, {1, 0}, {1, 0}, {1, -1}}
	var spiked []int
	for _, s := range samples {
		ch, err := enc.Step(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(net, ch, nil); err != nil {
			t.Fatal(err)
		}
		got, err := net.Step()
		if err != nil {
			t.Fatal(err)
		}
		spiked = append(spiked, got...)
	}
	if !equalInts(spiked, []int{0, 3}) {
		t.Fatalf("network spikes %v, want [0 3] (ON of input 0, OFF of input 1)", spiked)
	}
	if err := d.Apply(net, []int{9}, nil); err == nil {
		t.Fatal("channel out of range accepted")
	}
	d.Targets[0] = []int{99}
	if err := d.Apply(net, []int{0}, nil); err == nil {
		t.Fatal("neuron out of range accepted")
	}
}

func TestDriver(t *testing.T) {
	t.Setenv(EnvSPI, "")
	t.Setenv(EnvI2C, "")
	_, err := driver{}.Init()
	if !errors.Is(err, backend.ErrSkip) || !strings.Contains(err.Error(), EnvSPI) {
		t.Fatalf("unset: %v", err)
	}
	// Configured but absent hardware fails (it is not skipped).
	t.Setenv(EnvSPI, "no-such-spi-port-xyz")
	if b, err := (driver{}).Init(); err == nil || errors.Is(err, backend.ErrSkip) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("missing port: %v", err)
	}
	if _, _, err := parseI2C("1@0x200"); err == nil {
		t.Fatal("8-bit I2C address accepted")
	}
	if name, a, err := parseI2C("I2C1@0x49"); err != nil || name != "I2C1" || a != 0x49 {
		t.Fatalf("parse: %q %#x %v", name, a, err)
	}
}

func TestBackendWithPlayback(t *testing.T) {
	p := spiPlayback(conntest.IO{W: []byte{0x01, 0x80, 0x00}, R: []byte{0, 0x01, 0x00}})
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: 0x49, W: []byte{0}, R: []byte{0x19, 0}}}}
	b, err := New(Config{SPI: p, I2C: bus, I2CAddr: 0x49})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := b.ADC().Read(0); err != nil || v != 256 {
		t.Fatalf("adc %d %v", v, err)
	}
	if tmp, err := b.Thermometer().Temperature(); err != nil || tmp != physic.ZeroCelsius+25*physic.Celsius {
		t.Fatalf("tmp %s %v", tmp, err)
	}
	if !strings.Contains(b.Device(), "MCP3008") || !strings.Contains(b.Device(), "TMP102 at 0x49") {
		t.Fatalf("device %q", b.Device())
	}
	if c := backend.Capabilities(b); !strings.Contains(strings.Join(c, ","), "sensor-input") {
		t.Fatalf("capabilities %v", c)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
}
