// Package consensus is the arithmetic of decentralised averaging over a
// federation's live membership graph, and of federated phase consensus.
//
// Layer: runtime (arithmetic). It imports no other mec package.
//
// # Averaging
//
// The n live nodes form an undirected simple graph G (see [Complete],
// [Ring], [FromAdjacency], [FromEdges]); node i holds a parameter vector
// Θ_i. [MetropolisHastings] gives the weights
//
//	w_ij = 1 / (1 + max(d_i, d_j))   for an edge {i, j},
//	w_ii = 1 − Σ_{j≠i} w_ij,
//	w_ij = 0                          otherwise,
//
// with d_i the degree of i (Xiao, Boyd & Lall 2005; Boyd, Diaconis & Xiao
// 2004). W is symmetric and doubly stochastic, its entries are
// non-negative and w_ii ≥ 1/(1 + d_i) > 0. Each round every node applies
// ([Mix])
//
//	Θ_i ← Θ_i + η Σ_j w_ij (Θ_j − Θ_i),
//
// that is Θ ← (I − η L) Θ for the whole system, with L = I − W. Because W
// is symmetric and doubly stochastic the update preserves the average
// Θ̄ = (1/n) Σ_i Θ_i exactly (up to rounding), and the disagreement
// Θ − 1Θ̄ evolves in the eigenbasis of L: the component along the
// eigenvector of λ_k is multiplied by (1 − η λ_k) each round. With
// 0 = λ_1 ≤ λ_2 ≤ … ≤ λ_n the eigenvalues of L, the per-round contraction
// factor of ‖Θ − 1Θ̄‖ is ([Rate])
//
//	ρ(η) = max_{k≥2} |1 − η λ_k| = max(|1 − η λ_2|, |1 − η λ_n|),
//
// which is below 1 exactly when the graph is connected (λ_2 > 0, the
// [SpectralGap]) and 0 < η < 2/λ_n ([StabilityBound]). The multiplicity
// of the eigenvalue 0 is the number of connected components, so on a
// disconnected graph ρ ≥ 1: the components agree internally but never
// with each other.
//
// For Metropolis–Hastings weights λ_n < 2, so every η ≤ 1 is stable:
// with δ = min_i w_ii > 0, W = δI + (1 − δ)P where P is symmetric,
// non-negative and doubly stochastic, so the eigenvalues of P lie in
// [−1, 1], those of W in [2δ − 1, 1] and those of L in [0, 2 − 2δ]. Hence
// StabilityBound(W) ≥ 1/(1 − δ) > 1. Above 1 stability depends on the
// graph (a complete graph tolerates every η < 2, a ring of even length
// only η < 1.5), which is what [ClampEta] is for.
//
// Spectra are computed with gonum's symmetric eigensolver (mat.EigenSym)
// in O(n³) per call; n is the number of live nodes.
//
// # Measures
//
// [Mean] is Θ̄, [Disagreement] is ‖Θ − 1Θ̄‖ = sqrt(Σ_i ‖Θ_i − Θ̄‖²) and
// [Drift] is max_i ‖Θ_i − Θ̄‖ (Euclidean norms of the flattened vectors,
// i.e. Frobenius norms of matrix-shaped parameters).
//
// # Phases
//
// Phases are angles in radians; [AngleDiff] wraps a difference into
// (−π, π], [CircularMean] is the direction of the (weighted) resultant
// Σ w_i e^{iφ_i} and its length r ∈ [0, 1] (Mardia & Jupp 2000, ch. 2).
// [Consensus] is a robust phase consensus: a mean φ̄ that is the circular
// mean of exactly the phases within ε of it, the others being outliers;
// it is found by a bounded flat-kernel mean-shift (Cheng 1995) from every
// node, see its documentation.
//
// # References
//
//   - L. Xiao, S. Boyd, "Fast linear iterations for distributed averaging",
//     Systems & Control Letters 53 (2004).
//   - L. Xiao, S. Boyd, S. Lall, "A scheme for robust distributed sensor
//     fusion based on average consensus", IPSN 2005.
//   - S. Boyd, P. Diaconis, L. Xiao, "Fastest mixing Markov chain on a
//     graph", SIAM Review 46 (2004).
//   - R. Olfati-Saber, J. A. Fax, R. M. Murray, "Consensus and cooperation
//     in networked multi-agent systems", Proc. IEEE 95 (2007).
//   - K. V. Mardia, P. E. Jupp, "Directional Statistics", Wiley 2000.
//   - Y. Cheng, "Mean shift, mode seeking, and clustering", IEEE TPAMI 17
//     (1995).
//
// Nothing in this package keeps global state; values of [Graph] and
// [Weights] are immutable after construction and safe for concurrent use.
package consensus
