package backendtest

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
)

// RunFusionCoupler checks a backend's FusionCoupler against host
// references on random states, in both precisions: the fold, the strided
// kick and the one-pass statistics. Backends whose states do not implement
// it are skipped (the fusion layer then uses a readout).
func RunFusionCoupler(t *testing.T, sv backend.StateVector) {
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		t.Run(p.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(31, uint64(p)))
			for _, n := range []int{1, 3, 10, 14} {
				st := newState(t, sv, n, p)
				fc, ok := st.(backend.FusionCoupler)
				if !ok {
					t.Skipf("%s states do not implement backend.FusionCoupler", sv.Name())
				}
				v := RandomState(rng, n)
				v[len(v)-1] = 0 // a zero probability: 0·ln 0 = 0
				if err := st.Load(v); err != nil {
					t.Fatal(err)
				}
				// The host sees the stored precision.
				want := read(t, st)
				tol := 10 * Tol(p)
				for _, neurons := range []int{1, 2, len(v)} {
					if len(v)%neurons != 0 {
						continue
					}
					u, err := fc.FoldN(neurons)
					if err != nil {
						t.Fatal(err)
					}
					for i := range u {
						var z complex128
						for a := i; a < len(want); a += neurons {
							z += want[a]
						}
						if cmplx.Abs(u[i]-z) > tol*math.Sqrt(float64(len(want)/neurons)) {
							t.Fatalf("n=%d FoldN(%d)[%d] = %v, want %v", n, neurons, i, u[i], z)
						}
					}
				}
				n2, pl, r, err := fc.FusionStats()
				if err != nil {
					t.Fatal(err)
				}
				var wn, wp float64
				var wr complex128
				for _, z := range want {
					q := real(z)*real(z) + imag(z)*imag(z)
					wn += q
					if q > 0 {
						wp += q * math.Log(q)
					}
					wr += complex(cmplx.Abs(z), 0) * z
				}
				if math.Abs(n2-wn) > tol || math.Abs(pl-wp) > 100*tol || cmplx.Abs(r-wr) > tol {
					t.Fatalf("n=%d FusionStats = %v, %v, %v; want %v, %v, %v", n, n2, pl, r, wn, wp, wr)
				}
				stride := max(1, len(v)/4)
				kick := make([]complex128, (len(v)-1)/stride+1)
				for k := range kick {
					kick[k] = complex(rng.NormFloat64(), rng.NormFloat64())
				}
				got, err := fc.KickStrided(stride, kick)
				if err != nil {
					t.Fatal(err)
				}
				after := read(t, st)
				for a := range after {
					w := want[a]
					if a%stride == 0 {
						w += kick[a/stride]
						if cmplx.Abs(got[a/stride]-after[a]) > 0 {
							t.Fatalf("n=%d KickStrided returned %v for amplitude %d, the state holds %v", n, got[a/stride], a, after[a])
						}
					}
					if cmplx.Abs(after[a]-w) > tol {
						t.Fatalf("n=%d after KickStrided amplitude %d = %v, want %v", n, a, after[a], w)
					}
				}
				// Bad input.
				if _, err := fc.FoldN(len(v) + 1); err == nil {
					t.Error("FoldN with n not dividing the amplitudes accepted")
				}
				if _, err := fc.KickStrided(stride, make([]complex128, len(v)+1)); err == nil {
					t.Error("KickStrided past the end accepted")
				}
				if _, err := fc.KickStrided(1, []complex128{complex(math.NaN(), 0)}); err == nil {
					t.Error("KickStrided with NaN accepted")
				}
				st.Free()
			}
		})
	}
}
