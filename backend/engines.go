package backend

import (
	"fmt"

	"github.com/prismai/mec/engines/kuramoto"
	"github.com/prismai/mec/engines/snn"
)

// Spectral is the FFT capability: planned complex transforms whose data
// lives on the backend between operations.
type Spectral interface {
	// NewFFT plans batch transforms of length n in precision p, with a
	// resident buffer of batch·n values, zeroed.
	NewFFT(n, batch int, p Precision) (FFT, error)
}

// FFT is a planned transform with its buffer on the backend. The forward
// transform is X[k] = Σ_j x[j]·e^{−2πi·jk/n}; the inverse is normalised by
// 1/n, so Inverse(Forward(x)) = x.
type FFT interface {
	// Len is the transform length n and Batch the number of vectors.
	Len() int
	Batch() int
	Precision() Precision
	// Load copies batch·n host values (vector b at [b·n, (b+1)·n)) into
	// the buffer; Read copies the buffer out.
	Load(x []complex128) error
	Read(dst []complex128) error
	// Forward and Inverse transform every vector of the buffer in place.
	Forward() error
	Inverse() error
	// Free releases the buffer and plan.
	Free() error
}

// RealSpectral is implemented by spectral backends with real-input
// transforms: the spectrum of n real samples is fixed by its n/2+1 first
// coefficients (X[n−k] = conj X[k]), which a real transform computes in
// about half the time and memory of the complex one.
type RealSpectral interface {
	// NewRealFFT plans batch real transforms of length n in precision p
	// (Complex128: float64 samples; Complex64: float32), with resident
	// buffers of batch·n samples and batch·(n/2+1) coefficients, zeroed.
	NewRealFFT(n, batch int, p Precision) (RealFFT, error)
}

// RealFFT is a planned real transform with its buffers on the backend.
// Forward maps the samples x of each vector to X[k] = Σ_j x[j]·e^{−2πi·jk/n}
// for k ≤ n/2; Inverse maps such coefficients back to n real samples,
// normalised by 1/n (the imaginary parts of X[0] and, for even n, X[n/2]
// are ignored), so Inverse(Forward(x)) = x.
type RealFFT interface {
	// Len is the transform length n and Batch the number of vectors.
	Len() int
	Batch() int
	Precision() Precision
	// LoadReal copies batch·n samples (vector b at [b·n, (b+1)·n)) into the
	// sample buffer; ReadReal copies it out.
	LoadReal(x []float64) error
	ReadReal(dst []float64) error
	// Load copies batch·(n/2+1) coefficients into the spectrum buffer;
	// Read copies it out.
	Load(x []complex128) error
	Read(dst []complex128) error
	// Forward transforms every sample vector into the spectrum buffer;
	// Inverse every spectrum into the sample buffer.
	Forward() error
	Inverse() error
	// Free releases the buffers and plan.
	Free() error
}

// Spiking is the leaky integrate-and-fire capability: a network described
// by snn.Network, simulated where the backend keeps it.
type Spiking interface {
	// NewNetwork builds the network (connectivity and initial state drawn
	// from its seed exactly as snn does, so every backend starts from the
	// same network) and returns it at t = 0.
	NewNetwork(net *snn.Network, opt snn.Options) (Network, error)
}

// Network is a spiking network resident on a backend.
type Network interface {
	// N is the number of LIF neurons; DtMs the time step in ms.
	N() int
	DtMs() float64
	// Step advances one time step and returns the indices of the neurons
	// that spiked in it, ascending (a host copy).
	Step() ([]int, error)
	// Run advances steps time steps without reading spikes out.
	Run(steps int) error
	// Voltages copies the membrane potentials (mV) into dst (len N).
	Voltages(dst []float64) error
	// SpikeCounts copies each neuron's spike count so far into dst (len N).
	SpikeCounts(dst []int64) error
	// AddVoltages adds dv[i] mV to neuron i (len N) now; refractory
	// neurons are unaffected and a neuron pushed to threshold spikes in
	// the next step. Non-finite values are an error.
	AddVoltages(dv []float64) error
	// Free releases the network.
	Free() error
}

// NetworkInfo is implemented by networks that report how they were
// built: the number of synapses (non-zero dense entries included, as
// snn.Sim.Synapses counts them) and the number of host threads stepping
// the neurons (0 when the neurons are updated on a device).
type NetworkInfo interface {
	Synapses() int
	Threads() int
}

// WeightReader is implemented by networks that read back the current
// weights of a sparse projection (in the network file's unit, in the
// order snn.Sim.Weights gives), which STDP changes during a run.
type WeightReader interface {
	Weights(projection int) ([]float64, error)
}

// StateReader is implemented by networks that read back each neuron's
// model state besides V (snn.Sim.States: u of izhikevich neurons, w of adex
// neurons in nA, 0 for other models), for the state monitors of u and w.
type StateReader interface {
	States(dst []float64) error
}

// NetworkSnapshotter is implemented by networks whose complete dynamic
// state can be saved and restored bit for bit (for rollback).
type NetworkSnapshotter interface {
	Snapshot() ([]byte, error)
	Restore(snap []byte) error
}

// Phase is the Kuramoto capability:
// dφ_i/dt = ω_i + K·Σ_j W_ij·sin(φ_j − φ_i), with W_ij = 1/N all-to-all
// (computed in O(N) through the order parameter) or a sparse matrix.
type Phase interface {
	NewOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) (Oscillators, error)
}

// Oscillators is a phase network resident on a backend.
type Oscillators interface {
	N() int
	// Step advances by dt and returns the order parameter r·e^{iψ} after it.
	Step(dt float64) (r, psi float64, err error)
	// Phases copies the phases (radians; backends may wrap them into
	// [0, 2π)) into dst (len N).
	Phases(dst []float64) error
	Free() error
}

// FusionCoupler is implemented by states that run the fusion layer's
// coupling where the state lives, so a fusion step moves only
// neuron-sized vectors and a few scalars between host and device (package
// fusion uses it when present and falls back to a readout otherwise).
type FusionCoupler interface {
	// FoldN returns u_i = Σ_{a ≡ i (mod n)} ψ_a for i < n; n must divide
	// the number of amplitudes.
	FoldN(n int) ([]complex128, error)
	// KickStrided adds v[k] to ψ_{k·stride} for k < len(v) (all indices in
	// range) and returns those amplitudes after the addition.
	KickStrided(stride int, v []complex128) ([]complex128, error)
	// FusionStats returns Σ_a p_a, Σ_a p_a·ln p_a (0·ln 0 = 0) and
	// Σ_a |ψ_a|·ψ_a, with p_a = |ψ_a|², in one pass.
	FusionStats() (norm2, plnp float64, r complex128, err error)
}

// CheckFold validates FoldN's n for a state of dim amplitudes.
func CheckFold(dim, n int) error {
	if n < 1 || n > dim || dim%n != 0 {
		return fmt.Errorf("backend: fold of %d amplitudes onto %d neurons: n must divide the amplitudes", dim, n)
	}
	return nil
}

// CheckKick validates KickStrided's arguments for a state of dim amplitudes.
func CheckKick(dim, stride int, v []complex128) error {
	if stride < 1 || len(v) == 0 || (len(v)-1)*stride >= dim {
		return fmt.Errorf("backend: kick of %d values at stride %d outside %d amplitudes", len(v), stride, dim)
	}
	return CheckAmplitudes(v)
}
