package orchestrator

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"
)

// Fold sums ψ into d bins: bins_k = Σ_{a ≡ k (mod d)} ψ_a and prob_k =
// Σ_{a ≡ k (mod d)} |ψ_a|² (so Σ prob = ‖ψ‖²).
func Fold(psi []complex128, d int) (prob []float64, bins []complex128) {
	prob, bins = make([]float64, d), make([]complex128, d)
	for a, z := range psi {
		k := a % d
		bins[k] += z
		prob[k] += real(z)*real(z) + imag(z)*imag(z)
	}
	return prob, bins
}

// normalise returns v/Σv, or the uniform vector when Σv is not positive.
func normalise(v []float64) []float64 {
	out := make([]float64, len(v))
	s := 0.0
	for _, x := range v {
		s += x
	}
	if !(s > 0) || math.IsInf(s, 0) {
		for i := range out {
			out[i] = 1 / float64(len(v))
		}
		return out
	}
	for i, x := range v {
		out[i] = x / s
	}
	return out
}

// Features returns the three layers' feature vectors on d bins, each a
// distribution (non-negative, summing to 1): f_Q = prob normalised, f_S =
// the neural field normalised, f_Φ = |Z_k|² normalised.
func Features(prob, field []float64, z []complex128) (fq, fs, fp []float64) {
	amp := make([]float64, len(z))
	for k, x := range z {
		amp[k] = real(x)*real(x) + imag(x)*imag(x)
	}
	return normalise(prob), normalise(field), normalise(amp)
}

func sqdist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// Divergence is E_div = Σ_{i<j} ‖f_i − f_j‖² over the given features.
func Divergence(fs ...[]float64) float64 {
	e := 0.0
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			e += sqdist(fs[i], fs[j])
		}
	}
	return e
}

// Weights of the integration dynamics.
type Weights struct {
	// LambdaH weighs H_coh in L_int.
	LambdaH float64 `yaml:"lambda_h" json:"lambda_h"`
	// LambdaG weighs 1 − C(t) in L_int.
	LambdaG float64 `yaml:"lambda_g" json:"lambda_g"`
	// Alpha weighs C in S(t).
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Beta weighs H_coh in S(t).
	Beta float64 `yaml:"beta" json:"beta"`
	// Gamma weighs E_div in S(t).
	Gamma float64 `yaml:"gamma" json:"gamma"`
}

// LInt is the cross-layer integration functional L_int = E_div + λ_H·H_coh
// + λ_G·(1 − C).
func (w Weights) LInt(ediv, hcoh, c float64) float64 {
	return ediv + w.LambdaH*hcoh + w.LambdaG*(1-c)
}

// Stability is S(t) = α·C − β·H_coh − γ·E_div.
func (w Weights) Stability(c, hcoh, ediv float64) float64 {
	return w.Alpha*c - w.Beta*hcoh - w.Gamma*ediv
}

// StepControl sets the adaptive time step.
type StepControl struct {
	// Min is the smallest Δt (at H_coh = 1).
	Min float64 `yaml:"min" json:"min"`
	// Max is the largest Δt (at H_coh = 0).
	Max float64 `yaml:"max" json:"max"`
	// Exponent p shapes Δt = Min + (Max − Min)·(1 − H)^p.
	Exponent float64 `yaml:"exponent" json:"exponent"`
}

// Dt returns the time step for entropy h: Min + (Max − Min)·(1 − h)^p with
// h clamped to [0, 1]; it decreases as the entropy grows (Max at h = 0,
// Min at h = 1) and is Min for a non-finite h.
func (c StepControl) Dt(h float64) float64 {
	if math.IsNaN(h) {
		return c.Min
	}
	h = math.Min(1, math.Max(0, h))
	return c.Min + (c.Max-c.Min)*math.Pow(1-h, c.Exponent)
}

// Oscillators are the grounding layer's Stuart–Landau oscillators
//
//	dz_k/dt = (μ + iω_k − |z_k|²)·z_k + κ·(u_k − z_k),  ω_k = ω·(k+1)/d,
//
// each driven toward (grounded in) the quantum bin amplitude u_k.
type Oscillators struct {
	// Mu is the bifurcation parameter μ (negative: damped without drive).
	Mu float64 `yaml:"mu" json:"mu"`
	// Omega is the frequency scale ω.
	Omega float64 `yaml:"omega" json:"omega"`
	// H is the largest RK4 step.
	H float64 `yaml:"h" json:"h"`
}

func (o Oscillators) deriv(z, u []complex128, kappa float64, out []complex128) {
	d := float64(len(z))
	for k, x := range z {
		w := o.Omega * float64(k+1) / d
		a := real(x)*real(x) + imag(x)*imag(x)
		out[k] = complex(o.Mu-a, w)*x + complex(kappa, 0)*(u[k]-x)
	}
}

// Advance integrates the oscillators over dt with classical RK4 in
// ⌈dt/H⌉ equal steps and returns the new amplitudes.
func (o Oscillators) Advance(z, u []complex128, kappa, dt float64) []complex128 {
	n := max(1, int(math.Ceil(dt/o.H)))
	h := dt / float64(n)
	d := len(z)
	cur := append([]complex128(nil), z...)
	k1, k2, k3, k4 := make([]complex128, d), make([]complex128, d), make([]complex128, d), make([]complex128, d)
	tmp := make([]complex128, d)
	ch := complex(h, 0)
	for s := 0; s < n; s++ {
		o.deriv(cur, u, kappa, k1)
		for i := range tmp {
			tmp[i] = cur[i] + ch/2*k1[i]
		}
		o.deriv(tmp, u, kappa, k2)
		for i := range tmp {
			tmp[i] = cur[i] + ch/2*k2[i]
		}
		o.deriv(tmp, u, kappa, k3)
		for i := range tmp {
			tmp[i] = cur[i] + ch*k3[i]
		}
		o.deriv(tmp, u, kappa, k4)
		for i := range cur {
			cur[i] += ch / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
	}
	return cur
}

// PhaseOrder is the Kuramoto order parameter |Σ_k e^{iΦ_k}|/d of the
// oscillators' phases (oscillators at 0 are skipped).
func PhaseOrder(z []complex128) float64 {
	var s complex128
	n := 0
	for _, x := range z {
		if a := cmplx.Abs(x); a > 0 {
			s += x / complex(a, 0)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return cmplx.Abs(s) / float64(n)
}

// Plasticity is the semantic layer's learning rule.
type Plasticity struct {
	// Tau is the neural field's time constant.
	Tau float64 `yaml:"tau" json:"tau"`
	// WMax bounds |W_ij|.
	WMax float64 `yaml:"w_max" json:"w_max"`
}

// Learn applies one step of the delta (Widrow–Hoff) rule
//
//	y = W·x,  W ← W + η·Δt·(x − y)·xᵀ,
//
// with entries clipped to ±WMax, in place, and returns y (before the update).
func (p Plasticity) Learn(w, x []float64, eta, dt float64) []float64 {
	d := len(x)
	y := make([]float64, d)
	for i := 0; i < d; i++ {
		s := 0.0
		for j := 0; j < d; j++ {
			s += w[i*d+j] * x[j]
		}
		y[i] = s
	}
	for i := 0; i < d; i++ {
		e := eta * dt * (x[i] - y[i])
		for j := 0; j < d; j++ {
			w[i*d+j] = math.Max(-p.WMax, math.Min(p.WMax, w[i*d+j]+e*x[j]))
		}
	}
	return y
}

// Relax moves the field toward max(y, 0): field += (Δt/τ)·(max(y,0) − field),
// with the factor Δt/τ capped at 1, in place.
func (p Plasticity) Relax(field, y []float64, dt float64) {
	a := math.Min(1, dt/p.Tau)
	for i := range field {
		field[i] += a * (math.Max(y[i], 0) - field[i])
	}
}

// Granger returns the lag-1 Granger influence of series x on series y:
// 1 − RSS_full/RSS_restricted for the least-squares fits y_t ~ 1 + y_{t−1}
// (restricted) and y_t ~ 1 + y_{t−1} + x_{t−1} (full), clamped to [0, 1];
// 0 with fewer than 6 samples or a degenerate fit.
func Granger(x, y []float64) float64 {
	n := len(y) - 1
	if n < 5 || len(x) != len(y) {
		return 0
	}
	series := [][]float64{y, x}
	r0, _ := fitRSS(series, 0, []int{0})
	r1, _ := fitRSS(series, 0, []int{0, 1})
	if !(r0 > 1e-300) || math.IsNaN(r1) {
		return 0
	}
	return math.Max(0, math.Min(1, 1-r1/r0))
}

// fitRSS is the residual sum of squares of the least-squares fit of
// series[j](t+1) on 1 and series[c](t) for c in cols; a design that
// cannot be solved (rank-deficient, or no more rows than columns) drops
// its last column until it can, down to the mean. used is the number of
// columns of cols the fit kept (the intercept not counted).
func fitRSS(series [][]float64, j int, cols []int) (rss float64, used int) {
	y := series[j]
	n := len(y) - 1
	for {
		if n > len(cols)+1 {
			a := mat.NewDense(n, 1+len(cols), nil)
			b := mat.NewVecDense(n, nil)
			for t := 0; t < n; t++ {
				a.Set(t, 0, 1)
				for c, i := range cols {
					a.Set(t, 1+c, series[i][t])
				}
				b.SetVec(t, y[t+1])
			}
			var beta mat.VecDense
			if err := beta.SolveVec(a, b); err == nil {
				var r mat.VecDense
				r.MulVec(a, &beta)
				r.SubVec(b, &r)
				if v := mat.Dot(&r, &r); !math.IsNaN(v) {
					return v, len(cols)
				}
			}
		}
		if len(cols) == 0 {
			break
		}
		cols = cols[:len(cols)-1]
	}
	return tss(y[1:]), 0
}

// tss is the total sum of squares of y about its mean.
func tss(y []float64) float64 {
	mean, s := 0.0, 0.0
	for _, v := range y {
		mean += v / float64(len(y))
	}
	for _, v := range y {
		s += (v - mean) * (v - mean)
	}
	return s
}
