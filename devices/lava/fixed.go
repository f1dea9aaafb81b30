package lava

import (
	"errors"
	"fmt"
	"math"

	"github.com/prismai/mec/engines/snn"
)

// Fixed-point constants of Lava's bit-accurate LIF (PyLifModelBitAcc) and
// Dense (PyDenseModelBitAcc) process models, i.e. of Loihi.
const (
	// DecayUnity is 2^12: du and dv are 12-bit fractions of it.
	DecayUnity = 4096
	// DecayShift is log2(DecayUnity).
	DecayShift = 12
	// DsOffset is added to du (Lava's ds_offset); dv has offset 0.
	DsOffset = 1
	// VthShift: the threshold register is left-shifted by 6 bits.
	VthShift = 6
	// ActShift: the synaptic input a_in is left-shifted by 6 bits into u.
	ActShift = 6
	// StateLimit is 2^23: u and v are signed 24-bit.
	StateLimit = 1 << 23
	// MaxDecay is the largest du or dv (unsigned 12 bit).
	MaxDecay = 4095
	// MaxVth is the largest threshold mantissa (unsigned 17 bit).
	MaxVth = 1<<17 - 1
	// MinBiasMant and MaxBiasMant bound bias_mant (signed 13 bit).
	MinBiasMant, MaxBiasMant = -4096, 4095
	// MaxBiasExp is the largest bias_exp (unsigned 3 bit).
	MaxBiasExp = 7
	// MinWeight and MaxWeight bound a weight mantissa in Lava's mixed sign
	// mode with num_weight_bits = 8: even values in [-256, 254] pass
	// Lava's clip and 1-bit truncation unchanged.
	MinWeight, MaxWeight = -256, 254
	// MinWeightExp and MaxWeightExp bound weight_exp (signed 4 bit).
	MinWeightExp, MaxWeightExp = -8, 7
	// MaxActivation bounds |a_in| (Lava's a_in port is 16-bit).
	MaxActivation = 1<<15 - 1
	// DefaultVthMant is the default threshold mantissa of Convert.
	DefaultVthMant = 1 << 15
)

// Conversion errors; every error of this file wraps one of them inside a
// *ConvError.
var (
	// ErrSaturated: a value is too large for its fixed-point field.
	ErrSaturated = errors.New("does not fit its fixed-point field")
	// ErrUnderflow: a non-zero value would become 0 in fixed point.
	ErrUnderflow = errors.New("underflows to zero in fixed point")
	// ErrInvalid: a value is not finite or out of its domain.
	ErrInvalid = errors.New("invalid value")
	// ErrUnsupported: the network uses a feature Lava (or NIR) cannot
	// express faithfully.
	ErrUnsupported = errors.New("unsupported")
)

// ConvError is a typed parameter-conversion error.
type ConvError struct {
	// Field names the parameter ("populations[0].dv", ...).
	Field string
	// Kind is ErrSaturated, ErrUnderflow, ErrInvalid or ErrUnsupported.
	Kind error
	// Detail explains the value and its limit.
	Detail string
}

// Error implements error.
func (e *ConvError) Error() string {
	return fmt.Sprintf("lava: %s: %v: %s", e.Field, e.Kind, e.Detail)
}

// Unwrap returns Kind.
func (e *ConvError) Unwrap() error { return e.Kind }

func cerr(field string, kind error, format string, args ...any) error {
	return &ConvError{Field: field, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// DecayV converts a membrane time constant to Lava's dv:
//
//	dv = round(4096 · dt/τ_m)   (dt, τ_m in the same unit, here ms)
//
// so that v decays by the factor (4096 − dv)/4096 per step (dm_offset = 0).
// |dv/4096 − dt/τ_m| ≤ 1/8192. dv > 4095 (dt/τ_m ≥ 4095.5/4096) is
// ErrSaturated.
func DecayV(dtMs, tauMs float64) (int, error) {
	if !(tauMs > 0) || !(dtMs > 0) || math.IsInf(tauMs, 0) || math.IsInf(dtMs, 0) {
		return 0, cerr("dv", ErrInvalid, "dt %v ms, tau %v ms", dtMs, tauMs)
	}
	d := math.Round(DecayUnity * dtMs / tauMs)
	if d > MaxDecay {
		return 0, cerr("dv", ErrSaturated, "round(4096·%g/%g) = %g > %d", dtMs, tauMs, d, MaxDecay)
	}
	return int(d), nil
}

// DecayU converts a synaptic time constant to Lava's du. Lava adds
// ds_offset = 1, so u decays by (4096 − (du+1))/4096 per step; therefore
//
//	du = round(4096 · dt/τ_syn) − 1
//
// and |(du+1)/4096 − dt/τ_syn| ≤ 1/8192. round(4096·dt/τ_syn) = 0 (τ_syn >
// 8192·dt) is ErrUnderflow (Lava cannot express a slower decay than
// 1/4096 per step); above 4096 it is ErrSaturated.
func DecayU(dtMs, tauMs float64) (int, error) {
	if !(tauMs > 0) || !(dtMs > 0) || math.IsInf(tauMs, 0) || math.IsInf(dtMs, 0) {
		return 0, cerr("du", ErrInvalid, "dt %v ms, tau %v ms", dtMs, tauMs)
	}
	d := math.Round(DecayUnity*dtMs/tauMs) - DsOffset
	if d < 0 {
		return 0, cerr("du", ErrUnderflow, "tau_syn %g ms > 8192·dt", tauMs)
	}
	if d > MaxDecay {
		return 0, cerr("du", ErrSaturated, "round(4096·%g/%g) − 1 = %g > %d", dtMs, tauMs, d, MaxDecay)
	}
	return int(d), nil
}

// EncodeBias converts a bias b (v units per step, see Convert) to Lava's
// bias_mant · 2^bias_exp with bias_mant ∈ [−4096, 4095] and bias_exp ∈
// [0, 7], choosing the smallest exponent that fits (best precision):
// |bias_mant·2^bias_exp − b| ≤ 2^(bias_exp−1). |b| > 4095.5·2^7 is
// ErrSaturated.
func EncodeBias(b float64) (mant, exp int, err error) {
	if math.IsNaN(b) || math.IsInf(b, 0) {
		return 0, 0, cerr("bias", ErrInvalid, "%v", b)
	}
	for e := 0; e <= MaxBiasExp; e++ {
		m := math.Round(b / float64(int(1)<<e))
		if m >= MinBiasMant && m <= MaxBiasMant {
			return int(m), e, nil
		}
	}
	return 0, 0, cerr("bias", ErrSaturated, "%g v-units/step exceeds 4095·2^7", b)
}

// EncodeWeights converts synaptic weights x (a_in units per spike, see
// Convert) to even mantissas in [−256, 254] (Lava's mixed sign mode with
// 8 weight bits) and one weight_exp ∈ [−8, 7], choosing the smallest
// exponent for which every mantissa fits:
//
//	mant_k = 2·round(x_k / 2^(exp+1)),  |mant_k·2^exp − x_k| ≤ 2^exp.
//
// A weight that needs exp > 7 is ErrSaturated; a non-zero weight whose
// mantissa is 0 is ErrUnderflow.
func EncodeWeights(x []float64) (mant []int, exp int, err error) {
	maxAbs := 0.0
	for k, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, cerr(fmt.Sprintf("weights[%d]", k), ErrInvalid, "%v", v)
		}
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	quant := func(v float64, e int) float64 { return 2 * math.Round(v/math.Ldexp(1, e+1)) }
	exp = MaxWeightExp + 1
	for e := MinWeightExp; e <= MaxWeightExp; e++ {
		ok := true
		for _, v := range x {
			if q := quant(v, e); q < MinWeight || q > MaxWeight {
				ok = false
				break
			}
		}
		if ok {
			exp = e
			break
		}
	}
	if exp > MaxWeightExp {
		return nil, 0, cerr("weights", ErrSaturated, "max |w| = %g a-units exceeds 254·2^7", maxAbs)
	}
	mant = make([]int, len(x))
	for k, v := range x {
		mant[k] = int(quant(v, exp))
		if mant[k] == 0 && v != 0 {
			return nil, 0, cerr(fmt.Sprintf("weights[%d]", k), ErrUnderflow,
				"%g a-units is below 2^%d (the largest weight %g sets the exponent)", v, exp, maxAbs)
		}
	}
	return mant, exp, nil
}

// Model is a network in Lava's fixed-point terms: the payload of a NETWORK
// frame (as JSON) and the input of Reference. One Injector of NInputs
// neurons feeds every Input group; each Population is one LIF process; each
// Conn is one Dense (or Sparse) process; one Extractor reads every LIF's
// spikes (global index = Population.Offset + local index).
type Model struct {
	// Format is "mec-lava-model/1".
	Format string `json:"format"`
	// DtMs is the time step of the source network in ms (informational:
	// Lava has no time unit, only steps).
	DtMs float64 `json:"dt_ms"`
	// NInputs is the size of the Injector.
	NInputs int `json:"n_inputs"`
	// Inputs are the injector slices, one per Poisson group.
	Inputs []InputGroup `json:"inputs"`
	// Populations are the LIF processes.
	Populations []Proc `json:"populations"`
	// Conns are the Dense / Sparse processes.
	Conns []Conn `json:"conns"`
}

// ModelFormat is Model.Format.
const ModelFormat = "mec-lava-model/1"

// InputGroup is a slice [Offset, Offset+Size) of the Injector.
type InputGroup struct {
	Name   string  `json:"name"`
	Offset int     `json:"offset"`
	Size   int     `json:"size"`
	RateHz float64 `json:"rate_hz"`
}

// Proc is one LIF process with Lava's bit-accurate parameters.
type Proc struct {
	Name   string `json:"name"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	// Du, Dv are the 12-bit decay constants (see DecayU, DecayV).
	Du int `json:"du"`
	Dv int `json:"dv"`
	// Vth is the 17-bit threshold mantissa; the effective threshold is
	// Vth << 6 and a neuron spikes when v > Vth << 6.
	Vth int `json:"vth"`
	// BiasMant, BiasExp: effective bias BiasMant << BiasExp per step.
	BiasMant int `json:"bias_mant"`
	BiasExp  int `json:"bias_exp"`
	// VInit are the initial voltages (v units, len Size); u starts at 0.
	VInit []int32 `json:"v_init"`
	// MVPerUnit is the voltage of one v unit in mV and VResetMV the
	// voltage of v = 0: V = VResetMV + v·MVPerUnit (for the host side).
	MVPerUnit float64 `json:"mv_per_unit"`
	VResetMV  float64 `json:"v_reset_mv"`
}

// Conn is one Dense (Dense = true) or Sparse process from an input group or
// a population to a population.
type Conn struct {
	// SrcKind is "input" or "population"; Src indexes Model.Inputs or
	// Model.Populations.
	SrcKind string `json:"src_kind"`
	Src     int    `json:"src"`
	// Dst indexes Model.Populations.
	Dst int `json:"dst"`
	// Dense selects lava.proc.dense (else lava.proc.sparse).
	Dense bool `json:"dense"`
	// WeightExp is weight_exp: the accumulated mantissas are shifted left
	// by WeightExp (right by −WeightExp, arithmetic) before leaving the
	// process.
	WeightExp int `json:"weight_exp"`
	// Synapses are (source local index, target local index, mantissa).
	Synapses [][3]int `json:"synapses"`
}

// ConvertOptions control Convert.
type ConvertOptions struct {
	// VthMant is the threshold mantissa (1..131071); 0 means
	// DefaultVthMant. Larger values give finer voltage resolution but less
	// head room: v saturates at ±2^23 = ±(2^17/VthMant)·(V_th − V_reset).
	VthMant int
	// IgnoreRefractory maps t_ref > 0 to none instead of failing: Lava's
	// bit-accurate LIF has no refractory period.
	IgnoreRefractory bool
}

// Convert maps an snn.Network to a Model. Per target population p, with
// q_p = (V_th − V_reset)/(VthMant·2^6) mV per v unit and all times in ms:
//
//	v      = (V − V_reset)/q_p                  (v units; V in mV)
//	vth    = VthMant                             (so V_th ↔ vth·2^6 exactly)
//	dv     = round(4096·dt/τ_m)                  (DecayV)
//	du     = round(4096·dt/τ_syn) − 1            (DecayU)
//	bias   = (dt/τ_m)·(V_rest − V_reset + R·I_bias)/q_p   (v units/step, EncodeBias)
//	weight = (dt/τ_m)·w/(q_p·2^6)                (a_in units per spike, EncodeWeights)
//
// (w in mV, R in MΩ, I in nA). This is the forward-Euler discretisation of
// snn's model with J (mV) represented by u = (dt/τ_m)·J/q_p, as Lava
// computes it: u decays, adds a_in·2^6; v decays, adds u and the bias;
// v > vth·2^6 spikes and resets v to 0. The result is not bit-identical to
// snn's float simulation; Reference reproduces it bit for bit.
//
// Not representable, and reported as ErrUnsupported: synaptic delays,
// fixed_probability projections (their synapses are drawn inside snn's
// Build and not exported), more than one τ_syn into a population (a LIF
// process has one du), and t_ref > 0 unless IgnoreRefractory. Out-of-range
// values are ErrSaturated / ErrUnderflow, never clipped.
func Convert(net *snn.Network, opt ConvertOptions) (*Model, error) {
	if net == nil {
		return nil, cerr("network", ErrInvalid, "nil")
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("lava: convert: %w", err)
	}
	vthMant := opt.VthMant
	if vthMant == 0 {
		vthMant = DefaultVthMant
	}
	if vthMant < 1 || vthMant > MaxVth {
		return nil, cerr("vth", ErrSaturated, "VthMant %d outside 1..%d", vthMant, MaxVth)
	}
	dt := net.DtMs
	if dt == 0 {
		dt = 0.1
	}
	m := &Model{Format: ModelFormat, DtMs: dt}
	popIdx := map[string]int{}
	inIdx := map[string]int{}
	for _, g := range net.Poisson {
		inIdx[g.Name] = len(m.Inputs)
		m.Inputs = append(m.Inputs, InputGroup{Name: g.Name, Offset: m.NInputs, Size: g.Size, RateHz: g.RateHz})
		m.NInputs += g.Size
	}
	for k := range net.Projections {
		pr := &net.Projections[k]
		f := fmt.Sprintf("projections[%d]", k)
		if pr.Rule == snn.RuleFixedProbability {
			return nil, cerr(f+".rule", ErrUnsupported, "fixed_probability synapses are drawn inside snn and cannot be exported; use list")
		}
		if pr.STDP != nil {
			return nil, cerr(f+".stdp", ErrUnsupported, "plastic synapses are not mapped (the bridge runs fixed Dense weights)")
		}
		if pr.Synapse == snn.SynapseDelta {
			return nil, cerr(f+".synapse", ErrUnsupported, "delta synapses are not mapped (the bridge's LIF filters every input with tau_syn)")
		}
		if pr.DelayMs != 0 {
			return nil, cerr(f+".delay_ms", ErrUnsupported, "synaptic delays are not mapped (Lava Dense has none)")
		}
		for _, d := range pr.DelaysMs {
			if d != 0 {
				return nil, cerr(f+".delays_ms", ErrUnsupported, "synaptic delays are not mapped (Lava Dense has none)")
			}
		}
	}
	for i, p := range net.Populations {
		if p.Model != "" && p.Model != snn.ModelLIF {
			return nil, cerr(fmt.Sprintf("populations[%d].model", i), ErrUnsupported, "population %q is %s; Lava's LIF is current-based", p.Name, p.Model)
		}
		if p.Neuron.Leak != "" || p.Neuron.NoSpikes {
			field := "leak"
			if p.Neuron.Leak == "" {
				field = "no_spikes"
			}
			return nil, cerr(fmt.Sprintf("populations[%d].neuron.%s", i, field), ErrUnsupported, "population %q has leak %q, no_spikes %v; the bridge maps leaky spiking LIF only", p.Name, p.Neuron.Leak, p.Neuron.NoSpikes)
		}
	}
	// Initial voltages exactly as snn draws them.
	sim, err := net.Build(snn.Options{Threads: 1})
	if err != nil {
		return nil, fmt.Errorf("lava: convert: build initial state: %w", err)
	}
	v0 := append([]float64(nil), sim.V()...)
	sim.Close()

	tauIn := make([]float64, len(net.Populations))
	for k := range net.Projections {
		pr := &net.Projections[k]
		tau := projTau(net, pr)
		di := indexOfPop(net, pr.To)
		if tauIn[di] != 0 && tauIn[di] != tau {
			return nil, cerr(fmt.Sprintf("projections[%d].tau_syn_ms", k), ErrUnsupported,
				"population %q receives tau_syn %g and %g ms; a Lava LIF has one du", pr.To, tauIn[di], tau)
		}
		tauIn[di] = tau
	}
	off := 0
	for i, p := range net.Populations {
		f := fmt.Sprintf("populations[%d]", i)
		popIdx[p.Name] = i
		n := p.Neuron
		if n.TRefMs != 0 && math.Round(n.TRefMs/dt) > 0 && !opt.IgnoreRefractory {
			return nil, cerr(f+".neuron.t_ref_ms", ErrUnsupported, "Lava's bit-accurate LIF has no refractory period (set IgnoreRefractory)")
		}
		dv, err := DecayV(dt, n.TauMMs)
		if err != nil {
			return nil, prefix(f+".neuron.tau_m_ms", err)
		}
		du := MaxDecay // no input: u stays 0 anyway
		if tauIn[i] != 0 {
			if du, err = DecayU(dt, tauIn[i]); err != nil {
				return nil, prefix(f+".tau_syn_ms", err)
			}
		}
		q := (n.VThMV - n.VResetMV) / float64(vthMant<<VthShift)
		r := n.RMOhm
		if r == 0 {
			r = 1
		}
		b := dt / n.TauMMs * (n.VRestMV - n.VResetMV + r*n.IBiasNA) / q
		bm, be, err := EncodeBias(b)
		if err != nil {
			return nil, prefix(f+".bias", err)
		}
		pr := Proc{Name: p.Name, Offset: off, Size: p.Size, Du: du, Dv: dv, Vth: vthMant,
			BiasMant: bm, BiasExp: be, VInit: make([]int32, p.Size), MVPerUnit: q, VResetMV: n.VResetMV}
		for j := range pr.VInit {
			x := math.Round((v0[off+j] - n.VResetMV) / q)
			if x <= -StateLimit || x >= StateLimit {
				return nil, cerr(fmt.Sprintf("%s.v_init[%d]", f, j), ErrSaturated, "%g mV is %g v units, beyond ±2^23", v0[off+j], x)
			}
			pr.VInit[j] = int32(x)
		}
		m.Populations = append(m.Populations, pr)
		off += p.Size
	}
	for k := range net.Projections {
		pr := &net.Projections[k]
		f := fmt.Sprintf("projections[%d]", k)
		c := Conn{Dense: pr.Dense}
		var srcSize int
		if i, ok := inIdx[pr.From]; ok {
			c.SrcKind, c.Src, srcSize = "input", i, m.Inputs[i].Size
		} else {
			c.Src = popIdx[pr.From]
			c.SrcKind, srcSize = "population", m.Populations[c.Src].Size
		}
		c.Dst = popIdx[pr.To]
		dst := &m.Populations[c.Dst]
		tgt := net.Populations[c.Dst].Neuron
		pairs, ws := expand(pr, srcSize, dst.Size)
		scale := dt / tgt.TauMMs / (dst.MVPerUnit * (1 << ActShift))
		x := make([]float64, len(ws))
		for s, w := range ws {
			x[s] = w * scale
		}
		mant, exp, err := EncodeWeights(x)
		if err != nil {
			return nil, prefix(f+".weights", err)
		}
		c.WeightExp = exp
		c.Synapses = make([][3]int, len(pairs))
		for s, p := range pairs {
			c.Synapses[s] = [3]int{p[0], p[1], mant[s]}
		}
		m.Conns = append(m.Conns, c)
	}
	if err := m.checkActivation(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkActivation rejects models whose worst-case a_in (every source
// spiking at once) could leave Lava's 16-bit a_in range.
func (m *Model) checkActivation() error {
	for pi, p := range m.Populations {
		worst := make([]int64, p.Size)
		for _, c := range m.Conns {
			if c.Dst != pi {
				continue
			}
			pos := make([]int64, p.Size)
			neg := make([]int64, p.Size)
			for _, s := range c.Synapses {
				if s[2] > 0 {
					pos[s[1]] += int64(s[2])
				} else {
					neg[s[1]] -= int64(s[2])
				}
			}
			for j := range worst {
				worst[j] += max(shiftActivation(pos[j], c.WeightExp), shiftActivation(neg[j], c.WeightExp))
			}
		}
		for j, w := range worst {
			if w > MaxActivation {
				return cerr(fmt.Sprintf("populations[%d] neuron %d", pi, j), ErrSaturated,
					"worst-case a_in %d exceeds the 16-bit port (%d)", w, MaxActivation)
			}
		}
	}
	return nil
}

// shiftActivation applies weight_exp as Lava's Dense does: a left shift for
// exp > 0, else an arithmetic right shift by −exp.
func shiftActivation(acc int64, exp int) int64 {
	if exp > 0 {
		return acc << uint(exp)
	}
	return acc >> uint(-exp)
}

func prefix(field string, err error) error {
	var ce *ConvError
	if errors.As(err, &ce) {
		return &ConvError{Field: field, Kind: ce.Kind, Detail: ce.Detail}
	}
	return fmt.Errorf("lava: %s: %w", field, err)
}

func indexOfPop(net *snn.Network, name string) int {
	for i, p := range net.Populations {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// projTau is the synaptic time constant (ms) of a projection: its own, else
// its source's.
func projTau(net *snn.Network, pr *snn.Projection) float64 {
	if pr.TauSynMs != 0 {
		return pr.TauSynMs
	}
	for _, p := range net.Populations {
		if p.Name == pr.From {
			return p.TauSynMs
		}
	}
	for _, g := range net.Poisson {
		if g.Name == pr.From {
			return g.TauSynMs
		}
	}
	return 0
}

// expand lists the synapses of a deterministic projection (all_to_all,
// one_to_one, list) as (source, target) local pairs with weights in mV.
func expand(pr *snn.Projection, ns, nt int) ([][2]int, []float64) {
	var pairs [][2]int
	var ws []float64
	switch pr.Rule {
	case snn.RuleAllToAll:
		for s := 0; s < ns; s++ {
			for t := 0; t < nt; t++ {
				if pr.NoAutapses && pr.From == pr.To && s == t {
					continue
				}
				pairs = append(pairs, [2]int{s, t})
				ws = append(ws, pr.WeightMV)
			}
		}
	case snn.RuleOneToOne:
		for s := 0; s < ns; s++ {
			pairs = append(pairs, [2]int{s, s})
			ws = append(ws, pr.WeightMV)
		}
	case snn.RuleList:
		for k, p := range pr.Pairs {
			pairs = append(pairs, p)
			w := pr.WeightMV
			if len(pr.WeightsMV) > 0 {
				w = pr.WeightsMV[k]
			}
			ws = append(ws, w)
		}
	}
	return pairs, ws
}

// Voltage converts a voltage in v units of population p to mV.
func (p *Proc) Voltage(v int32) float64 { return p.VResetMV + float64(v)*p.MVPerUnit }

// N is the number of LIF neurons of the model.
func (m *Model) N() int {
	n := 0
	for _, p := range m.Populations {
		n += p.Size
	}
	return n
}
