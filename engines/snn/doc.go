// Package snn is the CPU spiking-network engine of mec: current-based
// leaky integrate-and-fire (LIF) neurons with exponential synaptic currents
// (and conductance-based LIF, Izhikevich and AdEx neurons),
// sparse (CSR) or dense projections with per-synapse weights and integer
// delays, Poisson input generators, and spike / state monitors. It is the
// reference (oracle) that GPU backends are tested against.
//
// Layer: compute library (a CPU engine, under backend/cpu; its Network is
// also the network description every spiking backend takes). It may import
// internal/strict only.
//
// # Model
//
// Each neuron i of a population obeys
//
//	τ_m dV_i/dt = −(V_i − V_rest) + R·I_ext,i + Σ_c J_c,i
//	τ_c dJ_c,i/dt = −J_c,i
//
// where J_c is the synaptic drive of channel c, already multiplied by the
// membrane resistance (so it is a voltage, in mV), and I_ext is an external
// current in nA (R in MΩ, so R·I is in mV). A target population has one channel
// per distinct synaptic time constant τ_syn among its incoming projections; a
// presynaptic spike through a synapse of weight w (mV) makes J_c jump by w.
// When V_i ≥ V_th the neuron spikes, V_i is set to V_reset and held there for
// the absolute refractory period t_ref (the synaptic currents keep decaying).
//
// # Delta synapses and LIF variants
//
// A projection with Synapse "delta" (model lif targets) has no synaptic
// current: its channel has prop 1 and decay 0, so the weights delivered at
// the end of step n enter V ← V·e_m + c_i + Σw at the end of step n+1 and
// are then gone. With the exact method this is the exact solution of the
// membrane equation with the impulse at the end of the step; with Euler,
// Euler's. LIF.Leak "none" sets e_m = 1 and c_i = R·I_ext·dt/τ_m (a
// perfect integrator τ_m dV/dt = R·I_ext + input, exact; its exponential
// channels propagate with τ_s/τ_m·(1 − e^{−dt/τ_s}), or dt/τ_m with
// Euler), "instant" sets e_m = 0 and c_i = V_rest + R·I_ext (V is the
// step's input; delta synapses only), and NoSpikes sets V_th = +∞. They
// are parameters of the same LIF update, so accelerator backends run them
// bit for bit.
//
// # Conductance-based populations
//
// A population with model "coba" is conductance-based: each incoming
// channel c holds a conductance g_c in units of the leak conductance 1/R
// (a spike through weight_ns w adds w·R/1000, w in nS, R in MΩ) and has a
// reversal potential E_c (the projection's e_rev_mv):
//
//	τ_m dV_i/dt = −(V_i − V_rest) + R·I_ext,i + Σ_c g_c,i·(E_c − V_i)
//	τ_c dg_c,i/dt = −g_c,i
//
// The conductances are held over a step: V ← V·e_m + V∞·(1 − e_m) +
// Σ_c ((1 − e_m)·g_c)·(E_c − V) with e_m = e^{−dt/τ_m} (MethodExact: the
// leak exact, the synaptic current (E_c − V)·g_c held over the step, so
// first order in g; it is not the exponential Euler step, whose rate
// would be (1 + Σg)/τ_m) or 1 − dt/τ_m (MethodEuler: forward Euler,
// Brian2's method='euler'). Both are stable while (1 − e_m)·Σ_c g_c < 1,
// i.e. Σg·dt/τ_m below about 1 (a total conductance under about 200 times
// the leak at dt = 0.1 ms, τ_m = 20 ms); beyond that V overshoots E_c.
// Threshold,
// reset, refractory period and delays are as for LIF; Sim.Drive returns
// Σ_c g_c. Accelerator backends run the same arithmetic bit for bit.
//
// # Izhikevich and AdEx populations
//
// Models "izhikevich" and "adex" (see the Izhikevich and AdEx types for
// the equations and units) integrate with forward Euler whatever the
// Method: their synaptic drives J are current-based as LIF's (prop = dt for
// izhikevich, dt/τ_m for adex, decay by the Method) and enter dV/dt over
// one step; the recovery u or adaptation w is updated from the old V and
// jumps at a spike. Sim.State and Sim.States read it (and state monitors with
// vars u or w through the Recorder). Accelerator backends run the same
// arithmetic; izhikevich bit for bit, adex up to the device's exp (a
// stated 1e-6 mV in the conformance suite).
//
// # Plasticity
//
// A sparse projection without delays may carry pair-based STDP with traces,
// additive or multiplicative (see STDP for the rules and the order of
// events within a step). Sim.Weights reads the current weights. Snapshots
// of plastic networks are refused (the format carries no weights or
// traces). Accelerator backends run the same updates bit for bit.
//
// # Time step and integration
//
// Time advances in steps of dt. Step n integrates every non-refractory neuron
// from t_n = n·dt to t_n+dt, either exactly (MethodExact, the default: the
// exponential propagators of Brian2's "exact" method and NEST's iaf_psc_exp,
// exact for piecewise-constant external current) or with forward Euler
// (MethodEuler). Then the threshold is checked, spiking neurons are reset,
// and their spikes are delivered: a synapse with delay d steps adds its weight
// to J of the target at the end of step n+d (d = 0: at the end of this step),
// so it acts from the integration of step n+d+1 on.
//
// A spike detected after the integration of step n is stamped t_n+dt (the
// grid point at which V ≥ V_th was observed, the NEST convention; Brian2
// labels the same event t_n). The neuron is then clamped for exactly
// round(t_ref/dt) steps, so with constant input the inter-spike interval is
// t_ref + dt·ceil(T_free/dt), T_free = τ_m ln((V∞ − V_reset)/(V∞ − V_th)).
// (Brian2 resumes integration one step earlier, i.e. it clamps t_ref − dt.)
//
// # Voltage cap
//
// Between spikes V < V_th holds after every Step: a threshold check follows
// every integration step, and a neuron whose V is ≥ V_th at the start of a step
// (after AddVoltage) spikes in that step even if the integration would bring
// it back below. With the exact integrator V is the exact solution sampled on
// the grid, so a threshold crossing and recrossing inside one step (a sub-dt
// excursion) is not seen; this is the usual grid semantics of Brian2 and NEST.
//
// # Units
//
// Network files and the builder use explicit unit suffixes: _ms
// (milliseconds), _mv (millivolts), _mohm (megaohms), _na (nanoamperes), _hz
// (hertz). The Go API uses the same units (time in ms, voltage in mV).
//
// # Reproducibility
//
// Connectivity and initial conditions are drawn at Build from PCG streams
// derived from (seed, projection or population index); each Poisson
// generator neuron has its own stream derived from (seed, group, index).
// The neuron update is elementwise and spikes are gathered and delivered in
// ascending neuron order, so results are bit-for-bit identical for any
// Options.Threads.
//
// # Snapshots
//
// Sim.Snapshot and Sim.Restore move a simulation's complete dynamic state
// as bytes whose content is the Snapshot type; MarshalBinary and
// DecodeSnapshot (given the network's SnapshotShape) are the format's one
// encoder and decoder. A backend that simulates the neurons elsewhere
// fills a Snapshot from its own state, and draws its Poisson input from a
// PoissonSource (the network's Poisson groups stepped on their own, with
// their part of the snapshot), so its snapshots restore into a Sim and
// back.
package snn
