package consensus

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchStates returns n random vectors of length d.
func benchStates(n, d int) [][]float64 {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, d)
		for k := range s[i] {
			s[i][k] = r.NormFloat64()
		}
	}
	return s
}

// BenchmarkMix times one node's update on 1M-element states of 5 nodes,
// on the complete graph (4 neighbours) and the ring (2 neighbours). The
// bytes/s figure counts the states read and the output written.
func BenchmarkMix(b *testing.B) {
	const n, d = 5, 1 << 20
	for _, topo := range []string{"complete", "ring"} {
		b.Run(fmt.Sprintf("%s/n=%d/d=%d", topo, n, d), func(b *testing.B) {
			g, _ := Complete(n)
			if topo == "ring" {
				g, _ = Ring(n)
			}
			w, err := MetropolisHastings(g)
			if err != nil {
				b.Fatal(err)
			}
			s := benchStates(n, d)
			out := make([]float64, d)
			deg := g.Degrees()[0]
			b.SetBytes(int64(8 * d * (deg + 2)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Mix(0, w, 1, s, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
