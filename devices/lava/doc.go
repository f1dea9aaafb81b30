// Package lava runs mec spiking networks on Intel's Lava framework (lava-nc,
// the software stack of Loihi 2) through a Python sidecar, and converts
// networks to and from NIR.
//
// Layer: devices. It may import backend, the engines (engines/snn) and
// internal/strict; never the runtime or the commands.
//
// # What runs where
//
// Convert maps an snn.Network to a Model in Lava's fixed-point terms (LIF
// du, dv, vth, bias mantissa/exponent; Dense/Sparse weight mantissas and
// weight_exp; formulas with units on Convert, DecayU, DecayV, EncodeBias and
// EncodeWeights). The Go Client sends the Model to the sidecar
// (sidecar/mec_lava_sidecar.py, standard-library Python 3), which builds
// Injector → Dense/Sparse → LIF → Extractor and runs it in lockstep: one
// STEP frame in (step number, injected spike indices), one SPIKES frame out
// (step number, output spike indices, optionally every voltage).
//
// Lava cannot be installed where mec is developed and tested. The sidecar
// uses real Lava when `import lava` works (and --fake is not given);
// otherwise it runs a pure-Python FAKE that implements the same fixed-point
// arithmetic as Lava's bit-accurate LIF (PyLifModelBitAcc) and Dense
// (PyDenseModelBitAcc) process models, as read from lava-nc's sources. The
// fake is not Lava: the tests check the protocol and that the fake agrees
// bit for bit with this package's Go fixed-point Reference; they do not
// show that real Lava agrees with either. The real-Lava path of the
// sidecar has not been run. The HELLO text says which engine answers
// ("engine=fake" or "engine=lava"), and so does Backend.Device.
//
// # The backend
//
// The driver "lava" registers from init. It is skipped unless
// MEC_LAVA_SIDECAR is set: "unix:PATH" or "tcp:HOST:PORT" of a running
// sidecar, "spawn" to start the bundled one (embedded in the binary;
// interpreter from MEC_LAVA_PYTHON, default python3), or "spawn-fake" to
// force its fake. A spawned sidecar runs in its own process group; Open
// waits MEC_LAVA_TIMEOUT (a Go duration, default 5s) for it to listen and
// for any sidecar to answer HELLO, and on failure kills the group, reaps
// the sidecar and removes its temporary directory. A sidecar left running
// (the spawning process exits without Close) exits when its stdin closes
// and removes its socket and directory.
//
// The backend implements no capability interface, not even
// backend.Spiking: Spiking promises spikes bit-identical to snn's float
// simulation, and Lava's fixed-point forward-Euler dynamics (strict
// threshold, no refractory period, no delays) cannot match it. Use
// Backend.NewSession to run a network; its Poisson groups are generated on
// the host by snn (same seed, same streams) and injected every step.
//
// # Timing
//
// Lava time steps are numbered from 1. In step t every Dense first sends
// what it accumulated in step t−1, then every LIF integrates and spikes,
// then every Dense accumulates the spikes of step t (from the Injector or
// a LIF). So an injected or LIF spike of step t acts on its targets in step
// t+1, as snn's zero-delay synapses do (a spike of step n acts from step
// n+1).
//
// # Frame format (protocol version 1)
//
// Every frame is a 16-byte header followed by a payload. All integers are
// little-endian.
//
//	offset size field
//	0      4    magic: the ASCII bytes "MECL" (0x4D 0x45 0x43 0x4C)
//	4      1    version: 1
//	5      1    type: 1 HELLO, 2 NETWORK, 3 STEP, 4 SPIKES, 5 ERROR, 6 CLOSE
//	6      2    flags (uint16): bit 0 = voltages (STEP: requested; SPIKES:
//	            present); must be 0 on other types; other bits must be 0
//	8      4    payload length L (uint32): ≤ 64 MiB; ≤ 4096 for HELLO and
//	            ERROR; 0 for CLOSE
//	12     4    CRC-32 (IEEE 802.3, as zlib.crc32 and hash/crc32) of the payload
//	16     L    payload
//
// Payloads:
//
//	HELLO    UTF-8 text naming the peer ("mec-lava-client/1";
//	         "mec-lava-sidecar/1 engine=fake|lava")
//	NETWORK  UTF-8 JSON of Model (Format "mec-lava-model/1")
//	STEP     0: step (uint64, the next step: previous + 1)
//	         8: n (uint32)
//	         12: n injector indices (uint32 each, strictly ascending, < n_inputs)
//	         L must be exactly 12 + 4n
//	SPIKES   0: step (uint64; 0 acknowledges NETWORK)
//	         8: n (uint32)
//	         12: n global LIF indices (uint32 each, strictly ascending)
//	         if flag bit 0: 12+4n: m (uint32) then m voltages (int32, v units,
//	         global order); L must be exactly 12 + 4n (+ 4 + 4m)
//	ERROR    0: code (uint16: 1 protocol, 2 network, 3 step, 4 internal)
//	         2: UTF-8 message
//	CLOSE    empty
//
// A session: the client sends HELLO and the sidecar answers HELLO; the
// client sends NETWORK and the sidecar answers SPIKES step 0 with every
// initial voltage; then STEP t / SPIKES t for t = 1, 2, ...; CLOSE is
// answered with CLOSE and ends the connection. Any malformed or unexpected
// frame is answered with ERROR and the connection is closed. DecodeFrame
// returns a *FrameError wrapping one of ErrBadMagic, ErrBadVersion,
// ErrBadType, ErrBadFlags, ErrTooLarge, ErrTruncated, ErrBadCRC,
// ErrBadPayload or ErrTrailing, and never panics (FuzzDecodeFrame).
//
// # NIR
//
// ExportNIR and ImportNIR convert snn.Network ↔ a NIR graph modelled in Go
// (NIRFile: Input, Output, Linear, Affine, LIF, CubaLIF, Delay and Scale
// nodes with NIR's field names). EncodeNIRHDF5 and DecodeNIRHDF5 write and read it as a
// real .nir file (HDF5 in nir.write's layout, through internal/hdf5: no
// Python involved); MarshalNIR and UnmarshalNIR as JSON that mirrors that
// layout. The mapping and units are documented next to NIRFile in nir.go,
// the HDF5 layout in nirhdf5.go.
package lava
