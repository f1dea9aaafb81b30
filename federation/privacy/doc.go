// Package privacy is differential privacy for the parameter deltas a
// federated node publishes: L2 clipping, the Gaussian mechanism and its
// privacy accounting.
//
// Layer: runtime (arithmetic). It may import internal/strict only.
//
// # Mechanism
//
// Each round a node clips its delta v to L2 norm at most C ([Clip]) and
// adds independent N(0, (σC)²) noise to every coordinate ([Gaussian]); σ
// is the noise multiplier. If the released vector's L2 sensitivity is C —
// that is, the adjacency being protected changes the clipped vector by at
// most C in L2 norm, as when one node's contribution is added or removed
// (or replaced by zero) — one release is the Gaussian mechanism with noise
// multiplier σ. If instead any clipped vector may be replaced by any other
// (replace-one adjacency) the sensitivity is 2C, and the accountant must be
// given σ/2. Which adjacency the federation protects is the caller's
// decision; this package accounts for whatever multiplier it is given.
// Everything computed from the released vectors afterwards (averaging,
// mixing) is post-processing and costs no further privacy.
//
// # Accounting
//
// [Accountant] composes rounds in Rényi differential privacy (Mironov
// 2017). The Gaussian mechanism with multiplier σ is (α, α/(2σ²))-RDP for
// every order α > 1, and RDP composes additively, so T rounds with
// multipliers σ_1 … σ_T give
//
//	ε_RDP(α) = α Σ_t 1/(2σ_t²)
//
// on a fixed grid of orders α (α − 1 = 10^{k/20}, k = −40 … 80: 121 orders
// log-spaced from 1.01 to 10001). The (ε, δ) guarantee is the conversion of
// Canonne, Kamath & Steinke (2020, Prop. 12) and Balle et al. (2020,
// Thm. 21),
//
//	ε(δ) = min_α  ε_RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
//
// which is never worse than Mironov's ε_RDP(α) + log(1/δ)/(α − 1). Its
// state (the per-order RDP vector) serialises to JSON so that a
// restarting node resumes its budget instead of resetting it.
//
// For comparison [ExactEpsilon] gives the exact ε of the same composition:
// T Gaussian mechanisms with multiplier σ are together exactly μ-GDP with
// μ = √T/σ (Dong, Roth & Su 2019; with varying multipliers
// μ = sqrt(Σ_t σ_t⁻²)), whose privacy profile is (Balle & Wang 2018)
//
//	δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2);
//
// [GDPEpsilon] inverts it by bisection. The RDP value is an upper bound on
// the exact one: over σ ∈ [0.5, 10], T ∈ [1, 10⁴], δ ∈ {1e-5, 1e-6} it is
// 0.5% (σ = 0.5, T = 10⁴) to 10% (σ = 10, T = 1) above it.
//
// # Randomness and floating point
//
// [Gaussian.Privatize] draws its noise from a ChaCha8 generator
// (math/rand/v2, a cryptographically strong generator) freshly seeded with
// 32 bytes from crypto/rand on every call ([NewSecureSource]); no state is
// shared between calls or goroutines. Tests use [Gaussian.PrivatizeWith]
// with a seeded source.
//
// The analysis above is for real-valued noise. Mironov (2012) showed that
// textbook floating-point implementations of the Laplace mechanism leak
// through the pattern of representable outputs, and Jin et al. (2022)
// carried such attacks over to floating-point Gaussian samplers. The noise
// here comes from math/rand/v2's ziggurat NormFloat64 in float64 and is
// added to float64 parameters, so the guarantee holds for the idealised
// mechanism, not bit for bit. The mitigations (a discrete Gaussian sampler
// on a fixed grid, Canonne, Kamath & Steinke 2020, or snapping) are not
// implemented. Likewise [Clip] bounds the norm up to a relative rounding
// error of order 1e-16·√len(v), not exactly.
//
// # References
//
//   - I. Mironov, "Rényi differential privacy", CSF 2017.
//   - C. Canonne, G. Kamath, T. Steinke, "The discrete Gaussian for
//     differential privacy", NeurIPS 2020 (arXiv:2004.00010).
//   - B. Balle, G. Barthe, M. Gaboardi, J. Hsu, T. Sato, "Hypothesis testing
//     interpretations and Rényi differential privacy", AISTATS 2020.
//   - J. Dong, A. Roth, W. Su, "Gaussian differential privacy", J. R. Stat.
//     Soc. B 84 (2022), arXiv:1905.02383 (2019).
//   - B. Balle, Y.-X. Wang, "Improving the Gaussian mechanism for
//     differential privacy: analytical calibration and optimal denoising",
//     ICML 2018.
//   - M. Abadi et al., "Deep learning with differential privacy", CCS 2016;
//     H. B. McMahan et al., "Learning differentially private recurrent
//     language models", ICLR 2018 (clipping and noising updates).
//   - I. Mironov, "On significance of the least significant bits for
//     differential privacy", CCS 2012.
//   - J. Jin, E. McMurtry, B. Rubinstein, O. Ohrimenko, "Are we there yet?
//     Timing and floating-point attacks on differential privacy systems",
//     IEEE S&P 2022.
//
// The package keeps no global mutable state. An [Accountant] is not safe
// for concurrent use.
package privacy
