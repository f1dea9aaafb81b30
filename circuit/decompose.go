package circuit

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"
	"slices"
)

// Controlled1Q is a 1-qubit unitary on Target, applied where every qubit of
// Controls is |1⟩ and every qubit of NegControls is |0⟩.
type Controlled1Q struct {
	Target      int
	Controls    []int
	NegControls []int
	Matrix      [4]complex128
}

// ZYZ returns θ, φ, λ, γ with w = e^{iγ} U(θ, φ, λ) for a 2×2 unitary w.
func ZYZ(w [4]complex128) (theta, phi, lambda, gamma float64) {
	a00, a01, a10, a11 := cmplx.Abs(w[0]), cmplx.Abs(w[1]), cmplx.Abs(w[2]), cmplx.Abs(w[3])
	// |w00| = |w11| = cos(θ/2) and |w01| = |w10| = sin(θ/2) for a unitary;
	// averaging both halves keeps θ accurate when w is off by rounding.
	theta = 2 * math.Atan2((a10+a01)/2, (a00+a11)/2)
	const eps = 1e-12
	switch {
	case (a00+a11)/2 > eps:
		gamma = cmplx.Phase(w[0])
		if (a10+a01)/2 > eps {
			phi = cmplx.Phase(w[2]) - gamma
			lambda = cmplx.Phase(-w[1]) - gamma
		} else {
			lambda = cmplx.Phase(w[3]) - gamma
		}
	default: // θ = π: only γ+φ and γ+λ are fixed; take λ = 0.
		gamma = cmplx.Phase(-w[1])
		phi = cmplx.Phase(w[2]) - gamma
	}
	return theta, WrapAngle(phi), WrapAngle(lambda), WrapAngle(gamma)
}

// WrapAngle maps an angle into (−π, π].
func WrapAngle(x float64) float64 {
	x = math.Remainder(x, 2*math.Pi)
	if x <= -math.Pi {
		x += 2 * math.Pi
	}
	return x
}

// Decompose1Q rewrites a lowered gate as a sequence of controlled 1-qubit
// unitaries (applied in order) and a global phase. A k-target dense gate is
// reduced by two-level (Givens) rotations between Gray-code neighbours, each
// a 1-qubit gate with the other k−1 targets as positive or negative controls,
// followed by the remaining diagonal; a controlled gphase becomes a phase on
// one of its controls.
func Decompose1Q(g *Gate) ([]Controlled1Q, float64, error) {
	k := len(g.Targets)
	if k > MaxDenseQubits {
		return nil, 0, fmt.Errorf("circuit: cannot decompose a gate on %d targets (at most %d)", k, MaxDenseQubits)
	}
	m := g.Dense()
	if len(m) != 1<<(2*k) {
		return nil, 0, fmt.Errorf("circuit: gate on %d targets has %d matrix entries", k, len(m))
	}
	switch k {
	case 0:
		ph := cmplx.Phase(m[0])
		switch {
		case len(g.Controls) > 0:
			n := len(g.Controls) - 1
			return []Controlled1Q{{Target: g.Controls[n], Controls: slices.Clone(g.Controls[:n]),
				NegControls: slices.Clone(g.NegControls), Matrix: [4]complex128{1, 0, 0, m[0]}}}, 0, nil
		case len(g.NegControls) > 0:
			n := len(g.NegControls) - 1
			return []Controlled1Q{{Target: g.NegControls[n], NegControls: slices.Clone(g.NegControls[:n]),
				Matrix: [4]complex128{m[0], 0, 0, 1}}}, 0, nil
		}
		return nil, ph, nil
	case 1:
		return []Controlled1Q{{Target: g.Targets[0], Controls: slices.Clone(g.Controls),
			NegControls: slices.Clone(g.NegControls), Matrix: [4]complex128(m)}}, 0, nil
	}
	d := 1 << k
	a := slices.Clone(m)
	type rot struct {
		r0, r1 int
		g      [4]complex128
	}
	var rots []rot
	gray := func(i int) int { return i ^ i>>1 }
	for j := 0; j < d-1; j++ {
		col := gray(j)
		for i := d - 1; i > j; i-- {
			r0, r1 := gray(i-1), gray(i)
			x, y := a[r0*d+col], a[r1*d+col]
			if cmplx.Abs(y) <= 1e-15 {
				continue
			}
			r := math.Hypot(cmplx.Abs(x), cmplx.Abs(y))
			gm := [4]complex128{cmplx.Conj(x) / complex(r, 0), cmplx.Conj(y) / complex(r, 0), -y / complex(r, 0), x / complex(r, 0)}
			for c := 0; c < d; c++ {
				u, v := a[r0*d+c], a[r1*d+c]
				a[r0*d+c] = gm[0]*u + gm[1]*v
				a[r1*d+c] = gm[2]*u + gm[3]*v
			}
			rots = append(rots, rot{r0, r1, gm})
		}
	}
	var out []Controlled1Q
	// pattern turns the bits of basis index i other than bit t into
	// controls on the corresponding targets.
	pattern := func(i, t int) ([]int, []int) {
		pos, neg := slices.Clone(g.Controls), slices.Clone(g.NegControls)
		for q := 0; q < k; q++ {
			if q == t {
				continue
			}
			if i>>q&1 == 1 {
				pos = append(pos, g.Targets[q])
			} else {
				neg = append(neg, g.Targets[q])
			}
		}
		return pos, neg
	}
	const tiny = 1e-15
	for i := 0; i < d; i += 2 {
		d0, d1 := a[i*d+i], a[(i+1)*d+i+1]
		if cmplx.Abs(d0-1) <= tiny && cmplx.Abs(d1-1) <= tiny {
			continue
		}
		pos, neg := pattern(i, 0)
		out = append(out, Controlled1Q{Target: g.Targets[0], Controls: pos, NegControls: neg, Matrix: [4]complex128{d0, 0, 0, d1}})
	}
	for n := len(rots) - 1; n >= 0; n-- {
		r := rots[n]
		h := [4]complex128{cmplx.Conj(r.g[0]), cmplx.Conj(r.g[2]), cmplx.Conj(r.g[1]), cmplx.Conj(r.g[3])} // G†
		t := bits.TrailingZeros(uint(r.r0 ^ r.r1))
		if r.r0>>t&1 == 1 {
			h = [4]complex128{h[3], h[2], h[1], h[0]}
		}
		if cmplx.Abs(h[0]-1) <= tiny && cmplx.Abs(h[3]-1) <= tiny && cmplx.Abs(h[1]) <= tiny && cmplx.Abs(h[2]) <= tiny {
			continue
		}
		pos, neg := pattern(r.r0, t)
		out = append(out, Controlled1Q{Target: g.Targets[t], Controls: pos, NegControls: neg, Matrix: h})
	}
	return out, 0, nil
}
