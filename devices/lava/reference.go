package lava

import (
	"fmt"
)

// Validate checks that every field of the model is within its Lava range
// and every index points where it should.
func (m *Model) Validate() error {
	if m.Format != ModelFormat {
		return cerr("format", ErrInvalid, "%q, want %q", m.Format, ModelFormat)
	}
	off := 0
	for i, g := range m.Inputs {
		if g.Offset != off || g.Size <= 0 {
			return cerr(fmt.Sprintf("inputs[%d]", i), ErrInvalid, "offset %d size %d (next offset %d)", g.Offset, g.Size, off)
		}
		off += g.Size
	}
	if off != m.NInputs {
		return cerr("n_inputs", ErrInvalid, "%d, inputs cover %d", m.NInputs, off)
	}
	off = 0
	for i, p := range m.Populations {
		f := fmt.Sprintf("populations[%d]", i)
		switch {
		case p.Offset != off || p.Size <= 0:
			return cerr(f, ErrInvalid, "offset %d size %d (next offset %d)", p.Offset, p.Size, off)
		case p.Du < 0 || p.Du > MaxDecay || p.Dv < 0 || p.Dv > MaxDecay:
			return cerr(f, ErrSaturated, "du %d dv %d outside 0..4095", p.Du, p.Dv)
		case p.Vth < 0 || p.Vth > MaxVth:
			return cerr(f+".vth", ErrSaturated, "%d outside 0..%d", p.Vth, MaxVth)
		case p.BiasMant < MinBiasMant || p.BiasMant > MaxBiasMant || p.BiasExp < 0 || p.BiasExp > MaxBiasExp:
			return cerr(f+".bias", ErrSaturated, "mant %d exp %d", p.BiasMant, p.BiasExp)
		case len(p.VInit) != p.Size:
			return cerr(f+".v_init", ErrInvalid, "%d values for %d neurons", len(p.VInit), p.Size)
		}
		for j, v := range p.VInit {
			if v <= -StateLimit || v >= StateLimit {
				return cerr(fmt.Sprintf("%s.v_init[%d]", f, j), ErrSaturated, "%d beyond ±2^23", v)
			}
		}
		off += p.Size
	}
	for i, c := range m.Conns {
		f := fmt.Sprintf("conns[%d]", i)
		var ns int
		switch {
		case c.SrcKind == "input" && c.Src >= 0 && c.Src < len(m.Inputs):
			ns = m.Inputs[c.Src].Size
		case c.SrcKind == "population" && c.Src >= 0 && c.Src < len(m.Populations):
			ns = m.Populations[c.Src].Size
		default:
			return cerr(f+".src", ErrInvalid, "%s %d", c.SrcKind, c.Src)
		}
		if c.Dst < 0 || c.Dst >= len(m.Populations) {
			return cerr(f+".dst", ErrInvalid, "%d", c.Dst)
		}
		if c.WeightExp < MinWeightExp || c.WeightExp > MaxWeightExp {
			return cerr(f+".weight_exp", ErrSaturated, "%d outside -8..7", c.WeightExp)
		}
		nt := m.Populations[c.Dst].Size
		for k, s := range c.Synapses {
			if s[0] < 0 || s[0] >= ns || s[1] < 0 || s[1] >= nt {
				return cerr(fmt.Sprintf("%s.synapses[%d]", f, k), ErrInvalid, "(%d, %d) outside %d×%d", s[0], s[1], ns, nt)
			}
			if s[2] < MinWeight || s[2] > MaxWeight || s[2]%2 != 0 {
				return cerr(fmt.Sprintf("%s.synapses[%d]", f, k), ErrSaturated, "mantissa %d not even in [-256, 254]", s[2])
			}
		}
	}
	return m.checkActivation()
}

// Reference is the Go fixed-point reference simulation of a Model: the
// same integer arithmetic as Lava's bit-accurate LIF and Dense process
// models (and the sidecar's fake), one Lava time step per Step. Spikes and
// voltages of the sidecar must equal it bit for bit.
type Reference struct {
	m    *Model
	t    uint64
	u, v []int32
	// buf[c] is the output buffer a_buff of conn c (sent next step).
	buf [][]int64
	// out[c][s] lists the synapses of conn c by source index.
	out    [][][][2]int
	spikes []int
	ain    []int64
}

// NewReference validates m and returns its simulation at step 0.
func NewReference(m *Model) (*Reference, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	n := m.N()
	r := &Reference{m: m, u: make([]int32, n), v: make([]int32, n), ain: make([]int64, n)}
	for _, p := range m.Populations {
		copy(r.v[p.Offset:], p.VInit)
	}
	for _, c := range m.Conns {
		r.buf = append(r.buf, make([]int64, m.Populations[c.Dst].Size))
		var size int
		if c.SrcKind == "input" {
			size = m.Inputs[c.Src].Size
		} else {
			size = m.Populations[c.Src].Size
		}
		bySrc := make([][][2]int, size)
		for _, s := range c.Synapses {
			bySrc[s[0]] = append(bySrc[s[0]], [2]int{s[1], s[2]})
		}
		r.out = append(r.out, bySrc)
	}
	return r, nil
}

// StepNumber is the number of steps taken (the last Lava time step).
func (r *Reference) StepNumber() uint64 { return r.t }

// V returns the voltages in v units (live slice, read-only).
func (r *Reference) V() []int32 { return r.v }

// U returns the synaptic currents in u units (live slice, read-only).
func (r *Reference) U() []int32 { return r.u }

// decay returns x·(4096 − d)/4096 rounded toward zero, as Lava computes it
// (sign(x)·(|x·(4096−d)| >> 12)).
func decay(x int32, d int) int32 {
	p := int64(x) * int64(DecayUnity-d)
	if p < 0 {
		return int32(-((-p) >> DecayShift))
	}
	return int32(p >> DecayShift)
}

// Step advances one Lava time step with the given injector indices spiking
// (strictly ascending, < NInputs) and returns the global indices of the LIF
// neurons that spiked, ascending (slice reused by the next Step). Within
// the step, as in Lava's LoihiProtocol: every Dense sends the activation it
// accumulated in the previous step; every LIF decays u, adds a_in·2^6
// (24-bit wrap), decays v, adds u and the bias (clipped to ±(2^23−1)),
// spikes where v > vth·2^6 and resets v to 0; every Dense then accumulates
// this step's spikes (injector and LIF) into its buffer.
func (r *Reference) Step(inputs []int) ([]int, error) {
	for k, x := range inputs {
		if x < 0 || x >= r.m.NInputs || (k > 0 && x <= inputs[k-1]) {
			return nil, fmt.Errorf("lava reference: step %d: input %d (%d) not ascending in [0, %d)", r.t+1, k, x, r.m.NInputs)
		}
	}
	r.t++
	for i := range r.ain {
		r.ain[i] = 0
	}
	for ci, c := range r.m.Conns {
		off := r.m.Populations[c.Dst].Offset
		for j, a := range r.buf[ci] {
			r.ain[off+j] += a
		}
	}
	r.spikes = r.spikes[:0]
	for _, p := range r.m.Populations {
		vth := int32(p.Vth) << VthShift
		bias := int32(p.BiasMant) << uint(p.BiasExp)
		for j := 0; j < p.Size; j++ {
			i := p.Offset + j
			u := decay(r.u[i], p.Du+DsOffset) + int32(r.ain[i]<<ActShift)
			if u > StateLimit {
				u -= 2 * StateLimit
			} else if u <= -StateLimit {
				u += 2 * StateLimit
			}
			r.u[i] = u
			v := int64(decay(r.v[i], p.Dv)) + int64(u) + int64(bias)
			v = min(max(v, -StateLimit+1), StateLimit-1)
			if int32(v) > vth {
				r.spikes = append(r.spikes, i)
				v = 0
			}
			r.v[i] = int32(v)
		}
	}
	// Dense processes receive this step's spikes.
	lifSpiked := r.spikes
	for ci, c := range r.m.Conns {
		acc := r.buf[ci]
		for j := range acc {
			acc[j] = 0
		}
		var src []int
		var off int
		if c.SrcKind == "input" {
			src, off = inputs, r.m.Inputs[c.Src].Offset
		} else {
			src, off = lifSpiked, r.m.Populations[c.Src].Offset
		}
		size := len(r.out[ci])
		for _, g := range src {
			s := g - off
			if s < 0 || s >= size {
				continue
			}
			for _, syn := range r.out[ci][s] {
				acc[syn[0]] += int64(syn[1])
			}
		}
		for j := range acc {
			acc[j] = shiftActivation(acc[j], c.WeightExp)
		}
	}
	return r.spikes, nil
}
